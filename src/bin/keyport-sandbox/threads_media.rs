//! Media containers of the Threads personality (https://developers.facebook.com/docs/threads/posts)
//! and, in [`INSTAGRAM`]'s dialect, of the Instagram one (`media` / `media_publish`,
//! `caption`, an image by `image_url` alone, `REELS` for a lone video, JPEG only):
//! `media_type=IMAGE` with `image_url`, or `VIDEO` with `video_url`, which Threads fetches
//! itself ("it must be on a public server"); `is_carousel_item=true` for a carousel's items,
//! then `media_type=CAROUSEL` with `children` (their ids, comma separated); `alt_text`
//! describes an item. `GET /{container}?fields=status,error_message` answers `FINISHED`
//! once made. Images are JPEG or PNG of at most 8 MB; a carousel holds 2 to
//! [`CAROUSEL_MAX`] items.
//!
//! The sandbox fetches each URL as Threads does, so a test sees Keyport's lent links work
//! from outside (and expire).

use crate::account::Account;
use crate::media::Attachment;
use crate::meta::graph_error;
use crate::state::AppState;
use crate::urlenc::Params;
use axum::http::StatusCode;
use axum::response::Response;
use std::time::Duration;

/// Items in one carousel. Meta's page was read only in part; guides say 10 or 20: the
/// sandbox and the catalog take 10.
pub const CAROUSEL_MAX: usize = 10;
const IMAGE_MAX: usize = 8 * 1024 * 1024;
const VIDEO_MAX: usize = 32 * 1024 * 1024;

/// Where Threads and Instagram differ.
pub struct Dialect {
    pub create: &'static str,
    pub publish: &'static str,
    text: &'static str,
    text_max: usize,
    /// `media_type` of a lone video.
    video: &'static str,
    /// Image types it fetches.
    images: &'static [&'static str],
    /// An image is `image_url` alone, with no `media_type` (Instagram).
    untyped_images: bool,
    text_posts: bool,
}

pub const THREADS: Dialect = Dialect { create: "threads", publish: "threads_publish", text: "text", text_max: 500, video: "VIDEO", images: &["image/jpeg", "image/png"], untyped_images: false, text_posts: true };
/// "JPEG is the only image format supported"; a caption of up to 2,200 characters.
pub const INSTAGRAM: Dialect = Dialect { create: "media", publish: "media_publish", text: "caption", text_max: 2200, video: "REELS", images: &["image/jpeg"], untyped_images: true, text_posts: false };

/// A container made and not published yet.
#[derive(Debug, Clone)]
pub struct Container {
    pub author: Account,
    pub text: String,
    pub media: Vec<Attachment>,
    pub carousel_item: bool,
}

fn bad(message: &str) -> Response {
    graph_error(StatusCode::BAD_REQUEST, 100, None, &format!("(#100) {message}"))
}

/// The container a `POST /{user}/threads` asks for; its id.
pub async fn make(app: &AppState, author: Account, params: &Params, api: &Dialect) -> Result<String, Response> {
    let text = params.get(api.text).unwrap_or_default().to_owned();
    if text.chars().count() > api.text_max {
        return Err(bad(&format!("{} is limited to {} characters", api.text, api.text_max)));
    }
    let carousel_item = params.get("is_carousel_item") == Some("true");
    let kind = params.get("media_type").or_else(|| (api.untyped_images && params.get("image_url").is_some()).then_some("IMAGE"));
    let container = match kind {
        Some("TEXT") if api.text_posts && !text.trim().is_empty() && !carousel_item => Container { author, text, media: Vec::new(), carousel_item },
        Some("TEXT") => return Err(bad("text is required for a TEXT post")),
        Some(kind) if kind == "IMAGE" || kind == api.video || (carousel_item && kind == "VIDEO") => {
            let (field, is_image) = if kind == "IMAGE" { ("image_url", true) } else { ("video_url", false) };
            let url = params.get(field).ok_or_else(|| bad(&format!("{field} is required for media_type={kind}")))?;
            let (mime, bytes) = fetch(url, is_image).await.map_err(|why| bad(&why))?;
            if is_image && !api.images.contains(&mime) {
                return Err(bad(&format!("the image must be one of {}", api.images.join(", "))));
            }
            let alt = params.get("alt_text").unwrap_or_default().to_owned();
            let id = app.store().media.keep(&author.id, mime.to_owned(), bytes, alt.clone(), Duration::ZERO);
            Container { author, text, media: vec![Attachment { id, mime: mime.to_owned(), description: alt }], carousel_item }
        }
        Some("CAROUSEL") => {
            let ids: Vec<&str> = params.get("children").unwrap_or_default().split(',').map(str::trim).filter(|s| !s.is_empty()).collect();
            if !(2..=CAROUSEL_MAX).contains(&ids.len()) {
                return Err(bad(&format!("children must name 2 to {CAROUSEL_MAX} carousel items")));
            }
            let media = {
                let store = app.store();
                let mut media = Vec::with_capacity(ids.len());
                for id in ids {
                    let child = store.containers.get(id).filter(|c| c.carousel_item && c.author.id == author.id).ok_or_else(|| bad(&format!("{id} is not a carousel item of this user")))?;
                    media.extend(child.media.iter().cloned());
                }
                media
            };
            Container { author, text, media, carousel_item: false }
        }
        _ => return Err(bad("this media_type is not one this API takes")),
    };
    let id = crate::secrets::numeric_id(&uuid::Uuid::now_v7().to_string());
    app.store().containers.insert(id.clone(), container);
    Ok(id)
}

/// The file at `url`, as Threads fetches it (and Facebook a Page photo): a JPEG or PNG
/// image, or an MP4 video, within its size, read while it arrives.
pub async fn fetch(url: &str, image: bool) -> Result<(&'static str, axum::body::Bytes), String> {
    let cap = if image { IMAGE_MAX } else { VIDEO_MAX };
    let client = reqwest::Client::builder().timeout(Duration::from_secs(10)).build().map_err(|e| e.to_string())?;
    let mut response = client.get(url).send().await.map_err(|e| format!("the media could not be fetched from the URL ({e})"))?;
    if !response.status().is_success() {
        return Err(format!("the media could not be fetched from the URL (HTTP {})", response.status().as_u16()));
    }
    let mut bytes = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(|e| e.to_string())? {
        bytes.extend_from_slice(&chunk);
        if bytes.len() > cap {
            return Err(format!("the media is larger than {} MB", cap / 1024 / 1024));
        }
    }
    let mime = match (image, bytes.get(..8)) {
        (true, Some([0xFF, 0xD8, 0xFF, ..])) => "image/jpeg",
        (true, Some([0x89, b'P', b'N', b'G', ..])) => "image/png",
        (false, Some([_, _, _, _, b'f', b't', b'y', b'p'])) => "video/mp4",
        (true, _) => return Err("the image must be a JPEG or PNG".into()),
        (false, _) => return Err("the video must be an MP4".into()),
    };
    Ok((mime, bytes.into()))
}
