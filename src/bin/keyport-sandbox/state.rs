//! The state every handler is given: the store behind a lock, the sandbox's own address,
//! the shutdown flag, and the gate that plays injected faults.

use crate::faults::{Endpoint, FaultMode};
use crate::reply::json_error;
use crate::store::Store;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

/// How long a `hang` fault stalls before answering 504; longer than most client timeouts.
const HANG: Duration = Duration::from_secs(30);
/// How long a `slow` fault delays a request that is then answered normally.
const SLOW: Duration = Duration::from_secs(1);

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
            FaultMode::Slow => {
                tokio::time::sleep(SLOW).await;
                return None;
            }
            FaultMode::ServerError => json_error(StatusCode::INTERNAL_SERVER_ERROR, "server_error", None),
            FaultMode::RateLimited => {
                let mut response = json_error(StatusCode::TOO_MANY_REQUESTS, "rate_limited", None);
                response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(fault.retry_after));
                response
            }
            FaultMode::InvalidGrant => json_error(StatusCode::BAD_REQUEST, "invalid_grant", Some("injected fault")),
            FaultMode::Huge => {
                let padding = "x".repeat(1024 * 1024);
                (StatusCode::OK, axum::Json(serde_json::json!({ "id": "huge", "access_token": "huge", "token_type": "bearer", "padding": padding }))).into_response()
            }
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

