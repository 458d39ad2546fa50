//! `report.html`: one self-contained page — the figures of `comparison.json` as tables and
//! seven inline SVG plots. No script, no stylesheet or font from elsewhere: the page renders
//! from the file alone, in any browser, offline.

mod plots;
mod tables;

use std::fmt::Write;

use qualify_eval::Ranking;

use crate::comparison::Comparison;
use crate::error::CompareError;
use crate::leads::Leads;

/// Each plot's id (the `data-plot` attribute of its `<figure>`) and caption, in page order.
pub const PLOTS: &[(&str, &str)] = &[
    ("roc", "ROC curves of the propensity and of the rule score."),
    (
        "gains",
        "Cumulative gains: the share of conversions found when working leads best first.",
    ),
    (
        "lift",
        "Lift: conversion rate of the best leads over the base rate.",
    ),
    (
        "capacity",
        "Conversions captured against leads worked; the dot is the rules' MQL-or-better set.",
    ),
    (
        "reliability",
        "Reliability diagram: does a propensity of 30% convert 30% of the time?",
    ),
    (
        "distribution",
        "How the model scores the leads of each rule stage.",
    ),
    (
        "matrix",
        "Rule stage × propensity decile: conversion rate and leads per cell.",
    ),
];

/// Escapes text for HTML.
pub(crate) fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

const STYLE: &str = "body{font-family:sans-serif;max-width:1180px;margin:2em auto;padding:0 1em;color:#222}\
h1{font-size:1.6em}h2{font-size:1.2em;margin-top:1.6em;border-bottom:1px solid #ddd}\
table{border-collapse:collapse;margin:.6em 0}td,th{border:1px solid #ccc;padding:.25em .6em;text-align:right}\
th{background:#f3f3f3}td:first-child,th:first-child{text-align:left}\
.plots{display:flex;flex-wrap:wrap;gap:12px}figure{margin:0;width:560px}figcaption{font-size:.85em;color:#555}\
.lead{font-size:1.05em;background:#f5f8fc;padding:.6em 1em;border-left:4px solid #1f77b4}\
dl{display:grid;grid-template-columns:max-content auto;gap:.2em 1em}dt{font-weight:bold}";

/// The whole page.
pub fn html(c: &Comparison, leads: &Leads) -> Result<String, CompareError> {
    let model = Ranking::new(&leads.labels, &leads.propensity)?;
    let rules = Ranking::new(&leads.labels, &leads.rule_score)?;
    let svgs = [
        plots::roc(&model, &rules, c)?,
        plots::gains(&model, &rules, c)?,
        plots::lift(&model, &rules)?,
        plots::capacity(&model, &rules, c)?,
        plots::reliability(c)?,
        plots::distribution(leads)?,
        plots::matrix(c)?,
    ];
    let mut page = String::new();
    let _ = write!(
        page,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <title>qualify compare: model vs rules</title><style>{STYLE}</style></head><body>\n\
         <h1>Predictive vs rule-based scoring</h1>\n"
    );
    page.push_str(&tables::context(c));
    page.push_str(&tables::headline(c));
    page.push_str("<h2>Plots</h2>\n<div class=\"plots\">\n");
    for ((id, caption), svg) in PLOTS.iter().zip(&svgs) {
        let _ = writeln!(
            page,
            "<figure data-plot=\"{id}\">{svg}<figcaption>{}</figcaption></figure>",
            esc(caption)
        );
    }
    page.push_str("</div>\n");
    page.push_str(&tables::all(c));
    page.push_str("</body></html>\n");
    Ok(page)
}
