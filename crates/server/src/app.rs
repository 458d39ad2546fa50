//! The router: routes, and the layers every request passes, outermost first:
//! catch-panic (last resort: a JSON 500, logged) → request id (`x-request-id`, made or kept,
//! echoed) → metrics → [scoring routes only: bearer auth → load shedding at
//! `max_concurrency` (503 + Retry-After) → timeout (503)] → handler.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use axum::Router;
use axum::error_handling::HandleErrorLayer;
use axum::extract::{DefaultBodyLimit, MatchedPath, Request, State};
use axum::http::{HeaderValue, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use chrono::{DateTime, Utc};
use tower::ServiceBuilder;
use tower::limit::GlobalConcurrencyLimitLayer;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::request_id::{
    MakeRequestId, PropagateRequestIdLayer, RequestId, SetRequestIdLayer,
};

use crate::config::Config;
use crate::error::ApiError;
use crate::metrics::Metrics;
use crate::registry::{Registry, ReloadReport};
use crate::routes::{admin, models, ops, score};
use crate::scoring::Scorer;

/// Shared by every handler; cheap to clone.
#[derive(Debug, Clone)]
pub struct AppState {
    pub config: Arc<Config>,
    pub registry: Arc<Registry>,
    pub metrics: Arc<Metrics>,
    pub started_at: DateTime<Utc>,
    /// Set when shutdown begins: `/readyz` answers 503 so balancers stop sending.
    pub draining: Arc<AtomicBool>,
}

impl AppState {
    /// Loads the models and rules `config` names (blocking: call before serving).
    pub fn open(config: Config) -> anyhow::Result<AppState> {
        config.validate().map_err(|e| anyhow::anyhow!("{e}"))?;
        let registry = Arc::new(Registry::open(&config)?);
        let metrics = Metrics::new(&registry.current());
        Ok(AppState {
            config: Arc::new(config),
            registry,
            metrics,
            started_at: Utc::now(),
            draining: Arc::new(AtomicBool::new(false)),
        })
    }

    pub fn scorer(&self) -> Scorer<'_> {
        Scorer {
            config: &self.config,
            metrics: &self.metrics,
        }
    }

    /// Reloads models and rules and updates the metrics (admin route and SIGHUP).
    pub async fn reload(&self) -> ReloadReport {
        let report = self.registry.reload().await;
        self.metrics.record_reload(&self.registry.current());
        report
    }
}

/// The whole API as a `Router`, ready for `axum::serve` or `oneshot` tests.
pub fn app(state: AppState) -> Router {
    let config = Arc::clone(&state.config);
    let limits = ServiceBuilder::new()
        .layer(HandleErrorLayer::new(overloaded))
        .load_shed()
        .layer(GlobalConcurrencyLimitLayer::new(config.max_concurrency))
        .timeout(Duration::from_millis(config.timeout_ms));

    let scoring = Router::new()
        .route("/v1/score", post(score::score))
        .route("/v1/score/batch", post(score::batch))
        .layer(limits)
        .layer(DefaultBodyLimit::max(config.max_body_bytes))
        .route_layer(middleware::from_fn_with_state(
            config.api_token.clone(),
            bearer_auth,
        ));

    let mut router = Router::new()
        .merge(scoring)
        .route("/v1/models", get(models::list))
        .route("/v1/models/{name}", get(models::detail))
        .route("/healthz", get(ops::healthz))
        .route("/readyz", get(ops::readyz))
        .route("/metrics", get(ops::metrics))
        .route("/info", get(ops::info))
        .route("/openapi.json", get(ops::openapi));
    if config.admin_token.is_some() {
        router = router.merge(
            Router::new()
                .route("/v1/admin/reload", post(admin::reload))
                .route_layer(middleware::from_fn_with_state(
                    config.admin_token.clone(),
                    bearer_auth,
                )),
        );
    }

    router
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

async fn overloaded(error: tower::BoxError) -> ApiError {
    if error.is::<tower::timeout::error::Elapsed>() {
        ApiError::unavailable(
            "timeout",
            "the request took longer than the server's timeout",
        )
    } else if error.is::<tower::load_shed::error::Overloaded>() {
        ApiError::unavailable(
            "overloaded",
            "the server is at its concurrency limit; retry after the Retry-After delay",
        )
    } else {
        ApiError::internal(format!("unhandled middleware error: {error}"))
    }
}

async fn not_found() -> ApiError {
    ApiError::not_found("not_found", "no such route; see /openapi.json")
}

async fn method_not_allowed() -> ApiError {
    ApiError::new(
        axum::http::StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
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

/// Compares the bearer token in constant time (no early exit on the first differing byte).
async fn bearer_auth(
    State(token): State<Option<String>>,
    request: Request,
    next: Next,
) -> Response {
    if let Some(expected) = token {
        let given = request
            .headers()
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .unwrap_or("");
        let same_length = given.len() == expected.len();
        let diff = given
            .bytes()
            .zip(expected.bytes())
            .fold(0u8, |acc, (a, b)| acc | (a ^ b));
        if !same_length || diff != 0 {
            let mut response = ApiError::unauthorized().into_response();
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
            return response;
        }
    }
    next.run(request).await
}

async fn record_metrics(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or("unmatched", |p| p.as_str())
        .to_string();
    let method = request.method().to_string();
    let start = Instant::now();
    let response = next.run(request).await;
    let elapsed = start.elapsed();
    let status = response.status().as_u16();
    state
        .metrics
        .record_request(&route, &method, status, elapsed);
    if status >= 500 {
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
}
