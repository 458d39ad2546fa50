//! One fitted column: its statistics, its output columns and how a cell becomes numbers.
//!
//! Layouts (one output column per entry, in this order):
//! - numeric and timestamp: `[standardised value, missing indicator]`; a missing value is
//!   imputed with the training median before standardising;
//! - boolean: `[value (0/1; missing reads 0), missing indicator]`;
//! - categorical: one column per kept level, then `__other__` (rare or unseen levels),
//!   then `__missing__`;
//! - set: one column per kept level (multi-hot), then `__other__` (1 when any item is rare or
//!   unseen), then `__missing__`;
//! - raw (the input of an imported model, `qualify import`): `[value as is]` (a boolean as
//!   0/1), a missing value filled with the median of the data it was fitted on.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::Warning;
use super::parse::{self, IsMissing};
use crate::value::Cell;

/// Suffix of a missing-indicator output column.
pub const MISSING_SUFFIX: &str = "__missing__";
/// Name of the pooled rare/unseen level.
pub const OTHER_LEVEL: &str = "__other__";

/// The fitted state of one feature column.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ColumnState {
    Numeric(Scaling),
    /// Days before the scoring time, then scaled like a number.
    Timestamp(Scaling),
    Boolean,
    Categorical {
        levels: Vec<String>,
    },
    Set {
        levels: Vec<String>,
        separator: String,
    },
    /// A number (or a boolean, as 0/1) passed through unscaled, for a model trained
    /// elsewhere on the raw values.
    Raw {
        /// Read the cell as a boolean rather than a number.
        boolean: bool,
        /// Value written for a missing cell.
        fill: f64,
    },
}

/// Median imputation and standardisation of a number.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Scaling {
    pub median: f64,
    pub mean: f64,
    /// Standard deviation; 1 when the column is constant.
    pub std: f64,
}

impl Scaling {
    /// Fits on the observed (non-missing) values; all-missing columns get median 0, std 1.
    pub fn fit(values: &mut [f64]) -> Scaling {
        if values.is_empty() {
            return Scaling {
                median: 0.0,
                mean: 0.0,
                std: 1.0,
            };
        }
        values.sort_by(f64::total_cmp);
        let n = values.len();
        let median = if n % 2 == 1 {
            values[n / 2]
        } else {
            (values[n / 2 - 1] + values[n / 2]) / 2.0
        };
        let mean = values.iter().sum::<f64>() / n as f64;
        let var = values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / n as f64;
        let std = if var.sqrt() > 1e-12 { var.sqrt() } else { 1.0 };
        Scaling { median, mean, std }
    }

    /// Writes the standardised value and the missing indicator. A value so far outside the
    /// training range that it overflows `f32` once standardised is an error, never an
    /// infinite feature (which would score 0 or 1, or NaN).
    fn write(&self, value: Option<f64>, out: &mut [f32]) -> Result<(), String> {
        let v = value.unwrap_or(self.median);
        let z = ((v - self.mean) / self.std) as f32;
        if !z.is_finite() {
            return Err(format!(
                "{v} is too far outside the training range (mean {:.6}, std {:.6}) to encode",
                self.mean, self.std
            ));
        }
        out[0] = z;
        out[1] = if value.is_none() { 1.0 } else { 0.0 };
        Ok(())
    }
}

/// Days from `time` to `as_of`; a `time` after `as_of` (a clock ahead of the scoring time)
/// counts as 0 days, "just now", rather than a negative age no training row ever had.
pub fn days_before(time: DateTime<Utc>, as_of: DateTime<Utc>) -> f64 {
    ((as_of - time).num_milliseconds() as f64 / 86_400_000.0).max(0.0)
}

impl ColumnState {
    /// Number of output columns.
    pub fn width(&self) -> usize {
        match self {
            ColumnState::Numeric(_) | ColumnState::Timestamp(_) | ColumnState::Boolean => 2,
            ColumnState::Categorical { levels } | ColumnState::Set { levels, .. } => {
                levels.len() + 2
            }
            ColumnState::Raw { .. } => 1,
        }
    }

    /// Names of the output columns, prefixed by the column name.
    pub fn output_names(&self, column: &str) -> Vec<String> {
        match self {
            ColumnState::Numeric(_) | ColumnState::Timestamp(_) | ColumnState::Boolean => {
                vec![column.to_string(), format!("{column}{MISSING_SUFFIX}")]
            }
            ColumnState::Categorical { levels } | ColumnState::Set { levels, .. } => levels
                .iter()
                .map(|l| format!("{column}={l}"))
                .chain([
                    format!("{column}={OTHER_LEVEL}"),
                    format!("{column}={MISSING_SUFFIX}"),
                ])
                .collect(),
            ColumnState::Raw { .. } => vec![column.to_string()],
        }
    }

    /// Writes one cell into `out` (exactly `width()` slots, zeroed by the caller for the
    /// one-hot layouts). Returns a warning for an unseen level or an imputed value.
    pub fn encode_cell(
        &self,
        column: &str,
        cell: Cell<'_>,
        is_missing: IsMissing<'_>,
        as_of: DateTime<Utc>,
        out: &mut [f32],
    ) -> Result<Option<Warning>, String> {
        let imputed = || {
            Some(Warning::Imputed {
                column: column.to_string(),
            })
        };
        match self {
            ColumnState::Numeric(scaling) => {
                let value = parse::parse_number(cell, is_missing)?;
                scaling.write(value, out)?;
                Ok(value.is_none().then(imputed).flatten())
            }
            ColumnState::Timestamp(scaling) => {
                let value = parse::parse_time(cell, is_missing)?.map(|t| days_before(t, as_of));
                scaling.write(value, out)?;
                Ok(value.is_none().then(imputed).flatten())
            }
            ColumnState::Raw { boolean, fill } => {
                let value = if *boolean {
                    parse::parse_bool(cell, is_missing)?.map(|b| if b { 1.0 } else { 0.0 })
                } else {
                    parse::parse_number(cell, is_missing)?
                };
                let x = value.unwrap_or(*fill) as f32;
                if !x.is_finite() {
                    return Err(format!(
                        "{} does not fit the model's 32-bit input",
                        value.unwrap_or(*fill)
                    ));
                }
                out[0] = x;
                Ok(value.is_none().then(imputed).flatten())
            }
            ColumnState::Boolean => {
                let value = parse::parse_bool(cell, is_missing)?;
                out[0] = if value == Some(true) { 1.0 } else { 0.0 };
                out[1] = if value.is_none() { 1.0 } else { 0.0 };
                Ok(value.is_none().then(imputed).flatten())
            }
            ColumnState::Categorical { levels } => {
                let missing_slot = levels.len() + 1;
                match parse::parse_level(cell, is_missing)? {
                    None => {
                        out[missing_slot] = 1.0;
                        Ok(None)
                    }
                    Some(level) => match levels.iter().position(|l| *l == level) {
                        Some(i) => {
                            out[i] = 1.0;
                            Ok(None)
                        }
                        None => {
                            out[levels.len()] = 1.0;
                            Ok(Some(Warning::UnseenLevel {
                                column: column.to_string(),
                                value: level,
                            }))
                        }
                    },
                }
            }
            ColumnState::Set { levels, separator } => {
                let missing_slot = levels.len() + 1;
                let Some(items) = parse::parse_set(cell, separator, is_missing)? else {
                    out[missing_slot] = 1.0;
                    return Ok(None);
                };
                let mut warning = None;
                for item in items {
                    match levels.iter().position(|l| *l == item) {
                        Some(i) => out[i] = 1.0,
                        None => {
                            out[levels.len()] = 1.0;
                            warning = Some(Warning::UnseenLevel {
                                column: column.to_string(),
                                value: item,
                            });
                        }
                    }
                }
                Ok(warning)
            }
        }
    }
}

/// Levels seen at least `min_count` times, most frequent first (ties by name), so the
/// layout is deterministic.
pub fn kept_levels(counts: BTreeMap<String, usize>, min_count: usize) -> Vec<String> {
    let mut levels: Vec<(String, usize)> = counts
        .into_iter()
        .filter(|(_, n)| *n >= min_count)
        .collect();
    levels.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    levels.into_iter().map(|(l, _)| l).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn never(_: &str) -> bool {
        false
    }

    #[test]
    fn scaling_imputes_median_and_standardises() {
        let s = Scaling::fit(&mut [1.0, 2.0, 3.0, 10.0]);
        assert_eq!(s.median, 2.5);
        let mut out = [0.0f32; 2];
        s.write(None, &mut out).expect("the median is finite");
        assert!((f64::from(out[0]) - (2.5 - s.mean) / s.std).abs() < 1e-6);
        assert_eq!(out[1], 1.0);
        assert_eq!(Scaling::fit(&mut [4.0, 4.0]).std, 1.0);
        let mut out = [0.0f32; 2];
        let err = s.write(Some(1e300), &mut out).expect_err("overflows f32");
        assert!(err.contains("training range"), "{err}");
        assert!(s.write(Some(1e6), &mut out).is_ok());
    }

    #[test]
    fn categorical_layout_other_and_missing() {
        let state = ColumnState::Categorical {
            levels: vec!["a".into(), "b".into()],
        };
        let now = Utc::now();
        let mut out = [0.0f32; 4];
        let w = state
            .encode_cell("c", Cell::Text("zzz"), &never, now, &mut out)
            .expect("ok");
        assert_eq!(out, [0.0, 0.0, 1.0, 0.0]);
        assert!(matches!(w, Some(Warning::UnseenLevel { .. })));
        let mut out = [0.0f32; 4];
        state
            .encode_cell("c", Cell::Missing, &never, now, &mut out)
            .expect("ok");
        assert_eq!(out, [0.0, 0.0, 0.0, 1.0]);
        assert_eq!(state.output_names("c")[2], "c=__other__");
    }

    #[test]
    fn kept_levels_are_ordered_by_frequency() {
        let counts = BTreeMap::from([
            ("x".to_string(), 5),
            ("y".to_string(), 9),
            ("z".to_string(), 1),
        ]);
        assert_eq!(
            kept_levels(counts, 2),
            vec!["y".to_string(), "x".to_string()]
        );
    }
}
