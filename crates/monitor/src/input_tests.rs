//! The file readers: bad cells, bad log lines, and the outcome policy applied per lead.

use super::*;

#[test]
fn bad_cells_name_row_and_column() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("outcomes.csv");
    fs::write(
        &path,
        "lead_id,at,outcome,reason\nL1,2026-01-02,converted,\nL2,2026-01-03,lost,x\n",
    )
    .expect("write");
    let err = read_outcomes(&path).expect_err("bad outcome");
    assert!(
        matches!(
            err,
            MonitorError::Cell {
                row: 2,
                column: "outcome",
                ..
            }
        ),
        "{err}"
    );
    fs::write(&path, "lead_id,at,outcome\nL1,yesterday,converted\n").expect("write");
    let err = read_outcomes(&path).expect_err("bad time");
    assert!(
        matches!(
            err,
            MonitorError::Cell {
                row: 1,
                column: "at",
                ..
            }
        ),
        "{err}"
    );
    fs::write(&path, "lead,at,outcome\n").expect("write");
    assert!(matches!(
        read_outcomes(&path),
        Err(MonitorError::MissingColumn {
            column: "lead_id",
            ..
        })
    ));
    fs::write(
        &path,
        "lead_id,at,outcome,reason\nL1,2026-01-02T10:00:00Z,Disqualified, bad_timing \n",
    )
    .expect("write");
    let read = read_outcomes(&path).expect("read");
    assert_eq!(read[0].outcome, OutcomeKind::Disqualified);
    assert_eq!(read[0].reason.as_deref(), Some("bad_timing"));
}

#[test]
fn log_errors_name_the_line() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("log.jsonl");
    fs::write(&path, "\n{\"nope\": 1}\n").expect("write");
    assert!(matches!(
        read_log(&path),
        Err(MonitorError::LogLine { line: 2, .. })
    ));
}

/// An outcomes file with `rows` (after the header `lead_id,at,outcome,reason`).
fn outcomes_file(dir: &Path, rows: &[&str]) -> std::path::PathBuf {
    let path = dir.join("outcomes.csv");
    let mut text = String::from("lead_id,at,outcome,reason\n");
    for row in rows {
        text.push_str(row);
        text.push('\n');
    }
    fs::write(&path, text).expect("write");
    path
}

#[test]
fn outcomes_that_break_the_policy_are_refused_naming_lead_rows_and_why() {
    use qualify_core::history::{ConflictKind, ReasonFamily};
    let dir = tempfile::tempdir().expect("tempdir");
    // L2 converted, then was disqualified: rows 4 and 2 in time order (file order differs).
    let path = outcomes_file(
        dir.path(),
        &[
            "L1,2026-01-02,disqualified,not now",
            "L2,2026-01-05T10:00:00Z,disqualified,no_budget",
            "L1,2026-02-01,converted,",
            "L2,2026-01-03T09:00:00Z,converted,",
        ],
    );
    let err = read_outcomes(&path).expect_err("a conflict");
    match &err {
        MonitorError::OutcomeConflict {
            path: p,
            lead,
            first,
            second,
            first_outcome,
            second_outcome,
            why,
        } => {
            assert_eq!(p, &path);
            assert_eq!(lead, "L2");
            assert_eq!((*first, *second), (4, 2));
            assert_eq!(first_outcome.kind, OutcomeKind::Converted);
            assert_eq!(second_outcome.family, Some(ReasonFamily::BadFit));
            assert_eq!(*why, ConflictKind::AfterConversion);
        }
        other => panic!("not a conflict: {other}"),
    }
    let message = err.to_string();
    for part in [
        path.display().to_string(),
        "lead \"L2\"".into(),
        "row 4 (converted at 2026-01-03T09:00:00Z)".into(),
        "row 2 (disqualified (bad_fit) at 2026-01-05T10:00:00Z)".into(),
        "converted is final".into(),
    ] {
        assert!(message.contains(&part), "{part:?} not in {message}");
    }

    // After a final disqualification (no reason is final), and two at one instant.
    let path = outcomes_file(
        dir.path(),
        &["L3,2026-01-02,disqualified,", "L3,2026-03-01,converted,"],
    );
    let err = read_outcomes(&path).expect_err("after a final disqualification");
    assert!(
        matches!(
            err,
            MonitorError::OutcomeConflict {
                first: 1,
                second: 2,
                why: ConflictKind::AfterFinal { family: None },
                ..
            }
        ),
        "{err}"
    );
    assert!(err.to_string().contains("bad-timing"), "{err}");
    let path = outcomes_file(
        dir.path(),
        &[
            "L4,2026-01-02T00:00:00Z,disqualified,unresponsive",
            "L4,2026-01-02,converted,",
        ],
    );
    assert!(matches!(
        read_outcomes(&path),
        Err(MonitorError::OutcomeConflict {
            why: ConflictKind::SameInstant,
            ..
        })
    ));
}

#[test]
fn a_bad_timing_disqualification_may_be_followed_by_later_outcomes() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = outcomes_file(
        dir.path(),
        &[
            "L1,2026-03-01,converted,",
            "L1,2026-01-02,disqualified,Not Now",
            "L2,2026-01-02,disqualified,unresponsive",
            "L2,2026-02-02,disqualified,no_response",
            "L2,2026-04-02,disqualified,no_budget",
            "L3,2026-01-02,converted,",
        ],
    );
    let read = read_outcomes(&path).expect("a valid file");
    // Kept as read, in file order, reasons as written.
    assert_eq!(read.len(), 6);
    assert_eq!(read[0].outcome, OutcomeKind::Converted);
    assert_eq!(read[1].reason.as_deref(), Some("Not Now"));
    assert!(read[1].core().reopens());
}
