//! qualify-server: the HTTP scoring service.
//!
//! One request, one lead, one answer holding both views a CRM needs: the model's calibrated
//! propensity (with the reasons behind it) and the rule-based score and stage (with theirs).
//! The crate is the thin HTTP layer over the libraries that do the work — qualify-runtime
//! scores, qualify-rules qualifies, qualify-core encodes — so the server computes nothing the
//! batch commands (`qualify score`, `qualify rules score`) do not compute the same way.
//!
//! Data flow: [`config::Config`] (settings in layers) → [`registry::Registry`] (models and
//! rules, hot-swappable behind an `ArcSwap`, each bundle verified by its golden rows before it
//! serves) → [`app`] (routes, auth, metrics) → [`work`] (CPU work off the async workers,
//! admitted by the leads queued, within a deadline) → [`serve()`] (socket, timeouts, signals,
//! draining shutdown).
//!
//! The router answers without a socket, which is how tests (and an embedding service) drive
//! it: worked example 2 of docs/concepts.md (Lead C, an MQL at 75) scored by the bundled model
//! and the default rules in one request.
//!
//! ```
//! use std::path::Path;
//!
//! use axum::body::Body;
//! use axum::http::{Request, StatusCode, header};
//! use qualify_server::{AppState, Config, app};
//! use tower::ServiceExt;
//!
//! # #[tokio::main]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
//! let config = Config {
//!     models: repo.join("models"),
//!     rules: repo.join("rules/default.toml"),
//!     ..Config::default()
//! };
//! let router = app(AppState::open(config)?);
//!
//! let at = "2026-06-30T00:00:00Z";
//! let lead = serde_json::json!({
//!     "id": "C", "job_title": "Marketing Director", "email": "c@acme.example",
//!     "industry": "saas", "employees": 500, "country": "GB",
//!     "activities": [
//!         {"type": "case_study_download", "at": at},
//!         {"type": "pricing_page_visit", "at": at},
//!         {"type": "demo_request", "at": at},
//!     ],
//! });
//! let request = Request::post(format!("/v1/score?as_of={at}"))
//!     .header(header::CONTENT_TYPE, "application/json")
//!     .body(Body::from(lead.to_string()))?;
//!
//! let response = router.oneshot(request).await?;
//! assert_eq!(response.status(), StatusCode::OK);
//! let body = axum::body::to_bytes(response.into_body(), usize::MAX).await?;
//! let answer: serde_json::Value = serde_json::from_slice(&body)?;
//! let propensity = answer["propensity"].as_f64().ok_or("no propensity")?;
//! assert!((0.0..=1.0).contains(&propensity));
//! assert_eq!(answer["rules"]["score"], 75);
//! assert_eq!(answer["rules"]["stage"], "MQL");
//! # Ok(())
//! # }
//! ```

pub mod config;
pub mod error;
pub mod metrics;
pub mod openapi;
pub mod registry;
pub mod routes;
pub mod scorelog;
pub mod scoring;
pub mod serve;
pub mod work;

mod app;
mod body;
mod store_errors;

pub use app::{AppState, OpenError, ROUTES, app};
pub use config::Config;
pub use serve::{ServeError, serve};
