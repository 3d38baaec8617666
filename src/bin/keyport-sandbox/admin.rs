//! Unauthenticated test controls: fault scheduling, revoking every grant, changing the
//! access-token lifetime and reading counters. The sandbox is a loopback test tool, so
//! these are deliberately open.

use crate::faults::{Endpoint, Fault, FaultMode, FaultPlan, DEFAULT_RETRY_AFTER};
use crate::reply::{parse_json, ApiError};
use crate::state::AppState;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};

#[derive(Deserialize)]
struct FaultRequest {
    endpoint: String,
    mode: String,
    count: Option<u32>,
    retry_after: Option<u64>,
}

fn fault_plan(request: FaultRequest) -> Result<FaultPlan, String> {
    let endpoint: Endpoint = request.endpoint.parse()?;
    let mode: FaultMode = request.mode.parse()?;
    let count = request.count.unwrap_or(1);
    if count == 0 {
        return Err("count must be at least 1".to_owned());
    }
    let retry_after = request.retry_after.unwrap_or(DEFAULT_RETRY_AFTER);
    Ok(FaultPlan { endpoint, fault: Fault { mode, retry_after }, count })
}

/// `POST /faults`.
pub async fn add_fault(State(app): State<AppState>, body: Bytes) -> Response {
    let plan = match parse_json(&body).and_then(fault_plan) {
        Ok(plan) => plan,
        Err(message) => return ApiError::invalid_request(&message).into_response(),
    };
    tracing::info!(endpoint = ?plan.endpoint, mode = ?plan.fault.mode, count = plan.count, "fault scheduled");
    app.store().faults.push(plan);
    StatusCode::NO_CONTENT.into_response()
}

/// `DELETE /faults`.
pub async fn clear_faults(State(app): State<AppState>) -> StatusCode {
    app.store().faults.clear();
    tracing::info!("faults cleared");
    StatusCode::NO_CONTENT
}

#[derive(Deserialize)]
pub struct RevokeQuery {
    /// Only this account's grants (its name on the consent page): one journey's "the user
    /// removed the app" then leaves the grants of journeys running beside it alone.
    account: Option<String>,
}

/// `POST /admin/revoke-all[?account=NAME]`; without an account, the Vault personality's
/// AppRole tokens too.
pub async fn revoke_all(State(app): State<AppState>, axum::extract::Query(query): axum::extract::Query<RevokeQuery>) -> StatusCode {
    let mut store = app.store();
    store.revoke_all(query.account.as_deref());
    if query.account.is_none() {
        store.vault.revoke_tokens();
    }
    drop(store);
    tracing::info!(account = ?query.account, "grants revoked");
    StatusCode::NO_CONTENT
}

#[derive(Deserialize)]
struct ConfigRequest {
    token_ttl: u64,
}

/// `POST /admin/config`: affects access tokens issued from now on.
pub async fn config(State(app): State<AppState>, body: Bytes) -> Response {
    let config: ConfigRequest = match parse_json(&body) {
        Ok(config) => config,
        Err(message) => return ApiError::invalid_request(&message).into_response(),
    };
    app.store().token_ttl = config.token_ttl;
    tracing::info!(token_ttl = config.token_ttl, "configuration changed");
    StatusCode::NO_CONTENT.into_response()
}

/// `GET /admin/stats`.
pub async fn stats(State(app): State<AppState>) -> Json<Value> {
    let store = app.store();
    let counters = store.counters;
    Json(json!({
        "posts": store.posts.count(),
        "token_requests": counters.token_requests,
        "code_exchanges": counters.code_exchanges,
        "refreshes": counters.refreshes,
        "revocations": counters.revocations,
        "apps_registered": counters.apps_registered,
        "long_lived_exchanges": counters.long_lived_exchanges,
        "renewals": counters.renewals,
        "media_uploads": store.media.uploads,
        "live_grants": store.live_grants(),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(endpoint: &str, mode: &str, count: Option<u32>, retry_after: Option<u64>) -> FaultRequest {
        FaultRequest { endpoint: endpoint.into(), mode: mode.into(), count, retry_after }
    }

    #[test]
    fn fault_requests_get_defaults_and_validation() {
        let plan = fault_plan(request("posts", "429", None, None)).unwrap();
        assert_eq!((plan.endpoint, plan.fault.mode, plan.count, plan.fault.retry_after), (Endpoint::Posts, FaultMode::RateLimited, 1, 1));
        let plan = fault_plan(request("token", "500", Some(3), Some(7))).unwrap();
        assert_eq!((plan.count, plan.fault.retry_after), (3, 7));
        assert!(fault_plan(request("nope", "500", None, None)).is_err());
        assert!(fault_plan(request("token", "503", None, None)).is_err());
        assert!(fault_plan(request("token", "500", Some(0), None)).is_err());
    }
}
