//! The Mastodon personality: the sandbox also answers at Mastodon's own paths with
//! Mastodon's shapes, so a Mastodon platform whose instance is the sandbox connects and
//! publishes exactly as against a real instance.
//!
//! - `POST /api/v1/apps` registers an app (https://docs.joinmastodon.org/methods/apps/#create):
//!   form or JSON `client_name`, `redirect_uris` (space or newline separated), `scopes`
//!   (default `read`), `website`; answers the Application entity with `client_id` and
//!   `client_secret`. Authorizations may then ask only for the registered scopes.
//! - `GET /oauth/authorize`, `POST /oauth/token`, `POST /oauth/revoke`
//!   (https://docs.joinmastodon.org/methods/oauth/): the token answer is Mastodon's Token
//!   entity (`access_token`, `token_type`, `scope`, `created_at`; no refresh token, no expiry).
//! - `GET /api/v1/accounts/verify_credentials`: the Account entity
//!   (https://docs.joinmastodon.org/entities/Account/).
//! - `POST /api/v1/statuses` with `Idempotency-Key` (https://docs.joinmastodon.org/methods/statuses/#create)
//!   and `media_ids` (media.rs serves `POST /api/v2/media` and `GET /api/v1/media/{id}`):
//!   the Status entity; errors as Mastodon's `{"error": "…"}`.

use crate::account::Account;
use crate::faults::Endpoint;
use crate::oauth::{exchange, parse_form};
use crate::posts::{validate_text, PostOutcome};
use crate::reply::{bearer_token, no_store_json};
use crate::state::AppState;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::time::Instant;

/// Mastodon's error shape: `{"error": "…"}` with the status.
pub(crate) fn error(status: StatusCode, message: &str) -> Response {
    (status, Json(json!({ "error": message }))).into_response()
}

/// The fields of a form or JSON body (Mastodon accepts both), as text.
fn fields(headers: &HeaderMap, body: &[u8]) -> Result<HashMap<String, String>, Response> {
    let json = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).is_some_and(|v| v.starts_with("application/json"));
    if json {
        let Ok(Value::Object(map)) = serde_json::from_slice::<Value>(body) else {
            return Err(error(StatusCode::BAD_REQUEST, "the body is not a JSON object"));
        };
        let text = |v: Value| match v {
            Value::String(s) => s,
            Value::Array(items) => items.into_iter().filter_map(|i| i.as_str().map(str::to_owned)).collect::<Vec<_>>().join(" "),
            other => other.to_string(),
        };
        return Ok(map.into_iter().map(|(k, v)| (k, text(v))).collect());
    }
    let params = parse_form(body).map_err(IntoResponse::into_response)?;
    let names = ["client_name", "redirect_uris", "scopes", "website", "status", "visibility"];
    Ok(names.iter().filter_map(|n| params.get(n).map(|v| ((*n).to_owned(), v.to_owned()))).collect())
}

/// `POST /api/v1/apps`.
pub async fn register_app(State(app): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    let fields = match fields(&headers, &body) {
        Ok(fields) => fields,
        Err(response) => return response,
    };
    let get = |name: &str| fields.get(name).map(|v| v.trim()).filter(|v| !v.is_empty());
    let Some(name) = get("client_name") else {
        return error(StatusCode::UNPROCESSABLE_ENTITY, "Validation failed: Application name can't be blank");
    };
    let redirect_uris: Vec<String> = get("redirect_uris").unwrap_or_default().split_whitespace().map(str::to_owned).collect();
    if redirect_uris.is_empty() {
        return error(StatusCode::UNPROCESSABLE_ENTITY, "Validation failed: Redirect URI can't be blank");
    }
    if let Some(bad) = redirect_uris.iter().find(|uri| crate::urlenc::validate_redirect_uri(uri).is_err()) {
        return error(StatusCode::UNPROCESSABLE_ENTITY, &format!("Validation failed: Redirect URI {bad} must be an absolute URI."));
    }
    let scopes: Vec<String> = get("scopes").unwrap_or("read").split_whitespace().map(str::to_owned).collect();
    let client = app.store().register_app(name.to_owned(), redirect_uris.clone(), Some(scopes.clone()));
    app.store().counters.apps_registered += 1;
    tracing::info!(client_id = %client.id, client_name = %client.name, "registered a Mastodon app");
    Json(json!({
        "id": client.id.trim_start_matches(|c: char| !c.is_ascii_digit()),
        "name": client.name,
        "website": get("website"),
        "scopes": scopes,
        "redirect_uri": redirect_uris.join("\n"),
        "redirect_uris": redirect_uris,
        "client_id": client.id,
        "client_secret": client.secret,
        "client_secret_expires_at": 0,
    }))
    .into_response()
}

/// `POST /oauth/token`: Mastodon's Token entity.
pub async fn token(State(app): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    if let Some(response) = app.injected_fault(Endpoint::Token).await {
        return response;
    }
    app.store().counters.token_requests += 1;
    match exchange(&app, &headers, &body) {
        Ok(tokens) => no_store_json(
            StatusCode::OK,
            json!({ "access_token": tokens.access_token, "token_type": "Bearer", "scope": tokens.scope, "created_at": chrono::Utc::now().timestamp() }),
        ),
        Err(e) => e.into_response(),
    }
}

fn account_entity(app: &AppState, account: &Account) -> Value {
    let username = account.username();
    json!({
        "id": account.id,
        "username": username,
        "acct": username,
        "display_name": account.name,
        "url": format!("{}/@{username}", app.base_url),
        "avatar": format!("{}/avatars/{}.png", app.base_url, account.id),
        "note": "",
        "locked": false,
        "bot": false,
    })
}

/// The account behind the request's Bearer token, or Mastodon's 401.
pub(crate) fn authorized(app: &AppState, headers: &HeaderMap) -> Result<Account, Response> {
    let token = bearer_token(headers).ok_or_else(|| error(StatusCode::UNAUTHORIZED, "The access token is invalid"))?;
    app.store().account_for_access_token(token, Instant::now()).cloned().ok_or_else(|| error(StatusCode::UNAUTHORIZED, "The access token is invalid"))
}

/// `GET /api/v1/accounts/verify_credentials`.
pub async fn verify_credentials(State(app): State<AppState>, headers: HeaderMap) -> Response {
    if let Some(response) = app.injected_fault(Endpoint::Userinfo).await {
        return response;
    }
    match authorized(&app, &headers) {
        Ok(account) => Json(account_entity(&app, &account)).into_response(),
        Err(response) => response,
    }
}

/// `POST /api/v1/statuses`.
pub async fn create_status(State(app): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    if let Some(response) = app.injected_fault(Endpoint::Posts).await {
        return response;
    }
    let account = match authorized(&app, &headers) {
        Ok(account) => account,
        Err(response) => return response,
    };
    let fields = match fields(&headers, &body) {
        Ok(fields) => fields,
        Err(response) => return response,
    };
    let text = fields.get("status").cloned().unwrap_or_default();
    if text.trim().is_empty() {
        return error(StatusCode::UNPROCESSABLE_ENTITY, "Validation failed: Text can't be blank");
    }
    if let Err(message) = validate_text(&text) {
        return error(StatusCode::UNPROCESSABLE_ENTITY, &format!("Validation failed: {message}"));
    }
    let key = headers.get("idempotency-key").and_then(|v| v.to_str().ok()).map(str::trim).filter(|k| !k.is_empty());
    // `media_ids` (JSON): files uploaded with POST /api/v2/media (media.rs).
    let ids = match crate::media::ids_in(&serde_json::from_slice(&body).unwrap_or_default()) {
        Ok(ids) => ids,
        Err(message) => return error(StatusCode::UNPROCESSABLE_ENTITY, &message),
    };
    let mut store = app.store();
    let media = match store.media.attach(&account, &ids, crate::media::PER_POST) {
        Ok(media) => media,
        Err(message) => return error(StatusCode::UNPROCESSABLE_ENTITY, &message),
    };
    let id = match store.posts.create(&account, text.clone(), None, key, media) {
        PostOutcome::Created(id) | PostOutcome::Replayed(id) => id,
    };
    drop(store);
    let url = format!("{}/posts/{id}", app.base_url);
    Json(json!({
        "id": id,
        "uri": url,
        "url": url,
        "content": format!("<p>{}</p>", crate::html::escape(&text)),
        "visibility": fields.get("visibility").map_or("public", String::as_str),
        "created_at": chrono::Utc::now().to_rfc3339(),
        "account": account_entity(&app, &account),
    }))
    .into_response()
}
