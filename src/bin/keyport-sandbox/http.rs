//! Shared HTTP plumbing: the application state handed to handlers, JSON and HTML
//! response helpers, request-body parsing and the fault-injection gate.

use crate::faults::{Endpoint, FaultMode};
use crate::store::Store;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::de::DeserializeOwned;
use serde_json::{json, Value};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

/// How long a `hang` fault stalls before answering 504; longer than most client timeouts.
const HANG: Duration = Duration::from_secs(30);

#[derive(Clone)]
pub struct AppState {
    store: Arc<Mutex<Store>>,
    /// `http://{bound addr}`, used in links the sandbox hands out.
    pub base_url: Arc<str>,
    /// Set on SIGTERM/Ctrl-C so hanging requests end instead of delaying shutdown.
    pub shutting_down: Arc<AtomicBool>,
}

impl AppState {
    pub fn new(store: Store, base_url: String) -> Self {
        Self { store: Arc::new(Mutex::new(store)), base_url: base_url.into(), shutting_down: Arc::default() }
    }

    /// Locks the store. A panic while holding the lock cannot leave it half-updated in a
    /// way that matters for a test server, so a poisoned lock is simply taken over.
    /// Callers must drop the guard before any `.await`.
    pub fn store(&self) -> MutexGuard<'_, Store> {
        self.store.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Takes the next scheduled fault for `endpoint` and plays it, returning the failure
    /// response; `None` means the request should be processed normally.
    pub async fn injected_fault(&self, endpoint: Endpoint) -> Option<Response> {
        let fault = self.store().faults.take(endpoint)?;
        tracing::info!(?endpoint, mode = ?fault.mode, "injecting fault");
        Some(match fault.mode {
            FaultMode::ServerError => json_error(StatusCode::INTERNAL_SERVER_ERROR, "server_error", None),
            FaultMode::RateLimited => {
                let mut response = json_error(StatusCode::TOO_MANY_REQUESTS, "rate_limited", None);
                response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(fault.retry_after));
                response
            }
            FaultMode::InvalidGrant => json_error(StatusCode::BAD_REQUEST, "invalid_grant", Some("injected fault")),
            FaultMode::Hang => {
                self.hang().await;
                json_error(StatusCode::GATEWAY_TIMEOUT, "timeout", Some("injected hang"))
            }
        })
    }

    async fn hang(&self) {
        let deadline = tokio::time::Instant::now() + HANG;
        while !self.shutting_down.load(Ordering::Relaxed) {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            if left.is_zero() {
                break;
            }
            tokio::time::sleep(left.min(Duration::from_millis(100))).await;
        }
    }
}

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
        (header::CONTENT_SECURITY_POLICY, "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; frame-ancestors 'none'"),
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
