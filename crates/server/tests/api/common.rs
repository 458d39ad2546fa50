//! Helpers shared by the API tests: a fixture with a private copy of the bundled model, and
//! requests sent through `oneshot` on the real router.

use std::path::{Path, PathBuf};

use axum::Router;
use axum::body::{Body, Bytes};
use axum::http::{HeaderMap, Method, Request, StatusCode, header};
use qualify_server::{AppState, Config, app};
use serde_json::{Value, json};
use tower::ServiceExt;

pub fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for entry in std::fs::read_dir(from).expect("read_dir") {
        let entry = entry.expect("entry");
        std::fs::copy(entry.path(), to.join(entry.file_name())).expect("copy");
    }
}

/// The bundled flat model's (only) version directory. The fixture serves a copy of it under
/// the name `default` ([`copy_bundle_as`]): these tests are about the API, and the flat model
/// reads every field of a record directly (the history-trained default model is served end
/// to end in tests/serve.rs and tests/serve_history.rs).
pub fn bundled_version() -> PathBuf {
    let dir = repo().join("models/flat");
    qualify_core::bundle::resolve_version(&dir).expect("bundled model")
}

/// Copies the bundled flat model's version to `to`, its manifest naming the model `name`.
pub fn copy_bundle_as(to: &Path, name: &str) {
    copy_dir(&bundled_version(), to);
    let manifest_path = to.join("manifest.json");
    let mut manifest: Value =
        serde_json::from_str(&std::fs::read_to_string(&manifest_path).expect("read"))
            .expect("json");
    manifest["name"] = json!(name);
    std::fs::write(&manifest_path, manifest.to_string()).expect("write");
}

pub struct Fixture {
    pub tmp: tempfile::TempDir,
    pub models: PathBuf,
    pub config: Config,
}

pub fn fixture() -> Fixture {
    let tmp = tempfile::tempdir().expect("tempdir");
    let models = tmp.path().join("models");
    let version = bundled_version();
    copy_bundle_as(
        &models
            .join("default")
            .join(version.file_name().expect("name")),
        "default",
    );
    let config = Config {
        models: models.clone(),
        rules: repo().join("rules/default.toml"),
        ..Config::default()
    };
    Fixture {
        tmp,
        models,
        config,
    }
}

pub fn open(config: Config) -> (Router, AppState) {
    let state = AppState::open(config).expect("state opens");
    (app(state.clone()), state)
}

pub fn sample_leads(n: usize) -> Vec<Value> {
    let text = std::fs::read_to_string(repo().join("data/sample/leads.jsonl")).expect("sample");
    text.lines()
        .take(n)
        .map(|l| serde_json::from_str(l).expect("json line"))
        .collect()
}

/// `n` leads: the sample's, repeated, with distinct ids.
pub fn many_leads(n: usize) -> Vec<Value> {
    let sample = sample_leads(200);
    (0..n)
        .map(|i| {
            let mut lead = sample[i % sample.len()].clone();
            lead["id"] = json!(format!("lead-{i}"));
            lead
        })
        .collect()
}

pub async fn send(router: &Router, request: Request<Body>) -> (StatusCode, HeaderMap, Bytes) {
    let response = router.clone().oneshot(request).await.expect("infallible");
    let status = response.status();
    let headers = response.headers().clone();
    let body = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .expect("body");
    (status, headers, body)
}

pub async fn send_json(router: &Router, request: Request<Body>) -> (StatusCode, HeaderMap, Value) {
    let (status, headers, body) = send(router, request).await;
    let value = serde_json::from_slice(&body)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&body)));
    (status, headers, value)
}

pub fn post(uri: &str, body: impl Into<Body>) -> Request<Body> {
    Request::builder()
        .method(Method::POST)
        .uri(uri)
        .header(header::CONTENT_TYPE, "application/json")
        .body(body.into())
        .expect("request")
}

pub fn post_ndjson(uri: &str, body: impl Into<Body>) -> Request<Body> {
    Request::builder()
        .method(Method::POST)
        .uri(uri)
        .header(header::CONTENT_TYPE, "application/x-ndjson")
        .body(body.into())
        .expect("request")
}

pub fn get(uri: &str) -> Request<Body> {
    Request::builder()
        .uri(uri)
        .body(Body::empty())
        .expect("request")
}

pub fn with_token(request: Request<Body>, authorization: &str) -> Request<Body> {
    let (mut parts, body) = request.into_parts();
    parts.headers.insert(
        header::AUTHORIZATION,
        authorization.parse().expect("header"),
    );
    Request::from_parts(parts, body)
}

pub fn assert_error(status: StatusCode, body: &Value, want: StatusCode, code: &str) {
    assert_eq!(status, want, "{body}");
    assert_eq!(body["error"]["code"], code, "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .is_some_and(|m| !m.is_empty()),
        "{body}"
    );
}

pub type Feed = tokio::sync::mpsc::Sender<Result<Bytes, std::io::Error>>;

/// A request body fed by hand: it waits for each piece the test sends, and ends when the
/// sender is dropped.
pub fn fed_body() -> (Body, Feed) {
    let (tx, rx) = tokio::sync::mpsc::channel::<Result<Bytes, std::io::Error>>(1);
    let stream = futures_util::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|item| (item, rx))
    });
    (Body::from_stream(stream), tx)
}

/// The metrics text.
pub async fn metrics(router: &Router) -> String {
    let (status, _, body) = send(router, get("/metrics")).await;
    assert_eq!(status, StatusCode::OK);
    String::from_utf8(body.to_vec()).expect("utf-8")
}

/// The value of one un-labelled or labelled series in the metrics text (`name{labels}`
/// prefix), 0 when absent.
pub fn metric(text: &str, series: &str) -> f64 {
    text.lines()
        .find_map(|l| {
            l.strip_prefix(series)
                .and_then(|rest| rest.strip_prefix(' '))
                .and_then(|v| v.trim().parse().ok())
        })
        .unwrap_or(0.0)
}

/// A copy of the bundle as a new version, with its manifest's version renamed.
pub fn add_version(models: &Path, version: &str, corrupt: bool) {
    let dir = models.join("default").join(version);
    copy_bundle_as(&dir, "default");
    let manifest_path = dir.join("manifest.json");
    let mut manifest: Value =
        serde_json::from_str(&std::fs::read_to_string(&manifest_path).expect("read"))
            .expect("json");
    manifest["version"] = json!(version);
    std::fs::write(&manifest_path, manifest.to_string()).expect("write");
    if corrupt {
        let golden_path = dir.join("golden.json");
        let mut golden: Value =
            serde_json::from_str(&std::fs::read_to_string(&golden_path).expect("read"))
                .expect("json");
        golden["rows"][0]["propensity"] = json!(0.123456);
        std::fs::write(&golden_path, golden.to_string()).expect("write");
    }
}
