//! Batch explanations of a table: the reason columns `qualify score --explain` writes, as a
//! library call, so the command line and the Python package (`Model.explain`) produce the
//! same columns from the same function.
//!
//! Each row goes through [`Model::explain_json`] (the single-record path the server uses),
//! so a row's reasons carry the value the caller sent for the column. An encoding error
//! names the column and the 1-based row, as [`Model::score_table`]'s errors do.

use chrono::{DateTime, Utc};
use qualify_core::encoder::EncodeError;
use qualify_core::value::{RawColumn, RawTable, TableError};

use crate::{Model, Reason, RuntimeError};

/// `raw_score` and the `--top` reasons of every row of a table, in row order.
#[derive(Debug, Clone, PartialEq)]
pub struct ExplainedTable {
    /// Calibrated propensities ([`Model::score_table`]'s).
    pub propensity: Vec<f64>,
    /// Raw scores (log-odds) that the reasons add up to with the model's base.
    pub raw_score: Vec<f64>,
    /// Up to `top` positive reasons per row, largest first.
    pub positive: Vec<Vec<Reason>>,
    /// Up to `top` negative reasons per row, most negative first.
    pub negative: Vec<Vec<Reason>>,
    /// How many reasons of each sign the columns hold.
    pub top: usize,
}

impl Model {
    /// Scores and explains every row of `table` as of `as_of` (`top` reasons of each sign).
    ///
    /// # Errors
    /// [`RuntimeError::NotExplainable`] for a model that cannot explain its scores;
    /// [`RuntimeError::Input`] with [`EncodeError::Cell`] (column and 1-based row) for a
    /// value the encoder refuses.
    pub fn explain_table(
        &self,
        table: &RawTable,
        as_of: DateTime<Utc>,
        top: usize,
    ) -> Result<ExplainedTable, RuntimeError> {
        let rows = table.rows();
        let mut out = ExplainedTable {
            propensity: Vec::with_capacity(rows),
            raw_score: Vec::with_capacity(rows),
            positive: Vec::with_capacity(rows),
            negative: Vec::with_capacity(rows),
            top,
        };
        for row in 0..rows {
            let (scored, explanation) = self
                .explain_json(&table.row_json(row), as_of, top)
                .map_err(|e| at_row(e, row + 1))?;
            out.propensity.push(scored.propensity);
            out.raw_score.push(explanation.raw_score);
            out.positive.push(explanation.top_positive);
            out.negative.push(explanation.top_negative);
        }
        Ok(out)
    }
}

/// A single record's field error as a table cell's (column and row).
fn at_row(error: RuntimeError, row: usize) -> RuntimeError {
    match error {
        RuntimeError::Input {
            field: Some(field),
            error: EncodeError::Field { source, .. },
        } => RuntimeError::Input {
            field: Some(field.clone()),
            error: EncodeError::Cell {
                column: field,
                row,
                source,
            },
        },
        other => other,
    }
}

impl ExplainedTable {
    /// No rows yet, `top` reasons of each sign.
    pub fn empty(top: usize) -> ExplainedTable {
        ExplainedTable {
            propensity: Vec::new(),
            raw_score: Vec::new(),
            positive: Vec::new(),
            negative: Vec::new(),
            top,
        }
    }

    /// Appends the rows of `piece` (the explained rows after these, with the same `top`).
    pub fn append(&mut self, piece: ExplainedTable) {
        self.propensity.extend(piece.propensity);
        self.raw_score.extend(piece.raw_score);
        self.positive.extend(piece.positive);
        self.negative.extend(piece.negative);
    }

    /// Appends `raw_score` and, for each rank `k` in `1..=top` and each sign, the columns
    /// `positive_k_column`, `positive_k_value` (the lead's value as text) and
    /// `positive_k_contribution` (log-odds), then the same for `negative_k_…`; cells are
    /// empty when a lead has fewer reasons.
    ///
    /// # Errors
    /// [`TableError`] when `out` already holds one of these names or has another row count.
    pub fn push_columns(&self, out: &mut RawTable) -> Result<(), TableError> {
        out.push(
            "raw_score",
            RawColumn::Number(self.raw_score.iter().copied().map(Some).collect()),
        )?;
        for (sign, reasons) in [("positive", &self.positive), ("negative", &self.negative)] {
            for k in 0..self.top {
                let column = reasons
                    .iter()
                    .map(|r| nth(r, k).map(|r| r.column.clone()))
                    .collect();
                let value = reasons
                    .iter()
                    .map(|r| nth(r, k).and_then(|r| value_text(&r.value)))
                    .collect();
                let contribution = reasons
                    .iter()
                    .map(|r| nth(r, k).map(|r| r.contribution))
                    .collect();
                let name = format!("{sign}_{}", k + 1);
                out.push(format!("{name}_column"), RawColumn::Text(column))?;
                out.push(format!("{name}_value"), RawColumn::Text(value))?;
                out.push(
                    format!("{name}_contribution"),
                    RawColumn::Number(contribution),
                )?;
            }
        }
        Ok(())
    }
}

/// The `k`-th reason of a row (0-based), if it has that many.
fn nth(reasons: &[Reason], k: usize) -> Option<&Reason> {
    reasons.get(k)
}

/// A reason's value as a cell: text as is, other values as JSON, missing as an empty cell.
pub fn value_text(value: &serde_json::Value) -> Option<String> {
    match value {
        serde_json::Value::Null => None,
        serde_json::Value::String(s) => Some(s.clone()),
        other => Some(other.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn value_text_keeps_text_and_writes_other_values_as_json() {
        assert_eq!(value_text(&serde_json::json!("saas")), Some("saas".into()));
        assert_eq!(value_text(&serde_json::json!(12.5)), Some("12.5".into()));
        assert_eq!(value_text(&serde_json::json!(true)), Some("true".into()));
        assert_eq!(value_text(&serde_json::Value::Null), None);
    }

    #[test]
    fn a_field_error_becomes_a_cell_error_at_the_row() {
        let source = qualify_core::encoder::ValueError::NotFinite(f64::NAN);
        let error = RuntimeError::Input {
            field: Some("employees".into()),
            error: EncodeError::Field {
                field: "employees".into(),
                source: source.clone(),
            },
        };
        let RuntimeError::Input { field, error } = at_row(error, 7) else {
            panic!("still an input error");
        };
        assert_eq!(field.as_deref(), Some("employees"));
        assert_eq!(
            error.to_string(),
            "column \"employees\", row 7: expected a finite number, found NaN"
        );
    }
}
