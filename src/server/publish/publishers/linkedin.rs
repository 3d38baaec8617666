//! LinkedIn Posts API: `POST {base}/rest/posts` with `LinkedIn-Version` and
//! `X-Restli-Protocol-Version: 2.0.0`; answers 201 with the post's URN in `x-restli-id`.
//! https://learn.microsoft.com/linkedin/marketing/community-management/shares/posts-api
//!
//! Images go first through the Images API (`POST /rest/images?action=initializeUpload`
//! `{"initializeUploadRequest": {"owner"}}` → `value.uploadUrl` and `value.image`, then
//! the bytes PUT to that URL, https://learn.microsoft.com/en-us/linkedin/marketing/community-management/shares/images-api);
//! the post names one as `content.media` `{"id", "altText"}`, or 2 to 20 as
//! `content.multiImage.images` (https://learn.microsoft.com/en-us/linkedin/marketing/community-management/shares/multiimage-post-api).
//! A video goes through the Videos API (`upload_video`,
//! https://learn.microsoft.com/en-us/linkedin/marketing/community-management/shares/videos-api)
//! and is named alone as `content.media` `{"id"}` once `AVAILABLE`.
//!
//! The version comes from the catalog (providers.toml) or the platform's override. LinkedIn
//! keeps each monthly version at least a year (https://learn.microsoft.com/en-us/linkedin/marketing/versioning)
//! and then refuses it: `426 {"status": 426, "code": "NONEXISTENT_VERSION", "message":
//! "Requested version 20250401 is not active"}` (the body as reported in
//! github.com/n8n-io/n8n/issues/14678; LinkedIn's pages do not show it). That is the
//! platform's setting to fix, never the post's fault, and the message says so.

use super::{during, field, posting, send, send_unsigned, Outgoing, PublishError, Published, Request};
use secrecy::SecretString;
use serde_json::{json, Value};
use std::time::Duration;

/// Status checks of a video before the attempt gives up and is retried later: 30 s, as
/// for Meta's containers, well inside the delivery's lease.
const POLLS: u32 = 15;
const POLL_WAIT: Duration = Duration::from_secs(2);

/// The version used when neither the catalog nor the platform names one.
const FALLBACK_VERSION: &str = "202608";

pub async fn publish(http: &reqwest::Client, base: &str, member_id: Option<&str>, version: Option<&str>, token: &SecretString, post: &Request<'_>) -> Result<Published, PublishError> {
    let member = member_id.ok_or_else(|| PublishError::Rejected { message: "the connected account has no member id: re-authenticate the platform".into() })?;
    let version = version.unwrap_or(FALLBACK_VERSION);
    let author = format!("urn:li:person:{member}");
    let mut images = Vec::with_capacity(post.media.len());
    for (i, file) in post.media.iter().enumerate() {
        let step = format!("uploading file {} of {}", i + 1, post.media.len());
        let urn = match &file.uploaded {
            Some(urn) => urn.clone(),
            None => {
                let upload = match file.media_type.is_video() {
                    true => upload_video(http, base, version, token, &author, file).await,
                    false => upload_image(http, base, version, token, &author, file).await,
                };
                let urn = upload.map_err(|e| during(&step, retired_version(e, version)))?;
                post.uploads.remember(file.id, &urn).await;
                urn
            }
        };
        if file.media_type.is_video() {
            available(http, base, version, token, &urn).await.map_err(|e| during("processing the video", retired_version(e, version)))?;
            images.push(json!({ "id": urn }));
        } else {
            images.push(json!({ "id": urn, "altText": file.alt }));
        }
    }
    let mut body = json!({
        "author": author,
        "commentary": crate::domain::shown(crate::domain::ProviderKey::Linkedin, post.text, post.link).body,
        "visibility": "PUBLIC",
        "distribution": { "feedDistribution": "MAIN_FEED", "targetEntities": [], "thirdPartyDistributionChannels": [] },
        "lifecycleState": "PUBLISHED",
        "isReshareDisabledByAuthor": false
    });
    // One image is `content.media`; 2 to 20 are a MultiImage post.
    match images.len() {
        0 => {}
        1 => body["content"] = json!({ "media": images.remove(0) }),
        _ => body["content"] = json!({ "multiImage": { "images": images } }),
    }
    let request = versioned(http.post(format!("{base}/rest/posts")), version).json(&body);
    let (headers, _) = send(request, token).await.map_err(|e| posting(post, retired_version(e, version)))?;
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

/// The headers every versioned LinkedIn API requires.
fn versioned(request: reqwest::RequestBuilder, version: &str) -> reqwest::RequestBuilder {
    request.header("LinkedIn-Version", version).header("X-Restli-Protocol-Version", "2.0.0")
}

/// Images API: `initializeUpload` for the author, then the bytes PUT to the upload URL it
/// answered; the image's URN.
async fn upload_image(http: &reqwest::Client, base: &str, version: &str, token: &SecretString, author: &str, file: &Outgoing) -> Result<String, PublishError> {
    let init = json!({ "initializeUploadRequest": { "owner": author } });
    let (_, answer) = send(versioned(http.post(format!("{base}/rest/images?action=initializeUpload")), version).json(&init), token).await?;
    let (upload_url, urn) = (field(&answer, "/value/uploadUrl")?, field(&answer, "/value/image")?);
    within_linkedin(&upload_url, base)?;
    let put = http.put(&upload_url).header(reqwest::header::CONTENT_TYPE, "application/octet-stream").body(file.bytes.clone());
    send(put, token).await?;
    Ok(urn)
}

/// Videos API: `initializeUpload` with the size, each part (`firstByte`..=`lastByte`) PUT
/// to its signed `uploadUrl` without the token, then `finalizeUpload` with the parts'
/// `ETag`s in order; the video's URN.
async fn upload_video(http: &reqwest::Client, base: &str, version: &str, token: &SecretString, author: &str, file: &Outgoing) -> Result<String, PublishError> {
    let size = file.bytes.len();
    let init = json!({ "initializeUploadRequest": { "owner": author, "fileSizeBytes": size, "uploadCaptions": false, "uploadThumbnail": false } });
    let (_, answer) = send(versioned(http.post(format!("{base}/rest/videos?action=initializeUpload")), version).json(&init), token).await?;
    let urn = field(&answer, "/value/video")?;
    let upload_token = answer.pointer("/value/uploadToken").and_then(Value::as_str).unwrap_or_default().to_owned();
    let instructions = answer.pointer("/value/uploadInstructions").and_then(Value::as_array).filter(|i| !i.is_empty()).ok_or_else(|| PublishError::Rejected { message: "LinkedIn answered initializeUpload without uploadInstructions".into() })?;
    let mut etags = Vec::with_capacity(instructions.len());
    for instruction in instructions {
        let url = field(instruction, "/uploadUrl")?;
        within_linkedin(&url, base)?;
        let range = |k: &str| instruction.get(k).and_then(Value::as_u64).and_then(|b| usize::try_from(b).ok());
        // The range comes from an answer: it must lie inside the file.
        let part = match (range("firstByte"), range("lastByte")) {
            (Some(first), Some(last)) if first <= last && last < size => file.bytes.slice(first..=last),
            _ => return Err(PublishError::Rejected { message: format!("LinkedIn asked for a byte range outside the {size}-byte video") }),
        };
        let (headers, _) = send_unsigned(http.put(&url).header(reqwest::header::CONTENT_TYPE, "application/octet-stream").body(part)).await?;
        let etag = headers.get(reqwest::header::ETAG).and_then(|v| v.to_str().ok()).ok_or_else(|| PublishError::Rejected { message: "LinkedIn took a video part without answering its ETag".into() })?;
        etags.push(etag.to_owned());
    }
    let finalize = json!({ "finalizeUploadRequest": { "video": urn, "uploadToken": upload_token, "uploadedPartIds": etags } });
    send(versioned(http.post(format!("{base}/rest/videos?action=finalizeUpload")), version).json(&finalize), token).await?;
    Ok(urn)
}

/// Waits until LinkedIn has processed the video (`GET /rest/videos/{urn}`, `status`
/// `AVAILABLE`): a post naming a video still processing is refused. Still processing after
/// [`POLLS`] checks is worth a later retry, which reuses the upload.
async fn available(http: &reqwest::Client, base: &str, version: &str, token: &SecretString, urn: &str) -> Result<(), PublishError> {
    let url = format!("{base}/rest/videos/{}", percent_encoding::utf8_percent_encode(urn, percent_encoding::NON_ALPHANUMERIC));
    for _ in 0..POLLS {
        let (_, json) = send(versioned(http.get(&url), version), token).await?;
        match json.get("status").and_then(Value::as_str) {
            Some("AVAILABLE") => return Ok(()),
            Some("PROCESSING_FAILED") => {
                let why = json.get("processingFailureReason").and_then(Value::as_str).unwrap_or("no reason given");
                return Err(PublishError::Rejected { message: format!("LinkedIn could not process the video ({why})") });
            }
            _ => tokio::time::sleep(POLL_WAIT).await,
        }
    }
    Err(PublishError::Retryable { message: "LinkedIn is still processing the video; the next attempt uses the same upload".into(), retry_after: None })
}

/// The upload URL comes from an answer, and the token goes with the bytes: only to
/// LinkedIn's own hosts (or the API's own host: the sandbox).
fn within_linkedin(upload_url: &str, base: &str) -> Result<(), PublishError> {
    let host = |u: &str| url::Url::parse(u).ok().and_then(|u| u.host_str().map(str::to_ascii_lowercase));
    let upload = host(upload_url);
    let trusted = upload.as_deref().is_some_and(|h| Some(h) == host(base).as_deref() || h == "linkedin.com" || h.ends_with(".linkedin.com"));
    if trusted {
        return Ok(());
    }
    Err(PublishError::Rejected { message: format!("LinkedIn answered with an upload address outside LinkedIn ({}): Keyport does not send the token there", upload.unwrap_or_default()) })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_token_goes_only_to_linkedin_hosts() {
        let base = "https://api.linkedin.com";
        assert!(within_linkedin("https://www.linkedin.com/dms-uploads/abc", base).is_ok());
        assert!(within_linkedin("https://linkedin.com/x", base).is_ok());
        assert!(within_linkedin("http://127.0.0.1:9000/linkedin/dms-uploads/1", "http://127.0.0.1:9000/linkedin").is_ok(), "the API's own host");
        for bad in ["https://evil.example/upload", "https://linkedin.com.evil.example/x", "https://notlinkedin.com/x", "not a url"] {
            assert!(within_linkedin(bad, base).is_err(), "{bad}");
        }
    }
}
