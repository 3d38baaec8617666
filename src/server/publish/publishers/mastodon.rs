//! Mastodon: files first (`POST /api/v2/media`, then `GET /api/v1/media/{id}` until
//! processed, https://docs.joinmastodon.org/methods/media/), then `POST /api/v1/statuses`
//! with their `media_ids` and an `Idempotency-Key`, which Mastodon honours for an hour
//! (https://docs.joinmastodon.org/methods/statuses/#create).

use super::{during, field, posting, send, PublishError, Published, Request};
use secrecy::SecretString;
use std::time::Duration;

/// Status checks of one file before the attempt gives up (and is retried later).
const POLLS: u32 = 30;
const POLL_WAIT: Duration = Duration::from_secs(1);

pub async fn publish(http: &reqwest::Client, base: &str, token: &SecretString, post: &Request<'_>) -> Result<Published, PublishError> {
    let media_ids = media_ids(http, token, &format!("{base}/api/v2/media"), &format!("{base}/api/v1/media"), post).await?;
    let status = crate::domain::shown(crate::domain::ProviderKey::Mastodon, post.text, post.link).body;
    let mut body = serde_json::json!({ "status": status, "visibility": "public" });
    if !media_ids.is_empty() {
        body["media_ids"] = media_ids.into();
    }
    let request = http.post(format!("{base}/api/v1/statuses")).header("Idempotency-Key", post.idempotency_key).json(&body);
    let (_, json) = send(request, token).await.map_err(|e| posting(post, e))?;
    Ok(Published { id: field(&json, "/id")?, url: field(&json, "/url").ok() })
}

/// Uploads each of the post's files the provider does not hold yet (multipart `file`, and
/// `description`: the alt text) to `upload_url`, notes its id for a retry, waits until
/// `{status_url}/{id}` says it is processed (206 until then, 200 with its `url` after), and
/// returns the ids in order. The sandbox takes media in the same shapes.
pub(super) async fn media_ids(http: &reqwest::Client, token: &SecretString, upload_url: &str, status_url: &str, post: &Request<'_>) -> Result<Vec<String>, PublishError> {
    let mut ids = Vec::with_capacity(post.media.len());
    for (i, file) in post.media.iter().enumerate() {
        let step = format!("uploading file {} of {}", i + 1, post.media.len());
        let id = match &file.uploaded {
            Some(id) => id.clone(),
            None => {
                let part = reqwest::multipart::Part::stream_with_length(file.bytes.clone(), file.bytes.len() as u64)
                    .file_name(format!("file-{}", i + 1))
                    .mime_str(file.media_type.as_str())
                    .map_err(|e| PublishError::Rejected { message: format!("{step}: {e}") })?;
                let form = reqwest::multipart::Form::new().part("file", part).text("description", file.alt.clone());
                let (_, json) = send(http.post(upload_url).multipart(form), token).await.map_err(|e| during(&step, e))?;
                let id = field(&json, "/id").map_err(|e| during(&step, e))?;
                post.uploads.remember(file.id, &id).await;
                id
            }
        };
        processed(http, token, &format!("{status_url}/{id}"), &step).await?;
        ids.push(id);
    }
    Ok(ids)
}

/// Waits until the file at `url` has its `url` (processed), a bounded number of times.
async fn processed(http: &reqwest::Client, token: &SecretString, url: &str, step: &str) -> Result<(), PublishError> {
    for _ in 0..POLLS {
        let (_, json) = send(http.get(url), token).await.map_err(|e| during(step, e))?;
        if json.get("url").is_some_and(serde_json::Value::is_string) {
            return Ok(());
        }
        tokio::time::sleep(POLL_WAIT).await;
    }
    Err(PublishError::Retryable { message: format!("{step}: the provider is still processing it"), retry_after: Some(Duration::from_secs(60)) })
}
