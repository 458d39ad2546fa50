//! The charts' labels read back from the SVG they are drawn into: one per category (or every
//! k-th), in order, and never overlapping.

use regex::Regex;

use super::super::plots::features_of;
use super::*;
use crate::drift::DriftFigure;

/// A `<text>` element of an SVG: position, font size, whether it stands vertical, content.
#[derive(Debug)]
struct Label {
    x: f64,
    y: f64,
    px: f64,
    anchor: String,
    vertical: bool,
    text: String,
}

fn attr(attrs: &str, name: &str) -> Option<String> {
    let re = Regex::new(&format!(r#" {name}="([^"]*)""#)).expect("regex");
    re.captures(attrs).map(|c| c[1].to_string())
}

fn number(attrs: &str, name: &str) -> f64 {
    attr(attrs, name)
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("{name} in {attrs}"))
}

fn labels(svg: &str) -> Vec<Label> {
    let re = Regex::new(r"(?s)<text([^>]*)>(.*?)</text>").expect("regex");
    re.captures_iter(svg)
        .map(|c| Label {
            x: number(&c[1], "x"),
            y: number(&c[1], "y"),
            px: number(&c[1], "font-size"),
            anchor: attr(&c[1], "text-anchor").unwrap_or_default(),
            vertical: attr(&c[1], "transform").is_some_and(|t| t.starts_with("rotate(270")),
            text: c[2]
                .trim()
                .replace("&lt;", "<")
                .replace("&gt;", ">")
                .replace("&amp;", "&"),
        })
        .collect()
}

fn svg_size(svg: &str) -> (f64, f64) {
    let head = &svg[..svg.find('>').expect("an <svg> tag")];
    (number(head, "width"), number(head, "height"))
}

fn figure(name: String, psi: Option<f64>) -> DriftFigure {
    DriftFigure {
        name,
        buckets: vec![],
        reference: vec![],
        observed: vec![],
        psi,
        invalid: 0,
    }
}

#[test]
fn every_input_column_has_its_own_row_and_rows_never_touch() {
    // 86 inputs like a history model's, PSI decreasing (as the report sorts them), the last
    // two without a PSI.
    let kinds = ["pricing_page_visit", "case_study_download", "employees"];
    let suffixes = ["days_since", "decayed", "count_30d"];
    let figures: Vec<DriftFigure> = (0..86)
        .map(|i| {
            let name = format!("{}_{}_{i}", kinds[i % 3], suffixes[i / 3 % 3]);
            let psi = (i < 84).then(|| 0.6 / (1.0 + i as f64));
            figure(name, psi)
        })
        .collect();
    let svg = features_of(&figures).expect("plot");
    let texts = labels(&svg);
    let (width, height) = svg_size(&svg);
    assert!(height >= 86.0 * f64::from(ROW), "{height} px for 86 rows");

    let rows: Vec<&Label> = figures
        .iter()
        .map(|f| {
            let same: Vec<&Label> = texts.iter().filter(|t| t.text == f.name).collect();
            assert_eq!(same.len(), 1, "{}: {} labels", f.name, same.len());
            same[0]
        })
        .collect();
    // Right-aligned at one x, left of the bars, inside the picture; top to bottom in order,
    // each at least a line of text below the one above.
    let bars_left = Regex::new(r##"<rect x="(-?[0-9]+)"[^>]*fill="#1F77B4""##)
        .expect("regex")
        .captures_iter(&svg)
        .map(|c| c[1].parse::<f64>().expect("x"))
        .fold(f64::INFINITY, f64::min);
    for row in &rows {
        assert_eq!(row.anchor, "end");
        assert!(!row.vertical);
        assert_eq!(row.x, rows[0].x);
        assert!(
            row.x < bars_left,
            "label at {} vs bars from {bars_left}",
            row.x
        );
        assert!(
            row.x - text_width(&row.text, row.px) >= 0.0,
            "{} is cut",
            row.text
        );
        assert!(row.y > 0.0 && row.y < height);
    }
    for pair in rows.windows(2) {
        let gap = pair[1].y - pair[0].y;
        assert!(
            gap >= pair[0].px + 2.0,
            "{} and {}: {gap} px apart",
            pair[0].text,
            pair[1].text
        );
    }
    // Each row says its value; the two without one say so.
    for f in &figures[..84] {
        let value = format!("{:.3}", f.psi.expect("psi"));
        assert!(texts.iter().any(|t| t.text == value), "{value}");
    }
    assert_eq!(texts.iter().filter(|t| t.text == "no value").count(), 2);
    assert_eq!(width, f64::from(super::super::plots::WIDE));
}

#[test]
fn no_inputs_draw_an_empty_chart_that_says_so() {
    let svg = features_of(&[]).expect("plot");
    let texts = labels(&svg);
    assert!(texts.iter().any(|t| t.text.starts_with("Input drift: no")));
    assert_eq!(svg_size(&svg).1, f64::from(SIZE.1));
}

/// Score bins as the report names them: `<= 0.0123`, `(0.0123, 0.0456]`, …, `missing`.
fn bins(n: usize) -> Vec<String> {
    let edge = |k: usize| format!("{:.4}", 0.0123 + k as f64 * 0.0311);
    let mut out = vec![format!("<= {}", edge(0))];
    out.extend((1..n - 2).map(|k| format!("({}, {}]", edge(k - 1), edge(k))));
    out.push(format!("> {}", edge(n - 3)));
    out.push("missing".into());
    out
}

/// The category labels of a [`columns`] chart (the texts equal to one of `names`), left to
/// right, with their positions in `names`.
fn drawn<'a>(texts: &'a [Label], names: &[String]) -> Vec<(usize, &'a Label)> {
    let mut out: Vec<(usize, &Label)> = texts
        .iter()
        .filter_map(|t| Some((names.iter().position(|n| *n == t.text)?, t)))
        .collect();
    out.sort_by(|a, b| a.1.x.total_cmp(&b.1.x));
    out
}

fn two_series(n: usize) -> [(&'static str, RGBColor, Vec<f64>); 2] {
    let values: Vec<f64> = (0..n).map(|i| 1.0 / (1.0 + i as f64)).collect();
    [
        ("training", RGBColor(255, 127, 14), values.clone()),
        ("recent", RGBColor(31, 119, 180), values),
    ]
}

#[test]
fn score_bins_stand_vertical_every_one_drawn_and_apart() {
    let names = bins(12);
    let svg = columns("score", "Score", "share", &names, &two_series(12)).expect("plot");
    let texts = labels(&svg);
    let (_, height) = svg_size(&svg);
    let got = drawn(&texts, &names);
    assert_eq!(
        got.iter().map(|g| g.0).collect::<Vec<_>>(),
        (0..12).collect::<Vec<_>>()
    );
    for (_, label) in &got {
        assert!(label.vertical, "{} lies flat", label.text);
        // Hanging down from the axis, inside the picture.
        assert!(label.y + text_width(&label.text, label.px) <= height);
    }
    for pair in got.windows(2) {
        let gap = pair[1].1.x - pair[0].1.x;
        assert!(
            gap >= pair[0].1.px + GAP,
            "{gap} px between vertical labels"
        );
    }
}

#[test]
fn many_categories_keep_every_kth_label_and_the_rest_apart() {
    let names: Vec<String> = (0..150)
        .map(|i| format!("{}-{:02}", 2014 + i / 12, 1 + i % 12))
        .collect();
    let svg = columns("funnel", "Months", "leads", &names, &two_series(150)[..1]).expect("plot");
    let texts = labels(&svg);
    let got = drawn(&texts, &names);
    assert!(got.len() > 10 && got.len() < 150, "{} labels", got.len());
    assert_eq!(got[0].0, 0, "the first category is labelled");
    let step = got[1].0;
    for (k, (i, label)) in got.iter().enumerate() {
        assert_eq!(*i, k * step);
        assert!(label.vertical);
    }
    for pair in got.windows(2) {
        let gap = pair[1].1.x - pair[0].1.x;
        assert!(
            gap >= pair[0].1.px + GAP,
            "{gap} px between vertical labels"
        );
    }
}

#[test]
fn few_short_labels_lie_flat_side_by_side() {
    let names: Vec<String> = ["2026-04", "2026-05", "2026-06"].map(String::from).into();
    let svg = columns("funnel", "Months", "leads", &names, &two_series(3)[..1]).expect("plot");
    let texts = labels(&svg);
    let got = drawn(&texts, &names);
    assert_eq!(got.len(), 3);
    for pair in got.windows(2) {
        let (a, b) = (pair[0].1, pair[1].1);
        assert!(!a.vertical && a.anchor == "middle");
        let room = b.x - a.x - (text_width(&a.text, a.px) + text_width(&b.text, b.px)) / 2.0;
        assert!(room >= GAP, "{} and {}: {room} px apart", a.text, b.text);
    }
}
