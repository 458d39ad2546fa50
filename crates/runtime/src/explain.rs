//! Explanations: how much each input column moved one lead's raw score, in log-odds.
//!
//! Contributions are additive: `base + Σ contributions = raw score` (the logit before
//! calibration). A logistic model contributes `weight × encoded value` per encoded feature
//! with the intercept as base; a tree ensemble contributes its exact path-dependent TreeSHAP
//! values ([`crate::forest::shap`]) with the cover-weighted mean score as base. Encoded
//! features are then summed back to the column they came from (`Encoder::column_spans`: a
//! categorical's one-hot levels and missing indicator become one reason), so a reason names
//! a field the caller sent, with the value it sent.
//!
//! Calibration is monotone but not additive, so contributions explain the raw score, not the
//! calibrated propensity; their order and sign carry over.

use std::ops::Range;

use serde::Serialize;

use crate::forest::shap::{ShapError, TreeShap};
use crate::native::Native;

/// Why a row cannot be attributed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ExplainError {
    /// The encoded row is not as wide as the model's input.
    #[error("the encoded row has {got} features, the model reads {expected}")]
    Width { expected: usize, got: usize },
    /// TreeSHAP refused the row.
    #[error("TreeSHAP: {error}")]
    Trees { error: ShapError },
}

/// One column's contribution to a lead's raw score.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Reason {
    /// The input column (schema name).
    pub column: String,
    /// The value the record holds for it (`null` when missing).
    #[cfg_attr(feature = "openapi", schema(value_type = Value))]
    pub value: serde_json::Value,
    /// Contribution to the raw score, in log-odds.
    pub contribution: f64,
}

/// Why a lead scores what it scores.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Explanation {
    /// The score of a lead with no information (logistic: the intercept; trees: the
    /// cover-weighted mean raw score), in log-odds.
    pub base: f64,
    /// The raw score explained: `base + Σ contributions` (in `f64`; scoring through tract
    /// in `f32` may differ in the 6th decimal).
    pub raw_score: f64,
    /// Every column's contribution, in the encoder's column order (`Encoder::column_spans`
    /// names them). Only the reasons kept below carry their column's value: reading and
    /// copying the value of each of a history model's hundred columns was a tenth of a
    /// served request's work, for an answer that shows a handful.
    pub contributions: Vec<f64>,
    /// Up to `top_k` columns with a positive contribution, largest first.
    pub top_positive: Vec<Reason>,
    /// Up to `top_k` columns with a negative contribution, most negative first.
    pub top_negative: Vec<Reason>,
}

/// What a model needs to attribute its score to encoded features.
#[derive(Debug, Clone)]
pub enum Explainer {
    Linear { weights: Vec<f64>, bias: f64 },
    Trees(TreeShap),
}

impl Explainer {
    /// The explainer of a recognised graph; `None` for a tree ensemble without covers.
    pub fn for_native(native: &Native) -> Option<Explainer> {
        match native {
            Native::Linear { weights, bias } => Some(Explainer::Linear {
                weights: weights.iter().map(|&w| f64::from(w)).collect(),
                bias: f64::from(*bias),
            }),
            // A recognised ensemble is valid (it was packed), so only missing covers fail.
            Native::Trees { ensemble, .. } => TreeShap::new(ensemble).ok().map(Explainer::Trees),
        }
    }

    /// Width of the rows it attributes.
    pub fn n_features(&self) -> usize {
        match self {
            Explainer::Linear { weights, .. } => weights.len(),
            Explainer::Trees(shap) => shap.n_features(),
        }
    }

    /// `(base, contribution per encoded feature)` for one encoded row.
    ///
    /// # Errors
    /// [`ExplainError::Width`] when `x` is not [`Explainer::n_features`] long.
    pub fn attribute(&self, x: &[f32]) -> Result<(f64, Vec<f64>), ExplainError> {
        let expected = self.n_features();
        if x.len() != expected {
            return Err(ExplainError::Width {
                expected,
                got: x.len(),
            });
        }
        Ok(match self {
            Explainer::Linear { weights, bias } => (
                *bias,
                weights
                    .iter()
                    .zip(x)
                    .map(|(&w, &v)| w * f64::from(v))
                    .collect(),
            ),
            Explainer::Trees(shap) => {
                let mut phi = vec![0.0; expected];
                shap.add_shap_values(x, &mut phi)
                    .map_err(|error| ExplainError::Trees { error })?;
                (shap.expected_value(), phi)
            }
        })
    }
}

/// Groups per-feature contributions by column (`spans` as `Encoder::column_spans` gives
/// them) into an [`Explanation`]; `value_of` gives a column's raw value.
pub fn explanation(
    spans: &[(&str, Range<usize>)],
    base: f64,
    per_feature: &[f64],
    value_of: impl Fn(&str) -> serde_json::Value,
    top_k: usize,
) -> Explanation {
    let contributions: Vec<f64> = spans
        .iter()
        .map(|(_, span)| {
            per_feature
                .get(span.clone())
                .unwrap_or_default()
                .iter()
                .sum()
        })
        .collect();
    let raw_score = base + contributions.iter().sum::<f64>();
    // Select the kept indices, rank only them, and make only their reasons: a history model
    // has a hundred columns and an answer shows a handful. Ties go to the earlier column.
    let top = |keep: fn(f64) -> bool, order: fn(f64, f64) -> std::cmp::Ordering| {
        let mut picked: Vec<usize> = (0..contributions.len())
            .filter(|&i| keep(contributions[i]))
            .collect();
        let rank =
            |a: &usize, b: &usize| order(contributions[*a], contributions[*b]).then(a.cmp(b));
        if top_k < picked.len() {
            picked.select_nth_unstable_by(top_k, rank);
            picked.truncate(top_k);
        }
        picked.sort_unstable_by(rank);
        picked
            .into_iter()
            .map(|i| Reason {
                column: spans[i].0.to_owned(),
                value: value_of(spans[i].0),
                contribution: contributions[i],
            })
            .collect::<Vec<Reason>>()
    };
    let top_positive = top(|c| c > 0.0, |a, b| b.total_cmp(&a));
    let top_negative = top(|c| c < 0.0, |a, b| a.total_cmp(&b));
    Explanation {
        base,
        raw_score,
        contributions,
        top_positive,
        top_negative,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn groups_features_into_columns_and_ranks_reasons() {
        let spans = [("a", 0..2), ("b", 2..5), ("c", 5..6), ("d", 6..7)];
        let phi = [0.5, -0.25, 0.0, 0.0, 1.0, -2.0, 0.0];
        let e = explanation(&spans, -1.0, &phi, |c| serde_json::json!(c), 1);
        assert_eq!(e.contributions, [0.25, 1.0, -2.0, 0.0]);
        assert_eq!(e.raw_score, -1.75);
        assert_eq!(e.top_positive.len(), 1);
        assert_eq!(e.top_positive[0].column, "b");
        assert_eq!(e.top_positive[0].value, serde_json::json!("b"));
        assert_eq!(e.top_negative[0].column, "c");
        let all = explanation(&spans, 0.0, &phi, |_| serde_json::Value::Null, 10);
        let pos: Vec<&str> = all.top_positive.iter().map(|r| r.column.as_str()).collect();
        assert_eq!(pos, ["b", "a"]);
        assert_eq!(all.top_negative.len(), 1);
    }

    #[test]
    fn selecting_the_top_equals_ranking_every_column() {
        // Contributions with ties and zeros: a stable sort of all columns, truncated, is
        // the reference the selection must equal, in order.
        let phi: Vec<f64> = (0..40u64)
            .map(|i| ((i * 7919) % 11) as f64 / 4.0 - 1.25)
            .collect();
        let names: Vec<String> = (0..phi.len()).map(|i| format!("c{i}")).collect();
        let spans: Vec<(&str, Range<usize>)> = names
            .iter()
            .enumerate()
            .map(|(i, n)| (n.as_str(), i..i + 1))
            .collect();
        let reference = |positive: bool, k: usize| {
            let mut all: Vec<usize> = (0..phi.len())
                .filter(|&i| if positive { phi[i] > 0.0 } else { phi[i] < 0.0 })
                .collect();
            all.sort_by(|&a, &b| {
                if positive {
                    phi[b].total_cmp(&phi[a])
                } else {
                    phi[a].total_cmp(&phi[b])
                }
            });
            all.truncate(k);
            all.into_iter()
                .map(|i| names[i].clone())
                .collect::<Vec<_>>()
        };
        let columns =
            |reasons: &[Reason]| reasons.iter().map(|r| r.column.clone()).collect::<Vec<_>>();
        for k in 0..=phi.len() + 1 {
            let e = explanation(&spans, 0.0, &phi, |_| serde_json::Value::Null, k);
            assert_eq!(
                columns(&e.top_positive),
                reference(true, k),
                "top {k} positive"
            );
            assert_eq!(
                columns(&e.top_negative),
                reference(false, k),
                "top {k} negative"
            );
        }
    }
}
