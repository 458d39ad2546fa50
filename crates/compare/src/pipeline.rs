//! `qualify compare` as a library call: score labelled leads with a model and with the rules,
//! exactly as `qualify score` and `qualify rules score` do, and compute every figure.
//!
//! The model scores the rows read with the bundle's schema (`Model::score_table`); the rules
//! evaluate each row of the file read as is (`CompiledRules::evaluate_flat`), so a lead's
//! propensity and rule outcome here are the ones those commands give for the same `as_of`.
//! Beyond the stages, the rules are run twice more: without their SQL criteria (which leads
//! qualify whatever the MQL threshold: product milestones) and with each suggested MQL
//! threshold applied (what the suggestion would select).

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use qualify_core::value::{RawColumn, RawTable, RawValue};
use qualify_rules::{CompiledRules, RulesFile, Stage};
use qualify_runtime::Model;

use crate::{
    CapacitySpec, CompareError, Comparison, Context, Leads, Options, Selection, qualified,
};

/// What to compare: the model, the rules and the data, read by the caller.
#[derive(Debug, Clone, Copy)]
pub struct CompareInput<'a> {
    pub model: &'a Model,
    pub rules: &'a RulesFile,
    /// Where the rules came from (a path), for the report.
    pub rules_origin: &'a str,
    /// The leads read with the bundle's schema (what the model scores).
    pub scored: &'a RawTable,
    /// The same leads read as they are (what the rules evaluate).
    pub flat: &'a RawTable,
    /// Where the leads came from (a path), for the report.
    pub data_origin: &'a str,
    /// The label column.
    pub label: &'a str,
    /// The id column; default: the bundle schema's id, else a column named `id`, when the
    /// data has them; else row numbers from 1.
    pub id: Option<&'a str>,
    /// Scoring time of both; default: the model's reference time.
    pub as_of: Option<DateTime<Utc>>,
    /// Each row's own moment (a history's moments, docs/history.md): the rules evaluate row
    /// `i` as of `moments[i]` (the model's rows already hold their point-in-time features).
    pub moments: Option<&'a [DateTime<Utc>]>,
    pub capacity: Option<CapacitySpec>,
    pub target_precision: Option<f64>,
}

/// When the rules evaluate each row.
#[derive(Debug, Clone, Copy)]
pub enum AsOf<'a> {
    /// Every row at one time.
    One(DateTime<Utc>),
    /// Row `i` at `moments[i]`.
    PerRow(&'a [DateTime<Utc>]),
}

impl AsOf<'_> {
    fn at(&self, row: usize, fallback: DateTime<Utc>) -> DateTime<Utc> {
        match self {
            AsOf::One(t) => *t,
            AsOf::PerRow(m) => m.get(row).copied().unwrap_or(fallback),
        }
    }
}

/// A lead's rule outcome, reduced to what the comparison needs.
#[derive(Debug, Clone, PartialEq)]
pub struct RuleRow {
    pub score: f64,
    pub fit: f64,
    pub engagement: f64,
    pub stage: Stage,
    pub route: Option<String>,
}

/// The comparison and the per-lead columns behind it.
#[derive(Debug, Clone)]
pub struct Compared {
    pub comparison: Comparison,
    pub leads: Leads,
    pub rules: Vec<RuleRow>,
    /// The leads' ids, as text.
    pub ids: RawColumn,
    /// The scoring time used for both.
    pub as_of: DateTime<Utc>,
}

/// Scores both ways and computes the comparison (module docs).
pub fn compare(input: &CompareInput<'_>) -> Result<Compared, CompareError> {
    let manifest = input.model.manifest();
    let rules = CompiledRules::compile(input.rules).map_err(|source| CompareError::Rules {
        variant: "as written",
        source,
    })?;
    let ids = ids(input.id, input.scored, manifest.schema.id())?;
    let as_of = input
        .as_of
        .unwrap_or_else(|| manifest.encoder.reference_time());
    let labels = qualify_data::label::read_labels(input.scored, input.label)?;
    let propensity = input
        .model
        .score_table(input.scored, Some(as_of))
        .map_err(|source| CompareError::Score { source })?;
    if let Some(moments) = input.moments.filter(|m| m.len() != labels.len()) {
        return Err(CompareError::Length {
            labels: labels.len(),
            len: moments.len(),
            what: "moments",
        });
    }
    let rules_as_of = input.moments.map_or(AsOf::One(as_of), AsOf::PerRow);
    let outcomes = evaluate_rules(&rules, input.flat, rules_as_of);
    let (anyway, by_points) = threshold_basis(input.rules, input.flat, &outcomes, rules_as_of)?;
    let leads = Leads::new(
        labels,
        propensity,
        outcomes.iter().map(|r| r.score).collect(),
        outcomes.iter().map(|r| r.stage).collect(),
    )?
    .with_threshold_basis(anyway, by_points)?;

    let context = Context {
        data: input.data_origin.to_string(),
        label: input.label.to_string(),
        model: format!(
            "{} {} ({})",
            manifest.name, manifest.version, manifest.model.kind
        ),
        rules: format!(
            "{}{}",
            input.rules_origin,
            rules.name().map(|n| format!(" ({n})")).unwrap_or_default()
        ),
        as_of: match input.moments {
            Some(_) => "each row's own moment (a history's back-test)".to_string(),
            None => as_of.to_rfc3339(),
        },
    };
    let options = Options {
        capacity: input.capacity,
        target_precision: input.target_precision,
        mql_threshold: rules.mql_threshold(),
    };
    let mut comparison = Comparison::compute(&leads, context, options)?;
    for suggestion in [
        &mut comparison.thresholds.for_capacity,
        &mut comparison.thresholds.for_precision,
    ] {
        if let Some(threshold) = suggestion.threshold {
            suggestion.applied = Some(apply_threshold(
                input.rules,
                threshold,
                input.flat,
                &leads.labels,
                rules_as_of,
            )?);
        }
    }
    Ok(Compared {
        comparison,
        leads,
        rules: outcomes,
        ids,
        as_of,
    })
}

/// Every row of the table as a flat row, evaluated as `qualify rules score` evaluates it.
pub fn evaluate_rules(rules: &CompiledRules, table: &RawTable, as_of: AsOf<'_>) -> Vec<RuleRow> {
    let now = Utc::now();
    (0..table.rows())
        .map(|r| {
            let flat: BTreeMap<String, RawValue> = table
                .columns()
                .map(|(n, c)| (n.to_string(), c.get(r)))
                .collect();
            let outcome = rules.evaluate_flat(&flat, as_of.at(r, now));
            RuleRow {
                score: outcome.score.as_f64(),
                fit: outcome.fit_score.as_f64(),
                engagement: outcome.engagement_score.as_f64(),
                stage: outcome.stage,
                route: outcome.route.map(str::to_string),
            }
        })
        .collect()
}

/// Which leads qualify whatever the MQL threshold (product milestones: `PQL` once the SQL
/// criteria are taken out of the file, so that an SQL lead's milestones show), and which
/// qualify by points (not disqualified or nurtured, separate fit and engagement thresholds
/// met). See [`crate::threshold`].
pub fn threshold_basis(
    file: &RulesFile,
    table: &RawTable,
    outcomes: &[RuleRow],
    as_of: AsOf<'_>,
) -> Result<(Vec<bool>, Vec<bool>), CompareError> {
    let mut without_sql = file.clone();
    without_sql.stages.sql = None;
    let rules = CompiledRules::compile(&without_sql).map_err(|source| CompareError::Rules {
        variant: "without their SQL criteria",
        source,
    })?;
    let anyway = evaluate_rules(&rules, table, as_of)
        .into_iter()
        .map(|r| r.stage == Stage::Pql)
        .collect();
    let stages = &file.stages;
    let by_points = outcomes
        .iter()
        .map(|r| {
            !matches!(r.stage, Stage::Disqualified | Stage::Nurture)
                && stages.mql_fit.is_none_or(|t| r.fit >= t)
                && stages.mql_engagement.is_none_or(|t| r.engagement >= t)
        })
        .collect();
    Ok((anyway, by_points))
}

/// The MQL-or-better set when the rules run with `stages.mql = threshold`.
pub fn apply_threshold(
    file: &RulesFile,
    threshold: f64,
    table: &RawTable,
    labels: &[bool],
    as_of: AsOf<'_>,
) -> Result<Selection, CompareError> {
    let mut file = file.clone();
    file.stages.mql = threshold;
    let rules = CompiledRules::compile(&file).map_err(|source| CompareError::Rules {
        variant: "with a suggested MQL threshold",
        source,
    })?;
    let stages: Vec<Stage> = evaluate_rules(&rules, table, as_of)
        .into_iter()
        .map(|r| r.stage)
        .collect();
    Ok(Selection::of(labels, |i| qualified(stages[i])))
}

/// The id column as text: an explicit one must exist; the schema's id and `id` are taken when
/// the data has them; else row numbers from 1.
fn ids(
    explicit: Option<&str>,
    table: &RawTable,
    schema_id: Option<&str>,
) -> Result<RawColumn, CompareError> {
    let name = match explicit {
        Some(name) => Some(name),
        None => [schema_id, Some("id")]
            .into_iter()
            .flatten()
            .find(|name| table.column(name).is_some()),
    };
    let Some(name) = name else {
        return Ok(RawColumn::Text(
            (1..=table.rows()).map(|r| Some(r.to_string())).collect(),
        ));
    };
    let column = table.column(name).ok_or_else(|| CompareError::IdColumn {
        column: name.to_string(),
    })?;
    Ok(RawColumn::Text(
        (0..table.rows())
            .map(|r| match column.get(r) {
                RawValue::Missing => None,
                RawValue::Text(s) => Some(s),
                other => Some(other.to_json().to_string()),
            })
            .collect(),
    ))
}
