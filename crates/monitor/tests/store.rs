//! The library call the server makes, [`monitor_store`], against the same records handed
//! over directly: a small log with re-engaged bad-timing leads written into a store (SQLite,
//! and PostgreSQL when `QUALIFY_TEST_POSTGRES_URL` names a server) gives the report the
//! records give, and the re-engagement figures worked out by hand.

use chrono::{DateTime, Utc};
use qualify_core::history::OutcomeKind;
use qualify_core::lead::EventType;
use qualify_core::scorelog::{ScoreLogEntry, ScoreSource};
use qualify_monitor::{
    EventRecord, MonitorConfig, MonitorError, OutcomeRecord, Range, Records, monitor_store,
};
use qualify_store::{NewEvent, NewOutcome, Store};

fn t(s: &str) -> DateTime<Utc> {
    s.parse().expect("time")
}

fn entry(lead: &str, at: &str, p: f64, stage: &str) -> ScoreLogEntry {
    ScoreLogEntry {
        lead_id: Some(lead.into()),
        scored_at: t(at),
        as_of: t(at),
        source: ScoreSource::Stored,
        model_name: "m".into(),
        model_version: "v1".into(),
        rules_hash: "h".into(),
        propensity: p,
        rule_score: p * 100.0,
        stage: stage.into(),
        route: None,
        reasons: vec![],
        holdout: false,
    }
}

/// P: bad timing, an event and an MQL score after: re-engaged and requalified. Q: bad timing,
/// an event after, then converted: re-engaged and converted afterwards (a second outcome,
/// which the store holds as the records do). R: bad fit, nothing after. S: scored SQL, converted.
/// T: an MQL contacted by sales 5 hours later (on time).
fn records() -> Records {
    let outcome = |lead: &str, at: &str, kind, reason: Option<&str>| OutcomeRecord {
        lead_id: lead.into(),
        at: t(at),
        outcome: kind,
        reason: reason.map(str::to_string),
    };
    let event = |lead: &str, kind: &str, at: &str| EventRecord {
        lead_id: lead.into(),
        kind: kind.into(),
        at: t(at),
    };
    use OutcomeKind::{Converted, Disqualified};
    Records {
        entries: vec![
            entry("S", "2026-03-01T00:00:00Z", 0.6, "SQL"),
            entry("T", "2026-03-02T00:00:00Z", 0.4, "MQL"),
            entry("P", "2026-03-03T00:00:00Z", 0.2, "Lead"),
            entry("Q", "2026-03-04T00:00:00Z", 0.1, "Nurture"),
            entry("P", "2026-03-21T00:00:00Z", 0.5, "MQL"),
        ],
        outcomes: vec![
            outcome("R", "2026-03-05T00:00:00Z", Disqualified, Some("no budget")),
            outcome(
                "P",
                "2026-03-10T00:00:00Z",
                Disqualified,
                Some("Bad Timing"),
            ),
            outcome(
                "Q",
                "2026-03-12T00:00:00Z",
                Disqualified,
                Some("unresponsive"),
            ),
            outcome("S", "2026-04-01T00:00:00Z", Converted, None),
            outcome("Q", "2026-03-25T00:00:00Z", Converted, None),
        ],
        events: Some(vec![
            event("T", "sales_contacted", "2026-03-02T05:00:00Z"),
            event("Q", "email_open", "2026-03-15T00:00:00Z"),
            event("P", "email_open", "2026-03-20T00:00:00Z"),
        ]),
    }
}

async fn fill(store: &Store, r: &Records) {
    store.append_scores(&r.entries).await.expect("scores");
    let outcomes: Vec<NewOutcome> = r
        .outcomes
        .iter()
        .map(|o| NewOutcome {
            lead_id: o.lead_id.clone(),
            outcome: o.outcome,
            at: o.at,
            reason: o.reason.clone(),
        })
        .collect();
    store.record_outcomes(&outcomes).await.expect("outcomes");
    let events: Vec<NewEvent> = r
        .events
        .iter()
        .flatten()
        .map(|e| NewEvent {
            lead_id: e.lead_id.clone(),
            kind: EventType::new(&e.kind).expect("type"),
            at: e.at,
            event_id: None,
            value: None,
        })
        .collect();
    store.append_events(&events).await.expect("events");
}

async fn postgres() -> Option<Store> {
    let url = qualify_store::test_support::postgres_database("qualify_monitor_lib").await?;
    Some(Store::connect(&url).await.expect("postgres store"))
}

#[tokio::test]
async fn the_store_gives_the_report_its_records_give() {
    let dir = tempfile::tempdir().expect("tempdir");
    let url = format!("sqlite://{}", dir.path().join("s.db").display());
    let mut stores = vec![Store::connect(&url).await.expect("sqlite store")];
    stores.extend(postgres().await);
    let records = records();
    let as_of = t("2026-07-01T00:00:00Z");
    let config = MonitorConfig::default();
    let want = records
        .monitor(as_of, None, None, &config)
        .expect("from records");
    let re = &want.reasons.bad_timing;
    assert_eq!(
        (re.disqualified, re.re_engaged, re.converted, re.requalified),
        (2, 2, 1, 1)
    );
    assert_eq!(re.conversion_rate, Some(0.5));
    assert_eq!(re.requalified_rate, Some(0.5));
    assert_eq!(want.headline.bad_timing_re_engaged_requalified, Some(0.5));
    assert_eq!(
        (
            want.reasons.bad_fit.disqualified,
            want.reasons.bad_fit.re_engaged
        ),
        (1, 0)
    );
    assert!(
        !want.notes.iter().any(|n| n.contains("one outcome")),
        "{:?}",
        want.notes
    );
    assert_eq!(want.sla.as_ref().map(|s| s.on_time), Some(1));

    for store in &stores {
        // The server awaits it in an axum handler: the future must be `Send`.
        fn send<T: Send>(t: T) -> T {
            t
        }
        let empty = send(monitor_store(
            store,
            Range::default(),
            None,
            None,
            None,
            &config,
        ))
        .await;
        assert!(matches!(empty, Err(MonitorError::NoTime)), "{empty:?}");
        fill(store, &records).await;
        let got = monitor_store(store, Range::default(), Some(as_of), None, None, &config)
            .await
            .expect("from the store");
        assert_eq!(got, want, "{}", store.backend());
        // A range picks entries by answer time; the default time is its end.
        let range = Range {
            from: Some(t("2026-03-02T00:00:00Z")),
            to: Some(t("2026-03-21T00:00:00Z")),
        };
        let got = monitor_store(store, range, None, None, None, &config)
            .await
            .expect("a range");
        assert_eq!(got.as_of, t("2026-03-21T00:00:00Z"));
        assert_eq!(got.headline.entries, 3);
        store.close().await;
    }
}
