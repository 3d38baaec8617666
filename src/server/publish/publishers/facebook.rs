//! Facebook Pages: `POST {base}/{page-id}/feed` `{"message", "link"}` with a Page access
//! token; answers `{"id": "{page-id}_{post-id}"}`. A post with a photo is `POST
//! {base}/{page-id}/photos` with `url` (Facebook fetches it: the link Keyport lends) and
//! `message`, answering `{"id", "post_id"}` ("Publish a Photo"). One photo a post: the
//! multi-photo form (unpublished photos, then `attached_media` on the feed) could not be
//! confirmed in Meta's pages; Facebook documents no alt text parameter.
//! https://developers.facebook.com/docs/pages-api/posts

use super::{during, field, send, PublishError, Published, Request};
use secrecy::SecretString;

pub async fn publish(http: &reqwest::Client, base: &str, page_id: Option<&str>, token: &SecretString, post: &Request<'_>) -> Result<Published, PublishError> {
    let page_id = page_id.ok_or_else(|| PublishError::Rejected { message: "the connected account has no Page id: re-authenticate the platform".into() })?;
    if let [photo] = post.media {
        // A photo post has no link field: the link goes in the message.
        let message = post.link.map_or_else(|| post.text.to_owned(), |link| format!("{}\n\n{link}", post.text));
        let form = [("url", photo.link.as_str()), ("message", message.as_str())];
        let (_, json) = send(http.post(format!("{base}/{page_id}/photos")).form(&form), token).await.map_err(token_error_is_auth).map_err(|e| during("posting the photo", e))?;
        let id = field(&json, "/post_id")?;
        return Ok(Published { url: Some(format!("https://www.facebook.com/{id}")), id });
    }
    let mut body = serde_json::json!({ "message": post.text });
    if let Some(link) = post.link {
        body["link"] = link.into();
    }
    let (_, json) = send(http.post(format!("{base}/{page_id}/feed")).json(&body), token).await.map_err(token_error_is_auth)?;
    let id = field(&json, "/id")?;
    Ok(Published { url: Some(format!("https://www.facebook.com/{id}")), id })
}

/// The Graph API answers an invalid or expired token with HTTP 400 (OAuthException code
/// 190, "Error validating access token"): that is an authentication problem.
fn token_error_is_auth(e: PublishError) -> PublishError {
    match e {
        PublishError::Rejected { message } if message.to_lowercase().contains("access token") => PublishError::Unauthorized { message },
        other => other,
    }
}
