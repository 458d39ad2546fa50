//! `POST /v1/score/batch` with `Content-Type: application/x-ndjson`: one lead per line in, one
//! answer per line out, as the lines arrive, with no count limit and memory bounded by a line.
//!
//! A stream is held to the same limits as a request, for its whole life: it holds a slot
//! among `max_concurrency` until its body ends; the lines read so far (up to [`CHUNK`]) are
//! admitted to the scoring queue together — waiting for room, which slows a client that
//! sends faster than the server scores — and scored on the blocking pool within a fresh
//! `timeout_ms`; a gap of more than `body_timeout_ms` between pieces of the body ends it. A
//! stream cut by a deadline answers the error on the line it stopped at and ends. The
//! server's shutdown waits for a stream at most `shutdown_timeout_ms`.

use std::convert::Infallible;
use std::time::Duration;

use axum::body::{Body, BodyDataStream, Bytes};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use futures_util::StreamExt;
use qualify_core::lead::LeadRecord;

use crate::app::AppState;
use crate::body::{self, Decoder, Encoding};
use crate::error::{ApiError, ErrorCode};
use crate::scoring::Scoring;
use crate::work::{CHUNK, CancelOnDrop, Job, Slot};

/// The answer stream for an NDJSON body.
pub fn stream(
    state: AppState,
    scoring: Scoring,
    slot: Slot,
    encoding: Encoding,
    body: Body,
) -> Response {
    let (job, cancel) = state.work.job();
    let lines = Lines {
        limit: state.config.max_body_bytes,
        body_timeout: Duration::from_millis(state.config.body_timeout_ms),
        state,
        scoring,
        job,
        _slot: slot,
        _cancel: cancel,
        input: body.into_data_stream(),
        decoder: Decoder::new(encoding),
        pending: Bytes::new(),
        buf: Vec::new(),
        line: 0,
        eof: false,
        finished: false,
        done: false,
    };
    let output = futures_util::stream::unfold(lines, |mut lines| async move {
        let next = lines.next_answers().await?;
        Some((Ok::<_, Infallible>(next), lines))
    });
    let mut response = Body::from_stream(output).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/x-ndjson"),
    );
    response
}

struct Lines {
    state: AppState,
    scoring: Scoring,
    /// Its cancellation is the stream's; each chunk renews its deadline.
    job: Job,
    _slot: Slot,
    _cancel: CancelOnDrop,
    limit: usize,
    body_timeout: Duration,
    input: BodyDataStream,
    decoder: Decoder,
    /// Body bytes not yet decoded.
    pending: Bytes,
    /// Decoded bytes not yet answered: at most one partial line past the complete ones.
    buf: Vec<u8>,
    /// Lines read so far (1-based numbers in error lines).
    line: usize,
    eof: bool,
    /// The decoder has been told the body ended.
    finished: bool,
    done: bool,
}

/// `{"line": n, "error": {...}}` and a newline.
fn error_line(line: usize, e: &ApiError) -> Vec<u8> {
    let mut out = serde_json::to_vec(&serde_json::json!({"line": line, "error": e.body.error}))
        .unwrap_or_default();
    out.push(b'\n');
    out
}

impl Lines {
    /// The answers for the next lines, or `None` at the end of the stream.
    async fn next_answers(&mut self) -> Option<Bytes> {
        loop {
            if self.done {
                return None;
            }
            let lines = self.take_lines();
            if !lines.is_empty() {
                return Some(self.score(lines).await);
            }
            if self.buf.len() > self.limit {
                let e = ApiError::too_large(format!(
                    "line {} is longer than {} bytes; the stream stops here",
                    self.line + 1,
                    self.limit
                ));
                return Some(self.stop(self.line + 1, &e));
            }
            if !self.pending.is_empty() {
                match self.decoder.push(&self.pending, &mut self.buf) {
                    Ok(used) => {
                        let _ = self.pending.split_to(used);
                    }
                    Err(e) => return Some(self.stop(self.line + 1, &e)),
                }
                continue;
            }
            if self.eof {
                if self.finished {
                    return None;
                }
                self.finished = true;
                if let Err(e) = self.decoder.finish(&mut self.buf) {
                    return Some(self.stop(self.line + 1, &e));
                }
                // What is left is the last line, which may lack its newline.
                if !self.buf.is_empty() && !self.buf.ends_with(b"\n") {
                    self.buf.push(b'\n');
                }
                continue;
            }
            match tokio::time::timeout(self.body_timeout, self.input.next()).await {
                Ok(Some(Ok(chunk))) => self.pending = chunk,
                Ok(Some(Err(e))) => {
                    let e = ApiError::new(
                        ErrorCode::UnreadableBody,
                        format!("reading the request body failed: {e}"),
                    );
                    return Some(self.stop(self.line + 1, &e));
                }
                Ok(None) => self.eof = true,
                Err(_) => {
                    let e = ApiError::new(
                        ErrorCode::BodyTimeout,
                        format!(
                            "no more of the body arrived within {} ms; the stream stops here",
                            self.body_timeout.as_millis()
                        ),
                    );
                    return Some(self.stop(self.line + 1, &e));
                }
            }
        }
    }

    fn stop(&mut self, line: usize, e: &ApiError) -> Bytes {
        self.done = true;
        Bytes::from(error_line(line, e))
    }

    /// Up to [`CHUNK`] complete, non-blank lines from the buffer, with their numbers.
    fn take_lines(&mut self) -> Vec<(usize, Vec<u8>)> {
        let mut lines = Vec::new();
        let mut start = 0;
        while lines.len() < CHUNK {
            let Some(pos) = self.buf[start..].iter().position(|b| *b == b'\n') else {
                break;
            };
            let raw = &self.buf[start..start + pos];
            let raw = raw.strip_suffix(b"\r").unwrap_or(raw);
            self.line += 1;
            if !raw.iter().all(u8::is_ascii_whitespace) {
                lines.push((self.line, raw.to_vec()));
            }
            start += pos + 1;
        }
        self.buf.drain(..start);
        lines
    }

    /// Admits and scores `lines` (waiting for room in the queue until a fresh deadline).
    async fn score(&mut self, lines: Vec<(usize, Vec<u8>)>) -> Bytes {
        let first = lines[0].0;
        let job = self.job.renewed();
        let admitted = match self.state.work.admit_waiting(lines.len(), &job).await {
            Ok(admitted) => admitted,
            Err(e) => return self.stop(first, &e),
        };
        let scoring = self.scoring.clone();
        let result = self
            .state
            .work
            .run(&job, move |job| {
                let _admitted = admitted;
                let mut out = Vec::new();
                for (line, raw) in lines {
                    if let Err(e) = job.check() {
                        out.extend(error_line(line, &e));
                        return Ok((out, true));
                    }
                    match body::parse::<LeadRecord>(&raw).and_then(|lead| scoring.answer(&lead)) {
                        Ok(answer) => {
                            out.extend(answer);
                            out.push(b'\n');
                        }
                        Err(e) => out.extend(error_line(line, &e)),
                    }
                }
                Ok((out, false))
            })
            .await;
        match result {
            Ok((out, stopped)) => {
                self.done |= stopped;
                Bytes::from(out)
            }
            Err(e) => self.stop(first, &e),
        }
    }
}
