//! The report's plots, drawn with plotters' SVG backend into strings.
//!
//! Every plot has the same size and palette (model blue, rules orange), and each function
//! returns one `<svg>` element to be inlined in the page, so the report stays one
//! self-contained file.

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use qualify_eval::Ranking;
use qualify_rules::Stage;

use crate::comparison::Comparison;
use crate::error::CompareError;
use crate::leads::Leads;
use crate::stages::stage_index;

const SIZE: (u32, u32) = (560, 400);
const MODEL: RGBColor = RGBColor(31, 119, 180);
const RULES: RGBColor = RGBColor(255, 127, 14);
const GREY: RGBColor = RGBColor(150, 150, 150);
const STAGE_COLORS: [RGBColor; 6] = [
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(127, 127, 127),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(23, 190, 207),
];
/// Curves are thinned to about this many points for drawing (figures use the exact curves).
const MAX_POINTS: usize = 400;

type Area<'a> = DrawingArea<SVGBackend<'a>, Shift>;
/// A named, coloured curve.
type Series = (String, RGBColor, Vec<(f64, f64)>);

fn fail<E: std::fmt::Debug>(plot: &'static str) -> impl Fn(E) -> CompareError {
    move |e| CompareError::Plot {
        plot,
        message: format!("{e:?}"),
    }
}

/// Draws into a fresh SVG string with `draw`.
fn svg(
    plot: &'static str,
    draw: impl FnOnce(&Area<'_>) -> Result<(), CompareError>,
) -> Result<String, CompareError> {
    let mut out = String::new();
    {
        let root = SVGBackend::with_string(&mut out, SIZE).into_drawing_area();
        root.fill(&WHITE).map_err(fail(plot))?;
        draw(&root)?;
        root.present().map_err(fail(plot))?;
    }
    Ok(out)
}

/// Keeps about `MAX_POINTS` points, always the first and the last.
fn thin(points: Vec<(f64, f64)>) -> Vec<(f64, f64)> {
    let step = points.len().div_ceil(MAX_POINTS).max(1);
    let last = points.len().saturating_sub(1);
    points
        .into_iter()
        .enumerate()
        .filter(|(i, _)| i % step == 0 || *i == last)
        .map(|(_, p)| p)
        .collect()
}

fn legend(color: RGBColor) -> impl Fn((i32, i32)) -> PathElement<(i32, i32)> {
    move |(x, y)| PathElement::new(vec![(x, y), (x + 18, y)], color.stroke_width(2))
}

/// Line plot of named series on `[0, x_max] x [0, y_max]`.
struct Lines<'s> {
    plot: &'static str,
    title: &'s str,
    x_desc: &'s str,
    y_desc: &'s str,
    x_max: f64,
    y_max: f64,
    /// Axes count leads (whole numbers), not shares.
    counts: bool,
}

impl Lines<'_> {
    fn draw(
        &self,
        series: Vec<Series>,
        marks: Vec<(String, (f64, f64))>,
    ) -> Result<String, CompareError> {
        let plot = self.plot;
        svg(plot, |root| {
            let mut chart = ChartBuilder::on(root)
                .margin(12)
                .caption(self.title, ("sans-serif", 17))
                .x_label_area_size(38)
                .y_label_area_size(52)
                .build_cartesian_2d(0.0..self.x_max, 0.0..self.y_max)
                .map_err(fail(plot))?;
            let whole = |v: &f64| format!("{v:.0}");
            let share = |v: &f64| {
                let text = format!("{v:.2}");
                match text.trim_end_matches('0').trim_end_matches('.') {
                    "" | "-" => "0".to_string(),
                    short => short.to_string(),
                }
            };
            let format: &dyn Fn(&f64) -> String = if self.counts { &whole } else { &share };
            chart
                .configure_mesh()
                .x_desc(self.x_desc)
                .y_desc(self.y_desc)
                .x_label_formatter(format)
                .y_label_formatter(format)
                .light_line_style(WHITE.mix(0.0))
                .draw()
                .map_err(fail(plot))?;
            for (name, color, points) in series {
                chart
                    .draw_series(LineSeries::new(thin(points), color.stroke_width(2)))
                    .map_err(fail(plot))?
                    .label(name)
                    .legend(legend(color));
            }
            for (name, at) in marks {
                chart
                    .draw_series(std::iter::once(Circle::new(at, 5, BLACK.filled())))
                    .map_err(fail(plot))?
                    .label(name)
                    .legend(|(x, y)| Circle::new((x + 9, y), 4, BLACK.filled()));
            }
            chart
                .configure_series_labels()
                .position(SeriesLabelPosition::LowerRight)
                .background_style(WHITE.mix(0.85))
                .border_style(GREY)
                .draw()
                .map_err(fail(plot))
        })
    }
}

fn diagonal(to: (f64, f64)) -> Series {
    ("random".into(), GREY, vec![(0.0, 0.0), to])
}

pub fn roc(model: &Ranking, rules: &Ranking, c: &Comparison) -> Result<String, CompareError> {
    Lines {
        plot: "roc",
        title: "ROC curves",
        x_desc: "false positive rate",
        y_desc: "true positive rate",
        x_max: 1.0,
        y_max: 1.0,
        counts: false,
    }
    .draw(
        vec![
            (
                format!("model (AUC {:.3})", c.propensity.roc_auc),
                MODEL,
                model.roc_curve()?,
            ),
            (
                format!("rule score (AUC {:.3})", c.rule_score.roc_auc),
                RULES,
                rules.roc_curve()?,
            ),
            diagonal((1.0, 1.0)),
        ],
        vec![],
    )
}

fn share(r: &Ranking) -> Vec<(f64, f64)> {
    let (n, p) = (r.n() as f64, r.positives() as f64);
    r.gains_curve()
        .into_iter()
        .map(|(x, y)| (x / n, y / p))
        .collect()
}

pub fn gains(model: &Ranking, rules: &Ranking, c: &Comparison) -> Result<String, CompareError> {
    let mql = (
        c.mql.leads / c.leads as f64,
        c.mql.conversions / c.conversions as f64,
    );
    Lines {
        plot: "gains",
        title: "Cumulative gains",
        x_desc: "share of leads worked (best first)",
        y_desc: "share of conversions captured",
        x_max: 1.0,
        y_max: 1.0,
        counts: false,
    }
    .draw(
        vec![
            ("model".into(), MODEL, share(model)),
            ("rule score".into(), RULES, share(rules)),
            diagonal((1.0, 1.0)),
        ],
        vec![("rules' MQL-or-better set".into(), mql)],
    )
}

pub fn lift(model: &Ranking, rules: &Ranking) -> Result<String, CompareError> {
    let curve = |r: &Ranking| -> Result<Vec<(f64, f64)>, CompareError> {
        (1..=100u32)
            .map(|pct| {
                let f = f64::from(pct) / 100.0;
                Ok((f, r.lift_at(f)?))
            })
            .collect()
    };
    let (m, r) = (curve(model)?, curve(rules)?);
    let top = m.iter().chain(&r).map(|p| p.1).fold(1.0, f64::max) * 1.1;
    Lines {
        plot: "lift",
        title: "Lift",
        x_desc: "share of leads worked (best first)",
        y_desc: "lift (conversion rate / base rate)",
        x_max: 1.0,
        y_max: top,
        counts: false,
    }
    .draw(
        vec![
            ("model".into(), MODEL, m),
            ("rule score".into(), RULES, r),
            ("random".into(), GREY, vec![(0.0, 1.0), (1.0, 1.0)]),
        ],
        vec![],
    )
}

pub fn capacity(model: &Ranking, rules: &Ranking, c: &Comparison) -> Result<String, CompareError> {
    let k = c.capacity.leads as f64;
    let y_max = c.conversions as f64 * 1.05;
    Lines {
        plot: "capacity",
        title: "Capacity: conversions captured against leads worked",
        x_desc: "leads worked",
        y_desc: "conversions captured",
        x_max: c.leads as f64,
        y_max,
        counts: true,
    }
    .draw(
        vec![
            ("model".into(), MODEL, model.gains_curve()),
            ("rule score".into(), RULES, rules.gains_curve()),
            (
                format!("capacity K = {}", c.capacity.leads),
                GREY,
                vec![(k, 0.0), (k, y_max)],
            ),
        ],
        vec![(
            "rules' MQL-or-better set".into(),
            (c.mql.leads, c.mql.conversions),
        )],
    )
}

pub fn reliability(c: &Comparison) -> Result<String, CompareError> {
    let points: Vec<(f64, f64)> = c
        .calibration
        .reliability
        .iter()
        .filter_map(|b| Some((b.mean_predicted?, b.observed_rate?)))
        .collect();
    let plot = "reliability";
    svg(plot, |root| {
        let mut chart = ChartBuilder::on(root)
            .margin(12)
            .caption(
                format!("Reliability (ECE {:.3})", c.calibration.ece),
                ("sans-serif", 17),
            )
            .x_label_area_size(38)
            .y_label_area_size(52)
            .build_cartesian_2d(0.0..1.0, 0.0..1.0)
            .map_err(fail(plot))?;
        chart
            .configure_mesh()
            .x_desc("mean predicted propensity (10 bins)")
            .y_desc("observed conversion rate")
            .light_line_style(WHITE.mix(0.0))
            .draw()
            .map_err(fail(plot))?;
        chart
            .draw_series(LineSeries::new(vec![(0.0, 0.0), (1.0, 1.0)], GREY))
            .map_err(fail(plot))?
            .label("perfect calibration")
            .legend(legend(GREY));
        chart
            .draw_series(LineSeries::new(points.clone(), MODEL.stroke_width(2)))
            .map_err(fail(plot))?
            .label("model")
            .legend(legend(MODEL));
        chart
            .draw_series(points.iter().map(|&p| Circle::new(p, 4, MODEL.filled())))
            .map_err(fail(plot))?;
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::UpperLeft)
            .background_style(WHITE.mix(0.85))
            .border_style(GREY)
            .draw()
            .map_err(fail(plot))
    })
}

/// Share of each stage's leads per propensity bin of width 0.05.
pub fn distribution(leads: &Leads) -> Result<String, CompareError> {
    const BINS: usize = 20;
    let mut counts = [[0usize; BINS]; 6];
    for i in 0..leads.n() {
        let b = qualify_eval::bin_index(leads.propensity[i], BINS);
        counts[stage_index(leads.stage[i])][b] += 1;
    }
    let series: Vec<Series> = Stage::ALL
        .iter()
        .enumerate()
        .filter_map(|(s, stage)| {
            let total: usize = counts[s].iter().sum();
            (total > 0).then(|| {
                let points = (0..BINS)
                    .map(|b| {
                        let center = (b as f64 + 0.5) / BINS as f64;
                        (center, counts[s][b] as f64 / total as f64)
                    })
                    .collect();
                (format!("{stage} ({total})"), STAGE_COLORS[s], points)
            })
        })
        .collect();
    let top = series
        .iter()
        .flat_map(|s| s.2.iter().map(|p| p.1))
        .fold(0.1, f64::max)
        * 1.1;
    Lines {
        plot: "distribution",
        title: "Propensity distribution per rule stage",
        x_desc: "propensity (bins of 0.05)",
        y_desc: "share of the stage's leads",
        x_max: 1.0,
        y_max: top,
        counts: false,
    }
    .draw(series, vec![])
}

/// Stage (rows) × propensity decile (columns), coloured by conversion rate.
pub fn matrix(c: &Comparison) -> Result<String, CompareError> {
    let plot = "matrix";
    let max_rate = c
        .stage_by_decile
        .iter()
        .filter_map(|m| m.conversion_rate)
        .fold(0.0, f64::max)
        .max(1e-9);
    svg(plot, |root| {
        let mut chart = ChartBuilder::on(root)
            .margin(12)
            .caption(
                "Conversion rate by rule stage and propensity decile",
                ("sans-serif", 17),
            )
            .x_label_area_size(38)
            .y_label_area_size(90)
            .build_cartesian_2d(-0.5..9.5, -0.5..5.5)
            .map_err(fail(plot))?;
        chart
            .configure_mesh()
            .disable_mesh()
            .x_labels(10)
            .y_labels(6)
            .x_label_formatter(&|x: &f64| format!("{}", x.round() as i64 + 1))
            .y_label_formatter(&|y: &f64| {
                let s = y.round().clamp(0.0, 5.0) as usize;
                Stage::ALL
                    .get(s)
                    .map_or_else(String::new, |st| st.to_string())
            })
            .x_desc("propensity decile (1 = top 10%)")
            .draw()
            .map_err(fail(plot))?;
        let centre = Pos::new(HPos::Center, VPos::Center);
        for cell in &c.stage_by_decile {
            let s = Stage::ALL
                .iter()
                .position(|st| st.as_str() == cell.stage)
                .unwrap_or(0) as f64;
            let d = f64::from(cell.decile) - 1.0;
            let t = cell.conversion_rate.map_or(0.0, |r| r / max_rate);
            let shade = |full: u8| (255.0 - t * (255.0 - f64::from(full))) as u8;
            let fill = if cell.leads == 0 {
                RGBColor(245, 245, 245)
            } else {
                RGBColor(shade(8), shade(81), shade(156))
            };
            chart
                .draw_series(std::iter::once(Rectangle::new(
                    [(d - 0.5, s - 0.5), (d + 0.5, s + 0.5)],
                    fill.filled(),
                )))
                .map_err(fail(plot))?;
            if let Some(rate) = cell.conversion_rate {
                let ink = if t > 0.55 { WHITE } else { BLACK };
                let style = ("sans-serif", 10).into_font().color(&ink).pos(centre);
                chart
                    .draw_series([
                        Text::new(
                            format!("{:.0}%", 100.0 * rate),
                            (d, s + 0.15),
                            style.clone(),
                        ),
                        Text::new(format!("n={}", cell.leads), (d, s - 0.2), style),
                    ])
                    .map_err(fail(plot))?;
            }
        }
        Ok(())
    })
}
