//! The one error shape of the API: `{"error": {"code", "message", "field"?}}`, for every
//! failure on every route, with the status that says whose fault it is. A client mistake is
//! a 4xx that names what and where; 5xx is reserved for our own failures and for load.
//!
//! Codes are a closed set ([`ErrorCode`]) and each code has one status
//! ([`ErrorCode::status`]), so a client can switch on the code and the OpenAPI document lists
//! every value. Library errors reach the API through exhaustive matches: a new variant
//! upstream does not compile until someone decides whose fault it is.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use qualify_core::encoder::EncodeError;
use qualify_runtime::RuntimeError;
use serde::Serialize;
use utoipa::ToSchema;

/// Every error code the API answers with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// 400: the body is not JSON (or a gzip body does not decode).
    MalformedJson,
    /// 400: the body could not be read from the connection.
    UnreadableBody,
    /// 401: a bearer token is configured and missing or wrong.
    Unauthorized,
    /// 403: admin routes are off (no admin token configured).
    AdminDisabled,
    /// 404: no such route.
    NotFound,
    /// 404: `?model=` or `/v1/models/{name}` names no served model.
    UnknownModel,
    /// 404: the store has never heard of the lead.
    UnknownLead,
    /// 404: the server runs without a store (`--store none`): the store routes are off.
    NoStore,
    /// 405: the route does not take that method.
    MethodNotAllowed,
    /// 408: the body did not arrive within `body_timeout_ms`.
    BodyTimeout,
    /// 409: valid input that conflicts with what the store holds (a second, different
    /// outcome; an outcome before the lead's creation); `field` names it.
    Conflict,
    /// 413: the body (decoded) is over `max_body_bytes`.
    TooLarge,
    /// 413: a JSON array over `max_batch` leads.
    BatchTooLarge,
    /// 415: not JSON (or NDJSON on the batch route).
    UnsupportedMediaType,
    /// 415: a `Content-Encoding` other than gzip or identity.
    UnsupportedEncoding,
    /// 422: a wrong type or invalid value; `field` is its path.
    InvalidField,
    /// 422: a query parameter that does not parse.
    InvalidQuery,
    /// 422: a record the model cannot encode as a whole.
    InvalidRecord,
    /// 500: our bug; logged.
    Internal,
    /// 503: more work queued than `max_queued_leads`, or requests than `max_concurrency`.
    Overloaded,
    /// 503: the work took longer than `timeout_ms` and was stopped.
    Timeout,
    /// 503: the store failed (unreachable, closed, out of space); nothing was stored.
    StoreUnavailable,
}

impl ErrorCode {
    pub fn status(self) -> StatusCode {
        match self {
            ErrorCode::MalformedJson | ErrorCode::UnreadableBody => StatusCode::BAD_REQUEST,
            ErrorCode::Unauthorized => StatusCode::UNAUTHORIZED,
            ErrorCode::AdminDisabled => StatusCode::FORBIDDEN,
            ErrorCode::NotFound
            | ErrorCode::UnknownModel
            | ErrorCode::UnknownLead
            | ErrorCode::NoStore => StatusCode::NOT_FOUND,
            ErrorCode::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            ErrorCode::BodyTimeout => StatusCode::REQUEST_TIMEOUT,
            ErrorCode::Conflict => StatusCode::CONFLICT,
            ErrorCode::TooLarge | ErrorCode::BatchTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            ErrorCode::UnsupportedMediaType | ErrorCode::UnsupportedEncoding => {
                StatusCode::UNSUPPORTED_MEDIA_TYPE
            }
            ErrorCode::InvalidField | ErrorCode::InvalidQuery | ErrorCode::InvalidRecord => {
                StatusCode::UNPROCESSABLE_ENTITY
            }
            ErrorCode::Internal => StatusCode::INTERNAL_SERVER_ERROR,
            ErrorCode::Overloaded | ErrorCode::Timeout | ErrorCode::StoreUnavailable => {
                StatusCode::SERVICE_UNAVAILABLE
            }
        }
    }
}

/// A failed request.
#[derive(Debug, Clone, PartialEq)]
pub struct ApiError {
    pub status: StatusCode,
    pub body: ErrorBody,
    /// Seconds for `Retry-After` (503s).
    pub retry_after: Option<u32>,
}

/// `{"error": {...}}`
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct ErrorDetail {
    /// Stable machine-readable code.
    pub code: ErrorCode,
    /// What went wrong, for a human.
    pub message: String,
    /// Path of the offending field, e.g. `activities[2].at` or `[3].employees` in a batch.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
}

impl ApiError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> ApiError {
        ApiError {
            status: code.status(),
            body: ErrorBody {
                error: ErrorDetail {
                    code,
                    message: message.into(),
                    field: None,
                },
            },
            retry_after: matches!(code.status(), StatusCode::SERVICE_UNAVAILABLE).then_some(1),
        }
    }

    pub fn code(&self) -> ErrorCode {
        self.body.error.code
    }

    pub fn with_field(mut self, field: impl Into<String>) -> ApiError {
        self.body.error.field = Some(field.into());
        self
    }

    pub fn invalid_field(field: impl Into<String>, message: impl Into<String>) -> ApiError {
        ApiError::new(ErrorCode::InvalidField, message).with_field(field)
    }

    pub fn too_large(message: impl Into<String>) -> ApiError {
        ApiError::new(ErrorCode::TooLarge, message)
    }

    pub fn unauthorized() -> ApiError {
        ApiError::new(
            ErrorCode::Unauthorized,
            "a valid `Authorization: Bearer <token>` header is required",
        )
    }

    pub fn overloaded(what: &str) -> ApiError {
        ApiError::new(
            ErrorCode::Overloaded,
            format!("the server is at its {what}; retry after the Retry-After delay"),
        )
    }

    pub fn timeout(timeout_ms: u64) -> ApiError {
        ApiError::new(
            ErrorCode::Timeout,
            format!(
                "the work took longer than the server's timeout ({timeout_ms} ms) and was stopped"
            ),
        )
    }

    pub fn internal(message: impl Into<String>) -> ApiError {
        ApiError::new(ErrorCode::Internal, message)
    }

    /// Prefixes the field path (a batch element's index, an NDJSON line).
    pub fn within(mut self, prefix: &str) -> ApiError {
        self.body.error.field = Some(match self.body.error.field.take() {
            Some(f) if f.starts_with('[') => format!("{prefix}{f}"),
            Some(f) => format!("{prefix}.{f}"),
            None => prefix.to_string(),
        });
        self
    }
}

impl From<RuntimeError> for ApiError {
    /// A record the encoder cannot read is the client's (422, naming the field); a bundle
    /// that fails while serving is ours (500, logged).
    fn from(e: RuntimeError) -> ApiError {
        match e {
            RuntimeError::Input { error, .. } => match error {
                EncodeError::Field { field, source } => {
                    ApiError::invalid_field(field.clone(), format!("field {field:?}: {source}"))
                }
                e @ EncodeError::Cell { .. } => {
                    ApiError::new(ErrorCode::InvalidRecord, e.to_string())
                }
                // A record never trains, and every column a record lacks is imputed: these
                // are a bundle that does not fit its own encoder.
                e @ (EncodeError::BadCells { .. }
                | EncodeError::Overflow { .. }
                | EncodeError::MissingColumn { .. }
                | EncodeError::RawType { .. }
                | EncodeError::Width { .. }) => internal_error(&e),
            },
            e @ (RuntimeError::Bundle { .. }
            | RuntimeError::Graph { .. }
            | RuntimeError::Width { .. }
            | RuntimeError::GoldenRecord { .. }
            | RuntimeError::GoldenMismatch { .. }
            | RuntimeError::NotExplainable { .. }
            | RuntimeError::Explain { .. }
            | RuntimeError::Score { .. }) => internal_error(&e),
        }
    }
}

fn internal_error(e: &dyn std::error::Error) -> ApiError {
    tracing::error!(error = %e, "scoring failed");
    ApiError::internal(format!("scoring failed: {e}"))
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut response = (self.status, axum::Json(self.body)).into_response();
        if let Some(secs) = self.retry_after {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use qualify_core::encoder::ValueError;

    #[test]
    fn runtime_errors_map_by_whose_fault_they_are() {
        let e = ApiError::from(RuntimeError::Input {
            field: Some("employees".into()),
            error: EncodeError::Field {
                field: "employees".into(),
                source: ValueError::NotFinite(f64::NAN),
            },
        });
        assert_eq!(
            (e.status, e.code(), e.body.error.field.as_deref()),
            (
                StatusCode::UNPROCESSABLE_ENTITY,
                ErrorCode::InvalidField,
                Some("employees")
            )
        );
        // An encoder that does not fit its own bundle is ours, not the client's.
        let e = ApiError::from(RuntimeError::Input {
            field: None,
            error: EncodeError::Width { got: 3, want: 4 },
        });
        assert_eq!(
            (e.status, e.code(), e.retry_after),
            (StatusCode::INTERNAL_SERVER_ERROR, ErrorCode::Internal, None)
        );
    }

    #[test]
    fn unavailable_codes_carry_retry_after_and_codes_serialize_snake_case() {
        let e = ApiError::overloaded("concurrency limit");
        assert_eq!(
            (e.status, e.retry_after),
            (StatusCode::SERVICE_UNAVAILABLE, Some(1))
        );
        assert_eq!(
            serde_json::to_value(ErrorCode::UnsupportedMediaType).expect("json"),
            "unsupported_media_type"
        );
    }
}
