//! `POST /v1/score` (one lead) and `POST /v1/score/batch` (a JSON array, or an NDJSON stream).

// utoipa's `params(...)` expansion names the type with a path the lint flags.
#![allow(unused_qualifications)]

use std::sync::Arc;

use axum::Json;
use axum::body::{Body, Bytes};
use axum::extract::rejection::{BytesRejection, QueryRejection};
use axum::extract::{FromRequest, Query, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use futures_util::StreamExt;
use qualify_core::lead::LeadRecord;
use serde::Deserialize;
use utoipa::IntoParams;

use crate::app::AppState;
use crate::body::{self, BodyKind};
use crate::error::{ApiError, ErrorBody};
use crate::registry::{LoadedModel, Served};
use crate::routes::{query, unknown_model};
use crate::scoring::ScoreResponse;

/// Options of the scoring routes.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ScoreQuery {
    /// Model to score with (default: the server's default model).
    pub model: Option<String>,
    /// Scoring time for time features and rule decay, RFC 3339 (default: now).
    pub as_of: Option<DateTime<Utc>>,
    /// Include the model's reasons (`explanation`) [default: true]. Trees pay for TreeSHAP.
    pub explain: Option<bool>,
}

fn pick<'s>(served: &'s Served, name: Option<&str>) -> Result<&'s Arc<LoadedModel>, ApiError> {
    served.model(name).ok_or_else(|| {
        unknown_model(served, name.unwrap_or(&served.default_model)).with_field("model")
    })
}

/// Score one lead: calibrated propensity, rule score and stage, and their reasons.
#[utoipa::path(
    post, path = "/v1/score", tag = "scoring",
    params(ScoreQuery),
    request_body(content = LeadRecord, description = "One canonical lead record"),
    responses(
        (status = 200, description = "Scored", body = ScoreResponse),
        (status = 400, description = "Malformed JSON", body = ErrorBody),
        (status = 401, description = "Missing or wrong bearer token", body = ErrorBody),
        (status = 404, description = "Unknown model", body = ErrorBody),
        (status = 413, description = "Body over the limit", body = ErrorBody),
        (status = 415, description = "Not JSON", body = ErrorBody),
        (status = 422, description = "Wrong type or invalid value; `field` names it", body = ErrorBody),
        (status = 503, description = "Overloaded or timed out; see Retry-After", body = ErrorBody),
    ),
    security((), ("bearer" = []))
)]
pub async fn score(
    State(state): State<AppState>,
    q: Result<Query<ScoreQuery>, QueryRejection>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let q = query(q)?;
    if body::kind(&headers)? != BodyKind::Json {
        return Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "/v1/score takes one JSON lead; send NDJSON to /v1/score/batch",
        ));
    }
    let bytes = body::bytes(body, state.config.max_body_bytes)?;
    let lead: LeadRecord = body::parse(&bytes)?;
    let served = state.registry.current();
    let model = pick(&served, q.model.as_deref())?;
    let as_of = q.as_of.unwrap_or_else(Utc::now);
    let explain = q.explain.unwrap_or(true);
    let response = state
        .scorer()
        .score(&served, model, &lead, as_of, explain)?;
    Ok(Json(response).into_response())
}

/// Score many leads, results in input order. A JSON array (up to `max_batch` leads; one bad
/// lead fails the request with its index in `field`) or, with
/// `Content-Type: application/x-ndjson`, a stream of one lead per line answered with one
/// result per line as it goes (a bad line answers `{"line": n, "error": {...}}` in place).
#[utoipa::path(
    post, path = "/v1/score/batch", tag = "scoring",
    params(ScoreQuery),
    request_body(content = Vec<LeadRecord>, description = "A JSON array of leads, or NDJSON (one lead per line)"),
    responses(
        (status = 200, description = "Results in input order (JSON array, or NDJSON for NDJSON input)", body = Vec<ScoreResponse>),
        (status = 400, description = "Malformed JSON", body = ErrorBody),
        (status = 404, description = "Unknown model", body = ErrorBody),
        (status = 413, description = "Body or batch over the limit", body = ErrorBody),
        (status = 422, description = "A lead with a wrong type or invalid value; `field` is `[i].path`", body = ErrorBody),
        (status = 503, description = "Overloaded or timed out", body = ErrorBody),
    ),
    security((), ("bearer" = []))
)]
pub async fn batch(
    State(state): State<AppState>,
    q: Result<Query<ScoreQuery>, QueryRejection>,
    request: Request,
) -> Result<Response, ApiError> {
    let q = query(q)?;
    let served = state.registry.current();
    pick(&served, q.model.as_deref())?;
    let as_of = q.as_of.unwrap_or_else(Utc::now);
    match body::kind(request.headers())? {
        BodyKind::Ndjson => Ok(ndjson(
            state,
            served,
            q.model,
            q.explain.unwrap_or(true),
            as_of,
            request.into_body(),
        )),
        BodyKind::Json => {
            let limit = state.config.max_body_bytes;
            let bytes = body::bytes(Bytes::from_request(request, &()).await, limit)?;
            let leads: Vec<LeadRecord> = body::parse(&bytes)?;
            if leads.len() > state.config.max_batch {
                return Err(ApiError::new(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    "batch_too_large",
                    format!(
                        "{} leads in one batch; the limit is {} (stream larger batches as NDJSON)",
                        leads.len(),
                        state.config.max_batch
                    ),
                ));
            }
            let model = pick(&served, q.model.as_deref())?;
            let scorer = state.scorer();
            let results = leads
                .iter()
                .enumerate()
                .map(|(i, lead)| {
                    scorer
                        .score(&served, model, lead, as_of, q.explain.unwrap_or(true))
                        .map_err(|e| e.within(&format!("[{i}]")))
                })
                .collect::<Result<Vec<ScoreResponse<'_>>, ApiError>>()?;
            Ok(Json(results).into_response())
        }
    }
}

/// Streams NDJSON: reads the body a chunk at a time and answers each complete line as soon as
/// it is read, so memory stays bounded by one line whatever the batch size.
fn ndjson(
    state: AppState,
    served: Arc<Served>,
    model: Option<String>,
    explain: bool,
    as_of: DateTime<Utc>,
    body: Body,
) -> Response {
    struct Stream {
        state: AppState,
        served: Arc<Served>,
        model: Option<String>,
        explain: bool,
        as_of: DateTime<Utc>,
        input: axum::body::BodyDataStream,
        buf: Vec<u8>,
        line: usize,
        eof: bool,
        failed: bool,
    }

    impl Stream {
        /// The answer line for one input line (None for a blank line).
        fn answer(&mut self, raw: &[u8]) -> Option<Vec<u8>> {
            self.line += 1;
            let raw = raw.strip_suffix(b"\r").unwrap_or(raw);
            if raw.iter().all(u8::is_ascii_whitespace) {
                return None;
            }
            let result = body::parse::<LeadRecord>(raw).and_then(|lead| {
                let model = pick(&self.served, self.model.as_deref())?;
                let response = self.state.scorer().score(
                    &self.served,
                    model,
                    &lead,
                    self.as_of,
                    self.explain,
                )?;
                serde_json::to_vec(&response).map_err(|e| ApiError::internal(e.to_string()))
            });
            let mut out = match result {
                Ok(json) => json,
                Err(e) => self.error_line(e),
            };
            out.push(b'\n');
            Some(out)
        }

        fn error_line(&self, e: ApiError) -> Vec<u8> {
            serde_json::to_vec(&serde_json::json!({"line": self.line, "error": e.body.error}))
                .unwrap_or_default()
        }
    }

    let limit = state.config.max_body_bytes;
    let stream = Stream {
        state,
        served,
        model,
        explain,
        as_of,
        input: body.into_data_stream(),
        buf: Vec::new(),
        line: 0,
        eof: false,
        failed: false,
    };
    let output = futures_util::stream::unfold(stream, move |mut s| async move {
        loop {
            if s.failed {
                return None;
            }
            if let Some(pos) = s.buf.iter().position(|b| *b == b'\n') {
                let raw: Vec<u8> = s.buf.drain(..=pos).collect();
                if let Some(out) = s.answer(&raw[..raw.len() - 1]) {
                    return Some((Ok::<_, std::convert::Infallible>(Bytes::from(out)), s));
                }
                continue;
            }
            if s.buf.len() > limit {
                s.failed = true;
                s.line += 1;
                let mut out = s.error_line(ApiError::too_large(format!(
                    "line {} is longer than {limit} bytes; the stream stops here",
                    s.line
                )));
                out.push(b'\n');
                return Some((Ok(Bytes::from(out)), s));
            }
            if s.eof {
                if s.buf.is_empty() {
                    return None;
                }
                let raw = std::mem::take(&mut s.buf);
                if let Some(out) = s.answer(&raw) {
                    return Some((Ok(Bytes::from(out)), s));
                }
                return None;
            }
            match s.input.next().await {
                Some(Ok(chunk)) => s.buf.extend_from_slice(&chunk),
                Some(Err(e)) => {
                    s.failed = true;
                    let mut out = s.error_line(ApiError::bad_request(
                        "unreadable_body",
                        format!("reading the request body failed: {e}"),
                    ));
                    out.push(b'\n');
                    return Some((Ok(Bytes::from(out)), s));
                }
                None => s.eof = true,
            }
        }
    });
    let mut response = Body::from_stream(output).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/x-ndjson"),
    );
    response
}
