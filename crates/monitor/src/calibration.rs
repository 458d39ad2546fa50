//! Calibration of logged scores against matured outcomes: overall, per weekly cohort, and for
//! the exploration holdout apart.
//!
//! The figures are qualify-eval's (ECE from its reliability table, equal-width bins, Brier),
//! computed on the labelled rows of [`crate::sample`]; expected conversions are the sum of
//! the logged propensities, observed the conversions that happened within the window.

use chrono::NaiveDate;
use qualify_eval::{ReliabilityBin, brier, ece, reliability_table};
use serde::{Deserialize, Serialize};

use crate::error::MonitorError;
use crate::sample::Row;

/// One reliability bin (qualify-eval's), with its expected and observed conversions.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReliabilityRow {
    pub lower: f64,
    pub upper: f64,
    pub count: usize,
    pub mean_predicted: Option<f64>,
    pub observed_rate: Option<f64>,
    /// Sum of the bin's propensities.
    pub expected: f64,
    /// Conversions in the bin.
    pub observed: usize,
}

impl ReliabilityRow {
    fn of(bin: &ReliabilityBin) -> ReliabilityRow {
        let n = bin.count as f64;
        ReliabilityRow {
            lower: bin.lower,
            upper: bin.upper,
            count: bin.count,
            mean_predicted: bin.mean_predicted,
            observed_rate: bin.observed_rate,
            expected: bin.mean_predicted.map_or(0.0, |m| m * n),
            observed: bin.observed_rate.map_or(0, |r| (r * n).round() as usize),
        }
    }
}

/// Calibration of one set of labelled scores.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CalibrationFigures {
    pub rows: usize,
    /// Sum of the propensities.
    pub expected: f64,
    /// Conversions within the window.
    pub observed: usize,
    pub ece: f64,
    pub brier: f64,
    pub reliability: Vec<ReliabilityRow>,
}

impl CalibrationFigures {
    /// The figures of `y` and `p`; `None` without rows.
    pub fn compute(
        y: &[bool],
        p: &[f64],
        bins: usize,
    ) -> Result<Option<CalibrationFigures>, MonitorError> {
        if y.is_empty() {
            return Ok(None);
        }
        let metric = |what| move |source| MonitorError::Metric { what, source };
        let table = reliability_table(y, p, bins).map_err(metric("reliability table"))?;
        Ok(Some(CalibrationFigures {
            rows: y.len(),
            expected: p.iter().sum(),
            observed: y.iter().filter(|&&c| c).count(),
            ece: ece(y, p, bins).map_err(metric("ECE"))?,
            brier: brier(y, p).map_err(metric("Brier score"))?,
            reliability: table.iter().map(ReliabilityRow::of).collect(),
        }))
    }
}

/// One weekly cohort.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Cohort {
    /// The Monday of the cohort's week (scoring moments).
    pub week: NaiveDate,
    #[serde(flatten)]
    pub figures: CalibrationFigures,
}

/// Calibration overall, per cohort, and of the holdout and the routed leads apart.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Calibration {
    /// Every labelled row; `None` when no score has matured.
    pub overall: Option<CalibrationFigures>,
    pub cohorts: Vec<Cohort>,
    /// The rows of leads in the exploration holdout (routing ignored their score).
    pub holdout: Option<CalibrationFigures>,
    /// The other rows.
    pub routed: Option<CalibrationFigures>,
}

/// The figures of `rows`, with each row's propensity and holdout flag from `entry`.
pub(crate) fn calibration(
    rows: &[Row],
    entry: &dyn Fn(usize) -> (f64, bool),
    bins: usize,
) -> Result<Calibration, MonitorError> {
    let figures = |pick: &dyn Fn(&Row) -> bool| {
        let (y, p): (Vec<bool>, Vec<f64>) = rows
            .iter()
            .filter(|r| pick(r))
            .map(|r| (r.converted, entry(r.entry).0))
            .unzip();
        CalibrationFigures::compute(&y, &p, bins)
    };
    let mut cohorts = Vec::new();
    let mut weeks: Vec<NaiveDate> = rows.iter().map(|r| r.week).collect();
    weeks.dedup();
    for week in weeks {
        if let Some(figures) = figures(&|r| r.week == week)? {
            cohorts.push(Cohort { week, figures });
        }
    }
    Ok(Calibration {
        overall: figures(&|_| true)?,
        cohorts,
        holdout: figures(&|r| entry(r.entry).1)?,
        routed: figures(&|r| !entry(r.entry).1)?,
    })
}
