//! What a client can cost the server, and what it gets when it asks for more: issue 11's bugs
//! 1–3 and risks R1–R3, R6 and R9 (gzip), each with the test that failed before its fix.

use std::io::Write;
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::http::{Method, Request, StatusCode, header};
use futures_util::StreamExt;
use qualify_server::Config;
use serde_json::Value;
use tower::ServiceExt;

use crate::common::*;

/// Sum of every series whose line starts with `prefix`.
fn metric_sum(text: &str, prefix: &str) -> f64 {
    text.lines()
        .filter(|l| l.starts_with(prefix))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum()
}

fn batch_body(n: usize) -> String {
    Value::Array(many_leads(n)).to_string()
}

/// Waits (polling `/metrics`) until `series` reaches `at_least`.
async fn until_metric(router: &axum::Router, series: &str, at_least: f64) {
    for _ in 0..2000 {
        if metric(&metrics(router).await, series) >= at_least {
            return;
        }
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    panic!("{series} never reached {at_least}");
}

/// Bug 1: labels come from closed sets, so made-up methods and paths add no series.
#[tokio::test]
async fn made_up_methods_and_paths_do_not_grow_the_metrics() {
    let f = fixture();
    let (router, _) = open(f.config);
    for i in 0..50 {
        let method = Method::from_bytes(format!("FROB{i}").as_bytes()).expect("token");
        let request = Request::builder()
            .method(method)
            .uri("/v1/score")
            .body(Body::empty())
            .expect("request");
        let (status, _, _) = send(&router, request).await;
        assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);
        send(&router, get(&format!("/made/up/{i}"))).await;
    }
    let text = metrics(&router).await;
    assert!(
        !text.contains("FROB") && !text.contains("/made/up"),
        "{text}"
    );
    assert_eq!(
        metric(
            &text,
            r#"qualify_http_requests_total{route="/v1/score",method="other",status="405"}"#
        ),
        50.0,
        "{text}"
    );
    assert_eq!(
        metric(
            &text,
            r#"qualify_http_requests_total{route="unmatched",method="GET",status="404"}"#
        ),
        50.0,
        "{text}"
    );
    let series = text
        .lines()
        .filter(|l| l.starts_with("qualify_http_requests_total{"))
        .count();
    assert!(series <= 3, "{series} request series:\n{text}");
}

/// Bug 2: a batch over its deadline answers 503 `timeout` and its work stops (it does not
/// score on to the end for nobody).
#[tokio::test]
async fn the_timeout_cuts_a_batch_and_its_work_stops() {
    let f = fixture();
    let (router, _) = open(Config {
        timeout_ms: 40,
        ..f.config
    });
    let (status, headers, body) =
        send_json(&router, post("/v1/score/batch", batch_body(1000))).await;
    assert_error(status, &body, StatusCode::SERVICE_UNAVAILABLE, "timeout");
    assert_eq!(headers[header::RETRY_AFTER], "1");
    tokio::time::sleep(Duration::from_millis(300)).await;
    let scored = metric_sum(&metrics(&router).await, "qualify_propensity_count{");
    tokio::time::sleep(Duration::from_millis(300)).await;
    let later = metric_sum(&metrics(&router).await, "qualify_propensity_count{");
    assert!(
        scored < 1000.0,
        "{scored} of 1000 leads scored after the timeout"
    );
    assert_eq!(scored, later, "scoring went on after the answer");
}

/// Bug 2: scoring runs off the async workers — on a single-threaded runtime, `/healthz`
/// answers while a batch is being scored.
#[tokio::test(flavor = "current_thread")]
async fn health_answers_while_a_batch_is_scored() {
    let f = fixture();
    let (router, _) = open(f.config);
    let batch = tokio::spawn({
        let router = router.clone();
        async move {
            send(&router, post("/v1/score/batch", batch_body(1000)))
                .await
                .0
        }
    });
    until_metric(&router, "qualify_queued_leads", 1000.0).await;
    let (status, _, health) = send_json(&router, get("/healthz")).await;
    assert_eq!(
        (status, health["status"].as_str()),
        (StatusCode::OK, Some("ok"))
    );
    assert!(!batch.is_finished(), "health waited for the batch");
    assert_eq!(batch.await.expect("join"), StatusCode::OK);
}

/// Bug 3: requests are shed by the work queued — a batch that fills `max_queued_leads` makes
/// the next lead a 503 with Retry-After at once, while health and metrics answer.
#[tokio::test]
async fn work_over_the_queue_limit_is_shed_with_retry_after() {
    let f = fixture();
    let (router, _) = open(Config {
        max_batch: 1000,
        max_queued_leads: 1000,
        ..f.config
    });
    let batch = tokio::spawn({
        let router = router.clone();
        async move { send_json(&router, post("/v1/score/batch", batch_body(1000))).await }
    });
    until_metric(&router, "qualify_queued_leads", 1000.0).await;
    let (status, headers, body) = send_json(&router, post("/v1/score", "{}")).await;
    assert_error(status, &body, StatusCode::SERVICE_UNAVAILABLE, "overloaded");
    assert_eq!(headers[header::RETRY_AFTER], "1");
    assert_eq!(send(&router, get("/healthz")).await.0, StatusCode::OK);
    let (status, _, answers) = batch.await.expect("join");
    assert_eq!(status, StatusCode::OK);
    assert_eq!(answers.as_array().map(Vec::len), Some(1000));
    assert_eq!(
        send(&router, post("/v1/score", "{}")).await.0,
        StatusCode::OK
    );
    assert_eq!(metric(&metrics(&router).await, "qualify_queued_leads"), 0.0);
}

/// R1: a batch is refused at element `max_batch + 1`, before the rest is parsed.
#[tokio::test]
async fn a_megabyte_of_empty_leads_is_refused_while_parsing() {
    let f = fixture();
    let (router, _) = open(f.config);
    let mut body = String::from("[");
    while body.len() < (1 << 20) - 8 {
        body.push_str("{},");
    }
    body.push_str("{}]");
    let (status, _, answer) = send_json(&router, post("/v1/score/batch", body)).await;
    assert_error(
        status,
        &answer,
        StatusCode::PAYLOAD_TOO_LARGE,
        "batch_too_large",
    );
}

/// R2: a slow body holds no scoring slot, and is cut by the body timeout.
#[tokio::test]
async fn a_slow_body_holds_no_slot_and_times_out() {
    let f = fixture();
    let (router, _) = open(Config {
        max_concurrency: 1,
        body_timeout_ms: 300,
        ..f.config
    });
    let (body, feed) = fed_body();
    let slow = tokio::spawn({
        let router = router.clone();
        async move { send_json(&router, post("/v1/score", body)).await }
    });
    feed.send(Ok(Bytes::from_static(b"{\"id\": ")))
        .await
        .expect("feed");
    // Let the slow request start reading (and, before the fix, take the only slot).
    tokio::time::sleep(Duration::from_millis(50)).await;
    let (status, _, answer) = send_json(&router, post("/v1/score", "{}")).await;
    assert_eq!(
        status,
        StatusCode::OK,
        "the slow body held the only slot: {answer}"
    );
    let (status, _, answer) = slow.await.expect("join");
    assert_error(status, &answer, StatusCode::REQUEST_TIMEOUT, "body_timeout");
    drop(feed);
}

/// R3: an NDJSON stream holds its slot until its body ends.
#[tokio::test]
async fn an_ndjson_stream_holds_a_slot_for_its_life() {
    let f = fixture();
    let (router, _) = open(Config {
        max_concurrency: 1,
        ..f.config
    });
    let (body, feed) = fed_body();
    let response = router
        .clone()
        .oneshot(post_ndjson("/v1/score/batch", body))
        .await
        .expect("infallible");
    assert_eq!(response.status(), StatusCode::OK);
    let mut answers = response.into_body().into_data_stream();
    feed.send(Ok(Bytes::from_static(b"{\"id\": \"a\"}\n")))
        .await
        .expect("feed");
    let line = answers.next().await.expect("a line").expect("bytes");
    assert!(line.starts_with(b"{\"id\":\"a\""), "{line:?}");
    let (status, _, body) = send_json(&router, post("/v1/score", "{}")).await;
    assert_error(status, &body, StatusCode::SERVICE_UNAVAILABLE, "overloaded");
    drop(feed);
    assert!(answers.next().await.is_none());
    drop(answers);
    assert_eq!(
        send(&router, post("/v1/score", "{}")).await.0,
        StatusCode::OK
    );
}

/// R3: a stream whose body stalls longer than the body timeout ends with an error line.
#[tokio::test]
async fn a_stalled_ndjson_stream_ends_with_an_error_line() {
    let f = fixture();
    let (router, _) = open(Config {
        body_timeout_ms: 200,
        ..f.config
    });
    let (body, feed) = fed_body();
    feed.send(Ok(Bytes::from_static(b"{\"id\": \"a\"}\n{\"id\"")))
        .await
        .expect("feed");
    let (status, _, text) = send(&router, post_ndjson("/v1/score/batch", body)).await;
    assert_eq!(status, StatusCode::OK);
    let lines: Vec<Value> = String::from_utf8(text.to_vec())
        .expect("utf-8")
        .lines()
        .map(|l| serde_json::from_str(l).expect("json line"))
        .collect();
    assert_eq!(lines.len(), 2, "{lines:?}");
    assert_eq!(lines[0]["id"], "a");
    assert_eq!(
        (
            lines[1]["line"].as_u64(),
            lines[1]["error"]["code"].as_str()
        ),
        (Some(2), Some("body_timeout"))
    );
    drop(feed);
}

/// R6: unknown-field warnings are capped and the rest counted, so the answer stays small.
#[tokio::test]
async fn unknown_field_warnings_are_capped_and_counted() {
    let f = fixture();
    let (router, _) = open(f.config);
    let mut lead = serde_json::Map::new();
    for i in 0..5000 {
        lead.insert(format!("made_up_field_{i:05}"), Value::from(i));
    }
    let body = Value::Object(lead).to_string();
    let (status, _, answer) = send(&router, post("/v1/score", body.clone())).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        answer.len() < body.len() / 4,
        "{} bytes for a {}-byte lead",
        answer.len(),
        body.len()
    );
    let answer: Value = serde_json::from_slice(&answer).expect("json");
    let warnings = answer["warnings"].as_array().expect("warnings");
    let unknown = warnings
        .iter()
        .filter(|w| w["code"] == "unknown_field")
        .count();
    assert_eq!(unknown, 20);
    let omitted: Vec<&Value> = warnings
        .iter()
        .filter(|w| w["code"] == "unknown_fields_omitted")
        .collect();
    assert_eq!(omitted.len(), 1, "{warnings:?}");
    assert_eq!(omitted[0]["count"], 4980);
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(bytes).expect("compress");
    e.finish().expect("compress")
}

fn encoded(uri: &str, content_type: &str, encoding: &str, body: Vec<u8>) -> Request<Body> {
    Request::builder()
        .method(Method::POST)
        .uri(uri)
        .header(header::CONTENT_TYPE, content_type)
        .header(header::CONTENT_ENCODING, encoding)
        .body(Body::from(body))
        .expect("request")
}

/// R9: gzip bodies are decoded (JSON and NDJSON), bombs stop at the limit, other encodings
/// are 415.
#[tokio::test]
async fn gzip_bodies_score_like_plain_ones() {
    let f = fixture();
    let (router, _) = open(Config {
        max_body_bytes: 64 << 10,
        ..f.config
    });
    let uri = "/v1/score/batch?as_of=2026-06-30T00:00:00Z";
    let leads = many_leads(40);
    let array = Value::Array(leads.clone()).to_string();
    let (_, _, plain) = send_json(&router, post(uri, array.clone())).await;
    let (status, _, zipped) = send_json(
        &router,
        encoded(uri, "application/json", "gzip", gzip(array.as_bytes())),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{zipped}");
    assert_eq!(zipped, plain);

    let ndjson: String = leads.iter().map(|l| format!("{l}\n")).collect();
    let (status, _, lines) = send(
        &router,
        encoded(uri, "application/x-ndjson", "gzip", gzip(ndjson.as_bytes())),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let lines: Vec<Value> = String::from_utf8(lines.to_vec())
        .expect("utf-8")
        .lines()
        .map(|l| serde_json::from_str(l).expect("json line"))
        .collect();
    assert_eq!(Value::Array(lines), plain);

    let bomb = gzip(&vec![b' '; 10 << 20]);
    let (status, _, body) = send_json(
        &router,
        encoded("/v1/score", "application/json", "gzip", bomb),
    )
    .await;
    assert_error(status, &body, StatusCode::PAYLOAD_TOO_LARGE, "too_large");
    let (status, _, body) = send_json(
        &router,
        encoded("/v1/score", "application/json", "br", b"{}".to_vec()),
    )
    .await;
    assert_error(
        status,
        &body,
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "unsupported_encoding",
    );
}
