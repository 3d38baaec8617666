//! The X personality's media upload, as X API v2 documents it (https://docs.x.com/x-api/media/…):
//!
//! - `POST /x/2/media/upload/initialize`, JSON `{"media_type", "total_bytes", "media_category"}`
//!   → `{"data": {"id", "media_key", "expires_after_secs"}}` (initialize-media-upload).
//! - `POST /x/2/media/upload/{id}/append`, multipart `media` (the chunk, at most 5 MB) and
//!   `segment_index` (0–999) → `{"data": {"expires_at"}}` (append-media-upload).
//! - `POST /x/2/media/upload/{id}/finalize` → `{"data": {"id", "media_key", "size",
//!   "expires_after_secs", "processing_info"?}}`; a video "processes" (`pending`, then
//!   `succeeded`), an image is ready at once (finalize-media-upload).
//! - `GET /x/2/media/upload?command=STATUS&media_id=` → `{"data": {"id", "media_key",
//!   "processing_info": {"state", "check_after_secs", "progress_percent"}}}` (get-media-upload-status).
//! - `POST /x/2/media/metadata`, JSON `{"id", "metadata": {"alt_text": {"text"}}}` (alt text of
//!   at most 1,000 characters) → `{"data": {"id", "associated_metadata"}}` (metadata-create).
//!
//! Sizes per category as X's best practices give them: `tweet_image` 5 MB, `tweet_gif`
//! 15 MB, `tweet_video` 512 MB here (X takes more; the sandbox keeps files in memory).
//! Failures answer in X's problem shape.

use crate::faults::Endpoint;
use crate::state::AppState;
use crate::x::{problem, user};
use axum::body::Bytes;
use axum::extract::{Multipart, Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};
use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

const MB: u64 = 1024 * 1024;
/// The largest chunk X takes in one append.
pub const SEGMENT_MAX: usize = 5 * MB as usize;
/// How long a video "processes" after finalize.
const PROCESSING: Duration = Duration::from_millis(1500);
/// An initialized upload lives this long (X answers about a day).
const EXPIRES_AFTER_SECS: u64 = 86_400;
const ALT_MAX: usize = 1000;

/// Uploads initialized and not finalized yet, by id.
#[derive(Debug, Default)]
pub struct Pending(HashMap<String, Upload>);

#[derive(Debug)]
struct Upload {
    owner: String,
    media_type: String,
    total_bytes: u64,
    segments: BTreeMap<u32, Bytes>,
}

/// The largest file of a category, and the types it takes.
fn category(name: &str) -> Option<(u64, &'static [&'static str])> {
    match name {
        "tweet_image" => Some((5 * MB, &["image/jpeg", "image/png", "image/webp", "image/gif"])),
        "tweet_gif" => Some((15 * MB, &["image/gif"])),
        "tweet_video" => Some((512 * MB, &["video/mp4"])),
        _ => None,
    }
}

fn invalid(message: &str) -> Response {
    problem(StatusCode::BAD_REQUEST, "Invalid Request", message)
}

/// `POST /x/2/media/upload/initialize`.
pub async fn initialize(State(app): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    if let Some(response) = app.injected_fault(Endpoint::Media).await {
        return response;
    }
    let account = match user(&app, &headers) {
        Ok(a) => a,
        Err(response) => return response,
    };
    let request: Value = serde_json::from_slice(&body).unwrap_or_default();
    let media_type = request["media_type"].as_str().unwrap_or_default();
    let Some(total_bytes) = request["total_bytes"].as_u64().filter(|n| *n > 0) else {
        return invalid("$.total_bytes: is missing but it is required");
    };
    let Some((max, types)) = category(request["media_category"].as_str().unwrap_or_default()) else {
        return invalid("$.media_category: must be one of [tweet_image, tweet_gif, tweet_video]");
    };
    if !types.contains(&media_type) {
        return invalid(&format!("$.media_type: {media_type:?} is not valid for this media_category"));
    }
    if total_bytes > max {
        return invalid(&format!("total_bytes {total_bytes} is larger than this media_category allows ({max})"));
    }
    let id = crate::x::numeric(&uuid::Uuid::now_v7().to_string());
    app.store().x_uploads.0.insert(id.clone(), Upload { owner: account.id, media_type: media_type.to_owned(), total_bytes, segments: BTreeMap::new() });
    Json(json!({ "data": { "id": id, "media_key": format!("3_{id}"), "expires_after_secs": EXPIRES_AFTER_SECS } })).into_response()
}

/// `POST /x/2/media/upload/{id}/append`.
pub async fn append(State(app): State<AppState>, headers: HeaderMap, Path(id): Path<String>, mut form: Multipart) -> Response {
    let account = match user(&app, &headers) {
        Ok(a) => a,
        Err(response) => return response,
    };
    let (mut chunk, mut index) = (None, None);
    while let Ok(Some(field)) = form.next_field().await {
        match field.name() {
            Some("media") => chunk = field.bytes().await.ok(),
            Some("segment_index") => index = field.text().await.ok().and_then(|t| t.trim().parse::<u32>().ok()),
            _ => {}
        }
    }
    let Some(chunk) = chunk.filter(|c| !c.is_empty() && c.len() <= SEGMENT_MAX) else {
        return invalid("$.media: a chunk of 1 byte to 5 MB is required");
    };
    let Some(index) = index.filter(|i| *i <= 999) else {
        return invalid("$.segment_index: must be an integer from 0 to 999");
    };
    let mut store = app.store();
    match store.x_uploads.0.get_mut(&id).filter(|u| u.owner == account.id) {
        None => problem(StatusCode::NOT_FOUND, "Not Found Error", &format!("Could not find media upload with id: [{id}].")),
        Some(upload) => {
            upload.segments.insert(index, chunk);
            Json(json!({ "data": { "expires_at": chrono::Utc::now().timestamp() as u64 + EXPIRES_AFTER_SECS } })).into_response()
        }
    }
}

/// `POST /x/2/media/upload/{id}/finalize`: the segments, in order, must add up to
/// `total_bytes`; the file is then kept like every upload (media.rs).
pub async fn finalize(State(app): State<AppState>, headers: HeaderMap, Path(id): Path<String>) -> Response {
    let account = match user(&app, &headers) {
        Ok(a) => a,
        Err(response) => return response,
    };
    let mut store = app.store();
    let Some(upload) = store.x_uploads.0.remove(&id).filter(|u| u.owner == account.id) else {
        return problem(StatusCode::NOT_FOUND, "Not Found Error", &format!("Could not find media upload with id: [{id}]."));
    };
    let contiguous = upload.segments.keys().copied().eq(0..upload.segments.len() as u32);
    let bytes: Vec<u8> = upload.segments.values().flat_map(|s| s.iter().copied()).collect();
    if !contiguous || bytes.len() as u64 != upload.total_bytes {
        return invalid(&format!("File size mismatch: received {} bytes in segments {:?}, expected {}", bytes.len(), upload.segments.keys().collect::<Vec<_>>(), upload.total_bytes));
    }
    let processing = if upload.media_type.starts_with("video/") { PROCESSING } else { Duration::ZERO };
    store.media.keep_as(&id, &account.id, upload.media_type, Bytes::from(bytes), String::new(), processing);
    let mut data = json!({ "id": id, "media_key": format!("3_{id}"), "size": upload.total_bytes, "expires_after_secs": EXPIRES_AFTER_SECS });
    if !processing.is_zero() {
        data["processing_info"] = json!({ "state": "pending", "check_after_secs": 1 });
    }
    Json(json!({ "data": data })).into_response()
}

/// `GET /x/2/media/upload?command=STATUS&media_id=`.
pub async fn status(State(app): State<AppState>, headers: HeaderMap, Query(query): Query<HashMap<String, String>>) -> Response {
    let account = match user(&app, &headers) {
        Ok(a) => a,
        Err(response) => return response,
    };
    if query.get("command").map(String::as_str) != Some("STATUS") {
        return invalid("$.command: must be STATUS");
    }
    let id = query.get("media_id").cloned().unwrap_or_default();
    match app.store().media.ready(&account.id, &id) {
        None => problem(StatusCode::NOT_FOUND, "Not Found Error", &format!("Could not find media with id: [{id}].")),
        Some(ready) => {
            let info = if ready { json!({ "state": "succeeded", "progress_percent": 100 }) } else { json!({ "state": "in_progress", "check_after_secs": 1, "progress_percent": 50 }) };
            Json(json!({ "data": { "id": id, "media_key": format!("3_{id}"), "processing_info": info } })).into_response()
        }
    }
}

/// `POST /x/2/media/metadata`: the alt text.
pub async fn metadata(State(app): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    let account = match user(&app, &headers) {
        Ok(a) => a,
        Err(response) => return response,
    };
    let request: Value = serde_json::from_slice(&body).unwrap_or_default();
    let (Some(id), Some(text)) = (request["id"].as_str(), request["metadata"]["alt_text"]["text"].as_str()) else {
        return invalid("$.id and $.metadata.alt_text.text are required");
    };
    if text.chars().count() > ALT_MAX {
        return invalid(&format!("$.metadata.alt_text.text: must be at most {ALT_MAX} characters"));
    }
    if !app.store().media.describe(&account.id, id, text) {
        return problem(StatusCode::NOT_FOUND, "Not Found Error", &format!("Could not find media with id: [{id}]."));
    }
    Json(json!({ "data": { "id": id, "associated_metadata": { "alt_text": { "text": text } } } })).into_response()
}
