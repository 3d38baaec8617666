//! Mastodon: `POST {instance}/api/v1/statuses` with `Idempotency-Key`, which Mastodon
//! honours for an hour. https://docs.joinmastodon.org/methods/statuses/#create

use super::{field, send, PublishError, Published, Request};
use secrecy::SecretString;

pub async fn publish(http: &reqwest::Client, base: &str, token: &SecretString, post: &Request<'_>) -> Result<Published, PublishError> {
    let body = serde_json::json!({ "status": crate::domain::shown(crate::domain::ProviderKey::Mastodon, post.text, post.link).body, "visibility": "public" });
    let request = http.post(format!("{base}/api/v1/statuses")).header("Idempotency-Key", post.idempotency_key).json(&body);
    let (_, json) = send(request, token).await?;
    Ok(Published { id: field(&json, "/id")?, url: field(&json, "/url").ok() })
}
