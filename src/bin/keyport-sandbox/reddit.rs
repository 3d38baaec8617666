//! The Reddit personality: the sandbox also answers at Reddit's paths under `/reddit/…`,
//! with Reddit's shapes and rules, so a Reddit platform whose endpoints point here connects,
//! refreshes and publishes as against reddit.com.
//!
//! - `GET|POST /reddit/api/v1/authorize` (https://github.com/reddit-archive/reddit/wiki/OAuth2,
//!   "Authorization"): `duration` required, scopes separated by spaces or commas, no PKCE.
//! - `POST /reddit/api/v1/access_token` (same page, "Retrieving the access token" and
//!   "Refreshing the token"): the client in HTTP Basic; the answer has `access_token`,
//!   `token_type: "bearer"`, `expires_in`, `scope` and `refresh_token`, and the refresh
//!   token stays valid (not rotated). Reddit reports a bad code with **HTTP 200**
//!   `{"error": "invalid_grant"}` and a bad refresh token with `400 {"error": 400}` (as
//!   recorded in praw-dev/prawcore's cassettes `Authorizer_authorize__with_invalid_code`
//!   and `Authorizer_refresh__with_invalid_token`).
//! - `POST /reddit/api/v1/revoke_token` (same page, "Manually revoking a token"): 204,
//!   whether or not the token was valid.
//! - `GET /reddit/api/v1/me` (https://www.reddit.com/dev/api#GET_api_v1_me, scope
//!   `identity`): `id` and `name`.
//! - `POST /reddit/api/submit` (https://www.reddit.com/dev/api#POST_api_submit, scope
//!   `submit`): a form with `api_type=json`, `kind` (`link` or `self`), `sr`, `title` (at
//!   most 300 characters), `url` or `text`. Refusals come with **HTTP 200** as
//!   `{"json": {"errors": [[CODE, message, field]]}}`; a success is
//!   `{"json": {"errors": [], "data": {"url", "id", "name", "drafts_count"}}}`.
//! - Every request must carry a descriptive `User-Agent`
//!   (https://github.com/reddit-archive/reddit/wiki/API, "Rules": "<platform>:<app
//!   ID>:<version string> (by /u/<reddit username>)"; default agents of HTTP libraries
//!   are throttled): the sandbox answers a missing or library-default one with 429.
//!
//! Subreddits that exist here: `test`, `sandbox`, `bakery`, and each user's profile
//! `u_{username}`; `nolinks` exists but takes text posts only (`NO_LINKS`).

use crate::account::Account;
use crate::authorize::{consent_page, decision, Dialect};
use crate::faults::Endpoint;
use crate::oauth::{exchange_with, parse_form, revoke};
use crate::posts::PostOutcome;
use crate::reply::{bearer_token, no_store_json};
use crate::state::AppState;
use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};
use std::time::Instant;

/// Reddit's longest title (https://www.reddit.com/dev/api#POST_api_submit).
const TITLE_MAX: usize = 300;
const SUBREDDITS: [&str; 4] = ["test", "sandbox", "bakery", "nolinks"];

/// A descriptive User-Agent, not an HTTP library's default.
fn user_agent_ok(headers: &HeaderMap) -> bool {
    let agent = headers.get(header::USER_AGENT).and_then(|v| v.to_str().ok()).unwrap_or_default().trim();
    let defaults = ["curl/", "python-requests/", "reqwest/", "Go-http-client/", "okhttp/", "axios/", "node-fetch"];
    agent.len() >= 8 && !defaults.iter().any(|d| agent.starts_with(d))
}

fn throttled() -> Response {
    (StatusCode::TOO_MANY_REQUESTS, Json(json!({ "message": "Too Many Requests", "error": 429 }))).into_response()
}

pub async fn consent(State(app): State<AppState>, RawQuery(query): RawQuery) -> Response {
    consent_page(&app, query.as_deref(), Dialect::Reddit, "/reddit/api/v1/authorize").await
}

pub async fn decide(State(app): State<AppState>, body: Bytes) -> Response {
    decision(&app, &body, Dialect::Reddit).await
}

/// `POST /reddit/api/v1/access_token`.
pub async fn token(State(app): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    if !user_agent_ok(&headers) {
        return throttled();
    }
    if let Some(response) = app.injected_fault(Endpoint::Token).await {
        return response;
    }
    app.store().counters.token_requests += 1;
    let refreshing = parse_form(&body).ok().is_some_and(|p| p.get("grant_type") == Some("refresh_token"));
    match exchange_with(&app, &headers, &body, false) {
        Ok(t) => no_store_json(StatusCode::OK, json!({ "access_token": t.access_token, "token_type": "bearer", "expires_in": t.expires_in, "scope": t.scope, "refresh_token": t.refresh_token })),
        // Reddit's own spellings of a refused grant (see the module's note).
        Err(e) if e.error() == "invalid_grant" && refreshing => no_store_json(StatusCode::BAD_REQUEST, json!({ "error": 400 })),
        Err(e) if e.error() == "invalid_grant" => no_store_json(StatusCode::OK, json!({ "error": "invalid_grant" })),
        Err(e) => e.into_response(),
    }
}

/// `POST /reddit/api/v1/revoke_token`.
pub async fn revoke_token(state: State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    if !user_agent_ok(&headers) {
        return throttled();
    }
    let answer = revoke(state, headers, body).await;
    if answer.status() == StatusCode::OK { StatusCode::NO_CONTENT.into_response() } else { answer }
}

fn redditor(app: &AppState, headers: &HeaderMap) -> Result<Account, Response> {
    let refused = || (StatusCode::UNAUTHORIZED, Json(json!({ "message": "Unauthorized", "error": 401 }))).into_response();
    let token = bearer_token(headers).ok_or_else(refused)?;
    app.store().account_for_access_token(token, Instant::now()).cloned().ok_or_else(refused)
}

/// `GET /reddit/api/v1/me`.
pub async fn me(State(app): State<AppState>, headers: HeaderMap) -> Response {
    if !user_agent_ok(&headers) {
        return throttled();
    }
    if let Some(response) = app.injected_fault(Endpoint::Userinfo).await {
        return response;
    }
    match redditor(&app, &headers) {
        Ok(a) => Json(json!({ "id": a.id, "name": a.username(), "link_karma": 1, "comment_karma": 0, "is_employee": false })).into_response(),
        Err(response) => response,
    }
}

/// An answer with errors, with HTTP 200 as Reddit sends it.
fn refused(code: &str, message: &str, field: &str) -> Response {
    Json(json!({ "json": { "errors": [[code, message, field]] } })).into_response()
}

/// `POST /reddit/api/submit`.
pub async fn submit(State(app): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    if !user_agent_ok(&headers) {
        return throttled();
    }
    if let Some(response) = app.injected_fault(Endpoint::Posts).await {
        return response;
    }
    let author = match redditor(&app, &headers) {
        Ok(a) => a,
        Err(response) => return response,
    };
    let Ok(form) = parse_form(&body) else {
        return refused("BAD_REQUEST", "the form could not be read", "");
    };
    let field = |name: &str| form.get(name).unwrap_or_default().to_owned();
    let (sr, kind, title) = (field("sr"), field("kind"), field("title"));
    let profile = format!("u_{}", author.username());
    if sr.is_empty() {
        return refused("SUBREDDIT_REQUIRED", "you must specify a community", "sr");
    }
    if sr != profile && !SUBREDDITS.contains(&sr.to_lowercase().as_str()) {
        return refused("SUBREDDIT_NOEXIST", "that community doesn't exist", "sr");
    }
    if title.trim().is_empty() {
        return refused("NO_TEXT", "we need something here", "title");
    }
    if title.chars().count() > TITLE_MAX {
        return refused("TOO_LONG", &format!("this is too long (max: {TITLE_MAX})"), "title");
    }
    let (text, link) = match kind.as_str() {
        "self" => (format!("{title}\n\n{}", field("text")).trim_end().to_owned(), None),
        "link" if sr.eq_ignore_ascii_case("nolinks") => return refused("NO_LINKS", "that community only allows text posts", "sr"),
        "link" if field("url").is_empty() => return refused("NO_URL", "a url is required", "url"),
        "link" => (title.clone(), Some(field("url"))),
        _ => return refused("INVALID_OPTION", "that option is not valid", "kind"),
    };
    if form.get("api_type") != Some("json") {
        // Without api_type=json Reddit answers in its old jQuery shape; Keyport always asks for JSON.
        return (StatusCode::OK, Json(json!({ "jquery": [] }))).into_response();
    }
    let id = match app.store().posts.create(&author, text, link, None, Vec::new()) {
        PostOutcome::Created(id) | PostOutcome::Replayed(id) => id,
    };
    // Reddit's ids are short base36; the tail of the sandbox's id is its random part.
    let short = id.get(25..).unwrap_or(&id);
    let data: Value = json!({ "url": format!("{}/posts/{id}", app.base_url), "drafts_count": 0, "id": short, "name": format!("t3_{short}") });
    Json(json!({ "json": { "errors": [], "data": data } })).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    #[test]
    fn a_library_default_user_agent_is_throttled() {
        let mut headers = HeaderMap::new();
        assert!(!user_agent_ok(&headers), "none");
        for (agent, ok) in [("reqwest/0.12", false), ("curl/8.0", false), ("python-requests/2.31", false), ("web:keyport:0.1.0 (self-hosted)", true)] {
            headers.insert(header::USER_AGENT, HeaderValue::from_static(agent));
            assert_eq!(user_agent_ok(&headers), ok, "{agent}");
        }
    }
}
