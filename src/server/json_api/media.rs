//! The media API: `POST /api/media` (multipart, the file in the field `file`) stores an
//! image or a video; `GET /api/media/{id}` says what it is; `GET /api/media/{id}/content`
//! serves it to signed-in people (the composer's thumbnails); `GET /api/media/{id}/shared`
//! serves it to anyone holding a link Keyport lent out, until the link expires.

use super::{openapi::ErrorBody, ApiError, ApiResult, Member};
use crate::{
    domain::{parse_id, AppError},
    server::{media, state::AppState},
};
use axum::{
    body::Body,
    extract::{multipart::MultipartRejection, rejection::QueryRejection, DefaultBodyLimit, Multipart, Path, Query, State},
    http::{header, HeaderValue, StatusCode},
    response::{IntoResponse, Response},
    Json,
};
use futures::TryStreamExt;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::{router::{OpenApiRouter, UtoipaMethodRouterExt}, routes};
use uuid::Uuid;

pub fn routes(state: &AppState) -> OpenApiRouter<AppState> {
    // The body may hold the largest file plus the multipart framing; `ingest` enforces the
    // file's own limit as it streams.
    let body_limit = usize::try_from(state.config.media.upload_max).unwrap_or(usize::MAX).saturating_add(64 * 1024);
    OpenApiRouter::new()
        .routes(routes!(upload).layer(DefaultBodyLimit::max(body_limit)))
        .routes(routes!(show))
        .routes(routes!(content))
        .routes(routes!(shared))
}

/// The multipart form `POST /api/media` reads.
#[derive(ToSchema)]
#[allow(dead_code)] // describes the form; the handler streams the field instead
struct Upload {
    /// The image (JPEG, PNG, GIF, WebP) or video (MP4); its type is read from its bytes.
    #[schema(value_type = String, format = Binary)]
    file: Vec<u8>,
}

/// A stored file, and where a signed-in browser loads it.
#[derive(Serialize, ToSchema)]
struct MediaView {
    #[serde(flatten)]
    media: crate::domain::Media,
    url: String,
}

#[derive(Serialize, ToSchema)]
struct MediaBody {
    media: MediaView,
}

/// Stores an image or a video for posts. Images lose their EXIF, XMP and IPTC data (the
/// place a photo was taken); a file already stored is not stored twice.
#[utoipa::path(post, operation_id = "upload_media", path = "/media", tag = "media", request_body(content = Upload, content_type = "multipart/form-data"), responses(
    (status = 201, description = "Stored", body = MediaBody, links(("show_media" = (operation_id = "show_media", parameters(("id" = "$response.body#/media/id")))), ("media_content" = (operation_id = "media_content", parameters(("id" = "$response.body#/media/id")))))),
    (status = 422, description = "Not a JPEG, PNG, GIF, WebP or MP4 file, empty, or larger than MEDIA_UPLOAD_MAX_MB (field `file`)", body = ErrorBody),
))]
async fn upload(Member(user, _): Member, State(state): State<AppState>, multipart: Result<Multipart, MultipartRejection>) -> ApiResult<(StatusCode, Json<MediaBody>)> {
    let mut multipart = multipart.map_err(|e| ApiError::bad_request("body", format!("must be multipart/form-data with the file in the field \"file\" ({})", e.body_text())))?;
    loop {
        let field = multipart.next_field().await.map_err(|e| ApiError::bad_request("body", format!("is not readable multipart/form-data ({e})")))?;
        let Some(field) = field else {
            return Err(ApiError::bad_request("file", "is missing: send the image or video in the multipart field \"file\""));
        };
        if field.name() == Some("file") {
            let stored = media::ingest(&state, Some(user.id), field).await?;
            return Ok((StatusCode::CREATED, media_json(stored)));
        }
    }
}

fn media_json(media: crate::domain::Media) -> Json<MediaBody> {
    Json(MediaBody { media: MediaView { url: media.content_path(), media } })
}

fn media_id(id: &str) -> ApiResult<Uuid> {
    parse_id(id, "media").map_err(|error| ApiError::new(StatusCode::BAD_REQUEST, error))
}

/// What a stored file is.
#[utoipa::path(get, operation_id = "show_media", path = "/media/{id}", tag = "media", params(("id" = Uuid, Path, description = "The file's id")), responses((status = 200, description = "The file's type, size and dimensions", body = MediaBody)))]
async fn show(_: Member, State(state): State<AppState>, Path(id): Path<String>) -> ApiResult<Json<MediaBody>> {
    Ok(media_json(media::get(&state, media_id(&id)?).await?))
}

/// The file itself, for signed-in people.
#[utoipa::path(get, operation_id = "media_content", path = "/media/{id}/content", tag = "media", params(("id" = Uuid, Path, description = "The file's id")), responses((status = 200, description = "The file, with its real type", content(("image/jpeg"), ("image/png"), ("image/gif"), ("image/webp"), ("video/mp4")))))]
async fn content(_: Member, State(state): State<AppState>, Path(id): Path<String>) -> ApiResult<Response> {
    serve(&state, media_id(&id)?, "private, max-age=3600").await
}

/// What a lent link carries. Read as text, so a mangled link gets the same 403 as a forged
/// one rather than a parse error.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct Lent {
    /// When the link stops working (Unix seconds).
    #[param(value_type = Option<i64>)]
    expires: Option<String>,
    /// Keyport's signature of the file and the time.
    signature: Option<String>,
}

/// The file, for whoever holds a link Keyport lent out (a provider that fetches media by
/// URL), until the link expires. The same answer for a forged, altered or expired link
/// (403), so it says nothing about which files exist.
#[utoipa::path(get, operation_id = "shared_media", path = "/media/{id}/shared", tag = "media", security(()), params(("id" = Uuid, Path, description = "The file's id"), Lent), responses(
    (status = 200, description = "The file, with its real type", content(("image/jpeg"), ("image/png"), ("image/gif"), ("image/webp"), ("video/mp4"))),
    (status = 403, description = "The link is not valid or has expired", body = ErrorBody),
))]
async fn shared(State(state): State<AppState>, Path(id): Path<String>, link: Result<Query<Lent>, QueryRejection>) -> ApiResult<Response> {
    let id = media_id(&id)?;
    let link = link.map(|Query(l)| l).unwrap_or(Lent { expires: None, signature: None });
    let expires = link.expires.and_then(|e| e.parse::<i64>().ok());
    let genuine = matches!((expires, link.signature.as_deref()), (Some(expires), Some(signature)) if media::lent(&state, id, expires, signature));
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
