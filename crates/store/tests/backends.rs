//! The store's contract, on both backends (tests/common: SQLite always, PostgreSQL when a
//! server is named).

mod common;

use common::{Fixture, obj, on_both, t};
use qualify_core::history::{ConflictKind, HistoryColumns, OutcomeKind, ReasonFamily};
use qualify_core::lead::EventType;
use qualify_core::scorelog::{LoggedReason, ReasonKind, ScoreLogEntry, ScoreSource};
use qualify_core::value::RawColumn;
use qualify_store::outcomes::Recorded;
use qualify_store::{Item, NewEvent, NewOutcome, SCHEMA_VERSION, Store, StoreError};

fn event(lead: &str, kind: &str, at: &str, id: Option<&str>) -> NewEvent {
    NewEvent {
        lead_id: lead.into(),
        kind: EventType::new(kind).expect("type"),
        at: t(at),
        event_id: id.map(str::to_string),
        value: None,
    }
}

fn outcome(lead: &str, kind: OutcomeKind, at: &str) -> NewOutcome {
    NewOutcome {
        lead_id: lead.into(),
        outcome: kind,
        at: t(at),
        reason: None,
    }
}

#[tokio::test]
async fn migrations_are_applied_and_a_newer_store_is_refused() {
    on_both(|f: Fixture| async move {
        assert_eq!(f.store.schema_version().await.expect("version"), SCHEMA_VERSION);
        // Connecting again applies nothing and works.
        let again = Store::connect(&f.url).await.expect("reconnect");
        assert_eq!(again.schema_version().await.expect("version"), SCHEMA_VERSION);
        again.close().await;
        // A version from a future qualify.
        sqlx::any::install_default_drivers();
        let pool = sqlx::AnyPool::connect(&f.url).await.expect("raw pool");
        sqlx::query(
            "INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time) \
             VALUES (99, 'from the future', TRUE, $1, 0)",
        )
        .bind(vec![0u8; 48])
        .execute(&pool)
        .await
        .expect("insert a future version");
        pool.close().await;
        let err = Store::connect(&f.url).await.expect_err("newer store");
        assert!(
            matches!(err, StoreError::SchemaTooNew { store: 99, code } if code == SCHEMA_VERSION),
            "{err}"
        );
        let text = err.to_string();
        assert!(text.contains("version 99") && text.contains(&format!("version {SCHEMA_VERSION}")), "{text}");
    })
    .await;
}

#[tokio::test]
async fn a_lead_is_upserted_replaced_and_read_back_with_its_history() {
    on_both(|f: Fixture| async move {
        let s = &f.store;
        assert!(s.lead("L1").await.expect("read").is_none());
        s.upsert_lead(
            "L1",
            &obj(r#"{"industry": "saas", "employees": 250, "created_at": "2026-01-02T09:00:00Z"}"#),
        )
        .await
        .expect("upsert");
        s.append_events(&[
            event("L1", "demo_request", "2026-01-05T00:00:00Z", Some("e2")),
            event(
                "L1",
                "Pricing_Page_Visit",
                "2026-01-03T00:00:00Z",
                Some("e1"),
            ),
        ])
        .await
        .expect("events");
        // Replaced whole: `employees` goes, the events stay.
        s.upsert_lead(
            "L1",
            &obj(r#"{"industry": "retail", "created_at": "2026-01-02T09:00:00Z"}"#),
        )
        .await
        .expect("upsert again");
        let lead = s.lead("L1").await.expect("read").expect("stored");
        let attributes = lead.attributes.clone().expect("attributes");
        assert_eq!(
            attributes.get("industry"),
            Some(&serde_json::json!("retail"))
        );
        assert_eq!(attributes.get("id"), Some(&serde_json::json!("L1")));
        assert!(!attributes.contains_key("employees"));
        assert_eq!(lead.created_at, Some(t("2026-01-02T09:00:00Z")));
        let kinds: Vec<&str> = lead.events.iter().map(|e| e.kind.as_str()).collect();
        assert_eq!(
            kinds,
            ["pricing_page_visit", "demo_request"],
            "time order, canonical spelling"
        );
        // The lead as a record: what /v1/score would be sent.
        let record = lead.record().expect("record");
        assert_eq!(record.id.as_deref(), Some("L1"));
        assert_eq!(record.activities.len(), 2);
        assert_eq!(record.industry.as_deref(), Some("retail"));
        // The canonical rules apply.
        let err = s
            .upsert_lead("L1", &obj(r#"{"employees": 12.5}"#))
            .await
            .expect_err("not whole");
        assert!(err.to_string().contains("L1"), "{err}");
    })
    .await;
}

#[tokio::test]
async fn events_are_idempotent_on_event_id_and_create_stub_leads() {
    on_both(|f: Fixture| async move {
        let s = &f.store;
        let batch = [
            event("A", "email_open", "2026-02-01T00:00:00Z", Some("x1")),
            event("A", "email_open", "2026-02-01T00:00:00Z", Some("x1")),
            event("B", "webinar", "2026-02-02T00:00:00Z", None),
            event("B", "webinar", "2026-02-02T00:00:00Z", None),
        ];
        let first = s.append_events(&batch).await.expect("append");
        assert_eq!(
            (first.stored, first.duplicates, first.stub_leads),
            (3, 1, 2)
        );
        // The same batch again (a retry): only the events without an id are new.
        let again = s.append_events(&batch).await.expect("append again");
        assert_eq!(
            (again.stored, again.duplicates, again.stub_leads),
            (2, 2, 0)
        );
        let a = s.lead("A").await.expect("read").expect("stub");
        assert!(a.attributes.is_none(), "a stub has no attributes");
        assert_eq!(a.events.len(), 1);
        assert_eq!(
            s.lead("B").await.expect("read").expect("stub").events.len(),
            4
        );
        // Values: a batch whose value is missing, then one of the same shape that has it
        // (the driver must not keep the first batch's parameter types).
        let mut with_value = event("A", "invoice", "2026-02-03T00:00:00Z", None);
        s.append_events(std::slice::from_ref(&with_value))
            .await
            .expect("no value");
        with_value.value = Some(1234.5);
        s.append_events(std::slice::from_ref(&with_value))
            .await
            .expect("a value");
        let values: Vec<Option<f64>> = s
            .lead("A")
            .await
            .expect("read")
            .expect("lead")
            .events
            .iter()
            .filter(|e| e.kind.as_str() == "invoice")
            .map(|e| e.value)
            .collect();
        assert_eq!(values, [None, Some(1234.5)]);
        // The stub's attributes arrive later.
        s.upsert_lead("A", &obj(r#"{"created_at": "2026-01-01"}"#))
            .await
            .expect("upsert");
        assert_eq!(
            s.lead("A").await.expect("read").expect("lead").events.len(),
            3
        );
    })
    .await;
}

#[tokio::test]
async fn a_bad_event_stores_nothing_of_its_batch_and_is_named() {
    on_both(|f: Fixture| async move {
        let s = &f.store;
        let mut bad = event("C", "email_open", "2026-02-01T00:00:00Z", None);
        bad.value = Some(f64::INFINITY);
        let batch = [
            event("C", "email_open", "2026-02-01T00:00:00Z", Some("c1")),
            event("D", "email_open", "2026-02-01T00:00:00Z", None),
            bad,
        ];
        let err = s.append_events(&batch).await.expect_err("bad value");
        assert!(
            matches!(&err, StoreError::Event { what: Item::Batch(2), lead, .. } if lead == "C"),
            "{err}"
        );
        assert!(s.lead("C").await.expect("read").is_none());
        assert!(s.lead("D").await.expect("read").is_none());
        let blank = [event(" ", "email_open", "2026-02-01T00:00:00Z", None)];
        assert!(matches!(
            s.append_events(&blank).await,
            Err(StoreError::BlankLeadId {
                what: Item::Batch(0)
            })
        ));
    })
    .await;
}

#[tokio::test]
async fn outcomes_follow_the_file_policy() {
    on_both(|f: Fixture| async move {
        let s = &f.store;
        s.upsert_lead("L", &obj(r#"{"created_at": "2026-03-01T00:00:00Z"}"#))
            .await
            .expect("lead");
        let err = s
            .record_outcome(&outcome(
                "L",
                OutcomeKind::Converted,
                "2026-02-01T00:00:00Z",
            ))
            .await
            .expect_err("before creation");
        assert!(
            matches!(err, StoreError::OutcomeBeforeCreation { .. }),
            "{err}"
        );
        let won = outcome("L", OutcomeKind::Converted, "2026-03-10T00:00:00Z");
        assert_eq!(s.record_outcome(&won).await.expect("record"), Recorded::New);
        assert_eq!(
            s.record_outcome(&won).await.expect("retry"),
            Recorded::Again
        );
        let err = s
            .record_outcome(&outcome(
                "L",
                OutcomeKind::Disqualified,
                "2026-03-11T00:00:00Z",
            ))
            .await
            .expect_err("second outcome");
        assert!(
            matches!(
                &err,
                StoreError::OutcomeConflict { lead, why: ConflictKind::AfterConversion, .. }
                    if lead == "L"
            ),
            "{err}"
        );
        // A creation after the outcome is refused, and nothing changes.
        let err = s
            .upsert_lead(
                "L",
                &obj(r#"{"created_at": "2026-04-01T00:00:00Z", "industry": "x"}"#),
            )
            .await
            .expect_err("created after the outcome");
        assert!(
            matches!(err, StoreError::OutcomeBeforeCreation { .. }),
            "{err}"
        );
        let lead = s.lead("L").await.expect("read").expect("lead");
        assert_eq!(lead.created_at, Some(t("2026-03-01T00:00:00Z")));
        assert_eq!(
            lead.outcome.map(|o| o.outcome),
            Some(OutcomeKind::Converted)
        );
        // An outcome of an unknown lead makes a stub, as an event does.
        let mut lost = outcome("M", OutcomeKind::Disqualified, "2026-03-10T00:00:00Z");
        lost.reason = Some("no budget".into());
        s.record_outcome(&lost).await.expect("stub outcome");
        let m = s.lead("M").await.expect("read").expect("stub");
        assert_eq!(
            m.outcome.and_then(|o| o.reason).as_deref(),
            Some("no budget")
        );
    })
    .await;
}

fn why(lead: &str, kind: OutcomeKind, at: &str, reason: &str) -> NewOutcome {
    NewOutcome {
        reason: Some(reason.into()),
        ..outcome(lead, kind, at)
    }
}

/// A lead disqualified for bad timing may convert (or be disqualified again) later; a
/// conversion and a bad-fit disqualification are final; two outcomes at one instant are
/// refused; a retry of any stored outcome changes nothing.
#[tokio::test]
async fn a_bad_timing_lead_can_have_a_later_outcome() {
    on_both(|f: Fixture| async move {
        let s = &f.store;
        s.upsert_lead("R", &obj(r#"{"created_at": "2026-03-01T00:00:00Z"}"#))
            .await
            .expect("lead");
        let later = why(
            "R",
            OutcomeKind::Disqualified,
            "2026-03-10T00:00:00Z",
            "Not now",
        );
        let won = outcome("R", OutcomeKind::Converted, "2026-04-10T00:00:00Z");
        assert_eq!(s.record_outcome(&later).await.expect("dq"), Recorded::New);
        let err = s
            .record_outcome(&outcome(
                "R",
                OutcomeKind::Converted,
                "2026-03-10T00:00:00Z",
            ))
            .await
            .expect_err("same instant");
        assert!(
            matches!(
                err,
                StoreError::OutcomeConflict {
                    why: ConflictKind::SameInstant,
                    ..
                }
            ),
            "{err}"
        );
        assert_eq!(
            s.record_outcomes(&[won.clone(), later.clone()])
                .await
                .expect("converted later"),
            [Recorded::New, Recorded::Again]
        );
        let lead = s.lead("R").await.expect("read").expect("lead");
        let kinds: Vec<OutcomeKind> = lead.outcomes.iter().map(|o| o.outcome).collect();
        assert_eq!(kinds, [OutcomeKind::Disqualified, OutcomeKind::Converted]);
        assert_eq!(lead.outcome.map(|o| o.at), Some(won.at), "the latest");
        let err = s
            .record_outcome(&why(
                "R",
                OutcomeKind::Disqualified,
                "2026-03-20T00:00:00Z",
                "no budget",
            ))
            .await
            .expect_err("between the two: a bad fit then a conversion");
        assert!(
            matches!(
                err,
                StoreError::OutcomeConflict {
                    why: ConflictKind::AfterFinal {
                        family: Some(ReasonFamily::BadFit)
                    },
                    ..
                }
            ),
            "{err}"
        );
        let text = err.to_string();
        assert!(
            text.contains("\"R\"")
                && text.contains("disqualified (bad_fit)")
                && text.contains("converted"),
            "{text}"
        );
        assert_eq!(s.outcomes_until(None).await.expect("all").len(), 2);
    })
    .await;
}

/// A store at version 1 (one outcome per lead) holding data upgrades when it is opened: its
/// rows are kept, and its leads can then hold several outcomes.
#[tokio::test]
async fn a_version_1_store_with_data_upgrades() {
    let dir = tempfile::tempdir().expect("temp dir");
    let lite = format!("sqlite://{}", dir.path().join("v1.db").display());
    let mut urls = vec![(lite.clone(), format!("{lite}?mode=rwc"), "sqlite")];
    if let Some(pg) = common::postgres_database().await {
        urls.push((pg.clone(), pg, "postgres"));
    }
    for (url, create, backend) in urls {
        let migrations = tempfile::tempdir().expect("temp dir");
        let first = match backend {
            "sqlite" => include_str!("../migrations/sqlite/0001_leads_events_outcomes_scores.sql"),
            _ => include_str!("../migrations/postgres/0001_leads_events_outcomes_scores.sql"),
        };
        std::fs::write(
            migrations
                .path()
                .join("0001_leads_events_outcomes_scores.sql"),
            first,
        )
        .expect("write");
        sqlx::any::install_default_drivers();
        let pool = sqlx::AnyPool::connect(&create).await.expect("raw pool");
        sqlx::migrate::Migrator::new(migrations.path().to_path_buf())
            .await
            .expect("migrator")
            .run(&pool)
            .await
            .expect("version 1");
        for sql in [
            "INSERT INTO leads (id, attributes, created_at, updated_at) VALUES \
             ('A', '{\"created_at\": \"2026-03-01T00:00:00Z\"}', 1772323200000, 1), \
             ('B', NULL, NULL, 1)",
            "INSERT INTO outcomes (lead_id, outcome, at, reason, recorded_at) VALUES \
             ('A', 'disqualified', 1773100800000, 'not now', 5), \
             ('B', 'converted', 1773100800000, NULL, 3)",
        ] {
            sqlx::query(sql)
                .execute(&pool)
                .await
                .expect("version 1 rows");
        }
        pool.close().await;
        let store = Store::connect(&url).await.expect("upgrade");
        assert_eq!(
            store.schema_version().await.expect("version"),
            SCHEMA_VERSION,
            "{backend}"
        );
        let all = store.outcomes_until(None).await.expect("outcomes");
        let leads: Vec<&str> = all.iter().map(|o| o.lead_id.as_str()).collect();
        assert_eq!(leads, ["A", "B"], "{backend}");
        let a = store.lead("A").await.expect("read").expect("lead");
        assert_eq!(a.outcome.and_then(|o| o.reason).as_deref(), Some("not now"));
        let won = outcome("A", OutcomeKind::Converted, "2026-04-10T00:00:00Z");
        assert_eq!(
            store.record_outcome(&won).await.expect("a second outcome"),
            Recorded::New
        );
        assert_eq!(
            store
                .lead("A")
                .await
                .expect("read")
                .expect("lead")
                .outcomes
                .len(),
            2
        );
        let again = outcome("B", OutcomeKind::Converted, "2026-03-10T00:00:00Z");
        assert_eq!(
            store.record_outcome(&again).await.expect("retry"),
            Recorded::Again
        );
        store.close().await;
    }
}

/// A batch of outcomes is recorded as if one by one: across the statements it is cut into
/// (more than 1,000 leads), with a lead twice in it, and against what was stored before.
#[tokio::test]
async fn a_batch_of_outcomes_is_recorded_as_one_by_one() {
    on_both(|f: Fixture| async move {
        let s = &f.store;
        let at = |i: usize| format!("2026-03-{:02}T00:00:00Z", 1 + i % 28);
        let kind = |i: usize| {
            if i.is_multiple_of(3) {
                OutcomeKind::Converted
            } else {
                OutcomeKind::Disqualified
            }
        };
        s.record_outcome(&outcome("B7", kind(7), &at(7)))
            .await
            .expect("stored before");
        let mut batch: Vec<NewOutcome> = (0..1500)
            .map(|i| outcome(&format!("B{i}"), kind(i), &at(i)))
            .collect();
        batch.push(outcome("B3", kind(3), &at(3))); // again, in the batch's second statement
        let recorded = s.record_outcomes(&batch).await.expect("batch");
        assert_eq!(recorded.len(), 1501);
        let again: Vec<usize> = (0..recorded.len())
            .filter(|&i| recorded[i] == Recorded::Again)
            .collect();
        assert_eq!(again, [7, 1500]);
        for i in [0, 7, 999, 1000, 1499] {
            let lead = s.lead(&format!("B{i}")).await.expect("read").expect("lead");
            let o = lead.outcome.expect("outcome");
            assert_eq!((o.outcome, o.at), (kind(i), t(&at(i))), "B{i}");
        }
        // A different second outcome anywhere in a batch stores none of it.
        let mut bad: Vec<NewOutcome> = (0..1200)
            .map(|i| outcome(&format!("C{i}"), kind(i), &at(i)))
            .collect();
        bad.push(outcome(
            "C1100",
            OutcomeKind::Converted,
            "2026-04-01T00:00:00Z",
        ));
        let err = s.record_outcomes(&bad).await.expect_err("second outcome");
        assert!(
            matches!(
                &err,
                StoreError::OutcomeConflict { lead, why: ConflictKind::AfterFinal { family: None }, .. }
                    if lead == "C1100"
            ),
            "{err}"
        );
        assert!(s.lead("C0").await.expect("read").is_none(), "rolled back");
    })
    .await;
}

/// Many leads read at once (in chunks of ids) are each the lead read alone: events and
/// outcomes go to their own lead, in time order; unknown and repeated ids are left out.
#[tokio::test]
async fn leads_read_together_are_each_read_alone() {
    on_both(|f: Fixture| async move {
        let s = &f.store;
        let at = |i: usize| format!("2026-02-{:02}T{:02}:00:00Z", 1 + i % 28, i % 24);
        let events: Vec<NewEvent> = (0..3000)
            .map(|i| event(&format!("M{}", (i * 7) % 1201), "email_open", &at(i), None))
            .collect();
        s.append_events(&events).await.expect("events");
        s.upsert_lead(
            "M5",
            &obj(r#"{"industry": "saas", "tech_stack": ["a", "b"]}"#),
        )
        .await
        .expect("lead");
        let outcomes: Vec<NewOutcome> = (0..1201)
            .step_by(3)
            .map(|i| {
                outcome(
                    &format!("M{i}"),
                    OutcomeKind::Converted,
                    "2026-03-30T00:00:00Z",
                )
            })
            .collect();
        s.record_outcomes(&outcomes).await.expect("outcomes");
        let mut ids: Vec<String> = (0..1201).rev().map(|i| format!("M{i}")).collect();
        ids.insert(600, "unknown".into());
        ids.push("M5".into());
        let refs: Vec<&str> = ids.iter().map(String::as_str).collect();
        let together = s.leads(&refs).await.expect("together");
        assert_eq!(together.len(), 1201);
        for (lead, id) in together
            .iter()
            .zip(refs.iter().filter(|id| **id != "unknown"))
        {
            assert_eq!(&lead.id, id);
            let alone = s.lead(id).await.expect("read").expect("known");
            assert_eq!(lead, &alone, "{id}");
        }
        let m5 = &together[1200 - 5];
        assert_eq!(m5.id, "M5");
        assert!(m5.attributes.is_some() && m5.events.windows(2).all(|w| w[0].at <= w[1].at));
        assert!(m5.outcome.is_none() && together[1200].outcome.is_some());
    })
    .await;
}

fn entry(lead: Option<&str>, at: &str, p: f64) -> ScoreLogEntry {
    ScoreLogEntry {
        lead_id: lead.map(str::to_string),
        scored_at: t(at),
        as_of: t(at),
        source: ScoreSource::Stored,
        model_name: "leads".into(),
        model_version: "v1".into(),
        rules_hash: "abc".into(),
        propensity: p,
        rule_score: 40.0,
        stage: "MQL".into(),
        route: Some("sales".into()),
        reasons: vec![LoggedReason {
            kind: ReasonKind::Model,
            name: "demo_request_7d".into(),
            value: 0.1 + p,
        }],
        holdout: lead == Some("B"),
    }
}

#[tokio::test]
async fn the_score_log_reads_back_by_lead_and_by_time() {
    on_both(|f: Fixture| async move {
        let s = &f.store;
        let entries = vec![
            entry(Some("A"), "2026-05-02T00:00:00Z", 0.2),
            entry(Some("B"), "2026-05-01T00:00:00Z", 0.3),
            entry(Some("A"), "2026-05-01T00:00:00Z", 0.1),
            entry(None, "2026-05-03T00:00:00Z", 0.4),
        ];
        s.append_scores(&entries).await.expect("append");
        let a = s.lead_scores("A").await.expect("lead A");
        assert_eq!(a, vec![entries[2].clone(), entries[0].clone()]);
        let range = s
            .scores_between(t("2026-05-01T00:00:00Z"), t("2026-05-03T00:00:00Z"))
            .await
            .expect("range");
        assert_eq!(range.len(), 3, "[from, to)");
        assert!(range.iter().any(|e| e.holdout));
        assert_eq!(s.lead_scores("nobody").await.expect("empty"), vec![]);
    })
    .await;
}

#[tokio::test]
async fn the_tables_for_training_leave_stubs_out_and_use_the_schema_names() {
    on_both(|f: Fixture| async move {
        let s = &f.store;
        s.upsert_lead(
            "L1",
            &obj(r#"{"created_at": "2026-01-01", "employees": 10}"#),
        )
        .await
        .expect("lead");
        s.append_events(&[
            event("L1", "webinar", "2026-01-02T00:00:00Z", Some("w")),
            event("stub", "webinar", "2026-01-03T00:00:00Z", None),
        ])
        .await
        .expect("events");
        let mut names = HistoryColumns::default();
        names.events.kind = "activity".into();
        names.outcomes.converted = vec!["Closed Won".into()];
        s.record_outcome(&outcome(
            "L1",
            OutcomeKind::Converted,
            "2026-01-04T00:00:00Z",
        ))
        .await
        .expect("outcome");
        let tables = s
            .history_tables(&names, &Default::default())
            .await
            .expect("tables");
        assert_eq!(tables.leads.rows(), 1, "the stub is not in the leads table");
        assert_eq!(
            tables.leads.column("employees"),
            Some(&RawColumn::Number(vec![Some(10.0)]))
        );
        let events = tables.events.expect("events");
        assert_eq!(
            events.rows(),
            2,
            "events are all there; the reader drops the stub's"
        );
        assert!(events.column("activity").is_some());
        let outcomes = tables.outcomes.expect("outcomes");
        assert_eq!(
            outcomes.column("outcome"),
            Some(&RawColumn::Text(vec![Some("Closed Won".into())]))
        );
    })
    .await;
}

/// Batches longer than one `INSERT` (500 entries), twice (the full statement's text is built
/// once and reused), on the score log's own connection while other writes go through the
/// shared pool at the same time: every entry reads back, in order and equal.
#[tokio::test]
async fn long_score_log_batches_read_back_whole_beside_other_writers() {
    on_both(|f: Fixture| async move {
        let start = t("2026-05-01T00:00:00Z");
        let entries: Vec<ScoreLogEntry> = (0..2002)
            .map(|i| {
                let at = start + chrono::Duration::milliseconds(i);
                let mut e = entry(Some(&format!("L{}", i % 7)), "2026-05-01T00:00:00Z", 0.001);
                (e.scored_at, e.as_of) = (at, at);
                e.reasons[0].name = format!("column \"{i}\" é");
                e
            })
            .collect();
        let events = {
            let s = f.store.clone();
            tokio::spawn(async move {
                for b in 0..10 {
                    let batch: Vec<NewEvent> = (0..50)
                        .map(|i| {
                            let id = format!("{b}-{i}");
                            event("W", "email_open", "2026-01-01T00:00:00Z", Some(&id))
                        })
                        .collect();
                    s.append_events(&batch).await.expect("events");
                }
            })
        };
        for half in entries.chunks(1001) {
            f.store.append_scores(half).await.expect("append");
        }
        events.await.expect("events task");
        let back = f
            .store
            .scores_between(start, start + chrono::Duration::days(1))
            .await
            .expect("range");
        assert_eq!(back, entries);
    })
    .await;
}

#[tokio::test]
async fn concurrent_writers_all_commit() {
    on_both(|f: Fixture| async move {
        let mut tasks = Vec::new();
        for w in 0..8 {
            let s = f.store.clone();
            tasks.push(tokio::spawn(async move {
                for b in 0..5 {
                    let batch: Vec<NewEvent> = (0..20)
                        .map(|i| {
                            event(
                                &format!("W{w}"),
                                "email_open",
                                "2026-01-01T00:00:00Z",
                                Some(&format!("{w}-{b}-{i}")),
                            )
                        })
                        .collect();
                    s.append_events(&batch).await.expect("append");
                }
            }));
        }
        for task in tasks {
            task.await.expect("task");
        }
        let tables = f
            .store
            .history_tables(&HistoryColumns::default(), &Default::default())
            .await
            .expect("tables");
        assert_eq!(tables.events.map(|e| e.rows()), Some(8 * 5 * 20));
    })
    .await;
}
