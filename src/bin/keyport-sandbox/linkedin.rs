//! The LinkedIn personality: the sandbox also answers at LinkedIn's paths under
//! `/linkedin/…`, with LinkedIn's shapes and its version rule, so a LinkedIn platform whose
//! endpoints point here connects and publishes as against linkedin.com.
//!
//! - `GET|POST /linkedin/oauth/v2/authorization`, `POST /linkedin/oauth/v2/accessToken`
//!   (https://learn.microsoft.com/en-us/linkedin/shared/authentication/authorization-code-flow):
//!   no PKCE for web apps; the token answer has `access_token`, `expires_in` (60 days),
//!   `scope`, `token_type` and no refresh token.
//! - `GET /linkedin/v2/userinfo` (https://learn.microsoft.com/en-us/linkedin/consumer/integrations/self-serve/sign-in-with-linkedin-v2):
//!   `sub`, `name`, `given_name`, `family_name` (no `picture`: a member without a photo).
//! - `POST /linkedin/rest/posts` (https://learn.microsoft.com/en-us/linkedin/marketing/community-management/shares/posts-api)
//!   with `LinkedIn-Version: YYYYMM` and `X-Restli-Protocol-Version: 2.0.0`: 201 with the
//!   post's URN in `x-restli-id`. A version is active for a year
//!   (https://learn.microsoft.com/en-us/linkedin/marketing/versioning): an older or future
//!   one gets `426 {"status": 426, "code": "NONEXISTENT_VERSION", "message": "Requested
//!   version N is not active"}` (the body as users report it, github.com/n8n-io/n8n/issues/14678).
//!   A missing header gets 400 `VERSION_MISSING` (unverified: LinkedIn's pages do not show it).
//!   `content.media` (one image) or `content.multiImage.images` (2 to 20) attach images
//!   uploaded through linkedin_media.rs, each with its `altText`.

use crate::account::Account;
use crate::authorize::{consent_page, decision, Dialect};
use crate::faults::Endpoint;
use crate::oauth::exchange;
use crate::posts::{validate_text, PostOutcome};
use crate::reply::{bearer_token, no_store_json};
use crate::state::AppState;
use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use chrono::Datelike;
use serde_json::{json, Value};
use std::time::Instant;

pub(crate) fn error(status: StatusCode, code: &str, message: &str) -> Response {
    (status, Json(json!({ "status": status.as_u16(), "code": code, "message": message }))).into_response()
}

pub async fn consent(State(app): State<AppState>, RawQuery(query): RawQuery) -> Response {
    consent_page(&app, query.as_deref(), Dialect::LinkedIn, "/linkedin/oauth/v2/authorization").await
}

pub async fn decide(State(app): State<AppState>, body: Bytes) -> Response {
    decision(&app, &body, Dialect::LinkedIn).await
}

/// `POST /linkedin/oauth/v2/accessToken`.
pub async fn token(State(app): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    if let Some(response) = app.injected_fault(Endpoint::Token).await {
        return response;
    }
    app.store().counters.token_requests += 1;
    match exchange(&app, &headers, &body) {
        Ok(tokens) => no_store_json(StatusCode::OK, json!({ "access_token": tokens.access_token, "expires_in": tokens.expires_in, "scope": tokens.scope, "token_type": "Bearer" })),
        Err(e) => e.into_response(),
    }
}

pub(crate) fn member(app: &AppState, headers: &HeaderMap) -> Result<Account, Response> {
    let refused = || error(StatusCode::UNAUTHORIZED, "INVALID_ACCESS_TOKEN", "Invalid access token");
    let token = bearer_token(headers).ok_or_else(refused)?;
    app.store().account_for_access_token(token, Instant::now()).cloned().ok_or_else(refused)
}

/// `GET /linkedin/v2/userinfo`.
pub async fn userinfo(State(app): State<AppState>, headers: HeaderMap) -> Response {
    if let Some(response) = app.injected_fault(Endpoint::Userinfo).await {
        return response;
    }
    match member(&app, &headers) {
        Ok(m) => {
            let (given, family) = m.name.split_once(' ').unwrap_or((m.name.as_str(), ""));
            // No `picture`: LinkedIn leaves it out for a member without a photo, and the
            // sandbox has no https host to serve one from (a page would try to load it).
            Json(json!({ "sub": m.id, "name": m.name, "given_name": given, "family_name": family, "locale": {"country": "US", "language": "en"} })).into_response()
        }
        Err(response) => response,
    }
}

/// Whether `version` (YYYYMM) is one of the last twelve monthly versions as of now.
fn active(version: &str) -> bool {
    let digits = version.len() == 6 && version.bytes().all(|b| b.is_ascii_digit());
    let part = |range: std::ops::Range<usize>| version.get(range).and_then(|p| p.parse::<i32>().ok());
    let (Some(year), Some(month)) = (part(0..4), part(4..6)) else { return false };
    if !digits || !(1..=12).contains(&month) {
        return false;
    }
    let now = chrono::Utc::now();
    let age = (now.year() - year) * 12 + (now.month() as i32 - month);
    (0..12).contains(&age)
}

/// The headers every versioned API requires: an active `LinkedIn-Version` and
/// `X-Restli-Protocol-Version: 2.0.0`; then the member the token belongs to.
pub(crate) fn versioned_member(app: &AppState, headers: &HeaderMap) -> Result<Account, Response> {
    let Some(version) = headers.get("linkedin-version").and_then(|v| v.to_str().ok()) else {
        return Err(error(StatusCode::BAD_REQUEST, "VERSION_MISSING", "A version must be present. Please specify a version by adding the LinkedIn-Version header."));
    };
    if !active(version) {
        return Err(error(StatusCode::UPGRADE_REQUIRED, "NONEXISTENT_VERSION", &format!("Requested version {version} is not active")));
    }
    if headers.get("x-restli-protocol-version").and_then(|v| v.to_str().ok()) != Some("2.0.0") {
        return Err(error(StatusCode::BAD_REQUEST, "ILLEGAL_ARGUMENT", "X-Restli-Protocol-Version 2.0.0 is required"));
    }
    member(app, headers)
}

/// `POST /linkedin/rest/posts`.
pub async fn create_post(State(app): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    if let Some(response) = app.injected_fault(Endpoint::Posts).await {
        return response;
    }
    let m = match versioned_member(&app, &headers) {
        Ok(m) => m,
        Err(response) => return response,
    };
    let post: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    if post.get("author").and_then(Value::as_str) != Some(format!("urn:li:person:{}", m.id).as_str()) {
        return error(StatusCode::FORBIDDEN, "ACCESS_DENIED", "Not enough permissions to post as this author");
    }
    let text = post.get("commentary").and_then(Value::as_str).unwrap_or_default().to_owned();
    if let Err(why) = validate_text(&text) {
        return error(StatusCode::UNPROCESSABLE_ENTITY, "UNPROCESSABLE_ENTITY", &format!("ERROR :: /commentary :: {why}"));
    }
    let mut store = app.store();
    let media = match crate::linkedin_media::attachments(&mut store, &m, &post) {
        Ok(media) => media,
        Err(why) => return error(StatusCode::UNPROCESSABLE_ENTITY, "UNPROCESSABLE_ENTITY", &why),
    };
    let id = match store.posts.create(&m, text, None, None, media) {
        PostOutcome::Created(id) | PostOutcome::Replayed(id) => id,
    };
    let mut response = StatusCode::CREATED.into_response();
    if let Ok(urn) = HeaderValue::from_str(&format!("urn:li:share:{id}")) {
        response.headers_mut().insert("x-restli-id", urn);
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_version_is_active_for_a_year() {
        let now = chrono::Utc::now();
        let this_month = format!("{:04}{:02}", now.year(), now.month());
        assert!(active(&this_month));
        let year_ago = now - chrono::Duration::days(370);
        assert!(!active(&format!("{:04}{:02}", year_ago.year(), year_ago.month())));
        for bad in ["202613", "2026", "abcdef", "", "299901"] {
            assert!(!active(bad), "{bad}");
        }
    }
}
