//! The Pinterest personality: the sandbox also answers at Pinterest's paths under
//! `/pinterest/…`, with the shapes of Pinterest's API v5 (its OpenAPI description,
//! github.com/pinterest/api-description `v5/openapi.yaml`), so a Pinterest platform whose
//! endpoints point here connects, refreshes and pins as against pinterest.com.
//!
//! - `GET|POST /pinterest/oauth/`: the consent page (comma-separated scopes, no PKCE).
//! - `POST /pinterest/v5/oauth/token`: the client in HTTP Basic only (as the spec's
//!   `securitySchemes` and api-quickstart's `get_access_token.sh`); the answer adds
//!   `response_type` and `refresh_token_expires_in`; refresh tokens rotate.
//! - `GET /pinterest/v5/user_account` (`user_accounts:read`): `{account_type, id, username}`.
//! - `GET /pinterest/v5/boards` (`boards:read`): `{items: [Board], bookmark}`, `page_size`
//!   1 to 250 (default 25), the next page by `bookmark`.
//! - `POST /pinterest/v5/pins` (`pins:write`): `board_id` (one of the user's boards),
//!   `media_source` `image_url` (`url`) or `multiple_image_urls` (`items`, 2 to 5, each a
//!   `url`); `description` ≤ 800, `title` ≤ 100, `alt_text` ≤ 500, `link` ≤ 2048. The
//!   images are fetched from their URLs, as Pinterest does. Answers 201 with the Pin.
//!
//! Errors are Pinterest's `{"code", "message"}` (`Error` in the spec).

use crate::account::Account;
use crate::authorize::{consent_page, decision, Dialect};
use crate::faults::Endpoint;
use crate::oauth::exchange;
use crate::reply::{bearer_token, no_store_json};
use crate::state::AppState;
use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};
use std::time::Instant;

/// Each user's boards here: name and privacy.
const BOARDS: [(&str, &str); 3] = [("Recipes", "PUBLIC"), ("Shop window", "PUBLIC"), ("Drafts", "SECRET")];
const PAGE_SIZE_MAX: usize = 250;
const CAROUSEL: std::ops::RangeInclusive<usize> = 2..=5;

fn error(status: StatusCode, code: u32, message: &str) -> Response {
    (status, Json(json!({ "code": code, "message": message }))).into_response()
}

pub async fn consent(State(app): State<AppState>, RawQuery(query): RawQuery) -> Response {
    consent_page(&app, query.as_deref(), Dialect::Pinterest, "/pinterest/oauth/").await
}

pub async fn decide(State(app): State<AppState>, body: Bytes) -> Response {
    decision(&app, &body, Dialect::Pinterest).await
}

/// `POST /pinterest/v5/oauth/token`.
pub async fn token(State(app): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    if let Some(response) = app.injected_fault(Endpoint::Token).await {
        return response;
    }
    let basic = headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()).is_some_and(|v| v.starts_with("Basic "));
    if !basic {
        return error(StatusCode::UNAUTHORIZED, 2, "Authentication failed: the client goes in HTTP Basic");
    }
    app.store().counters.token_requests += 1;
    let refreshing = crate::oauth::parse_form(&body).ok().is_some_and(|p| p.get("grant_type") == Some("refresh_token"));
    match exchange(&app, &headers, &body) {
        Ok(t) => no_store_json(
            StatusCode::OK,
            json!({
                "access_token": t.access_token, "refresh_token": t.refresh_token, "token_type": "bearer", "expires_in": t.expires_in,
                "refresh_token_expires_in": 5_184_000, "scope": t.scope,
                "response_type": if refreshing { "refresh_token" } else { "authorization_code" },
            }),
        ),
        Err(e) => e.into_response(),
    }
}

fn user(app: &AppState, headers: &HeaderMap) -> Result<Account, Response> {
    let refused = || error(StatusCode::UNAUTHORIZED, 2, "Authentication failed.");
    let token = bearer_token(headers).ok_or_else(refused)?;
    app.store().account_for_access_token(token, Instant::now()).cloned().ok_or_else(refused)
}

/// Pinterest's ids are strings of digits.
fn digits(seed: &str) -> String {
    (crate::x::numeric(seed).parse::<u64>().unwrap_or_default() % 1_000_000_000_000_000_000).to_string()
}

/// The user's boards, in order.
fn boards_of(a: &Account) -> Vec<Value> {
    BOARDS
        .iter()
        .map(|(name, privacy)| json!({ "id": digits(&format!("{}/{name}", a.id)), "name": name, "privacy": privacy, "description": "", "owner": { "username": a.username() } }))
        .collect()
}

/// `GET /pinterest/v5/user_account`.
pub async fn user_account(State(app): State<AppState>, headers: HeaderMap) -> Response {
    if let Some(response) = app.injected_fault(Endpoint::Userinfo).await {
        return response;
    }
    match user(&app, &headers) {
        Ok(a) => Json(json!({ "account_type": "BUSINESS", "id": digits(&a.id), "username": a.username().replace('-', "_") })).into_response(),
        Err(response) => response,
    }
}

/// `GET /pinterest/v5/boards`.
pub async fn boards(State(app): State<AppState>, headers: HeaderMap, RawQuery(query): RawQuery) -> Response {
    let a = match user(&app, &headers) {
        Ok(a) => a,
        Err(response) => return response,
    };
    let query = crate::urlenc::parse_params(query.as_deref().unwrap_or_default()).unwrap_or_default();
    let size = match query.get("page_size").map(str::parse::<usize>) {
        None => 25,
        Some(Ok(n)) if (1..=PAGE_SIZE_MAX).contains(&n) => n,
        Some(_) => return error(StatusCode::BAD_REQUEST, 1, "page_size must be between 1 and 250"),
    };
    let from = query.get("bookmark").and_then(|b| b.parse::<usize>().ok()).unwrap_or(0);
    let all = boards_of(&a);
    let items: Vec<Value> = all.iter().skip(from).take(size).cloned().collect();
    let next = (from + size < all.len()).then(|| (from + size).to_string());
    Json(json!({ "items": items, "bookmark": next })).into_response()
}

/// `POST /pinterest/v5/pins`.
pub async fn create_pin(State(app): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    if let Some(response) = app.injected_fault(Endpoint::Posts).await {
        return response;
    }
    let a = match user(&app, &headers) {
        Ok(a) => a,
        Err(response) => return response,
    };
    let Ok(pin) = serde_json::from_slice::<Value>(&body) else {
        return error(StatusCode::BAD_REQUEST, 1, "Invalid JSON body");
    };
    let text = |k: &str| pin.get(k).and_then(Value::as_str).unwrap_or_default();
    for (field, max) in [("title", 100), ("description", 800), ("alt_text", 500), ("link", 2048)] {
        if text(field).chars().count() > max {
            return error(StatusCode::BAD_REQUEST, 1, &format!("Invalid request: {field} is longer than {max} characters"));
        }
    }
    let board = text("board_id");
    if !boards_of(&a).iter().any(|b| b["id"] == board) {
        return error(StatusCode::NOT_FOUND, 2, "Board not found.");
    }
    let urls: Vec<String> = match pin.pointer("/media_source/source_type").and_then(Value::as_str) {
        Some("image_url") => pin.pointer("/media_source/url").and_then(Value::as_str).map(|u| vec![u.to_owned()]).unwrap_or_default(),
        Some("multiple_image_urls") => match pin.pointer("/media_source/items").and_then(Value::as_array) {
            Some(items) if CAROUSEL.contains(&items.len()) => items.iter().filter_map(|i| i.get("url").and_then(Value::as_str).map(str::to_owned)).collect(),
            _ => return error(StatusCode::BAD_REQUEST, 1, "Invalid request: media_source.items must hold 2 to 5 images"),
        },
        _ => return error(StatusCode::BAD_REQUEST, 1, "Invalid request: media_source is required (image_url or multiple_image_urls here)"),
    };
    if urls.is_empty() {
        return error(StatusCode::BAD_REQUEST, 1, "Invalid request: each image needs a url");
    }
    let mut fetched = Vec::with_capacity(urls.len());
    for url in &urls {
        match crate::threads_media::fetch(url, true).await {
            Ok(file) => fetched.push(file),
            Err(why) => return error(StatusCode::BAD_REQUEST, 1, &format!("Sorry! We could not fetch the image: {why}")),
        }
    }
    let alt = text("alt_text").to_owned();
    let id = digits(&uuid::Uuid::now_v7().to_string());
    let mut store = app.store();
    let media = fetched
        .into_iter()
        .map(|(mime, bytes)| crate::media::Attachment { id: store.media.keep(&a.id, mime.to_owned(), bytes, alt.clone(), std::time::Duration::ZERO), mime: mime.to_owned(), description: alt.clone() })
        .collect();
    let words = [text("title"), text("description"), text("link")].iter().filter(|t| !t.is_empty()).copied().collect::<Vec<_>>().join("\n\n");
    store.posts.create_as(&id, &a, words, media);
    let pin_back = json!({
        "id": id, "created_at": chrono::Utc::now().to_rfc3339(), "board_id": board, "board_owner": { "username": a.username() },
        "title": text("title"), "description": text("description"), "link": pin.get("link").cloned().unwrap_or(Value::Null), "alt_text": alt,
        "media": { "media_type": if urls.len() > 1 { "multiple_images" } else { "image" } },
    });
    (StatusCode::CREATED, Json(pin_back)).into_response()
}
