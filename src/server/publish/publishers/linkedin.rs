//! LinkedIn Posts API: `POST {base}/rest/posts` with `LinkedIn-Version` and
//! `X-Restli-Protocol-Version: 2.0.0`; answers 201 with the post's URN in `x-restli-id`.
//! https://learn.microsoft.com/linkedin/marketing/community-management/shares/posts-api
//!
//! The version comes from the catalog (providers.toml) or the platform's override. LinkedIn
//! keeps each monthly version at least a year (https://learn.microsoft.com/en-us/linkedin/marketing/versioning)
//! and then refuses it: `426 {"status": 426, "code": "NONEXISTENT_VERSION", "message":
//! "Requested version 20250401 is not active"}` (the body as reported in
//! github.com/n8n-io/n8n/issues/14678; LinkedIn's pages do not show it). That is the
//! platform's setting to fix, never the post's fault, and the message says so.

use super::{send, PublishError, Published, Request};
use secrecy::SecretString;

/// The version used when neither the catalog nor the platform names one.
const FALLBACK_VERSION: &str = "202608";

pub async fn publish(http: &reqwest::Client, base: &str, member_id: Option<&str>, version: Option<&str>, token: &SecretString, post: &Request<'_>) -> Result<Published, PublishError> {
    let member = member_id.ok_or_else(|| PublishError::Rejected { message: "the connected account has no member id: re-authenticate the platform".into() })?;
    let version = version.unwrap_or(FALLBACK_VERSION);
    let body = serde_json::json!({
        "author": format!("urn:li:person:{member}"),
        "commentary": crate::domain::shown(crate::domain::ProviderKey::Linkedin, post.text, post.link).body,
        "visibility": "PUBLIC",
        "distribution": { "feedDistribution": "MAIN_FEED", "targetEntities": [], "thirdPartyDistributionChannels": [] },
        "lifecycleState": "PUBLISHED",
        "isReshareDisabledByAuthor": false
    });
    let request = http
        .post(format!("{base}/rest/posts"))
        .header("LinkedIn-Version", version)
        .header("X-Restli-Protocol-Version", "2.0.0")
        .json(&body);
    let (headers, _) = send(request, token).await.map_err(|e| retired_version(e, version))?;
    let id = headers
        .get("x-restli-id")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
        .ok_or_else(|| PublishError::Rejected { message: "LinkedIn answered success without x-restli-id: the post may exist; check before retrying".into() })?;
    Ok(Published { url: Some(format!("https://www.linkedin.com/feed/update/{id}")), id })
}

/// A refused version in words an admin can act on.
fn retired_version(e: PublishError, version: &str) -> PublishError {
    match e {
        PublishError::Rejected { message } if message.contains("HTTP 426") || message.contains("is not active") => PublishError::Rejected {
            message: format!("LinkedIn no longer accepts API version {version}: an admin must set a newer version (YYYYMM) in the platform's OAuth settings, then Retry; the post itself is fine"),
        },
        other => other,
    }
}
