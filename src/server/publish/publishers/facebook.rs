//! Facebook Pages (https://developers.facebook.com/docs/pages-api/posts), with a Page
//! access token:
//!
//! - Text and a link: `POST {base}/{page-id}/feed` `{"message", "link"}` → `{"id":
//!   "{page-id}_{post-id}"}`.
//! - One photo: `POST {base}/{page-id}/photos` with `url` (Facebook fetches it: the link
//!   Keyport lends) and `message` → `{"id", "post_id"}` ("Publish a Photo").
//! - Several photos: each `POST /{page-id}/photos` with `url` and `published=false` →
//!   `{"id"}`, then one feed post naming them in `attached_media` `[{"media_fbid"}]`. The
//!   photo ids are remembered, so a retry after a failed feed post attaches them again
//!   instead of uploading again (Facebook keeps them about 24 hours; the worker retries
//!   within minutes).
//! - A video: `POST {base}/{page-id}/videos` with `file_url` and `description` → `{"id"}`,
//!   the video, which is the post.
//!
//! A photo post has no link field: the link goes in the message. Each photo carries its alt
//! text as `alt_text_custom` ("Accessible alternative description for an image").
//! https://developers.facebook.com/docs/graph-api/reference/page/photos/ documents
//! `published=false`, `alt_text_custom`, `attached_media` ("Publishing a multi-photo post
//! with uploaded photos") and that unpublished photos are deleted after about 24 hours;
//! https://developers.facebook.com/docs/graph-api/reference/page/videos/ documents
//! `file_url` ("Accessible URL of a video file") and `description`.

use super::{during, field, posting, send, PublishError, Published, Request};
use secrecy::SecretString;
use serde_json::json;

pub async fn publish(http: &reqwest::Client, base: &str, page_id: Option<&str>, token: &SecretString, post: &Request<'_>) -> Result<Published, PublishError> {
    let page_id = page_id.ok_or_else(|| PublishError::Rejected { message: "the connected account has no Page id: re-authenticate the platform".into() })?;
    let message = post.link.map_or_else(|| post.text.to_owned(), |link| format!("{}\n\n{link}", post.text));
    let sent = |request: reqwest::RequestBuilder| async { send(request, token).await.map_err(token_error_is_auth) };
    match post.media {
        [] => {
            let mut body = json!({ "message": post.text });
            if let Some(link) = post.link {
                body["link"] = link.into();
            }
            let (_, json) = sent(http.post(format!("{base}/{page_id}/feed")).json(&body)).await?;
            Ok(post_at(field(&json, "/id")?))
        }
        [video] if video.media_type.is_video() => {
            let form = [("file_url", video.link.as_str()), ("description", message.as_str())];
            let (_, json) = sent(http.post(format!("{base}/{page_id}/videos")).form(&form)).await.map_err(|e| during("posting the video", e))?;
            let id = field(&json, "/id")?;
            Ok(Published { url: Some(format!("https://www.facebook.com/{page_id}/videos/{id}")), id })
        }
        [photo] => {
            let form = [("url", photo.link.as_str()), ("message", message.as_str()), ("alt_text_custom", photo.alt.as_str())];
            let (_, json) = sent(http.post(format!("{base}/{page_id}/photos")).form(&form)).await.map_err(|e| during("posting the photo", e))?;
            Ok(post_at(field(&json, "/post_id")?))
        }
        photos => {
            let mut attached = Vec::with_capacity(photos.len());
            for (i, photo) in photos.iter().enumerate() {
                let id = match &photo.uploaded {
                    Some(id) => id.clone(),
                    None => {
                        let form = [("url", photo.link.as_str()), ("published", "false"), ("alt_text_custom", photo.alt.as_str())];
                        let step = format!("uploading photo {} of {}", i + 1, photos.len());
                        let (_, json) = sent(http.post(format!("{base}/{page_id}/photos")).form(&form)).await.map_err(|e| during(&step, e))?;
                        let id = field(&json, "/id")?;
                        post.uploads.remember(photo.id, &id).await;
                        id
                    }
                };
                attached.push(json!({ "media_fbid": id }));
            }
            let body = json!({ "message": message, "attached_media": attached });
            let (_, json) = sent(http.post(format!("{base}/{page_id}/feed")).json(&body)).await.map_err(|e| posting(post, e))?;
            Ok(post_at(field(&json, "/id")?))
        }
    }
}

/// A feed post's id (`{page-id}_{post-id}`) and where it is seen.
fn post_at(id: String) -> Published {
    Published { url: Some(format!("https://www.facebook.com/{id}")), id }
}

/// The Graph API answers an invalid or expired token with HTTP 400 (OAuthException code
/// 190, "Error validating access token"): that is an authentication problem.
fn token_error_is_auth(e: PublishError) -> PublishError {
    match e {
        PublishError::Rejected { message } if message.to_lowercase().contains("access token") => PublishError::Unauthorized { message },
        other => other,
    }
}
