//! Threads posts, Meta's two steps (https://developers.facebook.com/docs/threads/posts,
//! text: https://developers.facebook.com/docs/threads/create-posts/text-attachments):
//! `POST {base}/{threads-user-id}/threads` makes a container (`{"id"}`),
//! `POST {base}/{threads-user-id}/threads_publish` with `creation_id` publishes it (`{"id"}`
//! of the post); its `permalink` is read for the link. Text is limited to 500 characters.
//!
//! Threads takes no file upload: it fetches each file from a URL "on a public server", so
//! a file goes as the link Keyport lends for an hour (`media::lend`, which needs a public
//! `PUBLIC_URL`). One file is an `IMAGE` (`image_url`) or `VIDEO` (`video_url`) container
//! with its `alt_text`; several are carousel items (`is_carousel_item=true`), then a
//! `CAROUSEL` container naming them in `children`. A container is published once its
//! `status` is `FINISHED` (`GET /{container}?fields=status,error_message`).
//!
//! A container that was made but not published is harmless (never shown), so an attempt
//! that fails before publishing is retried whole.

use super::{during, field, posting, send, Outgoing, PublishError, Published, Request};
use secrecy::SecretString;
use std::time::Duration;

/// Status checks of one container before the attempt gives up (and is retried later).
const POLLS: u32 = 30;
const POLL_WAIT: Duration = Duration::from_secs(1);

pub async fn publish(http: &reqwest::Client, base: &str, user_id: Option<&str>, token: &SecretString, post: &Request<'_>) -> Result<Published, PublishError> {
    let user = user_id.ok_or_else(|| PublishError::Rejected { message: "the connected account has no Threads user id: re-authenticate the platform".into() })?;
    let text = crate::domain::shown(crate::domain::ProviderKey::Threads, post.text, post.link).body;
    // A text container is ready at once; one with files once Threads has fetched them.
    let with_files = !post.media.is_empty();
    let container = |params: Vec<(&'static str, String)>| async move {
        let (_, json) = send(http.post(format!("{base}/{user}/threads")).form(&params), token).await?;
        let id = field(&json, "/id")?;
        if with_files {
            finished(http, base, token, &id).await?;
        }
        Ok::<_, PublishError>(id)
    };
    let creation_id = match post.media {
        [] => container(vec![("media_type", "TEXT".into()), ("text", text)]).await?,
        [file] => {
            let mut params = item(file);
            params.push(("text", text));
            container(params).await.map_err(|e| during("preparing file 1 of 1", e))?
        }
        files => {
            let mut children = Vec::with_capacity(files.len());
            for (i, file) in files.iter().enumerate() {
                let mut params = item(file);
                params.push(("is_carousel_item", "true".into()));
                children.push(container(params).await.map_err(|e| during(&format!("preparing file {} of {}", i + 1, files.len()), e))?);
            }
            let carousel = vec![("media_type", "CAROUSEL".into()), ("children", children.join(",")), ("text", text)];
            container(carousel).await.map_err(|e| during("preparing the carousel", e))?
        }
    };
    let publish = http.post(format!("{base}/{user}/threads_publish")).form(&[("creation_id", creation_id.as_str())]);
    let (_, json) = send(publish, token).await.map_err(|e| posting(post, e))?;
    let id = field(&json, "/id")?;
    // The link is a nicety: a post that is out stays published if it cannot be read.
    let url = match send(http.get(format!("{base}/{id}")).query(&[("fields", "permalink")]), token).await {
        Ok((_, json)) => field(&json, "/permalink").ok(),
        Err(_) => None,
    };
    Ok(Published { id, url })
}

/// A file as a container's parameters: its type, the link Threads fetches it from, and
/// its alt text.
fn item(file: &Outgoing) -> Vec<(&'static str, String)> {
    let (kind, url_field) = if file.media_type.is_video() { ("VIDEO", "video_url") } else { ("IMAGE", "image_url") };
    vec![("media_type", kind.into()), (url_field, file.link.clone()), ("alt_text", file.alt.clone())]
}

/// Waits until the container's `status` is `FINISHED`, a bounded number of times.
async fn finished(http: &reqwest::Client, base: &str, token: &SecretString, id: &str) -> Result<(), PublishError> {
    for _ in 0..POLLS {
        let (_, json) = send(http.get(format!("{base}/{id}")).query(&[("fields", "status,error_message")]), token).await?;
        match json.get("status").and_then(serde_json::Value::as_str) {
            Some("FINISHED") | None => return Ok(()),
            Some("ERROR") | Some("EXPIRED") => {
                let why = json.get("error_message").and_then(serde_json::Value::as_str).unwrap_or("Threads could not prepare the file");
                return Err(PublishError::Rejected { message: why.chars().take(300).collect() });
            }
            _ => tokio::time::sleep(POLL_WAIT).await,
        }
    }
    Err(PublishError::Retryable { message: "Threads is still preparing it".into(), retry_after: Some(Duration::from_secs(60)) })
}
