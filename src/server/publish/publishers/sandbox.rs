//! keyport-sandbox: `POST {base}/api/posts` with `Idempotency-Key` (docs/sandbox.md).

use super::{field, send, PublishError, Published, Request};
use secrecy::SecretString;

pub async fn publish(http: &reqwest::Client, base: &str, token: &SecretString, post: &Request<'_>) -> Result<Published, PublishError> {
    let body = serde_json::json!({ "text": post.text, "link": post.link });
    let request = http.post(format!("{base}/api/posts")).header("Idempotency-Key", post.idempotency_key).json(&body);
    let (_, json) = send(request, token).await?;
    Ok(Published { id: field(&json, "/id")?, url: field(&json, "/url").ok() })
}
