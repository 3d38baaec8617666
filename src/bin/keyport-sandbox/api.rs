//! The fake social API behind the OAuth server: `GET /userinfo`, `POST /api/posts`
//! and the public `GET /posts/{id}` page.

use crate::faults::Endpoint;
use crate::html;
use crate::reply::{self, bearer_token, json_error, parse_json, ApiError};
use crate::state::AppState;
use crate::posts::{validate_text, PostOutcome};
use crate::account::Account;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use serde_json::json;
use std::time::Instant;

/// The account behind the request's Bearer token, or the 401 to send back.
fn authorized_account(app: &AppState, headers: &HeaderMap) -> Result<Account, ApiError> {
    let token = bearer_token(headers).ok_or_else(ApiError::invalid_token)?;
    app.store().account_for_access_token(token, Instant::now()).cloned().ok_or_else(ApiError::invalid_token)
}

/// `GET /userinfo`.
pub async fn userinfo(State(app): State<AppState>, headers: HeaderMap) -> Response {
    if let Some(response) = app.injected_fault(Endpoint::Userinfo).await {
        return response;
    }
    match authorized_account(&app, &headers) {
        // OpenID Connect's standard claims (sub, name, preferred_username) beside the sandbox's own.
        Ok(account) => Json(json!({ "id": account.id, "sub": account.id, "username": account.username(), "preferred_username": account.username(), "name": account.name })).into_response(),
        Err(error) => error.into_response(),
    }
}

#[derive(Deserialize)]
struct NewPost {
    /// Optional so that a missing text gets the same 422 as an empty one.
    #[serde(default)]
    text: Option<String>,
    #[serde(default)]
    link: Option<String>,
    /// Files uploaded with `POST /api/media`, in order (media.rs).
    #[serde(default)]
    media_ids: Vec<String>,
}

/// `POST /api/posts`.
pub async fn create_post(State(app): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    if let Some(response) = app.injected_fault(Endpoint::Posts).await {
        return response;
    }
    let account = match authorized_account(&app, &headers) {
        Ok(account) => account,
        Err(error) => return error.into_response(),
    };
    let post: NewPost = match parse_json(&body) {
        Ok(post) => post,
        Err(message) => return ApiError::invalid_request(&message).into_response(),
    };
    let text = post.text.unwrap_or_default();
    if let Err(message) = validate_text(&text) {
        return json_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid_request", Some(message));
    }
    let idempotency_key = headers.get("idempotency-key").and_then(|value| value.to_str().ok()).map(str::trim).filter(|key| !key.is_empty());
    let mut store = app.store();
    let media = match store.media.attach(&account, &post.media_ids, crate::media::PER_POST) {
        Ok(media) => media,
        Err(message) => return json_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid_request", Some(&message)),
    };
    let outcome = store.posts.create(&account, text, post.link, idempotency_key, media);
    drop(store);
    let (status, id) = match outcome {
        PostOutcome::Created(id) => {
            tracing::info!(post_id = %id, account = %account.name, "post created");
            (StatusCode::CREATED, id)
        }
        PostOutcome::Replayed(id) => {
            tracing::info!(post_id = %id, "idempotent replay of an earlier post");
            (StatusCode::OK, id)
        }
    };
    let url = format!("{}/posts/{id}", app.base_url);
    (status, Json(json!({ "id": id, "url": url }))).into_response()
}

/// `GET /posts/{id}`.
pub async fn show_post(State(app): State<AppState>, Path(id): Path<String>) -> Response {
    let page = app.store().posts.get(&id).map(html::post_page);
    match page {
        Some(page) => reply::html(StatusCode::OK, page),
        None => reply::html(StatusCode::NOT_FOUND, html::error_page("Post not found", "There is no post with this id in the sandbox.")),
    }
}
