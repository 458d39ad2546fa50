//! Schema inference: a first, editable guess at each column's role and type.
//!
//! The guess is written as commented TOML (`qualify schema infer`) for a person to read and
//! correct. It flags what a person must decide: columns unique per row (ids), constant
//! columns, and columns that on their own almost separate the label (probable leakage: a field
//! filled in after the outcome was known). Without a label it infers a *leads* table's schema
//! (docs/history.md): the label of a history model comes from the outcomes table, so the
//! schema gets a `[history]` section instead, and the leakage check, which needs labels, is
//! left to training.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use qualify_core::encoder::parse::{bool_from_text, time_from_text};
use qualify_core::history::HistoryColumns;
use qualify_core::lead::ActivityType;
use qualify_core::schema::{
    ColumnSpec, ColumnType, DEFAULT_MIN_LEVEL_COUNT, DEFAULT_MISSING_TOKENS, Role, Schema,
};
use qualify_core::value::{Cell, RawColumn, RawTable};

/// Single-column AUC at or above which a column is ignored as probable leakage.
pub const LEAKAGE_AUC: f64 = 0.95;
/// Single-column AUC at or above which a column is kept but flagged for a person to check.
pub const SUSPICIOUS_AUC: f64 = 0.85;

/// The creation-time column of a leads table when none is named.
pub const DEFAULT_CREATED: &str = "created_at";

/// Which columns are which, as the user said on the command line.
#[derive(Debug, Clone, Default)]
pub struct InferOptions {
    /// The label column; `None` for a leads table (a history's).
    pub label: Option<String>,
    pub id: Option<String>,
    pub time: Option<String>,
}

/// An inferred schema and what the inference noticed, per column.
#[derive(Debug, Clone)]
pub struct Inferred {
    pub schema: Schema,
    /// Per column: a one-line summary and any warnings.
    pub notes: BTreeMap<String, ColumnNotes>,
}

#[derive(Debug, Clone, Default)]
pub struct ColumnNotes {
    pub summary: String,
    pub warnings: Vec<String>,
}

/// Why a schema cannot be inferred.
#[derive(Debug, thiserror::Error)]
pub enum InferError {
    #[error(transparent)]
    Label(#[from] crate::label::LabelError),
    /// An id or time column named in the options is not in the table.
    #[error("column {column:?} is not in the data; its columns are: {}", columns.join(", "))]
    MissingColumn {
        column: String,
        columns: Vec<String>,
    },
    /// The schema built from the table does not validate (e.g. no usable feature column).
    #[error("the inferred schema is not usable: {0}")]
    Unusable(#[source] qualify_core::schema::SchemaRule),
}

/// Infers a schema from a table.
pub fn infer_schema(table: &RawTable, options: &InferOptions) -> Result<Inferred, InferError> {
    let labels = match &options.label {
        Some(label) => Some(crate::label::read_labels(table, label)?),
        None => None,
    };
    for name in options.id.iter().chain(&options.time) {
        if table.column(name).is_none() {
            return Err(InferError::MissingColumn {
                column: name.clone(),
                columns: table.names().iter().map(|n| n.to_string()).collect(),
            });
        }
    }
    let is_missing = |t: &str| {
        let t = t.trim();
        t.is_empty()
            || DEFAULT_MISSING_TOKENS
                .iter()
                .any(|m| m.eq_ignore_ascii_case(t))
    };
    let mut columns = Vec::new();
    let mut notes = BTreeMap::new();
    for (name, data) in table.columns() {
        let mut note = ColumnNotes::default();
        let (role, kind) = if Some(name) == options.label.as_deref()
            && let Some(labels) = &labels
        {
            let rate = labels.iter().filter(|&&y| y).count() as f64 / labels.len() as f64;
            note.summary = format!("label, {:.1}% positive", 100.0 * rate);
            (Role::Label, None)
        } else if Some(name) == options.id.as_deref()
            || (options.id.is_none() && name.eq_ignore_ascii_case("id"))
        {
            note.summary = "id".into();
            (Role::Id, None)
        } else if Some(name) == options.time.as_deref()
            || (labels.is_none() && options.time.is_none() && name == DEFAULT_CREATED)
        {
            note.summary = "time the lead arrived (splits by time)".into();
            (Role::Timestamp, None)
        } else {
            let profile = Profile::of(data, &is_missing);
            note.summary = profile.summary(table.rows());
            let kind = profile.kind();
            if kind == ColumnType::Numeric && profile.numbers < profile.present {
                let first: Vec<String> = profile
                    .non_numbers
                    .iter()
                    .map(|(r, t)| format!("row {}: {t:?}", r + 1))
                    .collect();
                note.warnings.push(format!(
                    "numeric, but {} cell(s) are not numbers (first: {}); fix them or list them as \
                     missing tokens: training refuses them",
                    profile.present - profile.numbers,
                    first.join(", ")
                ));
            }
            let mut role = guess_role(name);
            if profile.distinct <= 1 {
                note.warnings
                    .push("constant: carries no information; ignored".into());
                role = Role::Ignore;
            } else if profile.distinct == table.rows() && kind != ColumnType::Numeric
                || profile.distinct == table.rows() && profile.all_integers
            {
                note.warnings
                    .push("unique per row: looks like an id; ignored".into());
                role = Role::Ignore;
            }
            if role != Role::Ignore
                && let Some(labels) = &labels
            {
                let auc = single_column_auc(data, kind, labels, &is_missing);
                if auc >= LEAKAGE_AUC {
                    note.warnings.push(format!(
                        "probable leakage: alone it separates the label (AUC {auc:.3}); ignored. \
                         A field filled in after the outcome is known cannot be used to score new leads"
                    ));
                    role = Role::Ignore;
                } else if auc >= SUSPICIOUS_AUC {
                    note.warnings.push(format!(
                        "check for leakage: alone it predicts the label with AUC {auc:.3}; \
                         is it known when a lead arrives?"
                    ));
                }
            }
            (role, Some(kind))
        };
        let note_text = (role == Role::Ignore)
            .then(|| note.warnings.join("; "))
            .filter(|s| !s.is_empty());
        columns.push(ColumnSpec {
            name: name.to_string(),
            role,
            kind,
            missing: Vec::new(),
            separator: None,
            note: note_text,
            monotone: None,
        });
        notes.insert(name.to_string(), note);
    }
    let schema = Schema {
        format_version: qualify_core::schema::SCHEMA_FORMAT_VERSION,
        missing_tokens: DEFAULT_MISSING_TOKENS
            .iter()
            .map(|s| s.to_string())
            .collect(),
        min_level_count: DEFAULT_MIN_LEVEL_COUNT,
        columns,
        history: labels.is_none().then(HistoryColumns::default),
    };
    schema.validate().map_err(InferError::Unusable)?;
    Ok(Inferred { schema, notes })
}

/// What a column's values look like.
#[derive(Debug, Default)]
struct Profile {
    present: usize,
    missing: usize,
    distinct: usize,
    numbers: usize,
    all_integers: bool,
    booleans: usize,
    times: usize,
    with_separator: usize,
    /// The first few cells that are not numbers: (row, text).
    non_numbers: Vec<(usize, String)>,
}

impl Profile {
    fn of(data: &RawColumn, is_missing: &dyn Fn(&str) -> bool) -> Profile {
        let mut p = Profile {
            all_integers: true,
            ..Profile::default()
        };
        let mut seen = std::collections::HashSet::new();
        for row in 0..data.len() {
            match data.cell(row) {
                Cell::Missing => p.missing += 1,
                Cell::Text(t) if is_missing(t) => p.missing += 1,
                Cell::Number(v) => {
                    p.present += 1;
                    p.numbers += 1;
                    p.all_integers &= v.fract() == 0.0;
                    seen.insert(v.to_bits().to_string());
                }
                Cell::Bool(b) => {
                    p.present += 1;
                    p.booleans += 1;
                    seen.insert(b.to_string());
                }
                Cell::Text(t) => {
                    p.present += 1;
                    let t = t.trim();
                    match t.parse::<f64>() {
                        Ok(v) if v.is_finite() => {
                            p.numbers += 1;
                            p.all_integers &= v.fract() == 0.0;
                        }
                        _ => {
                            p.all_integers = false;
                            if p.non_numbers.len() < 3 {
                                p.non_numbers.push((row, t.to_string()));
                            }
                        }
                    }
                    p.booleans +=
                        usize::from(bool_from_text(t).is_some() && t.parse::<f64>().is_err());
                    p.times += usize::from(t.len() >= 10 && time_from_text(t).is_some());
                    p.with_separator += usize::from(t.contains(';'));
                    seen.insert(t.to_string());
                }
                Cell::List(_) => p.present += 1,
            }
        }
        p.distinct = seen.len();
        p
    }

    fn kind(&self) -> ColumnType {
        let all = |n: usize| self.present > 0 && n == self.present;
        if all(self.booleans) && self.distinct <= 2 {
            ColumnType::Boolean
        } else if self.mostly_numbers() {
            ColumnType::Numeric
        } else if all(self.times) {
            ColumnType::Timestamp
        } else if self.with_separator * 10 >= self.present && self.with_separator > 0 {
            ColumnType::Set
        } else {
            ColumnType::Categorical
        }
    }

    /// At least 95% of the present cells are numbers: a numeric column with a few bad cells,
    /// which training will refuse with their rows (rather than a category of unique values).
    fn mostly_numbers(&self) -> bool {
        self.present > 0 && self.numbers * 20 >= self.present * 19
    }

    fn summary(&self, rows: usize) -> String {
        let missing = 100.0 * self.missing as f64 / rows.max(1) as f64;
        format!("{} distinct values, {missing:.1}% missing", self.distinct)
    }
}

/// Role from well-known column names (the canonical lead record's), else a plain feature.
fn guess_role(name: &str) -> Role {
    let n = name.to_ascii_lowercase();
    let is_activity = ActivityType::ALL.iter().any(|a| n == a.count_column());
    match n.as_str() {
        "industry" | "employees" | "annual_revenue" | "country" | "company_size" | "region" => {
            Role::Firmographic
        }
        "crm" | "marketing_automation" | "tech_stack" => Role::Technographic,
        "budget_confirmed" | "need_confirmed" | "timeline_days" => Role::Qualification,
        // Free text and outcome data: never features as they stand.
        "email" | "job_title" | "name" | "disqualification_reason" | "converted_at" => Role::Ignore,
        _ if is_activity
            || n == "last_activity_at"
            || n.contains("visit")
            || n.contains("time spent") =>
        {
            Role::Behavioural
        }
        _ => Role::Feature,
    }
}

/// How well the column alone ranks the label, folded so that 0.5 is no signal and 1 is
/// perfect separation. Numbers and times rank by value (missing at the median); other types
/// by their level's positive rate, with levels rarer than [`DEFAULT_MIN_LEVEL_COUNT`] pooled
/// so that unique values cannot "predict" their own row.
fn single_column_auc(
    data: &RawColumn,
    kind: ColumnType,
    labels: &[bool],
    is_missing: &dyn Fn(&str) -> bool,
) -> f64 {
    let scores: Vec<f64> = match kind {
        ColumnType::Numeric | ColumnType::Timestamp => {
            let values: Vec<Option<f64>> = (0..data.len())
                .map(|r| match data.cell(r) {
                    Cell::Number(v) if v.is_finite() => Some(v),
                    Cell::Text(t) if !is_missing(t) => t
                        .trim()
                        .parse::<f64>()
                        .ok()
                        .or_else(|| time_from_text(t).map(|t| t.timestamp() as f64)),
                    _ => None,
                })
                .collect();
            let mut observed: Vec<f64> = values.iter().flatten().copied().collect();
            if observed.is_empty() {
                return 0.5;
            }
            observed.sort_by(f64::total_cmp);
            let (lo, hi, median) = (
                observed[0],
                observed[observed.len() - 1],
                observed[observed.len() / 2],
            );
            let span = if hi > lo { hi - lo } else { 1.0 };
            values
                .iter()
                .map(|v| (v.unwrap_or(median) - lo) / span)
                .collect()
        }
        _ => {
            let keys: Vec<String> = (0..data.len())
                .map(|r| match data.cell(r) {
                    Cell::Missing => String::new(),
                    Cell::Text(t) if is_missing(t) => String::new(),
                    Cell::Text(t) => t.trim().to_string(),
                    Cell::Number(v) => v.to_string(),
                    Cell::Bool(b) => b.to_string(),
                    Cell::List(items) => items.join(";"),
                })
                .collect();
            let mut rate: BTreeMap<&str, (usize, usize)> = BTreeMap::new();
            for (k, &y) in keys.iter().zip(labels) {
                let e = rate.entry(k).or_default();
                e.0 += usize::from(y);
                e.1 += 1;
            }
            let pooled = rate
                .values()
                .filter(|(_, n)| *n < DEFAULT_MIN_LEVEL_COUNT)
                .fold((0, 0), |acc, (p, n)| (acc.0 + p, acc.1 + n));
            keys.iter()
                .map(|k| {
                    let (p, n) = rate[k.as_str()];
                    let (p, n) = if n < DEFAULT_MIN_LEVEL_COUNT {
                        pooled
                    } else {
                        (p, n)
                    };
                    p as f64 / n as f64
                })
                .collect()
        }
    };
    let auc = qualify_eval::roc_auc(labels, &scores).unwrap_or(0.5);
    auc.max(1.0 - auc)
}

/// The schema as commented TOML, for a person to read and edit.
pub fn to_commented_toml(inferred: &Inferred, source: &str) -> String {
    let s = &inferred.schema;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "# qualify feature schema, inferred from {source} by `qualify schema infer`."
    );
    let _ = writeln!(
        out,
        "# Edit it: roles (label, id, timestamp, firmographic, technographic, behavioural,"
    );
    let _ = writeln!(
        out,
        "# qualification, feature, ignore), types (numeric, categorical, boolean, set, timestamp),"
    );
    let _ = writeln!(
        out,
        "# missing tokens. Check it with `qualify schema check`. Format: docs/schema.md."
    );
    let _ = writeln!(out, "format_version = {}", s.format_version);
    let tokens: Vec<String> = s.missing_tokens.iter().map(|t| toml_string(t)).collect();
    let _ = writeln!(
        out,
        "# Cell values read as \"not answered\" in every column (trimmed, any case)."
    );
    let _ = writeln!(out, "missing_tokens = [{}]", tokens.join(", "));
    let _ = writeln!(
        out,
        "# Categorical levels seen fewer times are pooled into __other__."
    );
    let _ = writeln!(out, "min_level_count = {}", s.min_level_count);
    for col in &s.columns {
        let _ = writeln!(out);
        if let Some(note) = inferred.notes.get(&col.name) {
            let _ = writeln!(out, "# {}: {}", col.name, note.summary);
            for w in &note.warnings {
                let _ = writeln!(out, "# WARNING: {w}");
            }
        }
        let _ = writeln!(out, "[[column]]");
        let _ = writeln!(out, "name = {}", toml_string(&col.name));
        let _ = writeln!(out, "role = {}", toml_string(&serde_name(col.role)));
        if let Some(kind) = col.kind {
            let _ = writeln!(out, "type = {}", toml_string(&serde_name(kind)));
        }
        if let Some(note) = &col.note {
            let _ = writeln!(out, "note = {}", toml_string(note));
        }
    }
    if let Some(history) = &s.history {
        let _ = writeln!(out);
        let _ = writeln!(
            out,
            "# A leads table: the label comes from the outcomes table. The column names of the"
        );
        let _ = writeln!(
            out,
            "# events and outcomes tables, and the outcome names (docs/history.md):"
        );
        #[derive(serde::Serialize)]
        struct Section<'a> {
            history: &'a HistoryColumns,
        }
        if let Ok(text) = toml::to_string(&Section { history }) {
            let _ = write!(out, "{text}");
        }
    }
    out
}

fn toml_string(s: &str) -> String {
    toml::Value::String(s.to_string()).to_string()
}

/// A role or type as its schema spelling (its serde name), so there is one spelling only.
fn serde_name<T: serde::Serialize>(value: T) -> String {
    serde_json::to_value(value)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests;
