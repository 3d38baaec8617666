//! The X personality: the sandbox also answers at X's paths under `/x/…`, with X's shapes,
//! so an X platform whose endpoints point here connects, refreshes and publishes as against
//! x.com.
//!
//! - `GET|POST /x/i/oauth2/authorize`, `POST /x/2/oauth2/token`, `POST /x/2/oauth2/revoke`
//!   (https://docs.x.com/fundamentals/authentication/oauth-2-0/authorization-code and
//!   https://docs.x.com/fundamentals/authentication/oauth-2-0/user-access-token): PKCE S256
//!   required, a confidential client in HTTP Basic, `offline.access` for a refresh token
//!   that rotates; the token answer is `{"token_type": "bearer", "expires_in", "access_token",
//!   "scope", "refresh_token"}`; revocation answers `{"revoked": true}`.
//! - `GET /x/2/users/me` (https://docs.x.com/x-api/users/get-my-user):
//!   `{"data": {"id", "name", "username"}}` — the body tweepy's cassettes recorded
//!   (tests/fixtures/recorded/x/users_me.json).
//! - `POST /x/2/tweets` (https://docs.x.com/x-api/posts/create-post): `{"text"}` → 201
//!   `{"data": {"id", "text", "edit_history_tweet_ids"}}`; the same text twice from one
//!   account is `403 {"detail": "You are not allowed to create a Tweet with duplicate
//!   content.", "type": "about:blank", "title": "Forbidden", "status": 403}`; a refused
//!   token is `401 {"title": "Unauthorized", "type": "about:blank", "status": 401, "detail": "Unauthorized"}`.
//!   With `"media": {"media_ids": […]}` (1 to 4) it attaches files uploaded through
//!   x_media.rs, each the author's own and processed; its page shows them.

use crate::account::Account;
use crate::authorize::{consent_page, decision, Dialect};
use crate::faults::Endpoint;
use crate::oauth::exchange;
use crate::posts::PostOutcome;
use crate::reply::{bearer_token, no_store_json};
use crate::state::AppState;
use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};
use std::time::Instant;

pub async fn consent(State(app): State<AppState>, RawQuery(query): RawQuery) -> Response {
    consent_page(&app, query.as_deref(), Dialect::OAuth, "/x/i/oauth2/authorize").await
}

pub async fn decide(State(app): State<AppState>, body: Bytes) -> Response {
    decision(&app, &body, Dialect::OAuth).await
}

/// `POST /x/2/oauth2/token`.
pub async fn token(State(app): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    if let Some(response) = app.injected_fault(Endpoint::Token).await {
        return response;
    }
    app.store().counters.token_requests += 1;
    match exchange(&app, &headers, &body) {
        Ok(t) => no_store_json(StatusCode::OK, json!({ "token_type": "bearer", "expires_in": t.expires_in, "access_token": t.access_token, "scope": t.scope, "refresh_token": t.refresh_token })),
        Err(e) => e.into_response(),
    }
}

/// `POST /x/2/oauth2/revoke`.
pub async fn revoke(state: State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    let answer = crate::oauth::revoke(state, headers, body).await;
    match answer.status() {
        StatusCode::OK => Json(json!({ "revoked": true })).into_response(),
        _ => answer,
    }
}

fn unauthorized() -> Response {
    problem(StatusCode::UNAUTHORIZED, "Unauthorized", "Unauthorized")
}

/// X's problem shape (RFC 7807 style, as X answers).
pub(crate) fn problem(status: StatusCode, title: &str, detail: &str) -> Response {
    (status, Json(json!({ "title": title, "type": "about:blank", "status": status.as_u16(), "detail": detail }))).into_response()
}

pub(crate) fn user(app: &AppState, headers: &HeaderMap) -> Result<Account, Response> {
    let token = bearer_token(headers).ok_or_else(unauthorized)?;
    app.store().account_for_access_token(token, Instant::now()).cloned().ok_or_else(unauthorized)
}

/// `GET /x/2/users/me`.
pub async fn me(State(app): State<AppState>, headers: HeaderMap) -> Response {
    if let Some(response) = app.injected_fault(Endpoint::Userinfo).await {
        return response;
    }
    match user(&app, &headers) {
        Ok(a) => Json(json!({ "data": { "id": numeric(&a.id), "name": a.name, "username": a.username().replace('-', "_") } })).into_response(),
        Err(response) => response,
    }
}

/// X's ids are decimal strings.
pub(crate) fn numeric(id: &str) -> String {
    id.bytes().fold(0u64, |n, b| n.wrapping_mul(31).wrapping_add(u64::from(b))).to_string()
}

/// `POST /x/2/tweets`.
pub async fn create_tweet(State(app): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    if let Some(response) = app.injected_fault(Endpoint::Posts).await {
        return response;
    }
    let author = match user(&app, &headers) {
        Ok(a) => a,
        Err(response) => return response,
    };
    let request = serde_json::from_slice::<Value>(&body).unwrap_or_default();
    let text = request.get("text").and_then(Value::as_str).map(str::to_owned).unwrap_or_default();
    if text.trim().is_empty() {
        let problem = json!({ "errors": [{ "message": "$.text: is missing but it is required" }], "title": "Invalid Request", "detail": "One or more parameters to your request was invalid.", "type": "https://api.twitter.com/2/problems/invalid-request" });
        return (StatusCode::BAD_REQUEST, Json(problem)).into_response();
    }
    let mut store = app.store();
    if store.posts.latest_text_of(&author).as_deref() == Some(text.as_str()) {
        return problem(StatusCode::FORBIDDEN, "Forbidden", "You are not allowed to create a Tweet with duplicate content.");
    }
    let media = match attachments(&store, &author, &request) {
        Ok(media) => media,
        Err(message) => return problem(StatusCode::BAD_REQUEST, "Invalid Request", &message),
    };
    let id = match store.posts.create(&author, text.clone(), None, None, media) {
        PostOutcome::Created(id) | PostOutcome::Replayed(id) => id,
    };
    (StatusCode::CREATED, Json(json!({ "data": { "id": id, "text": text, "edit_history_tweet_ids": [id] } }))).into_response()
}

/// The files of `media.media_ids` (1 to 4, each the author's own, processed: X's rules,
/// https://docs.x.com/x-api/posts/create-post).
fn attachments(store: &crate::store::Store, author: &Account, request: &Value) -> Result<Vec<crate::media::Attachment>, String> {
    let Some(ids) = request.pointer("/media/media_ids") else {
        return Ok(Vec::new());
    };
    let ids: Vec<String> = ids.as_array().filter(|a| (1..=4).contains(&a.len())).and_then(|a| a.iter().map(|v| v.as_str().map(str::to_owned)).collect()).ok_or("$.media.media_ids: must be 1 to 4 media ids")?;
    store.media.attach(author, &ids, 4).map_err(|_| "Your media IDs are invalid.".to_owned())
}
