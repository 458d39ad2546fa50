//! Reference distributions from training, for drift monitoring.
//!
//! Drift is measured against what the model was trained on, so the bundle carries it: the
//! distribution of the calibrated score and of every model input column over the training
//! part, as histograms that production values can be counted into with the same bins.
//!
//! - **Numbers** (numeric columns, timestamps as days before the scoring moment, the score):
//!   bin edges at the training values' deciles (the lower empirical quantile
//!   `sorted[ceil(k n / 10) - 1]`, `k = 1..9`, duplicates and the maximum dropped), so bin `i`
//!   holds `edges[i-1] < x <= edges[i]` and the outer bins are open-ended; missing values
//!   counted apart.
//! - **Levels** (categorical, boolean and set columns): a count per level the model knows
//!   (the encoder's levels; `false` / `true`), one `other` bucket for every level it does not
//!   (rare in training, or unseen), missing values counted apart. A set column counts each of
//!   a row's levels.
//!
//! The manifest field is optional: a bundle written before it existed reads with no
//! reference, and monitoring then says so instead of guessing.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::encoder::{Encoder, InputKind, InputValue};
use crate::value::RawTable;

/// Bins of a numeric reference histogram (deciles).
pub const REFERENCE_BINS: usize = 10;

/// The training part's distributions (module docs).
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Reference {
    /// Rows of the training part the histograms count.
    pub rows: usize,
    /// What the score histogram counts (e.g. calibrated out-of-fold scores).
    pub score_source: String,
    /// The calibrated score, 0–1.
    pub score: NumericHistogram,
    /// Every input column of the encoder, in its order.
    pub columns: Vec<ColumnReference>,
}

/// One input column's reference.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ColumnReference {
    pub name: String,
    pub histogram: Histogram,
}

/// A numeric or a level histogram.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Histogram {
    Numeric(NumericHistogram),
    Levels(LevelHistogram),
}

/// Counts of numbers between quantile edges (module docs).
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NumericHistogram {
    /// Strictly increasing, finite.
    pub edges: Vec<f64>,
    /// `edges.len() + 1` counts: bin `i` holds `edges[i-1] < x <= edges[i]`.
    pub counts: Vec<u64>,
    pub missing: u64,
}

/// Counts of levels (module docs).
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LevelHistogram {
    pub levels: Vec<String>,
    /// One count per level.
    pub counts: Vec<u64>,
    /// Levels the model does not know (rare in training, or unseen).
    pub other: u64,
    pub missing: u64,
}

/// A reference histogram that cannot be counted into.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ReferenceError {
    #[error("{what}: {counts} counts for {edges} edges (want edges + 1)")]
    NumericShape {
        what: String,
        edges: usize,
        counts: usize,
    },
    #[error("{what}: edges are not finite and strictly increasing")]
    Edges { what: String },
    #[error("{what}: {counts} counts for {levels} levels")]
    LevelShape {
        what: String,
        levels: usize,
        counts: usize,
    },
}

impl NumericHistogram {
    /// Decile edges of `values` (non-finite values are counted as missing) and their counts.
    pub fn fit(values: &[Option<f64>]) -> NumericHistogram {
        let mut sorted: Vec<f64> = values
            .iter()
            .flatten()
            .copied()
            .filter(|v| v.is_finite())
            .collect();
        sorted.sort_by(f64::total_cmp);
        let n = sorted.len();
        let mut edges: Vec<f64> = Vec::new();
        if let Some(&max) = sorted.last() {
            for k in 1..REFERENCE_BINS {
                let index = (k * n).div_ceil(REFERENCE_BINS).saturating_sub(1);
                let edge = sorted[index];
                if edge < max && edges.last().is_none_or(|&last| edge > last) {
                    edges.push(edge);
                }
            }
        }
        NumericHistogram::with_edges(edges).counted(values.iter().copied())
    }

    /// Empty counts over `edges`.
    pub fn with_edges(edges: Vec<f64>) -> NumericHistogram {
        let bins = edges.len() + 1;
        NumericHistogram {
            edges,
            counts: vec![0; bins],
            missing: 0,
        }
    }

    /// The bin of `x`: the number of edges below it.
    pub fn bin_of(&self, x: f64) -> usize {
        self.edges.partition_point(|&e| e < x)
    }

    /// The same edges, counting `values` (`None` and non-finite values as missing).
    pub fn counted(&self, values: impl IntoIterator<Item = Option<f64>>) -> NumericHistogram {
        let mut out = NumericHistogram::with_edges(self.edges.clone());
        for v in values {
            match v.filter(|v| v.is_finite()) {
                Some(x) => out.counts[self.bin_of(x)] += 1,
                None => out.missing += 1,
            }
        }
        out
    }

    fn check(&self, what: &str) -> Result<(), ReferenceError> {
        if self.counts.len() != self.edges.len() + 1 {
            return Err(ReferenceError::NumericShape {
                what: what.to_string(),
                edges: self.edges.len(),
                counts: self.counts.len(),
            });
        }
        let increasing = self.edges.windows(2).all(|w| w[0] < w[1]);
        if !increasing || self.edges.iter().any(|e| !e.is_finite()) {
            return Err(ReferenceError::Edges {
                what: what.to_string(),
            });
        }
        Ok(())
    }
}

impl LevelHistogram {
    /// Counts of `values` over `levels`.
    pub fn fit(levels: Vec<String>, values: &[InputValue]) -> LevelHistogram {
        LevelHistogram {
            counts: vec![0; levels.len()],
            levels,
            other: 0,
            missing: 0,
        }
        .counted(values)
    }

    /// The same levels, counting `values` (numbers and invalid cells are skipped).
    pub fn counted(&self, values: &[InputValue]) -> LevelHistogram {
        let mut out = LevelHistogram {
            levels: self.levels.clone(),
            counts: vec![0; self.levels.len()],
            other: 0,
            missing: 0,
        };
        for v in values {
            match v {
                InputValue::Missing => out.missing += 1,
                InputValue::Levels(items) => {
                    for item in items {
                        match self.levels.iter().position(|l| l == item) {
                            Some(i) => out.counts[i] += 1,
                            None => out.other += 1,
                        }
                    }
                }
                InputValue::Number(_) | InputValue::Invalid => {}
            }
        }
        out
    }

    fn check(&self, what: &str) -> Result<(), ReferenceError> {
        if self.counts.len() != self.levels.len() {
            return Err(ReferenceError::LevelShape {
                what: what.to_string(),
                levels: self.levels.len(),
                counts: self.counts.len(),
            });
        }
        Ok(())
    }
}

impl Histogram {
    /// The same bins, counting `values` (invalid cells skipped).
    pub fn counted(&self, values: &[InputValue]) -> Histogram {
        match self {
            Histogram::Numeric(h) => {
                Histogram::Numeric(h.counted(values.iter().filter_map(|v| match v {
                    InputValue::Number(x) => Some(Some(*x)),
                    InputValue::Missing => Some(None),
                    InputValue::Levels(_) | InputValue::Invalid => None,
                })))
            }
            Histogram::Levels(h) => Histogram::Levels(h.counted(values)),
        }
    }
}

impl Reference {
    /// The reference of `rows` of `table` (the training part, read by `encoder` with its
    /// reference time) and of their calibrated `scores`.
    pub fn compute(
        encoder: &Encoder,
        table: &RawTable,
        rows: &[usize],
        scores: &[f64],
        score_source: impl Into<String>,
    ) -> Reference {
        let as_of: DateTime<Utc> = encoder.reference_time();
        let values = encoder.input_values(table, rows, &|_| as_of);
        let columns = encoder
            .columns
            .iter()
            .zip(values)
            .map(|(col, values)| {
                let histogram = match col.state.input_kind() {
                    InputKind::Number => Histogram::Numeric(NumericHistogram::fit(
                        &values
                            .iter()
                            .map(|v| match v {
                                InputValue::Number(x) => Some(*x),
                                _ => None,
                            })
                            .collect::<Vec<_>>(),
                    )),
                    InputKind::Levels => {
                        Histogram::Levels(LevelHistogram::fit(col.state.known_levels(), &values))
                    }
                };
                ColumnReference {
                    name: col.name.clone(),
                    histogram,
                }
            })
            .collect();
        let scores: Vec<Option<f64>> = scores.iter().map(|&p| Some(p)).collect();
        Reference {
            rows: rows.len(),
            score_source: score_source.into(),
            score: NumericHistogram::fit(&scores),
            columns,
        }
    }

    /// Checks every histogram's shape (a hand-edited manifest must not make monitoring
    /// index out of bounds).
    pub fn validate(&self) -> Result<(), ReferenceError> {
        self.score.check("score")?;
        for c in &self.columns {
            match &c.histogram {
                Histogram::Numeric(h) => h.check(&c.name)?,
                Histogram::Levels(h) => h.check(&c.name)?,
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decile_edges_and_bins_by_hand() {
        // 1..=20: lower deciles are 2, 4, ..., 18; 20 (the maximum) is no edge.
        let values: Vec<Option<f64>> = (1..=20).map(|v| Some(f64::from(v))).chain([None]).collect();
        let h = NumericHistogram::fit(&values);
        assert_eq!(
            h.edges,
            vec![2.0, 4.0, 6.0, 8.0, 10.0, 12.0, 14.0, 16.0, 18.0]
        );
        assert_eq!(h.counts, vec![2; 10]);
        assert_eq!(h.missing, 1);
        // x == edge falls in the lower bin; beyond the outer edges, the outer bins.
        assert_eq!(h.bin_of(2.0), 0);
        assert_eq!(h.bin_of(2.5), 1);
        assert_eq!(h.bin_of(-100.0), 0);
        assert_eq!(h.bin_of(1e9), 9);
        h.check("x").expect("valid");
    }

    #[test]
    fn ties_collapse_edges() {
        let values: Vec<Option<f64>> = [0.0; 90]
            .iter()
            .chain(&[5.0; 10])
            .map(|&v| Some(v))
            .collect();
        let h = NumericHistogram::fit(&values);
        assert_eq!(h.edges, vec![0.0]);
        assert_eq!(h.counts, vec![90, 10]);
        let constant = NumericHistogram::fit(&[Some(3.0), Some(3.0)]);
        assert!(constant.edges.is_empty());
        assert_eq!(constant.counts, vec![2]);
    }

    #[test]
    fn levels_count_known_other_and_missing() {
        let values = vec![
            InputValue::Levels(vec!["a".into()]),
            InputValue::Levels(vec!["b".into(), "zz".into()]),
            InputValue::Missing,
            InputValue::Invalid,
        ];
        let h = LevelHistogram::fit(vec!["a".into(), "b".into()], &values);
        assert_eq!(h.counts, vec![1, 1]);
        assert_eq!((h.other, h.missing), (1, 1));
    }

    #[test]
    fn bad_shapes_are_refused() {
        let mut r = Reference {
            rows: 0,
            score_source: String::new(),
            score: NumericHistogram::with_edges(vec![0.5]),
            columns: vec![],
        };
        r.validate().expect("valid");
        r.score.counts.pop();
        assert!(matches!(
            r.validate(),
            Err(ReferenceError::NumericShape { .. })
        ));
        r.score = NumericHistogram::with_edges(vec![0.5, 0.5]);
        assert!(matches!(r.validate(), Err(ReferenceError::Edges { .. })));
    }
}
