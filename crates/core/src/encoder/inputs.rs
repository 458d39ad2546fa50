//! The model's input values as the encoder reads them, before encoding: what drift monitoring
//! compares between training and production.
//!
//! Why here: a column's value must be read exactly as the encoder reads it (the same parse
//! functions, missing tokens and derived fields), or a drift figure would compare two
//! different readings of one column. Timestamps become days before the scoring moment, as the
//! encoder measures them.

use std::borrow::Cow;

use chrono::{DateTime, Utc};

use super::{ColumnState, Encoder, FittedColumn, TableColumn, days_before, parse, record_cell};
use crate::value::{Cell, RawTable, RawValue};

/// One input value of one row.
#[derive(Debug, Clone, PartialEq)]
pub enum InputValue {
    /// No value (imputed by the encoder).
    Missing,
    /// A numeric or timestamp column (timestamps: days before the scoring moment).
    Number(f64),
    /// A categorical or boolean column's level (`true` / `false`), or a set column's levels.
    Levels(Vec<String>),
    /// A cell the encoder would refuse (the server answers such a request with an error).
    Invalid,
}

/// Whether a column's values are numbers (binned by quantiles) or levels (counted).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InputKind {
    Number,
    Levels,
}

impl ColumnState {
    /// How [`Encoder::input_values`] reads this column.
    pub fn input_kind(&self) -> InputKind {
        match self {
            ColumnState::Numeric(_)
            | ColumnState::Timestamp(_)
            | ColumnState::Raw { boolean: false, .. } => InputKind::Number,
            ColumnState::Boolean
            | ColumnState::Raw { boolean: true, .. }
            | ColumnState::Categorical { .. }
            | ColumnState::Set { .. } => InputKind::Levels,
        }
    }

    /// The levels the model knows (booleans: `false`, `true`); empty for numbers.
    pub fn known_levels(&self) -> Vec<String> {
        match self {
            ColumnState::Boolean | ColumnState::Raw { boolean: true, .. } => {
                vec!["false".into(), "true".into()]
            }
            ColumnState::Categorical { levels } | ColumnState::Set { levels, .. } => levels.clone(),
            _ => Vec::new(),
        }
    }
}

impl Encoder {
    /// Each feature column's input value at `rows` of `table`, in the encoder's column order
    /// (outer: columns, inner: rows). `as_of(i)` is the scoring moment of the `i`-th of `rows`
    /// (timestamps are measured against it). A column absent from the table (and not
    /// derivable) reads as missing throughout.
    pub fn input_values(
        &self,
        table: &RawTable,
        rows: &[usize],
        as_of: &dyn Fn(usize) -> DateTime<Utc>,
    ) -> Vec<Vec<InputValue>> {
        self.columns
            .iter()
            .map(|col| {
                let data = TableColumn::find(table, &col.name);
                let is_missing = |t: &str| col.is_missing(t);
                rows.iter()
                    .enumerate()
                    .map(|(i, &r)| {
                        let Some(data) = &data else {
                            return InputValue::Missing;
                        };
                        input_value(col, data.cell(r, &is_missing), as_of(i))
                    })
                    .collect()
            })
            .collect()
    }
}

impl Encoder {
    /// One record's input values as of `as_of`, in the encoder's column order: the cells
    /// [`Encoder::encode_with`] encodes (derived fields included), read as
    /// [`Encoder::input_values`] reads a table's. `get` as for [`Encoder::encode_with`].
    pub fn record_input_values<'r>(
        &self,
        get: impl Fn(&str) -> Cow<'r, RawValue>,
        as_of: DateTime<Utc>,
    ) -> Vec<InputValue> {
        self.columns
            .iter()
            .map(|col| {
                let value = get(&col.name);
                let source = col.source().map(|s| (s, get(s)));
                input_value(col, record_cell(col, &value, source.as_ref()), as_of)
            })
            .collect()
    }
}

/// One cell of `col` as the encoder reads it.
fn input_value(col: &FittedColumn, cell: Cell<'_>, as_of: DateTime<Utc>) -> InputValue {
    let is_missing = |t: &str| col.is_missing(t);
    let value = match &col.state {
        ColumnState::Numeric(_) | ColumnState::Raw { boolean: false, .. } => {
            parse::parse_number(cell, &is_missing).map(|v| v.map(InputValue::Number))
        }
        ColumnState::Timestamp(_) => parse::parse_time(cell, &is_missing)
            .map(|t| t.map(|t| InputValue::Number(days_before(t, as_of)))),
        ColumnState::Boolean | ColumnState::Raw { boolean: true, .. } => {
            parse::parse_bool(cell, &is_missing)
                .map(|b| b.map(|b| InputValue::Levels(vec![b.to_string()])))
        }
        ColumnState::Categorical { .. } => parse::parse_level(cell, &is_missing)
            .map(|l| l.map(|l| InputValue::Levels(vec![l.into_owned()]))),
        ColumnState::Set { separator, .. } => {
            parse::parse_set(cell, separator, &is_missing).map(|s| {
                s.map(|items| InputValue::Levels(items.into_iter().map(Cow::into_owned).collect()))
            })
        }
    };
    match value {
        Ok(Some(v)) => v,
        Ok(None) => InputValue::Missing,
        Err(_) => InputValue::Invalid,
    }
}
