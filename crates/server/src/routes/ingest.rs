//! Ingestion: `POST /v1/events` and `POST /v1/outcomes`, into the lead store.
//!
//! Held to the scoring routes' limits: the body is read within `body_timeout_ms` and
//! `max_body_bytes`, then the request takes a slot among `max_concurrency`, a place in the
//! work queue (one unit: parsing a body costs about what scoring one lead does), and parses
//! on the blocking pool; the store write runs within the same `timeout_ms` deadline. A 200
//! is sent only after the store committed: a client that sees it may forget the data. A
//! 503 (timeout, store failure) may or may not have been stored: send it again (events with
//! an `event_id` and repeated outcomes are stored once).

// utoipa's `params(...)` expansion names the type with a path the lint flags.
#![allow(unused_qualifications)]

use std::future::Future;

use axum::Json;
use axum::body::Body;
use axum::extract::State;
use axum::http::HeaderMap;
use qualify_store::outcomes::Recorded;
use qualify_store::{NewEvent, NewOutcome, Store};
use serde::Serialize;
use serde::de::DeserializeOwned;
use utoipa::ToSchema;

use crate::app::AppState;
use crate::body::{self, Decoder};
use crate::error::{ApiError, ErrorBody, ErrorCode};
use crate::store_errors::{Given, api_error};
use crate::work::Job;

/// What `POST /v1/events` stored.
#[derive(Debug, Serialize, ToSchema)]
pub struct EventsStored {
    /// Events stored by this request.
    pub stored: u64,
    /// Events whose `event_id` the store already held (or that repeated one in the body):
    /// not stored again.
    pub already_known: u64,
    /// Stub leads created for events of leads the store did not know.
    pub stub_leads: u64,
}

/// What `POST /v1/outcomes` stored.
#[derive(Debug, Serialize, ToSchema)]
pub struct OutcomesStored {
    /// Outcomes stored by this request.
    pub stored: u64,
    /// Outcomes the store already held exactly so (same kind, time and reason): unchanged.
    pub already_known: u64,
}

impl AppState {
    /// The store, or 404 `no_store` when the server runs without one.
    pub fn store(&self) -> Result<&Store, ApiError> {
        self.store.as_ref().ok_or_else(|| {
            ApiError::new(
                ErrorCode::NoStore,
                "this server runs without a lead store (--store none): the store routes are off",
            )
        })
    }

    /// Runs `work` (a store call) within `job`'s deadline, else 503 `timeout`.
    pub(crate) async fn within<T>(
        &self,
        job: &Job,
        work: impl Future<Output = T>,
    ) -> Result<T, ApiError> {
        tokio::time::timeout_at(job.deadline().into(), work)
            .await
            .map_err(|_| ApiError::timeout(self.config.timeout_ms))
    }
}

/// Reads, admits and parses an ingestion body (see the module docs); keeps the request's
/// slot and queue place until it is dropped.
async fn items<T: DeserializeOwned + Send + 'static>(
    state: &AppState,
    headers: &HeaderMap,
    body: Body,
) -> Result<(Vec<T>, bool, Job, Held), ApiError> {
    state.store()?;
    let kind = body::kind(headers)?;
    let encoding = body::encoding(headers)?;
    let limit = state.config.max_body_bytes;
    let bytes = body::read(headers, body, limit, state.body_timeout()).await?;
    let slot = state.work.slot()?;
    let (job, cancel) = state.work.job();
    let admitted = state.work.admit(1)?;
    let (items, single) = state
        .work
        .run(&job, move |_| {
            let bytes = Decoder::decode_all(encoding, &bytes, limit)?;
            body::parse_items::<T>(&bytes, kind)
        })
        .await?;
    Ok((items, single, job, Held(slot, cancel, admitted)))
}

/// A request's place in the limits, held until it answers.
#[allow(dead_code)]
struct Held(
    crate::work::Slot,
    crate::work::CancelOnDrop,
    crate::work::Admitted,
);

/// Append events: one `{lead_id, type, at, event_id?, value?}` object, a JSON array of
/// them, or NDJSON (one per line). Idempotent on `event_id`; an event of a lead the store
/// does not know creates a stub lead. All or nothing: one bad event stores none (`field`
/// names it, `[i].field` in an array or NDJSON body). 200 once committed.
#[utoipa::path(
    post, path = "/v1/events", tag = "store",
    request_body(content = Vec<NewEvent>, description = "One event object, a JSON array of events, or NDJSON (`Content-Type: application/x-ndjson`, one event per line); gzip with `Content-Encoding: gzip`"),
    responses(
        (status = 200, description = "Committed", body = EventsStored),
        (status = 400, description = "Malformed JSON", body = ErrorBody),
        (status = 401, description = "Missing or wrong bearer token", body = ErrorBody),
        (status = 404, description = "The server runs without a store", body = ErrorBody),
        (status = 408, description = "The body did not arrive in time", body = ErrorBody),
        (status = 413, description = "Body over the limit", body = ErrorBody),
        (status = 415, description = "Not JSON or NDJSON, or an encoding other than gzip", body = ErrorBody),
        (status = 422, description = "An event with a missing, unknown or invalid field; `field` names it", body = ErrorBody),
        (status = 503, description = "Overloaded, timed out, or the store failed: nothing is known to be stored; send again", body = ErrorBody,
            headers(("Retry-After" = u32, description = "Seconds to wait before retrying"))),
    ),
    security((), ("bearer" = []))
)]
pub async fn events(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Body,
) -> Result<Json<EventsStored>, ApiError> {
    let (events, single, job, _held) = items::<NewEvent>(&state, &headers, body).await?;
    let store = state.store()?;
    let appended = state.within(&job, store.append_events(&events)).await?;
    let leads: Vec<&str> = events.iter().map(|e| e.lead_id.as_str()).collect();
    let appended = appended.map_err(|e| {
        api_error(
            e,
            Given::Items {
                leads: &leads,
                single,
            },
        )
    })?;
    Ok(Json(EventsStored {
        stored: appended.stored,
        already_known: appended.duplicates,
        stub_leads: appended.stub_leads,
    }))
}

/// Record outcomes: one `{lead_id, outcome, at, reason?}` object, a JSON array, or NDJSON.
/// A lead may hold several outcomes, but only a bad-timing disqualification (unresponsive,
/// no_response, bad_timing, not_now) can be followed by another: an outcome after a
/// conversion or another disqualification, two at one instant, or one before the lead's
/// creation is refused (409, naming both); the same outcome again changes nothing. All or
/// nothing; 200 once committed.
#[utoipa::path(
    post, path = "/v1/outcomes", tag = "store",
    request_body(content = Vec<NewOutcome>, description = "One outcome object, a JSON array of outcomes, or NDJSON (one per line)"),
    responses(
        (status = 200, description = "Committed", body = OutcomesStored),
        (status = 400, description = "Malformed JSON", body = ErrorBody),
        (status = 401, description = "Missing or wrong bearer token", body = ErrorBody),
        (status = 404, description = "The server runs without a store", body = ErrorBody),
        (status = 408, description = "The body did not arrive in time", body = ErrorBody),
        (status = 413, description = "Body over the limit", body = ErrorBody),
        (status = 415, description = "Not JSON or NDJSON, or an encoding other than gzip", body = ErrorBody),
        (status = 409, description = "An outcome the lead's outcomes do not allow (after a conversion or a final disqualification, or at the instant of another), or one before its creation; `field` names it", body = ErrorBody),
        (status = 422, description = "A missing, unknown or invalid field; `field` names it", body = ErrorBody),
        (status = 503, description = "Overloaded, timed out, or the store failed: nothing is known to be stored; send again", body = ErrorBody,
            headers(("Retry-After" = u32, description = "Seconds to wait before retrying"))),
    ),
    security((), ("bearer" = []))
)]
pub async fn outcomes(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Body,
) -> Result<Json<OutcomesStored>, ApiError> {
    let (outcomes, single, job, _held) = items::<NewOutcome>(&state, &headers, body).await?;
    let store = state.store()?;
    let recorded = state.within(&job, store.record_outcomes(&outcomes)).await?;
    let leads: Vec<&str> = outcomes.iter().map(|o| o.lead_id.as_str()).collect();
    let recorded = recorded.map_err(|e| {
        api_error(
            e,
            Given::Items {
                leads: &leads,
                single,
            },
        )
    })?;
    let stored = recorded.iter().filter(|r| **r == Recorded::New).count() as u64;
    Ok(Json(OutcomesStored {
        stored,
        already_known: recorded.len() as u64 - stored,
    }))
}
