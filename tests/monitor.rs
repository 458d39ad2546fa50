//! End to end: a synthetic history, a model trained on it, a score log built by scoring the
//! history's open leads every two weeks with the model and the default rules (as the server
//! would have answered), then `qualify monitor`. Its calibration is checked against labels
//! derived here from the history as qualify-data reads it, with qualify-eval's ECE.

use std::collections::HashMap;
use std::path::Path;
use std::process::Command;

use chrono::{DateTime, Duration, Utc};
use qualify_compare::pipeline::{AsOf, evaluate_rules};
use qualify_core::history::OutcomeKind;
use qualify_core::scorelog::{ScoreLogEntry, ScoreSource};
use qualify_data::history::{HistoryPaths, read_history};
use qualify_rules::CompiledRules;
use qualify_runtime::Model;
use qualify_train::history::score::{MomentsChoice, history_model, score_moments};
use serde_json::Value;

fn s(p: &Path) -> &str {
    p.to_str().expect("utf-8 path")
}

fn ok(args: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_qualify"))
        .args(args)
        .output()
        .expect("run qualify");
    assert!(
        out.status.success(),
        "qualify {args:?} failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn monitors_a_log_scored_from_a_synthetic_history() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let history_dir = tmp.path().join("history");
    let models = tmp.path().join("models/hist");
    ok(&[
        "synth",
        "--history",
        s(&history_dir),
        "--leads",
        "800",
        "--seed",
        "11",
    ]);
    let paths = HistoryPaths::in_dir(&history_dir);
    ok(&[
        "train",
        "--leads",
        s(&paths.leads),
        "--events",
        s(&paths.events),
        "--outcomes",
        s(&history_dir.join("outcomes.csv")),
        "--window",
        "90d",
        "--model",
        "logistic",
        "--out",
        s(&models),
    ]);

    let model = Model::load(&models).expect("load");
    let history = read_history(&paths, &model.manifest().schema, None)
        .expect("history")
        .history;
    let spec = history_model(&model).expect("history model");
    let rules = CompiledRules::load(Path::new("rules/default.toml")).expect("rules");
    let end: DateTime<Utc> = "2026-06-30T00:00:00Z".parse().expect("time");
    let mut entries = Vec::new();
    for k in 0..20 {
        let at = end - Duration::days(14 * k);
        let moments = MomentsChoice::At(at).moments(&history, spec, 0);
        let scored = score_moments(&model, &history, &moments).expect("score");
        let view = history.activity_view(&moments).expect("activity view");
        let rule_rows = evaluate_rules(&rules, &view, AsOf::One(at));
        for ((m, p), r) in moments.iter().zip(&scored.propensity).zip(rule_rows) {
            let id = history.ids[m.lead].clone();
            let holdout = id.bytes().map(u32::from).sum::<u32>() % 10 == 0;
            entries.push(ScoreLogEntry {
                lead_id: Some(id),
                scored_at: at,
                as_of: at,
                source: ScoreSource::Stored,
                model_name: model.manifest().name.clone(),
                model_version: model.manifest().version.clone(),
                rules_hash: "default".into(),
                propensity: *p,
                rule_score: r.score,
                stage: r.stage.as_str().into(),
                route: r.route,
                reasons: vec![],
                holdout,
            });
        }
    }
    let log = tmp.path().join("log.jsonl");
    let lines: Vec<String> = entries
        .iter()
        .map(|e| serde_json::to_string(e).expect("json"))
        .collect();
    std::fs::write(&log, lines.join("\n")).expect("write log");

    let out = tmp.path().join("monitor");
    let printed = ok(&[
        "monitor",
        "--log",
        s(&log),
        "--outcomes",
        s(&history_dir.join("outcomes.csv")),
        "--events",
        s(&paths.events),
        "--model",
        s(&models),
        "--leads",
        s(&paths.leads),
        "--sla-event",
        "sales_call",
        "--as-of",
        "2026-06-30T00:00:00Z",
        "--out",
        s(&out),
    ]);
    assert!(printed.contains("calibration: expected"), "{printed}");
    let report: Value = serde_json::from_str(
        &std::fs::read_to_string(out.join("monitor.json")).expect("monitor.json"),
    )
    .expect("json");

    // Labels derived here: scores are 14 days apart (one per lead and week) and taken while
    // the lead was open; matured when 90 days have passed by `end`, converted when the lead
    // converted within them.
    let window = Duration::days(90).num_milliseconds();
    let index: HashMap<&str, usize> = history.index();
    let (mut y, mut p) = (Vec::new(), Vec::new());
    for e in &entries {
        let m = e.as_of.timestamp_millis();
        if m + window > end.timestamp_millis() {
            continue;
        }
        let lead = index[e.lead_id.as_deref().expect("id")];
        let converted = history.outcomes[lead]
            .is_some_and(|o| o.kind == OutcomeKind::Converted && o.at > m && o.at - m <= window);
        y.push(converted);
        p.push(e.propensity);
    }
    let overall = &report["calibration"]["overall"];
    assert_eq!(overall["rows"].as_u64(), Some(y.len() as u64));
    assert_eq!(
        overall["observed"].as_u64(),
        Some(y.iter().filter(|&&c| c).count() as u64)
    );
    let want = qualify_eval::ece(&y, &p, 10).expect("ece");
    let got = overall["ece"].as_f64().expect("ece");
    assert!(
        (got - want).abs() < 1e-12,
        "ECE {got} vs qualify-eval {want}"
    );
    let expected: f64 = p.iter().sum();
    assert!((overall["expected"].as_f64().expect("expected") - expected).abs() < 1e-9);
    assert!(
        report["calibration"]["holdout"]["rows"]
            .as_u64()
            .unwrap_or(0)
            > 0
    );

    // Drift against the bundle's reference: the score and every input column.
    let drift = &report["drift"];
    let score = &drift["score"];
    let observed: u64 = score["observed"]
        .as_array()
        .expect("counts")
        .iter()
        .map(|v| v.as_u64().expect("count"))
        .sum();
    assert_eq!(Some(observed), drift["leads"].as_u64());
    assert!(score["psi"].as_f64().is_some_and(f64::is_finite));
    let columns = model.manifest().encoder.columns.len();
    assert_eq!(
        drift["features"].as_array().expect("features").len(),
        columns
    );
    assert_eq!(drift["leads_without_inputs"].as_u64(), Some(0));

    // Rules vs model, reasons, funnel and SLA are all there.
    assert!(
        report["rules_vs_model"]["all"]["propensity"]["roc_auc"]
            .as_f64()
            .is_some()
    );
    assert!(report["reasons"]["disqualified"].as_u64().unwrap_or(0) > 0);
    assert!(
        report["reasons"]["bad_timing"]["disqualified"]
            .as_u64()
            .unwrap_or(0)
            > 0
    );
    assert!(report["sla"]["mqls"].as_u64().unwrap_or(0) > 0);
    let html = std::fs::read_to_string(out.join("monitor.html")).expect("html");
    assert_eq!(html.matches("<figure data-plot=").count(), 7);
    // scripts/test renders the page in headless Chromium (scripts/browser-check).
    if let Some(keep) = std::env::var_os("QUALIFY_MONITOR_PAGE") {
        std::fs::copy(out.join("monitor.html"), keep).expect("copy the page");
    }
}
