//! The scored leads a comparison is computed from, checked once.
//!
//! Everything downstream (figures, plots) assumes equal lengths, both classes, probabilities
//! in `[0, 1]` and finite rule scores; checking here, with the offending row named, keeps a
//! bad input from surfacing later as a NaN in a report.

use qualify_rules::Stage;

use crate::error::CompareError;

/// "MQL or better": the stages a rules file hands to sales — `MQL`, `SQL` and `PQL`. (SQL
/// requires MQL; PQL is reached by product milestones whatever the points.)
pub fn qualified(stage: Stage) -> bool {
    matches!(stage, Stage::Mql | Stage::Sql | Stage::Pql)
}

/// Every lead scored both ways, in input order.
#[derive(Debug, Clone)]
pub struct Leads {
    /// Converted (`true`) or not.
    pub labels: Vec<bool>,
    /// Calibrated propensity from the model, in `[0, 1]`.
    pub propensity: Vec<f64>,
    /// The rule score (points).
    pub rule_score: Vec<f64>,
    /// The rule stage.
    pub stage: Vec<Stage>,
    /// Propensity decile, 1 (highest) to 10 ([`deciles`]).
    pub decile: Vec<u8>,
    /// Qualifies (MQL or better) whatever the MQL threshold: e.g. product milestones (PQL).
    pub qualifies_anyway: Vec<bool>,
    /// Qualifies once its rule score reaches the MQL threshold: not disqualified, not
    /// nurtured, and any separate fit and engagement thresholds met.
    pub qualifies_by_points: Vec<bool>,
}

impl Leads {
    /// Checks the columns and computes the deciles.
    pub fn new(
        labels: Vec<bool>,
        propensity: Vec<f64>,
        rule_score: Vec<f64>,
        stage: Vec<Stage>,
    ) -> Result<Leads, CompareError> {
        let n = labels.len();
        if n == 0 {
            return Err(CompareError::NoLeads);
        }
        for (name, len) in [
            ("propensities", propensity.len()),
            ("rule scores", rule_score.len()),
            ("stages", stage.len()),
        ] {
            if len != n {
                return Err(CompareError::Length {
                    labels: n,
                    len,
                    what: name,
                });
            }
        }
        if let Some(i) = propensity
            .iter()
            .position(|p| !(p.is_finite() && (0.0..=1.0).contains(p)))
        {
            return Err(CompareError::Propensity {
                index: i,
                value: propensity[i],
            });
        }
        if let Some(i) = rule_score.iter().position(|s| !s.is_finite()) {
            return Err(CompareError::RuleScore {
                index: i,
                value: rule_score[i],
            });
        }
        let positives = labels.iter().filter(|&&y| y).count();
        if positives == 0 || positives == n {
            return Err(CompareError::OneClass {
                positives,
                leads: n,
            });
        }
        let decile = deciles(&propensity);
        Ok(Leads {
            labels,
            propensity,
            rule_score,
            qualifies_anyway: stage.iter().map(|&s| s == Stage::Pql).collect(),
            qualifies_by_points: stage
                .iter()
                .map(|&s| !matches!(s, Stage::Disqualified | Stage::Nurture))
                .collect(),
            stage,
            decile,
        })
    }

    /// Replaces the default threshold basis. The defaults read the stages: a `PQL` lead
    /// qualifies anyway, and every lead not `Disqualified` or `Nurture` qualifies by points.
    /// That misses an `SQL` lead that also has its product milestones, and separate fit or
    /// engagement thresholds; a caller holding the rules can say exactly (the binary does).
    pub fn with_threshold_basis(
        mut self,
        anyway: Vec<bool>,
        by_points: Vec<bool>,
    ) -> Result<Leads, CompareError> {
        if anyway.len() != self.n() || by_points.len() != self.n() {
            return Err(CompareError::ThresholdBasis {
                leads: self.n(),
                anyway: anyway.len(),
                by_points: by_points.len(),
            });
        }
        self.qualifies_anyway = anyway;
        self.qualifies_by_points = by_points;
        Ok(self)
    }

    /// Whether the lead would be MQL or better with the MQL threshold at `threshold`.
    pub fn qualifies_at(&self, i: usize, threshold: f64) -> bool {
        self.qualifies_anyway[i] || (self.qualifies_by_points[i] && self.rule_score[i] >= threshold)
    }

    /// Number of leads.
    pub fn n(&self) -> usize {
        self.labels.len()
    }

    /// Number of converted leads.
    pub fn positives(&self) -> usize {
        self.labels.iter().filter(|&&y| y).count()
    }
}

/// Propensity deciles, tie-aware: a lead's decile is `1 + floor(10 * above / n)`, where
/// `above` counts the leads with a strictly higher propensity. Decile 1 is the top 10% of the
/// ranking; tied leads always share a decile (so a decile can hold more or fewer than 10% of
/// the leads when ties straddle a boundary).
pub fn deciles(propensity: &[f64]) -> Vec<u8> {
    let n = propensity.len();
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_unstable_by(|&a, &b| propensity[b].total_cmp(&propensity[a]));
    let mut out = vec![0u8; n];
    let mut start = 0;
    while start < n {
        let value = propensity[order[start]];
        let mut end = start;
        while end < n && propensity[order[end]] == value {
            end += 1;
        }
        // start < n, so 10 * start / n < 10 and the decile is 1..=10.
        let decile = 1 + (10 * start / n) as u8;
        for &i in &order[start..end] {
            out[i] = decile;
        }
        start = end;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deciles_of_twenty_leads_with_a_tie_across_a_boundary() {
        // 20 leads: 0.95, 0.90, then 0.80 x3 (above = 2: decile 2), then 15 distinct values.
        let mut p = vec![0.95, 0.90, 0.80, 0.80, 0.80];
        p.extend((0..15).map(|i| 0.5 - f64::from(i) * 0.01));
        let d = deciles(&p);
        assert_eq!(&d[..5], &[1, 1, 2, 2, 2]);
        // Lead 5 has 5 above: 1 + 50/20 = 3; lead 19 has 19 above: 1 + 190/20 = 10.
        assert_eq!(d[5], 3);
        assert_eq!(d[19], 10);
        // Shuffled input gives the same decile per value.
        let mut q = p.clone();
        q.reverse();
        let mut e = deciles(&q);
        e.reverse();
        assert_eq!(d, e);
    }

    #[test]
    fn bad_inputs_name_the_row() {
        let err = Leads::new(
            vec![true, false],
            vec![0.2, 1.5],
            vec![1.0, 2.0],
            vec![Stage::Lead; 2],
        )
        .expect_err("bad propensity");
        assert!(err.to_string().contains("row 2"), "{err}");
        let err = Leads::new(
            vec![true, true],
            vec![0.2, 0.5],
            vec![1.0, 2.0],
            vec![Stage::Lead; 2],
        )
        .expect_err("one class");
        assert!(err.to_string().contains("both"), "{err}");
    }
}
