//! Drift: the population stability index (PSI) of the score and of every model input against
//! the bundle's training reference.
//!
//! `PSI = Σ_b (a_b − e_b) · ln(a_b / e_b)` over the reference's bins (numbers: its decile
//! bins; levels: its levels and `other`) plus the missing bucket, with `e_b` the reference's
//! and `a_b` production's share of rows in bin `b`. A share of 0 is floored at
//! [`PSI_FLOOR`] (an empty bin would otherwise make the index infinite). Reading, by the
//! usual convention: below 0.1 stable, 0.1–0.25 a moderate shift, above 0.25 a major one.
//!
//! **Which scores.** Production's side is each lead's latest score in the `drift_days` before
//! the monitoring time (a lead rescored at every event counts once), and the same per weekly
//! cohort for the score's trend.
//!
//! **Which inputs.** The score log records answers, not inputs. The inputs are recomputed at
//! each of those scores' moments from the stored lead and its events, with the function
//! training used (`History::point_in_time`, then the encoder's reading of each column): the
//! stored lead is the one source that exists for every logged lead. What it cannot see: an
//! event that reached the store after the score was served, and the activities of a record
//! posted whole that never reached the store.

use chrono::{DateTime, Utc};
use qualify_core::bundle::reference::{Histogram, LevelHistogram, NumericHistogram, Reference};
use qualify_core::encoder::{Encoder, InputValue};
use qualify_core::history::{History, HistorySpec, Moment};
use serde::{Deserialize, Serialize};

use crate::error::MonitorError;

/// Shares below this are floored before the logarithm.
pub const PSI_FLOOR: f64 = 1e-4;

/// The PSI of `observed` counts against `reference` counts over the same buckets; `None`
/// when either holds no rows or the lengths differ.
pub fn psi(reference: &[u64], observed: &[u64]) -> Option<f64> {
    let (e_total, a_total) = (
        reference.iter().sum::<u64>() as f64,
        observed.iter().sum::<u64>() as f64,
    );
    if reference.len() != observed.len() || e_total == 0.0 || a_total == 0.0 {
        return None;
    }
    Some(
        reference
            .iter()
            .zip(observed)
            .map(|(&e, &a)| {
                let e = (e as f64 / e_total).max(PSI_FLOOR);
                let a = (a as f64 / a_total).max(PSI_FLOOR);
                (a - e) * (a / e).ln()
            })
            .sum(),
    )
}

/// One distribution compared with its reference.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DriftFigure {
    /// `score`, or the input column's name.
    pub name: String,
    /// The buckets, in order (e.g. `(0.05, 0.12]`, `other`, `missing`).
    pub buckets: Vec<String>,
    pub reference: Vec<u64>,
    pub observed: Vec<u64>,
    /// `None` when production has no rows.
    pub psi: Option<f64>,
    /// Cells the encoder would refuse (not counted in a bucket).
    pub invalid: usize,
}

/// The score's PSI in one weekly cohort.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WeeklyPsi {
    pub week: chrono::NaiveDate,
    pub leads: usize,
    pub psi: Option<f64>,
}

/// Every drift figure.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Drift {
    /// Why there are no figures, or which are missing (no reference, no stored leads).
    pub notes: Vec<String>,
    /// Start of the window production's side is taken from.
    pub window_start: DateTime<Utc>,
    /// Leads scored in the window.
    pub leads: usize,
    pub score: Option<DriftFigure>,
    pub weekly_score: Vec<WeeklyPsi>,
    /// Every input column, highest PSI first.
    pub features: Vec<DriftFigure>,
    /// Leads of the window not found among the stored leads (no inputs).
    pub leads_without_inputs: usize,
}

fn edge(v: f64) -> String {
    format!("{v:.4}")
        .trim_end_matches('0')
        .trim_end_matches('.')
        .to_string()
}

fn numeric_buckets(h: &NumericHistogram) -> Vec<String> {
    let n = h.edges.len();
    let mut out: Vec<String> = (0..=n)
        .map(
            |i| match (i.checked_sub(1).map(|j| h.edges[j]), h.edges.get(i)) {
                (None, Some(&hi)) => format!("<= {}", edge(hi)),
                (Some(lo), Some(&hi)) => format!("({}, {}]", edge(lo), edge(hi)),
                (Some(lo), None) => format!("> {}", edge(lo)),
                (None, None) => "all".to_string(),
            },
        )
        .collect();
    out.push("missing".into());
    out
}

fn numeric_counts(h: &NumericHistogram) -> Vec<u64> {
    h.counts.iter().copied().chain([h.missing]).collect()
}

fn level_counts(h: &LevelHistogram) -> Vec<u64> {
    h.counts
        .iter()
        .copied()
        .chain([h.other, h.missing])
        .collect()
}

/// The score's figure: `scores` counted into the reference's bins.
pub(crate) fn score_figure(reference: &NumericHistogram, scores: &[f64]) -> DriftFigure {
    let observed = reference.counted(scores.iter().map(|&p| Some(p)));
    figure(
        "score".into(),
        &Histogram::Numeric(reference.clone()),
        &Histogram::Numeric(observed),
        0,
    )
}

fn figure(
    name: String,
    reference: &Histogram,
    observed: &Histogram,
    invalid: usize,
) -> DriftFigure {
    let (buckets, e, a) = match (reference, observed) {
        (Histogram::Numeric(r), Histogram::Numeric(o)) => {
            (numeric_buckets(r), numeric_counts(r), numeric_counts(o))
        }
        (Histogram::Levels(r), Histogram::Levels(o)) => {
            let mut buckets = r.levels.clone();
            buckets.extend(["other".to_string(), "missing".to_string()]);
            (buckets, level_counts(r), level_counts(o))
        }
        _ => (Vec::new(), Vec::new(), Vec::new()),
    };
    DriftFigure {
        name,
        buckets,
        psi: psi(&e, &a),
        reference: e,
        observed: a,
        invalid,
    }
}

/// One lead's input values at a moment, in the encoder's column order; `None` when the lead
/// is unknown.
pub type LeadInputs<'a> = dyn Fn(&str, DateTime<Utc>) -> Option<Vec<InputValue>> + Sync + 'a;

/// Where the model inputs at logged moments come from.
#[derive(Clone, Copy)]
pub enum FeatureSource<'a> {
    /// A history read and checked (files, or the store through the file readers): the rows
    /// at the moments by the trainer's batch path, read by the bundle's encoder (and, for a
    /// model trained on a history, its feature spec). What `qualify monitor` uses.
    History {
        encoder: &'a Encoder,
        history: &'a History,
        spec: Option<&'a HistorySpec>,
    },
    /// One lead's input values at a moment, in the encoder's column order, or `None` when the
    /// lead is unknown: the server reads its stored leads as records and the runtime reads
    /// them as it scores them (`Model::lead_input_values`).
    Leads {
        encoder: &'a Encoder,
        values: &'a LeadInputs<'a>,
    },
}

impl std::fmt::Debug for FeatureSource<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            FeatureSource::History { .. } => "FeatureSource::History",
            FeatureSource::Leads { .. } => "FeatureSource::Leads",
        })
    }
}

/// Each input column's figure for leads scored at `moments` (`(lead id, moment)`); with the
/// number of leads not found.
pub(crate) fn feature_figures(
    reference: &Reference,
    source: &FeatureSource<'_>,
    moments: &[(&str, DateTime<Utc>)],
) -> Result<(Vec<DriftFigure>, usize), MonitorError> {
    let (encoder, values, missing) = match *source {
        FeatureSource::History {
            encoder,
            history,
            spec,
        } => {
            let (values, missing) = history_inputs(encoder, history, spec, moments)?;
            (encoder, values, missing)
        }
        FeatureSource::Leads { encoder, values } => {
            let mut columns: Vec<Vec<InputValue>> = vec![Vec::new(); encoder.columns.len()];
            let mut missing = 0;
            for &(id, at) in moments {
                match values(id, at) {
                    Some(row) => {
                        for (column, value) in columns.iter_mut().zip(row) {
                            column.push(value);
                        }
                    }
                    None => missing += 1,
                }
            }
            (encoder, columns, missing)
        }
    };
    Ok((figures_of(reference, encoder, values), missing))
}

/// The input values (outer: columns) of the leads of `history` found at `moments`, and how
/// many were not found.
fn history_inputs(
    encoder: &Encoder,
    history: &History,
    spec: Option<&HistorySpec>,
    moments: &[(&str, DateTime<Utc>)],
) -> Result<(Vec<Vec<InputValue>>, usize), MonitorError> {
    let index = history.index();
    let found: Vec<(usize, DateTime<Utc>)> = moments
        .iter()
        .filter_map(|(id, at)| index.get(id).map(|&lead| (lead, *at)))
        .collect();
    let missing = moments.len() - found.len();
    let times: Vec<DateTime<Utc>> = found.iter().map(|f| f.1).collect();
    let values = match spec {
        Some(spec) => {
            let pit: Vec<Moment> = found
                .iter()
                .map(|&(lead, at)| Moment {
                    lead,
                    at: at.timestamp_millis(),
                })
                .collect();
            let (table, _) = history
                .point_in_time(spec, &pit)
                .map_err(|source| MonitorError::Inputs { source })?;
            let rows: Vec<usize> = (0..pit.len()).collect();
            encoder.input_values(&table, &rows, &|i| times[i])
        }
        None => {
            let rows: Vec<usize> = found.iter().map(|f| f.0).collect();
            encoder.input_values(&history.leads, &rows, &|i| times[i])
        }
    };
    Ok((values, missing))
}

/// Each column's figure against the reference, largest PSI first.
fn figures_of(
    reference: &Reference,
    encoder: &Encoder,
    values: Vec<Vec<InputValue>>,
) -> Vec<DriftFigure> {
    let mut figures: Vec<DriftFigure> = encoder
        .columns
        .iter()
        .zip(values)
        .filter_map(|(col, values)| {
            let r = reference.columns.iter().find(|r| r.name == col.name)?;
            let invalid = values.iter().filter(|v| **v == InputValue::Invalid).count();
            let observed = r.histogram.counted(&values);
            Some(figure(col.name.clone(), &r.histogram, &observed, invalid))
        })
        .collect();
    figures.sort_by(|a, b| {
        b.psi
            .unwrap_or(f64::NEG_INFINITY)
            .total_cmp(&a.psi.unwrap_or(f64::NEG_INFINITY))
    });
    figures
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn psi_by_hand() {
        // Shares 0.5/0.5 against 0.25/0.75:
        // (0.25-0.5) ln(0.25/0.5) + (0.75-0.5) ln(0.75/0.5) = 0.25 ln 2 + 0.25 ln 1.5.
        let want = 0.25 * 2f64.ln() + 0.25 * 1.5f64.ln();
        let got = psi(&[50, 50], &[25, 75]).expect("psi");
        assert!((got - want).abs() < 1e-12, "{got} vs {want}");
        assert_eq!(psi(&[3, 7], &[30, 70]), Some(0.0));
        // An empty production bin is floored at 1e-4, not infinite.
        let floored = psi(&[50, 50], &[0, 10]).expect("psi");
        let want = (1e-4 - 0.5) * (1e-4f64 / 0.5).ln() + 0.5 * 2f64.ln();
        assert!((floored - want).abs() < 1e-12);
        assert_eq!(psi(&[0, 0], &[1, 2]), None);
        assert_eq!(psi(&[1], &[1, 2]), None);
    }

    #[test]
    fn buckets_name_the_edges() {
        let h = NumericHistogram::with_edges(vec![0.1, 0.25]);
        assert_eq!(
            numeric_buckets(&h),
            ["<= 0.1", "(0.1, 0.25]", "> 0.25", "missing"]
        );
    }
}
