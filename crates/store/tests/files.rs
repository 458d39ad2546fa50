//! Files and the store, two paths to one history: a synthetic history read from its files,
//! and the same files imported into the store and read back, check into equal histories
//! (leads table, ids, creation times, outcomes, event log, end of the data) and equal
//! counted warnings, on both backends. Bad files are refused before anything is written.

mod common;

use std::io::Write;
use std::path::Path;

use common::{Fixture, on_both};
use qualify_core::schema::Schema;
use qualify_data::Format;
use qualify_data::history::{HistoryIssue, HistoryPaths, infer_leads_schema, read_history};
use qualify_data::synth::history::{HistoryConfig, generate_history, write_history};
use qualify_store::StoreError;
use qualify_store::files::{self, ImportOptions};

/// A synthetic history's files, with an event of a lead missing from the leads table and a
/// repeated event appended (both dropped by the readers' policy).
fn history_files(dir: &Path) -> (HistoryPaths, Schema) {
    let synth = generate_history(&HistoryConfig::new(300, 7));
    let written = write_history(dir, &synth, Format::Csv).expect("write history");
    let events = std::fs::read_to_string(&written.events).expect("events");
    let header: Vec<&str> = events
        .lines()
        .next()
        .expect("a header")
        .split(',')
        .collect();
    let lead = header
        .iter()
        .position(|c| *c == "lead_id")
        .expect("lead_id column");
    let last = events.lines().last().expect("an event").to_string();
    let mut ghost: Vec<&str> = last.split(',').collect();
    ghost[lead] = "ghost-lead";
    let mut f = std::fs::OpenOptions::new()
        .append(true)
        .open(&written.events)
        .expect("open events");
    writeln!(f, "{}", ghost.join(",")).expect("append");
    writeln!(f, "{last}").expect("append");
    let paths = HistoryPaths {
        leads: written.leads,
        events: written.events,
        outcomes: Some(written.outcomes),
    };
    let schema = infer_leads_schema(&paths.leads, None, None, None)
        .expect("schema")
        .schema;
    (paths, schema)
}

#[tokio::test]
async fn an_imported_history_reads_back_as_its_files_read() {
    on_both(|f: Fixture| async move {
        let dir = tempfile::tempdir().expect("tempdir");
        let (paths, schema) = history_files(dir.path());
        let from_files = read_history(&paths, &schema, None).expect("files");
        assert!(from_files.report.count(HistoryIssue::EventOfUnknownLead) >= 1);
        let imported = files::import(&f.store, &paths, &schema, None, ImportOptions::default())
            .await
            .expect("import");
        assert_eq!(imported.leads, from_files.history.ids.len());
        assert_eq!(imported.report, from_files.report);
        let from_store = files::read_history(&f.store, &schema).await.expect("store");
        assert_eq!(from_store.history, from_files.history);
        assert!(
            from_store
                .report
                .warnings
                .iter()
                .all(|w| w.issue == HistoryIssue::EventBeforeCreation),
            "dropped rows were not imported: {:?}",
            from_store.report
        );
        // A second import is refused (it would store events without ids twice).
        let err = files::import(&f.store, &paths, &schema, None, ImportOptions::default())
            .await
            .expect_err("not empty");
        assert!(matches!(err, StoreError::NotEmpty { .. }), "{err}");
        // The schema inferred from the store is the one inferred from the file.
        let tables = f
            .store
            .history_tables(
                &schema.history.clone().unwrap_or_default(),
                &qualify_store::SetSeparators::of(&schema),
            )
            .await
            .expect("tables");
        let inferred = files::infer_leads_schema(&tables).expect("inferred");
        assert_eq!(inferred.schema, schema);
    })
    .await;
}

#[tokio::test]
async fn a_file_the_policy_refuses_writes_nothing() {
    on_both(|f: Fixture| async move {
        let dir = tempfile::tempdir().expect("tempdir");
        let (paths, schema) = history_files(dir.path());
        let outcomes = paths.outcomes.clone().expect("outcomes");
        let text = std::fs::read_to_string(&outcomes).expect("outcomes");
        let second = text.lines().nth(1).expect("an outcome").to_string();
        std::fs::write(&outcomes, format!("{text}{second}\n")).expect("write");
        let err = files::import(&f.store, &paths, &schema, None, ImportOptions::default())
            .await
            .expect_err("two outcomes");
        assert!(err.to_string().contains("two outcomes"), "{err}");
        let tables = f
            .store
            .history_tables(&Default::default(), &Default::default())
            .await
            .expect("tables");
        assert_eq!(tables.leads.rows(), 0);
        assert!(tables.events.is_none());
    })
    .await;
}

/// A set column is stored as the list a client would `PUT`, split at the schema's separator
/// (here `|`, not the default `;`); the store's history still reads back as the files'.
#[tokio::test]
async fn set_cells_are_stored_as_lists_split_at_the_schema_separator() {
    on_both(|f: Fixture| async move {
        let dir = tempfile::tempdir().expect("tempdir");
        let (paths, schema) = history_files(dir.path());
        let text = std::fs::read_to_string(&paths.leads).expect("leads");
        std::fs::write(&paths.leads, text.replace(';', "|")).expect("write");
        let mut schema = schema;
        let column = schema
            .columns
            .iter_mut()
            .find(|c| c.name == "tech_stack")
            .expect("a tech_stack column");
        assert_eq!(column.kind, Some(qualify_core::schema::ColumnType::Set));
        column.separator = Some("|".into());
        let from_files = read_history(&paths, &schema, None).expect("files");
        files::import(&f.store, &paths, &schema, None, ImportOptions::default())
            .await
            .expect("import");
        let from_store = files::read_history(&f.store, &schema).await.expect("store");
        assert_eq!(from_store.history, from_files.history);

        let leads = from_files
            .history
            .leads
            .column("tech_stack")
            .expect("column");
        let (row, cell) = (0..leads.len())
            .find_map(|r| match leads.cell(r) {
                qualify_core::value::Cell::Text(t) if t.contains('|') => Some((r, t.to_string())),
                _ => None,
            })
            .expect("a lead with several tools");
        let id = &from_files.history.ids[row];
        let stored = f.store.lead(id).await.expect("read").expect("the lead");
        let expected: Vec<serde_json::Value> = cell.split('|').map(Into::into).collect();
        let attributes = stored.attributes.as_ref().expect("attributes");
        assert_eq!(
            attributes["tech_stack"],
            serde_json::Value::Array(expected.clone())
        );
        let record = stored.record().expect("record");
        assert_eq!(
            serde_json::to_value(&record.tech_stack).expect("json"),
            serde_json::Value::Array(expected)
        );
    })
    .await;
}
