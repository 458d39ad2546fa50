//! Monitoring of what this server answered: `GET /v1/monitor` (the report as JSON) and
//! `GET /monitor` (the same report as a self-contained HTML page), computed from the lead
//! store's score log, outcomes and events by qualify-monitor (docs/monitoring.md), the same
//! computation `qualify monitor --store` runs.
//!
//! The store is read within the request's deadline; the computation (CPU only) runs on the
//! blocking pool like scoring, within the same deadline. The monitoring time is `as_of`,
//! else the range's end, else now: a live server monitors up to the present. The model's
//! part (training reference, label window) is the served model's manifest.
//!
//! The inputs' drift (for a model trained on a history, as `qualify monitor --store --model`
//! computes it) reads each stored lead scored in the drift window as the record
//! `GET /v1/leads/{id}/score` scores (its attributes, its events as activities) through the
//! served model's own reading of a record (`Model::lead_input_values`, the point-in-time
//! features of a history model included), at the moment each answer was for. `qualify monitor
//! --store --model` reads the same leads through the file readers' checked history instead;
//! a test holds the two equal.
//!
//! Each report also sets the headline gauges of `/metrics` (`qualify_monitor{figure=…}`), so
//! a Prometheus alert can watch calibration and drift between page views.

// utoipa's `params(...)` expansion names the type with a path the lint flags.
#![allow(unused_qualifications)]

use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::response::Html;
use std::collections::{BTreeSet, HashMap};

use chrono::{DateTime, Duration, Utc};
use qualify_core::lead::LeadRecord;
use qualify_monitor::source::{Range, Records};
use qualify_monitor::{MonitorConfig, MonitorError, MonitorReport};
use qualify_store::Store;
use serde::Deserialize;
use utoipa::IntoParams;

use crate::app::AppState;
use crate::error::{ApiError, ErrorBody, ErrorCode};
use crate::routes::{query, served_model};

/// Which answers to monitor, when, and against which model.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct MonitorQuery {
    /// Monitor the answers given from this time on (RFC 3339; default: the log's start).
    pub from: Option<DateTime<Utc>>,
    /// ... and before this time (RFC 3339; default: no end).
    pub to: Option<DateTime<Utc>>,
    /// The monitoring time: later answers, events and outcomes are ignored, and a label's
    /// window matures by it (RFC 3339; default: `to`, else now).
    pub as_of: Option<DateTime<Utc>>,
    /// The model whose training reference and label window apply (default: the server's
    /// default model).
    pub model: Option<String>,
}

/// The monitoring report: calibration on matured outcomes, drift, rules vs model, reasons,
/// funnel KPIs and the sales SLA (docs/monitoring.md defines each figure).
#[utoipa::path(
    get, path = "/v1/monitor", tag = "store",
    params(MonitorQuery),
    responses(
        (status = 200, description = "The report", body = MonitorReport),
        (status = 401, description = "Missing or wrong bearer token", body = ErrorBody),
        (status = 404, description = "Unknown model, or the server runs without a store", body = ErrorBody),
        (status = 422, description = "A query parameter that does not parse", body = ErrorBody),
        (status = 503, description = "Overloaded, timed out, or the store failed", body = ErrorBody,
            headers(("Retry-After" = u32, description = "Seconds to wait before retrying"))),
    ),
    security((), ("bearer" = []))
)]
pub async fn report(
    State(state): State<AppState>,
    q: Result<Query<MonitorQuery>, QueryRejection>,
) -> Result<Json<MonitorReport>, ApiError> {
    monitor(&state, query(q)?).await.map(Json)
}

/// The monitoring report as a self-contained HTML page (inline SVG plots, no external
/// assets): what `qualify monitor` writes as `monitor.html`.
#[utoipa::path(
    get, path = "/monitor", tag = "store",
    params(MonitorQuery),
    responses(
        (status = 200, description = "The page", content_type = "text/html", body = String),
        (status = 401, description = "Missing or wrong bearer token", body = ErrorBody),
        (status = 404, description = "Unknown model, or the server runs without a store", body = ErrorBody),
        (status = 422, description = "A query parameter that does not parse", body = ErrorBody),
        (status = 503, description = "Overloaded, timed out, or the store failed", body = ErrorBody,
            headers(("Retry-After" = u32, description = "Seconds to wait before retrying"))),
    ),
    security((), ("bearer" = []))
)]
pub async fn page(
    State(state): State<AppState>,
    q: Result<Query<MonitorQuery>, QueryRejection>,
) -> Result<Html<String>, ApiError> {
    let report = monitor(&state, query(q)?).await?;
    let (job, _cancel) = state.work.job();
    let page = state
        .work
        .run(&job, move |_| {
            qualify_monitor::html::page(&report).map_err(monitor_error)
        })
        .await?;
    Ok(Html(page))
}

/// Reads the store, computes the report off the async workers, sets the gauges.
async fn monitor(state: &AppState, q: MonitorQuery) -> Result<MonitorReport, ApiError> {
    let store = state.store()?;
    let served = state.registry.current();
    let model = served_model(&served, q.model.as_deref())?;
    let range = Range {
        from: q.from,
        to: q.to,
    };
    let as_of = q.as_of.or(q.to).unwrap_or_else(Utc::now);
    let _slot = state.work.slot()?;
    let (job, _cancel) = state.work.job();
    let records = state
        .within(&job, Records::from_store(store, range, Some(as_of)))
        .await?
        .map_err(monitor_error)?;
    let config = MonitorConfig::for_model(Some(model.model.manifest()));
    // The inputs' drift for a model trained on a history, as `qualify monitor --store --model`.
    let leads = match model.model.manifest().history {
        Some(_) => Some(
            state
                .within(&job, drift_leads(store, &records, as_of, &config))
                .await??,
        ),
        None => None,
    };
    let _admitted = state.work.admit(1)?;
    let report = state
        .work
        .run(&job, move |_| {
            let manifest = model.model.manifest();
            match leads {
                Some(leads) => {
                    let values = |id: &str, at: DateTime<Utc>| {
                        let lead = leads.get(id)?;
                        model.model.lead_input_values(lead, at).ok()
                    };
                    records.monitor_leads(as_of, manifest, &values, &config)
                }
                None => records.monitor(as_of, Some(manifest), None, &config),
            }
            .map_err(monitor_error)
        })
        .await?;
    state.metrics.set_monitor(&report.headline);
    Ok(report)
}

/// The stored leads answered for in the drift window (`drift_days` before `as_of`), as
/// records; a lead whose stored attributes no longer read as a record is left out (counted
/// among the leads without inputs) and logged.
async fn drift_leads(
    store: &Store,
    records: &Records,
    as_of: DateTime<Utc>,
    config: &MonitorConfig,
) -> Result<HashMap<String, LeadRecord>, ApiError> {
    let start = as_of - Duration::days(i64::from(config.drift_days));
    let ids: BTreeSet<&str> = records
        .entries
        .iter()
        .filter(|e| e.as_of > start)
        .filter_map(|e| e.lead_id.as_deref())
        .collect();
    let ids: Vec<&str> = ids.into_iter().collect();
    let stored = store
        .leads(&ids)
        .await
        .map_err(|e| monitor_error(MonitorError::Store { source: e }))?;
    let mut leads = HashMap::with_capacity(stored.len());
    for lead in stored {
        match lead.record() {
            Ok(record) => {
                leads.insert(lead.id, record);
            }
            Err(error) => tracing::warn!(lead = lead.id, %error, "a stored lead is not a record"),
        }
    }
    Ok(leads)
}

fn monitor_error(e: MonitorError) -> ApiError {
    match e {
        MonitorError::Store { source } => ApiError::new(
            ErrorCode::StoreUnavailable,
            format!("reading the lead store: {source}"),
        ),
        other => {
            tracing::error!(error = %other, "monitoring failed");
            ApiError::internal(format!("monitoring failed: {other}"))
        }
    }
}
