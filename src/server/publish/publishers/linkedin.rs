//! LinkedIn Posts API: `POST {base}/rest/posts` with `LinkedIn-Version` and
//! `X-Restli-Protocol-Version: 2.0.0`; answers 201 with the post's URN in `x-restli-id`.
//! https://learn.microsoft.com/linkedin/marketing/community-management/shares/posts-api

use super::{send, with_link, PublishError, Published, Request};
use secrecy::SecretString;

/// The API version (YYYYMM) this request shape follows.
pub const LINKEDIN_VERSION: &str = "202411";

pub async fn publish(http: &reqwest::Client, base: &str, member_id: Option<&str>, token: &SecretString, post: &Request<'_>) -> Result<Published, PublishError> {
    let member = member_id.ok_or_else(|| PublishError::Rejected { message: "the connected account has no member id: re-authenticate the platform".into() })?;
    let body = serde_json::json!({
        "author": format!("urn:li:person:{member}"),
        "commentary": with_link(post.text, post.link, "\n\n"),
        "visibility": "PUBLIC",
        "distribution": { "feedDistribution": "MAIN_FEED", "targetEntities": [], "thirdPartyDistributionChannels": [] },
        "lifecycleState": "PUBLISHED",
        "isReshareDisabledByAuthor": false
    });
    let request = http
        .post(format!("{base}/rest/posts"))
        .header("LinkedIn-Version", LINKEDIN_VERSION)
        .header("X-Restli-Protocol-Version", "2.0.0")
        .json(&body);
    let (headers, _) = send(request, token).await?;
    let id = headers
        .get("x-restli-id")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
        .ok_or_else(|| PublishError::Rejected { message: "LinkedIn answered success without x-restli-id: the post may exist; check before retrying".into() })?;
    Ok(Published { url: Some(format!("https://www.linkedin.com/feed/update/{id}")), id })
}
