//! `GET /v1/monitor` and `GET /monitor` through the real router, on SQLite and PostgreSQL:
//! the report the route answers for logged answers and ingested outcomes equals the one
//! qualify-monitor computes from the same store directly (what `qualify monitor --store`
//! runs), the page is the report's HTML with its plots, `/metrics` carries the headline
//! gauges, and bad queries and a server without a store get typed errors.

use axum::Router;
use axum::http::{StatusCode, header};
use chrono::{DateTime, Utc};
use qualify_data::history::HistoryPaths;
use qualify_monitor::{MonitorConfig, Range, monitor_store};
use qualify_server::AppState;
use qualify_store::files::{self, ImportOptions};
use serde_json::{Value, json};

use crate::common::*;
use crate::store::{ok, open_store};
use crate::stores::{self, TestStore};

const SCORED_AT: &str = "2026-06-01T00:00:00Z";
const MONITORED_AT: &str = "2026-12-31T00:00:00Z";

/// Twelve leads scored at `SCORED_AT` (one at a time, logged), four of them converted and
/// four disqualified afterwards; the log flushed.
async fn a_scored_month(router: &Router, state: &AppState) -> usize {
    let leads = many_leads(12);
    for lead in &leads {
        ok(
            router,
            post(&format!("/v1/score?as_of={SCORED_AT}"), lead.to_string()),
        )
        .await;
    }
    let outcomes: Vec<Value> = (0..8)
        .map(|i| {
            let (outcome, reason) = if i < 4 {
                ("converted", Value::Null)
            } else {
                ("disqualified", json!("bad_timing"))
            };
            json!({"lead_id": format!("lead-{i}"), "outcome": outcome,
                   "at": format!("2026-07-{:02}T00:00:00Z", i + 1), "reason": reason})
        })
        .collect();
    ok(
        router,
        post("/v1/outcomes", Value::Array(outcomes).to_string()),
    )
    .await;
    state.score_log.as_ref().expect("a log").flush().await;
    leads.len()
}

async fn the_route_answers_what_the_library_computes(s: TestStore) {
    let (router, state) = open_store(fixture().config, &s);
    let scored = a_scored_month(&router, &state).await;

    let answer = ok(&router, get(&format!("/v1/monitor?as_of={MONITORED_AT}"))).await;
    let as_of: DateTime<Utc> = MONITORED_AT.parse().expect("time");
    let served = state.registry.current();
    let manifest = served.champion().model.manifest();
    let direct = monitor_store(
        &s.store,
        Range::default(),
        Some(as_of),
        Some(manifest),
        None,
        &MonitorConfig::for_model(Some(manifest)),
    )
    .await
    .expect("monitor from the store");
    assert_eq!(answer, serde_json::to_value(&direct).expect("json"));
    assert_eq!(answer["headline"]["entries"], json!(scored));
    assert_eq!(
        answer["headline"]["matured"],
        json!(scored),
        "{}",
        answer["sample"]
    );
    assert_eq!(answer["headline"]["observed_conversions"], json!(4));

    // The gauges are the headline's.
    let text = metrics(&router).await;
    assert_eq!(
        metric(&text, "qualify_monitor{figure=\"entries\"}"),
        scored as f64
    );
    assert_eq!(
        metric(&text, "qualify_monitor{figure=\"observed_conversions\"}"),
        4.0,
        "{text}"
    );

    // The page is the same report as HTML, with its plots inline.
    let (status, headers, body) =
        send(&router, get(&format!("/monitor?as_of={MONITORED_AT}"))).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        headers[header::CONTENT_TYPE]
            .to_str()
            .is_ok_and(|t| t.starts_with("text/html")),
        "{headers:?}"
    );
    let page = String::from_utf8(body.to_vec()).expect("utf-8");
    assert!(page.contains("<svg"), "no plot in the page");
    assert_eq!(
        page,
        qualify_monitor::html::page(&direct).expect("the page"),
        "the page is the report's"
    );

    // A range cuts the log: nothing answered before June.
    let none = ok(
        &router,
        get(&format!(
            "/v1/monitor?to=2026-05-01T00:00:00Z&as_of={MONITORED_AT}"
        )),
    )
    .await;
    assert_eq!(none["headline"]["entries"], json!(0));
    s.store.close().await;
}

#[tokio::test]
async fn the_monitor_route_answers_what_the_library_computes_sqlite() {
    the_route_answers_what_the_library_computes(stores::sqlite().await).await;
}

#[tokio::test]
async fn the_monitor_route_answers_what_the_library_computes_postgres() {
    if let Some(s) = stores::postgres().await {
        the_route_answers_what_the_library_computes(s).await;
    }
}

#[tokio::test]
async fn monitor_queries_and_a_missing_store_get_typed_errors() {
    let s = stores::sqlite().await;
    let (router, _) = open_store(fixture().config, &s);
    let (status, _, body) = send_json(&router, get("/v1/monitor?from=yesterday")).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(body["error"]["code"], "invalid_query");
    let (status, _, body) = send_json(&router, get("/v1/monitor?model=nope")).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    assert_eq!(body["error"]["code"], "unknown_model");
    // An empty store monitors to a report with nothing in it (the time is now).
    let empty = ok(&router, get("/v1/monitor")).await;
    assert_eq!(empty["headline"]["entries"], json!(0));
    s.store.close().await;

    let router = qualify_server::app(AppState::open(fixture().config).expect("state"));
    for uri in ["/v1/monitor", "/monitor"] {
        let (status, _, body) = send_json(&router, get(uri)).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{uri}: {body}");
        assert_eq!(body["error"]["code"], "no_store");
    }
}

/// The inputs' drift, two ways on one store holding the sample history: the route reads each
/// stored lead scored in the drift window as a record through the served history model
/// (`Model::lead_input_values`); `qualify monitor --store --model` reads the same leads
/// through the file readers' checked history and the trainer's batch path. The reports are
/// equal, drift of every input column included.
async fn the_inputs_drift_is_the_file_readers(s: TestStore) {
    let tmp = tempfile::tempdir().expect("tempdir");
    let models = tmp.path().join("models");
    let version =
        qualify_core::bundle::resolve_version(&repo().join("models/default")).expect("bundle");
    copy_dir(
        &version,
        &models
            .join("default")
            .join(version.file_name().expect("name")),
    );
    let config = qualify_server::Config {
        models,
        rules: repo().join("rules/default.toml"),
        ..qualify_server::Config::default()
    };
    let (router, state) = open_store(config, &s);
    let served = state.registry.current();
    let manifest = served.champion().model.manifest();
    assert!(
        manifest.history.is_some(),
        "the bundled default is a history model"
    );
    let paths = HistoryPaths::in_dir(&repo().join("data/sample/history"));
    files::import(
        &s.store,
        &paths,
        &manifest.schema,
        None,
        ImportOptions::default(),
    )
    .await
    .expect("import the sample history");
    let read = files::read_history(&s.store, &manifest.schema)
        .await
        .expect("read it back");
    let scored_at = "2026-05-01T00:00:00Z";
    for id in read.history.ids.iter().step_by(97).take(40) {
        ok(
            &router,
            get(&format!("/v1/leads/{id}/score?as_of={scored_at}")),
        )
        .await;
    }
    // A logged lead the store does not hold counts among the leads without inputs.
    ok(
        &router,
        post(
            &format!("/v1/score?as_of={scored_at}"),
            json!({"id": "not-stored", "employees": 50}).to_string(),
        ),
    )
    .await;
    state.score_log.as_ref().expect("a log").flush().await;

    let monitored_at = "2026-05-15T00:00:00Z";
    let answer = ok(&router, get(&format!("/v1/monitor?as_of={monitored_at}"))).await;
    let direct = monitor_store(
        &s.store,
        Range::default(),
        Some(monitored_at.parse().expect("time")),
        Some(manifest),
        Some(&read.history),
        &MonitorConfig::for_model(Some(manifest)),
    )
    .await
    .expect("monitor through the file readers");
    let direct = serde_json::to_value(&direct).expect("json");
    let features = answer["drift"]["features"].as_array().expect("features");
    assert_eq!(features.len(), manifest.encoder.columns.len());
    assert!(
        features
            .iter()
            .any(|f| f["psi"].as_f64().is_some_and(|p| p > 0.0)),
        "{features:?}"
    );
    assert_eq!(answer["drift"]["leads_without_inputs"], json!(1));
    assert_eq!(answer["drift"], direct["drift"]);
    assert_eq!(answer, direct);
}

#[tokio::test]
async fn the_inputs_drift_is_the_file_readers_on_both_backends() {
    for s in stores::both().await {
        the_inputs_drift_is_the_file_readers(s).await;
    }
}
