//! Threads and Instagram: Meta's container publishing. A container is made with
//! `POST {base}/{user-id}/{create}`, published with `POST {base}/{user-id}/{publish}`
//! `creation_id=…` (`{"id"}` of the post), and the post's `permalink` is read for the link.
//!
//! - Threads (https://developers.facebook.com/docs/threads/posts, text:
//!   https://developers.facebook.com/docs/threads/create-posts/text-attachments): `threads` /
//!   `threads_publish`, the text in `text` (500 characters), `media_type` `TEXT`, `IMAGE` or
//!   `VIDEO`, a container's readiness in `status`.
//! - Instagram (https://developers.facebook.com/docs/instagram-platform/instagram-api-with-instagram-login/content-publishing,
//!   https://developers.facebook.com/docs/instagram-platform/instagram-graph-api/reference/ig-user/media):
//!   `media` / `media_publish`, the text in `caption`, an image by `image_url` alone, a video
//!   as `media_type=REELS` (`VIDEO` in a carousel), readiness in `status_code`; `alt_text`
//!   on images only ("Reels and stories are not supported"); no text-only posts.
//!
//! Neither takes a file upload: each fetches the file from a URL "on a public server", so
//! a file goes as the link Keyport lends for an hour (`media::lend`, which needs a public
//! `PUBLIC_URL`). Several files are carousel items (`is_carousel_item=true`), then a
//! `CAROUSEL` container naming them in `children`. A container with files is published
//! once its status is `FINISHED`.
//!
//! A container that was made but not published is harmless (never shown), so an attempt
//! that fails before publishing is retried whole.

use super::{during, field, posting, send, Outgoing, PublishError, Published, Request};
use crate::domain::ProviderKey;
use secrecy::SecretString;
use std::time::Duration;

/// Status checks of one container before the attempt gives up (and is retried later).
const POLLS: u32 = 30;
const POLL_WAIT: Duration = Duration::from_secs(1);

/// Where the two APIs differ.
pub struct Dialect {
    provider: ProviderKey,
    /// Whether it has text-only posts.
    text_posts: bool,
    create: &'static str,
    publish: &'static str,
    text: &'static str,
    status: &'static str,
    /// `media_type` of a video on its own, and in a carousel.
    video: &'static str,
    carousel_video: &'static str,
    /// `media_type` of an image (`None`: Instagram takes `image_url` alone).
    image: Option<&'static str>,
    /// Whether a video takes `alt_text` too.
    video_alt: bool,
}

pub const THREADS: Dialect = Dialect { provider: ProviderKey::Threads, text_posts: true, create: "threads", publish: "threads_publish", text: "text", status: "status", video: "VIDEO", carousel_video: "VIDEO", image: Some("IMAGE"), video_alt: true };
pub const INSTAGRAM: Dialect = Dialect { provider: ProviderKey::Instagram, text_posts: false, create: "media", publish: "media_publish", text: "caption", status: "status_code", video: "REELS", carousel_video: "VIDEO", image: None, video_alt: false };

pub async fn publish(http: &reqwest::Client, base: &str, user_id: Option<&str>, token: &SecretString, post: &Request<'_>, api: &Dialect) -> Result<Published, PublishError> {
    let user = user_id.ok_or_else(|| PublishError::Rejected { message: format!("the connected account has no {} user id: re-authenticate the platform", api.provider.label()) })?;
    let text = crate::domain::shown(api.provider, post.text, post.link).body;
    // A text container is ready at once; one with files once the provider has fetched them.
    let with_files = !post.media.is_empty();
    let container = |params: Vec<(&'static str, String)>| async move {
        let (_, json) = send(http.post(format!("{base}/{user}/{}", api.create)).form(&params), token).await?;
        let id = field(&json, "/id")?;
        if with_files {
            finished(http, base, token, &id, api).await?;
        }
        Ok::<_, PublishError>(id)
    };
    let creation_id = match post.media {
        [] if !api.text_posts => return Err(PublishError::Rejected { message: format!("{} posts need an image or a video", api.provider.label()) }),
        [] => container(vec![("media_type", "TEXT".into()), (api.text, text)]).await?,
        [file] => {
            let mut params = item(file, api, false);
            params.push((api.text, text));
            container(params).await.map_err(|e| during("preparing file 1 of 1", e))?
        }
        files => {
            let mut children = Vec::with_capacity(files.len());
            for (i, file) in files.iter().enumerate() {
                let mut params = item(file, api, true);
                params.push(("is_carousel_item", "true".into()));
                children.push(container(params).await.map_err(|e| during(&format!("preparing file {} of {}", i + 1, files.len()), e))?);
            }
            let carousel = vec![("media_type", "CAROUSEL".into()), ("children", children.join(",")), (api.text, text)];
            container(carousel).await.map_err(|e| during("preparing the carousel", e))?
        }
    };
    let publish = http.post(format!("{base}/{user}/{}", api.publish)).form(&[("creation_id", creation_id.as_str())]);
    let (_, json) = send(publish, token).await.map_err(|e| posting(post, e))?;
    let id = field(&json, "/id")?;
    // The link is a nicety: a post that is out stays published if it cannot be read.
    let url = match send(http.get(format!("{base}/{id}")).query(&[("fields", "permalink")]), token).await {
        Ok((_, json)) => field(&json, "/permalink").ok(),
        Err(_) => None,
    };
    Ok(Published { id, url })
}

/// A file as a container's parameters: its type, the link the provider fetches it from,
/// and its alt text where the provider takes one.
fn item(file: &Outgoing, api: &Dialect, in_carousel: bool) -> Vec<(&'static str, String)> {
    let mut params = Vec::with_capacity(3);
    if file.media_type.is_video() {
        params.push(("media_type", if in_carousel { api.carousel_video } else { api.video }.into()));
        params.push(("video_url", file.link.clone()));
        if api.video_alt {
            params.push(("alt_text", file.alt.clone()));
        }
    } else {
        if let Some(kind) = api.image {
            params.push(("media_type", kind.into()));
        }
        params.push(("image_url", file.link.clone()));
        params.push(("alt_text", file.alt.clone()));
    }
    params
}

/// Waits until the container's status is `FINISHED`, a bounded number of times.
async fn finished(http: &reqwest::Client, base: &str, token: &SecretString, id: &str, api: &Dialect) -> Result<(), PublishError> {
    let fields = format!("{},error_message", api.status);
    for _ in 0..POLLS {
        let (_, json) = send(http.get(format!("{base}/{id}")).query(&[("fields", fields.as_str())]), token).await?;
        match json.get(api.status).and_then(serde_json::Value::as_str) {
            Some("FINISHED") | None => return Ok(()),
            Some("ERROR") | Some("EXPIRED") => {
                let why = json.get("error_message").and_then(serde_json::Value::as_str).unwrap_or("the provider could not prepare the file");
                return Err(PublishError::Rejected { message: why.chars().take(300).collect() });
            }
            _ => tokio::time::sleep(POLL_WAIT).await,
        }
    }
    Err(PublishError::Retryable { message: format!("{} is still preparing it", api.provider.label()), retry_after: Some(Duration::from_secs(60)) })
}
