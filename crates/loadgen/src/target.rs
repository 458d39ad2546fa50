//! The request every connection sends: one URL, one method, one body.

use bytes::Bytes;
use http_body_util::Full;
use hyper::{Method, Request, header};

use crate::LoadError;

/// A plain-HTTP endpoint and the request to send it (`POST` with the body, `GET` without).
#[derive(Debug, Clone)]
pub struct Target {
    /// `host:port`, for connecting and for the `Host` header.
    pub authority: String,
    /// Path and query.
    pub path: String,
    pub body: Option<Bytes>,
    pub content_type: String,
}

impl Target {
    /// Parses `http://host:port/path`; TLS is not supported (we measure servers on loopback).
    pub fn new(url: &str, body: Option<Bytes>, content_type: &str) -> Result<Self, LoadError> {
        let invalid = |why: &str| LoadError::Url {
            url: url.to_owned(),
            why: why.to_owned(),
        };
        let uri: hyper::Uri = url.parse().map_err(|e| invalid(&format!("{e}")))?;
        if uri.scheme_str() != Some("http") {
            return Err(invalid("only http:// URLs are supported"));
        }
        let authority = uri.authority().ok_or_else(|| invalid("no host"))?;
        let port = authority.port_u16().unwrap_or(80);
        let target = Self {
            authority: format!("{}:{port}", authority.host()),
            path: uri
                .path_and_query()
                .map_or_else(|| "/".to_owned(), |p| p.as_str().to_owned()),
            body,
            content_type: content_type.to_owned(),
        };
        target
            .request()
            .map_err(|e| invalid(&format!("cannot build a request from it: {e}")))?;
        Ok(target)
    }

    pub(crate) fn request(&self) -> Result<Request<Full<Bytes>>, hyper::http::Error> {
        let builder = Request::builder()
            .uri(self.path.as_str())
            .header(header::HOST, self.authority.as_str());
        match &self.body {
            Some(body) => builder
                .method(Method::POST)
                .header(header::CONTENT_TYPE, self.content_type.as_str())
                .body(Full::new(body.clone())),
            None => builder.method(Method::GET).body(Full::new(Bytes::new())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_http_urls_and_refuses_others() {
        let target = Target::new(
            "http://127.0.0.1:8080/v1/score?x=1",
            None,
            "application/json",
        )
        .expect("valid");
        assert_eq!(target.authority, "127.0.0.1:8080");
        assert_eq!(target.path, "/v1/score?x=1");
        let default_port = Target::new("http://localhost", None, "").expect("valid");
        assert_eq!(default_port.authority, "localhost:80");
        assert_eq!(default_port.path, "/");
        let bad_header = Target::new("http://localhost/", Some(Bytes::new()), "a\nb");
        assert!(matches!(bad_header, Err(LoadError::Url { .. })));
        for bad in ["https://localhost/", "localhost:80/x", "http://"] {
            assert!(
                matches!(Target::new(bad, None, ""), Err(LoadError::Url { .. })),
                "{bad} accepted"
            );
        }
    }
}
