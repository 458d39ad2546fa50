//! The server's request bodies: one JSON lead (`POST /v1/score`), a JSON array batch and an
//! NDJSON stream (`POST /v1/score/batch`), through the real router (`oneshot`, no socket) with
//! the bundled model and the default rules. The first byte picks the route and the body type
//! (its low six bits mod 3), `Content-Encoding: gzip` (bit 0x40: the rest is then a gzip stream) and
//! `?explain=true` (bit 0x80); the second splits the body into chunks of that many bytes, so
//! line boundaries and gzip blocks fall inside and across chunks.
//!
//! Checks: no panic and no 500 (the catch-panic layer would turn a panic into one); every
//! answer is JSON (NDJSON: one JSON line per non-blank input line, or fewer ending in the
//! error that stopped the stream).

#![no_main]

use std::sync::OnceLock;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::http::{Request, StatusCode, header};
use libfuzzer_sys::fuzz_target;
use qualify_fuzz::{bundled_version, repo};
use qualify_server::{AppState, Config, app};
use tower::ServiceExt;

fn runtime() -> &'static tokio::runtime::Runtime {
    static RUNTIME: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RUNTIME.get_or_init(|| {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a tokio runtime")
    })
}

fn router() -> &'static Router {
    static ROUTER: OnceLock<Router> = OnceLock::new();
    ROUTER.get_or_init(|| {
        let config = Config {
            models: bundled_version().to_path_buf(),
            rules: repo().join("rules/default.toml"),
            ..Config::default()
        };
        app(AppState::open(config).expect("the server state opens"))
    })
}

fuzz_target!(|data: &[u8]| {
    let [selector, chunk, body @ ..] = data else {
        return;
    };
    let (uri, ndjson) = match (selector & 0x3f) % 3 {
        0 => ("/v1/score", false),
        1 => ("/v1/score/batch", false),
        _ => ("/v1/score/batch", true),
    };
    let uri = if selector & 0x80 != 0 {
        format!("{uri}?explain=true")
    } else {
        uri.to_string()
    };
    let content_type = if ndjson {
        "application/x-ndjson"
    } else {
        "application/json"
    };
    let gzip = selector & 0x40 != 0;
    let request_body = if *chunk > 0 {
        let chunks: Vec<Result<Bytes, std::io::Error>> = body
            .chunks(usize::from(*chunk))
            .map(|c| Ok(Bytes::copy_from_slice(c)))
            .collect();
        Body::from_stream(futures_util::stream::iter(chunks))
    } else {
        Body::from(body.to_vec())
    };
    let mut request = Request::post(uri).header(header::CONTENT_TYPE, content_type);
    if gzip {
        request = request.header(header::CONTENT_ENCODING, "gzip");
    }
    let request = request.body(request_body).expect("a valid request");

    let (status, answer) = runtime().block_on(async {
        let response = router()
            .clone()
            .oneshot(request)
            .await
            .expect("the router is infallible");
        let status = response.status();
        let answer = axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .expect("the answer reads");
        (status, answer)
    });
    assert_ne!(
        status,
        StatusCode::INTERNAL_SERVER_ERROR,
        "a 500: {}",
        String::from_utf8_lossy(&answer)
    );
    if ndjson && status == StatusCode::OK {
        let lines: Vec<&[u8]> = answer
            .split(|b| *b == b'\n')
            .filter(|l| !l.is_empty())
            .collect();
        for line in &lines {
            serde_json::from_slice::<serde_json::Value>(line).unwrap_or_else(|e| {
                panic!(
                    "an NDJSON answer line is JSON: {e}: {}",
                    String::from_utf8_lossy(line)
                )
            });
        }
        if gzip {
            return;
        }
        let inputs = body
            .split(|b| *b == b'\n')
            .filter(|l| !l.iter().all(u8::is_ascii_whitespace))
            .count();
        // A stream may stop early (a line over the size limit, a deadline), and then its
        // last line is the error that stopped it.
        let ends_in_error = lines.last().is_some_and(|l| {
            serde_json::from_slice::<serde_json::Value>(l).is_ok_and(|v| v.get("error").is_some())
        });
        assert!(
            lines.len() == inputs || (ends_in_error && lines.len() <= inputs),
            "one answer line per non-blank input line: {} answers to {inputs} lines",
            lines.len()
        );
    } else {
        serde_json::from_slice::<serde_json::Value>(&answer).unwrap_or_else(|e| {
            panic!(
                "the answer is JSON: {e}: {}",
                String::from_utf8_lossy(&answer)
            )
        });
    }
});
