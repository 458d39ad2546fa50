//! A synthetic history written to disk and read back: the files hold exactly the generated
//! tables (CSV and Parquet alike), and the history contract holds when checked from the files
//! alone, as the training pipeline will read them.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};
use qualify_core::lead::{ActivityType, classify_email};
use qualify_core::value::{RawColumn, RawTable};
use qualify_data::synth::history::{
    EventKind, HistoryConfig, Reason, events_table, generate_history, leads_table, outcomes_table,
    write_history,
};
use qualify_data::{Format, ReadOptions, read_table};

fn read(path: &std::path::Path) -> RawTable {
    read_table(path, &ReadOptions::default()).expect("read back")
}

fn text<'a>(table: &'a RawTable, name: &str) -> &'a [Option<String>] {
    match table.column(name) {
        Some(RawColumn::Text(v)) => v,
        other => panic!("{name}: a text column, got {other:?}"),
    }
}

fn time(cell: &Option<String>) -> DateTime<Utc> {
    let s = cell.as_deref().expect("a time");
    DateTime::parse_from_rfc3339(s)
        .expect("RFC 3339")
        .with_timezone(&Utc)
}

#[test]
fn csv_and_parquet_hold_the_generated_tables() {
    let history = generate_history(&HistoryConfig::new(300, 11));
    let dir = tempfile::tempdir().expect("tempdir");
    for format in [Format::Csv, Format::Parquet] {
        let files = write_history(&dir.path().join(format.to_string()), &history, format)
            .expect("write history");
        assert_eq!(read(&files.leads), leads_table(&history).expect("leads"));
        assert_eq!(read(&files.events), events_table(&history).expect("events"));
        assert_eq!(
            read(&files.outcomes),
            outcomes_table(&history).expect("outcomes")
        );
    }
}

#[test]
fn the_contract_holds_in_the_files() {
    let history = generate_history(&HistoryConfig::new(1_500, 5));
    let dir = tempfile::tempdir().expect("tempdir");
    let files = write_history(dir.path(), &history, Format::Csv).expect("write history");
    let (leads, events, outcomes) = (
        read(&files.leads),
        read(&files.events),
        read(&files.outcomes),
    );

    let want = |t: &RawTable, names: &[&str]| assert_eq!(t.names(), names);
    want(
        &leads,
        &[
            "id",
            "created_at",
            "email",
            "email_domain_type",
            "job_title",
            "seniority",
            "industry",
            "employees",
            "annual_revenue",
            "country",
            "crm",
            "marketing_automation",
            "tech_stack",
        ],
    );
    want(&events, &["event_id", "lead_id", "at", "type", "value"]);
    want(&outcomes, &["lead_id", "at", "outcome", "reason"]);

    let created: HashMap<&str, DateTime<Utc>> = text(&leads, "id")
        .iter()
        .zip(text(&leads, "created_at"))
        .map(|(id, at)| (id.as_deref().expect("an id"), time(at)))
        .collect();
    assert_eq!(created.len(), leads.rows(), "lead ids are unique");
    for (email, class) in text(&leads, "email")
        .iter()
        .zip(text(&leads, "email_domain_type"))
    {
        assert_eq!(
            class.as_deref(),
            Some(classify_email(email.as_deref()).as_str())
        );
    }

    let reasons: HashSet<&str> = Reason::ALL.iter().map(|r| r.as_str()).collect();
    let mut closed: HashMap<&str, (DateTime<Utc>, &str)> = HashMap::new();
    for row in 0..outcomes.rows() {
        let lead = text(&outcomes, "lead_id")[row].as_deref().expect("lead_id");
        let at = time(&text(&outcomes, "at")[row]);
        let outcome = text(&outcomes, "outcome")[row].as_deref().expect("outcome");
        let reason = text(&outcomes, "reason")[row].as_deref();
        assert!(at > created[lead], "{lead}: outcome after creation");
        match (outcome, reason) {
            ("converted", None) => {}
            ("disqualified", Some(r)) => assert!(reasons.contains(r), "{r}"),
            other => panic!("{lead}: outcome {other:?}"),
        }
        assert!(
            closed.insert(lead, (at, outcome)).is_none(),
            "{lead}: two outcomes"
        );
    }

    let Some(RawColumn::Number(values)) = events.column("value") else {
        panic!("value is numeric")
    };
    let trap: HashSet<&str> = EventKind::POST_CONVERSION
        .iter()
        .map(|k| k.as_str())
        .collect();
    let valued = [
        EventKind::Activity(ActivityType::WebsiteVisit).as_str(),
        EventKind::InvoicePaid.as_str(),
    ];
    let mut ids = HashSet::new();
    for (row, value) in values.iter().enumerate() {
        let id = text(&events, "event_id")[row].as_deref().expect("event_id");
        assert!(ids.insert(id), "{id}: duplicate event_id");
        let lead = text(&events, "lead_id")[row].as_deref().expect("lead_id");
        let at = time(&text(&events, "at")[row]);
        let kind = text(&events, "type")[row].as_deref().expect("type");
        assert!(at >= created[lead], "{id}: before its lead's creation");
        assert_eq!(value.is_some(), valued.contains(&kind), "{id}: value");
        if trap.contains(kind) {
            let (converted_at, outcome) = closed[lead];
            assert!(outcome == "converted" && at > converted_at, "{id}: {kind}");
        }
    }
    assert!(closed.len() < leads.rows(), "some leads are still open");
}

#[test]
fn an_unwritable_directory_is_an_error_naming_it() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("not-a-dir");
    std::fs::write(&file, "x").expect("write");
    let history = generate_history(&HistoryConfig::new(5, 1));
    let err = write_history(&file.join("history"), &history, Format::Csv).expect_err("fails");
    assert!(err.to_string().contains("not-a-dir"), "{err}");
}
