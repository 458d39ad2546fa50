//! End to end, two paths to one model: a synthetic history trained from its files
//! (`qualify train --leads --events --outcomes`) and the same files imported into a store
//! (`qualify store import`) and trained from it (`qualify train --store`) give the same
//! bundle: equal manifest metrics, schema and history spec, and equal golden rows and
//! scores. The history has leads disqualified for bad timing that re-engaged and converted
//! afterwards (two outcomes each), whose moments after re-engaging both paths train on.
//! On SQLite always; on PostgreSQL too when `QUALIFY_TEST_POSTGRES_URL` names a
//! server (each run in a database of its own).

use std::path::Path;
use std::process::{Command, Output};

use serde_json::Value;

fn qualify(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_qualify"))
        .args(args)
        .env_remove("QUALIFY_STORE")
        .output()
        .expect("run qualify")
}

fn ok(args: &[&str]) -> String {
    let out = qualify(args);
    assert!(
        out.status.success(),
        "qualify {args:?} failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn fails(args: &[&str]) -> String {
    let out = qualify(args);
    assert!(!out.status.success(), "qualify {args:?} should fail");
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn s(p: &Path) -> &str {
    p.to_str().expect("utf-8 path")
}

/// The one version under a model directory: its manifest and golden rows.
fn bundle(models: &Path) -> (Value, Value) {
    let version = std::fs::read_dir(models)
        .expect("model dir")
        .filter_map(Result::ok)
        .find(|e| e.path().join("manifest.json").exists())
        .expect("a version")
        .path();
    let read = |name: &str| -> Value {
        serde_json::from_str(&std::fs::read_to_string(version.join(name)).expect(name))
            .expect("JSON")
    };
    (read("manifest.json"), read("golden.json"))
}

/// A fresh PostgreSQL database on the test server, when one is named (under CI one must be).
fn postgres_url() -> Option<String> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime")
        .block_on(qualify_store::test_support::postgres_database(
            "qualify_e2e",
        ))
}

/// Adds a conversion to every other lead disqualified for bad timing that re-engaged (an event
/// after the disqualification), ten days after it re-engaged and before the data's latest
/// event: such a lead is open again, so training makes moments for it after its
/// re-engagement, labelled by this later outcome. Returns how many were added.
fn convert_re_engaged_leads(outcomes: &Path, events: &Path) -> usize {
    let time = |t: &str| {
        chrono::DateTime::parse_from_rfc3339(t)
            .expect("an RFC 3339 time")
            .timestamp_millis()
    };
    let text = std::fs::read_to_string(events).expect("events");
    let mut by_lead: std::collections::HashMap<&str, Vec<i64>> = Default::default();
    let mut latest = i64::MIN;
    for line in text.lines().skip(1) {
        let cells: Vec<&str> = line.split(',').collect();
        let at = time(cells[2]);
        latest = latest.max(at);
        by_lead.entry(cells[1]).or_default().push(at);
    }
    let original = std::fs::read_to_string(outcomes).expect("outcomes");
    assert!(
        original.starts_with("lead_id,at,outcome,reason\n"),
        "the synth's columns"
    );
    let day = 86_400_000;
    let mut added = Vec::new();
    let mut candidates = 0;
    for line in original.lines().skip(1) {
        let cells: Vec<&str> = line.split(',').collect();
        if !matches!(cells[3], "unresponsive" | "bad_timing") {
            continue;
        }
        let dq = time(cells[1]);
        let Some(back) = by_lead
            .get(cells[0])
            .and_then(|v| v.iter().copied().filter(|&e| e > dq).min())
        else {
            continue;
        };
        if back + 10 * day < latest {
            candidates += 1;
            if candidates % 2 == 1 {
                let at = chrono::DateTime::from_timestamp_millis(back + 10 * day).expect("a time");
                added.push(format!("{},{},converted,\n", cells[0], at.to_rfc3339()));
            }
        }
    }
    let sep = if original.ends_with('\n') { "" } else { "\n" };
    std::fs::write(outcomes, format!("{original}{sep}{}", added.concat())).expect("write");
    added.len()
}

#[test]
fn training_from_an_imported_store_equals_training_from_the_files() {
    let dir = tempfile::tempdir().expect("tempdir");
    let history = dir.path().join("history");
    ok(&[
        "synth",
        "--history",
        s(&history),
        "--leads",
        "500",
        "--seed",
        "5",
    ]);
    let (leads, events, outcomes) = (
        history.join("leads.csv"),
        history.join("events.csv"),
        history.join("outcomes.csv"),
    );
    let reopened = convert_re_engaged_leads(&outcomes, &events);
    assert!(
        reopened >= 3,
        "{reopened} re-engaged leads converted afterwards"
    );
    let train = |source: &[&str], out: &Path| {
        let mut args = vec!["train"];
        args.extend_from_slice(source);
        args.extend(["--window", "90d", "--model", "logistic", "--out", s(out)]);
        ok(&args);
        bundle(out)
    };
    let (files_manifest, files_golden) = train(
        &[
            "--leads",
            s(&leads),
            "--events",
            s(&events),
            "--outcomes",
            s(&outcomes),
        ],
        &dir.path().join("models/files"),
    );
    let mut urls = vec![format!(
        "sqlite://{}",
        s(&dir.path().join("store/leads.db"))
    )];
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        assert!(
            std::env::var("QUALIFY_TEST_POSTGRES_URL").is_ok(),
            "QUALIFY_TEST_POSTGRES_URL is not set: under CI the PostgreSQL path must run"
        );
    }
    urls.extend(postgres_url());
    for (i, url) in urls.iter().enumerate() {
        let import = [
            "store",
            "import",
            "--store",
            url,
            "--leads",
            s(&leads),
            "--events",
            s(&events),
            "--outcomes",
            s(&outcomes),
        ];
        let n = std::fs::read_to_string(&leads)
            .expect("leads")
            .lines()
            .count()
            - 1;
        let printed = ok(&import);
        assert!(
            printed.contains(&format!("imported {n} leads")),
            "{printed}"
        );
        let again = fails(&import);
        assert!(
            again.contains(&format!("already holds {n} lead(s)")),
            "{again}"
        );
        let (manifest, golden) = train(
            &["--store", url],
            &dir.path().join(format!("models/store{i}")),
        );
        for key in [
            "metrics",
            "schema",
            "schema_hash",
            "history",
            "encoder",
            "calibrator",
            "model",
        ] {
            assert!(manifest.get(key).is_some(), "{url}: manifest has no {key}");
            assert_eq!(
                manifest.get(key),
                files_manifest.get(key),
                "{url}: manifest {key}"
            );
        }
        // Golden rows and their scores (the golden file's `as_of` is the training's clock).
        let (rows, files_rows) = (&golden["rows"], &files_golden["rows"]);
        assert!(
            rows.as_array().is_some_and(|r| !r.is_empty()),
            "{url}: no golden rows"
        );
        assert!(rows == files_rows, "{url}: golden rows differ");
        // The same rows, from another source.
        let (mut data, mut files_data) = (
            manifest["training_data"].clone(),
            files_manifest["training_data"].clone(),
        );
        let backend = if i == 0 {
            "sqlite store"
        } else {
            "postgres store"
        };
        assert_eq!(data["file"], backend);
        for d in [&mut data, &mut files_data] {
            let d = d.as_object_mut().expect("an object");
            d.remove("file");
            d.remove("sha256");
        }
        assert_eq!(data, files_data, "{url}: training data");
    }
}

#[test]
fn bad_files_and_urls_are_refused_with_what_and_where() {
    let dir = tempfile::tempdir().expect("tempdir");
    let history = dir.path().join("history");
    ok(&[
        "synth",
        "--history",
        s(&history),
        "--leads",
        "30",
        "--seed",
        "2",
    ]);
    let outcomes = history.join("outcomes.csv");
    let text = std::fs::read_to_string(&outcomes).expect("outcomes");
    let second = text.lines().nth(1).expect("an outcome").to_string();
    std::fs::write(&outcomes, format!("{text}{second}\n")).expect("write");
    let url = format!("sqlite://{}", s(&dir.path().join("s.db")));
    let err = fails(&[
        "store",
        "import",
        "--store",
        &url,
        "--leads",
        s(&history.join("leads.csv")),
        "--events",
        s(&history.join("events.csv")),
        "--outcomes",
        s(&outcomes),
    ]);
    assert!(
        err.contains("outcomes.csv") && err.contains("two outcomes at the same instant"),
        "{err}"
    );
    let err = fails(&[
        "train",
        "--store",
        "mysql://x/y",
        "--out",
        s(&dir.path().join("m")),
    ]);
    assert!(err.contains("sqlite://PATH"), "{err}");
}
