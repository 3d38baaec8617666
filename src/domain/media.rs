//! Images and video attached to posts: the types Keyport takes, what is known of a stored
//! file, and each provider's limits — checked in the composer as the marketer attaches,
//! and again on the server, with one message naming the provider and the limit.

use super::enums::wire_enum;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

wire_enum! {
    /// The real type of a stored file, read from its bytes (never from its name).
    MediaType, "media type" {
        Jpeg => "image/jpeg", "JPEG image";
        Png => "image/png", "PNG image";
        Gif => "image/gif", "GIF image";
        Webp => "image/webp", "WebP image";
        Mp4 => "video/mp4", "MP4 video";
    }
}

impl MediaType {
    pub fn is_video(self) -> bool {
        self == Self::Mp4
    }
}

/// Longest alt text, in characters: X's limit (1,000,
/// https://docs.x.com/x-api/media/metadata-create), the smallest of the providers that take one.
pub const ALT_MAX: usize = 1000;
/// Most files on one post, whichever the provider (LinkedIn and Threads take 20).
pub const MEDIA_PER_POST_MAX: usize = 20;

/// A stored file.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct Media {
    pub id: Uuid,
    pub media_type: MediaType,
    pub bytes: u64,
    pub width: Option<u32>,
    pub height: Option<u32>,
    /// A video's length in milliseconds, from its header.
    #[serde(default)]
    pub duration_ms: Option<u64>,
}

impl Media {
    /// Where a signed-in person's browser loads it.
    pub fn content_path(&self) -> String {
        format!("/api/media/{}/content", self.id)
    }
}

/// A file on a post, with its description for people who cannot see it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct Attached {
    pub media: Media,
    pub alt: String,
}

/// One file the compose form attaches (`form[media][i][id]`, `…[alt]`), in order.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct MediaPick {
    pub id: String,
    pub alt: String,
}

/// What a provider takes, from the catalog (providers.toml cites each number).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MediaLimits {
    /// The types it takes; none: Keyport cannot send it media (yet).
    pub types: Vec<MediaType>,
    /// Most images on one post (a video always goes alone).
    pub max_images: u32,
    pub image_bytes: u64,
    pub video_bytes: u64,
    /// Longest video, in seconds; 0: not checked.
    pub video_seconds: u32,
    /// Shortest video, in seconds; 0: not checked.
    pub video_min_seconds: u32,
    /// The provider takes no upload: it fetches each file from a link Keyport lends, so
    /// `PUBLIC_URL` must be reachable from the internet (Threads).
    pub by_url: bool,
    /// A post needs at least one file (Instagram has no text-only posts).
    pub required: bool,
    /// The widest and the tallest image it takes, as width:height (`[191, 100]` is 1.91:1).
    pub widest: Option<[u32; 2]>,
    pub tallest: Option<[u32; 2]>,
}

impl MediaLimits {
    pub fn takes_media(&self) -> bool {
        !self.types.is_empty()
    }
}

/// The first rule of `provider` (as people know it, e.g. "Mastodon") that `media` breaks,
/// in words; `None` when it takes them all.
pub fn media_problem(provider: &str, limits: &MediaLimits, media: &[Media]) -> Option<String> {
    if media.is_empty() {
        let what = if limits.types.iter().any(|t| t.is_video()) { "an image or a video" } else { "an image" };
        return limits.required.then(|| format!("{provider} posts need {what}: attach one, or untick the account"));
    }
    if !limits.takes_media() {
        return Some(format!("{provider} takes no images or video from Keyport yet: remove the media or untick the account"));
    }
    let videos = media.iter().filter(|m| m.media_type.is_video()).count();
    if videos > 0 && media.len() > 1 {
        return Some(format!("{provider} takes a video alone: attach one video, or only images"));
    }
    if media.len() > limits.max_images as usize && videos == 0 {
        let most = if limits.max_images == 1 { "one image".to_owned() } else { format!("at most {} images", limits.max_images) };
        return Some(format!("{provider} takes {most} per post; this post has {}", media.len()));
    }
    media.iter().enumerate().find_map(|(i, m)| file_problem(provider, limits, m).map(|p| format!("file {}: {p}", i + 1)))
}

/// The rule of `provider` one file breaks by its type or size, in words.
pub fn file_problem(provider: &str, limits: &MediaLimits, m: &Media) -> Option<String> {
    if !limits.takes_media() {
        return Some(format!("{provider} takes no images or video from Keyport yet"));
    }
    if !limits.types.contains(&m.media_type) {
        let takes = limits.types.iter().map(|t| t.label()).collect::<Vec<_>>().join(", ");
        return Some(format!("{provider} takes {takes}, not a {}", m.media_type.label()));
    }
    let (cap, what) = if m.media_type.is_video() { (limits.video_bytes, "video") } else { (limits.image_bytes, "images") };
    if m.bytes > cap {
        return Some(format!("{provider} takes {what} up to {}; this one is {}", size(cap), size(m.bytes)));
    }
    let longest = u64::from(limits.video_seconds) * 1000;
    if let Some(ms) = m.duration_ms.filter(|ms| longest > 0 && *ms > longest) {
        return Some(format!("{provider} takes video up to {}; this one is {}", length(longest), length(ms)));
    }
    let shortest = u64::from(limits.video_min_seconds) * 1000;
    if let Some(ms) = m.duration_ms.filter(|ms| *ms < shortest) {
        // Tenths, so a 2.6-second clip does not read as "3 s" beside a 3-second minimum.
        return Some(format!("{provider} takes video of at least {}; this one is {:.1} s", length(shortest), ms as f64 / 1000.0));
    }
    aspect_problem(provider, limits, m)
}

/// An image wider or taller than the provider takes (known once stored: the browser does
/// not say). Compared as cross products, so no ratio is rounded.
fn aspect_problem(provider: &str, limits: &MediaLimits, m: &Media) -> Option<String> {
    let (Some(w), Some(h)) = (m.width, m.height) else { return None };
    if m.media_type.is_video() || h == 0 {
        return None;
    }
    let (w, h) = (u64::from(w), u64::from(h));
    let wider = |[a, b]: [u32; 2]| w * u64::from(b) > u64::from(a) * h;
    let taller = |[a, b]: [u32; 2]| w * u64::from(b) < u64::from(a) * h;
    let out = limits.widest.is_some_and(wider) || limits.tallest.is_some_and(taller);
    out.then(|| {
        let ratio = |r: Option<[u32; 2]>| r.map_or_else(|| "any".to_owned(), |[a, b]| format!("{}:{}", a as f64 / b as f64, 1));
        format!("{provider} takes images from {} (tallest) to {} (widest); this one is {w}×{h}", ratio(limits.tallest), ratio(limits.widest))
    })
}

/// A length as people read it: "20 min", "2 min 20 s", "45 s".
pub fn length(ms: u64) -> String {
    let seconds = ms.div_ceil(1000);
    match (seconds / 60, seconds % 60) {
        (0, s) => format!("{s} s"),
        (m, 0) => format!("{m} min"),
        (m, s) => format!("{m} min {s} s"),
    }
}

/// A size as people read it: "977 KB", "5 MB", "15.5 MB" (of 1,024).
pub fn size(bytes: u64) -> String {
    const MB: u128 = 1024 * 1024;
    let bytes = u128::from(bytes); // no size from outside can overflow the sums below
    if bytes < MB {
        return format!("{} KB", (bytes + 512) / 1024);
    }
    let tenths = (bytes * 10 + MB / 2) / MB;
    if tenths % 10 == 0 {
        format!("{} MB", tenths / 10)
    } else {
        format!("{}.{} MB", tenths / 10, tenths % 10)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(media_type: MediaType, bytes: u64) -> Media {
        Media { id: Uuid::nil(), media_type, bytes, width: Some(10), height: Some(10), duration_ms: None }
    }

    fn x() -> MediaLimits {
        MediaLimits { types: vec![MediaType::Jpeg, MediaType::Png, MediaType::Gif, MediaType::Webp, MediaType::Mp4], max_images: 4, image_bytes: 5 * 1024 * 1024, video_bytes: 512 * 1024 * 1024, video_seconds: 140, video_min_seconds: 0, by_url: false, required: false, widest: None, tallest: None }
    }

    #[test]
    fn names_the_provider_and_the_limit_it_breaks() {
        let img = |b| file(MediaType::Jpeg, b);
        assert_eq!(media_problem("X", &x(), &[]), None);
        assert_eq!(media_problem("X", &x(), &[img(1000), img(5 * 1024 * 1024)]), None);
        assert_eq!(media_problem("X", &x(), &[img(1000), img(6 * 1024 * 1024)]).unwrap(), "file 2: X takes images up to 5 MB; this one is 6 MB");
        assert_eq!(media_problem("X", &x(), &vec![img(1); 5]).unwrap(), "X takes at most 4 images per post; this post has 5");
        assert_eq!(media_problem("X", &x(), &[img(1), file(MediaType::Mp4, 1)]).unwrap(), "X takes a video alone: attach one video, or only images");
        assert_eq!(media_problem("X", &x(), &[file(MediaType::Mp4, 600 * 1024 * 1024)]).unwrap(), "file 1: X takes video up to 512 MB; this one is 600 MB");
        let jpeg_only = MediaLimits { types: vec![MediaType::Jpeg], ..x() };
        assert_eq!(media_problem("Instagram", &jpeg_only, &[file(MediaType::Png, 1)]).unwrap(), "file 1: Instagram takes JPEG image, not a PNG image");
        assert!(media_problem("Reddit", &MediaLimits::default(), &[img(1)]).unwrap().starts_with("Reddit takes no images or video"));
        let instagram = MediaLimits { required: true, ..x() };
        assert_eq!(media_problem("Instagram", &instagram, &[]).unwrap(), "Instagram posts need an image or a video: attach one, or untick the account");
        assert_eq!(media_problem("Instagram", &instagram, &[img(1)]), None);
        let pinterest = MediaLimits { required: true, types: vec![MediaType::Jpeg, MediaType::Png], ..x() };
        assert_eq!(media_problem("Pinterest", &pinterest, &[]).unwrap(), "Pinterest posts need an image: attach one, or untick the account");
    }

    #[test]
    fn images_outside_the_aspect_ratios_are_named() {
        let instagram = MediaLimits { types: vec![MediaType::Jpeg], widest: Some([191, 100]), tallest: Some([4, 5]), ..x() };
        let image = |w, h| Media { width: Some(w), height: Some(h), ..file(MediaType::Jpeg, 1000) };
        for (w, h) in [(1080, 1350), (1080, 1080), (1910, 1000), (1080, 566)] {
            assert_eq!(file_problem("Instagram", &instagram, &image(w, h)), None, "{w}×{h}");
        }
        assert_eq!(file_problem("Instagram", &instagram, &image(1080, 1920)).unwrap(), "Instagram takes images from 0.8:1 (tallest) to 1.91:1 (widest); this one is 1080×1920");
        assert!(file_problem("Instagram", &instagram, &image(3000, 1000)).is_some(), "3:1 is too wide");
        assert_eq!(file_problem("X", &x(), &image(3000, 1000)), None, "X names no ratio");
    }

    #[test]
    fn a_video_longer_than_the_provider_takes_is_named() {
        let video = |ms| Media { duration_ms: Some(ms), ..file(MediaType::Mp4, 1000) };
        assert_eq!(file_problem("X", &x(), &video(140_000)), None);
        assert_eq!(file_problem("X", &x(), &video(140_001)).unwrap(), "X takes video up to 2 min 20 s; this one is 2 min 21 s");
        assert_eq!(file_problem("X", &x(), &Media { duration_ms: None, ..video(0) }), None, "an unknown length is not checked");
        assert_eq!(file_problem("X", &MediaLimits { video_seconds: 0, ..x() }, &video(u64::MAX)), None, "0: no limit");
        let linkedin = MediaLimits { video_min_seconds: 3, ..x() };
        assert_eq!(file_problem("LinkedIn", &linkedin, &video(3_000)), None);
        assert_eq!(file_problem("LinkedIn", &linkedin, &video(2_600)).unwrap(), "LinkedIn takes video of at least 3 s; this one is 2.6 s");
        assert_eq!(file_problem("X", &x(), &video(1)), None, "0: no minimum");
        assert_eq!(length(45_000), "45 s");
        assert_eq!(length(1_200_000), "20 min");
    }

    #[test]
    fn sizes_read_as_people_write_them() {
        assert_eq!(size(1_000_000), "977 KB");
        assert_eq!(size(5 * 1024 * 1024), "5 MB");
        assert_eq!(size(16_252_928), "15.5 MB");
        assert_eq!(size(0), "0 KB");
        assert_eq!(size(u64::MAX / 16), "1099511627776 MB");
    }
}
