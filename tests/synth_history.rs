//! `qualify synth --history DIR`: the three files, the printed rates, reproducibility and
//! prefix stability through the command line, and the flags it refuses.

use std::path::Path;
use std::process::{Command, Output};

fn qualify(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_qualify"))
        .args(args)
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

fn read(p: &Path) -> String {
    std::fs::read_to_string(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

const FILES: [&str; 3] = ["leads.csv", "events.csv", "outcomes.csv"];

#[test]
fn writes_the_three_tables_reproducibly_and_prints_the_rates() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let (a, b, small) = (
        tmp.path().join("a"),
        tmp.path().join("b"),
        tmp.path().join("small"),
    );
    let args = |dir: &Path, leads: &'static str| {
        let mut v = vec![
            "synth",
            "--history",
            s(dir),
            "--leads",
            leads,
            "--seed",
            "3",
        ];
        v.extend(["--as-of", "2026-03-31T00:00:00Z"]);
        v.into_iter().map(String::from).collect::<Vec<_>>()
    };
    let run = |v: Vec<String>| ok(&v.iter().map(String::as_str).collect::<Vec<_>>());
    let out = run(args(&a, "400"));
    for needle in [
        "converted within 90 days of creation:",
        "disqualified:",
        "not_decision_maker",
        "bad_timing",
        "open at as_of:",
    ] {
        assert!(out.contains(needle), "{needle:?} not in:\n{out}");
    }
    run(args(&b, "400"));
    run(args(&small, "150"));
    for name in FILES {
        let (full, prefix) = (read(&a.join(name)), read(&small.join(name)));
        assert_eq!(full, read(&b.join(name)), "{name}: same seed, same file");
        assert!(
            full.starts_with(&prefix),
            "{name}: 150 leads are a prefix of 400"
        );
        assert!(prefix.len() < full.len(), "{name}");
    }
    let leads = read(&a.join("leads.csv"));
    assert!(leads.lines().count() > 400, "400 leads plus returning ones");
    let events = read(&a.join("events.csv"));
    assert!(events.starts_with("event_id,lead_id,at,type,value\n"));
    assert!(
        events
            .lines()
            .skip(1)
            .all(|l| l.split(',').nth(2) < Some("2026-03-31"))
    );
}

#[test]
fn refuses_to_overwrite_without_force_and_writes_parquet() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path().join("h");
    ok(&["synth", "--history", s(&dir), "--leads", "30"]);
    let err = fails(&["synth", "--history", s(&dir), "--leads", "30"]);
    assert!(err.contains("leads.csv exists; pass --force"), "{err}");
    ok(&["synth", "--history", s(&dir), "--leads", "30", "--force"]);

    ok(&[
        "synth",
        "--history",
        s(&dir),
        "--leads",
        "30",
        "--format",
        "parquet",
    ]);
    for name in ["leads.parquet", "events.parquet", "outcomes.parquet"] {
        let bytes = std::fs::read(dir.join(name)).expect(name);
        assert!(bytes.starts_with(b"PAR1"), "{name} is Parquet");
    }
}

#[test]
fn mixing_flat_and_history_flags_is_refused() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path().join("h");
    let flat = tmp.path().join("leads.csv");
    let err = fails(&["synth", "--history", s(&dir), "--rows", "10"]);
    assert!(err.contains("--rows") && err.contains("--history"), "{err}");
    let err = fails(&["synth", "--history", s(&dir), "--out", s(&flat)]);
    assert!(err.contains("--out") && err.contains("--history"), "{err}");
    let err = fails(&["synth", "--out", s(&flat), "--leads", "10"]);
    assert!(err.contains("--history"), "{err}");
    let err = fails(&["synth", "--out", s(&flat), "--format", "parquet"]);
    assert!(err.contains("--history"), "{err}");
    let err = fails(&["synth", "--leads", "10"]);
    assert!(err.contains("--out") || err.contains("--history"), "{err}");
    let err = fails(&["synth", "--history", s(&dir), "--leads", "0"]);
    assert!(err.contains("--leads must be at least 1"), "{err}");
    let err = fails(&["synth", "--history", s(&dir), "--as-of", "yesterday"]);
    assert!(err.contains("not an RFC 3339 time"), "{err}");
    assert!(!dir.exists(), "nothing written by a refused command");
    // The flat snapshot is unchanged.
    ok(&["synth", "--rows", "20", "--out", s(&flat)]);
    assert_eq!(read(&flat).lines().count(), 21);
}
