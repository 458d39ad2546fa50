//! `GET /v1/models` and `GET /v1/models/{name}`: what is served, and how well it did.

use axum::Json;
use axum::extract::{Path, State};
use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;

use crate::app::AppState;
use crate::error::{ApiError, ErrorBody};
use crate::registry::{LoadedModel, Role};
use crate::routes::unknown_model;
use qualify_core::bundle::ModelKind;
use qualify_runtime::NativeKind;

/// One served model, briefly.
#[derive(Debug, Serialize, ToSchema)]
pub struct ModelSummary {
    pub name: String,
    pub version: String,
    /// What produced the model.
    pub kind: ModelKind,
    /// What scores it: the native tree evaluator, tract for a logistic graph, or tract alone.
    pub evaluator: NativeKind,
    pub schema_hash: String,
    pub created_at: DateTime<Utc>,
    pub role: Role,
    pub calibration: String,
    pub n_features: usize,
    /// Test-set metrics recorded at training time.
    #[schema(value_type = Object)]
    pub test_metrics: serde_json::Value,
    /// What the propensity means, for a model trained on a history: "probability of
    /// converting within 90 days of the scoring moment".
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
    /// The label's window in days, for a model trained on a history.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub window_days: Option<u32>,
}

/// A served model in full: the summary plus everything the manifest records about training.
#[derive(Debug, Serialize, ToSchema)]
pub struct ModelDetail {
    #[serde(flatten)]
    pub summary: ModelSummary,
    /// All metrics in the manifest (test, prior, cross-validation).
    #[schema(value_type = Object)]
    pub metrics: serde_json::Value,
    #[schema(value_type = Object)]
    pub hyperparameters: serde_json::Value,
    #[schema(value_type = Object)]
    pub training_data: serde_json::Value,
    /// Feature columns the model reads.
    pub columns: Vec<String>,
}

fn summary(m: &LoadedModel, role: Role) -> ModelSummary {
    let manifest = m.model.manifest();
    ModelSummary {
        name: manifest.name.clone(),
        version: manifest.version.clone(),
        kind: manifest.model.kind,
        evaluator: m.model.graph().native_kind(),
        schema_hash: manifest.schema_hash.clone(),
        created_at: manifest.created_at,
        role,
        calibration: manifest.calibrator.name().to_string(),
        n_features: manifest.model.n_features,
        test_metrics: manifest
            .metrics
            .as_ref()
            .and_then(|m| serde_json::to_value(&m.test).ok())
            .unwrap_or(serde_json::Value::Null),
        target: manifest.history.as_ref().map(|h| h.target.clone()),
        window_days: manifest.history.as_ref().map(|h| h.spec.label_window_days),
    }
}

/// The models being served (the challenger last, if any).
#[utoipa::path(get, path = "/v1/models", tag = "models",
    responses((status = 200, body = Vec<ModelSummary>)))]
pub async fn list(State(state): State<AppState>) -> Json<Vec<ModelSummary>> {
    let served = state.registry.current();
    let mut out: Vec<ModelSummary> = served
        .models
        .iter()
        .map(|(name, m)| summary(m, Role::of(&served, name)))
        .collect();
    out.extend(
        served
            .challenger
            .as_deref()
            .map(|c| summary(c, Role::Challenger)),
    );
    Json(out)
}

/// One served model by name (`challenger` names the shadow model).
#[utoipa::path(get, path = "/v1/models/{name}", tag = "models",
    params(("name" = String, Path, description = "Model name")),
    responses((status = 200, body = ModelDetail), (status = 404, body = ErrorBody)))]
pub async fn detail(
    State(state): State<AppState>,
    Path(name): Path<String>,
) -> Result<Json<ModelDetail>, ApiError> {
    let served = state.registry.current();
    let (m, role) = match (served.models.get(&name), served.challenger.as_deref()) {
        (Some(m), _) => (m.as_ref(), Role::of(&served, &name)),
        (None, Some(challenger)) if name == "challenger" => (challenger, Role::Challenger),
        (None, _) => return Err(unknown_model(&served, &name)),
    };
    let manifest = m.model.manifest();
    Ok(Json(ModelDetail {
        summary: summary(m, role),
        metrics: manifest
            .metrics
            .as_ref()
            .and_then(|m| serde_json::to_value(m).ok())
            .unwrap_or_else(|| serde_json::json!({})),
        hyperparameters: manifest.model.hyperparameters.clone(),
        training_data: serde_json::to_value(&manifest.training_data)
            .unwrap_or(serde_json::Value::Null),
        columns: manifest
            .schema
            .columns
            .iter()
            .map(|c| c.name.clone())
            .collect(),
    }))
}
