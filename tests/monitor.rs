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

/// The last scoring moment of the log, and the monitoring time.
fn end() -> DateTime<Utc> {
    "2026-06-30T00:00:00Z".parse().expect("time")
}

/// What [`scored_history`] made: a synthetic history, a model trained on it, and a score log
/// of it (entries and their JSON-lines file).
struct Scored {
    tmp: tempfile::TempDir,
    history_dir: std::path::PathBuf,
    paths: HistoryPaths,
    models: std::path::PathBuf,
    model: Model,
    history: qualify_core::history::History,
    entries: Vec<ScoreLogEntry>,
    log: std::path::PathBuf,
}

/// A synthetic history, a model trained on it, and a log scored from it every two weeks with
/// the model and `rules/default.toml`, as the server would have answered.
fn scored_history() -> Scored {
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
    let end = end();
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

    Scored {
        tmp,
        history_dir,
        paths,
        models,
        model,
        history,
        entries,
        log,
    }
}

#[test]
fn monitors_a_log_scored_from_a_synthetic_history() {
    let Scored {
        tmp,
        history_dir,
        paths,
        models,
        model,
        history,
        entries,
        log,
    } = scored_history();
    let end = end();
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
            .as_slice()
            .iter()
            .any(|o| o.kind == OutcomeKind::Converted && o.at > m && o.at - m <= window);
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

/// A fresh PostgreSQL database on the test server, when one is named (under CI one must be).
fn postgres_url() -> Option<String> {
    runtime().block_on(qualify_store::test_support::postgres_database(
        "qualify_monitor",
    ))
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime")
}

/// The paths (`a.b[3].c`) where two JSON values differ, at most `limit`.
fn differences(a: &Value, b: &Value, at: &str, out: &mut Vec<String>, limit: usize) {
    if out.len() >= limit || a == b {
        return;
    }
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            let mut keys: Vec<&String> = x.keys().chain(y.keys()).collect();
            keys.sort();
            keys.dedup();
            for k in keys {
                let (u, v) = (x.get(k), y.get(k));
                match (u, v) {
                    (Some(u), Some(v)) => differences(u, v, &format!("{at}.{k}"), out, limit),
                    _ => out.push(format!("{at}.{k}: {u:?} vs {v:?}")),
                }
            }
        }
        (Value::Array(x), Value::Array(y)) if x.len() == y.len() => {
            for (i, (u, v)) in x.iter().zip(y).enumerate() {
                differences(u, v, &format!("{at}[{i}]"), out, limit);
            }
        }
        _ => out.push(format!("{at}: {a} vs {b}")),
    }
}

/// A copy of `outcomes` with one more row: `lead`'s `outcome` at `at` (milliseconds), with
/// `reason`.
fn add_outcome(outcomes: &Path, lead: &str, at: i64, outcome: &str, reason: &str, out: &Path) {
    let text = std::fs::read_to_string(outcomes).expect("outcomes");
    let header: Vec<&str> = text.lines().next().expect("a header").split(',').collect();
    let at = DateTime::from_timestamp_millis(at)
        .expect("a time")
        .to_rfc3339();
    let row: Vec<&str> = header
        .iter()
        .map(|c| match *c {
            "lead_id" => lead,
            "at" => at.as_str(),
            "outcome" => outcome,
            "reason" => reason,
            _ => "",
        })
        .collect();
    let sep = if text.ends_with('\n') { "" } else { "\n" };
    std::fs::write(out, format!("{text}{sep}{}\n", row.join(","))).expect("write outcomes");
}

/// A copy of `outcomes` with a conversion added for one lead disqualified for bad timing that
/// re-engaged (an event after the disqualification) before `before`: a day after it
/// re-engaged. Returns the lead.
fn convert_a_re_engaged_lead(
    outcomes: &Path,
    history: &qualify_core::history::History,
    before: DateTime<Utc>,
    out: &Path,
) -> String {
    let day = Duration::days(1).num_milliseconds();
    let (lead, at) = (0..history.ids.len())
        .find_map(|lead| {
            let reopened = history.life(lead).intervals().get(1).map(|i| i.0)?;
            (reopened + day < before.timestamp_millis()).then_some((lead, reopened + day))
        })
        .expect("a re-engaged bad-timing lead in the synthetic history");
    add_outcome(outcomes, &history.ids[lead], at, "converted", "", out);
    history.ids[lead].clone()
}

/// A copy of `outcomes` where a converted lead is disqualified (bad fit) a day after it
/// converted, which the outcome policy refuses. Returns the lead.
fn disqualify_a_converted_lead(
    outcomes: &Path,
    history: &qualify_core::history::History,
    out: &Path,
) -> String {
    let (lead, at) = (0..history.ids.len())
        .find_map(|lead| {
            let o = history.outcomes[lead].latest()?;
            (o.kind == OutcomeKind::Converted).then_some((lead, o.at))
        })
        .expect("a converted lead in the synthetic history");
    let day = Duration::days(1).num_milliseconds();
    add_outcome(
        outcomes,
        &history.ids[lead],
        at + day,
        "disqualified",
        "no_budget",
        out,
    );
    history.ids[lead].clone()
}

/// The stderr of a `qualify` run that must fail.
fn refused(args: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_qualify"))
        .args(args)
        .output()
        .expect("run qualify");
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(!out.status.success(), "qualify {args:?} succeeded");
    stderr
}

/// Two paths to one report: the history imported into a store (`qualify store import`) with
/// the log's entries appended to the store's score log, monitored with `--store`, against the
/// files monitored with `--log`: the same monitor.json, whole (no field differs: both runs
/// take the same monitoring time). Twice: every entry with the default monitoring time (the
/// latest time in the records), and a `--from`/`--to` range. On SQLite always; on
/// PostgreSQL too when `QUALIFY_TEST_POSTGRES_URL` names a server. One lead disqualified for
/// bad timing re-engages and converts afterwards: a second outcome, which both sources hold,
/// so both report one re-engaged conversion. And both refuse the same file once a converted
/// lead is disqualified afterwards: the store's import and the monitor's CSV reader apply the
/// one outcome policy, and name the same lead and reason.
#[test]
fn monitoring_from_the_store_equals_monitoring_from_the_files() {
    let Scored {
        tmp,
        history_dir,
        paths,
        models,
        history,
        entries,
        log,
        ..
    } = scored_history();
    let outcomes = history_dir.join("outcomes-reengaged.csv");
    convert_a_re_engaged_lead(
        &history_dir.join("outcomes.csv"),
        &history,
        "2026-06-10T00:00:00Z".parse().expect("time"),
        &outcomes,
    );
    let mut urls = vec![format!(
        "sqlite://{}",
        s(&tmp.path().join("store/leads.db"))
    )];
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        assert!(
            std::env::var("QUALIFY_TEST_POSTGRES_URL").is_ok(),
            "QUALIFY_TEST_POSTGRES_URL is not set: under CI the PostgreSQL path must run"
        );
    }
    urls.extend(postgres_url());
    let ranges: [(&str, Vec<&str>); 2] = [
        ("all", vec![]),
        (
            "range",
            vec![
                "--from",
                "2026-01-15T00:00:00Z",
                "--to",
                "2026-06-20T00:00:00Z",
            ],
        ),
    ];
    for (i, url) in urls.iter().enumerate() {
        ok(&[
            "store",
            "import",
            "--store",
            url,
            "--leads",
            s(&paths.leads),
            "--events",
            s(&paths.events),
            "--outcomes",
            s(&outcomes),
        ]);
        runtime().block_on(async {
            let store = qualify_store::Store::connect(url).await.expect("store");
            store.append_scores(&entries).await.expect("append");
            store.close().await;
        });
        for (name, range) in &ranges {
            let monitor = |source: &[&str], out: &Path| -> Value {
                let mut args = vec!["monitor"];
                args.extend_from_slice(source);
                args.extend(["--model", s(&models), "--sla-event", "sales_call"]);
                args.extend(range.iter().copied());
                args.extend(["--out", s(out)]);
                ok(&args);
                serde_json::from_str(
                    &std::fs::read_to_string(out.join("monitor.json")).expect("monitor.json"),
                )
                .expect("json")
            };
            let from_files = monitor(
                &[
                    "--log",
                    s(&log),
                    "--outcomes",
                    s(&outcomes),
                    "--events",
                    s(&paths.events),
                    "--leads",
                    s(&paths.leads),
                ],
                &tmp.path().join(format!("files-{name}")),
            );
            let from_store = monitor(
                &["--store", url],
                &tmp.path().join(format!("store-{i}-{name}")),
            );
            let mut diff = Vec::new();
            differences(&from_files, &from_store, "", &mut diff, 20);
            assert!(
                diff.is_empty(),
                "{url}, {name}: the reports differ:\n{}",
                diff.join("\n")
            );
            // Not two empty reports: every part has figures.
            assert!(from_store["calibration"]["overall"]["rows"].as_u64() > Some(0));
            assert!(from_store["sla"]["mqls"].as_u64() > Some(0));
            assert!(from_store["reasons"]["bad_timing"]["disqualified"].as_u64() > Some(0));
            for report in [&from_files, &from_store] {
                assert_eq!(
                    report["reasons"]["bad_timing"]["converted"].as_u64(),
                    Some(1),
                    "{url}, {name}: the re-engaged lead converted afterwards"
                );
            }
            assert!(
                from_store["drift"]["features"]
                    .as_array()
                    .is_some_and(|f| !f.is_empty())
            );
            if *name == "range" {
                assert_eq!(
                    from_store["as_of"].as_str(),
                    Some("2026-06-20T00:00:00Z"),
                    "--to is the default monitoring time"
                );
                assert!(from_store["headline"]["entries"].as_u64() < Some(entries.len() as u64));
            }
        }
    }
    // An outcome after a conversion: refused by the store's import and by the monitor's
    // reader alike, for the same lead and the same reason.
    let conflicting = history_dir.join("outcomes-conflict.csv");
    let lead = disqualify_a_converted_lead(&outcomes, &history, &conflicting);
    let fresh = format!("sqlite://{}", s(&tmp.path().join("store/conflict.db")));
    let import = refused(&[
        "store",
        "import",
        "--store",
        &fresh,
        "--leads",
        s(&paths.leads),
        "--events",
        s(&paths.events),
        "--outcomes",
        s(&conflicting),
    ]);
    let monitor = refused(&[
        "monitor",
        "--log",
        s(&log),
        "--outcomes",
        s(&conflicting),
        "--out",
        s(&tmp.path().join("conflict")),
    ]);
    for (name, stderr) in [("store import", &import), ("monitor", &monitor)] {
        for part in [format!("{lead:?}"), "converted is final".to_string()] {
            assert!(stderr.contains(&part), "{name}: {part} not in {stderr}");
        }
    }
    assert!(monitor.contains(s(&conflicting)), "{monitor}");

    // --store and --log are exclusive.
    let out = Command::new(env!("CARGO_BIN_EXE_qualify"))
        .args([
            "monitor",
            "--store",
            &urls[0],
            "--log",
            s(&log),
            "--out",
            s(&tmp.path().join("both")),
        ])
        .output()
        .expect("run qualify");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success() && stderr.contains("cannot be used with"),
        "{stderr}"
    );
}
