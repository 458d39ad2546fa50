//! Where the rules and the model disagree, and who was right.
//!
//! Three groups, each with its size and conversion rate: leads the rules disqualify or
//! nurture that the model ranks in its top decile; leads the rules leave below MQL (stage
//! `Lead`) that the model ranks in its top decile; and, the other way round, leads the rules
//! qualify (MQL or better) that the model ranks in its bottom half (deciles 6–10). A high
//! rate in the first two is conversions the rules miss; a low rate in the third is MQLs
//! that never convert.

use qualify_rules::Stage;
use serde::Serialize;

use crate::leads::{Leads, qualified};
use crate::selection::rate;

/// One kind of disagreement.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Disagreement {
    pub id: &'static str,
    pub description: &'static str,
    pub leads: usize,
    pub conversions: usize,
    pub conversion_rate: Option<f64>,
}

/// A disagreement's id, description, and which (stage, decile) it holds.
type Group = (
    &'static str,
    &'static str,
    &'static dyn Fn(Stage, u8) -> bool,
);

/// The three disagreements, in the order of the module docs.
pub fn disagreements(leads: &Leads) -> Vec<Disagreement> {
    let groups: [Group; 3] = [
        (
            "rules_reject_model_top_decile",
            "Disqualified or Nurture by the rules, top propensity decile",
            &|s, d| matches!(s, Stage::Disqualified | Stage::Nurture) && d == 1,
        ),
        (
            "rules_below_mql_model_top_decile",
            "Lead (below MQL) by the rules, top propensity decile",
            &|s, d| s == Stage::Lead && d == 1,
        ),
        (
            "rules_qualify_model_bottom_half",
            "MQL, SQL or PQL by the rules, bottom half by propensity (deciles 6-10)",
            &|s, d| qualified(s) && d >= 6,
        ),
    ];
    groups
        .into_iter()
        .map(|(id, description, pick)| {
            let (mut n, mut pos) = (0usize, 0usize);
            for i in (0..leads.n()).filter(|&i| pick(leads.stage[i], leads.decile[i])) {
                n += 1;
                pos += usize::from(leads.labels[i]);
            }
            Disagreement {
                id,
                description,
                leads: n,
                conversions: pos,
                conversion_rate: rate(pos, n),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn disagreements_by_hand() {
        // 20 leads, propensity descending: leads 0-1 are decile 1, leads 10-19 deciles 6-10.
        let p: Vec<f64> = (0..20).map(|i| 1.0 - f64::from(i) / 20.0).collect();
        let mut stage = vec![Stage::Lead; 20];
        let mut y = vec![false; 20];
        stage[0] = Stage::Disqualified; // top decile, rejected, converted
        y[0] = true;
        stage[1] = Stage::Lead; // top decile, below MQL, not converted
        for i in [10, 15, 19] {
            stage[i] = Stage::Mql; // bottom half, qualified
        }
        stage[12] = Stage::Pql;
        y[15] = true;
        stage[2] = Stage::Nurture; // decile 2: not counted
        let leads = Leads::new(y, p, vec![0.0; 20], stage).expect("leads");
        let d = disagreements(&leads);
        assert_eq!(
            (d[0].leads, d[0].conversions, d[0].conversion_rate),
            (1, 1, Some(1.0))
        );
        assert_eq!((d[1].leads, d[1].conversions), (1, 0));
        assert_eq!(
            (d[2].leads, d[2].conversions, d[2].conversion_rate),
            (4, 1, Some(0.25))
        );
    }
}
