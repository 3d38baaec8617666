//! The media API: `POST /api/media` (multipart, the file in the field `file`) stores an
//! image or a video; `GET /api/media/{id}` says what it is; `GET /api/media/{id}/content`
//! serves it to signed-in people (the composer's thumbnails); `GET /api/media/{id}/shared`
//! serves it to anyone holding a link Keyport lent out, until the link expires.

use super::{ApiError, ApiResult, Member};
use crate::{
    domain::{parse_id, AppError},
    server::{media, state::AppState},
};
use axum::{
    body::Body,
    extract::{multipart::MultipartRejection, DefaultBodyLimit, Multipart, Path, Query, State},
    http::{header, HeaderValue, StatusCode},
    response::{IntoResponse, Response},
    routing::{get, post},
    Json, Router,
};
use futures::TryStreamExt;
use serde::Deserialize;
use serde_json::{json, Value};
use uuid::Uuid;

pub fn routes(state: &AppState) -> Router<AppState> {
    // The body may hold the largest file plus the multipart framing; `ingest` enforces the
    // file's own limit as it streams.
    let body_limit = usize::try_from(state.config.media.upload_max).unwrap_or(usize::MAX).saturating_add(64 * 1024);
    Router::new()
        .route("/media", post(upload).layer(DefaultBodyLimit::max(body_limit)))
        .route("/media/{id}", get(show))
        .route("/media/{id}/content", get(content))
        .route("/media/{id}/shared", get(shared))
}

/// Stores the file in the field `file`: 201 with `{"media": {...}}`.
async fn upload(Member(user, _): Member, State(state): State<AppState>, multipart: Result<Multipart, MultipartRejection>) -> ApiResult<(StatusCode, Json<Value>)> {
    let mut multipart = multipart.map_err(|e| ApiError::bad_request("body", format!("must be multipart/form-data with the file in the field \"file\" ({})", e.body_text())))?;
    loop {
        let field = multipart.next_field().await.map_err(|e| ApiError::bad_request("body", format!("is not readable multipart/form-data ({e})")))?;
        let Some(field) = field else {
            return Err(ApiError::bad_request("file", "is missing: send the image or video in the multipart field \"file\""));
        };
        if field.name() == Some("file") {
            let stored = media::ingest(&state, Some(user.id), field).await?;
            return Ok((StatusCode::CREATED, Json(json!({ "media": with_url(&stored) }))));
        }
    }
}

fn with_url(m: &crate::domain::Media) -> Value {
    let mut value = json!(m);
    value["url"] = Value::String(m.content_path());
    value
}

fn media_id(id: &str) -> ApiResult<Uuid> {
    parse_id(id, "media").map_err(|error| ApiError::new(StatusCode::BAD_REQUEST, error))
}

async fn show(_: Member, State(state): State<AppState>, Path(id): Path<String>) -> ApiResult<Json<Value>> {
    let stored = media::get(&state, media_id(&id)?).await?;
    Ok(Json(json!({ "media": with_url(&stored) })))
}

async fn content(_: Member, State(state): State<AppState>, Path(id): Path<String>) -> ApiResult<Response> {
    serve(&state, media_id(&id)?, "private, max-age=3600").await
}

#[derive(Deserialize)]
struct Lent {
    expires: Option<i64>,
    signature: Option<String>,
}

/// A lent link: the same answer for a forged, altered or expired one (403), so it says
/// nothing about which files exist.
async fn shared(State(state): State<AppState>, Path(id): Path<String>, Query(link): Query<Lent>) -> ApiResult<Response> {
    let id = media_id(&id)?;
    let genuine = matches!((link.expires, link.signature.as_deref()), (Some(expires), Some(signature)) if media::lent(&state, id, expires, signature));
    if !genuine {
        return Err(AppError::Forbidden { message: "this media link is not valid or has expired".into() }.into());
    }
    serve(&state, id, "private, no-store").await
}

/// The file's bytes as a stream, with its real type; never run as a page of this site.
async fn serve(state: &AppState, id: Uuid, cache: &'static str) -> ApiResult<Response> {
    let (stored, bytes) = media::open(state, id).await?;
    let mut response = Body::from_stream(bytes.map_err(std::io::Error::other)).into_response();
    let h = response.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(stored.media_type.as_str()));
    h.insert(header::CONTENT_LENGTH, HeaderValue::from(stored.bytes));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    h.insert(header::CONTENT_DISPOSITION, HeaderValue::from_static("inline"));
    h.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static("default-src 'none'; sandbox"));
    Ok(response)
}
