//! The request every connection sends: one URL, one method, one body.

use bytes::Bytes;
use http_body_util::Full;
use hyper::header::{self, HeaderValue};
use hyper::{Method, Request, Uri};

use crate::LoadError;

/// A plain-HTTP endpoint and the request to send it (`POST` with the body, `GET` without).
/// Everything a request needs is parsed here, once, so that building one per request does no
/// parsing and cannot fail.
#[derive(Debug, Clone)]
pub struct Target {
    /// `host:port`, for connecting.
    pub authority: String,
    /// Path and query.
    pub path: String,
    pub body: Option<Bytes>,
    path_uri: Uri,
    host: HeaderValue,
    content_type: HeaderValue,
}

impl Target {
    /// Parses `http://host:port/path`; TLS is not supported (we measure servers on loopback).
    pub fn new(url: &str, body: Option<Bytes>, content_type: &str) -> Result<Self, LoadError> {
        let invalid = |why: &str| LoadError::Url {
            url: url.to_owned(),
            why: why.to_owned(),
        };
        let uri: Uri = url.parse().map_err(|e| invalid(&format!("{e}")))?;
        if uri.scheme_str() != Some("http") {
            return Err(invalid("only http:// URLs are supported"));
        }
        let authority = uri.authority().ok_or_else(|| invalid("no host"))?;
        let port = authority.port_u16().unwrap_or(80);
        let authority = format!("{}:{port}", authority.host());
        let path = uri
            .path_and_query()
            .map_or_else(|| "/".to_owned(), |p| p.as_str().to_owned());
        let path_uri = path
            .parse()
            .map_err(|e| invalid(&format!("its path: {e}")))?;
        let host = HeaderValue::from_str(&authority)
            .map_err(|e| invalid(&format!("its host as a header: {e}")))?;
        let content_type = HeaderValue::from_str(content_type).map_err(|e| {
            invalid(&format!(
                "cannot build a request from it: content type {content_type:?}: {e}"
            ))
        })?;
        Ok(Self {
            authority,
            path,
            body,
            path_uri,
            host,
            content_type,
        })
    }

    pub(crate) fn request(&self) -> Request<Full<Bytes>> {
        let mut request = Request::new(Full::new(self.body.clone().unwrap_or_default()));
        *request.uri_mut() = self.path_uri.clone();
        request
            .headers_mut()
            .insert(header::HOST, self.host.clone());
        if self.body.is_some() {
            *request.method_mut() = Method::POST;
            request
                .headers_mut()
                .insert(header::CONTENT_TYPE, self.content_type.clone());
        }
        request
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
