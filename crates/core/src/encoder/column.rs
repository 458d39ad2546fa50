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
//!
//! Numbers (numeric, timestamp and raw numeric columns) also remember their training range.
//! A value far outside it, beyond the range widened by its own width on each side
//! ([`TrainingRange::band`]), is clamped to the edge of that band and reported as
//! [`Warning::OutOfRange`]: a model extrapolates linearly (or not at all, for trees) from
//! what it saw, so `employees = 10^18` must not become a confident 1.0. Values inside the
//! band are encoded as they are. Bundles written before ranges were recorded have none and
//! encode as before.

use std::borrow::Cow;
use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::Warning;
use super::parse::{self, IsMissing, ValueError};
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
        /// Range of the numbers it was fitted on (absent for booleans and old bundles).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        range: Option<TrainingRange>,
    },
}

/// The smallest and largest value a numeric feature took in training (for a timestamp:
/// days before the reference time).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct TrainingRange {
    pub min: f64,
    pub max: f64,
}

impl TrainingRange {
    /// The range of `values` (sorted ascending); `None` when there are none.
    fn of_sorted(values: &[f64]) -> Option<TrainingRange> {
        Some(TrainingRange {
            min: *values.first()?,
            max: *values.last()?,
        })
    }

    /// The values encoded as they are: the range widened by its width on each side (a
    /// constant column by its value's magnitude, at least 1). Outside it a value is "far
    /// outside the training range".
    pub fn band(&self) -> (f64, f64) {
        let width = self.max - self.min;
        let margin = if width > 0.0 {
            width
        } else {
            self.min.abs().max(1.0)
        };
        (self.min - margin, self.max + margin)
    }

    /// `value` clamped into [`TrainingRange::band`], with the note when it had to be.
    fn admit(&self, value: f64) -> (f64, Option<CellNote<'static>>) {
        let (low, high) = self.band();
        if (low..=high).contains(&value) {
            return (value, None);
        }
        let note = CellNote::OutOfRange {
            value,
            min: self.min,
            max: self.max,
        };
        (value.clamp(low, high), Some(note))
    }
}

/// Median imputation and standardisation of a number.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Scaling {
    pub median: f64,
    pub mean: f64,
    /// Standard deviation; 1 when the column is constant.
    pub std: f64,
    /// The training range (absent in bundles written before it was recorded).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub range: Option<TrainingRange>,
}

impl Scaling {
    /// Fits on the observed (non-missing) values; all-missing columns get median 0, std 1.
    /// The statistics of values near `f64::MAX` overflow: see [`Scaling::is_finite`].
    pub fn fit(values: &mut [f64]) -> Scaling {
        if values.is_empty() {
            return Scaling {
                median: 0.0,
                mean: 0.0,
                std: 1.0,
                range: None,
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
        Scaling {
            median,
            mean,
            std,
            range: TrainingRange::of_sorted(values),
        }
    }

    /// Whether the statistics are finite (values near `f64::MAX` overflow the mean or the
    /// variance; such a scaling cannot be used or written to a manifest).
    pub fn is_finite(&self) -> bool {
        self.median.is_finite() && self.mean.is_finite() && self.std.is_finite()
    }

    /// The numeric arm of [`ColumnState::encode_cell`] for a block of numbers read
    /// straight from a numeric column, rather than a cell at a time: row `i` goes to
    /// `x[i * width + offset..]`. The first value that cannot be encoded fails, with its
    /// index.
    pub(super) fn write_numbers(
        &self,
        values: &[Option<f64>],
        x: &mut [f32],
        width: usize,
        offset: usize,
    ) -> Result<(), (usize, ValueError)> {
        let never_text = |_: &str| false;
        values.iter().enumerate().try_for_each(|(i, &value)| {
            let cell = value.map_or(Cell::Missing, Cell::Number);
            let value = parse::parse_number(cell, &never_text).map_err(|e| (i, e))?;
            let start = i * width + offset;
            self.write(value, &mut x[start..start + 2])
                .map(|_| ())
                .map_err(|e| (i, e))
        })
    }

    /// Writes the standardised value and the missing indicator; a value far outside the
    /// training range is clamped ([`TrainingRange::band`]) and reported. A value that still
    /// overflows `f32` once standardised (a bundle without a range) is an error, never an
    /// infinite feature (which would score 0 or 1, or NaN).
    fn write(
        &self,
        value: Option<f64>,
        out: &mut [f32],
    ) -> Result<Option<CellNote<'static>>, ValueError> {
        let (v, note) = match (value, &self.range) {
            (Some(v), Some(range)) => range.admit(v),
            (Some(v), None) => (v, None),
            (None, _) => (self.median, Some(CellNote::Imputed)),
        };
        let z = ((v - self.mean) / self.std) as f32;
        if !z.is_finite() {
            return Err(ValueError::BeyondScale {
                value: v,
                mean: self.mean,
                std: self.std,
            });
        }
        out[0] = z;
        out[1] = if value.is_none() { 1.0 } else { 0.0 };
        Ok(note)
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
    /// one-hot layouts). Returns a note for an unseen level, an imputed value or a value far
    /// outside the training range.
    pub fn encode_cell<'c>(
        &self,
        cell: Cell<'c>,
        is_missing: IsMissing<'_>,
        as_of: DateTime<Utc>,
        out: &mut [f32],
    ) -> Result<Option<CellNote<'c>>, ValueError> {
        match self {
            ColumnState::Numeric(scaling) => {
                let value = parse::parse_number(cell, is_missing)?;
                scaling.write(value, out)
            }
            ColumnState::Timestamp(scaling) => {
                let value = parse::parse_time(cell, is_missing)?.map(|t| days_before(t, as_of));
                scaling.write(value, out)
            }
            ColumnState::Raw {
                boolean,
                fill,
                range,
            } => {
                let value = if *boolean {
                    parse::parse_bool(cell, is_missing)?.map(|b| if b { 1.0 } else { 0.0 })
                } else {
                    parse::parse_number(cell, is_missing)?
                };
                let (v, note) = match (value, range) {
                    (Some(v), Some(range)) => range.admit(v),
                    (Some(v), None) => (v, None),
                    (None, _) => (*fill, Some(CellNote::Imputed)),
                };
                let x = v as f32;
                if !x.is_finite() {
                    return Err(ValueError::BeyondF32(v));
                }
                out[0] = x;
                Ok(note)
            }
            ColumnState::Boolean => {
                let value = parse::parse_bool(cell, is_missing)?;
                out[0] = if value == Some(true) { 1.0 } else { 0.0 };
                out[1] = if value.is_none() { 1.0 } else { 0.0 };
                Ok(value.is_none().then_some(CellNote::Imputed))
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
                            Ok(Some(CellNote::UnseenLevel(level)))
                        }
                    },
                }
            }
            ColumnState::Set { levels, separator } => {
                let mut note = None;
                let items = parse::for_each_set_item(cell, separator, is_missing, |item| {
                    match levels.iter().position(|l| *l == item) {
                        Some(i) => out[i] = 1.0,
                        None => {
                            out[levels.len()] = 1.0;
                            note = Some(CellNote::UnseenLevel(item));
                        }
                    }
                })?;
                if items == 0 {
                    out[levels.len() + 1] = 1.0;
                }
                Ok(note)
            }
        }
    }
}

/// What encoding one cell noticed, before it is named: [`CellNote::warning`] names the
/// column for the callers that report warnings (a record, the server's answer), and batch
/// scoring drops notes without building a `String` per cell.
#[derive(Debug, Clone, PartialEq)]
pub enum CellNote<'c> {
    /// A missing value, imputed or encoded as missing.
    Imputed,
    /// A level the model never saw (encoded as `__other__`), as the cell wrote it.
    UnseenLevel(Cow<'c, str>),
    /// A number outside [`TrainingRange::band`], clamped; `min` and `max` are the range.
    OutOfRange { value: f64, min: f64, max: f64 },
}

impl CellNote<'_> {
    /// The warning for `column`.
    pub fn warning(self, column: &str) -> Warning {
        let column = column.to_string();
        match self {
            CellNote::Imputed => Warning::Imputed { column },
            CellNote::UnseenLevel(value) => Warning::UnseenLevel {
                column,
                value: value.into_owned(),
            },
            CellNote::OutOfRange { value, min, max } => Warning::OutOfRange {
                column,
                value,
                min,
                max,
            },
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
        let w = s.write(None, &mut out).expect("the median is finite");
        assert_eq!(w, Some(CellNote::Imputed));
        assert!((f64::from(out[0]) - (2.5 - s.mean) / s.std).abs() < 1e-6);
        assert_eq!(out[1], 1.0);
        assert_eq!(Scaling::fit(&mut [4.0, 4.0]).std, 1.0);
        // Without a recorded range (an old bundle), an overflow is an error.
        let old = Scaling { range: None, ..s };
        let mut out = [0.0f32; 2];
        let err = old.write(Some(1e300), &mut out).expect_err("overflows f32");
        assert!(err.to_string().contains("training range"), "{err}");
        assert!(old.write(Some(1e6), &mut out).is_ok());
    }

    #[test]
    fn far_values_are_clamped_to_the_band_and_reported() {
        let s = Scaling::fit(&mut [1.0, 2.0, 3.0, 10.0]);
        assert_eq!(
            s.range,
            Some(TrainingRange {
                min: 1.0,
                max: 10.0
            })
        );
        assert_eq!(s.range.map(|r| r.band()), Some((-8.0, 19.0)));
        let mut inside = [0.0f32; 2];
        assert_eq!(s.write(Some(19.0), &mut inside), Ok(None));
        let mut far = [0.0f32; 2];
        let w = s
            .write(Some(1e300), &mut far)
            .expect("clamped, not an error");
        assert_eq!(far, inside);
        assert_eq!(
            w,
            Some(CellNote::OutOfRange {
                value: 1e300,
                min: 1.0,
                max: 10.0
            })
        );
        let mut low = [0.0f32; 2];
        s.write(Some(-1e18), &mut low).expect("clamped");
        let mut edge = [0.0f32; 2];
        s.write(Some(-8.0), &mut edge).expect("inside");
        assert_eq!(low, edge);
        let constant = TrainingRange { min: 0.0, max: 0.0 };
        assert_eq!(constant.band(), (-1.0, 1.0));
    }

    #[test]
    fn categorical_layout_other_and_missing() {
        let state = ColumnState::Categorical {
            levels: vec!["a".into(), "b".into()],
        };
        let now = Utc::now();
        let mut out = [0.0f32; 4];
        let w = state
            .encode_cell(Cell::Text("zzz"), &never, now, &mut out)
            .expect("ok");
        assert_eq!(out, [0.0, 0.0, 1.0, 0.0]);
        assert_eq!(w, Some(CellNote::UnseenLevel("zzz".into())));
        let mut out = [0.0f32; 4];
        state
            .encode_cell(Cell::Missing, &never, now, &mut out)
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
