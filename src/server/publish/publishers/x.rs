//! X API v2: files first, then `POST {base}/2/tweets` `{"text", "media": {"media_ids"}}`;
//! answers 201 `{"data": {"id", "text"}}`. No idempotency key.
//! https://docs.x.com/x-api/posts/create-post
//!
//! Each file goes up in X's chunked upload, which takes images and video alike
//! (https://docs.x.com/x-api/media/initialize-media-upload, …/append-media-upload,
//! …/finalize-media-upload, …/get-media-upload-status): initialize with its type, size and
//! category, append it in segments of at most 4 MiB (X takes 5 MB), finalize, and wait
//! while X says it is processing. Its alt text is set with `POST /2/media/metadata`
//! (https://docs.x.com/x-api/media/metadata-create, v2 shape `{"id", "metadata":
//! {"alt_text": {"text"}}}`). Scope `media.write`, asked for at connect.

use super::{during, field, posting, send, Outgoing, PublishError, Published, Request};
use crate::domain::MediaType;
use secrecy::SecretString;
use serde_json::{json, Value};
use std::time::Duration;

/// Bytes per append: under X's 5 MB a segment.
const SEGMENT: usize = 4 * 1024 * 1024;
/// Status checks of one file before the attempt gives up (and is retried later).
const POLLS: u32 = 30;
/// X says how long to wait (`check_after_secs`); its word is clamped to this range.
const WAIT_MIN: u64 = 1;
const WAIT_MAX: u64 = 10;

pub async fn publish(http: &reqwest::Client, base: &str, token: &SecretString, post: &Request<'_>) -> Result<Published, PublishError> {
    let mut media_ids = Vec::with_capacity(post.media.len());
    for (i, file) in post.media.iter().enumerate() {
        let step = format!("uploading file {} of {}", i + 1, post.media.len());
        media_ids.push(upload(http, base, token, post, file).await.map_err(|e| during(&step, e))?);
    }
    let mut body = json!({ "text": crate::domain::shown(crate::domain::ProviderKey::X, post.text, post.link).body });
    if !media_ids.is_empty() {
        body["media"] = json!({ "media_ids": media_ids });
    }
    let (_, json) = send(http.post(format!("{base}/2/tweets")).json(&body), token).await.map_err(not_about_the_token).map_err(|e| posting(post, e))?;
    let id = field(&json, "/data/id")?;
    Ok(Published { url: Some(format!("https://x.com/i/web/status/{id}")), id })
}

/// One file's media id: the one X still holds from an earlier attempt, or uploaded now;
/// then its alt text (again on a retry: setting it twice is harmless).
async fn upload(http: &reqwest::Client, base: &str, token: &SecretString, post: &Request<'_>, file: &Outgoing) -> Result<String, PublishError> {
    let held = match &file.uploaded {
        Some(id) => still_held(http, base, token, id).await?,
        None => None,
    };
    let id = match held {
        Some(id) => id,
        None => {
            let init = json!({ "media_type": file.media_type.as_str(), "total_bytes": file.bytes.len(), "media_category": category(file.media_type) });
            let (_, json) = send(http.post(format!("{base}/2/media/upload/initialize")).json(&init), token).await?;
            let id = field(&json, "/data/id")?;
            for (index, chunk) in file.bytes.chunks(SEGMENT).enumerate() {
                let part = reqwest::multipart::Part::stream_with_length(file.bytes.slice_ref(chunk), chunk.len() as u64).file_name("chunk").mime_str("application/octet-stream").map_err(|e| PublishError::Rejected { message: e.to_string() })?;
                let form = reqwest::multipart::Form::new().part("media", part).text("segment_index", index.to_string());
                send(http.post(format!("{base}/2/media/upload/{id}/append")).multipart(form), token).await?;
            }
            let (_, json) = send(http.post(format!("{base}/2/media/upload/{id}/finalize")), token).await?;
            // Only a finalized file is worth reusing: a retry after a broken append starts over.
            post.uploads.remember(file.id, &id).await;
            if let Some(info) = json.pointer("/data/processing_info") {
                processed(http, base, token, &id, info).await?;
            }
            id
        }
    };
    let alt = json!({ "id": id, "metadata": { "alt_text": { "text": file.alt } } });
    send(http.post(format!("{base}/2/media/metadata")).json(&alt), token).await?;
    Ok(id)
}

/// The media id if X still has it, processed; `None` when X refuses it (media ids expire
/// after `expires_after_secs`, about a day): the file is then uploaded again.
async fn still_held(http: &reqwest::Client, base: &str, token: &SecretString, id: &str) -> Result<Option<String>, PublishError> {
    match send(http.get(format!("{base}/2/media/upload")).query(&[("command", "STATUS"), ("media_id", id)]), token).await {
        Ok((_, json)) => {
            if let Some(info) = json.pointer("/data/processing_info") {
                processed(http, base, token, id, info).await?;
            }
            Ok(Some(id.to_owned()))
        }
        Err(PublishError::Rejected { .. }) => Ok(None),
        Err(e) => Err(e),
    }
}

/// X's category for a file: a GIF is `tweet_gif` (15 MB), other images `tweet_image`.
fn category(media_type: MediaType) -> &'static str {
    match media_type {
        MediaType::Mp4 => "tweet_video",
        MediaType::Gif => "tweet_gif",
        _ => "tweet_image",
    }
}

/// Waits while `info.state` is `pending` or `in_progress`, as often as X asks
/// (`check_after_secs`, clamped), a bounded number of times.
async fn processed(http: &reqwest::Client, base: &str, token: &SecretString, id: &str, info: &Value) -> Result<(), PublishError> {
    let mut info = info.clone();
    for _ in 0..POLLS {
        match info["state"].as_str() {
            Some("succeeded") | None => return Ok(()),
            Some("failed") => {
                let why = info.pointer("/error/message").and_then(Value::as_str).unwrap_or("X could not process the file");
                return Err(PublishError::Rejected { message: why.chars().take(300).collect() });
            }
            _ => {}
        }
        let wait = info["check_after_secs"].as_u64().unwrap_or(WAIT_MIN).clamp(WAIT_MIN, WAIT_MAX);
        tokio::time::sleep(Duration::from_secs(wait)).await;
        let (_, json) = send(http.get(format!("{base}/2/media/upload")).query(&[("command", "STATUS"), ("media_id", id)]), token).await?;
        info = json.pointer("/data/processing_info").cloned().unwrap_or(Value::Null);
    }
    Err(PublishError::Retryable { message: "X is still processing it".into(), retry_after: Some(Duration::from_secs(60)) })
}

/// X answers 403 about the post too — duplicate content, a video longer than the account
/// may post — and those say nothing about the token.
fn not_about_the_token(e: PublishError) -> PublishError {
    match e {
        PublishError::Unauthorized { message } if message.contains("duplicate content") || message.contains("not allowed to post a video") => PublishError::Rejected { message },
        other => other,
    }
}
