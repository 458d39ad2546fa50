//! Route handlers: parse, call [`crate::scoring`] or the registry, answer. Each handler is
//! thin; the `#[utoipa::path]` attributes are the OpenAPI document's source.

pub mod admin;
pub mod ingest;
pub mod leads;
pub mod models;
pub mod monitor;
pub mod ndjson;
pub mod ops;
pub mod score;

use axum::extract::Query;
use axum::extract::rejection::QueryRejection;

use crate::error::ApiError;

/// A query string, or a 422 naming the parameter.
pub(crate) fn query<T>(q: Result<Query<T>, QueryRejection>) -> Result<T, ApiError> {
    q.map(|Query(t)| t)
        .map_err(|e| ApiError::new(crate::error::ErrorCode::InvalidQuery, e.body_text()))
}

/// The served model `name` names (default: the default model), or the 404 naming the
/// `model` parameter.
pub(crate) fn served_model(
    served: &crate::registry::Served,
    name: Option<&str>,
) -> Result<std::sync::Arc<crate::registry::LoadedModel>, ApiError> {
    served.model(name).cloned().ok_or_else(|| {
        unknown_model(served, name.unwrap_or(&served.default_model)).with_field("model")
    })
}

/// 404 for a model name that is not served, listing those that are.
pub(crate) fn unknown_model(served: &crate::registry::Served, name: &str) -> ApiError {
    ApiError::new(
        crate::error::ErrorCode::UnknownModel,
        format!(
            "no model named {name:?}; served: {}",
            served.models.keys().cloned().collect::<Vec<_>>().join(", ")
        ),
    )
}
