//! Threads text posts, Meta's two steps (https://developers.facebook.com/docs/threads/posts,
//! text: https://developers.facebook.com/docs/threads/create-posts/text-attachments):
//! `POST {base}/{threads-user-id}/threads` with `media_type=TEXT` and `text` makes a
//! container (`{"id"}`), `POST {base}/{threads-user-id}/threads_publish` with
//! `creation_id` publishes it (`{"id"}` of the post); its `permalink` is read for the link.
//! Text is limited to 500 characters. A container that was made but not published is
//! harmless (never shown), so an attempt that fails before publishing is retried whole.

use super::{field, send, PublishError, Published, Request};
use secrecy::SecretString;

pub async fn publish(http: &reqwest::Client, base: &str, user_id: Option<&str>, token: &SecretString, post: &Request<'_>) -> Result<Published, PublishError> {
    let user = user_id.ok_or_else(|| PublishError::Rejected { message: "the connected account has no Threads user id: re-authenticate the platform".into() })?;
    let text = crate::domain::shown(crate::domain::ProviderKey::Threads, post.text, post.link).body;
    let container = http.post(format!("{base}/{user}/threads")).form(&[("media_type", "TEXT"), ("text", text.as_str())]);
    let (_, json) = send(container, token).await?;
    let creation_id = field(&json, "/id")?;
    let publish = http.post(format!("{base}/{user}/threads_publish")).form(&[("creation_id", creation_id.as_str())]);
    let (_, json) = send(publish, token).await?;
    let id = field(&json, "/id")?;
    // The link is a nicety: a post that is out stays published if it cannot be read.
    let url = match send(http.get(format!("{base}/{id}")).query(&[("fields", "permalink")]), token).await {
        Ok((_, json)) => field(&json, "/permalink").ok(),
        Err(_) => None,
    };
    Ok(Published { id, url })
}
