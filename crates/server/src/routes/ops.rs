//! Operations: `/healthz` (the process answers), `/readyz` (it serves, and what failed),
//! `/metrics` (Prometheus), `/info` (what runs, with which limits), `/openapi.json`.

use std::sync::atomic::Ordering;

use axum::Json;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;

use crate::app::AppState;

#[derive(Debug, Serialize, ToSchema)]
pub struct Health {
    pub status: HealthStatus,
}

/// The process answers (the only value: a process that does not answer says nothing).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum HealthStatus {
    Ok,
}

/// Liveness: the process answers. Never waits on scoring.
#[utoipa::path(get, path = "/healthz", tag = "operations", responses((status = 200, body = Health)))]
pub async fn healthz() -> Json<Health> {
    Json(Health {
        status: HealthStatus::Ok,
    })
}

/// Whether to send this instance traffic.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ReadinessStatus {
    /// Serving what it was told to.
    Ready,
    /// Serving, but the last reload had problems, or the score log cannot write to the
    /// store (listed); older versions serve, answers go out unlogged.
    Degraded,
    /// Shutting down: stop sending (answered with 503).
    Draining,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Readiness {
    pub status: ReadinessStatus,
    /// `name@version` of each served model.
    pub models: Vec<String>,
    pub problems: Vec<String>,
    pub loaded_at: DateTime<Utc>,
}

/// Readiness: 200 while serving (with any reload or score log problems listed), 503 while
/// shutting down.
#[utoipa::path(get, path = "/readyz", tag = "operations",
    responses((status = 200, body = Readiness), (status = 503, body = Readiness)))]
pub async fn readyz(State(state): State<AppState>) -> Response {
    let served = state.registry.current();
    let draining = state.draining.load(Ordering::Relaxed);
    let mut problems = served.problems.clone();
    problems.extend(state.score_log.as_ref().and_then(|l| l.problem()));
    let body = Readiness {
        status: if draining {
            ReadinessStatus::Draining
        } else if problems.is_empty() {
            ReadinessStatus::Ready
        } else {
            ReadinessStatus::Degraded
        },
        models: served
            .models
            .values()
            .chain(served.challenger.as_ref())
            .map(|m| format!("{}@{}", m.name(), m.version()))
            .collect(),
        problems,
        loaded_at: served.loaded_at,
    };
    let status = if draining {
        StatusCode::SERVICE_UNAVAILABLE
    } else {
        StatusCode::OK
    };
    (status, Json(body)).into_response()
}

/// Prometheus text exposition.
#[utoipa::path(get, path = "/metrics", tag = "operations",
    responses((status = 200, content_type = "text/plain", body = String)))]
pub async fn metrics(State(state): State<AppState>) -> Response {
    state
        .metrics
        .set_load(state.work.queued_leads(), state.work.requests_in_flight());
    state
        .metrics
        .set_score_log_queue(state.score_log.as_ref().map_or(0, |l| l.queued()));
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        state.metrics.encode(),
    )
        .into_response()
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Info {
    pub service: &'static str,
    pub version: &'static str,
    pub started_at: DateTime<Utc>,
    pub uptime_seconds: i64,
    pub default_model: String,
    pub models: Vec<String>,
    pub challenger: Option<String>,
    pub rules: RulesInfo,
    pub limits: Limits,
    pub auth: AuthInfo,
    pub store: StoreInfo,
}

/// The lead store, without its URL (this route needs no token; a URL may hold a password).
#[derive(Debug, Serialize, ToSchema)]
pub struct StoreInfo {
    /// `sqlite` or `postgres`; absent without a store.
    pub backend: Option<String>,
    /// Answers are appended to the score log.
    pub score_log: bool,
    /// Share of leads in the exploration holdout.
    pub holdout_fraction: f64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RulesInfo {
    /// The rules file's name (not its directory: this route needs no token).
    pub file: String,
    pub name: Option<String>,
    pub sha256: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Limits {
    pub max_body_bytes: usize,
    pub max_batch: usize,
    pub max_concurrency: usize,
    pub max_queued_leads: usize,
    pub timeout_ms: u64,
    pub body_timeout_ms: u64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AuthInfo {
    /// Scoring routes need a bearer token.
    pub scoring: bool,
    /// Admin routes are on (a token is configured).
    pub admin: bool,
}

/// What runs: version, models, rules, limits, auth, the store.
#[utoipa::path(get, path = "/info", tag = "operations", responses((status = 200, body = Info)))]
pub async fn info(State(state): State<AppState>) -> Json<Info> {
    let served = state.registry.current();
    let c = &state.config;
    Json(Info {
        service: "qualify",
        version: env!("CARGO_PKG_VERSION"),
        started_at: state.started_at,
        uptime_seconds: (Utc::now() - state.started_at).num_seconds(),
        default_model: served.default_model.clone(),
        models: served
            .models
            .values()
            .map(|m| format!("{}@{}", m.name(), m.version()))
            .collect(),
        challenger: served
            .challenger
            .as_ref()
            .map(|m| format!("{}@{}", m.name(), m.version())),
        rules: RulesInfo {
            file: served
                .rules
                .path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default(),
            name: served.rules.rules.name().map(str::to_string),
            sha256: served.rules.sha256.clone(),
        },
        limits: Limits {
            max_body_bytes: c.max_body_bytes,
            max_batch: c.max_batch,
            max_concurrency: c.max_concurrency,
            max_queued_leads: c.max_queued_leads,
            timeout_ms: c.timeout_ms,
            body_timeout_ms: c.body_timeout_ms,
        },
        auth: AuthInfo {
            scoring: c.api_token.is_some(),
            admin: c.admin_token.is_some(),
        },
        store: StoreInfo {
            backend: state.store.as_ref().map(|s| s.backend().to_string()),
            score_log: state.score_log.is_some(),
            holdout_fraction: c.holdout_fraction,
        },
    })
}

/// This API's OpenAPI 3.1 document.
#[utoipa::path(get, path = "/openapi.json", tag = "operations",
    responses((status = 200, content_type = "application/json", body = Object)))]
pub async fn openapi() -> Response {
    (
        [(header::CONTENT_TYPE, "application/json")],
        crate::openapi::document_json(),
    )
        .into_response()
}
