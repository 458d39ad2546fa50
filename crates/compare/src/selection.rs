//! A set of leads handed to sales, and how good it is.

use serde::Serialize;

/// Leads worked, conversions among them, precision and recall.
///
/// `conversions` is a real number: a cut through leads tied on their score counts each tied
/// lead pro rata (the expected conversions over every order of the ties).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Selection {
    pub leads: f64,
    pub conversions: f64,
    /// `conversions / leads`; `None` for an empty selection.
    pub precision: Option<f64>,
    /// `conversions / all conversions`.
    pub recall: f64,
}

impl Selection {
    /// Figures for `leads` worked with `conversions` among them, out of `positives` in all.
    pub fn new(leads: f64, conversions: f64, positives: usize) -> Selection {
        Selection {
            leads,
            conversions,
            precision: (leads > 0.0).then(|| conversions / leads),
            recall: conversions / positives as f64,
        }
    }

    /// The selection of the leads for which `pick` holds.
    pub fn of(labels: &[bool], pick: impl Fn(usize) -> bool) -> Selection {
        let positives = labels.iter().filter(|&&y| y).count();
        let (mut leads, mut conversions) = (0usize, 0usize);
        for (i, &y) in labels.iter().enumerate() {
            if pick(i) {
                leads += 1;
                conversions += usize::from(y);
            }
        }
        Selection::new(leads as f64, conversions as f64, positives)
    }
}

/// `conversions / leads`, `None` when there are no leads.
pub fn rate(conversions: usize, leads: usize) -> Option<f64> {
    (leads > 0).then(|| conversions as f64 / leads as f64)
}
