//! Moments and labels: when a lead is scored in training, and what it is labelled.
//!
//! Why here and not in the trainer: `qualify train`, `qualify evaluate` and `qualify compare`
//! all label moments, and a back-test is only honest if they label them the same way.
//!
//! - A lead is **open** at `t` when it was created at or before `t` and has no outcome at or
//!   before `t`.
//! - **Training moments**: the lead's creation plus each offset, while it is open and before
//!   the end of the data; never at or after its outcome.
//! - **The label** at a moment `m`, with window `W` and the end of the data `E`: when the
//!   window is complete (`m + W <= E`), converted when the lead converted in `(m, m + W]`,
//!   else not converted. When the window reaches past the end of the data, the moment is
//!   **censored** and left out, whatever happened before the end: keeping the moments
//!   whose lead converted (or was disqualified) before the end, and dropping only those
//!   still open, would choose moments by their outcome. Near the end of the data that
//!   doubles the conversion rate of the kept moments (docs/history.md, "Censoring"). An
//!   outcome after `E` has not happened yet.

use serde::{Deserialize, Serialize};

/// How a lead closed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, strum::Display)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum OutcomeKind {
    Converted,
    Disqualified,
}

/// A lead's outcome: what, and when (milliseconds since the Unix epoch, UTC).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Outcome {
    pub at: i64,
    pub kind: OutcomeKind,
}

/// A moment's label.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, strum::Display)]
#[strum(serialize_all = "snake_case")]
pub enum Label {
    /// Converted within the window after the moment.
    Converted,
    /// Known not to convert within the window.
    NotConverted,
    /// The window reaches past the end of the data: left out.
    Censored,
    /// The lead was already closed at the moment: not a moment to score.
    Closed,
}

impl Label {
    /// The binary label, for the kept moments.
    pub fn converted(self) -> Option<bool> {
        match self {
            Label::Converted => Some(true),
            Label::NotConverted => Some(false),
            Label::Censored | Label::Closed => None,
        }
    }
}

/// The outcome as known at the end of the data.
fn known(outcome: Option<Outcome>, end: i64) -> Option<Outcome> {
    outcome.filter(|o| o.at <= end)
}

/// Whether a lead created at `created` is open at `t` (module docs).
pub fn is_open(created: i64, outcome: Option<Outcome>, t: i64) -> bool {
    created <= t && known(outcome, t).is_none()
}

/// The label at `moment` (module docs); `window` and `end` in milliseconds.
pub fn label_at(moment: i64, outcome: Option<Outcome>, window: i64, end: i64) -> Label {
    match known(outcome, end) {
        Some(o) if o.at <= moment => Label::Closed,
        _ if moment.saturating_add(window) > end => Label::Censored,
        Some(o) if o.kind == OutcomeKind::Converted && o.at - moment <= window => Label::Converted,
        _ => Label::NotConverted,
    }
}

/// The training moments of a lead (module docs): `created + offset` for each offset (in
/// milliseconds, ascending) while the lead is open and before `end`.
pub fn training_moments(
    created: i64,
    outcome: Option<Outcome>,
    offsets: &[i64],
    end: i64,
) -> impl Iterator<Item = i64> + '_ {
    let close = known(outcome, end).map_or(end, |o| o.at.min(end));
    offsets
        .iter()
        .map(move |&o| created.saturating_add(o))
        .take_while(move |&m| m < close)
}

#[cfg(test)]
mod tests {
    use super::*;

    const W: i64 = 90;

    fn won(at: i64) -> Option<Outcome> {
        Some(Outcome {
            at,
            kind: OutcomeKind::Converted,
        })
    }

    fn lost(at: i64) -> Option<Outcome> {
        Some(Outcome {
            at,
            kind: OutcomeKind::Disqualified,
        })
    }

    #[test]
    fn labels_follow_the_documented_rules() {
        let end = 1000;
        assert_eq!(label_at(100, won(150), W, end), Label::Converted);
        assert_eq!(label_at(100, won(190), W, end), Label::Converted, "edge");
        assert_eq!(label_at(100, won(191), W, end), Label::NotConverted);
        assert_eq!(label_at(100, lost(120), W, end), Label::NotConverted);
        assert_eq!(label_at(100, None, W, end), Label::NotConverted);
        assert_eq!(label_at(950, None, W, end), Label::Censored);
        // An incomplete window is censored whatever happened before the end: keeping these
        // would choose moments by their outcome.
        assert_eq!(label_at(950, lost(960), W, end), Label::Censored);
        assert_eq!(label_at(950, won(980), W, end), Label::Censored);
        assert_eq!(
            label_at(910, won(1000), W, end),
            Label::Converted,
            "complete window"
        );
        // An outcome after the end has not happened yet.
        assert_eq!(label_at(950, won(1010), W, end), Label::Censored);
        assert_eq!(label_at(100, won(1010), W, end), Label::NotConverted);
        assert_eq!(label_at(150, won(150), W, end), Label::Closed);
        assert_eq!(Label::Censored.converted(), None);
    }

    #[test]
    fn moments_stop_at_the_outcome_and_the_end() {
        let offsets = [0, 7, 14, 30, 60];
        let all: Vec<i64> = training_moments(100, None, &offsets, 1000).collect();
        assert_eq!(all, vec![100, 107, 114, 130, 160]);
        let closed: Vec<i64> = training_moments(100, won(114), &offsets, 1000).collect();
        assert_eq!(closed, vec![100, 107]);
        let at_creation: Vec<i64> = training_moments(100, lost(100), &offsets, 1000).collect();
        assert!(at_creation.is_empty());
        let late: Vec<i64> = training_moments(100, None, &offsets, 131).collect();
        assert_eq!(late, vec![100, 107, 114, 130]);
        let after_end: Vec<i64> = training_moments(100, won(2000), &offsets, 120).collect();
        assert_eq!(after_end, vec![100, 107, 114]);
        assert!(is_open(100, won(150), 149));
        assert!(!is_open(100, won(150), 150));
        assert!(!is_open(100, None, 99));
    }

    proptest::proptest! {
        /// Censoring never looks at what happened: whether a moment is kept depends on the
        /// moment, the window and the end of the data (and whether the lead is still open),
        /// never on whether the lead went on to convert. Keeping the incomplete windows that
        /// ended in a conversion would raise the kept moments' conversion rate.
        #[test]
        fn kept_moments_do_not_depend_on_the_outcome(
            created in 0i64..500,
            outcome_at in 0i64..1500,
            offsets in proptest::collection::btree_set(0i64..400, 1..6),
            window in 1i64..300,
            end in 0i64..1200,
        ) {
            let offsets: Vec<i64> = offsets.into_iter().collect();
            let kept = |outcome: Option<Outcome>| -> Vec<i64> {
                training_moments(created, outcome, &offsets, end)
                    .filter(|&m| label_at(m, outcome, window, end).converted().is_some())
                    .collect()
            };
            let as_won = kept(won(outcome_at));
            proptest::prop_assert_eq!(&as_won, &kept(lost(outcome_at)));
            for &m in &as_won {
                proptest::prop_assert!(m + window <= end, "an incomplete window was kept");
            }
            // A lead still open keeps the same moments as long as its outcome is after the end.
            if outcome_at > end {
                proptest::prop_assert_eq!(&as_won, &kept(None));
            }
        }
    }
}
