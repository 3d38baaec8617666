//! The LinkedIn personality's Videos API
//! (https://learn.microsoft.com/en-us/linkedin/marketing/community-management/shares/videos-api;
//! the shapes as LinkedIn's curl samples and the clients built on them spell them):
//!
//! - `POST /linkedin/rest/videos?action=initializeUpload`, versioned headers, JSON
//!   `{"initializeUploadRequest": {"owner", "fileSizeBytes", "uploadCaptions",
//!   "uploadThumbnail"}}` → `{"value": {"uploadUrlsExpireAt", "video": "urn:li:video:…",
//!   "uploadInstructions": [{"uploadUrl", "firstByte", "lastByte"}], "uploadToken"}}`, one
//!   instruction per 4 MiB part.
//! - `PUT {uploadUrl}`: the part's bytes, no token (the URL is signed) → 200 with the part's
//!   id in `ETag`.
//! - `POST /linkedin/rest/videos?action=finalizeUpload` `{"finalizeUploadRequest": {"video",
//!   "uploadToken", "uploadedPartIds": [ETags, in order]}}` → 200; the video then
//!   `PROCESSING` for a moment, then `AVAILABLE`.
//! - `GET /linkedin/rest/videos/{urn}` → `{"id", "owner", "status"}`.
//!
//! A post names the video in `content.media` `{"id"}`; one still processing is refused
//! (`MEDIA_ASSET_PROCESSING`). Sizes as the page states them: 75 KB to 500 MB, MP4.

use crate::faults::Endpoint;
use crate::linkedin::{error, versioned_member};
use crate::state::AppState;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::time::Duration;

/// LinkedIn's part size: 4 MiB (`lastByte` 4194303 in its samples).
const PART: u64 = 4 * 1024 * 1024;
const MIN_BYTES: u64 = 75 * 1024;
/// The sandbox keeps files in memory: it takes less than LinkedIn's 500 MB.
const MAX_BYTES: u64 = 64 * 1024 * 1024;
/// How long a finished upload "processes".
const PROCESSING: Duration = Duration::from_millis(1200);

/// A video being uploaded.
#[derive(Debug)]
struct Upload {
    owner: String,
    size: u64,
    token: String,
    /// Each part's bytes once PUT, by index.
    parts: Vec<Option<Bytes>>,
}

#[derive(Debug, Default)]
pub struct Videos(HashMap<String, Upload>);

fn etag(id: &str, index: usize) -> String {
    format!("/ambry-video/signedId/{id}-{index}.bin")
}

/// `POST /linkedin/rest/videos?action=…`.
pub async fn action(State(app): State<AppState>, headers: HeaderMap, Query(query): Query<HashMap<String, String>>, body: Bytes) -> Response {
    if let Some(response) = app.injected_fault(Endpoint::Media).await {
        return response;
    }
    let m = match versioned_member(&app, &headers) {
        Ok(m) => m,
        Err(response) => return response,
    };
    let request: Value = serde_json::from_slice(&body).unwrap_or_default();
    match query.get("action").map(String::as_str) {
        Some("initializeUpload") => initialize(&app, &m.id, &request),
        Some("finalizeUpload") => finalize(&app, &m.id, &request),
        _ => error(StatusCode::BAD_REQUEST, "ILLEGAL_ARGUMENT", "action=initializeUpload or action=finalizeUpload is required"),
    }
}

fn initialize(app: &AppState, member: &str, request: &Value) -> Response {
    if request.pointer("/initializeUploadRequest/owner").and_then(Value::as_str) != Some(format!("urn:li:person:{member}").as_str()) {
        return error(StatusCode::FORBIDDEN, "ACCESS_DENIED", "Not enough permissions to upload as this owner");
    }
    let Some(size) = request.pointer("/initializeUploadRequest/fileSizeBytes").and_then(Value::as_u64) else {
        return error(StatusCode::BAD_REQUEST, "ILLEGAL_ARGUMENT", "/initializeUploadRequest/fileSizeBytes is required");
    };
    if !(MIN_BYTES..=MAX_BYTES).contains(&size) {
        return error(StatusCode::BAD_REQUEST, "ILLEGAL_ARGUMENT", "File size must be between 75 KB and the maximum allowed");
    }
    let id = format!("D4D{}", uuid::Uuid::now_v7().simple());
    let token = crate::secrets::random_secret("");
    let parts = size.div_ceil(PART);
    let instructions: Vec<Value> = (0..parts)
        .map(|i| {
            let (first, last) = (i * PART, ((i + 1) * PART).min(size) - 1);
            json!({ "uploadUrl": format!("{}/linkedin/dms-uploads/video/{id}/{i}?sau={token}", app.base_url), "firstByte": first, "lastByte": last })
        })
        .collect();
    app.store().linkedin_videos.0.insert(id.clone(), Upload { owner: member.to_owned(), size, token: token.clone(), parts: vec![None; instructions.len()] });
    let expires = chrono::Utc::now().timestamp_millis() + 86_400_000;
    Json(json!({ "value": { "uploadUrlsExpireAt": expires, "video": format!("urn:li:video:{id}"), "uploadInstructions": instructions, "uploadToken": token } })).into_response()
}

/// `PUT /linkedin/dms-uploads/video/{id}/{part}?sau=…`.
pub async fn part(State(app): State<AppState>, Path((id, index)): Path<(String, usize)>, Query(query): Query<HashMap<String, String>>, body: Bytes) -> Response {
    let mut store = app.store();
    let Some(upload) = store.linkedin_videos.0.get_mut(&id).filter(|u| query.get("sau") == Some(&u.token)) else {
        return error(StatusCode::FORBIDDEN, "ACCESS_DENIED", "The upload URL is not valid");
    };
    let Some(slot) = upload.parts.get_mut(index) else {
        return error(StatusCode::NOT_FOUND, "NOT_FOUND", "No such part");
    };
    let first = index as u64 * PART;
    let expected = (first + PART).min(upload.size) - first;
    if body.len() as u64 != expected {
        return error(StatusCode::BAD_REQUEST, "ILLEGAL_ARGUMENT", &format!("The part must hold bytes {first} to {} ({expected} bytes)", first + expected - 1));
    }
    *slot = Some(body);
    let mut response = StatusCode::OK.into_response();
    response.headers_mut().insert("etag", HeaderValue::from_str(&etag(&id, index)).expect("an ASCII ETag"));
    response
}

fn finalize(app: &AppState, member: &str, request: &Value) -> Response {
    let field = |k: &str| request.pointer(&format!("/finalizeUploadRequest/{k}")).cloned().unwrap_or_default();
    let urn = field("video");
    let Some(id) = urn.as_str().and_then(|u| u.strip_prefix("urn:li:video:")).map(str::to_owned) else {
        return error(StatusCode::BAD_REQUEST, "ILLEGAL_ARGUMENT", "/finalizeUploadRequest/video must be a video URN");
    };
    let mut store = app.store();
    let Some(upload) = store.linkedin_videos.0.get(&id).filter(|u| u.owner == member) else {
        return error(StatusCode::NOT_FOUND, "NOT_FOUND", "No such video upload");
    };
    if field("uploadToken").as_str() != Some(upload.token.as_str()) {
        return error(StatusCode::BAD_REQUEST, "ILLEGAL_ARGUMENT", "/finalizeUploadRequest/uploadToken does not match the upload");
    }
    let expected: Vec<Value> = (0..upload.parts.len()).map(|i| Value::from(etag(&id, i))).collect();
    if field("uploadedPartIds") != Value::Array(expected) || upload.parts.iter().any(Option::is_none) {
        return error(StatusCode::BAD_REQUEST, "ILLEGAL_ARGUMENT", "/finalizeUploadRequest/uploadedPartIds must name every part's ETag, in order");
    }
    let upload = store.linkedin_videos.0.remove(&id).expect("checked above");
    let bytes: Vec<u8> = upload.parts.into_iter().flatten().flat_map(|b| b.to_vec()).collect();
    if bytes.get(4..8) != Some(b"ftyp") {
        return error(StatusCode::BAD_REQUEST, "ILLEGAL_ARGUMENT", "The video must be an MP4");
    }
    store.media.keep_as(&format!("urn:li:video:{id}"), member, "video/mp4".into(), bytes.into(), String::new(), PROCESSING);
    StatusCode::OK.into_response()
}

/// `GET /linkedin/rest/videos/{urn}`.
pub async fn status(State(app): State<AppState>, headers: HeaderMap, Path(urn): Path<String>) -> Response {
    let m = match versioned_member(&app, &headers) {
        Ok(m) => m,
        Err(response) => return response,
    };
    let store = app.store();
    let status = match store.media.ready(&m.id, &urn) {
        Some(true) => "AVAILABLE",
        Some(false) => "PROCESSING",
        None if store.linkedin_videos.0.get(urn.trim_start_matches("urn:li:video:")).is_some_and(|u| u.owner == m.id) => "WAITING_UPLOAD",
        None => return error(StatusCode::NOT_FOUND, "NOT_FOUND", &format!("{urn} was not found")),
    };
    Json(json!({ "id": urn, "owner": format!("urn:li:person:{}", m.id), "status": status })).into_response()
}
