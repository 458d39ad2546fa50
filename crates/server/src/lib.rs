//! qualify-server: the HTTP scoring service.
//!
//! One request, one lead, one answer holding both views a CRM needs: the model's calibrated
//! propensity (with the reasons behind it) and the rule-based score and stage (with theirs).
//! The crate is the thin HTTP layer over the libraries that do the work — qualify-runtime
//! scores, qualify-rules qualifies, qualify-core encodes — so the server computes nothing the
//! batch commands (`qualify score`, `qualify rules score`) do not compute the same way.
//!
//! Data flow: [`config::Config`] → [`registry::Registry`] (models and rules, hot-swappable
//! behind an `ArcSwap`, each bundle verified by its golden rows before it serves) →
//! [`app`] (axum `Router`: routes, limits, auth, metrics) → [`serve`] (socket, signals,
//! graceful shutdown).

pub mod config;
pub mod error;
pub mod metrics;
pub mod openapi;
pub mod registry;
pub mod routes;
pub mod scoring;
pub mod serve;

mod app;
mod body;

pub use app::{AppState, app};
pub use config::Config;
pub use serve::serve;
