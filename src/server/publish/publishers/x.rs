//! X API v2: `POST {base}/2/tweets` `{"text"}`; answers 201 `{"data": {"id", "text"}}`.
//! No idempotency key. https://docs.x.com/x-api/posts/create-post

use super::{field, send, PublishError, Published, Request};
use secrecy::SecretString;

pub async fn publish(http: &reqwest::Client, base: &str, token: &SecretString, post: &Request<'_>) -> Result<Published, PublishError> {
    let body = serde_json::json!({ "text": crate::domain::shown(crate::domain::ProviderKey::X, post.text, post.link).body });
    let (_, json) = send(http.post(format!("{base}/2/tweets")).json(&body), token).await.map_err(duplicate_is_not_auth)?;
    let id = field(&json, "/data/id")?;
    Ok(Published { url: Some(format!("https://x.com/i/web/status/{id}")), id })
}

/// X answers 403 for duplicate content too: that is about the post, not the token.
fn duplicate_is_not_auth(e: PublishError) -> PublishError {
    match e {
        PublishError::Unauthorized { message } if message.contains("duplicate content") => PublishError::Rejected { message },
        other => other,
    }
}
