//! `monitor.html`: one self-contained page — the report's figures as tables and inline SVG
//! plots ([`PLOTS`]). No script, no stylesheet or font from elsewhere: it renders from the
//! file alone, offline. The body lists its plots in `data-plots`, which the headless-browser
//! check reads.

mod bars;
mod plots;

use std::fmt::Write;

use crate::MonitorReport;
use crate::calibration::CalibrationFigures;
use crate::error::MonitorError;

/// Each plot's id (the `data-plot` attribute of its `<figure>`) and caption, in page order.
pub const PLOTS: &[(&str, &str)] = &[
    (
        "reliability",
        "Does a logged 30% convert 30% of the time? Matured scores, all and holdout.",
    ),
    (
        "cohorts",
        "Expected (sum of logged propensities) vs observed conversions per weekly cohort.",
    ),
    (
        "score",
        "The score's distribution: training reference vs each lead's latest recent score.",
    ),
    (
        "weekly_psi",
        "The score's PSI against training, per weekly cohort.",
    ),
    ("funnel", "Lead velocity: newly qualified leads per month."),
    ("reasons", "Disqualification reasons per week."),
    (
        "features",
        "PSI of each model input against training: one row per input, highest first.",
    ),
];

/// The plots drawn across the page's width (two plots wide, [`plots::WIDE`] pixels): the
/// inputs' PSI, one labelled row per input column.
const WIDE_PLOTS: &[&str] = &["features"];

const STYLE: &str = "body{font-family:sans-serif;max-width:1180px;margin:2em auto;padding:0 1em;color:#222}\
h1{font-size:1.6em}h2{font-size:1.2em;margin-top:1.6em;border-bottom:1px solid #ddd}\
table{border-collapse:collapse;margin:.6em 0}td,th{border:1px solid #ccc;padding:.25em .6em;text-align:right}\
th{background:#f3f3f3}td:first-child,th:first-child{text-align:left}\
.plots{display:flex;flex-wrap:wrap;gap:12px;align-items:flex-start}figure{margin:0;width:560px}\
figure.wide{width:1132px}figcaption{font-size:.85em;color:#555}\
.lead{font-size:1.05em;background:#f5f8fc;padding:.6em 1em;border-left:4px solid #1f77b4}\
.spike{color:#d62728;font-weight:bold}";

/// Escapes text for HTML.
fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn num(v: Option<f64>, digits: usize) -> String {
    v.map_or_else(|| "–".into(), |v| format!("{v:.digits$}"))
}

fn pct(v: Option<f64>) -> String {
    v.map_or_else(|| "–".into(), |v| format!("{:.1}%", 100.0 * v))
}

fn table(header: &[&str], rows: Vec<Vec<String>>) -> String {
    let mut t = String::from("<table><tr>");
    for h in header {
        let _ = write!(t, "<th>{}</th>", esc(h));
    }
    t.push_str("</tr>");
    for row in rows {
        t.push_str("<tr>");
        for cell in row {
            let _ = write!(t, "<td>{cell}</td>");
        }
        t.push_str("</tr>");
    }
    t.push_str("</table>\n");
    t
}

fn calibration_row(name: &str, c: Option<&CalibrationFigures>) -> Vec<String> {
    match c {
        Some(c) => vec![
            esc(name),
            c.rows.to_string(),
            format!("{:.1}", c.expected),
            c.observed.to_string(),
            format!("{:.4}", c.ece),
            format!("{:.4}", c.brier),
        ],
        None => vec![
            esc(name),
            "0".into(),
            "–".into(),
            "–".into(),
            "–".into(),
            "–".into(),
        ],
    }
}

/// The whole page.
///
/// # Errors
/// A plot that fails to draw.
pub fn page(r: &MonitorReport) -> Result<String, MonitorError> {
    let svgs = [
        plots::reliability(r)?,
        plots::cohorts(r)?,
        plots::score(r)?,
        plots::weekly_psi(r)?,
        plots::funnel(r)?,
        plots::reasons(r)?,
        plots::features(r)?,
    ];
    let ids: Vec<&str> = PLOTS.iter().map(|p| p.0).collect();
    let mut page = String::new();
    let _ = write!(
        page,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <title>qualify monitor</title><style>{STYLE}</style></head><body data-plots=\"{}\">\n\
         <h1>Monitoring: logged scores against what happened</h1>\n",
        ids.join(" ")
    );
    let h = &r.headline;
    let _ = writeln!(
        page,
        "<p class=\"lead\">As of {}: {} logged scores of {} leads; {} matured (window {} days). \
         Expected {} conversions, observed {}; ECE {}. Score PSI {}; MQL→SQL {}, SQL→won {}; \
         SLA on time {}.</p>",
        r.as_of.format("%Y-%m-%d %H:%M UTC"),
        h.entries,
        h.leads,
        h.matured,
        r.config.label_window_days,
        num(h.expected_conversions, 1),
        h.observed_conversions.map_or("–".into(), |v| v.to_string()),
        num(h.ece, 4),
        num(h.score_psi, 3),
        pct(h.mql_to_sql),
        pct(h.sql_to_won),
        pct(h.sla_share_on_time),
    );
    page.push_str("<div class=\"plots\">\n");
    for ((id, caption), svg) in PLOTS.iter().zip(&svgs) {
        let class = if WIDE_PLOTS.contains(id) {
            " class=\"wide\""
        } else {
            ""
        };
        let _ = writeln!(
            page,
            "<figure data-plot=\"{id}\"{class}>{svg}<figcaption>{}</figcaption></figure>",
            esc(caption)
        );
    }
    page.push_str("</div>\n");
    tables(&mut page, r);
    page.push_str("</body></html>\n");
    Ok(page)
}

fn tables(page: &mut String, r: &MonitorReport) {
    let s = &r.sample;
    page.push_str("<h2>Scores and labels</h2>\n");
    page.push_str(&table(
        &[
            "entries",
            "without lead id",
            "repeats in a week",
            "not matured",
            "after conversion",
            "matured",
        ],
        vec![vec![
            s.entries.to_string(),
            s.without_lead.to_string(),
            s.repeats_in_week.to_string(),
            s.not_matured.to_string(),
            s.closed.to_string(),
            s.matured.to_string(),
        ]],
    ));
    page.push_str(&table(
        &["model / version", "entries"],
        r.models
            .iter()
            .map(|(m, n)| vec![esc(m), n.to_string()])
            .collect(),
    ));

    page.push_str("<h2>Calibration</h2>\n");
    let c = &r.calibration;
    let header = ["rows", "n", "expected", "observed", "ECE", "Brier"];
    page.push_str(&table(
        &header,
        vec![
            calibration_row("all matured", c.overall.as_ref()),
            calibration_row("holdout", c.holdout.as_ref()),
            calibration_row("routed", c.routed.as_ref()),
        ],
    ));
    page.push_str(&table(
        &["cohort week", "n", "expected", "observed", "ECE", "Brier"],
        c.cohorts
            .iter()
            .map(|k| calibration_row(&k.week.to_string(), Some(&k.figures)))
            .collect(),
    ));
    if let Some(all) = &c.overall {
        page.push_str(&table(
            &[
                "bin",
                "n",
                "mean propensity",
                "observed rate",
                "expected",
                "observed",
            ],
            all.reliability
                .iter()
                .map(|b| {
                    vec![
                        format!("[{:.1}, {:.1})", b.lower, b.upper),
                        b.count.to_string(),
                        num(b.mean_predicted, 3),
                        num(b.observed_rate, 3),
                        format!("{:.1}", b.expected),
                        b.observed.to_string(),
                    ]
                })
                .collect(),
        ));
    }

    page.push_str("<h2>Drift</h2>\n");
    for note in &r.drift.notes {
        let _ = writeln!(page, "<p>{}</p>", esc(note));
    }
    let _ = writeln!(
        page,
        "<p>{} leads scored since {} (their latest score); {} not found among the stored leads.</p>",
        r.drift.leads,
        r.drift.window_start.format("%Y-%m-%d"),
        r.drift.leads_without_inputs
    );
    page.push_str(&table(
        &["distribution", "PSI", "invalid cells"],
        r.drift
            .score
            .iter()
            .chain(&r.drift.features)
            .map(|f| vec![esc(&f.name), num(f.psi, 4), f.invalid.to_string()])
            .collect(),
    ));

    page.push_str("<h2>Rules vs model (matured scores)</h2>\n");
    for note in &r.rules_vs_model.notes {
        let _ = writeln!(page, "<p>{}</p>", esc(note));
    }
    let mut rows = Vec::new();
    for (name, f) in [
        ("all", &r.rules_vs_model.all),
        ("holdout", &r.rules_vs_model.holdout),
    ] {
        if let Some(f) = f {
            rows.push(vec![
                format!("{name}: model"),
                f.leads.to_string(),
                format!("{:.3}", f.propensity.roc_auc),
                format!("{:.3}", f.propensity.pr_auc),
                format!("{:.2}", f.propensity.lift_at_10),
            ]);
            rows.push(vec![
                format!("{name}: rules"),
                f.leads.to_string(),
                format!("{:.3}", f.rule_score.roc_auc),
                format!("{:.3}", f.rule_score.pr_auc),
                format!("{:.2}", f.rule_score.lift_at_10),
            ]);
        }
    }
    page.push_str(&table(
        &["ranker", "rows", "ROC AUC", "PR AUC", "lift at 10%"],
        rows,
    ));
    if let Some(f) = &r.rules_vs_model.all {
        page.push_str(&table(
            &["stage", "rows", "conversions", "rate", "mean propensity"],
            f.stages
                .iter()
                .map(|s| {
                    vec![
                        s.stage.to_string(),
                        s.leads.to_string(),
                        s.conversions.to_string(),
                        pct(s.conversion_rate),
                        num(s.mean_propensity, 3),
                    ]
                })
                .collect(),
        ));
    }

    page.push_str("<h2>Disqualification reasons</h2>\n");
    let re = &r.reasons;
    page.push_str(&table(
        &[
            "reason",
            "family",
            "count",
            "by stage / route",
            "spike weeks",
        ],
        re.reasons
            .iter()
            .map(|row| {
                let by: Vec<String> = row
                    .by_stage_route
                    .iter()
                    .map(|(k, n)| format!("{}: {n}", esc(k)))
                    .collect();
                let spikes: Vec<String> = row.spikes.iter().map(ToString::to_string).collect();
                vec![
                    esc(&row.reason),
                    format!("{:?}", row.family),
                    row.count.to_string(),
                    by.join("; "),
                    format!("<span class=\"spike\">{}</span>", spikes.join(", ")),
                ]
            })
            .collect(),
    ));
    page.push_str(&table(
        &[
            "family",
            "disqualified",
            "re-engaged",
            "converted after",
            "rate",
            "requalified (MQL+)",
            "rate",
        ],
        [("bad timing", &re.bad_timing), ("bad fit", &re.bad_fit)]
            .into_iter()
            .map(|(name, e)| {
                vec![
                    name.to_string(),
                    e.disqualified.to_string(),
                    e.re_engaged.to_string(),
                    e.converted.to_string(),
                    pct(e.conversion_rate),
                    e.requalified.to_string(),
                    pct(e.requalified_rate),
                ]
            })
            .collect(),
    ));

    page.push_str("<h2>Funnel</h2>\n");
    let f = &r.funnel;
    page.push_str(&table(
        &["KPI", "leads", "reached", "value"],
        vec![
            vec![
                "MQL→SQL".into(),
                f.mql_to_sql.leads.to_string(),
                f.mql_to_sql.reached.to_string(),
                pct(f.mql_to_sql.rate),
            ],
            vec![
                "SQL→won".into(),
                f.sql_to_won.leads.to_string(),
                f.sql_to_won.reached.to_string(),
                pct(f.sql_to_won.rate),
            ],
            vec![
                "lead velocity (last complete month)".into(),
                f.qualified.to_string(),
                "".into(),
                pct(f.lead_velocity),
            ],
            vec![
                "time to conversion, median / p90 (days)".into(),
                f.time_to_conversion
                    .as_ref()
                    .map_or("0".into(), |t| t.converted.to_string()),
                "".into(),
                f.time_to_conversion.as_ref().map_or("–".into(), |t| {
                    format!("{:.1} / {:.1}", t.median_days, t.p90_days)
                }),
            ],
        ],
    ));

    page.push_str("<h2>Sales SLA</h2>\n");
    match &r.sla {
        Some(s) => {
            page.push_str(&table(
                &[
                    "MQLs",
                    "on time",
                    "late",
                    "overdue",
                    "pending",
                    "share on time",
                ],
                vec![vec![
                    s.mqls.to_string(),
                    s.on_time.to_string(),
                    s.late.to_string(),
                    s.overdue.to_string(),
                    s.pending.to_string(),
                    pct(s.share_on_time),
                ]],
            ));
            page.push_str(&table(
                &[
                    "overdue lead",
                    "qualified at",
                    "deadline",
                    "demo",
                    "hours overdue",
                ],
                s.overdue_leads
                    .iter()
                    .map(|o| {
                        vec![
                            esc(&o.lead_id),
                            o.qualified_at.format("%Y-%m-%d %H:%M").to_string(),
                            o.deadline.format("%Y-%m-%d %H:%M").to_string(),
                            if o.demo { "yes".into() } else { "no".into() },
                            format!("{:.1}", o.hours_overdue),
                        ]
                    })
                    .collect(),
            ));
        }
        None => page.push_str("<p>No events given: the SLA needs the sales-contact events.</p>\n"),
    }
    if !r.notes.is_empty() {
        page.push_str("<h2>Notes</h2><ul>");
        for n in &r.notes {
            let _ = write!(page, "<li>{}</li>", esc(n));
        }
        page.push_str("</ul>\n");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_wide_figure_is_as_wide_as_its_plot() {
        assert!(STYLE.contains(&format!("figure.wide{{width:{}px}}", plots::WIDE)));
        for id in WIDE_PLOTS {
            assert!(PLOTS.iter().any(|p| p.0 == *id), "{id}");
        }
    }
}
