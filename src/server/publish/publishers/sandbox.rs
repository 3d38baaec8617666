//! keyport-sandbox: files through `POST {base}/api/media` (Mastodon's shapes, see
//! `mastodon::media_ids`), then `POST {base}/api/posts` with their `media_ids` and an
//! `Idempotency-Key` (docs/sandbox.md).

use super::{field, posting, mastodon, send, PublishError, Published, Request};
use secrecy::SecretString;

pub async fn publish(http: &reqwest::Client, base: &str, token: &SecretString, post: &Request<'_>) -> Result<Published, PublishError> {
    let media_ids = mastodon::media_ids(http, token, &format!("{base}/api/media"), &format!("{base}/api/media"), post).await?;
    let mut body = serde_json::json!({ "text": post.text, "link": post.link });
    if !media_ids.is_empty() {
        body["media_ids"] = media_ids.into();
    }
    let request = http.post(format!("{base}/api/posts")).header("Idempotency-Key", post.idempotency_key).json(&body);
    let (_, json) = send(request, token).await.map_err(|e| posting(post, e))?;
    Ok(Published { id: field(&json, "/id")?, url: field(&json, "/url").ok() })
}
