//! The page's plots, drawn with plotters' SVG backend into strings, in qualify-compare's
//! report style (size, palette: model blue, reference / rules orange). Every plot draws even
//! without data (axes and a caption that says so), so the page always has all of them. Bar
//! charts with category labels (the score's bins, months, input columns) are drawn by
//! [`super::bars`], which keeps their labels apart at any count.

use plotters::coord::Shift;
use plotters::prelude::*;

use super::bars::{Bar, columns, rows};
use crate::MonitorReport;
use crate::calibration::CalibrationFigures;
use crate::drift::DriftFigure;
use crate::error::MonitorError;

/// A plot's size; the inputs' PSI is wider ([`WIDE`]) and as tall as its rows need.
pub(super) const SIZE: (u32, u32) = (560, 400);
/// Two plots and the gap between them (the page's `figure.wide`).
pub(super) const WIDE: u32 = 1132;
const MODEL: RGBColor = RGBColor(31, 119, 180);
const OTHER: RGBColor = RGBColor(255, 127, 14);
pub(super) const GREY: RGBColor = RGBColor(150, 150, 150);
const RED: RGBColor = RGBColor(214, 39, 40);
const PALETTE: [RGBColor; 6] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
];

pub(super) type Area<'a> = DrawingArea<SVGBackend<'a>, Shift>;

pub(super) fn fail<E: std::fmt::Debug>(plot: &'static str) -> impl Fn(E) -> MonitorError {
    move |e| MonitorError::Plot {
        plot,
        message: format!("{e:?}"),
    }
}

/// The SVG of one plot, `size` pixels, drawn by `draw` on a white background.
pub(super) fn svg(
    plot: &'static str,
    size: (u32, u32),
    draw: impl FnOnce(&Area<'_>) -> Result<(), MonitorError>,
) -> Result<String, MonitorError> {
    let mut out = String::new();
    {
        let root = SVGBackend::with_string(&mut out, size).into_drawing_area();
        root.fill(&WHITE).map_err(fail(plot))?;
        draw(&root)?;
        root.present().map_err(fail(plot))?;
    }
    Ok(out)
}

fn legend(color: RGBColor) -> impl Fn((i32, i32)) -> PathElement<(i32, i32)> {
    move |(x, y)| PathElement::new(vec![(x, y), (x + 18, y)], color.stroke_width(2))
}

/// A named, coloured line.
type Series = (String, RGBColor, Vec<(f64, f64)>);

/// Lines (with dots) over `x` in `[x0, x1]`, `y` in `[0, y_max]`.
#[allow(clippy::too_many_arguments)]
fn lines(
    plot: &'static str,
    title: &str,
    x_desc: &str,
    y_desc: &str,
    x: (f64, f64),
    y_max: f64,
    series: Vec<Series>,
    x_label: &dyn Fn(&f64) -> String,
) -> Result<String, MonitorError> {
    svg(plot, SIZE, |root| {
        let x1 = if x.1 > x.0 { x.1 } else { x.0 + 1.0 };
        let mut chart = ChartBuilder::on(root)
            .margin(12)
            .caption(title, ("sans-serif", 17))
            .x_label_area_size(38)
            .y_label_area_size(52)
            .build_cartesian_2d(x.0..x1, 0.0..y_max.max(1e-9))
            .map_err(fail(plot))?;
        chart
            .configure_mesh()
            .x_desc(x_desc)
            .y_desc(y_desc)
            .x_label_formatter(x_label)
            .x_labels(6)
            .light_line_style(WHITE.mix(0.0))
            .draw()
            .map_err(fail(plot))?;
        for (name, color, points) in series {
            chart
                .draw_series(LineSeries::new(points.clone(), color.stroke_width(2)))
                .map_err(fail(plot))?
                .label(name)
                .legend(legend(color));
            chart
                .draw_series(points.iter().map(|&p| Circle::new(p, 3, color.filled())))
                .map_err(fail(plot))?;
        }
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::UpperLeft)
            .background_style(WHITE.mix(0.85))
            .border_style(GREY)
            .draw()
            .map_err(fail(plot))
    })
}

fn points(c: &CalibrationFigures) -> Vec<(f64, f64)> {
    c.reliability
        .iter()
        .filter_map(|b| Some((b.mean_predicted?, b.observed_rate?)))
        .collect()
}

/// Reliability of every matured score, and of the holdout's.
pub fn reliability(r: &MonitorReport) -> Result<String, MonitorError> {
    let c = &r.calibration;
    let mut series: Vec<Series> = vec![(
        "perfect calibration".into(),
        GREY,
        vec![(0.0, 0.0), (1.0, 1.0)],
    )];
    if let Some(all) = &c.overall {
        series.push((format!("all (ECE {:.3})", all.ece), MODEL, points(all)));
    }
    if let Some(h) = &c.holdout {
        series.push((format!("holdout (ECE {:.3})", h.ece), OTHER, points(h)));
    }
    let title = if c.overall.is_some() {
        "Reliability of matured scores"
    } else {
        "Reliability: no matured scores yet"
    };
    lines(
        "reliability",
        title,
        "mean logged propensity (bin)",
        "observed conversion rate",
        (0.0, 1.0),
        1.0,
        series,
        &|v| format!("{v:.1}"),
    )
}

fn day_number(d: chrono::NaiveDate) -> f64 {
    f64::from(d.num_days_from_ce())
}

fn date_label(v: &f64) -> String {
    chrono::NaiveDate::from_num_days_from_ce_opt(*v as i32)
        .map(|d| d.format("%Y-%m-%d").to_string())
        .unwrap_or_default()
}

use chrono::Datelike;

/// Expected vs observed conversions per weekly cohort.
pub fn cohorts(r: &MonitorReport) -> Result<String, MonitorError> {
    let c = &r.calibration.cohorts;
    let x = |w: chrono::NaiveDate| day_number(w);
    let expected: Vec<(f64, f64)> = c.iter().map(|k| (x(k.week), k.figures.expected)).collect();
    let observed: Vec<(f64, f64)> = c
        .iter()
        .map(|k| (x(k.week), k.figures.observed as f64))
        .collect();
    let y_max = expected
        .iter()
        .chain(&observed)
        .map(|p| p.1)
        .fold(1.0, f64::max)
        * 1.1;
    let span = (
        expected.first().map_or(0.0, |p| p.0),
        expected.last().map_or(1.0, |p| p.0),
    );
    lines(
        "cohorts",
        "Expected vs observed conversions per weekly cohort",
        "cohort week (scoring moment)",
        "conversions",
        span,
        y_max,
        vec![
            ("expected (sum of propensities)".into(), MODEL, expected),
            ("observed".into(), OTHER, observed),
        ],
        &date_label,
    )
}

/// The score's distribution: reference vs production shares per reference bin.
pub fn score(r: &MonitorReport) -> Result<String, MonitorError> {
    let (labels, reference, observed, title) = match &r.drift.score {
        Some(s) => (
            s.buckets.clone(),
            shares(&s.reference),
            shares(&s.observed),
            format!(
                "Score vs training (PSI {})",
                s.psi.map_or("-".into(), |p| format!("{p:.3}"))
            ),
        ),
        None => (
            Vec::new(),
            Vec::new(),
            Vec::new(),
            "Score vs training: no reference or no recent scores".into(),
        ),
    };
    columns(
        "score",
        &title,
        "share of leads",
        &labels,
        &[("training", OTHER, reference), ("recent", MODEL, observed)],
    )
}

fn shares(counts: &[u64]) -> Vec<f64> {
    let total = counts.iter().sum::<u64>().max(1) as f64;
    counts.iter().map(|&c| c as f64 / total).collect()
}

/// PSI of every input column, highest first (as the report sorts them), one labelled row
/// each; the usual thresholds 0.1 (moderate) and 0.25 (major) marked.
pub fn features(r: &MonitorReport) -> Result<String, MonitorError> {
    features_of(&r.drift.features)
}

pub(super) fn features_of(figures: &[DriftFigure]) -> Result<String, MonitorError> {
    let bars: Vec<Bar> = figures.iter().map(|f| (f.name.clone(), f.psi)).collect();
    let title = if bars.is_empty() {
        "Input drift: no stored leads or no reference".to_string()
    } else {
        format!(
            "PSI against training of each of the {} model inputs, highest first",
            bars.len()
        )
    };
    rows(
        "features",
        &title,
        WIDE,
        &bars,
        &[(0.1, "0.1 moderate", GREY), (0.25, "0.25 major", RED)],
        MODEL,
    )
}

/// The score's PSI per weekly cohort.
pub fn weekly_psi(r: &MonitorReport) -> Result<String, MonitorError> {
    let pts: Vec<(f64, f64)> = r
        .drift
        .weekly_score
        .iter()
        .filter_map(|w| Some((day_number(w.week), w.psi?)))
        .collect();
    let y_max = pts.iter().map(|p| p.1).fold(0.3, f64::max) * 1.1;
    let span = (
        pts.first().map_or(0.0, |p| p.0),
        pts.last().map_or(1.0, |p| p.0),
    );
    let (x0, x1) = span;
    lines(
        "weekly_psi",
        "Score PSI per weekly cohort (0.1 and 0.25 marked)",
        "week",
        "PSI",
        span,
        y_max,
        vec![
            ("score PSI".into(), MODEL, pts),
            ("0.1".into(), GREY, vec![(x0, 0.1), (x1.max(x0 + 1.0), 0.1)]),
            (
                "0.25".into(),
                RED,
                vec![(x0, 0.25), (x1.max(x0 + 1.0), 0.25)],
            ),
        ],
        &date_label,
    )
}

/// Newly qualified leads per month.
pub fn funnel(r: &MonitorReport) -> Result<String, MonitorError> {
    let labels: Vec<String> = r.funnel.monthly.iter().map(|m| m.month.clone()).collect();
    let values: Vec<f64> = r
        .funnel
        .monthly
        .iter()
        .map(|m| m.qualified as f64)
        .collect();
    columns(
        "funnel",
        "Newly qualified (MQL or better) leads per month",
        "leads",
        &labels,
        &[("qualified", MODEL, values)],
    )
}

/// Weekly disqualifications of the five most frequent reasons.
pub fn reasons(r: &MonitorReport) -> Result<String, MonitorError> {
    let top: Vec<_> = r.reasons.reasons.iter().take(5).collect();
    let series: Vec<Series> = top
        .iter()
        .zip(PALETTE.iter().cycle())
        .map(|(row, &color)| {
            (
                row.reason.clone(),
                color,
                row.weekly
                    .iter()
                    .map(|(&w, &n)| (day_number(w), n as f64))
                    .collect(),
            )
        })
        .collect();
    let all_x: Vec<f64> = series
        .iter()
        .flat_map(|s| s.2.iter().map(|p| p.0))
        .collect();
    let span = (
        all_x.iter().copied().fold(f64::INFINITY, f64::min),
        all_x.iter().copied().fold(f64::NEG_INFINITY, f64::max),
    );
    let span = if span.0.is_finite() { span } else { (0.0, 1.0) };
    let y_max = series
        .iter()
        .flat_map(|s| s.2.iter().map(|p| p.1))
        .fold(1.0, f64::max)
        * 1.1;
    lines(
        "reasons",
        "Disqualifications per week, by reason",
        "week",
        "disqualified leads",
        span,
        y_max,
        series,
        &date_label,
    )
}
