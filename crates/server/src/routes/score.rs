//! `POST /v1/score` (one lead) and `POST /v1/score/batch` (a JSON array, or an NDJSON stream,
//! [`super::ndjson`]).
//!
//! Each handler reads its body (within `body_timeout_ms` and `max_body_bytes`), takes a slot,
//! admits its leads to the scoring queue, and runs everything CPU-bound — decoding, parsing,
//! scoring, explaining, serializing — on the blocking pool within the request's deadline
//! ([`crate::work`]). A batch is scored in [`CHUNK`]-lead pieces, up to one per core at once.
//! A single light lead in a small plain body is scored where its request is: its work costs
//! less than the hand-off to the pool (`INLINE_BODY_BYTES`, [`Scoring::light`]).

// utoipa's `params(...)` expansion names the type with a path the lint flags.
#![allow(unused_qualifications)]

use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use futures_util::{StreamExt, TryStreamExt};
use qualify_core::lead::LeadRecord;
use qualify_core::scorelog::ScoreSource;
use serde::Deserialize;
use utoipa::IntoParams;

use crate::app::AppState;
use crate::body::{self, BodyKind, Decoder, Encoding};
use crate::error::{ApiError, ErrorBody, ErrorCode};
use crate::routes::{query, served_model};
use crate::scoring::{ScoreResponse, Scoring};
use crate::work::{CHUNK, Job};

/// The largest single-lead body scored where its request is when the lead is light
/// ([`Scoring::light`]): parsing a body this size and computing a history model's features
/// of the activities it can hold take microseconds; a larger one goes to the pool.
const INLINE_BODY_BYTES: usize = 16 * 1024;

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

impl AppState {
    /// The scoring context for a request: the current snapshot and the model it names, and
    /// the score log its answers go to (as `source`).
    pub fn scoring(&self, q: ScoreQuery, source: ScoreSource) -> Result<Scoring, ApiError> {
        let served = self.registry.current();
        let model = served_model(&served, q.model.as_deref())?;
        Ok(Scoring {
            config: Arc::clone(&self.config),
            metrics: Arc::clone(&self.metrics),
            served,
            model,
            as_of: q.as_of.unwrap_or_else(Utc::now),
            explain: q.explain.unwrap_or(true),
            log: self.score_log.clone(),
            source,
        })
    }

    pub(crate) fn body_timeout(&self) -> Duration {
        Duration::from_millis(self.config.body_timeout_ms)
    }
}

pub(crate) fn json(bytes: Vec<u8>) -> Response {
    let mut response = Body::from(bytes).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}

/// Score one lead: calibrated propensity, rule score and stage, and their reasons.
#[utoipa::path(
    post, path = "/v1/score", tag = "scoring",
    params(ScoreQuery),
    request_body(content = LeadRecord, description = "One canonical lead record (gzip with `Content-Encoding: gzip`)"),
    responses(
        (status = 200, description = "Scored", body = ScoreResponse),
        (status = 400, description = "Malformed JSON", body = ErrorBody),
        (status = 401, description = "Missing or wrong bearer token", body = ErrorBody),
        (status = 404, description = "Unknown model", body = ErrorBody),
        (status = 408, description = "The body did not arrive in time", body = ErrorBody),
        (status = 413, description = "Body over the limit", body = ErrorBody),
        (status = 415, description = "Not JSON, or an encoding other than gzip", body = ErrorBody),
        (status = 422, description = "Wrong type or invalid value; `field` names it", body = ErrorBody),
        (status = 503, description = "Overloaded or timed out", body = ErrorBody,
            headers(("Retry-After" = u32, description = "Seconds to wait before retrying"))),
    ),
    security((), ("bearer" = []))
)]
pub async fn score(
    State(state): State<AppState>,
    q: Result<Query<ScoreQuery>, QueryRejection>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let q = query(q)?;
    if body::kind(&headers)? != BodyKind::Json {
        return Err(ApiError::new(
            ErrorCode::UnsupportedMediaType,
            "/v1/score takes one JSON lead; send NDJSON to /v1/score/batch",
        ));
    }
    let encoding = body::encoding(&headers)?;
    let limit = state.config.max_body_bytes;
    let bytes = body::read(&headers, body, limit, state.body_timeout()).await?;
    let _slot = state.work.slot()?;
    let scoring = state.scoring(q, ScoreSource::Record)?;
    let _admitted = state.work.admit(1)?;
    let (job, _cancel) = state.work.job();
    let inline =
        encoding == Encoding::Identity && bytes.len() <= INLINE_BODY_BYTES && scoring.light();
    let work = move |_: &Job| {
        let bytes = Decoder::decode_all(encoding, &bytes, limit)?;
        let lead: LeadRecord = body::parse(&bytes)?;
        scoring.answer(&lead)
    };
    let answer = if inline {
        state.work.run_inline(&job, work)?
    } else {
        state.work.run(&job, work).await?
    };
    Ok(json(answer))
}

/// Score many leads, results in input order. A JSON array (up to `max_batch` leads; one bad
/// lead fails the request with its index in `field`) or, with
/// `Content-Type: application/x-ndjson`, a stream of one lead per line answered with one
/// result per line as it goes (a bad line answers `{"line": n, "error": {...}}` in place).
#[utoipa::path(
    post, path = "/v1/score/batch", tag = "scoring",
    params(ScoreQuery),
    request_body(content = Vec<LeadRecord>, description = "A JSON array of leads, or NDJSON (one lead per line); gzip with `Content-Encoding: gzip`"),
    responses(
        (status = 200, description = "Results in input order (JSON array, or NDJSON for NDJSON input)", body = Vec<ScoreResponse>),
        (status = 400, description = "Malformed JSON", body = ErrorBody),
        (status = 401, description = "Missing or wrong bearer token", body = ErrorBody),
        (status = 404, description = "Unknown model", body = ErrorBody),
        (status = 408, description = "The body did not arrive in time", body = ErrorBody),
        (status = 413, description = "Body or batch over the limit", body = ErrorBody),
        (status = 415, description = "Not JSON or NDJSON, or an encoding other than gzip", body = ErrorBody),
        (status = 422, description = "A lead with a wrong type or invalid value; `field` is `[i].path`", body = ErrorBody),
        (status = 503, description = "Overloaded or timed out", body = ErrorBody,
            headers(("Retry-After" = u32, description = "Seconds to wait before retrying"))),
    ),
    security((), ("bearer" = []))
)]
pub async fn batch(
    State(state): State<AppState>,
    q: Result<Query<ScoreQuery>, QueryRejection>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let q = query(q)?;
    let kind = body::kind(&headers)?;
    let encoding = body::encoding(&headers)?;
    if kind == BodyKind::Ndjson {
        let scoring = state.scoring(q, ScoreSource::Batch)?;
        let slot = state.work.slot()?;
        return Ok(super::ndjson::stream(state, scoring, slot, encoding, body));
    }
    let limit = state.config.max_body_bytes;
    let bytes = body::read(&headers, body, limit, state.body_timeout()).await?;
    let _slot = state.work.slot()?;
    let scoring = state.scoring(q, ScoreSource::Batch)?;
    let (job, _cancel) = state.work.job();
    let max = state.config.max_batch;
    let leads = state
        .work
        .run(&job, move |_| {
            let bytes = Decoder::decode_all(encoding, &bytes, limit)?;
            body::parse_batch(&bytes, max)
        })
        .await?;
    let _admitted = state.work.admit(leads.len())?;
    let leads = Arc::new(leads);
    let pieces: Vec<Vec<u8>> = futures_util::stream::iter((0..leads.len()).step_by(CHUNK))
        .map(|first| {
            let (scoring, leads) = (scoring.clone(), Arc::clone(&leads));
            state.work.run(&job, move |job| {
                let last = (first + CHUNK).min(leads.len());
                scoring.answers(&leads[first..last], first, job)
            })
        })
        .buffered(state.work.threads())
        .try_collect()
        .await?;
    let mut out = Vec::with_capacity(pieces.iter().map(Vec::len).sum::<usize>() + pieces.len() + 2);
    out.push(b'[');
    for (i, piece) in pieces.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        out.extend_from_slice(piece);
    }
    out.push(b']');
    Ok(json(out))
}
