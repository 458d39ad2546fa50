//! How the rules' stages convert, and how they line up with the model's deciles.

use qualify_rules::Stage;
use serde::Serialize;

use crate::leads::Leads;
use crate::selection::rate;

/// One rule stage: its leads, their conversion rate and the model's mean propensity for them
/// (a calibrated model's mean propensity should be close to the observed rate).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StageRow {
    pub stage: &'static str,
    pub leads: usize,
    pub conversions: usize,
    pub conversion_rate: Option<f64>,
    pub mean_propensity: Option<f64>,
}

/// One propensity decile.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DecileRow {
    /// 1 = the top 10% by propensity.
    pub decile: u8,
    pub leads: usize,
    pub conversions: usize,
    pub conversion_rate: Option<f64>,
    pub min_propensity: Option<f64>,
    pub max_propensity: Option<f64>,
    /// Leads of the decile that the rules mark MQL or better.
    pub rules_qualified: usize,
}

/// One cell of the stage × decile matrix.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MatrixCell {
    pub stage: &'static str,
    pub decile: u8,
    pub leads: usize,
    pub conversions: usize,
    pub conversion_rate: Option<f64>,
}

/// Every stage of [`Stage::ALL`], in that order, empty ones included.
pub fn stage_rows(leads: &Leads) -> Vec<StageRow> {
    Stage::ALL
        .iter()
        .map(|&stage| {
            let (mut n, mut pos, mut sum_p) = (0usize, 0usize, 0.0f64);
            for i in (0..leads.n()).filter(|&i| leads.stage[i] == stage) {
                n += 1;
                pos += usize::from(leads.labels[i]);
                sum_p += leads.propensity[i];
            }
            StageRow {
                stage: stage.as_str(),
                leads: n,
                conversions: pos,
                conversion_rate: rate(pos, n),
                mean_propensity: (n > 0).then(|| sum_p / n as f64),
            }
        })
        .collect()
}

/// Deciles 1 to 10, empty ones included (ties can leave a decile empty).
pub fn decile_rows(leads: &Leads) -> Vec<DecileRow> {
    (1..=10u8)
        .map(|decile| {
            let rows: Vec<usize> = (0..leads.n())
                .filter(|&i| leads.decile[i] == decile)
                .collect();
            let pos = rows.iter().filter(|&&i| leads.labels[i]).count();
            let p = rows.iter().map(|&i| leads.propensity[i]);
            DecileRow {
                decile,
                leads: rows.len(),
                conversions: pos,
                conversion_rate: rate(pos, rows.len()),
                min_propensity: p.clone().reduce(f64::min),
                max_propensity: p.reduce(f64::max),
                rules_qualified: rows
                    .iter()
                    .filter(|&&i| crate::qualified(leads.stage[i]))
                    .count(),
            }
        })
        .collect()
}

/// Stages (rows, [`Stage::ALL`] order) × deciles 1..10, every cell included.
pub fn matrix(leads: &Leads) -> Vec<MatrixCell> {
    let mut counts = [[(0usize, 0usize); 10]; Stage::ALL.len()];
    for i in 0..leads.n() {
        let s = stage_index(leads.stage[i]);
        let cell = &mut counts[s][usize::from(leads.decile[i]) - 1];
        cell.0 += 1;
        cell.1 += usize::from(leads.labels[i]);
    }
    let mut out = Vec::with_capacity(Stage::ALL.len() * 10);
    for (s, &stage) in Stage::ALL.iter().enumerate() {
        for (d, &(n, pos)) in counts[s].iter().enumerate() {
            out.push(MatrixCell {
                stage: stage.as_str(),
                decile: d as u8 + 1,
                leads: n,
                conversions: pos,
                conversion_rate: rate(pos, n),
            });
        }
    }
    out
}

/// Position of a stage in [`Stage::ALL`].
pub fn stage_index(stage: Stage) -> usize {
    Stage::ALL.iter().position(|&s| s == stage).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stage_rates_and_matrix_by_hand() {
        // 10 leads, propensity 1.0 down to 0.1 (deciles 1..10).
        let p: Vec<f64> = (0..10).map(|i| 1.0 - f64::from(i) / 10.0).collect();
        let y = [
            true, true, false, true, false, false, true, false, false, false,
        ];
        let stage = [
            Stage::Mql,
            Stage::Disqualified,
            Stage::Mql,
            Stage::Lead,
            Stage::Lead,
            Stage::Nurture,
            Stage::Lead,
            Stage::Lead,
            Stage::Lead,
            Stage::Disqualified,
        ];
        let leads = Leads::new(y.to_vec(), p, vec![0.0; 10], stage.to_vec()).expect("leads");
        let rows = stage_rows(&leads);
        let lead = rows.iter().find(|r| r.stage == "Lead").expect("Lead");
        // Leads 3, 4, 6, 7, 8: converted 3 and 6 -> 2/5; mean propensity (.7+.6+.4+.3+.2)/5.
        assert_eq!((lead.leads, lead.conversions), (5, 2));
        assert_eq!(lead.conversion_rate, Some(0.4));
        assert!((lead.mean_propensity.expect("mean") - 0.44).abs() < 1e-12);
        let sql = rows.iter().find(|r| r.stage == "SQL").expect("SQL");
        assert_eq!((sql.leads, sql.conversion_rate), (0, None));
        let cells = matrix(&leads);
        assert_eq!(cells.len(), 60);
        let dq2 = cells
            .iter()
            .find(|c| c.stage == "Disqualified" && c.decile == 2)
            .expect("cell");
        assert_eq!((dq2.leads, dq2.conversions), (1, 1));
        let deciles = decile_rows(&leads);
        assert_eq!(deciles[0].rules_qualified, 1);
        assert_eq!(deciles[0].min_propensity, Some(1.0));
    }
}
