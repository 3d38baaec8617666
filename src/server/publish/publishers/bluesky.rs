//! Bluesky: `POST {pds}/xrpc/com.atproto.repo.createRecord` with the session's access JWT,
//! an `app.bsky.feed.post` record in the account's repo (its DID), answering `{"uri", "cid"}`
//! (https://docs.bsky.app/docs/advanced-guides/posts). Links only become links through
//! facets, whose ranges count UTF-8 bytes, start inclusive and end exclusive
//! (https://docs.bsky.app/docs/advanced-guides/post-richtext). Files go first, each with
//! `com.atproto.repo.uploadBlob`; the record embeds images as `app.bsky.embed.images` with
//! their alt text and aspect ratio (https://docs.bsky.app/docs/advanced-guides/posts), a
//! video as `app.bsky.embed.video` with its alt text — the documented simple way, after
//! which Bluesky processes the video once the post is out
//! (https://docs.bsky.app/docs/tutorials/video).

use super::{during, field, posting, send, PublishError, Published, Request};
use secrecy::SecretString;
use serde_json::{json, Value};

pub async fn publish(http: &reqwest::Client, base: &str, did: Option<&str>, token: &SecretString, post: &Request<'_>) -> Result<Published, PublishError> {
    let did = did.ok_or_else(|| PublishError::Rejected { message: "the connected account has no DID: connect it again".into() })?;
    let text = crate::domain::shown(crate::domain::ProviderKey::Bluesky, post.text, post.link).body;
    let record = json!({
        "$type": "app.bsky.feed.post",
        "text": text,
        "createdAt": chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        "facets": link_facets(&text),
    });
    let mut record = record;
    if let Some(embed) = embed(http, base, token, post).await? {
        record["embed"] = embed;
    }
    let body = json!({ "repo": did, "collection": "app.bsky.feed.post", "record": record });
    let (_, answer) = send(http.post(format!("{base}/xrpc/com.atproto.repo.createRecord")).json(&body), token).await.map_err(expired_is_auth).map_err(|e| posting(post, e))?;
    let uri = field(&answer, "/uri")?;
    // at://{did}/app.bsky.feed.post/{rkey} is shown at bsky.app/profile/{did}/post/{rkey}.
    let url = uri.rsplit('/').next().filter(|rkey| !rkey.is_empty()).map(|rkey| format!("https://bsky.app/profile/{did}/post/{rkey}"));
    Ok(Published { id: uri, url })
}

/// The post's files as the record's embed: each uploaded with `uploadBlob` (the raw bytes,
/// their type as Content-Type) unless an earlier attempt did, its blob noted for a retry;
/// a video alone as `app.bsky.embed.video`, images as `app.bsky.embed.images`
/// (https://docs.bsky.app/docs/advanced-guides/posts#images-embeds).
async fn embed(http: &reqwest::Client, base: &str, token: &SecretString, post: &Request<'_>) -> Result<Option<Value>, PublishError> {
    if post.media.is_empty() {
        return Ok(None);
    }
    let mut images = Vec::with_capacity(post.media.len());
    for (i, file) in post.media.iter().enumerate() {
        let step = format!("uploading file {} of {}", i + 1, post.media.len());
        let known = file.uploaded.as_deref().and_then(|blob| serde_json::from_str::<Value>(blob).ok());
        let blob = match known {
            Some(blob) => blob,
            None => {
                let request = http.post(format!("{base}/xrpc/com.atproto.repo.uploadBlob")).header(reqwest::header::CONTENT_TYPE, file.media_type.as_str()).body(file.bytes.clone());
                let (_, answer) = send(request, token).await.map_err(expired_is_auth).map_err(|e| during(&step, e))?;
                let blob = answer.get("blob").filter(|b| b.is_object()).cloned().ok_or_else(|| PublishError::Rejected { message: format!("{step}: the answer has no blob") })?;
                post.uploads.remember(file.id, &blob.to_string()).await;
                blob
            }
        };
        if file.media_type.is_video() {
            return Ok(Some(json!({ "$type": "app.bsky.embed.video", "video": blob, "alt": file.alt })));
        }
        let mut image = json!({ "alt": file.alt, "image": blob });
        if let Some((width, height)) = file.dimensions {
            image["aspectRatio"] = json!({ "width": width, "height": height });
        }
        images.push(image);
    }
    Ok(Some(json!({ "$type": "app.bsky.embed.images", "images": images })))
}

/// A link facet for each http(s) URL in `text`, with its UTF-8 byte range.
pub fn link_facets(text: &str) -> Vec<Value> {
    let mut facets = Vec::new();
    let mut from = 0;
    while let Some(found) = text.get(from..).and_then(|rest| ["https://", "http://"].iter().filter_map(|scheme| rest.find(scheme)).min()) {
        let start = from + found;
        let len = text.get(start..).map_or(0, |rest| rest.find(|c: char| c.is_whitespace()).unwrap_or(rest.len()));
        // A sentence's full stop or closing bracket is not part of the link.
        let uri = text.get(start..start + len).unwrap_or_default().trim_end_matches(['.', ',', ';', ':', '!', '?', ')', ']', '"', '\'']);
        let end = start + uri.len();
        if url::Url::parse(uri).is_ok_and(|u| u.host_str().is_some()) {
            facets.push(json!({ "index": { "byteStart": start, "byteEnd": end }, "features": [{ "$type": "app.bsky.richtext.facet#link", "uri": uri }] }));
        }
        from = (start + len).max(start + 1);
    }
    facets
}

/// XRPC answers an expired access JWT with 400 `ExpiredToken`: the token, not the post.
fn expired_is_auth(e: PublishError) -> PublishError {
    match e {
        PublishError::Rejected { message } if message.contains("ExpiredToken") || message.contains("Token has expired") => PublishError::Unauthorized { message },
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn facets_count_utf8_bytes_and_leave_punctuation_out() {
        let text = "Café ☕ opens: https://example.com/menu. See http://x.y/z";
        let facets = link_facets(text);
        assert_eq!(facets.len(), 2);
        let (start, end) = (facets[0]["index"]["byteStart"].as_u64().unwrap() as usize, facets[0]["index"]["byteEnd"].as_u64().unwrap() as usize);
        assert_eq!(&text.as_bytes()[start..end], b"https://example.com/menu");
        assert_eq!(start, "Café ☕ opens: ".len(), "bytes, not characters");
        assert_eq!(facets[1]["features"][0]["uri"], "http://x.y/z");
        assert!(link_facets("no links, just https:// alone").is_empty());
        assert!(link_facets("").is_empty());
    }
}
