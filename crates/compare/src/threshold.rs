//! Suggested MQL thresholds on the rule score, from past deals.
//!
//! The field's advice is to set the MQL threshold from what past leads did. Two targets: a
//! **capacity** (the most leads sales can work: the lowest threshold that qualifies no more
//! than that) and a **precision** (the conversion rate sales should see among MQLs: the lowest
//! threshold, so the most leads, whose MQLs convert at least that often).
//!
//! Changing `stages.mql` does not change who is Disqualified or nurtured, so a suggestion
//! counts the leads the rules neither disqualify nor nurture whose score reaches the threshold.
//! That is an approximation of the new MQL-or-better set (PQL leads qualify whatever their
//! points; separate fit and engagement thresholds still apply), so the command also re-runs the
//! rules with the suggested threshold and reports the exact result as `applied`.

use qualify_rules::Stage;
use serde::Serialize;

use crate::leads::Leads;
use crate::selection::Selection;

/// One suggestion.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Suggestion {
    /// The capacity (leads) or precision aimed at.
    pub target: f64,
    /// Where the target came from.
    pub target_source: String,
    /// The suggested `stages.mql`; `None` when no threshold meets the target.
    pub threshold: Option<f64>,
    /// Leads neither disqualified nor nurtured with a score at or above the threshold.
    pub selection: Option<Selection>,
    /// The MQL-or-better set when the rules are re-run with `mql = threshold` (set by the
    /// caller, who has the rules).
    pub applied: Option<Selection>,
}

/// Both suggestions beside the current threshold.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Thresholds {
    pub current: f64,
    pub for_capacity: Suggestion,
    pub for_precision: Suggestion,
}

/// Cumulative (threshold, leads, conversions) over the leads neither disqualified nor
/// nurtured, one row per distinct score, highest first: "score >= threshold" selects `leads`.
fn steps(leads: &Leads) -> Vec<(f64, usize, usize)> {
    let mut eligible: Vec<(f64, bool)> = (0..leads.n())
        .filter(|&i| !matches!(leads.stage[i], Stage::Disqualified | Stage::Nurture))
        .map(|i| (leads.rule_score[i], leads.labels[i]))
        .collect();
    eligible.sort_unstable_by(|a, b| b.0.total_cmp(&a.0));
    let mut out: Vec<(f64, usize, usize)> = Vec::new();
    let (mut n, mut pos) = (0usize, 0usize);
    for (i, &(score, y)) in eligible.iter().enumerate() {
        n += 1;
        pos += usize::from(y);
        if eligible.get(i + 1).is_none_or(|next| next.0 != score) {
            out.push((score, n, pos));
        }
    }
    out
}

fn suggestion(
    leads: &Leads,
    target: f64,
    target_source: String,
    step: Option<(f64, usize, usize)>,
) -> Suggestion {
    let positives = leads.positives();
    Suggestion {
        target,
        target_source,
        threshold: step.map(|s| s.0),
        selection: step.map(|(_, n, pos)| Selection::new(n as f64, pos as f64, positives)),
        applied: None,
    }
}

/// Suggestions for a capacity of `capacity` leads and a precision of `precision`.
pub fn thresholds(
    leads: &Leads,
    current: f64,
    capacity: (usize, String),
    precision: (f64, String),
) -> Thresholds {
    let steps = steps(leads);
    let by_capacity = steps
        .iter()
        .take_while(|s| s.1 <= capacity.0)
        .last()
        .copied();
    let by_precision = steps
        .iter()
        .rev()
        .find(|s| s.2 as f64 / s.1 as f64 >= precision.0)
        .copied();
    Thresholds {
        current,
        for_capacity: suggestion(leads, capacity.0 as f64, capacity.1, by_capacity),
        for_precision: suggestion(leads, precision.0, precision.1, by_precision),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// | lead | score | stage        | label |
    /// |------|-------|--------------|-------|
    /// | 0    | 100   | Disqualified | 1     | (never eligible)
    /// | 1    | 90    | MQL          | 1     |
    /// | 2    | 80    | MQL          | 0     |
    /// | 3    | 80    | MQL          | 1     |
    /// | 4    | 60    | Lead         | 0     |
    /// | 5    | 60    | Nurture      | 1     | (never eligible)
    /// | 6    | 40    | Lead         | 0     |
    ///
    /// Steps over eligible leads: >=90: 1 lead, 1 conv; >=80: 3, 2; >=60: 4, 2; >=40: 5, 2.
    /// Capacity 3 -> 80 (3 leads); capacity 2 -> 90 (the tie at 80 would make 3).
    /// Precision 0.6 -> 80 (2/3); 0.5 -> 60 (2/4); 0.3 -> 40 (2/5); 1.0 -> 90.
    #[test]
    fn thresholds_by_hand() {
        let stage = vec![
            Stage::Disqualified,
            Stage::Mql,
            Stage::Mql,
            Stage::Mql,
            Stage::Lead,
            Stage::Nurture,
            Stage::Lead,
        ];
        let y = vec![true, true, false, true, false, true, false];
        let s = vec![100.0, 90.0, 80.0, 80.0, 60.0, 60.0, 40.0];
        let p = vec![0.5; 7];
        let leads = Leads::new(y, p, s, stage).expect("leads");
        let t = |k: usize, prec: f64| {
            let t = thresholds(&leads, 75.0, (k, "k".into()), (prec, "p".into()));
            (t.for_capacity.threshold, t.for_precision.threshold)
        };
        assert_eq!(t(3, 0.6), (Some(80.0), Some(80.0)));
        assert_eq!(t(2, 0.5), (Some(90.0), Some(60.0)));
        assert_eq!(t(100, 0.3), (Some(40.0), Some(40.0)));
        assert_eq!(t(0, 1.0), (None, Some(90.0)));
        assert_eq!(t(1, 1.01), (Some(90.0), None));
        let full = thresholds(&leads, 75.0, (3, "k".into()), (0.5, "p".into()));
        let sel = full.for_precision.selection.expect("selection");
        assert_eq!((sel.leads, sel.conversions, sel.precision), (4.0, 2.0, Some(0.5)));
        // Recall counts every conversion, the ineligible ones too: 2 of 4.
        assert_eq!(sel.recall, 0.5);
    }
}
