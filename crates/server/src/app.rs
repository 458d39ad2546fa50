//! The router: routes, and the layers every request passes, outermost first:
//! catch-panic (last resort: a JSON 500, logged) → request id (`x-request-id`, made or kept,
//! echoed) → metrics (closed label sets) → [scoring and store routes: bearer auth; admin
//! routes: admin auth] → handler.
//!
//! Load limits are not layers: a scoring handler reads its body first (within
//! `body_timeout_ms`), then takes a slot and admits its leads to the scoring queue
//! ([`crate::work`]), so only work that is ready to run counts against the limits.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Instant;

use axum::Router;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use chrono::{DateTime, Utc};
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::request_id::{
    MakeRequestId, PropagateRequestIdLayer, RequestId, SetRequestIdLayer,
};

use crate::config::ScoreLogSwitch;
use crate::config::{Config, Token};
use crate::error::{ApiError, ErrorCode};
use crate::metrics::Metrics;
use crate::registry::{LoadError, Registry, ReloadReport};
use crate::routes::{admin, ingest, leads, models, monitor, ops, score};
use crate::scorelog::ScoreLog;
use crate::scoring::Scorer;
use crate::work::Work;

/// Every route template, as the router matches it (metrics label routes with these).
pub const ROUTES: [&str; 17] = [
    "/v1/score",
    "/v1/score/batch",
    "/v1/leads/{id}",
    "/v1/leads/{id}/score",
    "/v1/leads/{id}/scores",
    "/v1/events",
    "/v1/outcomes",
    "/v1/monitor",
    "/monitor",
    "/v1/models",
    "/v1/models/{name}",
    "/v1/admin/reload",
    "/healthz",
    "/readyz",
    "/metrics",
    "/info",
    "/openapi.json",
];

/// Shared by every handler; cheap to clone.
#[derive(Debug, Clone)]
pub struct AppState {
    pub config: Arc<Config>,
    pub registry: Arc<Registry>,
    pub metrics: Arc<Metrics>,
    pub work: Arc<Work>,
    pub started_at: DateTime<Utc>,
    /// Set when shutdown begins: `/readyz` answers 503 so balancers stop sending.
    pub draining: Arc<AtomicBool>,
    /// The lead store, when the server keeps one ([`AppState::connect_store`]).
    pub store: Option<qualify_store::Store>,
    /// The score log's queue, when there is a store and the log is on.
    pub score_log: Option<ScoreLog>,
}

/// Settings that fail their checks, or models and rules that fail to load.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    #[error(transparent)]
    Config(#[from] crate::config::ConfigError),
    #[error(transparent)]
    Load(#[from] LoadError),
    /// The store the settings name cannot be used (unreachable, newer than this build).
    #[error("the store {url}: {source}")]
    Store {
        url: String,
        #[source]
        source: Box<qualify_store::StoreError>,
    },
}

impl AppState {
    /// Checks `config` and loads the models and rules it names (blocking: call before
    /// serving).
    pub fn open(config: Config) -> Result<AppState, OpenError> {
        config.validate()?;
        let registry = Arc::new(Registry::open(&config)?);
        let metrics = Metrics::new(&registry.current());
        Ok(AppState {
            work: Arc::new(Work::new(&config)),
            config: Arc::new(config),
            registry,
            metrics,
            started_at: Utc::now(),
            draining: Arc::new(AtomicBool::new(false)),
            store: None,
            score_log: None,
        })
    }

    /// Connects the store the settings name (`store`; nothing for `none`), applying its
    /// migrations, and starts the score log's writer when `score_log` is on. Needs a tokio
    /// runtime. `open` alone serves without a store: tests choose.
    ///
    /// # Errors
    /// [`OpenError::Store`]: a store that cannot be reached or created, or one written by a
    /// newer qualify.
    pub async fn connect_store(self) -> Result<AppState, OpenError> {
        let Some(url) = self.config.store.url().map(str::to_string) else {
            return Ok(self);
        };
        let store = qualify_store::Store::connect(&url)
            .await
            .map_err(|source| OpenError::Store {
                url,
                source: Box::new(source),
            })?;
        Ok(self.with_store(store))
    }

    /// This state with `store` (and the score log, when `score_log` is on).
    pub fn with_store(mut self, store: qualify_store::Store) -> AppState {
        self.score_log = (self.config.score_log == ScoreLogSwitch::On)
            .then(|| ScoreLog::start(store.clone(), Arc::clone(&self.metrics)));
        self.store = Some(store);
        self
    }

    pub fn scorer(&self) -> Scorer<'_> {
        Scorer {
            config: &self.config,
            metrics: &self.metrics,
        }
    }

    /// Reloads models and rules, updates the metrics and logs the outcome (admin route and
    /// SIGHUP). The reload runs as its own task: once started it runs to the end and is
    /// logged even if the caller goes away.
    pub async fn reload(&self) -> ReloadReport {
        let state = self.clone();
        let task = tokio::spawn(async move {
            let report = state.registry.reload().await;
            state.metrics.record_reload(&state.registry.current());
            crate::registry::log_report(&report);
            report
        });
        match task.await {
            Ok(report) => report,
            Err(e) => {
                let problem = format!("the reload task failed: {e}");
                tracing::error!(%problem, "reload");
                ReloadReport {
                    entries: Vec::new(),
                    problems: vec![problem],
                }
            }
        }
    }
}

/// The whole API as a `Router`, ready to serve or to test with `oneshot`.
pub fn app(state: AppState) -> Router {
    let config = Arc::clone(&state.config);
    let scoring = Router::new()
        .route("/v1/score", post(score::score))
        .route("/v1/score/batch", post(score::batch))
        .route("/v1/leads/{id}", put(leads::put).get(leads::get))
        .route("/v1/leads/{id}/score", get(leads::score))
        .route("/v1/leads/{id}/scores", get(leads::scores))
        .route("/v1/events", post(ingest::events))
        .route("/v1/outcomes", post(ingest::outcomes))
        .route("/v1/monitor", get(monitor::report))
        .route("/monitor", get(monitor::page))
        .route_layer(middleware::from_fn_with_state(
            config.api_token.clone(),
            bearer_auth,
        ));
    let admin = Router::new()
        .route("/v1/admin/reload", post(admin::reload))
        .route_layer(middleware::from_fn_with_state(
            config.admin_token.clone(),
            admin_auth,
        ));

    Router::new()
        .merge(scoring)
        .merge(admin)
        .route("/v1/models", get(models::list))
        .route("/v1/models/{name}", get(models::detail))
        .route("/healthz", get(ops::healthz))
        .route("/readyz", get(ops::readyz))
        .route("/metrics", get(ops::metrics))
        .route("/info", get(ops::info))
        .route("/openapi.json", get(ops::openapi))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(middleware::from_fn_with_state(
            state.clone(),
            record_metrics,
        ))
        .layer(PropagateRequestIdLayer::x_request_id())
        .layer(SetRequestIdLayer::x_request_id(RequestIds::default()))
        .layer(CatchPanicLayer::custom(panicked))
        .with_state(state)
}

async fn not_found() -> ApiError {
    ApiError::new(ErrorCode::NotFound, "no such route; see /openapi.json")
}

async fn method_not_allowed() -> ApiError {
    ApiError::new(
        ErrorCode::MethodNotAllowed,
        "this route does not take that method; see /openapi.json",
    )
}

fn panicked(payload: Box<dyn std::any::Any + Send + 'static>) -> Response {
    let what = payload
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| payload.downcast_ref::<&str>().copied())
        .unwrap_or("unknown panic");
    tracing::error!(panic = what, "handler panicked");
    ApiError::internal("internal error; it has been logged").into_response()
}

/// The token of an `Authorization: Bearer <token>` header; the scheme is case-insensitive
/// (RFC 9110, 11.1).
fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.trim().split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
}

fn unauthorized() -> Response {
    let mut response = ApiError::unauthorized().into_response();
    response
        .headers_mut()
        .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
    response
}

/// Scoring routes: open without a token, else the token is required.
async fn bearer_auth(State(token): State<Option<Token>>, request: Request, next: Next) -> Response {
    if let Some(expected) = token
        && !bearer(request.headers()).is_some_and(|given| expected.matches(given))
    {
        return unauthorized();
    }
    next.run(request).await
}

/// Admin routes: off (403) without an admin token, else the token is required.
async fn admin_auth(State(token): State<Option<Token>>, request: Request, next: Next) -> Response {
    match token {
        None => ApiError::new(
            ErrorCode::AdminDisabled,
            "admin routes are off: start the server with an admin token (QUALIFY_ADMIN_TOKEN or --admin-token-file)",
        )
        .into_response(),
        Some(expected) if !bearer(request.headers()).is_some_and(|given| expected.matches(given)) => {
            unauthorized()
        }
        Some(_) => next.run(request).await,
    }
}

async fn record_metrics(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .and_then(|p| ROUTES.iter().find(|r| **r == p.as_str()))
        .copied()
        .unwrap_or("unmatched");
    let method = request.method().clone();
    let start = Instant::now();
    let response = next.run(request).await;
    let elapsed = start.elapsed();
    let status = response.status().as_u16();
    state
        .metrics
        .record_request(route, &method, status, elapsed);
    // Shedding (503) is expected under load and counted in the metrics; logging each one
    // would add work exactly when there is too much.
    if status >= 500 && status != 503 {
        tracing::warn!(%route, status, "request failed");
    }
    response
}

/// Request ids: `<boot time in hex>-<counter>`, unique per process run, no RNG needed.
#[derive(Debug, Clone)]
struct RequestIds {
    boot: u64,
    next: Arc<AtomicU64>,
}

impl Default for RequestIds {
    fn default() -> Self {
        RequestIds {
            boot: Utc::now().timestamp_millis().unsigned_abs(),
            next: Arc::new(AtomicU64::new(1)),
        }
    }
}

impl MakeRequestId for RequestIds {
    fn make_request_id<B>(&mut self, _: &axum::http::Request<B>) -> Option<RequestId> {
        let n = self.next.fetch_add(1, Ordering::Relaxed);
        HeaderValue::from_str(&format!("{:x}-{n}", self.boot))
            .ok()
            .map(RequestId::new)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::Body;
    use tower::ServiceExt;

    #[tokio::test]
    async fn a_panicking_handler_answers_a_json_500() {
        async fn boom() -> &'static str {
            panic!("boom")
        }
        let router: Router = Router::new()
            .route("/boom", get(boom))
            .layer(CatchPanicLayer::custom(panicked));
        let response = router
            .oneshot(
                axum::http::Request::builder()
                    .uri("/boom")
                    .body(Body::empty())
                    .expect("request"),
            )
            .await
            .expect("infallible");
        assert_eq!(
            response.status(),
            axum::http::StatusCode::INTERNAL_SERVER_ERROR
        );
        let body = axum::body::to_bytes(response.into_body(), 1 << 16)
            .await
            .expect("body");
        let body: serde_json::Value = serde_json::from_slice(&body).expect("json");
        assert_eq!(body["error"]["code"], "internal");
    }

    #[test]
    fn the_bearer_scheme_is_case_insensitive_and_the_token_trimmed() {
        let headers = |value: &str| {
            let mut h = HeaderMap::new();
            h.insert(header::AUTHORIZATION, value.parse().expect("header"));
            h
        };
        assert_eq!(bearer(&headers("Bearer abc")), Some("abc"));
        assert_eq!(bearer(&headers("bearer abc")), Some("abc"));
        assert_eq!(bearer(&headers("BEARER   abc ")), Some("abc"));
        assert_eq!(bearer(&headers("Basic abc")), None);
        assert_eq!(bearer(&headers("Bearerabc")), None);
        assert_eq!(bearer(&HeaderMap::new()), None);
    }
}
