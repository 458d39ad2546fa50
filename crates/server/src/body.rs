//! Request bodies: read within a time and size limit, decoded (gzip), and parsed into typed
//! values with errors that say what and where.
//!
//! axum's `Json` extractor answers in its own plain-text shape; the API promises one JSON
//! error shape and field paths (`activities[2].at`), so bodies are read as bytes here and
//! parsed with `serde_path_to_error`. Three limits keep a client from costing more than it
//! is allowed: the body must arrive within `body_timeout_ms` (a slow sender never holds a
//! scoring slot, which is taken only after the body is in); it may not exceed
//! `max_body_bytes` after decoding (a gzip bomb stops at the limit, in pieces); and a batch
//! stops parsing at its `max_batch + 1`th element, so a megabyte of `{}` never becomes
//! hundreds of thousands of records in memory before it is refused.

use std::borrow::Cow;
use std::cell::Cell;
use std::io::Write;
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::http::{HeaderMap, header};
use futures_util::StreamExt;
use qualify_core::lead::LeadRecord;
use serde::de::{DeserializeOwned, DeserializeSeed, SeqAccess, Visitor};

use crate::error::{ApiError, ErrorCode};

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
            ErrorCode::UnsupportedMediaType,
            format!(
                "Content-Type {other:?}: send application/json (or application/x-ndjson to the batch route)"
            ),
        )),
    }
}

/// `Content-Encoding` of the body: identity or gzip; anything else is a 415.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    Identity,
    Gzip,
}

pub fn encoding(headers: &HeaderMap) -> Result<Encoding, ApiError> {
    let mut found = Encoding::Identity;
    for value in headers.get_all(header::CONTENT_ENCODING) {
        for part in value.to_str().unwrap_or("?").split(',') {
            match part.trim().to_ascii_lowercase().as_str() {
                "" | "identity" => {}
                "gzip" | "x-gzip" if found == Encoding::Identity => found = Encoding::Gzip,
                other => {
                    return Err(ApiError::new(
                        ErrorCode::UnsupportedEncoding,
                        format!("Content-Encoding {other:?}: send gzip or no encoding"),
                    ));
                }
            }
        }
    }
    Ok(found)
}

/// Reads the whole body: 413 past `limit` bytes (at once when `Content-Length` says so),
/// 408 when it has not all arrived within `timeout`.
pub async fn read(
    headers: &HeaderMap,
    body: Body,
    limit: usize,
    timeout: Duration,
) -> Result<Bytes, ApiError> {
    let too_large =
        || ApiError::too_large(format!("the request body is larger than {limit} bytes"));
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit as u64) {
        return Err(too_large());
    }
    let collect = async {
        let mut stream = body.into_data_stream();
        let mut buf = Vec::with_capacity(declared.map_or(0, |n| n as usize));
        while let Some(chunk) = stream.next().await {
            let chunk = chunk.map_err(|e| {
                ApiError::new(
                    ErrorCode::UnreadableBody,
                    format!("reading the request body failed: {e}"),
                )
            })?;
            if buf.len() + chunk.len() > limit {
                return Err(too_large());
            }
            buf.extend_from_slice(&chunk);
        }
        Ok(Bytes::from(buf))
    };
    tokio::time::timeout(timeout, collect).await.map_err(|_| {
        ApiError::new(
            ErrorCode::BodyTimeout,
            format!(
                "the request body did not arrive within {} ms",
                timeout.as_millis()
            ),
        )
    })?
}

/// Turns encoded bytes into decoded bytes a piece at a time, so that one small piece of a
/// gzip bomb (which can expand ~1000×) never produces more than about half a megabyte.
#[derive(Debug)]
pub struct Decoder {
    gzip: Option<flate2::write::GzDecoder<Vec<u8>>>,
}

/// Compressed bytes fed to the gzip decoder at a time.
const PIECE: usize = 512;

impl Decoder {
    pub fn new(encoding: Encoding) -> Decoder {
        Decoder {
            gzip: (encoding == Encoding::Gzip).then(|| flate2::write::GzDecoder::new(Vec::new())),
        }
    }

    /// Decodes up to one piece of `input` (all of it when not compressed), appending to
    /// `out`; returns how many input bytes it consumed.
    pub fn push(&mut self, input: &[u8], out: &mut Vec<u8>) -> Result<usize, ApiError> {
        let Some(gzip) = &mut self.gzip else {
            out.extend_from_slice(input);
            return Ok(input.len());
        };
        let piece = &input[..input.len().min(PIECE)];
        gzip.write_all(piece).map_err(bad_gzip)?;
        out.append(gzip.get_mut());
        Ok(piece.len())
    }

    /// Checks that a gzip stream ended where the body ended.
    pub fn finish(&mut self, out: &mut Vec<u8>) -> Result<(), ApiError> {
        if let Some(gzip) = &mut self.gzip {
            gzip.try_finish().map_err(bad_gzip)?;
            out.append(gzip.get_mut());
        }
        Ok(())
    }

    /// Decodes a whole body (an identity body is borrowed as it is); 413 as soon as the
    /// decoded bytes pass `limit`.
    pub fn decode_all(
        encoding: Encoding,
        mut input: &[u8],
        limit: usize,
    ) -> Result<Cow<'_, [u8]>, ApiError> {
        if encoding == Encoding::Identity {
            return Ok(Cow::Borrowed(input));
        }
        let mut decoder = Decoder::new(encoding);
        let mut out = Vec::new();
        while !input.is_empty() {
            let used = decoder.push(input, &mut out)?;
            input = &input[used..];
            if out.len() > limit {
                return Err(ApiError::too_large(format!(
                    "the request body is larger than {limit} bytes once decoded"
                )));
            }
        }
        decoder.finish(&mut out)?;
        if out.len() > limit {
            return Err(ApiError::too_large(format!(
                "the request body is larger than {limit} bytes once decoded"
            )));
        }
        Ok(Cow::Owned(out))
    }
}

fn bad_gzip(e: std::io::Error) -> ApiError {
    ApiError::new(
        ErrorCode::MalformedJson,
        format!("the gzip body does not decode: {e}"),
    )
}

/// Parses JSON: syntax errors are 400 (`malformed_json`, with line and column); a value of the
/// wrong type or an invalid value is 422 (`invalid_field`, with the field path).
///
/// A valid body is parsed once, without tracking the path (a push and pop per field, a
/// sizeable share of parsing a lead); only a body that fails is parsed again, with the
/// tracking, for the path its error names. Both parses read the same bytes with the same
/// rules, so they fail at the same place.
pub fn parse<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    if let Ok(value) = serde_json::from_slice(bytes) {
        return Ok(value);
    }
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let mut track = serde_path_to_error::Track::new();
    let value = T::deserialize(serde_path_to_error::Deserializer::new(&mut de, &mut track))
        .map_err(|e| path_error(track.path(), e))?;
    de.end().map_err(malformed)?;
    Ok(value)
}

/// Parses a JSON array of leads, refusing it (413 `batch_too_large`) at element `max + 1`
/// rather than after building every element.
pub fn parse_batch(bytes: &[u8], max: usize) -> Result<Vec<LeadRecord>, ApiError> {
    let overflow = Cell::new(false);
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let mut track = serde_path_to_error::Track::new();
    let seed = Bounded {
        max,
        overflow: &overflow,
    };
    let leads = seed
        .deserialize(serde_path_to_error::Deserializer::new(&mut de, &mut track))
        .map_err(|e| {
            if overflow.get() {
                ApiError::new(
                    ErrorCode::BatchTooLarge,
                    format!(
                        "more than {max} leads in one batch (the limit; stream larger batches as NDJSON)"
                    ),
                )
            } else {
                path_error(track.path(), e)
            }
        })?;
    de.end().map_err(malformed)?;
    Ok(leads)
}

/// Items of an ingestion body: one JSON object, a JSON array of them, or (NDJSON) one per
/// line. Returns the items and whether the body was one object (whose fields errors name
/// bare; otherwise `[i].field`, `i` counting items from 0, the line number in the message).
pub fn parse_items<T: DeserializeOwned>(
    bytes: &[u8],
    kind: BodyKind,
) -> Result<(Vec<T>, bool), ApiError> {
    if kind == BodyKind::Ndjson {
        let mut items = Vec::new();
        for (n, line) in bytes.split(|b| *b == b'\n').enumerate() {
            if line.iter().all(u8::is_ascii_whitespace) {
                continue;
            }
            let item = parse::<T>(line).map_err(|e| {
                let mut e = e.within(&format!("[{}]", items.len()));
                e.body.error.message = format!("line {}: {}", n + 1, e.body.error.message);
                e
            })?;
            items.push(item);
        }
        return Ok((items, false));
    }
    match bytes.iter().find(|b| !b.is_ascii_whitespace()) {
        Some(b'[') => Ok((parse::<Vec<T>>(bytes)?, false)),
        _ => Ok((vec![parse::<T>(bytes)?], true)),
    }
}

struct Bounded<'a> {
    max: usize,
    overflow: &'a Cell<bool>,
}

impl<'de> DeserializeSeed<'de> for Bounded<'_> {
    type Value = Vec<LeadRecord>;

    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for Bounded<'_> {
    type Value = Vec<LeadRecord>;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "an array of at most {} lead records", self.max)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut leads = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(self.max));
        while let Some(lead) = seq.next_element::<LeadRecord>()? {
            if leads.len() == self.max {
                self.overflow.set(true);
                return Err(serde::de::Error::custom("too many leads"));
            }
            leads.push(lead);
        }
        Ok(leads)
    }
}

fn malformed(e: serde_json::Error) -> ApiError {
    ApiError::new(ErrorCode::MalformedJson, format!("malformed JSON: {e}"))
}

fn path_error(path: serde_path_to_error::Path, inner: serde_json::Error) -> ApiError {
    let mut path = path.to_string();
    // A missing field is reported at the object that lacks it: name the field itself.
    if let Some(name) = inner
        .to_string()
        .strip_prefix("missing field `")
        .and_then(|rest| rest.split_once('`'))
        .map(|(name, _)| name.to_string())
    {
        path = if path == "." {
            name
        } else {
            format!("{path}.{name}")
        };
    }
    match inner.classify() {
        serde_json::error::Category::Data if path == "." => {
            ApiError::new(ErrorCode::InvalidField, inner.to_string())
        }
        serde_json::error::Category::Data => {
            ApiError::invalid_field(path.clone(), format!("field {path:?}: {inner}"))
        }
        _ => malformed(inner),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::StatusCode;

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
        let e = parse_batch(br#"[{}, {"employees": -3}]"#, 10).expect_err("negative");
        assert_eq!(e.body.error.field.as_deref(), Some("[1].employees"));
        let e = parse::<Vec<qualify_store::NewEvent>>(br#"[{"lead_id": "a", "type": "x", "at": "2026-01-01T00:00:00Z"}, {"type": "x", "at": "2026-01-01T00:00:00Z"}]"#)
            .expect_err("missing lead_id");
        assert_eq!(e.body.error.field.as_deref(), Some("[1].lead_id"));
        let e = parse::<qualify_store::NewEvent>(br#"{"type": "x", "at": "2026-01-01T00:00:00Z"}"#)
            .expect_err("missing lead_id");
        assert_eq!(e.body.error.field.as_deref(), Some("lead_id"));
        let e = parse::<LeadRecord>(br#"[1]"#).expect_err("not an object");
        assert_eq!(e.status, StatusCode::UNPROCESSABLE_ENTITY);
        let e = parse::<LeadRecord>(br#"{} {}"#).expect_err("trailing");
        assert_eq!(e.status, StatusCode::BAD_REQUEST);
        let e = parse_batch(br#"{"id": 1}"#, 10).expect_err("not an array");
        assert_eq!(e.code(), ErrorCode::InvalidField);
    }

    #[test]
    fn a_batch_stops_parsing_past_its_limit() {
        // Element max + 1 is refused even when the rest of the body is not JSON at all: the
        // parser never gets there.
        let mut body = b"[{}, {}, {}, ".to_vec();
        body.extend_from_slice(&[b'x'; 64]);
        let e = parse_batch(&body, 2).expect_err("over the limit");
        assert_eq!(e.code(), ErrorCode::BatchTooLarge);
        assert_eq!(parse_batch(b"[{}, {}]", 2).expect("at the limit").len(), 2);
    }

    fn gzip(bytes: &[u8]) -> Vec<u8> {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        e.write_all(bytes).expect("compress");
        e.finish().expect("compress")
    }

    #[test]
    fn gzip_bodies_decode_within_the_limit() {
        let json = br#"{"id": "lead-1", "employees": 12}"#;
        let zipped = gzip(json);
        let decoded = Decoder::decode_all(Encoding::Gzip, &zipped, 1024).expect("decodes");
        assert_eq!(&*decoded, &json[..]);
        // 10 MB of zeros compress to ~10 kB; decoding stops soon after the 1 MB limit.
        let bomb = gzip(&vec![b'0'; 10 << 20]);
        let e = Decoder::decode_all(Encoding::Gzip, &bomb, 1 << 20).expect_err("bomb");
        assert_eq!(e.code(), ErrorCode::TooLarge);
        let e = Decoder::decode_all(Encoding::Gzip, json, 1024).expect_err("not gzip");
        assert_eq!(e.code(), ErrorCode::MalformedJson);
    }

    #[test]
    fn encodings_other_than_gzip_are_415() {
        let mut h = HeaderMap::new();
        assert_eq!(encoding(&h).expect("none"), Encoding::Identity);
        h.insert(header::CONTENT_ENCODING, "GZIP".parse().expect("header"));
        assert_eq!(encoding(&h).expect("gzip"), Encoding::Gzip);
        h.insert(header::CONTENT_ENCODING, "br".parse().expect("header"));
        assert_eq!(
            encoding(&h).expect_err("br").status,
            StatusCode::UNSUPPORTED_MEDIA_TYPE
        );
        h.insert(
            header::CONTENT_ENCODING,
            "gzip, gzip".parse().expect("header"),
        );
        assert!(encoding(&h).is_err());
    }
}
