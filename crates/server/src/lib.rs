//! qualify-server: the HTTP scoring service.
//!
//! One request, one lead, one answer holding both views a CRM needs: the model's calibrated
//! propensity (with the reasons behind it) and the rule-based score and stage (with theirs).
//! The crate is the thin HTTP layer over the libraries that do the work — qualify-runtime
//! scores, qualify-rules qualifies, qualify-core encodes — so the server computes nothing the
//! batch commands (`qualify score`, `qualify rules score`) do not compute the same way.
//!
//! [`app`] builds the whole API as an axum `Router`, so it can be served ([`serve()`]) or
//! called in-process without a socket:
//!
//! ```
//! use axum::body::Body;
//! use axum::http::{Request, StatusCode};
//! use qualify_server::{AppState, Config, app};
//! use tower::ServiceExt;
//!
//! # tokio::runtime::Runtime::new().unwrap().block_on(async {
//! let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
//! let state = AppState::open(Config {
//!     models: root.join("models"),
//!     rules: root.join("rules/default.toml"),
//!     ..Config::default()
//! })
//! .expect("the bundled model and rules load");
//!
//! let request = Request::post("/v1/score?as_of=2026-06-30T00:00:00Z")
//!     .header("content-type", "application/json")
//!     .body(Body::from(r#"{"id": "lead-7", "job_title": "VP Sales", "employees": 40}"#))
//!     .unwrap();
//! let response = app(state).oneshot(request).await.unwrap();
//! assert_eq!(response.status(), StatusCode::OK);
//!
//! let body = axum::body::to_bytes(response.into_body(), 1 << 20).await.unwrap();
//! let answer: serde_json::Value = serde_json::from_slice(&body).unwrap();
//! assert_eq!(answer["id"], "lead-7");
//! let propensity = answer["propensity"].as_f64().unwrap();
//! assert!((0.0..=1.0).contains(&propensity));
//! assert!(answer["rules"]["stage"].is_string());
//! # });
//! ```
//!
//! Data flow: [`config::Config`] (settings in layers) → [`registry::Registry`] (models and
//! rules, hot-swappable behind an `ArcSwap`, each bundle verified by its golden rows before it
//! serves) → [`app`] (routes, auth, metrics) → [`work`] (CPU work off the async workers,
//! admitted by the leads queued, within a deadline) → [`serve()`] (socket, timeouts, signals,
//! draining shutdown).

pub mod config;
pub mod error;
pub mod metrics;
pub mod openapi;
pub mod registry;
pub mod routes;
pub mod scoring;
pub mod serve;
pub mod work;

mod app;
mod body;

pub use app::{AppState, OpenError, ROUTES, app};
pub use config::Config;
pub use serve::{ServeError, serve};
