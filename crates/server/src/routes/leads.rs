//! One stored lead: `PUT /v1/leads/{id}` (its attributes), `GET /v1/leads/{id}` (the lead,
//! its events and outcome), `GET /v1/leads/{id}/score` (scored from the store) and
//! `GET /v1/leads/{id}/scores` (its score history, from the score log).
//!
//! The stored lead is scored as the record `StoredLead::record` makes of it (its attributes,
//! its events as `activities`), by the same [`crate::scoring::Scoring::answer`] that
//! `POST /v1/score` uses: there is no second scoring path to drift, so the two answers for
//! the same record are the same answer.

// utoipa's `params(...)` expansion names the type with a path the lint flags.
#![allow(unused_qualifications)]

use axum::Json;
use axum::body::Body;
use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::Response;
use qualify_core::lead::LeadRecord;
use qualify_core::scorelog::{ScoreLogEntry, ScoreSource};
use qualify_store::StoredLead;
use serde::Serialize;
use serde_json::{Map, Value};
use utoipa::ToSchema;

use crate::app::AppState;
use crate::body::{self, BodyKind, Decoder};
use crate::error::{ApiError, ErrorBody, ErrorCode};
use crate::routes::query;
use crate::routes::score::{ScoreQuery, json};
use crate::scoring::ScoreResponse;
use crate::store_errors::{Given, api_error};

/// A lead's score history.
#[derive(Debug, Serialize, ToSchema)]
pub struct LeadScores {
    pub lead_id: String,
    /// Every logged answer for the lead, oldest first.
    pub scores: Vec<ScoreLogEntry>,
}

/// The lead id in the path, or a 422 naming it.
fn lead_id(path: Result<Path<String>, PathRejection>) -> Result<String, ApiError> {
    path.map(|Path(id)| id)
        .map_err(|e| ApiError::invalid_field("id", e.body_text()))
}

fn unknown_lead(id: &str) -> ApiError {
    ApiError::new(
        ErrorCode::UnknownLead,
        format!(
            "the store holds no lead {id:?} (PUT /v1/leads/{{id}} or POST /v1/events creates one)"
        ),
    )
}

/// Create or replace a lead's attributes (a canonical lead record without `activities`:
/// those are events). Events and the outcome stay. Answers the stored lead, once committed.
#[utoipa::path(
    put, path = "/v1/leads/{id}", tag = "store",
    params(("id" = String, Path, description = "The lead's id")),
    request_body(content = LeadRecord, description = "The lead's attributes: a canonical lead record without `activities` (an `id`, if given, must be the path's)"),
    responses(
        (status = 200, description = "Committed: the stored lead", body = StoredLead),
        (status = 400, description = "Malformed JSON", body = ErrorBody),
        (status = 401, description = "Missing or wrong bearer token", body = ErrorBody),
        (status = 404, description = "The server runs without a store", body = ErrorBody),
        (status = 408, description = "The body did not arrive in time", body = ErrorBody),
        (status = 413, description = "Body over the limit", body = ErrorBody),
        (status = 409, description = "A creation after the lead's recorded outcome; `field` names it", body = ErrorBody),
        (status = 415, description = "Not JSON, or an encoding other than gzip", body = ErrorBody),
        (status = 422, description = "Attributes the lead record refuses, `activities`, another `id`; `field` names it", body = ErrorBody),
        (status = 503, description = "Overloaded, timed out, or the store failed; send again", body = ErrorBody,
            headers(("Retry-After" = u32, description = "Seconds to wait before retrying"))),
    ),
    security((), ("bearer" = []))
)]
pub async fn put(
    State(state): State<AppState>,
    path: Result<Path<String>, PathRejection>,
    headers: HeaderMap,
    body: Body,
) -> Result<Json<StoredLead>, ApiError> {
    let id = lead_id(path)?;
    let store = state.store()?.clone();
    if body::kind(&headers)? != BodyKind::Json {
        return Err(ApiError::new(
            ErrorCode::UnsupportedMediaType,
            "PUT /v1/leads/{id} takes one JSON object",
        ));
    }
    let encoding = body::encoding(&headers)?;
    let limit = state.config.max_body_bytes;
    let bytes = body::read(&headers, body, limit, state.body_timeout()).await?;
    let _slot = state.work.slot()?;
    let (job, _cancel) = state.work.job();
    let _admitted = state.work.admit(1)?;
    let attributes = state
        .work
        .run(&job, move |_| {
            let bytes = Decoder::decode_all(encoding, &bytes, limit)?;
            // The lead record's reading first: its errors carry the field's path.
            body::parse::<LeadRecord>(&bytes)?;
            body::parse::<Map<String, Value>>(&bytes)
        })
        .await?;
    state
        .within(&job, store.upsert_lead(&id, &attributes))
        .await?
        .map_err(|e| api_error(e, Given::Lead))?;
    let lead = state
        .within(&job, store.lead(&id))
        .await?
        .map_err(|e| api_error(e, Given::Read))?
        .ok_or_else(|| unknown_lead(&id))?;
    Ok(Json(lead))
}

/// The stored lead: attributes, events (in time order) and outcome.
#[utoipa::path(
    get, path = "/v1/leads/{id}", tag = "store",
    params(("id" = String, Path, description = "The lead's id")),
    responses(
        (status = 200, description = "The stored lead", body = StoredLead),
        (status = 401, description = "Missing or wrong bearer token", body = ErrorBody),
        (status = 404, description = "Unknown lead, or the server runs without a store", body = ErrorBody),
        (status = 422, description = "An id that does not decode", body = ErrorBody),
        (status = 503, description = "Timed out, or the store failed", body = ErrorBody,
            headers(("Retry-After" = u32, description = "Seconds to wait before retrying"))),
    ),
    security((), ("bearer" = []))
)]
pub async fn get(
    State(state): State<AppState>,
    path: Result<Path<String>, PathRejection>,
) -> Result<Json<StoredLead>, ApiError> {
    let id = lead_id(path)?;
    let store = state.store()?;
    let (job, _cancel) = state.work.job();
    state
        .within(&job, store.lead(&id))
        .await?
        .map_err(|e| api_error(e, Given::Read))?
        .map(Json)
        .ok_or_else(|| unknown_lead(&id))
}

/// Score the stored lead exactly as `POST /v1/score` scores the same record posted whole
/// (its attributes, its events as `activities`); the answer is logged like any other.
#[utoipa::path(
    get, path = "/v1/leads/{id}/score", tag = "store",
    params(("id" = String, Path, description = "The lead's id"), ScoreQuery),
    responses(
        (status = 200, description = "Scored", body = ScoreResponse),
        (status = 401, description = "Missing or wrong bearer token", body = ErrorBody),
        (status = 404, description = "Unknown lead or model, or the server runs without a store", body = ErrorBody),
        (status = 422, description = "An invalid query parameter, or a stored record the model cannot encode", body = ErrorBody),
        (status = 503, description = "Overloaded, timed out, or the store failed", body = ErrorBody,
            headers(("Retry-After" = u32, description = "Seconds to wait before retrying"))),
    ),
    security((), ("bearer" = []))
)]
pub async fn score(
    State(state): State<AppState>,
    path: Result<Path<String>, PathRejection>,
    q: Result<Query<ScoreQuery>, QueryRejection>,
) -> Result<Response, ApiError> {
    let id = lead_id(path)?;
    let q = query(q)?;
    let store = state.store()?;
    let _slot = state.work.slot()?;
    let scoring = state.scoring(q, ScoreSource::Stored)?;
    let (job, _cancel) = state.work.job();
    let lead = state
        .within(&job, store.lead(&id))
        .await?
        .map_err(|e| api_error(e, Given::Read))?
        .ok_or_else(|| unknown_lead(&id))?;
    let _admitted = state.work.admit(1)?;
    let answer = state
        .work
        .run(&job, move |_| {
            let record = lead.record().map_err(|e| api_error(e, Given::Read))?;
            scoring.answer(&record)
        })
        .await?;
    Ok(json(answer))
}

/// The lead's score history from the score log, oldest first: which model and rules
/// answered what, when, and why. Answers appear once the log has written them (within
/// about 50 ms).
#[utoipa::path(
    get, path = "/v1/leads/{id}/scores", tag = "store",
    params(("id" = String, Path, description = "The lead's id")),
    responses(
        (status = 200, description = "The lead's logged answers", body = LeadScores),
        (status = 401, description = "Missing or wrong bearer token", body = ErrorBody),
        (status = 404, description = "Neither a stored lead nor logged answers, or the server runs without a store", body = ErrorBody),
        (status = 422, description = "An id that does not decode", body = ErrorBody),
        (status = 503, description = "Timed out, or the store failed", body = ErrorBody,
            headers(("Retry-After" = u32, description = "Seconds to wait before retrying"))),
    ),
    security((), ("bearer" = []))
)]
pub async fn scores(
    State(state): State<AppState>,
    path: Result<Path<String>, PathRejection>,
) -> Result<Json<LeadScores>, ApiError> {
    let id = lead_id(path)?;
    let store = state.store()?;
    let (job, _cancel) = state.work.job();
    let scores = state
        .within(&job, store.lead_scores(&id))
        .await?
        .map_err(|e| api_error(e, Given::Read))?;
    if scores.is_empty()
        && state
            .within(&job, store.lead(&id))
            .await?
            .map_err(|e| api_error(e, Given::Read))?
            .is_none()
    {
        return Err(unknown_lead(&id));
    }
    Ok(Json(LeadScores {
        lead_id: id,
        scores,
    }))
}
