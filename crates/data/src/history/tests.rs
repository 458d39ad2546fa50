//! The policy of docs/history.md ("Bad input"), one case each, and a round trip through files.

use std::path::Path;

use qualify_core::history::{EventLog, OutcomeKind};
use qualify_core::schema::Schema;
use qualify_core::value::{RawColumn, RawTable};

use super::*;

const SCHEMA: &str = r#"
[[column]]
name = "id"
role = "id"
[[column]]
name = "created_at"
role = "timestamp"
[[column]]
name = "industry"
role = "firmographic"
type = "categorical"
[history]
"#;

fn text(cells: &[&str]) -> RawColumn {
    RawColumn::Text(
        cells
            .iter()
            .map(|c| (!c.is_empty()).then(|| c.to_string()))
            .collect(),
    )
}

fn table(columns: &[(&str, &[&str])]) -> RawTable {
    let mut t = RawTable::new();
    for (name, cells) in columns {
        t.push(*name, text(cells)).expect("column");
    }
    t
}

fn leads() -> RawTable {
    table(&[
        ("id", &["a", "b", "c"]),
        (
            "created_at",
            &["2026-01-01", "2026-01-05", "2026-02-01T12:00:00Z"],
        ),
        ("industry", &["saas", "", "retail"]),
    ])
}

fn events(rows: &[[&str; 4]]) -> RawTable {
    let col = |i: usize| rows.iter().map(|r| r[i]).collect::<Vec<&str>>();
    table(&[
        ("event_id", &col(0)),
        ("lead_id", &col(1)),
        ("at", &col(2)),
        ("type", &col(3)),
    ])
}

fn outcomes(rows: &[[&str; 3]]) -> RawTable {
    let col = |i: usize| rows.iter().map(|r| r[i]).collect::<Vec<&str>>();
    table(&[("lead_id", &col(0)), ("at", &col(1)), ("outcome", &col(2))])
}

/// Outcomes with a `reason` column.
fn outcomes_why(rows: &[[&str; 4]]) -> RawTable {
    let col = |i: usize| rows.iter().map(|r| r[i]).collect::<Vec<&str>>();
    table(&[
        ("lead_id", &col(0)),
        ("at", &col(1)),
        ("outcome", &col(2)),
        ("reason", &col(3)),
    ])
}

fn read(events: &RawTable, outcomes: &RawTable) -> Result<ReadHistory, HistoryReadError> {
    let schema = Schema::from_toml(SCHEMA, "leads.toml").expect("schema");
    from_tables(
        leads(),
        Path::new("leads.csv"),
        Some(Source {
            table: events,
            path: Path::new("events.csv"),
        }),
        Some(Source {
            table: outcomes,
            path: Path::new("outcomes.csv"),
        }),
        &schema,
    )
}

fn good_events() -> RawTable {
    events(&[
        ["e1", "a", "2026-01-02", "Demo_Request"],
        ["e2", "a", "2026-01-03", "phone call"],
        ["e3", "b", "2026-01-04", "website_visit"],
        ["e2", "a", "2026-01-03", "phone call"],
        ["e4", "zz", "2026-01-03", "website_visit"],
        ["", "c", "2026-03-01", "website_visit"],
        ["", "c", "2026-03-01", "website_visit"],
    ])
}

#[test]
fn a_good_history_reads_with_counted_warnings() {
    let o = outcomes(&[
        ["a", "2026-01-10", "Converted"],
        ["b", "2026-02-10", "disqualified"],
        ["nobody", "2026-02-10", "disqualified"],
    ]);
    let read = read(&good_events(), &o).expect("reads");
    let h = &read.history;
    assert_eq!(h.ids, ["a", "b", "c"]);
    assert_eq!(
        h.events.len(),
        5,
        "a duplicate and an unknown lead's event dropped"
    );
    let types: Vec<&str> = h.events.types().iter().map(|t| t.as_str()).collect();
    assert_eq!(types, ["demo_request", "phone call", "website_visit"]);
    assert_eq!(
        h.events.lead(2).len(),
        2,
        "blank event ids are not duplicates"
    );
    let kind = |lead: usize| h.outcomes[lead].latest().map(|o| o.kind);
    assert_eq!(kind(0), Some(OutcomeKind::Converted));
    assert_eq!(kind(1), Some(OutcomeKind::Disqualified));
    assert_eq!(kind(2), None);
    assert_eq!(
        h.latest,
        qualify_core::history::millis("2026-03-01T00:00:00Z".parse().expect("time"))
    );
    let r = &read.report;
    assert_eq!(r.count(HistoryIssue::DuplicateEvent), 1);
    assert_eq!(r.count(HistoryIssue::EventOfUnknownLead), 1);
    assert_eq!(r.count(HistoryIssue::OutcomeOfUnknownLead), 1);
    assert_eq!(
        r.count(HistoryIssue::EventBeforeCreation),
        1,
        "b's event on the 4th"
    );
    let text = r.warnings[0].to_string();
    assert!(text.contains("row 5 (zz)"), "{text}");
}

/// A bad-timing disqualification may be followed by another outcome: the lead keeps both, in
/// time order, and is open again from its first event after the disqualification.
#[test]
fn a_bad_timing_lead_may_have_a_later_outcome() {
    let o = outcomes_why(&[
        ["c", "2026-04-01", "converted", ""],
        ["c", "2026-02-10", "disqualified", "Not now"],
    ]);
    let read = read(&good_events(), &o).expect("reads");
    let h = &read.history;
    let kinds: Vec<OutcomeKind> = h.outcomes[2].as_slice().iter().map(|o| o.kind).collect();
    assert_eq!(kinds, [OutcomeKind::Disqualified, OutcomeKind::Converted]);
    let at = |s: &str| qualify_core::history::millis(s.parse().expect("time"));
    let life = h.life(2);
    assert!(!life.is_open(at("2026-02-15T00:00:00Z")));
    assert!(
        life.is_open(at("2026-03-01T00:00:00Z")),
        "re-engaged by its event"
    );
    assert!(!life.is_open(at("2026-04-01T00:00:00Z")));
}

#[test]
fn label_breaking_rows_are_errors_naming_file_row_and_column() {
    let none = outcomes(&[]);
    let cases: Vec<(RawTable, RawTable, &[&str])> = vec![
        (
            events(&[["e1", "a", "yesterday", "x"]]),
            none.clone(),
            &["events.csv", "row 1", "\"at\"", "yesterday"],
        ),
        (
            events(&[["e1", "a", "2026-01-02", ""]]),
            none.clone(),
            &["events.csv", "row 1", "\"type\"", "empty"],
        ),
        (
            good_events(),
            outcomes(&[["a", "2026-01-10", "won"]]),
            &["outcomes.csv", "row 1", "\"won\"", "converted"],
        ),
        (
            good_events(),
            outcomes(&[
                ["a", "2026-01-12", "converted"],
                ["a", "2026-01-10", "converted"],
            ]),
            &[
                "outcomes.csv",
                "\"a\"",
                "row 2 (converted) and row 1 (converted)",
                "converted is final",
            ],
        ),
        (
            good_events(),
            outcomes(&[
                ["a", "2026-01-10", "converted"],
                ["a", "2026-01-10", "converted"],
            ]),
            &["\"a\"", "row 1", "row 2", "same instant"],
        ),
        (
            good_events(),
            outcomes_why(&[
                ["b", "2026-02-10", "disqualified", "No Budget"],
                ["b", "2026-03-10", "converted", ""],
            ]),
            &[
                "\"b\"",
                "row 1 (disqualified (bad_fit)) and row 2 (converted)",
                "final disqualification (bad_fit)",
            ],
        ),
        (
            good_events(),
            outcomes(&[
                ["b", "2026-02-10", "disqualified"],
                ["b", "2026-03-10", "disqualified"],
            ]),
            &["\"b\"", "row 1", "final disqualification (no reason)"],
        ),
        (
            good_events(),
            outcomes(&[["b", "2026-01-02", "disqualified"]]),
            &["outcomes.csv", "row 1", "\"b\"", "before it was created"],
        ),
    ];
    for (e, o, wanted) in cases {
        let err = read(&e, &o).expect_err("bad input").to_string();
        for w in wanted {
            assert!(err.contains(w), "{w:?} not in {err}");
        }
    }
    let mut dup = leads();
    dup = {
        let mut t = RawTable::new();
        for (name, col) in dup.columns() {
            let mut col = col.clone();
            if let RawColumn::Text(v) = &mut col
                && name == "id"
            {
                v[2] = Some("a".into());
            }
            t.push(name, col).expect("column");
        }
        t
    };
    let schema = Schema::from_toml(SCHEMA, "leads.toml").expect("schema");
    let err = from_tables(dup, Path::new("leads.csv"), None, None, &schema)
        .expect_err("duplicate id")
        .to_string();
    assert!(
        err.contains("\"a\"") && err.contains("rows 1 and 3"),
        "{err}"
    );
    let renamed = events(&[["e1", "a", "2026-01-02", "x"]]);
    let schema = Schema::from_toml(
        &SCHEMA.replace("[history]", "[history.events]\nat = \"when\""),
        "leads.toml",
    )
    .expect("schema");
    let err = from_tables(
        leads(),
        Path::new("leads.csv"),
        Some(Source {
            table: &renamed,
            path: Path::new("events.csv"),
        }),
        None,
        &schema,
    )
    .expect_err("no column")
    .to_string();
    assert!(
        err.contains("\"when\"") && err.contains("event_id, lead_id, at, type"),
        "{err}"
    );
}

/// Written as CSV (remapped names, no `event_id` column, an empty outcomes file) and read
/// back: the same history as from the tables.
#[test]
fn files_read_like_tables() {
    let dir = tempfile::tempdir().expect("dir");
    let schema_text = SCHEMA.replace(
        "[history]",
        "[history.events]\nlead_id = \"Lead\"\ntype = \"Kind\"\n",
    );
    let schema = Schema::from_toml(&schema_text, "leads.toml").expect("schema");
    let e = table(&[
        ("Lead", &["a", "b"]),
        ("at", &["2026-01-02T10:00:00Z", "2026-01-06"]),
        ("Kind", &["x", "y"]),
        ("value", &["3.5", ""]),
    ]);
    let paths = HistoryPaths::in_dir(dir.path());
    crate::write_table(&paths.leads, &leads()).expect("leads");
    crate::write_table(&paths.events, &e).expect("events");
    std::fs::write(
        paths.outcomes.as_ref().expect("path"),
        "lead_id,at,outcome\n",
    )
    .expect("outcomes");
    let read = read_history(&paths, &schema, None).expect("reads");
    let h = &read.history;
    assert_eq!(h.events.len(), 2);
    assert!(h.outcomes.iter().all(|o| o.is_empty()));
    let log: &EventLog = &h.events;
    assert_eq!(log.lead(1).len(), 1);
    assert_eq!(h.leads.column("industry").map(|c| c.len()), Some(3));
    let bad = table(&[
        ("Lead", &["a"]),
        ("at", &["2026-01-02"]),
        ("Kind", &["x"]),
        ("value", &["lots"]),
    ]);
    crate::write_table(&paths.events, &bad).expect("events");
    let err = read_history(&paths, &schema, None)
        .expect_err("value")
        .to_string();
    assert!(err.contains("\"value\"") && err.contains("lots"), "{err}");
}

/// The three files are read side by side; with several bad files the error is still the
/// first in the order leads, events, outcomes.
#[test]
fn of_several_bad_files_the_first_is_reported() {
    let dir = tempfile::tempdir().expect("dir");
    let schema = Schema::from_toml(SCHEMA, "leads.toml").expect("schema");
    let paths = HistoryPaths::in_dir(dir.path());
    let outcomes = paths.outcomes.clone().expect("path");
    std::fs::write(&outcomes, "lead_id,at,at\nL1,2026-01-02,x\n").expect("outcomes");
    std::fs::write(&paths.events, "lead_id,at\nL1\n").expect("events");
    let err = |paths: &HistoryPaths| {
        read_history_files(paths, &schema, None)
            .expect_err("bad")
            .to_string()
    };
    let named = |e: &str, path: &Path| e.contains(&path.display().to_string());
    let missing = err(&paths);
    assert!(named(&missing, &paths.leads), "{missing}");
    crate::write_table(&paths.leads, &leads()).expect("leads");
    let events = err(&paths);
    assert!(named(&events, &paths.events), "{events}");
    crate::write_table(&paths.events, &good_events()).expect("events");
    let repeated = err(&paths);
    assert!(named(&repeated, &outcomes), "{repeated}");
}
