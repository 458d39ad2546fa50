//! The store routes through the real router, on SQLite and on PostgreSQL (`stores`):
//! ingestion round trips, idempotency and stubs; bad input refused with what and where and
//! nothing half-stored; a stored lead scored exactly as the same lead posted whole; every
//! answer logged once (per lead for batches); the holdout drawn from the id; a store that
//! fails leaves answers going out, counted and `/readyz` degraded; no store, 404.

use axum::Router;
use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use chrono::{DateTime, Utc};
use qualify_server::{AppState, Config, app};
use serde_json::{Value, json};

use crate::common::*;
use crate::stores::{self, TestStore};

pub fn put(uri: &str, body: impl Into<Body>) -> Request<Body> {
    Request::builder()
        .method(Method::PUT)
        .uri(uri)
        .header(header::CONTENT_TYPE, "application/json")
        .body(body.into())
        .expect("request")
}

/// The router and state over `store`, with the score log on.
pub fn open_store(config: Config, store: &TestStore) -> (Router, AppState) {
    let state = AppState::open(config)
        .expect("state opens")
        .with_store(store.store.clone());
    (app(state.clone()), state)
}

const AT: &str = "2026-06-30T00:00:00Z";

fn event(lead: &str, kind: &str, at: &str, id: Option<&str>) -> Value {
    let mut e = json!({"lead_id": lead, "type": kind, "at": at});
    if let Some(id) = id {
        e["event_id"] = json!(id);
    }
    e
}

pub async fn ok(router: &Router, request: Request<Body>) -> Value {
    let (status, _, body) = send_json(router, request).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body
}

#[tokio::test]
async fn ingestion_round_trips_is_idempotent_and_makes_stubs() {
    for s in stores::both().await {
        let (router, _) = open_store(fixture().config, &s);
        let lead = json!({"job_title": "Marketing Director", "employees": 500, "country": "GB",
                          "created_at": "2026-01-01T00:00:00Z"});
        let stored = ok(&router, put("/v1/leads/L1", lead.to_string())).await;
        assert_eq!(
            (&stored["id"], &stored["attributes"]["employees"]),
            (&json!("L1"), &json!(500))
        );
        let one = event("L1", "demo_request", "2026-06-01T10:00:00Z", Some("e1"));
        let body = ok(&router, post("/v1/events", one.to_string())).await;
        assert_eq!(
            body,
            json!({"stored": 1, "already_known": 0, "stub_leads": 0})
        );
        let array = json!([
            one,
            event("L2", "email_open", "2026-06-02T10:00:00Z", Some("e2"))
        ]);
        let body = ok(&router, post("/v1/events", array.to_string())).await;
        assert_eq!(
            body,
            json!({"stored": 1, "already_known": 1, "stub_leads": 1})
        );
        let lines = format!(
            "{}\n\n{}\n",
            event("L1", "pricing_page_visit", "2026-06-03T10:00:00Z", None),
            event("L1", "email_open", "2026-05-03T10:00:00Z", Some("e3"))
        );
        let body = ok(&router, post_ndjson("/v1/events", lines)).await;
        assert_eq!(body["stored"], 2);

        let outcome = json!({"lead_id": "L1", "outcome": "converted", "at": AT});
        let body = ok(&router, post("/v1/outcomes", outcome.to_string())).await;
        assert_eq!(body, json!({"stored": 1, "already_known": 0}));
        let body = ok(&router, post("/v1/outcomes", json!([outcome]).to_string())).await;
        assert_eq!(body, json!({"stored": 0, "already_known": 1}));
        let other = json!({"lead_id": "L1", "outcome": "disqualified", "at": AT});
        let (status, _, body) = send_json(&router, post("/v1/outcomes", other.to_string())).await;
        assert_error(status, &body, StatusCode::CONFLICT, "conflict");
        assert_eq!(body["error"]["field"], "outcome", "{body}");

        let l1 = ok(&router, get("/v1/leads/L1")).await;
        let kinds: Vec<&str> = l1["events"]
            .as_array()
            .expect("events")
            .iter()
            .map(|e| e["type"].as_str().expect("type"))
            .collect();
        assert_eq!(
            kinds,
            ["email_open", "demo_request", "pricing_page_visit"],
            "{l1}"
        );
        assert_eq!(l1["outcome"]["outcome"], "converted");
        assert_eq!(l1["outcomes"].as_array().map(Vec::len), Some(1), "{l1}");
        assert_eq!(l1["created_at"], "2026-01-01T00:00:00Z");
        // A lead disqualified for bad timing converts later: both outcomes are kept, the
        // latest is `outcome`; nothing may follow the conversion.
        let later = json!([
            {"lead_id": "L3", "outcome": "disqualified", "at": "2026-06-05T00:00:00Z", "reason": "Not now"},
            {"lead_id": "L3", "outcome": "converted", "at": "2026-06-20T00:00:00Z"}
        ]);
        let body = ok(&router, post("/v1/outcomes", later.to_string())).await;
        assert_eq!(body, json!({"stored": 2, "already_known": 0}));
        let l3 = ok(&router, get("/v1/leads/L3")).await;
        let outcomes: Vec<&str> = l3["outcomes"]
            .as_array()
            .expect("outcomes")
            .iter()
            .map(|o| o["outcome"].as_str().expect("kind"))
            .collect();
        assert_eq!(outcomes, ["disqualified", "converted"], "{l3}");
        assert_eq!(l3["outcome"]["at"], "2026-06-20T00:00:00Z", "{l3}");
        let after = json!({"lead_id": "L3", "outcome": "disqualified", "at": "2026-07-01T00:00:00Z", "reason": "no budget"});
        let (status, _, body) = send_json(&router, post("/v1/outcomes", after.to_string())).await;
        assert_error(status, &body, StatusCode::CONFLICT, "conflict");
        assert!(
            body["error"]["message"]
                .as_str()
                .is_some_and(|m| m.contains("converted is final")),
            "{body}"
        );
        let l2 = ok(&router, get("/v1/leads/L2")).await;
        assert!(
            l2["attributes"].is_null() && l2["events"].as_array().is_some_and(|e| e.len() == 1),
            "{l2}"
        );
        let (status, _, body) = send_json(&router, get("/v1/leads/nope")).await;
        assert_error(status, &body, StatusCode::NOT_FOUND, "unknown_lead");
        let (status, _, body) = send_json(&router, get("/v1/leads/nope/scores")).await;
        assert_error(status, &body, StatusCode::NOT_FOUND, "unknown_lead");
        // Attributes replace whole; events and the outcome stay.
        ok(
            &router,
            put("/v1/leads/L1", json!({"country": "FR"}).to_string()),
        )
        .await;
        let l1 = ok(&router, get("/v1/leads/L1")).await;
        assert_eq!(l1["attributes"], json!({"country": "FR", "id": "L1"}));
        assert_eq!(l1["events"].as_array().map(Vec::len), Some(3));
        s.store.close().await;
    }
}

/// (body, content type, the field the error names, a message fragment)
type Bad = (String, &'static str, &'static str, &'static str);

#[tokio::test]
async fn bad_input_is_refused_with_its_field_and_stores_nothing() {
    for s in stores::both().await {
        let f = fixture();
        let (router, _) = open_store(
            Config {
                max_body_bytes: 4096,
                ..f.config
            },
            &s,
        );
        ok(
            &router,
            put(
                "/v1/leads/C",
                json!({"created_at": "2026-03-01"}).to_string(),
            ),
        )
        .await;
        let good = event("A", "demo_request", AT, Some("a1"));
        let events: Vec<Bad> = vec![
            (
                json!([good, {"type": "x", "at": AT}]).to_string(),
                "application/json",
                "[1].lead_id",
                "lead_id",
            ),
            (
                json!({"lead_id": "A", "type": "x", "at": "last tuesday"}).to_string(),
                "application/json",
                "at",
                "at",
            ),
            (
                json!([good, {"lead_id": "A", "type": "x", "at": AT, "colour": "teal"}])
                    .to_string(),
                "application/json",
                "[1].colour",
                "colour",
            ),
            (
                json!([good, {"lead_id": "A", "type": "x", "at": AT, "value": "NaN"}]).to_string(),
                "application/json",
                "[1].value",
                "value",
            ),
            (
                json!([good, {"lead_id": "A", "type": "x", "at": AT, "event_id": " "}]).to_string(),
                "application/json",
                "[1].event_id",
                "blank",
            ),
            (
                json!([good, {"lead_id": " ", "type": "x", "at": AT}]).to_string(),
                "application/json",
                "[1].lead_id",
                "blank",
            ),
            (
                json!([good, {"lead_id": "A", "type": " ", "at": AT}]).to_string(),
                "application/json",
                "[1].type",
                "type",
            ),
            (
                format!(
                    "{good}\n{}\n",
                    json!({"lead_id": "A", "type": "x", "at": "2026-13-01"})
                ),
                "application/x-ndjson",
                "[1].at",
                "line 2",
            ),
        ];
        for (body, content_type, field, fragment) in events {
            let request = Request::builder()
                .method(Method::POST)
                .uri("/v1/events")
                .header(header::CONTENT_TYPE, content_type)
                .body(Body::from(body.clone()))
                .expect("request");
            let (status, _, answer) = send_json(&router, request).await;
            assert_error(
                status,
                &answer,
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_field",
            );
            assert_eq!(answer["error"]["field"], field, "{body}: {answer}");
            let message = answer["error"]["message"].as_str().unwrap_or("");
            assert!(message.contains(fragment), "{body}: {answer}");
        }
        // The good event in each of those bodies was not stored: lead A is unknown.
        let (status, _, body) = send_json(&router, get("/v1/leads/A")).await;
        assert_error(status, &body, StatusCode::NOT_FOUND, "unknown_lead");

        let outcomes: Vec<Bad> = vec![
            (json!({"lead_id": "C", "outcome": "converted", "at": "2026-02-01T00:00:00Z"}).to_string(), "conflict", "at", "before the lead's creation"),
            (json!([{"lead_id": "A", "outcome": "converted", "at": AT}, {"lead_id": "C", "outcome": "won", "at": AT}]).to_string(), "invalid_field", "[1].outcome", "won"),
        ];
        for (body, code, field, fragment) in outcomes {
            let (status, _, answer) = send_json(&router, post("/v1/outcomes", body.clone())).await;
            let want = if code == "conflict" {
                StatusCode::CONFLICT
            } else {
                StatusCode::UNPROCESSABLE_ENTITY
            };
            assert_error(status, &answer, want, code);
            assert_eq!(answer["error"]["field"], field, "{body}: {answer}");
            assert!(
                answer["error"]["message"]
                    .as_str()
                    .unwrap_or("")
                    .contains(fragment),
                "{answer}"
            );
        }
        let (status, _, body) = send_json(&router, get("/v1/leads/A")).await;
        assert_error(status, &body, StatusCode::NOT_FOUND, "unknown_lead");

        for (attributes, field) in [
            (json!({"employees": "many"}), "employees"),
            (json!({"activities": []}), "activities"),
            (json!({"id": "other"}), "id"),
            (json!({"created_at": "soon"}), "created_at"),
        ] {
            let (status, _, answer) =
                send_json(&router, put("/v1/leads/B", attributes.to_string())).await;
            assert_error(
                status,
                &answer,
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_field",
            );
            assert_eq!(answer["error"]["field"], field, "{attributes}: {answer}");
        }
        let (status, _, body) = send_json(&router, put("/v1/leads/B", "[1, 2]")).await;
        assert_error(
            status,
            &body,
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_field",
        );
        let (status, _, body) = send_json(&router, post("/v1/events", "[{")).await;
        assert_error(status, &body, StatusCode::BAD_REQUEST, "malformed_json");
        let huge = json!([event("B", &"x".repeat(5000), AT, None)]).to_string();
        let (status, _, body) = send_json(&router, post("/v1/events", huge)).await;
        assert_error(status, &body, StatusCode::PAYLOAD_TOO_LARGE, "too_large");
        let (status, _, body) = send_json(&router, get("/v1/leads/B")).await;
        assert_error(status, &body, StatusCode::NOT_FOUND, "unknown_lead");
        s.store.close().await;
    }
}

/// Parity: the stored lead (attributes by PUT, activities as events) scored from the store
/// is the sample's lead posted whole, field for field, explanation included.
#[tokio::test]
async fn a_stored_lead_scores_as_the_same_lead_posted_whole() {
    for s in stores::both().await {
        let (router, _) = open_store(fixture().config, &s);
        for lead in sample_leads(6) {
            let id = lead["id"].as_str().expect("id").to_string();
            let mut attributes = lead.clone();
            let activities = attributes
                .as_object_mut()
                .and_then(|o| o.remove("activities"));
            ok(
                &router,
                put(&format!("/v1/leads/{id}"), attributes.to_string()),
            )
            .await;
            let events: Vec<Value> = activities
                .and_then(|a| a.as_array().cloned())
                .unwrap_or_default()
                .into_iter()
                .map(|a| {
                    event(
                        &id,
                        a["type"].as_str().expect("type"),
                        a["at"].as_str().expect("at"),
                        None,
                    )
                })
                .collect();
            ok(
                &router,
                post("/v1/events", Value::Array(events).to_string()),
            )
            .await;
            for as_of in ["2026-01-15T00:00:00Z", AT, "2027-01-01T12:30:00Z"] {
                let stored = ok(&router, get(&format!("/v1/leads/{id}/score?as_of={as_of}"))).await;
                let posted = ok(
                    &router,
                    post(&format!("/v1/score?as_of={as_of}"), lead.to_string()),
                )
                .await;
                assert!(stored["explanation"].is_object(), "{stored}");
                assert_eq!(stored, posted, "lead {id} as of {as_of}");
            }
        }
        s.store.close().await;
    }
}

#[tokio::test]
async fn every_answer_is_logged_once_and_read_back_per_lead() {
    let s = stores::sqlite().await;
    let (router, state) = open_store(fixture().config, &s);
    let leads = many_leads(8);
    for lead in &leads[..3] {
        ok(
            &router,
            post(&format!("/v1/score?as_of={AT}"), lead.to_string()),
        )
        .await;
    }
    ok(
        &router,
        post(
            "/v1/score/batch",
            Value::Array(leads[3..6].to_vec()).to_string(),
        ),
    )
    .await;
    let lines: String = leads[6..8].iter().map(|l| format!("{l}\n")).collect();
    let (status, _, _) = send(&router, post_ndjson("/v1/score/batch", lines)).await;
    assert_eq!(status, StatusCode::OK);
    ok(
        &router,
        put(
            "/v1/leads/lead-0",
            leads[0]
                .as_object()
                .map(|o| {
                    let mut o = o.clone();
                    o.remove("activities");
                    Value::Object(o)
                })
                .expect("object")
                .to_string(),
        ),
    )
    .await;
    let answer = ok(&router, get(&format!("/v1/leads/lead-0/score?as_of={AT}"))).await;
    state.score_log.as_ref().expect("a log").flush().await;

    let from: DateTime<Utc> = "2000-01-01T00:00:00Z".parse().expect("time");
    let all = s
        .store
        .scores_between(from, Utc::now() + chrono::Duration::days(1))
        .await
        .expect("read");
    assert_eq!(all.len(), 9, "{all:?}");
    let sources: Vec<String> = all.iter().map(|e| e.source.to_string()).collect();
    for (source, n) in [("record", 3), ("batch", 5), ("stored", 1)] {
        assert_eq!(
            sources.iter().filter(|s| *s == source).count(),
            n,
            "{sources:?}"
        );
    }
    let text = metrics(&router).await;
    assert_eq!(metric(&text, "qualify_score_log_written_total"), 9.0);
    assert_eq!(metric(&text, "qualify_score_log_dropped_total"), 0.0);

    let info = ok(&router, get("/info")).await;
    assert_eq!(
        info["store"],
        json!({"backend": "sqlite", "score_log": true, "holdout_fraction": 0.0})
    );
    let history = ok(&router, get("/v1/leads/lead-0/scores")).await;
    let scores = history["scores"].as_array().expect("scores");
    assert_eq!(scores.len(), 2, "{history}");
    let last = &scores[1];
    assert_eq!(last["source"], "stored");
    assert_eq!(last["as_of"], AT);
    assert_eq!(last["propensity"], answer["propensity"]);
    assert_eq!(
        last["rule_score"].as_f64(),
        answer["rules"]["score"].as_f64()
    );
    assert_eq!(last["stage"], answer["rules"]["stage"]);
    assert_eq!(last["model_name"], answer["model"]["name"]);
    assert!(
        last["reasons"].as_array().is_some_and(
            |r| r.iter().any(|r| r["kind"] == "model") && r.iter().any(|r| r["kind"] == "rule")
        ),
        "{last}"
    );
    s.store.close().await;
}

#[tokio::test]
async fn the_holdout_is_drawn_from_the_id_and_logged() {
    let s = stores::sqlite().await;
    let (router, state) = open_store(
        Config {
            holdout_fraction: 0.3,
            ..fixture().config
        },
        &s,
    );
    let leads = many_leads(60);
    let answers = ok(
        &router,
        post("/v1/score/batch", Value::Array(leads.clone()).to_string()),
    )
    .await;
    let mut held = 0;
    for (lead, answer) in leads.iter().zip(answers.as_array().expect("answers")) {
        // The documented draw, computed here on its own: SHA-256's first 8 bytes over 2^64.
        use sha2::{Digest, Sha256};
        let digest = Sha256::digest(lead["id"].as_str().expect("id").as_bytes());
        let draw =
            u64::from_be_bytes(digest[..8].try_into().expect("8 bytes")) as f64 / 2f64.powi(64);
        assert_eq!(answer["holdout"], json!(draw < 0.3), "{}", lead["id"]);
        held += usize::from(draw < 0.3);
    }
    assert!((8..=30).contains(&held), "{held} of 60 held out");
    // The same ids again: the same membership.
    let again = ok(
        &router,
        post("/v1/score/batch", Value::Array(leads).to_string()),
    )
    .await;
    assert_eq!(
        answers
            .as_array()
            .map(|a| a.iter().map(|x| x["holdout"].clone()).collect::<Vec<_>>()),
        again
            .as_array()
            .map(|a| a.iter().map(|x| x["holdout"].clone()).collect::<Vec<_>>())
    );
    state.score_log.as_ref().expect("a log").flush().await;
    let logged = s.store.lead_scores("lead-0").await.expect("read");
    assert_eq!(logged.len(), 2);
    assert_eq!(json!(logged[0].holdout), answers[0]["holdout"]);
    // Without an id there is nothing stable to draw from: never held out.
    let answer = ok(&router, post("/v1/score", "{}")).await;
    assert_eq!(answer["holdout"], false);
    s.store.close().await;
}

#[tokio::test]
async fn a_failing_store_leaves_answers_going_out_counted_and_readyz_degraded() {
    let s = stores::sqlite().await;
    let (router, state) = open_store(fixture().config, &s);
    let (_, _, ready) = send_json(&router, get("/readyz")).await;
    assert_eq!(ready["status"], "ready");
    s.store.close().await;
    for lead in many_leads(3) {
        ok(&router, post("/v1/score", lead.to_string())).await;
    }
    state.score_log.as_ref().expect("a log").flush().await;
    let text = metrics(&router).await;
    assert_eq!(
        metric(&text, "qualify_score_log_dropped_total"),
        3.0,
        "{text}"
    );
    assert_eq!(metric(&text, "qualify_score_log_written_total"), 0.0);
    let (status, _, ready) = send_json(&router, get("/readyz")).await;
    assert_eq!(
        (status, &ready["status"]),
        (StatusCode::OK, &json!("degraded")),
        "{ready}"
    );
    assert!(
        ready["problems"].as_array().is_some_and(|p| p
            .iter()
            .any(|p| p.as_str().is_some_and(|p| p.starts_with("score log")))),
        "{ready}"
    );
    let (status, headers, body) = send_json(
        &router,
        post("/v1/events", event("L", "x", AT, None).to_string()),
    )
    .await;
    assert_error(
        status,
        &body,
        StatusCode::SERVICE_UNAVAILABLE,
        "store_unavailable",
    );
    assert!(headers.contains_key(header::RETRY_AFTER));
}

#[tokio::test]
async fn without_a_store_the_store_routes_answer_404_and_nothing_is_logged() {
    let (router, state) = open(fixture().config);
    assert!(state.score_log.is_none());
    for request in [
        get("/v1/leads/L1"),
        get("/v1/leads/L1/score"),
        get("/v1/leads/L1/scores"),
        put("/v1/leads/L1", "{}"),
        post("/v1/events", event("L1", "x", AT, None).to_string()),
        post("/v1/outcomes", "{}"),
    ] {
        let (status, _, body) = send_json(&router, request).await;
        assert_error(status, &body, StatusCode::NOT_FOUND, "no_store");
    }
    ok(&router, post("/v1/score", "{}")).await;
    let info = ok(&router, get("/info")).await;
    assert_eq!(info["store"]["backend"], Value::Null);
    assert_eq!(info["store"]["score_log"], false);
}

/// The store routes' answers, errors included, are what the OpenAPI document says.
#[tokio::test]
async fn store_answers_are_what_the_document_says() {
    use crate::spec::conforms;
    let s = stores::sqlite().await;
    let (router, state) = open_store(fixture().config, &s);
    let lead = sample_leads(1).remove(0);
    let cases: Vec<(&str, Request<Body>)> = vec![
        (
            "/v1/leads/{id}",
            put("/v1/leads/L1", json!({"employees": 12}).to_string()),
        ),
        ("/v1/leads/{id}", put("/v1/leads/L2", "{}")),
        (
            "/v1/leads/{id}",
            put("/v1/leads/L1", r#"{"employees": -1}"#),
        ),
        (
            "/v1/events",
            post(
                "/v1/events",
                json!([event("L1", "demo_request", AT, Some("e"))]).to_string(),
            ),
        ),
        ("/v1/events", post("/v1/events", r#"{"lead_id": "L1"}"#)),
        (
            "/v1/outcomes",
            post(
                "/v1/outcomes",
                json!({"lead_id": "L1", "outcome": "converted", "at": AT, "reason": "signed"})
                    .to_string(),
            ),
        ),
        ("/v1/outcomes", post("/v1/outcomes", "nope")),
        ("/v1/leads/{id}", get("/v1/leads/L1")),
        ("/v1/leads/{id}", get("/v1/leads/L2")),
        ("/v1/leads/{id}", get("/v1/leads/nope")),
        ("/v1/leads/{id}/score", get("/v1/leads/L1/score")),
        (
            "/v1/leads/{id}/score",
            get("/v1/leads/L1/score?explain=false&model=nope"),
        ),
        ("/v1/leads/{id}/score", get("/v1/leads/nope/score")),
        ("/v1/score", post("/v1/score", lead.to_string())),
    ];
    for (route, request) in cases {
        conforms(&router, route, request).await;
    }
    state.score_log.as_ref().expect("a log").flush().await;
    let history = conforms(&router, "/v1/leads/{id}/scores", get("/v1/leads/L1/scores")).await;
    assert_eq!(
        history["scores"].as_array().map(Vec::len),
        Some(1),
        "{history}"
    );
    conforms(
        &router,
        "/v1/leads/{id}/scores",
        get("/v1/leads/nope/scores"),
    )
    .await;
    let (router, _) = open(fixture().config);
    conforms(&router, "/v1/events", post("/v1/events", "{}")).await;
    conforms(&router, "/v1/leads/{id}", get("/v1/leads/L1")).await;
    s.store.close().await;
}
