//! The LinkedIn personality's Images API
//! (https://learn.microsoft.com/en-us/linkedin/marketing/community-management/shares/images-api):
//!
//! - `POST /linkedin/rest/images?action=initializeUpload`, versioned headers, JSON
//!   `{"initializeUploadRequest": {"owner": "urn:li:person:{id}"}}` → `{"value":
//!   {"uploadUrlExpiresAt", "uploadUrl", "image": "urn:li:image:…"}}`; an owner other than
//!   the token's member is 403.
//! - `PUT {uploadUrl}` (here `/linkedin/dms-uploads/{id}`), Bearer, the raw bytes: JPG, PNG
//!   or GIF ("JPG, GIF, and PNG formats"), read from the bytes → 201.
//!
//! A post names the image URNs in `content.media` (one) or `content.multiImage.images`
//! (https://learn.microsoft.com/en-us/linkedin/marketing/community-management/shares/multiimage-post-api:
//! "minimum of 2 images and maximum of 20 images"), each with its `altText`.

use crate::account::Account;
use crate::faults::Endpoint;
use crate::linkedin::{error, versioned_member};
use crate::state::AppState;
use crate::store::Store;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::time::Duration;

/// Images initialized and not uploaded yet: id → the member who may upload.
#[derive(Debug, Default)]
pub struct Pending(HashMap<String, String>);

/// The largest image the sandbox takes (LinkedIn documents pixels, not bytes).
const IMAGE_MAX: usize = 10 * 1024 * 1024;
const MULTI_IMAGE_MAX: usize = 20;

/// `POST /linkedin/rest/images?action=initializeUpload`.
pub async fn initialize(State(app): State<AppState>, headers: HeaderMap, Query(query): Query<HashMap<String, String>>, body: Bytes) -> Response {
    if let Some(response) = app.injected_fault(Endpoint::Media).await {
        return response;
    }
    let m = match versioned_member(&app, &headers) {
        Ok(m) => m,
        Err(response) => return response,
    };
    if query.get("action").map(String::as_str) != Some("initializeUpload") {
        return error(StatusCode::BAD_REQUEST, "ILLEGAL_ARGUMENT", "action=initializeUpload is required");
    }
    let request: Value = serde_json::from_slice(&body).unwrap_or_default();
    if request.pointer("/initializeUploadRequest/owner").and_then(Value::as_str) != Some(format!("urn:li:person:{}", m.id).as_str()) {
        return error(StatusCode::FORBIDDEN, "ACCESS_DENIED", "Not enough permissions to upload as this owner");
    }
    let id = format!("D4E{}", uuid::Uuid::now_v7().simple());
    app.store().linkedin_uploads.0.insert(id.clone(), m.id);
    let expires = chrono::Utc::now().timestamp_millis() + 86_400_000;
    Json(json!({ "value": { "uploadUrlExpiresAt": expires, "uploadUrl": format!("{}/linkedin/dms-uploads/{id}", app.base_url), "image": format!("urn:li:image:{id}") } })).into_response()
}

/// `PUT /linkedin/dms-uploads/{id}`.
pub async fn upload(State(app): State<AppState>, headers: HeaderMap, Path(id): Path<String>, body: Bytes) -> Response {
    let m = match crate::linkedin::member(&app, &headers) {
        Ok(m) => m,
        Err(response) => return response,
    };
    let mime = match body.get(..4) {
        Some([0xFF, 0xD8, 0xFF, _]) => "image/jpeg",
        Some([0x89, b'P', b'N', b'G']) => "image/png",
        Some(b"GIF8") => "image/gif",
        _ => return error(StatusCode::BAD_REQUEST, "ILLEGAL_ARGUMENT", "Unsupported image format: JPG, GIF and PNG are supported"),
    };
    if body.len() > IMAGE_MAX {
        return error(StatusCode::BAD_REQUEST, "ILLEGAL_ARGUMENT", "The image is too large");
    }
    let mut store = app.store();
    if store.linkedin_uploads.0.get(&id) != Some(&m.id) {
        return error(StatusCode::NOT_FOUND, "NOT_FOUND", "No upload is waiting at this URL");
    }
    store.linkedin_uploads.0.remove(&id);
    store.media.keep_as(&format!("urn:li:image:{id}"), &m.id, mime.to_owned(), body, String::new(), Duration::ZERO);
    StatusCode::CREATED.into_response()
}

/// The images a post's `content` names, each the author's own, with its alt text.
pub fn attachments(store: &mut Store, author: &Account, post: &Value) -> Result<Vec<crate::media::Attachment>, String> {
    let images: Vec<&Value> = match (post.pointer("/content/media"), post.pointer("/content/multiImage/images")) {
        (None, None) => return Ok(Vec::new()),
        (Some(one), None) => vec![one],
        (None, Some(Value::Array(many))) if (2..=MULTI_IMAGE_MAX).contains(&many.len()) => many.iter().collect(),
        _ => return Err(format!("ERROR :: /content :: one of media, or multiImage with 2 to {MULTI_IMAGE_MAX} images")),
    };
    let mut ids = Vec::with_capacity(images.len());
    for image in images {
        let id = image.get("id").and_then(Value::as_str).ok_or("ERROR :: /content :: each image needs an id")?;
        let alt = image.get("altText").and_then(Value::as_str).unwrap_or_default();
        if !store.media.describe(&author.id, id, alt) {
            return Err(format!("ERROR :: /content :: {id} is not an image of this author"));
        }
        ids.push(id.to_owned());
    }
    store.media.attach(author, &ids, MULTI_IMAGE_MAX)
}
