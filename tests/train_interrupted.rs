//! Verify before publish, end to end: `qualify train` killed with SIGKILL at several moments
//! (after the first model fit, while the bundle is being staged, after staging before the
//! runtime check, after the check right before the rename) leaves no visible or loadable
//! version, and the next run publishes normally beside the leftovers.
//!
//! The moments are reached through a hook of debug builds: with
//! `QUALIFY_DEBUG_PAUSE_AT=<point>` the binary prints `paused at <point>` on stderr and waits
//! there; the test waits for that line, then kills the process.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

fn s(p: &Path) -> &str {
    p.to_str().expect("utf-8 path")
}

fn train_args<'a>(data: &'a Path, out: &'a Path) -> [&'a str; 8] {
    [
        "train",
        "--data",
        s(data),
        "--label",
        "converted",
        "--out",
        s(out),
        "--seed=7",
    ]
}

/// Runs `qualify train` until it announces `point`, then kills it with SIGKILL.
fn kill_at(point: &str, data: &Path, out: &Path) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_qualify"))
        .args(train_args(data, out))
        .env("QUALIFY_DEBUG_PAUSE_AT", point)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn qualify");
    let stderr = child.stderr.take().expect("stderr");
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut seen = Vec::new();
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            let paused = line.starts_with("paused at ");
            seen.push(line);
            if paused {
                break;
            }
        }
        let _ = tx.send(seen);
    });
    let seen = rx
        .recv_timeout(Duration::from_secs(600))
        .expect("qualify reached no pause point in time");
    let announced = format!("paused at {point}");
    if seen.last() != Some(&announced) {
        let _ = child.kill();
        panic!("expected {announced:?}; stderr was:\n{}", seen.join("\n"));
    }
    child.kill().expect("SIGKILL");
    child.wait().expect("reap");
}

/// (visible, hidden) entries of the model directory (none if it does not exist).
fn entries(dir: &Path) -> (Vec<String>, Vec<String>) {
    let names: Vec<String> = std::fs::read_dir(dir)
        .map(|d| {
            d.map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    names.into_iter().partition(|n| !n.starts_with('.'))
}

#[test]
fn a_killed_train_leaves_no_visible_version() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("leads.csv");
    let out = Command::new(env!("CARGO_BIN_EXE_qualify"))
        .args(["synth", "--rows", "1500", "--seed", "9", "--out", s(&data)])
        .output()
        .expect("synth");
    assert!(out.status.success());
    let models = dir.path().join("models").join("leads");

    for point in ["fitted", "staging", "verifying", "publishing"] {
        kill_at(point, &data, &models);
        let (visible, hidden) = entries(&models);
        assert!(visible.is_empty(), "killed at {point}: {visible:?} visible");
        let err = qualify_runtime::Model::load(&models)
            .expect_err("nothing to load")
            .to_string();
        if point == "fitted" {
            // Killed before writing anything: not even the model directory exists.
            assert!(!models.exists(), "killed at {point}: {err}");
        } else {
            assert!(
                err.contains("not a model bundle"),
                "killed at {point}: {err}"
            );
            assert!(
                hidden.iter().any(|n| n.starts_with(".staging-")),
                "killed at {point}: the staged directory is hidden, not gone: {hidden:?}"
            );
        }
    }

    // `qualify score` agrees there is nothing to score with.
    let scored = Command::new(env!("CARGO_BIN_EXE_qualify"))
        .args(["score", "--model", s(&models), "--data", s(&data), "--out"])
        .arg(dir.path().join("scores.csv"))
        .output()
        .expect("score");
    assert!(!scored.status.success());
    assert!(String::from_utf8_lossy(&scored.stderr).contains("not a model bundle"));

    // The next run publishes one version beside the hidden leftovers, which readers skip.
    let out = Command::new(env!("CARGO_BIN_EXE_qualify"))
        .args(train_args(&data, &models))
        .output()
        .expect("train");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let (visible, _) = entries(&models);
    assert_eq!(visible.len(), 1, "{visible:?}");
    let model = qualify_runtime::Model::load(&models).expect("the new version loads");
    assert_eq!(model.manifest().version, visible[0]);
}
