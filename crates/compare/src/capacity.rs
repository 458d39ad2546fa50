//! Capacity: if sales can work K leads, how many conversions does each approach hand them?
//!
//! The model's K are its top K by propensity, the rule score's its top K by points (ties at
//! the cut pro rata, see [`qualify_eval::Ranking::captured`]). Beside them stands what the
//! rules actually hand over: their MQL-or-better set, whatever its size. The default K is the
//! size of that set, so the first question answered is "at the rules' own volume, what would
//! the model have found?".

use std::str::FromStr;

use qualify_eval::Ranking;
use serde::Serialize;

use crate::error::CompareError;
use crate::leads::{Leads, qualified};
use crate::selection::Selection;

/// `--capacity`: a number of leads (`500`) or a fraction of all leads (`0.1`, `1.0`).
/// A value written with a decimal point or below 1 is a fraction; a whole number is a count.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum CapacitySpec {
    Leads(usize),
    Fraction(f64),
}

impl FromStr for CapacitySpec {
    type Err = String;

    fn from_str(s: &str) -> Result<CapacitySpec, String> {
        let bad = || {
            format!(
                "capacity {s:?}: expected a number of leads (e.g. 500) or a fraction in (0, 1] (e.g. 0.1)"
            )
        };
        if let Ok(n) = s.parse::<usize>() {
            return if n == 0 {
                Err(bad())
            } else {
                Ok(CapacitySpec::Leads(n))
            };
        }
        match s.parse::<f64>() {
            Ok(f) if f > 0.0 && f <= 1.0 => Ok(CapacitySpec::Fraction(f)),
            _ => Err(bad()),
        }
    }
}

impl CapacitySpec {
    /// The number of leads for `n` leads in all: a fraction is rounded to the nearest lead
    /// (at least 1). A count larger than `n` is an error.
    pub fn leads(self, n: usize) -> Result<usize, CompareError> {
        match self {
            CapacitySpec::Leads(k) if k <= n => Ok(k),
            CapacitySpec::Leads(k) => Err(CompareError::CapacityAboveLeads {
                capacity: k,
                leads: n,
            }),
            CapacitySpec::Fraction(f) => Ok(((f * n as f64).round() as usize).clamp(1, n)),
        }
    }
}

/// Conversions captured by each approach at K leads worked.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Capacity {
    /// K, the leads sales can work.
    pub leads: usize,
    /// Where K came from.
    pub source: String,
    /// The model's top K by propensity.
    pub model: Selection,
    /// The top K by rule score.
    pub rule_score: Selection,
    /// The rules' MQL-or-better set (its own size, whatever K is).
    pub rules_qualified: Selection,
    /// Conversions captured against leads worked, at every percent of the leads.
    pub curve: Vec<CapacityPoint>,
}

/// One point of the capacity curve.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct CapacityPoint {
    /// `percent / 100 * n` leads worked (not rounded).
    pub percent: u8,
    pub leads: f64,
    pub model: f64,
    pub rule_score: f64,
}

/// The capacity analysis at `k` leads.
pub fn capacity(
    leads: &Leads,
    model: &Ranking,
    rules: &Ranking,
    k: usize,
    source: String,
) -> Capacity {
    let positives = leads.positives();
    let n = leads.n() as f64;
    let at = |r: &Ranking| Selection::new(k as f64, r.captured(k as f64), positives);
    Capacity {
        leads: k,
        source,
        model: at(model),
        rule_score: at(rules),
        rules_qualified: Selection::of(&leads.labels, |i| qualified(leads.stage[i])),
        curve: (0..=100u8)
            .map(|percent| {
                let worked = n * f64::from(percent) / 100.0;
                CapacityPoint {
                    percent,
                    leads: worked,
                    model: model.captured(worked),
                    rule_score: rules.captured(worked),
                }
            })
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use qualify_rules::Stage;

    use super::*;

    #[test]
    fn capacity_specs() {
        assert_eq!("500".parse(), Ok(CapacitySpec::Leads(500)));
        assert_eq!("0.1".parse(), Ok(CapacitySpec::Fraction(0.1)));
        assert_eq!("1.0".parse(), Ok(CapacitySpec::Fraction(1.0)));
        for bad in ["0", "1.5", "-3", "ten", "0.0"] {
            assert!(bad.parse::<CapacitySpec>().is_err(), "{bad}");
        }
        assert_eq!(CapacitySpec::Fraction(0.25).leads(10).expect("k"), 3);
        assert_eq!(CapacitySpec::Fraction(0.01).leads(10).expect("k"), 1);
        assert!(CapacitySpec::Leads(11).leads(10).is_err());
    }

    /// Six leads, worked by hand.
    ///
    /// | lead | label | propensity | rule score | stage |
    /// |------|-------|------------|------------|-------|
    /// | 0    | 1     | 0.9        | 10         | Lead  |
    /// | 1    | 1     | 0.8        | 80         | MQL   |
    /// | 2    | 0     | 0.7        | 80         | MQL   |
    /// | 3    | 0     | 0.6        | 90         | MQL   |
    /// | 4    | 1     | 0.5        | 0          | Lead  |
    /// | 5    | 0     | 0.1        | 5          | Lead  |
    ///
    /// Rules qualify {1, 2, 3}: 3 leads, 1 conversion. K defaults to 3. The model's top 3 are
    /// {0, 1, 2}: 2 conversions. The rule score's top 3: lead 3 (90), then leads 1 and 2
    /// tied at 80, both inside the cut: 1 conversion. At K = 2 the rule score takes lead 3
    /// and one of the two tied leads: 0 + 1/2 conversions.
    #[test]
    fn capacity_by_hand() {
        let y = vec![true, true, false, false, true, false];
        let p = vec![0.9, 0.8, 0.7, 0.6, 0.5, 0.1];
        let s = vec![10.0, 80.0, 80.0, 90.0, 0.0, 5.0];
        let stage = vec![
            Stage::Lead,
            Stage::Mql,
            Stage::Mql,
            Stage::Mql,
            Stage::Lead,
            Stage::Lead,
        ];
        let leads = Leads::new(y.clone(), p.clone(), s.clone(), stage).expect("leads");
        let model = Ranking::new(&y, &p).expect("model");
        let rules = Ranking::new(&y, &s).expect("rules");
        let c = capacity(&leads, &model, &rules, 3, "test".into());
        assert_eq!(c.rules_qualified, Selection::new(3.0, 1.0, 3));
        assert_eq!(c.model.conversions, 2.0);
        assert_eq!(c.model.precision, Some(2.0 / 3.0));
        assert_eq!(c.rule_score.conversions, 1.0);
        let c2 = capacity(&leads, &model, &rules, 2, "test".into());
        assert_eq!(c2.rule_score.conversions, 0.5);
        assert_eq!(c2.rule_score.recall, 0.5 / 3.0);
        // Curve: 50% = 3 leads; 100% = everything.
        assert_eq!(c.curve[50].model, 2.0);
        assert_eq!(c.curve[100].rule_score, 3.0);
        assert_eq!(c.curve.len(), 101);
    }
}
