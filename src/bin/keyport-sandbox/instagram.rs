//! The Instagram and Threads personalities, `/{app}/…` with `app` = `instagram` or
//! `threads`: their login (comma-separated permissions, no PKCE), the code exchange for a
//! short-lived token (an hour), the long-lived exchange and its renewal, and `/me`.
//!
//! - Instagram API with Instagram Login
//!   (https://developers.facebook.com/docs/instagram-platform/instagram-api-with-instagram-login/business-login):
//!   `POST /instagram/oauth/access_token` answers `{"data": [{"access_token", "user_id",
//!   "permissions"}]}`; `GET /instagram/access_token?grant_type=ig_exchange_token&client_secret&access_token`
//!   and `GET /instagram/refresh_access_token?grant_type=ig_refresh_token&access_token`
//!   (https://developers.facebook.com/docs/instagram-platform/reference/refresh_access_token)
//!   answer `{"access_token", "token_type": "bearer", "expires_in": 5183944}`; a token is
//!   renewed only when at least 24 hours old (`--min-renew-age`) and unexpired.
//! - Threads (https://developers.facebook.com/docs/threads/get-started/get-access-tokens-and-permissions,
//!   https://developers.facebook.com/docs/threads/get-started/long-lived-tokens): the same,
//!   with `th_exchange_token` / `th_refresh_token`, and a flat `{"access_token", "user_id"}`
//!   from the code exchange.
//! - `GET /{app}/{version}/me`: Instagram `{"user_id", "username", "id"}`, Threads `{"id", "username"}`.
//! - Threads posts (https://developers.facebook.com/docs/threads/posts):
//!   `POST /threads/{version}/{user}/threads` (`media_type=TEXT`, `text` of at most 500
//!   characters; images, video and carousels: threads_media.rs) → `{"id"}` of a container, `POST /threads/{version}/{user}/threads_publish`
//!   (`creation_id`) → `{"id"}` of the post, `GET /threads/{version}/{post}?fields=permalink`.
//!
//! - Instagram posts (https://developers.facebook.com/docs/instagram-platform/instagram-api-with-instagram-login/content-publishing):
//!   `POST /instagram/{version}/{user}/media` (an image by `image_url`, `REELS` by
//!   `video_url`, carousels; threads_media.rs) → a container, `…/media_publish`.
//!
//! Errors are Meta's JSON (`meta::graph_error`).

use crate::authorize::{consent_page, decision, Dialect};
use crate::faults::Endpoint;
use crate::meta::{graph_error, token_of};
use crate::oauth;
use crate::state::AppState;
use crate::store::TokenError;
use crate::posts::PostOutcome;
use crate::urlenc::{parse_params, Params};
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;
use std::time::Instant;

#[derive(Clone, Copy, PartialEq, Eq)]
enum App {
    Instagram,
    Threads,
}

impl App {
    fn parse(name: &str) -> Option<Self> {
        match name {
            "instagram" => Some(Self::Instagram),
            "threads" => Some(Self::Threads),
            _ => None,
        }
    }

    fn grants(self) -> (&'static str, &'static str) {
        match self {
            Self::Instagram => ("ig_exchange_token", "ig_refresh_token"),
            Self::Threads => ("th_exchange_token", "th_refresh_token"),
        }
    }
}

fn unknown() -> Response {
    graph_error(StatusCode::NOT_FOUND, 803, None, "(#803) Some of the aliases you requested do not exist")
}

fn refused(e: TokenError) -> Response {
    let (TokenError::InvalidGrant(reason) | TokenError::InvalidScope(reason)) = e;
    graph_error(StatusCode::BAD_REQUEST, 190, None, &format!("Error validating access token: {reason}"))
}

pub async fn consent(State(app): State<AppState>, Path(name): Path<String>, RawQuery(query): RawQuery) -> Response {
    match App::parse(&name) {
        Some(_) => consent_page(&app, query.as_deref(), Dialect::MetaLogin, &format!("/{name}/oauth/authorize")).await,
        None => unknown(),
    }
}

pub async fn decide(State(app): State<AppState>, Path(name): Path<String>, body: Bytes) -> Response {
    match App::parse(&name) {
        Some(_) => decision(&app, &body, Dialect::MetaLogin).await,
        None => unknown(),
    }
}

/// `POST /{app}/oauth/access_token`: the code for a short-lived token.
pub async fn token(State(app): State<AppState>, Path(name): Path<String>, headers: HeaderMap, body: Bytes) -> Response {
    let Some(which) = App::parse(&name) else { return unknown() };
    if let Some(response) = app.injected_fault(Endpoint::Token).await {
        return response;
    }
    app.store().counters.token_requests += 1;
    let tokens = match oauth::exchange(&app, &headers, &body) {
        Ok(tokens) => tokens,
        Err(e) => return e.into_response(),
    };
    let user_id = app.store().account_for_access_token(&tokens.access_token, Instant::now()).map(|a| crate::secrets::numeric_id(&a.name)).unwrap_or_default();
    let body = match which {
        App::Instagram => json!({ "data": [{ "access_token": tokens.access_token, "user_id": user_id, "permissions": tokens.scope.replace(' ', ",") }] }),
        App::Threads => json!({ "access_token": tokens.access_token, "user_id": user_id }),
    };
    Json(body).into_response()
}

/// `GET /{app}/access_token?grant_type=…_exchange_token&client_secret&access_token`.
pub async fn long_lived(State(app): State<AppState>, Path(name): Path<String>, RawQuery(query): RawQuery) -> Response {
    let Some(which) = App::parse(&name) else { return unknown() };
    let Ok(params) = parse_params(query.as_deref().unwrap_or_default()) else {
        return graph_error(StatusCode::BAD_REQUEST, 100, None, "(#100) Malformed query string");
    };
    if params.get("grant_type") != Some(which.grants().0) {
        return graph_error(StatusCode::BAD_REQUEST, 100, None, &format!("(#100) grant_type must be {}", which.grants().0));
    }
    let (Some(secret), Some(token)) = (params.get("client_secret"), params.get("access_token")) else {
        return graph_error(StatusCode::BAD_REQUEST, 100, None, "(#100) Missing client_secret or access_token");
    };
    let now = Instant::now();
    let mut store = app.store();
    let Some(client) = store.client_of_token(token, now).cloned() else { return refused(TokenError::InvalidGrant("the token is invalid or expired")) };
    if !crate::secrets::constant_time_eq(client.secret.as_bytes(), secret.as_bytes()) {
        return graph_error(StatusCode::BAD_REQUEST, 1, None, "Error validating client secret.");
    }
    match store.exchange_long_lived(&client.id, token, now) {
        Ok(tokens) => Json(json!({ "access_token": tokens.access_token, "token_type": "bearer", "expires_in": tokens.expires_in })).into_response(),
        Err(e) => refused(e),
    }
}

/// `GET /{app}/refresh_access_token?grant_type=…_refresh_token&access_token`.
pub async fn renew(State(app): State<AppState>, Path(name): Path<String>, RawQuery(query): RawQuery) -> Response {
    let Some(which) = App::parse(&name) else { return unknown() };
    if let Some(response) = app.injected_fault(Endpoint::Token).await {
        return response;
    }
    let Ok(params) = parse_params(query.as_deref().unwrap_or_default()) else {
        return graph_error(StatusCode::BAD_REQUEST, 100, None, "(#100) Malformed query string");
    };
    if params.get("grant_type") != Some(which.grants().1) {
        return graph_error(StatusCode::BAD_REQUEST, 100, None, &format!("(#100) grant_type must be {}", which.grants().1));
    }
    let Some(token) = params.get("access_token") else { return graph_error(StatusCode::BAD_REQUEST, 100, None, "(#100) Missing access_token") };
    let mut store = app.store();
    let min_age = store.min_renew_age;
    match store.renew_long_lived(token, min_age, Instant::now()) {
        Ok(tokens) => Json(json!({ "access_token": tokens.access_token, "token_type": "bearer", "expires_in": tokens.expires_in })).into_response(),
        Err(e) => refused(e),
    }
}

/// `GET /{app}/{version}/me`.
pub async fn me(State(app): State<AppState>, Path((name, _version)): Path<(String, String)>, RawQuery(query): RawQuery, headers: HeaderMap) -> Response {
    let Some(which) = App::parse(&name) else { return unknown() };
    if let Some(response) = app.injected_fault(Endpoint::Userinfo).await {
        return response;
    }
    let params = parse_params(query.as_deref().unwrap_or_default()).unwrap_or_default();
    let Some(token) = token_of(&headers, &params) else { return refused(TokenError::InvalidGrant("no access token")) };
    let Some(account) = app.store().account_for_access_token(token, Instant::now()).cloned() else { return refused(TokenError::InvalidGrant("the token is invalid or expired")) };
    let id = crate::secrets::numeric_id(&account.name);
    let body = match which {
        App::Instagram => json!({ "user_id": id, "username": account.username(), "id": id }),
        App::Threads => json!({ "id": id, "username": account.username() }),
    };
    Json(body).into_response()
}

/// The Threads account behind the request's token (bearer or `access_token`).
fn author(app: &AppState, headers: &HeaderMap, params: &Params) -> Result<crate::account::Account, Response> {
    let token = token_of(headers, params).ok_or_else(|| refused(TokenError::InvalidGrant("no access token")))?;
    app.store().account_for_access_token(token, Instant::now()).cloned().ok_or_else(|| refused(TokenError::InvalidGrant("the token is invalid or expired")))
}

/// `POST /threads/{version}/{user}/threads` and `…/threads_publish`; Instagram's
/// `POST /instagram/{version}/{user}/media` and `…/media_publish`.
pub async fn publish_step(State(app): State<AppState>, Path((name, _version, user, edge)): Path<(String, String, String, String)>, headers: HeaderMap, body: Bytes) -> Response {
    let Some(which) = App::parse(&name) else { return unknown() };
    let dialect = match which {
        App::Threads => &crate::threads_media::THREADS,
        App::Instagram => &crate::threads_media::INSTAGRAM,
    };
    if let Some(response) = app.injected_fault(Endpoint::Posts).await {
        return response;
    }
    let params = match oauth::parse_form(&body) {
        Ok(params) => params,
        Err(_) => return graph_error(StatusCode::BAD_REQUEST, 100, None, "(#100) Malformed body"),
    };
    let account = match author(&app, &headers, &params) {
        Ok(account) => account,
        Err(response) => return response,
    };
    if crate::secrets::numeric_id(&account.name) != user {
        return graph_error(StatusCode::FORBIDDEN, 10, None, "(#10) The user cannot post as this Threads user");
    }
    match edge.as_str() {
        e if e == dialect.create => match crate::threads_media::make(&app, account, &params, dialect).await {
            Ok(id) => Json(json!({ "id": id })).into_response(),
            Err(response) => response,
        },
        e if e == dialect.publish => {
            let mut store = app.store();
            let container = params.get("creation_id").and_then(|id| store.containers.remove(id)).filter(|c| !c.carousel_item);
            let Some(container) = container else {
                return graph_error(StatusCode::BAD_REQUEST, 24, Some(4279009), "The media container was not found or was published already");
            };
            let id = match store.posts.create(&container.author, container.text, None, None, container.media) {
                PostOutcome::Created(id) | PostOutcome::Replayed(id) => id,
            };
            Json(json!({ "id": id })).into_response()
        }
        _ => unknown(),
    }
}

/// `GET /threads/{version}/{post}?fields=permalink`, and a container's status.
pub async fn post(State(app): State<AppState>, Path((name, _version, id)): Path<(String, String, String)>, headers: HeaderMap, RawQuery(query): RawQuery) -> Response {
    let Some(which) = App::parse(&name) else { return unknown() };
    let status_field = if which == App::Instagram { "status_code" } else { "status" };
    let params = parse_params(query.as_deref().unwrap_or_default()).unwrap_or_default();
    if let Err(response) = author(&app, &headers, &params) {
        return response;
    }
    let store = app.store();
    // A container is made at once, so it is always FINISHED (fields=status,error_message).
    if store.containers.contains_key(&id) {
        return Json(json!({ "id": id, status_field: "FINISHED" })).into_response();
    }
    match store.posts.get(&id) {
        Some(_) => Json(json!({ "id": id, "permalink": format!("{}/posts/{id}", app.base_url) })).into_response(),
        None => graph_error(StatusCode::BAD_REQUEST, 100, Some(33), "Unsupported get request"),
    }
}
