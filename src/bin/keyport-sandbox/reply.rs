//! What handlers answer and read: OAuth-shaped JSON errors, no-store JSON, HTML pages with
//! their headers, lenient JSON bodies and bearer tokens.

use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::de::DeserializeOwned;
use serde_json::{json, Value};

/// An error answered as `{"error": …, "error_description": …}`, the shape OAuth clients
/// expect (RFC 6749 §5.2), optionally with a `WWW-Authenticate` challenge.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    error: &'static str,
    description: Option<String>,
    challenge: Option<&'static str>,
}

impl ApiError {
    pub fn new(status: StatusCode, error: &'static str, description: Option<&str>) -> Self {
        Self { status, error, description: description.map(str::to_owned), challenge: None }
    }

    pub fn invalid_request(description: &str) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "invalid_request", Some(description))
    }

    pub fn invalid_client() -> Self {
        Self { challenge: Some("Basic realm=\"sandbox\""), ..Self::new(StatusCode::UNAUTHORIZED, "invalid_client", None) }
    }

    /// The OAuth error code (`invalid_grant`, …).
    pub fn error(&self) -> &'static str {
        self.error
    }

    /// RFC 6750 §3.1 answer for a missing, unknown, expired or revoked access token.
    pub fn invalid_token() -> Self {
        Self { challenge: Some("Bearer error=\"invalid_token\""), ..Self::new(StatusCode::UNAUTHORIZED, "invalid_token", None) }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = match self.description {
            Some(description) => json!({ "error": self.error, "error_description": description }),
            None => json!({ "error": self.error }),
        };
        let mut response = (self.status, [(header::CACHE_CONTROL, "no-store")], axum::Json(body)).into_response();
        if let Some(challenge) = self.challenge {
            response.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static(challenge));
        }
        response
    }
}

pub fn json_error(status: StatusCode, error: &'static str, description: Option<&str>) -> Response {
    ApiError::new(status, error, description).into_response()
}

/// Token-endpoint responses must not be cached (RFC 6749 §5.1).
pub fn no_store_json(status: StatusCode, body: Value) -> Response {
    (status, [(header::CACHE_CONTROL, "no-store"), (header::PRAGMA, "no-cache")], axum::Json(body)).into_response()
}

/// An HTML page. The CSP backs up the promise that pages load nothing external; it leaves
/// `form-action` alone because browsers apply that to the redirect after the consent form.
pub fn html(status: StatusCode, body: String) -> Response {
    let headers = [
        (header::CONTENT_TYPE, "text/html; charset=utf-8"),
        (header::CONTENT_SECURITY_POLICY, "default-src 'none'; style-src 'unsafe-inline'; img-src 'self'; media-src 'self'; base-uri 'none'; frame-ancestors 'none'"),
        (header::REFERRER_POLICY, "no-referrer"),
        (header::CACHE_CONTROL, "no-store"),
    ];
    (status, headers, body).into_response()
}

/// Parses a JSON body regardless of its `Content-Type`, so test tools that forget the
/// header still work; the error text is meant for `error_description`.
pub fn parse_json<T: DeserializeOwned>(body: &[u8]) -> Result<T, String> {
    serde_json::from_slice(body).map_err(|err| format!("malformed JSON body: {err}"))
}

/// The token from `Authorization: Bearer …` (scheme matched case-insensitively).
pub fn bearer_token(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.trim().split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bearer_tokens_are_extracted() {
        let mut headers = HeaderMap::new();
        assert_eq!(bearer_token(&headers), None);
        headers.insert(header::AUTHORIZATION, HeaderValue::from_static("Bearer sbx_at_abc"));
        assert_eq!(bearer_token(&headers), Some("sbx_at_abc"));
        headers.insert(header::AUTHORIZATION, HeaderValue::from_static("bearer  sbx_at_abc "));
        assert_eq!(bearer_token(&headers), Some("sbx_at_abc"));
        headers.insert(header::AUTHORIZATION, HeaderValue::from_static("Basic abc"));
        assert_eq!(bearer_token(&headers), None);
        headers.insert(header::AUTHORIZATION, HeaderValue::from_static("Bearer "));
        assert_eq!(bearer_token(&headers), None);
    }
}
