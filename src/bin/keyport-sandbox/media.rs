//! Media uploads in Mastodon's shapes (https://docs.joinmastodon.org/methods/media/), at
//! the sandbox's own paths and at the Mastodon personality's:
//!
//! - `POST /api/media` and `POST /api/v2/media`: multipart `file` (with its type) and an
//!   optional `description` (the alt text). An image answers 200, processed; a video 202
//!   with `url: null` while it "processes" for [`PROCESSING`].
//! - `GET /api/media/{id}` and `GET /api/v1/media/{id}`: 206 while processing, then 200
//!   with the `url`.
//! - `GET /media/{id}`: the file itself, public, as a network's media host serves it; the
//!   post pages show it.
//!
//! Posts attach files by id (`media_ids`): at most [`PER_POST`], each the poster's own and
//! processed, else 422 in Mastodon's words.

use crate::account::Account;
use crate::faults::Endpoint;
use crate::mastodon::{authorized, error};
use crate::state::AppState;
use axum::body::Bytes;
use axum::extract::{Multipart, Path, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::time::{Duration, Instant};

/// Files per post, as Mastodon's default `max_media_attachments`.
pub const PER_POST: usize = 4;
/// The largest file taken (the catalog's Sandbox limits say the same).
pub const FILE_MAX: usize = 8 * 1024 * 1024;
/// How long a video "processes" before it can be attached.
const PROCESSING: Duration = Duration::from_millis(1500);
/// Types taken, as Mastodon's defaults.
const TYPES: [&str; 5] = ["image/jpeg", "image/png", "image/gif", "image/webp", "video/mp4"];

#[derive(Debug, Clone)]
pub struct MediaFile {
    owner: String,
    pub mime: String,
    bytes: Bytes,
    pub description: String,
    ready_at: Instant,
}

impl MediaFile {
    fn kind(&self) -> &'static str {
        if self.mime.starts_with("video/") { "video" } else { "image" }
    }
}

/// A file on a post: its id, type and alt text.
#[derive(Debug, Clone)]
pub struct Attachment {
    pub id: String,
    pub mime: String,
    pub description: String,
}

#[derive(Debug, Default)]
pub struct MediaBook {
    files: HashMap<String, MediaFile>,
    /// Files uploaded, ever: tests check a retry does not upload again.
    pub uploads: u64,
}

impl MediaBook {
    /// Keeps an uploaded file; its id.
    pub fn keep(&mut self, owner: &str, mime: String, bytes: Bytes, description: String, processing: Duration) -> String {
        let id = uuid::Uuid::now_v7().simple().to_string();
        self.keep_as(&id, owner, mime, bytes, description, processing);
        id
    }

    /// Keeps a file under an id the upload chose (X names it at initialize).
    pub fn keep_as(&mut self, id: &str, owner: &str, mime: String, bytes: Bytes, description: String, processing: Duration) {
        self.files.insert(id.to_owned(), MediaFile { owner: owner.to_owned(), mime, bytes, description, ready_at: Instant::now() + processing });
        self.uploads += 1;
    }

    /// Whether `owner`'s file has finished processing; `None` if it is not theirs.
    pub fn ready(&self, owner: &str, id: &str) -> Option<bool> {
        self.files.get(id).filter(|f| f.owner == owner).map(|f| f.ready_at <= Instant::now())
    }

    /// Sets the alt text of `owner`'s file; false if it is not theirs.
    pub fn describe(&mut self, owner: &str, id: &str, description: &str) -> bool {
        self.files.get_mut(id).filter(|f| f.owner == owner).map(|f| f.description = description.to_owned()).is_some()
    }

    /// A file's type and size, if `owner` uploaded it.
    pub fn facts(&self, owner: &str, id: &str) -> Option<(String, usize)> {
        self.files.get(id).filter(|f| f.owner == owner).map(|f| (f.mime.clone(), f.bytes.len()))
    }

    /// The files `ids` names, checked as Mastodon checks them when a status attaches them
    /// (at most `max`: Mastodon's [`PER_POST`], or the personality's own).
    pub fn attach(&self, owner: &Account, ids: &[String], max: usize) -> Result<Vec<Attachment>, String> {
        if ids.len() > max {
            return Err(format!("Validation failed: Media attachments can include at most {max} files"));
        }
        let now = Instant::now();
        ids.iter()
            .map(|id| {
                let file = self.files.get(id).filter(|f| f.owner == owner.id).ok_or_else(|| format!("Validation failed: Media {id} was not found"))?;
                if file.ready_at > now {
                    return Err("Cannot attach files that have not finished processing. Try again in a moment!".to_owned());
                }
                Ok(Attachment { id: id.clone(), mime: file.mime.clone(), description: file.description.clone() })
            })
            .collect()
    }
}

/// Mastodon's MediaAttachment entity (https://docs.joinmastodon.org/entities/MediaAttachment/).
fn entity(app: &AppState, id: &str, file: &MediaFile) -> Value {
    let ready = file.ready_at <= Instant::now();
    let url = format!("{}/media/{id}", app.base_url);
    json!({
        "id": id,
        "type": file.kind(),
        "url": ready.then_some(url.clone()),
        "preview_url": url,
        "remote_url": null,
        "description": (!file.description.is_empty()).then_some(file.description.clone()),
        "meta": {},
    })
}

/// `POST /api/media`, `POST /api/v2/media`.
pub async fn upload(State(app): State<AppState>, headers: HeaderMap, mut form: Multipart) -> Response {
    if let Some(response) = app.injected_fault(Endpoint::Media).await {
        return response;
    }
    let account = match authorized(&app, &headers) {
        Ok(account) => account,
        Err(response) => return response,
    };
    let (mut file, mut description) = (None, String::new());
    loop {
        let field = match form.next_field().await {
            Ok(Some(field)) => field,
            Ok(None) => break,
            Err(e) => return error(StatusCode::BAD_REQUEST, &format!("the body is not readable multipart/form-data: {e}")),
        };
        match field.name() {
            Some("file") => {
                let mime = field.content_type().unwrap_or_default().to_owned();
                match field.bytes().await {
                    Ok(bytes) => file = Some((mime, bytes)),
                    Err(e) => return error(StatusCode::UNPROCESSABLE_ENTITY, &format!("Validation failed: File could not be read ({e})")),
                }
            }
            Some("description") => description = field.text().await.unwrap_or_default(),
            _ => {}
        }
    }
    let Some((mime, bytes)) = file else {
        return error(StatusCode::UNPROCESSABLE_ENTITY, "Validation failed: File can't be blank");
    };
    if !TYPES.contains(&mime.as_str()) {
        return error(StatusCode::UNPROCESSABLE_ENTITY, &format!("Validation failed: File content type \"{mime}\" is invalid"));
    }
    if bytes.len() > FILE_MAX {
        return error(StatusCode::UNPROCESSABLE_ENTITY, &format!("Validation failed: File file size must be less than {} MB", FILE_MAX / 1024 / 1024));
    }
    let processing = if mime.starts_with("video/") { PROCESSING } else { Duration::ZERO };
    let mut store = app.store();
    let id = store.media.keep(&account.id, mime, bytes, description, processing);
    let body = entity(&app, &id, &store.media.files[&id]);
    drop(store);
    let status = if processing.is_zero() { StatusCode::OK } else { StatusCode::ACCEPTED };
    (status, Json(body)).into_response()
}

/// `GET /api/media/{id}`, `GET /api/v1/media/{id}`.
pub async fn status(State(app): State<AppState>, headers: HeaderMap, Path(id): Path<String>) -> Response {
    let account = match authorized(&app, &headers) {
        Ok(account) => account,
        Err(response) => return response,
    };
    let found = app.store().media.files.get(&id).filter(|f| f.owner == account.id).cloned();
    match found {
        None => error(StatusCode::NOT_FOUND, "Record not found"),
        Some(file) if file.ready_at > Instant::now() => (StatusCode::PARTIAL_CONTENT, Json(entity(&app, &id, &file))).into_response(),
        Some(file) => Json(entity(&app, &id, &file)).into_response(),
    }
}

/// `GET /media/{id}`: the file.
pub async fn file(State(app): State<AppState>, Path(id): Path<String>) -> Response {
    let found = app.store().media.files.get(&id).cloned();
    match found {
        None => error(StatusCode::NOT_FOUND, "Record not found"),
        Some(file) => {
            let mut response = file.bytes.into_response();
            if let Ok(mime) = HeaderValue::from_str(&file.mime) {
                response.headers_mut().insert(header::CONTENT_TYPE, mime);
            }
            response
        }
    }
}

/// The `media_ids` of a JSON body: an array of strings, or absent.
pub fn ids_in(body: &Value) -> Result<Vec<String>, String> {
    match body.get("media_ids") {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::Array(ids)) => ids.iter().map(|id| id.as_str().map(str::to_owned).ok_or_else(|| "media_ids must be an array of strings".to_owned())).collect(),
        Some(_) => Err("media_ids must be an array of strings".to_owned()),
    }
}

/// The `<figure>`s a post page shows its files in.
pub fn figures(media: &[Attachment]) -> String {
    media
        .iter()
        .map(|m| {
            let src = format!("/media/{}", crate::html::escape(&m.id));
            let alt = crate::html::escape(&m.description);
            if m.mime.starts_with("video/") {
                format!("<figure><video src=\"{src}\" controls aria-label=\"{alt}\"></video><figcaption>{alt}</figcaption></figure>")
            } else {
                format!("<figure><img src=\"{src}\" alt=\"{alt}\"><figcaption>{alt}</figcaption></figure>")
            }
        })
        .collect()
}
