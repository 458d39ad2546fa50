//! Reloads: a verified version swaps in, a bad one keeps the old serving, a request in flight
//! keeps its snapshot, a reload survives its caller, and a hung file read cannot wedge them.

use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::http::{Method, Request, StatusCode, header};
use futures_util::StreamExt;
use qualify_server::Config;
use qualify_server::config::Token;
use qualify_server::registry::ReloadStatus;
use serde_json::{Value, json};
use tower::ServiceExt;

use crate::common::*;

fn reload_request() -> Request<Body> {
    Request::builder()
        .method(Method::POST)
        .uri("/v1/admin/reload")
        .header(header::AUTHORIZATION, "Bearer admin-secret")
        .body(Body::empty())
        .expect("request")
}

fn with_admin(config: Config) -> Config {
    Config {
        admin_token: Some(Token::new("admin-secret")),
        ..config
    }
}

#[tokio::test]
async fn reload_swaps_in_a_verified_version_and_keeps_serving_through_a_bad_one() {
    let f = fixture();
    let (router, _) = open(with_admin(f.config.clone()));
    let (_, _, before) = send_json(&router, post("/v1/score", "{}")).await;
    let old_version = before["model"]["version"]
        .as_str()
        .expect("version")
        .to_string();

    // An NDJSON stream started before the reload: its snapshot is taken at its start.
    let (body, feed) = fed_body();
    let response = router
        .clone()
        .oneshot(post_ndjson("/v1/score/batch", body))
        .await
        .expect("infallible");
    let mut answers = response.into_body().into_data_stream();
    feed.send(Ok(Bytes::from_static(b"{\"id\": \"a\"}\n")))
        .await
        .expect("feed");
    let first: Value =
        serde_json::from_slice(&answers.next().await.expect("a line").expect("bytes"))
            .expect("json");
    assert_eq!(first["model"]["version"], old_version.as_str());

    add_version(&f.models, "29990101T000000.000Z", false);
    let (status, _, report) = send_json(&router, reload_request()).await;
    assert_eq!(status, StatusCode::OK, "{report}");
    assert_eq!(report["problems"], json!([]), "{report}");
    assert!(
        report["entries"]
            .as_array()
            .is_some_and(|e| e.iter().any(|e| e["status"] == "loaded")),
        "{report}"
    );
    let (_, _, body) = send_json(&router, post("/v1/score", "{}")).await;
    assert_eq!(body["model"]["version"], "29990101T000000.000Z");

    // The stream goes on with the version it started with.
    feed.send(Ok(Bytes::from_static(b"{\"id\": \"b\"}\n")))
        .await
        .expect("feed");
    let second: Value =
        serde_json::from_slice(&answers.next().await.expect("a line").expect("bytes"))
            .expect("json");
    assert_eq!(second["id"], "b");
    assert_eq!(second["model"]["version"], old_version.as_str());
    drop(feed);
    assert!(
        answers.next().await.is_none(),
        "the stream ends with its body"
    );

    add_version(&f.models, "29990202T000000.000Z", true);
    let (status, _, report) = send_json(&router, reload_request()).await;
    assert_eq!(status, StatusCode::OK);
    let kept = &report["entries"][0];
    assert_eq!(kept["status"], "kept", "{report}");
    assert!(
        kept["error"].as_str().is_some_and(|e| e.contains("golden")),
        "{report}"
    );
    let (_, _, body) = send_json(&router, post("/v1/score", "{}")).await;
    assert_eq!(body["model"]["version"], "29990101T000000.000Z");
    let (status, _, ready) = send_json(&router, get("/readyz")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(ready["status"], "degraded");
    assert!(
        ready["problems"][0]
            .as_str()
            .is_some_and(|p| p.contains("29990202")),
        "{ready}"
    );
}

#[tokio::test]
async fn a_broken_rules_file_keeps_the_old_rules_serving() {
    let f = fixture();
    let rules = f.tmp.path().join("rules.toml");
    std::fs::copy(repo().join("rules/default.toml"), &rules).expect("copy rules");
    let (_, state) = open(Config {
        rules: rules.clone(),
        ..f.config
    });
    let old = state.registry.current().rules.sha256.clone();
    std::fs::write(&rules, "[[fit]]\nid = \n").expect("write");
    let report = state.reload().await;
    assert_eq!(
        report
            .entries
            .iter()
            .find(|e| e.name == "rules")
            .map(|e| e.status),
        Some(ReloadStatus::Kept)
    );
    assert_eq!(state.registry.current().rules.sha256, old);
    assert!(!state.registry.current().problems.is_empty());
}

/// Issue 11, bug 4: the admin request's future is dropped (its client went away) while the
/// reload runs; the reload still finishes and the new version serves.
#[tokio::test]
async fn a_reload_whose_client_disconnects_runs_to_the_end() {
    let f = fixture();
    let (router, state) = open(with_admin(f.config.clone()));
    add_version(&f.models, "29990101T000000.000Z", false);
    let request = router.clone().oneshot(reload_request());
    // Long enough to start the reload (loading and checking a bundle takes far longer).
    let cut = tokio::time::timeout(Duration::from_millis(5), request).await;
    assert!(
        cut.is_err(),
        "the reload answered before the client went away"
    );
    let mut served = false;
    for _ in 0..200 {
        tokio::time::sleep(Duration::from_millis(50)).await;
        if state.registry.current().champion().version() == "29990101T000000.000Z" {
            served = true;
            break;
        }
    }
    assert!(
        served,
        "the dropped reload never swapped in the new version"
    );
    let (_, _, ready) = send_json(&router, get("/readyz")).await;
    assert_eq!(ready["status"], "ready", "{ready}");
}

/// Issue 11, R4: the rules file turns into a FIFO nobody writes to (a hung network mount): the
/// reload times out and says so, `/readyz` is degraded, the next reload fails fast instead of
/// queueing behind the stuck one, and the old rules keep serving.
#[cfg(unix)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reload_stuck_on_a_file_read_times_out_and_does_not_wedge_the_next() {
    let f = fixture();
    let rules = f.tmp.path().join("rules.toml");
    std::fs::copy(repo().join("rules/default.toml"), &rules).expect("copy rules");
    let (router, state) = open(with_admin(Config {
        rules: rules.clone(),
        reload_timeout_ms: 300,
        ..f.config
    }));
    std::fs::remove_file(&rules).expect("rm");
    let made = std::process::Command::new("mkfifo")
        .arg(&rules)
        .status()
        .expect("mkfifo");
    assert!(made.success());

    let (status, _, report) = send_json(&router, reload_request()).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        report["problems"][0]
            .as_str()
            .is_some_and(|p| p.contains("did not finish within 300 ms")),
        "{report}"
    );
    let (_, _, ready) = send_json(&router, get("/readyz")).await;
    assert_eq!(ready["status"], "degraded", "{ready}");
    let (_, _, report) = send_json(&router, reload_request()).await;
    assert!(
        report["problems"][0]
            .as_str()
            .is_some_and(|p| p.contains("an earlier reload is still running")),
        "{report}"
    );
    let (status, _, body) = send_json(&router, post("/v1/score", "{}")).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(body["rules"]["stage"].is_string());

    // Unblock the stuck read (open the FIFO for writing and close it) so its thread ends and
    // the test's runtime can shut down. Joined before the fixture's temporary directory goes:
    // a writer that started after the FIFO was deleted would leave the read stuck for good.
    std::thread::spawn(move || drop(std::fs::OpenOptions::new().write(true).open(&rules)))
        .join()
        .expect("the writer ends once the stuck read has the FIFO open");
    drop(state);
}
