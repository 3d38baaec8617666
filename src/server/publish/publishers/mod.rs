//! One publisher per provider: each builds the provider's real request (method, URL,
//! headers, JSON body) from the platform's API base URL and reads the provider's answer.

mod bluesky;
mod facebook;
mod linkedin;
mod mastodon;
mod meta_containers;
pub mod pinterest;
mod reddit;
mod sandbox;
mod x;

use crate::{domain::ProviderKey, server::oauth::client::{describe, read_capped, refusal, retry_after}};
use secrecy::{ExposeSecret, SecretString};
use serde_json::Value;
use std::time::Duration;

/// What to post.
pub struct Request<'a> {
    pub text: &'a str,
    pub link: Option<&'a str>,
    /// The delivery's key: the same on every retry.
    pub idempotency_key: &'a str,
    /// Its files, in order.
    pub media: &'a [Outgoing],
    /// Where a publisher notes each file the provider now holds, so a retry reuses it.
    pub uploads: &'a dyn Uploads,
}

/// A file to send with a post.
pub struct Outgoing {
    /// Keyport's id of the file.
    pub id: uuid::Uuid,
    pub media_type: crate::domain::MediaType,
    pub alt: String,
    pub bytes: bytes::Bytes,
    /// Width and height in pixels, for an image.
    pub dimensions: Option<(u32, u32)>,
    /// What the provider already holds of it from an earlier attempt (its media id).
    pub uploaded: Option<String>,
    /// A link that serves it without signing in for an hour (`media::lend`), for a
    /// provider that fetches media by URL.
    pub link: String,
}

/// Remembers what a provider holds of a delivery's files.
#[async_trait::async_trait]
pub trait Uploads: Send + Sync {
    async fn remember(&self, media: uuid::Uuid, reference: &str);
}

/// For a post without files, or a test that keeps nothing.
pub struct NoUploads;

#[async_trait::async_trait]
impl Uploads for NoUploads {
    async fn remember(&self, _: uuid::Uuid, _: &str) {}
}

/// A failure of the post's own request, named so when files went before it.
fn posting(post: &Request<'_>, e: PublishError) -> PublishError {
    if post.media.is_empty() { e } else { during("posting", e) }
}

/// The same failure, saying which step of the attempt it happened in.
fn during(step: &str, e: PublishError) -> PublishError {
    match e {
        PublishError::Retryable { message, retry_after } => PublishError::Retryable { message: format!("{step}: {message}"), retry_after },
        PublishError::Unauthorized { message } => PublishError::Unauthorized { message: format!("{step}: {message}") },
        PublishError::Rejected { message } => PublishError::Rejected { message: format!("{step}: {message}") },
    }
}

/// Where to post it.
pub struct Target<'a> {
    /// The provider's API base URL (the catalog's, or the platform's override).
    pub api_base: &'a str,
    /// The connected account (a Facebook Page id, a LinkedIn member id).
    pub account_id: Option<&'a str>,
    /// The API version to name (LinkedIn-Version): the platform's, else the catalog's.
    pub api_version: Option<&'a str>,
    /// Where the account posts, for a provider that asks (a Reddit subreddit, a Pinterest board).
    pub destination: Option<&'a str>,
    /// The account's name at the provider (Reddit's User-Agent names it).
    pub account_name: Option<&'a str>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Published {
    pub id: String,
    pub url: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PublishError {
    /// Worth trying again (5xx, 429, timeouts, connection failures).
    #[error("{message}")]
    Retryable { message: String, retry_after: Option<Duration> },
    /// The provider refused the token: a person must re-authenticate.
    #[error("{message}")]
    Unauthorized { message: String },
    /// The provider refused this post; retrying the same request will not help.
    #[error("{message}")]
    Rejected { message: String },
}

/// Providers Keyport can publish to.
pub fn supports(provider: ProviderKey) -> bool {
    use ProviderKey as P;
    matches!(provider, P::Sandbox | P::Mastodon | P::X | P::FacebookPages | P::Linkedin | P::Threads | P::Instagram | P::Bluesky | P::Reddit | P::Pinterest)
}

/// Whether the provider deduplicates by idempotency key, which makes a retry after an
/// interrupted attempt safe (see docs/publishing.md).
pub fn idempotent(provider: ProviderKey) -> bool {
    matches!(provider, ProviderKey::Sandbox | ProviderKey::Mastodon)
}

pub async fn publish(http: &reqwest::Client, provider: ProviderKey, target: &Target<'_>, token: &SecretString, post: &Request<'_>) -> Result<Published, PublishError> {
    let base = target.api_base.trim_end_matches('/');
    match provider {
        ProviderKey::Sandbox => sandbox::publish(http, base, token, post).await,
        ProviderKey::Mastodon => mastodon::publish(http, base, token, post).await,
        ProviderKey::X => x::publish(http, base, token, post).await,
        ProviderKey::FacebookPages => facebook::publish(http, base, target.account_id, token, post).await,
        ProviderKey::Bluesky => bluesky::publish(http, base, target.account_id, token, post).await,
        ProviderKey::Threads => meta_containers::publish(http, base, target.account_id, token, post, &meta_containers::THREADS).await,
        ProviderKey::Instagram => meta_containers::publish(http, base, target.account_id, token, post, &meta_containers::INSTAGRAM).await,
        ProviderKey::Linkedin => linkedin::publish(http, base, target.account_id, target.api_version, token, post).await,
        ProviderKey::Reddit => reddit::publish(http, base, target.destination, target.account_name, token, post).await,
        ProviderKey::Pinterest => pinterest::publish(http, base, target.destination, token, post).await,
        other => Err(PublishError::Rejected { message: format!("Keyport cannot publish to {} yet", other.label()) }),
    }
}

/// Sends a request with the bearer token; a 2xx answer's headers and JSON body (`Null`
/// when empty), or what the failure means.
async fn send(request: reqwest::RequestBuilder, token: &SecretString) -> Result<(reqwest::header::HeaderMap, Value), PublishError> {
    send_unsigned(request.bearer_auth(token.expose_secret())).await
}

/// [`send`] without a token: for an address that is itself signed (an upload URL).
async fn send_unsigned(request: reqwest::RequestBuilder) -> Result<(reqwest::header::HeaderMap, Value), PublishError> {
    let response = request.send().await.map_err(|e| match refusal(&e) {
        // The egress policy refused the address the name resolved to: no retry will help.
        Some(message) => PublishError::Rejected { message },
        None => PublishError::Retryable { message: describe(&e), retry_after: None },
    })?;
    let status = response.status();
    let headers = response.headers().clone();
    let json: Value = match read_capped(response).await {
        Ok(body) => serde_json::from_slice(&body).unwrap_or(Value::Null),
        // It may have published: not retried automatically, so it cannot post twice.
        Err(why) if status.is_success() => return Err(PublishError::Rejected { message: format!("the provider's answer could not be read ({why}): check the platform; the post may have been published") }),
        Err(_) => Value::Null,
    };
    if status.is_success() {
        return Ok((headers, json));
    }
    let said = provider_message(&json).map(|m| format!(": {m}")).unwrap_or_default();
    let code = status.as_u16();
    Err(match code {
        429 => PublishError::Retryable { message: format!("rate limited (HTTP 429){said}"), retry_after: retry_after(&headers) },
        500..=599 => PublishError::Retryable { message: format!("the provider failed (HTTP {code}){said}"), retry_after: retry_after(&headers) },
        401 | 403 => PublishError::Unauthorized { message: format!("the provider refused the access token (HTTP {code}){said}") },
        _ => PublishError::Rejected { message: format!("the provider refused the post (HTTP {code}){said}") },
    })
}

/// The human part of a provider's error body, whichever shape it uses.
fn provider_message(json: &Value) -> Option<String> {
    let text = ["/error/message", "/detail", "/explanation", "/message", "/error_description", "/error", "/errors/0/message", "/title"]
        .iter()
        .find_map(|p| json.pointer(p).and_then(Value::as_str))?;
    Some(text.chars().take(300).collect())
}

/// A field of a success body, or a clear error when the provider answered in a shape we
/// do not know (the post may exist: say so).
fn field(json: &Value, pointer: &str) -> Result<String, PublishError> {
    match json.pointer(pointer) {
        Some(Value::String(s)) => Ok(s.clone()),
        Some(Value::Number(n)) => Ok(n.to_string()),
        _ => Err(PublishError::Rejected {
            message: format!("the provider answered success without {pointer}: the post may exist; check the platform before retrying"),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Any JSON a provider may answer with, a few levels deep.
    fn any_json() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![Just(Value::Null), any::<bool>().prop_map(Value::from), any::<i64>().prop_map(Value::from), ".{0,400}".prop_map(Value::from)];
        leaf.prop_recursive(3, 24, 4, |inner| {
            prop_oneof![
                proptest::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
                proptest::collection::btree_map("error|message|detail|errors|id|data|title|[a-z]{1,6}", inner, 0..4).prop_map(|m| Value::Object(m.into_iter().collect())),
            ]
        })
    }

    proptest! {
        /// Reading an answer's message or id never panics, and a message stays short.
        #[test]
        fn any_provider_answer_is_read_safely(json in any_json()) {
            if let Some(message) = provider_message(&json) {
                prop_assert!(message.chars().count() <= 300);
            }
            let _ = field(&json, "/id");
            let _ = field(&json, "/data/id");
        }
    }

    #[test]
    fn reads_each_providers_error_shape() {
        let cases = [
            (serde_json::json!({"error": {"message": "Invalid OAuth access token.", "type": "OAuthException", "code": 190}}), "Invalid OAuth access token."),
            (serde_json::json!({"title": "Forbidden", "detail": "You are not allowed to create a Tweet with duplicate content.", "status": 403}), "You are not allowed to create a Tweet with duplicate content."),
            (serde_json::json!({"error": "Validation failed: Text character limit of 500 exceeded"}), "Validation failed: Text character limit of 500 exceeded"),
            (serde_json::json!({"message": "Unpermitted fields present in REQUEST_BODY", "status": 422}), "Unpermitted fields present in REQUEST_BODY"),
        ];
        for (json, expected) in cases {
            assert_eq!(provider_message(&json).as_deref(), Some(expected));
        }
        assert_eq!(provider_message(&Value::Null), None);
    }
}
