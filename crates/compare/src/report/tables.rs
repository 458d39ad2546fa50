//! The report's text: context, the headline sentence and the tables.

use std::fmt::Write;

use super::esc;
use crate::comparison::Comparison;
use crate::selection::Selection;

fn num(v: f64, digits: usize) -> String {
    format!("{v:.digits$}")
}

fn pct(v: Option<f64>) -> String {
    v.map_or_else(|| "–".into(), |v| format!("{:.1}%", 100.0 * v))
}

fn table(header: &[&str], rows: Vec<Vec<String>>) -> String {
    let mut out = String::from("<table><tr>");
    for h in header {
        let _ = write!(out, "<th>{}</th>", esc(h));
    }
    out.push_str("</tr>\n");
    for row in rows {
        out.push_str("<tr>");
        for cell in row {
            let _ = write!(out, "<td>{}</td>", esc(&cell));
        }
        out.push_str("</tr>\n");
    }
    out.push_str("</table>\n");
    out
}

fn selection_row(name: &str, s: &Selection) -> Vec<String> {
    vec![
        name.into(),
        num(s.leads, 0),
        num(s.conversions, 1),
        pct(s.precision),
        pct(Some(s.recall)),
    ]
}

pub fn context(c: &Comparison) -> String {
    let x = &c.context;
    let mut out = String::from("<dl>");
    for (k, v) in [
        ("data", &x.data),
        ("label", &x.label),
        ("model", &x.model),
        ("rules", &x.rules),
        ("as of", &x.as_of),
    ] {
        let _ = write!(out, "<dt>{k}</dt><dd>{}</dd>", esc(v));
    }
    let _ = writeln!(
        out,
        "<dt>leads</dt><dd>{} ({} converted, {})</dd></dl>",
        c.leads,
        c.conversions,
        pct(Some(c.conversion_rate))
    );
    out
}

/// The one sentence an analyst came for.
pub fn headline(c: &Comparison) -> String {
    let k = &c.capacity;
    let (m, r) = (&k.model, &k.rules_qualified);
    format!(
        "<p class=\"lead\">Working <b>{} leads</b> ({}), the model's top {} hold <b>{:.1} \
         conversions</b> (precision {}); the rules' {} MQL-or-better leads hold <b>{:.0}</b> \
         (precision {}); the top {} by rule score hold {:.1}. ROC AUC: model {:.3}, rule score \
         {:.3}.</p>\n",
        k.leads,
        esc(&k.source),
        k.leads,
        m.conversions,
        pct(m.precision),
        num(r.leads, 0),
        r.conversions,
        pct(r.precision),
        k.leads,
        k.rule_score.conversions,
        c.propensity.roc_auc,
        c.rule_score.roc_auc
    )
}

pub fn all(c: &Comparison) -> String {
    let mut out = String::new();
    out.push_str("<h2>Ranking</h2>\n");
    out.push_str(&table(
        &["approach", "ROC AUC", "PR AUC", "lift at 10%"],
        [
            ("propensity (model)", &c.propensity),
            ("rule score", &c.rule_score),
        ]
        .into_iter()
        .map(|(name, f)| {
            vec![
                name.into(),
                num(f.roc_auc, 4),
                num(f.pr_auc, 4),
                num(f.lift_at_10, 3),
            ]
        })
        .collect(),
    ));
    let k = &c.capacity;
    let _ = writeln!(
        out,
        "<h2>Capacity: {} leads ({})</h2>",
        k.leads,
        esc(&k.source)
    );
    out.push_str(&table(
        &["selection", "leads", "conversions", "precision", "recall"],
        vec![
            selection_row("model: top K by propensity", &k.model),
            selection_row("rules: top K by rule score", &k.rule_score),
            selection_row("rules: MQL-or-better set", &k.rules_qualified),
        ],
    ));
    out.push_str("<h2>Rule stages</h2>\n");
    out.push_str(&table(
        &[
            "stage",
            "leads",
            "conversions",
            "conversion rate",
            "mean propensity",
        ],
        c.stages
            .iter()
            .map(|s| {
                vec![
                    s.stage.into(),
                    s.leads.to_string(),
                    s.conversions.to_string(),
                    pct(s.conversion_rate),
                    pct(s.mean_propensity),
                ]
            })
            .collect(),
    ));
    let _ = writeln!(
        out,
        "<p>MQL or better (MQL, SQL, PQL): {} leads, precision {}, recall {}.</p>",
        num(c.mql.leads, 0),
        pct(c.mql.precision),
        pct(Some(c.mql.recall))
    );
    out.push_str("<h2>Disagreements</h2>\n");
    out.push_str(&table(
        &["group", "leads", "conversions", "conversion rate"],
        c.disagreements
            .iter()
            .map(|d| {
                vec![
                    d.description.into(),
                    d.leads.to_string(),
                    d.conversions.to_string(),
                    pct(d.conversion_rate),
                ]
            })
            .collect(),
    ));
    out.push_str(&thresholds(c));
    out.push_str("<h2>Calibration of the propensity</h2>\n");
    let _ = writeln!(
        out,
        "<p>ECE (10 bins) {:.4}, log loss {:.4}, Brier {:.4}.</p>",
        c.calibration.ece, c.calibration.log_loss, c.calibration.brier
    );
    out.push_str(&table(
        &["bin", "leads", "mean predicted", "observed rate"],
        c.calibration
            .reliability
            .iter()
            .map(|b| {
                vec![
                    format!("[{:.1}, {:.1})", b.lower, b.upper),
                    b.count.to_string(),
                    pct(b.mean_predicted),
                    pct(b.observed_rate),
                ]
            })
            .collect(),
    ));
    out.push_str("<h2>Propensity deciles</h2>\n");
    out.push_str(&table(
        &[
            "decile",
            "leads",
            "conversions",
            "conversion rate",
            "propensity range",
            "rules: MQL or better",
        ],
        c.deciles
            .iter()
            .map(|d| {
                vec![
                    d.decile.to_string(),
                    d.leads.to_string(),
                    d.conversions.to_string(),
                    pct(d.conversion_rate),
                    match (d.min_propensity, d.max_propensity) {
                        (Some(lo), Some(hi)) => format!("{lo:.3} – {hi:.3}"),
                        _ => "–".into(),
                    },
                    d.rules_qualified.to_string(),
                ]
            })
            .collect(),
    ));
    let _ = writeln!(
        out,
        "<p>Definitions: {}; decile = {}; ties: {}.</p>",
        esc(c.definitions.qualified),
        esc(c.definitions.decile),
        esc(c.definitions.ties)
    );
    out
}

fn thresholds(c: &Comparison) -> String {
    let t = &c.thresholds;
    let mut out = format!(
        "<h2>Suggested MQL threshold on the rule score</h2>\n<p>Current threshold: {}. \
         Counted among leads neither Disqualified nor Nurture; <i>applied</i> re-runs the rules \
         with the suggested threshold (PQL leads qualify whatever their points).</p>\n",
        t.current
    );
    let rows = [
        ("capacity", &t.for_capacity),
        ("precision", &t.for_precision),
    ]
    .into_iter()
    .map(|(what, s)| {
        let target = if what == "capacity" {
            format!("{} leads", s.target)
        } else {
            pct(Some(s.target))
        };
        let sel = |x: &Option<Selection>| {
            x.as_ref().map_or_else(
                || "–".to_string(),
                |x| format!("{:.0} leads, {}", x.leads, pct(x.precision)),
            )
        };
        vec![
            format!("{what}: {target} ({})", s.target_source),
            s.threshold
                .map_or_else(|| "none reaches it".into(), |t| t.to_string()),
            sel(&s.selection),
            sel(&s.applied),
        ]
    })
    .collect();
    out.push_str(&table(
        &[
            "target",
            "threshold",
            "selected (precision)",
            "applied (precision)",
        ],
        rows,
    ));
    out
}
