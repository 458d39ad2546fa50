//! Reading JSON request bodies into typed values with errors that say what and where.
//!
//! axum's `Json` extractor answers in its own plain-text shape; the API promises one JSON
//! error shape and field paths (`activities[2].at`), so bodies are read as bytes (bounded by
//! `DefaultBodyLimit`) and parsed here with `serde_path_to_error`.

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::http::{HeaderMap, StatusCode, header};
use serde::de::DeserializeOwned;

use crate::error::ApiError;

/// The body bytes, or the error for a body that could not be read (413 over the limit).
pub fn bytes(body: Result<Bytes, BytesRejection>, limit: usize) -> Result<Bytes, ApiError> {
    body.map_err(|rejection| {
        if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::too_large(format!("the request body is larger than {limit} bytes"))
        } else {
            ApiError::bad_request("unreadable_body", rejection.body_text())
        }
    })
}

/// How the body is encoded, from `Content-Type` (absent = JSON).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyKind {
    Json,
    Ndjson,
}

pub fn kind(headers: &HeaderMap) -> Result<BodyKind, ApiError> {
    let Some(value) = headers.get(header::CONTENT_TYPE) else {
        return Ok(BodyKind::Json);
    };
    let mime = value
        .to_str()
        .unwrap_or("")
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    match mime.as_str() {
        "application/json" | "" => Ok(BodyKind::Json),
        "application/x-ndjson" | "application/ndjson" | "application/jsonl" => Ok(BodyKind::Ndjson),
        other => Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            format!(
                "Content-Type {other:?}: send application/json (or application/x-ndjson to the batch route)"
            ),
        )),
    }
}

/// Parses JSON: syntax errors are 400 (`malformed_json`, with line and column); a value of the
/// wrong type or an invalid value is 422 (`invalid_field`, with the field path).
pub fn parse<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let value = serde_path_to_error::deserialize(&mut de).map_err(path_error)?;
    de.end()
        .map_err(|e| ApiError::bad_request("malformed_json", format!("malformed JSON: {e}")))?;
    Ok(value)
}

fn path_error(e: serde_path_to_error::Error<serde_json::Error>) -> ApiError {
    let path = e.path().to_string();
    let inner = e.into_inner();
    match inner.classify() {
        serde_json::error::Category::Data => {
            let error = ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_field",
                if path == "." {
                    format!("{inner}")
                } else {
                    format!("field {path:?}: {inner}")
                },
            );
            if path == "." {
                error
            } else {
                error.with_field(path)
            }
        }
        _ => ApiError::bad_request("malformed_json", format!("malformed JSON: {inner}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use qualify_core::lead::LeadRecord;

    #[test]
    fn syntax_is_400_and_types_are_422_with_paths() {
        let e = parse::<LeadRecord>(b"{\"id\": ").expect_err("truncated");
        assert_eq!(e.status, StatusCode::BAD_REQUEST);
        let e = parse::<LeadRecord>(br#"{"employees": "many"}"#).expect_err("type");
        assert_eq!(e.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(e.body.error.field.as_deref(), Some("employees"));
        let e = parse::<LeadRecord>(br#"{"activities": [{"type": "email_open", "at": "2026-01-01T00:00:00Z"}, {"type": "email_open", "at": "yesterday"}]}"#)
            .expect_err("bad time");
        assert_eq!(e.body.error.field.as_deref(), Some("activities[1].at"));
        let e = parse::<Vec<LeadRecord>>(br#"[{}, {"employees": -3}]"#).expect_err("negative");
        assert_eq!(e.body.error.field.as_deref(), Some("[1].employees"));
        let e = parse::<LeadRecord>(br#"[1]"#).expect_err("not an object");
        assert_eq!(e.status, StatusCode::UNPROCESSABLE_ENTITY);
        let e = parse::<LeadRecord>(br#"{} {}"#).expect_err("trailing");
        assert_eq!(e.status, StatusCode::BAD_REQUEST);
    }
}
