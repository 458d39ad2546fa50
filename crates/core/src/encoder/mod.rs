//! The one encoder: raw rows in, an `f32` feature matrix out.
//!
//! Training fits it on the training rows of a [`RawTable`]; scoring applies the fitted state to
//! a table (batch: files) or to one record (JSON, or a canonical lead's flat form). Both paths
//! read cells through [`parse`] and write them through [`ColumnState::encode_cell`], and a
//! property test in qualify-data holds them equal. The fitted state serialises into the model
//! bundle's manifest.
//!
//! ```
//! use qualify_core::encoder::Encoder;
//! use qualify_core::schema::Schema;
//! use qualify_core::value::{RawColumn, RawTable};
//!
//! let schema = Schema::from_toml(r#"
//!     [[column]]
//!     name = "converted"
//!     role = "label"
//!     [[column]]
//!     name = "employees"
//!     role = "firmographic"
//!     type = "numeric"
//! "#, "inline").unwrap();
//! let mut table = RawTable::new();
//! table.push("employees", RawColumn::Number(vec![Some(10.0), None, Some(30.0)])).unwrap();
//! let encoder = Encoder::fit(&schema, &table, &[0, 1, 2], None).unwrap();
//! assert_eq!(encoder.feature_names(), ["employees", "employees__missing__"]);
//! let x = encoder.encode_table(&table, &[1], encoder.reference_time()).unwrap();
//! assert_eq!(x, vec![0.0, 1.0]); // the median (20) is the mean: standardised to 0
//! ```

mod column;
mod error;
mod inputs;
pub mod parse;
mod table;

use std::borrow::Cow;
use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

pub use column::{
    CellNote, ColumnState, MISSING_SUFFIX, OTHER_LEVEL, Scaling, TrainingRange, days_before,
};
pub use error::{EncodeError, Reader};
pub use inputs::{InputKind, InputValue};
pub use parse::{Expected, ValueError};
pub use table::TableEncoder;

use crate::lead::{Derived, SourceField, flat_fact};
use crate::schema::{ColumnSpec, ColumnType, Schema};
use crate::value::{Cell, CellColumn, CellTable, RawTable, RawValue, is_missing_text};

type Result<T, E = EncodeError> = std::result::Result<T, E>;

/// Something a caller should know about an encoded row; never an error. Serialised with
/// a snake_case `kind` (`unseen_level`, `imputed`, `out_of_range`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Warning {
    /// A categorical or set level the model never saw; encoded as `__other__`.
    UnseenLevel { column: String, value: String },
    /// A missing value; imputed (numbers: training median) or encoded as missing.
    Imputed { column: String },
    /// A number far outside the range the column took in training (for a timestamp: days
    /// before the scoring time), clamped to the edge of the tolerated band
    /// ([`TrainingRange::band`]) before scoring.
    OutOfRange {
        column: String,
        /// The value as sent (days before the scoring time, for a timestamp).
        value: f64,
        /// The training range.
        min: f64,
        max: f64,
    },
    /// Activities of a type a history model does not know (docs/history.md): ignored.
    UnknownEventType { event_type: String, count: usize },
}

/// One fitted feature column.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FittedColumn {
    pub name: String,
    /// Tokens read as missing (besides the empty string), compared trimmed, ignoring case.
    pub missing_tokens: Vec<String>,
    pub state: ColumnState,
}

impl FittedColumn {
    fn is_missing(&self, text: &str) -> bool {
        is_missing_text(text, &self.missing_tokens)
    }

    fn encode<'c>(
        &self,
        cell: Cell<'c>,
        as_of: DateTime<Utc>,
        out: &mut [f32],
    ) -> Result<Option<CellNote<'c>>, ValueError> {
        self.state
            .encode_cell(cell, &|t| self.is_missing(t), as_of, out)
    }

    /// The source field of a derived column (`email_domain_type` from `email`, `seniority`
    /// from `job_title`), if this column is one that flat rows can derive.
    fn source(&self) -> Option<&'static str> {
        derived_source(&self.name)
    }
}

/// The source column of a column that flat rows derive ([`flat_fact`]); counts and
/// `last_activity_at` come from dated activities, which flat rows do not have.
fn derived_source(name: &str) -> Option<&'static str> {
    match Derived::of(name)?.source() {
        SourceField::Activities => None,
        source => Some(source.into()),
    }
}

/// A feature column of a table, read with the one derivation: its own cells, and for a
/// derived column, its source column's.
struct TableColumn<'t> {
    name: &'t str,
    own: Option<&'t dyn CellColumn>,
    source: Option<(&'static str, &'t dyn CellColumn)>,
}

impl<'t> TableColumn<'t> {
    /// `None` when the table has neither the column nor a source to derive it from.
    fn find<T: CellTable + ?Sized>(table: &'t T, name: &'t str) -> Option<TableColumn<'t>> {
        let own = table.cell_column(name);
        let source = derived_source(name).and_then(|s| table.cell_column(s).map(|c| (s, c)));
        (own.is_some() || source.is_some()).then_some(TableColumn { name, own, source })
    }

    /// The cells at `rows` as numbers ([`CellColumn::numbers`]), for a column read as it
    /// is (not derived) that holds numbers only.
    fn numbers(&self, rows: &[usize], out: &mut Vec<Option<f64>>) -> bool {
        match (self.own, self.source) {
            (Some(own), None) => own.numbers(rows, out),
            _ => false,
        }
    }

    fn cell(&self, row: usize, is_missing: &dyn Fn(&str) -> bool) -> Cell<'t> {
        if self.source.is_none() {
            return self.own.map_or(Cell::Missing, |c| c.cell(row));
        }
        flat_fact(
            self.name,
            |n| {
                if n == self.name {
                    self.own.map_or(Cell::Missing, |c| c.cell(row))
                } else {
                    match self.source {
                        Some((s, c)) if s == n => c.cell(row),
                        _ => Cell::Missing,
                    }
                }
            },
            is_missing,
        )
    }
}

/// The fitted encoder.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Encoder {
    pub columns: Vec<FittedColumn>,
    /// Time that timestamp features were measured against in training (the latest time seen);
    /// the default scoring time for files, so re-scoring training data reproduces it.
    reference_time: Option<DateTime<Utc>>,
}

impl Encoder {
    /// Fits on `rows` of `table`, for the feature columns of `schema`. `reference_time` is the
    /// "now" of the training data for timestamp features (default: the latest time in them).
    ///
    /// # Errors
    /// A schema column missing from the table, unreadable cells (the first few, with rows), a
    /// number too large to standardise (with its row).
    pub fn fit(
        schema: &Schema,
        table: &RawTable,
        rows: &[usize],
        reference_time: Option<DateTime<Utc>>,
    ) -> Result<Encoder> {
        let specs: Vec<_> = schema.features().collect();
        let mut columns = Vec::with_capacity(specs.len());
        let reference = reference_time.or_else(|| latest_time(schema, table, rows));
        for spec in &specs {
            let Some(kind) = spec.kind else { continue };
            let (data, missing_tokens) = column_input(schema, spec, table)?;
            let probe = FittedColumn {
                name: spec.name.clone(),
                missing_tokens,
                state: ColumnState::Boolean,
            };
            let is_missing = |t: &str| probe.is_missing(t);
            let cell = |r: usize| data.cell(r, &is_missing);
            let mut errors = CellErrors::new(&spec.name);
            let state = match kind {
                ColumnType::Numeric => {
                    let mut values: Vec<(usize, f64)> = rows
                        .iter()
                        .filter_map(|&r| {
                            errors
                                .keep(r, parse::parse_number(cell(r), &is_missing))
                                .flatten()
                                .map(|v| (r, v))
                        })
                        .collect();
                    errors.finish()?;
                    ColumnState::Numeric(fit_scaling(&spec.name, &mut values)?)
                }
                ColumnType::Timestamp => {
                    let mut days: Vec<(usize, f64)> = rows
                        .iter()
                        .filter_map(|&r| {
                            let t = errors.keep(r, parse::parse_time(cell(r), &is_missing))??;
                            reference.map(|as_of| (r, days_before(t, as_of)))
                        })
                        .collect();
                    errors.finish()?;
                    ColumnState::Timestamp(fit_scaling(&spec.name, &mut days)?)
                }
                ColumnType::Boolean => {
                    for &r in rows {
                        errors.keep(r, parse::parse_bool(cell(r), &is_missing));
                    }
                    ColumnState::Boolean
                }
                ColumnType::Categorical => {
                    let mut counts = BTreeMap::new();
                    for &r in rows {
                        if let Some(Some(level)) =
                            errors.keep(r, parse::parse_level(cell(r), &is_missing))
                        {
                            *counts.entry(level.into_owned()).or_insert(0) += 1;
                        }
                    }
                    ColumnState::Categorical {
                        levels: column::kept_levels(counts, schema.min_level_count),
                    }
                }
                ColumnType::Set => {
                    let separator = spec.set_separator().to_string();
                    let mut counts = BTreeMap::new();
                    for &r in rows {
                        if let Some(Some(items)) =
                            errors.keep(r, parse::parse_set(cell(r), &separator, &is_missing))
                        {
                            for item in items {
                                *counts.entry(item.into_owned()).or_insert(0) += 1;
                            }
                        }
                    }
                    ColumnState::Set {
                        levels: column::kept_levels(counts, schema.min_level_count),
                        separator,
                    }
                }
            };
            errors.finish()?;
            columns.push(FittedColumn { state, ..probe });
        }
        Ok(Encoder {
            columns,
            reference_time: reference,
        })
    }

    /// An encoder that passes the schema's feature columns through raw, in schema order (one
    /// [`ColumnState::Raw`] each: numbers as they are, booleans as 0/1, a missing value
    /// filled with the median of `rows`): the input of a model trained elsewhere.
    ///
    /// # Errors
    /// A feature column that is not numeric or boolean, or is absent from `table`, or holds
    /// unreadable cells.
    pub fn raw(schema: &Schema, table: &RawTable, rows: &[usize]) -> Result<Encoder> {
        let mut columns = Vec::new();
        for spec in schema.features() {
            let boolean = match spec.kind {
                Some(ColumnType::Numeric) => false,
                Some(ColumnType::Boolean) => true,
                other => {
                    return Err(EncodeError::RawType {
                        column: spec.name.clone(),
                        kind: other,
                    });
                }
            };
            let (data, missing_tokens) = column_input(schema, spec, table)?;
            let mut column = FittedColumn {
                name: spec.name.clone(),
                missing_tokens,
                state: ColumnState::Boolean,
            };
            let is_missing = |t: &str| column.is_missing(t);
            let mut errors = CellErrors::new(&spec.name);
            let mut values: Vec<(usize, f64)> = rows
                .iter()
                .filter_map(|&r| {
                    let cell = data.cell(r, &is_missing);
                    let value = if boolean {
                        parse::parse_bool(cell, &is_missing)
                            .map(|b| b.map(|b| if b { 1.0 } else { 0.0 }))
                    } else {
                        parse::parse_number(cell, &is_missing)
                    };
                    errors.keep(r, value).flatten().map(|v| (r, v))
                })
                .collect();
            errors.finish()?;
            let scaling = fit_scaling(&spec.name, &mut values)?;
            column.state = ColumnState::Raw {
                boolean,
                fill: scaling.median,
                range: if boolean { None } else { scaling.range },
            };
            columns.push(column);
        }
        Ok(Encoder {
            columns,
            reference_time: None,
        })
    }

    /// The default scoring time for timestamp features (see the field doc); now when the
    /// model has no timestamp features.
    pub fn reference_time(&self) -> DateTime<Utc> {
        self.reference_time.unwrap_or_else(Utc::now)
    }

    /// Whether any feature is a timestamp (and so depends on the scoring time).
    pub fn uses_time(&self) -> bool {
        self.columns
            .iter()
            .any(|c| matches!(c.state, ColumnState::Timestamp(_)))
    }

    /// The table columns [`Encoder::encode_table`] reads: each feature column and, for one
    /// that a flat row can derive, its source (`email` for `email_domain_type`). A reader of
    /// a wide file can keep only these.
    pub fn table_columns(&self) -> Vec<&str> {
        let mut names: Vec<&str> = Vec::new();
        for col in &self.columns {
            for name in std::iter::once(col.name.as_str()).chain(col.source()) {
                if !names.contains(&name) {
                    names.push(name);
                }
            }
        }
        names
    }

    /// Width of the encoded matrix.
    pub fn n_features(&self) -> usize {
        self.columns.iter().map(|c| c.state.width()).sum()
    }

    /// Names of the encoded columns, in matrix order.
    pub fn feature_names(&self) -> Vec<String> {
        self.columns
            .iter()
            .flat_map(|c| c.state.output_names(&c.name))
            .collect()
    }

    /// Output column range of each input column, in order (for grouping contributions).
    pub fn column_spans(&self) -> Vec<(&str, std::ops::Range<usize>)> {
        let mut start = 0;
        self.columns
            .iter()
            .map(|c| {
                let span = start..start + c.state.width();
                start = span.end;
                (c.name.as_str(), span)
            })
            .collect()
    }

    /// Encodes `rows` of `table` into a row-major matrix (`rows.len()` × `n_features()`).
    /// Errors name the column and the (1-based) data row. Warnings are not collected: batch
    /// callers that need them score row by row. A caller encoding a table in chunks binds
    /// it once with [`Encoder::table_encoder`].
    ///
    /// # Errors
    /// A feature column the table lacks; a cell its column cannot read.
    pub fn encode_table<T: CellTable + ?Sized>(
        &self,
        table: &T,
        rows: &[usize],
        as_of: DateTime<Utc>,
    ) -> Result<Vec<f32>> {
        self.table_encoder(table, as_of)?.encode(rows)
    }

    /// Encodes one record given as JSON (field name -> value) into `out` (`n_features()` long).
    /// A field the model reads but the record lacks is missing. Returns the warnings.
    pub fn encode_json(
        &self,
        record: &serde_json::Map<String, serde_json::Value>,
        as_of: DateTime<Utc>,
        out: &mut [f32],
    ) -> Result<Vec<Warning>> {
        self.encode_with(
            |name| {
                Cow::Owned(
                    record
                        .get(name)
                        .map_or(RawValue::Missing, RawValue::from_json),
                )
            },
            as_of,
            out,
        )
    }

    /// Encodes one record in flat form (e.g. [`crate::lead::LeadRecord::to_flat`]).
    pub fn encode_flat(
        &self,
        record: &BTreeMap<String, RawValue>,
        as_of: DateTime<Utc>,
        out: &mut [f32],
    ) -> Result<Vec<Warning>> {
        self.encode_with(
            |name| {
                record
                    .get(name)
                    .map_or(Cow::Owned(RawValue::Missing), Cow::Borrowed)
            },
            as_of,
            out,
        )
    }

    /// Encodes one record given as a lookup: `get(column)` borrows a field where the record
    /// holds `RawValue`s and builds it otherwise (JSON, computed features).
    ///
    /// # Errors
    /// As [`Encoder::encode_flat`].
    pub fn encode_with<'r>(
        &self,
        get: impl Fn(&str) -> Cow<'r, RawValue>,
        as_of: DateTime<Utc>,
        out: &mut [f32],
    ) -> Result<Vec<Warning>> {
        let mut warnings = Vec::new();
        self.encode_with_notes(
            |lookup| get(lookup.name()),
            as_of,
            out,
            |_, column, note| warnings.push(note.warning(column)),
        )?;
        Ok(warnings)
    }

    /// As [`Encoder::encode_with`], but the lookup is told which column asks
    /// ([`Lookup`]), and each cell's note goes to `note(index, column, note)` (the column's
    /// index in [`Encoder::columns`] and its name) instead of becoming a [`Warning`].
    ///
    /// Why: a caller that knows the columns in advance (a history model, whose computed
    /// features sit in a vector beside the record) finds a value by the column's index
    /// instead of hashing its name, once per column per request; and a caller that reports
    /// only some notes (a history model drops the imputations of its computed features, the
    /// normal state of a lead without events) never builds the others' warnings, a `String`
    /// each.
    ///
    /// # Errors
    /// As [`Encoder::encode_flat`].
    pub fn encode_with_notes<'r>(
        &self,
        get: impl Fn(Lookup<'_>) -> Cow<'r, RawValue>,
        as_of: DateTime<Utc>,
        out: &mut [f32],
        mut note: impl FnMut(usize, &str, CellNote<'_>),
    ) -> Result<()> {
        if out.len() != self.n_features() {
            return Err(EncodeError::Width {
                got: out.len(),
                want: self.n_features(),
            });
        }
        out.fill(0.0);
        let mut offset = 0;
        for (index, col) in self.columns.iter().enumerate() {
            let w = col.state.width();
            let value = get(Lookup::Column {
                index,
                name: &col.name,
            });
            let source = col.source().map(|s| (s, get(Lookup::Source { name: s })));
            let cell = record_cell(col, &value, source.as_ref());
            let cell_note = col
                .encode(cell, as_of, &mut out[offset..offset + w])
                .map_err(|source| EncodeError::Field {
                    field: col.name.clone(),
                    source,
                })?;
            if let Some(cell_note) = cell_note {
                note(index, &col.name, cell_note);
            }
            offset += w;
        }
        Ok(())
    }
}

/// What [`Encoder::encode_with_notes`] asks its lookup for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lookup<'a> {
    /// The value of the column at `index` in [`Encoder::columns`], named `name`.
    Column { index: usize, name: &'a str },
    /// The field `name` a derived column is derived from when it is not sent itself
    /// (`email` for `email_domain_type`).
    Source { name: &'a str },
}

impl Lookup<'_> {
    /// The name of the column or field asked for.
    pub fn name(&self) -> &str {
        match self {
            Lookup::Column { name, .. } | Lookup::Source { name } => name,
        }
    }
}

/// The cell of `col` in a record: its `value`, or for a derived column its fact derived from
/// `source` (the field it comes from) when it is not sent itself.
pub(crate) fn record_cell<'v>(
    col: &FittedColumn,
    value: &'v RawValue,
    source: Option<&'v (&str, Cow<'_, RawValue>)>,
) -> Cell<'v> {
    let is_missing = |t: &str| col.is_missing(t);
    match source {
        None => value.cell(),
        Some((s, source)) => flat_fact(
            &col.name,
            |n| {
                if n == col.name {
                    value.cell()
                } else if n == *s {
                    source.cell()
                } else {
                    Cell::Missing
                }
            },
            &is_missing,
        ),
    }
}

/// Fits a scaling on `(row, value)` pairs; values whose statistics overflow are an error
/// naming the row of the largest one.
fn fit_scaling(column: &str, values: &mut [(usize, f64)]) -> Result<Scaling> {
    let mut plain: Vec<f64> = values.iter().map(|(_, v)| *v).collect();
    let scaling = Scaling::fit(&mut plain);
    if scaling.is_finite() {
        return Ok(scaling);
    }
    let (row, value) = values
        .iter()
        .copied()
        .max_by(|a, b| a.1.abs().total_cmp(&b.1.abs()))
        .unwrap_or((0, f64::NAN));
    Err(EncodeError::Overflow {
        column: column.to_string(),
        row: row + 1,
        value,
    })
}

/// A feature column's data (its own cells, or its source's for a derived column) and its
/// missing tokens (the schema's and the column's own, trimmed): what fitting any column
/// state starts from.
fn column_input<'t>(
    schema: &Schema,
    spec: &'t ColumnSpec,
    table: &'t RawTable,
) -> Result<(TableColumn<'t>, Vec<String>)> {
    let data = TableColumn::find(table, &spec.name).ok_or_else(|| EncodeError::MissingColumn {
        column: spec.name.clone(),
        reader: Reader::Schema,
    })?;
    let missing_tokens = schema
        .missing_tokens
        .iter()
        .chain(&spec.missing)
        .map(|t| t.trim().to_string())
        .collect();
    Ok((data, missing_tokens))
}

/// The latest time in any timestamp feature column over `rows` (unreadable cells skipped:
/// the fit reports them).
fn latest_time(schema: &Schema, table: &RawTable, rows: &[usize]) -> Option<DateTime<Utc>> {
    schema
        .features()
        .filter(|spec| spec.kind == Some(ColumnType::Timestamp))
        .filter_map(|spec| table.column(&spec.name))
        .flat_map(|data| {
            rows.iter().filter_map(move |&r| match data.cell(r) {
                Cell::Text(t) => parse::time_from_text(t),
                _ => None,
            })
        })
        .max()
}

/// Collects a column's bad cells while fitting, so the error shows the first few at once.
struct CellErrors<'a> {
    column: &'a str,
    count: usize,
    first: Vec<(usize, ValueError)>,
}

impl<'a> CellErrors<'a> {
    fn new(column: &'a str) -> Self {
        CellErrors {
            column,
            count: 0,
            first: Vec::new(),
        }
    }

    fn keep<T>(&mut self, row: usize, result: Result<T, ValueError>) -> Option<T> {
        match result {
            Ok(v) => Some(v),
            Err(e) => {
                self.count += 1;
                if self.first.len() < 3 {
                    self.first.push((row + 1, e));
                }
                None
            }
        }
    }

    /// The collected errors, if any; clears them.
    fn finish(&mut self) -> Result<()> {
        if self.count == 0 {
            return Ok(());
        }
        let count = std::mem::take(&mut self.count);
        Err(EncodeError::BadCells {
            column: self.column.to_string(),
            count,
            first: std::mem::take(&mut self.first),
        })
    }
}

#[cfg(test)]
mod tests;
