//! The Bluesky personality: the XRPC methods a Bluesky account needs, at a PDS's paths.
//!
//! - `POST /xrpc/com.atproto.server.createSession` `{"identifier", "password"}` → `{"accessJwt",
//!   "refreshJwt", "handle", "did", "active"}` (lexicons/com/atproto/server/createSession.json,
//!   https://docs.bsky.app/docs/api/com-atproto-server-create-session). The password must
//!   look like an app password (`xxxx-xxxx-xxxx-xxxx`); anything else gets 401
//!   `AuthenticationRequired` "Invalid identifier or password" (the PDS's answer). More than
//!   30 sessions per handle get 429 `RateLimitExceeded` (https://docs.bsky.app/docs/advanced-guides/rate-limits).
//! - `POST /xrpc/com.atproto.server.refreshSession` with the refresh JWT as bearer → a new
//!   pair; the refresh JWT used is revoked, and using it again gets 400 `ExpiredToken`
//!   "Token has been revoked" (lexicons/com/atproto/server/refreshSession.json).
//! - `POST /xrpc/com.atproto.repo.createRecord` with the access JWT (`--token-ttl` long) →
//!   `{"uri": "at://{did}/app.bsky.feed.post/{rkey}", "cid"}`; an expired one gets 400
//!   `ExpiredToken` "Token has expired"; text over 300 characters or a facet whose byte range
//!   does not hold its link gets 400 `InvalidRequest` (https://docs.bsky.app/docs/advanced-guides/post-richtext).
//! - `POST /xrpc/com.atproto.repo.uploadBlob`: the raw bytes with their type as
//!   `Content-Type` → `{"blob": {"$type": "blob", "ref": {"$link"}, "mimeType", "size"}}`
//!   (lexicons/com/atproto/repo/uploadBlob.json). A record may embed them as
//!   `app.bsky.embed.images`: at most 4, each with its `alt` (required) and an image blob of
//!   this account of at most 1,000,000 bytes (lexicons/app/bsky/embed/images.json), or as
//!   `app.bsky.embed.video`: one video/mp4 blob of at most 50,000,000 bytes with an optional
//!   `alt` (lexicons/app/bsky/embed/video.json), else 400
//!   `InvalidRequest`; the post page shows them.

use crate::account::Account;
use crate::faults::Endpoint;
use crate::posts::PostOutcome;
use crate::reply::bearer_token;
use crate::state::AppState;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde_json::{json, Value};
use std::time::{Duration, Instant};

/// Sessions one handle may open before the sandbox answers 429, as bsky.social does per 5 minutes.
const SESSIONS_PER_HANDLE: u32 = 30;
const TEXT_MAX: usize = 300;

fn error(status: StatusCode, error: &str, message: &str) -> Response {
    (status, Json(json!({ "error": error, "message": message }))).into_response()
}

fn is_app_password(p: &str) -> bool {
    let parts: Vec<&str> = p.split('-').collect();
    parts.len() == 4 && parts.iter().all(|part| part.len() == 4 && part.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit()))
}

/// A JWT-shaped token (the sandbox signs nothing; clients only read `exp`).
fn jwt(scope: &str, did: &str, ttl: Duration) -> String {
    let exp = chrono::Utc::now().timestamp().saturating_add(i64::try_from(ttl.as_secs()).unwrap_or(i64::MAX));
    let payload = URL_SAFE_NO_PAD.encode(json!({ "scope": scope, "sub": did, "exp": exp, "jti": uuid::Uuid::now_v7().simple().to_string() }).to_string());
    format!("eyJ0eXAiOiJKV1QiLCJhbGciOiJFUzI1NksifQ.{payload}.sandbox")
}

fn session_answer(app: &AppState, account: &Account) -> Value {
    let mut store = app.store();
    let ttl = Duration::from_secs(store.token_ttl);
    let (access, refresh) = (jwt("com.atproto.access", &account.id, ttl), jwt("com.atproto.refresh", &account.id, Duration::from_secs(90 * 86_400)));
    store.bluesky.open(account.clone(), access.clone(), refresh.clone(), Instant::now().checked_add(ttl));
    json!({ "accessJwt": access, "refreshJwt": refresh, "handle": account.name, "did": account.id, "active": true })
}

/// `POST /xrpc/com.atproto.server.createSession`.
pub async fn create_session(State(app): State<AppState>, body: Bytes) -> Response {
    if let Some(response) = app.injected_fault(Endpoint::Token).await {
        return response;
    }
    let input: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let text = |k: &str| input.get(k).and_then(Value::as_str).map(str::trim).unwrap_or_default();
    let (handle, password) = (text("identifier").trim_start_matches('@').to_lowercase(), text("password"));
    if handle.is_empty() || password.is_empty() {
        return error(StatusCode::BAD_REQUEST, "InvalidRequest", "identifier and password are required");
    }
    if !is_app_password(password) {
        return error(StatusCode::UNAUTHORIZED, "AuthenticationRequired", "Invalid identifier or password");
    }
    if app.store().bluesky.count_session(&handle) > SESSIONS_PER_HANDLE {
        return error(StatusCode::TOO_MANY_REQUESTS, "RateLimitExceeded", "Rate Limit Exceeded");
    }
    let account = Account { id: crate::secrets::did(&handle), name: handle };
    Json(session_answer(&app, &account)).into_response()
}

/// `POST /xrpc/com.atproto.server.refreshSession`.
pub async fn refresh_session(State(app): State<AppState>, headers: HeaderMap) -> Response {
    if let Some(response) = app.injected_fault(Endpoint::Token).await {
        return response;
    }
    let Some(token) = bearer_token(&headers) else { return error(StatusCode::UNAUTHORIZED, "AuthenticationRequired", "Authentication Required") };
    let spent = app.store().bluesky.spend_refresh(token);
    match spent {
        Ok(account) => {
            app.store().counters.refreshes += 1;
            Json(session_answer(&app, &account)).into_response()
        }
        Err(message) => error(StatusCode::BAD_REQUEST, "ExpiredToken", message),
    }
}

/// The account of the request's access JWT, or the PDS's answer to a missing (401) or an
/// expired or unknown one (400 `ExpiredToken`).
fn session(app: &AppState, headers: &HeaderMap) -> Result<Account, Response> {
    let token = bearer_token(headers).ok_or_else(|| error(StatusCode::UNAUTHORIZED, "AuthenticationRequired", "Authentication Required"))?;
    app.store().bluesky.account_for_access(token, Instant::now()).map_err(|message| error(StatusCode::BAD_REQUEST, "ExpiredToken", message))
}

/// `POST /xrpc/com.atproto.repo.createRecord`.
pub async fn create_record(State(app): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    if let Some(response) = app.injected_fault(Endpoint::Posts).await {
        return response;
    }
    let account = match session(&app, &headers) {
        Ok(account) => account,
        Err(response) => return response,
    };
    let input: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    if input.get("repo").and_then(Value::as_str) != Some(account.id.as_str()) {
        return error(StatusCode::BAD_REQUEST, "InvalidRequest", "repo must be the session's DID");
    }
    if input.get("collection").and_then(Value::as_str) != Some("app.bsky.feed.post") {
        return error(StatusCode::BAD_REQUEST, "InvalidRequest", "the sandbox stores app.bsky.feed.post records only");
    }
    let record = input.get("record").cloned().unwrap_or(Value::Null);
    let text = record.get("text").and_then(Value::as_str).unwrap_or_default().to_owned();
    if text.trim().is_empty() || text.chars().count() > TEXT_MAX {
        return error(StatusCode::BAD_REQUEST, "InvalidRequest", "Invalid app.bsky.feed.post record: text must be 1 to 300 graphemes");
    }
    let mut link = None;
    for facet in record.get("facets").and_then(Value::as_array).map(Vec::as_slice).unwrap_or_default() {
        let at = |k: &str| facet.pointer(&format!("/index/{k}")).and_then(Value::as_u64).and_then(|n| usize::try_from(n).ok());
        let uri = facet.pointer("/features/0/uri").and_then(Value::as_str);
        let covered = match (at("byteStart"), at("byteEnd")) {
            (Some(start), Some(end)) if start < end => text.get(start..end),
            _ => None,
        };
        if uri.is_none() || covered != uri {
            return error(StatusCode::BAD_REQUEST, "InvalidRequest", "a facet's byte range does not hold its link");
        }
        link = link.or(uri.map(str::to_owned));
    }
    let mut store = app.store();
    let media = match embedded_images(&store.media, &account, record.get("embed")) {
        Ok(media) => media,
        Err(message) => return error(StatusCode::BAD_REQUEST, "InvalidRequest", &message),
    };
    let id = match store.posts.create(&account, text, link, None, media) {
        PostOutcome::Created(id) | PostOutcome::Replayed(id) => id,
    };
    drop(store);
    Json(json!({ "uri": format!("at://{}/app.bsky.feed.post/{id}", account.id), "cid": format!("bafyrei{id}") })).into_response()
}

/// The largest image blob `app.bsky.embed.images` takes (its lexicon's `maxSize`).
const IMAGE_MAX: usize = 1_000_000;
/// The largest video blob `app.bsky.embed.video` takes (lexicons/app/bsky/embed/video.json;
/// newer copies say 100,000,000), and the longest `alt` (`maxGraphemes`).
const VIDEO_MAX: usize = 50_000_000;
const VIDEO_ALT_MAX: usize = 1000;

/// The files of an `app.bsky.embed.images` or `app.bsky.embed.video` embed, checked as
/// the lexicons say.
fn embedded_images(book: &crate::media::MediaBook, account: &Account, embed: Option<&Value>) -> Result<Vec<crate::media::Attachment>, String> {
    let Some(embed) = embed.filter(|e| !e.is_null()) else { return Ok(Vec::new()) };
    match embed.get("$type").and_then(Value::as_str) {
        Some("app.bsky.embed.images") => {}
        Some("app.bsky.embed.video") => {
            let link = embed.pointer("/video/ref/$link").and_then(Value::as_str).ok_or("Invalid app.bsky.embed.video: video must be a blob")?;
            let (mime, size) = book.facts(&account.id, link).ok_or_else(|| format!("Could not find blob: {link}"))?;
            let alt = embed.get("alt").and_then(Value::as_str).unwrap_or_default();
            if mime != "video/mp4" || size > VIDEO_MAX || alt.chars().count() > VIDEO_ALT_MAX {
                return Err(format!("Invalid app.bsky.embed.video: the video must be video/mp4 of at most {VIDEO_MAX} bytes, its alt at most {VIDEO_ALT_MAX} characters"));
            }
            return Ok(vec![crate::media::Attachment { id: link.to_owned(), mime, description: alt.to_owned() }]);
        }
        _ => return Err("the sandbox takes app.bsky.embed.images and app.bsky.embed.video embeds only".into()),
    }
    let images = embed.get("images").and_then(Value::as_array).ok_or("Invalid app.bsky.embed.images: images must be an array")?;
    if images.is_empty() || images.len() > 4 {
        return Err("Invalid app.bsky.embed.images: images must have 1 to 4 items".into());
    }
    images
        .iter()
        .map(|image| {
            let alt = image.get("alt").and_then(Value::as_str).ok_or("Invalid app.bsky.embed.images: each image must have an alt")?;
            let link = image.pointer("/image/ref/$link").and_then(Value::as_str).ok_or("Invalid app.bsky.embed.images: image must be a blob")?;
            let (mime, size) = book.facts(&account.id, link).ok_or_else(|| format!("Could not find blob: {link}"))?;
            if size > IMAGE_MAX {
                return Err(format!("Invalid app.bsky.embed.images: image is {size} bytes; the maximum is {IMAGE_MAX}"));
            }
            Ok(crate::media::Attachment { id: link.to_owned(), mime, description: alt.to_owned() })
        })
        .collect()
}

/// `POST /xrpc/com.atproto.repo.uploadBlob`.
pub async fn upload_blob(State(app): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    if let Some(response) = app.injected_fault(Endpoint::Media).await {
        return response;
    }
    let account = match session(&app, &headers) {
        Ok(account) => account,
        Err(response) => return response,
    };
    let mime = headers.get(axum::http::header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("application/octet-stream").to_owned();
    let size = body.len();
    let link = app.store().media.keep(&account.id, mime.clone(), body, String::new(), Duration::ZERO);
    Json(json!({ "blob": { "$type": "blob", "ref": { "$link": link }, "mimeType": mime, "size": size } })).into_response()
}

/// Bluesky sessions: access JWTs with their expiry, refresh JWTs spent once.
#[derive(Debug, Default)]
pub struct Sessions {
    access: std::collections::HashMap<String, (Account, Option<Instant>)>,
    refresh: std::collections::HashMap<String, (Account, bool)>,
    opened: std::collections::HashMap<String, u32>,
}

impl Sessions {
    fn open(&mut self, account: Account, access: String, refresh: String, expires: Option<Instant>) {
        self.access.insert(access, (account.clone(), expires));
        self.refresh.insert(refresh, (account, false));
    }

    fn count_session(&mut self, handle: &str) -> u32 {
        let n = self.opened.entry(handle.to_owned()).or_default();
        *n = n.saturating_add(1);
        *n
    }

    fn spend_refresh(&mut self, token: &str) -> Result<Account, &'static str> {
        let (account, spent) = self.refresh.get_mut(token).ok_or("Token could not be verified")?;
        if *spent {
            return Err("Token has been revoked");
        }
        *spent = true;
        Ok(account.clone())
    }

    fn account_for_access(&self, token: &str, now: Instant) -> Result<Account, &'static str> {
        let (account, expires) = self.access.get(token).ok_or("Token could not be verified")?;
        if expires.is_some_and(|at| now >= at) {
            return Err("Token has expired");
        }
        Ok(account.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn app_passwords_have_their_shape() {
        assert!(is_app_password("abcd-1234-efgh-5678"));
        for bad in ["my real password", "abcd-1234-efgh", "ABCD-1234-EFGH-5678", "abcd-1234-efgh-567!"] {
            assert!(!is_app_password(bad), "{bad}");
        }
    }

    #[test]
    fn a_refresh_jwt_is_spent_once() {
        let mut sessions = Sessions::default();
        let alice = Account { id: "did:plc:a".into(), name: "alice.test".into() };
        sessions.open(alice.clone(), "a1".into(), "r1".into(), None);
        assert_eq!(sessions.spend_refresh("r1"), Ok(alice));
        assert_eq!(sessions.spend_refresh("r1"), Err("Token has been revoked"));
        assert_eq!(sessions.spend_refresh("nope"), Err("Token could not be verified"));
    }
}
