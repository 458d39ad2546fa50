//! Bar charts whose category labels stay readable at any number of categories.
//!
//! Why not plotters' own tick labels: they are placed at "nice" values of the axis, as many as
//! asked, whatever their width, so a dozen score-bin names (`(0.0123, 0.0456]`) or 86 input
//! column names print on top of each other into one unreadable band. Here the category labels
//! are drawn one by one at their bar's centre, sized by an estimate of the rendered text width
//! (the SVG backend cannot measure text; [`text_width`] errs on the wide side):
//!
//! - [`columns`] (vertical bars, a fixed-size plot): a label lies flat when every label fits
//!   its bar's slot, else it stands vertical; when even vertical labels would touch, only every
//!   k-th is drawn (the first always), so neighbours keep at least [`GAP`] pixels apart.
//! - [`rows`] (horizontal bars, one row per category): every category has its own labelled
//!   row, in the order given, and the plot grows taller with the count instead of squeezing
//!   the labels; PSI's usual thresholds are marked.

use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::plots::{GREY, SIZE, fail, svg};
use crate::error::MonitorError;

/// Pixels between two neighbouring labels, at least.
pub(super) const GAP: f64 = 4.0;
/// plotters' text size for category labels; the SVG's font size is this / 1.24 (its backend).
const LABEL_SIZE: f64 = 12.0;
/// The longest category label drawn, in characters (longer ones end in `…`; the tables have
/// the full names).
const MAX_CHARS: usize = 40;
const MARGIN: u32 = 12;
const Y_AREA: u32 = 52;
/// Height of one row of [`rows`].
pub(super) const ROW: u32 = 17;

/// The font size, in pixels, that the SVG backend writes for plotters' `size`.
pub(super) fn font_px(size: f64) -> f64 {
    size / 1.24
}

/// A generous estimate of `text`'s rendered width at `px` (sans-serif averages ~0.55 em a
/// character; digits and lower case up to 0.63).
pub(super) fn text_width(text: &str, px: f64) -> f64 {
    text.chars().count() as f64 * px * 0.64
}

/// `text` cut to [`MAX_CHARS`] characters.
fn shorten(text: &str) -> String {
    if text.chars().count() <= MAX_CHARS {
        return text.to_string();
    }
    let mut cut: String = text.chars().take(MAX_CHARS - 1).collect();
    cut.push('…');
    cut
}

/// How [`columns`] lays out `n` labels of at most `longest` pixels in slots of `slot` pixels:
/// flat or vertical, every `step`-th label.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct Ticks {
    pub vertical: bool,
    pub step: usize,
}

impl Ticks {
    pub(super) fn new(longest: f64, slot: f64, px: f64) -> Ticks {
        if longest + GAP <= slot {
            return Ticks {
                vertical: false,
                step: 1,
            };
        }
        // A vertical label is one line thick.
        let step = ((px + GAP) / slot.max(1e-9)).ceil().max(1.0) as usize;
        Ticks {
            vertical: true,
            step,
        }
    }
}

/// Grouped vertical bars: one group per label, one bar per series, labels as [`Ticks`] says.
pub(super) fn columns(
    plot: &'static str,
    title: &str,
    y_desc: &str,
    labels: &[String],
    series: &[(&str, RGBColor, Vec<f64>)],
) -> Result<String, MonitorError> {
    let n = labels.len().max(1);
    let y_max = series
        .iter()
        .flat_map(|s| s.2.iter().copied())
        .fold(0.0f64, f64::max)
        .max(1e-9)
        * 1.1;
    let labels: Vec<String> = labels.iter().map(|l| shorten(l)).collect();
    let px = font_px(LABEL_SIZE);
    let longest = labels.iter().map(|l| text_width(l, px)).fold(0.0, f64::max);
    let slot = f64::from(SIZE.0 - 2 * MARGIN - Y_AREA) / n as f64;
    let ticks = Ticks::new(longest, slot, px);
    let area = if ticks.vertical {
        longest + 16.0
    } else {
        px + 16.0
    };
    svg(plot, SIZE, |root| {
        let mut chart = ChartBuilder::on(root)
            .margin(MARGIN)
            .caption(title, ("sans-serif", 17))
            .x_label_area_size(area.ceil() as u32)
            .y_label_area_size(Y_AREA)
            .build_cartesian_2d(0.0..n as f64, 0.0..y_max)
            .map_err(fail(plot))?;
        chart
            .configure_mesh()
            .y_desc(y_desc)
            .x_labels(0)
            .disable_x_mesh()
            .light_line_style(WHITE.mix(0.0))
            .draw()
            .map_err(fail(plot))?;
        let style = TextStyle::from(("sans-serif", LABEL_SIZE).into_font()).color(&BLACK);
        let style = if ticks.vertical {
            style
                .transform(FontTransform::Rotate270)
                .pos(Pos::new(HPos::Right, VPos::Center))
        } else {
            style.pos(Pos::new(HPos::Center, VPos::Top))
        };
        for (i, label) in labels.iter().enumerate().step_by(ticks.step) {
            let (x, y) = chart.backend_coord(&(i as f64 + 0.5, 0.0));
            root.draw(&Text::new(label.clone(), (x, y + 6), style.clone()))
                .map_err(fail(plot))?;
        }
        let width = 0.8 / series.len().max(1) as f64;
        for (k, (name, color, values)) in series.iter().enumerate() {
            let color = *color;
            chart
                .draw_series(values.iter().enumerate().map(|(i, &v)| {
                    let x0 = i as f64 + 0.1 + k as f64 * width;
                    Rectangle::new([(x0, 0.0), (x0 + width, v)], color.filled())
                }))
                .map_err(fail(plot))?
                .label(*name)
                .legend(move |(x, y)| {
                    Rectangle::new([(x, y - 5), (x + 12, y + 5)], color.filled())
                });
        }
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::UpperRight)
            .background_style(WHITE.mix(0.85))
            .border_style(GREY)
            .draw()
            .map_err(fail(plot))
    })
}

/// One row of [`rows`]: a name and its value (`None`: no value, said in the row).
pub(super) type Bar = (String, Option<f64>);

/// Horizontal bars, one labelled row per `bars` entry top to bottom, each with its value
/// written after the bar; vertical lines at `marks` (value, legend, colour). `width` pixels
/// wide, as tall as the rows need (at least [`SIZE`]'s height). The value axis is drawn at
/// the top and the bottom, without a description (plotters would write it over the top
/// axis's numbers): `title` says what the values are.
pub(super) fn rows(
    plot: &'static str,
    title: &str,
    width: u32,
    bars: &[Bar],
    marks: &[(f64, &str, RGBColor)],
    color: RGBColor,
) -> Result<String, MonitorError> {
    let n = bars.len();
    let labels: Vec<String> = bars.iter().map(|b| shorten(&b.0)).collect();
    let px = font_px(LABEL_SIZE);
    let longest = labels.iter().map(|l| text_width(l, px)).fold(0.0, f64::max);
    let label_area = (longest + 14.0).clamp(60.0, f64::from(width) / 2.0).ceil() as u32;
    let value_max = bars.iter().filter_map(|b| b.1).fold(0.0, f64::max);
    let mark_max = marks.iter().map(|m| m.0).fold(0.0, f64::max);
    // Room after the longest bar for its value.
    let x_max = (value_max * 1.2).max(mark_max * 1.2).max(1e-9);
    // Caption, the two axes' label areas and the margins take about 130 pixels.
    let height = (130 + ROW * n as u32).max(SIZE.1);
    svg(plot, (width, height), |root| {
        let mut chart = ChartBuilder::on(root)
            .margin(MARGIN)
            .caption(title, ("sans-serif", 17))
            .top_x_label_area_size(24)
            .x_label_area_size(40)
            .y_label_area_size(label_area)
            .build_cartesian_2d(0.0..x_max, 0.0..n.max(1) as f64)
            .map_err(fail(plot))?;
        chart
            .configure_mesh()
            .x_labels(8)
            .x_label_formatter(&|v| format!("{v:.2}"))
            .y_labels(0)
            .disable_y_mesh()
            .light_line_style(WHITE.mix(0.0))
            .draw()
            .map_err(fail(plot))?;
        // Row i (0 at the top) has its centre at n - i - 0.5.
        let centre = |i: usize| (n - i) as f64 - 0.5;
        chart
            .draw_series(bars.iter().enumerate().filter_map(|(i, b)| {
                let v = b.1?;
                let y = centre(i);
                Some(Rectangle::new(
                    [(0.0, y - 0.35), (v, y + 0.35)],
                    color.filled(),
                ))
            }))
            .map_err(fail(plot))?;
        for &(at, name, color) in marks {
            chart
                .draw_series(LineSeries::new(
                    [(at, 0.0), (at, n.max(1) as f64)],
                    color.mix(0.7).stroke_width(1),
                ))
                .map_err(fail(plot))?
                .label(name)
                .legend(move |(x, y)| {
                    PathElement::new(vec![(x, y), (x + 18, y)], color.stroke_width(2))
                });
        }
        let left = TextStyle::from(("sans-serif", LABEL_SIZE).into_font())
            .color(&BLACK)
            .pos(Pos::new(HPos::Right, VPos::Center));
        let value = TextStyle::from(("sans-serif", LABEL_SIZE - 1.0).into_font())
            .color(&RGBColor(80, 80, 80))
            .pos(Pos::new(HPos::Left, VPos::Center));
        for (i, (label, bar)) in labels.iter().zip(bars).enumerate() {
            let (x, y) = chart.backend_coord(&(0.0, centre(i)));
            root.draw(&Text::new(label.clone(), (x - 6, y), left.clone()))
                .map_err(fail(plot))?;
            let (end, text) = match bar.1 {
                Some(v) => (chart.backend_coord(&(v, centre(i))).0, format!("{v:.3}")),
                None => (x, "no value".to_string()),
            };
            root.draw(&Text::new(text, (end + 4, y), value.clone()))
                .map_err(fail(plot))?;
        }
        if !marks.is_empty() {
            chart
                .configure_series_labels()
                .position(SeriesLabelPosition::LowerRight)
                .background_style(WHITE.mix(0.85))
                .border_style(GREY)
                .draw()
                .map_err(fail(plot))?;
        }
        Ok(())
    })
}

#[cfg(test)]
#[path = "bars_tests.rs"]
mod tests;
