//! What an uploaded file really is — its type read from its first bytes, never from its
//! name or the browser's word — its size in pixels, and for images the same picture without
//! the metadata that can say where it was taken.

use crate::domain::MediaType;
use bytes::Bytes;
use img_parts::{jpeg::{markers, Jpeg}, png::Png, webp::WebP, ImageEXIF};

/// Bytes enough to recognise every type Keyport takes.
pub const HEAD: usize = 64;

/// The file's real type, or a sentence saying what it is instead.
pub fn sniff(head: &[u8]) -> Result<MediaType, String> {
    let found = infer::get(head);
    found.and_then(|kind| kind.mime_type().parse::<MediaType>().ok()).ok_or_else(|| {
        let what = found.map_or_else(|| "of a type Keyport does not recognise".to_owned(), |kind| format!("a {} file", kind.extension().to_uppercase()));
        format!("is {what}: Keyport takes JPEG, PNG, GIF and WebP images and MP4 video")
    })
}

/// The picture without EXIF (GPS position, camera, time), XMP and IPTC metadata. The pixels
/// are not decoded or re-encoded, so nothing else changes: JPEG loses its APP1 (EXIF, XMP)
/// and APP13 (IPTC) segments, PNG its eXIf and text chunks, WebP its EXIF and XMP chunks.
/// GIF carries no such metadata. A file whose structure does not parse is refused.
pub fn strip_metadata(media_type: MediaType, bytes: Bytes) -> Result<Bytes, String> {
    let broken = |e: img_parts::Error| format!("is not a readable {} ({e})", media_type.label());
    Ok(match media_type {
        MediaType::Jpeg => {
            let mut jpeg = Jpeg::from_bytes(bytes).map_err(broken)?;
            jpeg.segments_mut().retain(|s| !matches!(s.marker(), markers::APP1 | markers::APP13));
            jpeg.encoder().bytes()
        }
        MediaType::Png => {
            let mut png = Png::from_bytes(bytes).map_err(broken)?;
            png.chunks_mut().retain(|c| !matches!(&c.kind(), b"eXIf" | b"tEXt" | b"zTXt" | b"iTXt"));
            png.encoder().bytes()
        }
        MediaType::Webp => {
            let mut webp = WebP::from_bytes(bytes).map_err(broken)?;
            webp.remove_chunks_by_id(img_parts::webp::CHUNK_XMP);
            webp.set_exif(None); // also drops the EXIF chunk and corrects the header's flags
            webp.encoder().bytes()
        }
        MediaType::Gif | MediaType::Mp4 => bytes,
    })
}

/// Width and height in pixels, for an image whose header says them.
pub fn dimensions(bytes: &[u8]) -> Option<(u32, u32)> {
    let size = imagesize::blob_size(bytes).ok()?;
    Some((u32::try_from(size.width).ok()?, u32::try_from(size.height).ok()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    macro_rules! fixture {
        ($name:literal) => {
            Bytes::from_static(include_bytes!(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/media/", $name)))
        };
    }

    fn contains(haystack: &[u8], needle: &[u8]) -> bool {
        haystack.windows(needle.len()).any(|w| w == needle)
    }

    /// The bytes from the first start-of-scan marker on: the compressed pixels.
    fn scan(jpeg: &[u8]) -> &[u8] {
        let at = jpeg.windows(2).position(|w| w == [0xFF, 0xDA]).expect("a scan");
        &jpeg[at..]
    }

    #[test]
    fn reads_the_type_from_the_bytes_not_the_name() {
        assert_eq!(sniff(&fixture!("photo.jpg")[..HEAD]), Ok(MediaType::Jpeg));
        assert_eq!(sniff(&fixture!("photo.png")[..HEAD]), Ok(MediaType::Png));
        assert_eq!(sniff(&fixture!("photo.webp")[..HEAD]), Ok(MediaType::Webp));
        assert_eq!(sniff(&fixture!("anim.gif")[..HEAD]), Ok(MediaType::Gif));
        let mp4 = b"\0\0\0\x18ftypmp42\0\0\0\0isommp42";
        assert_eq!(sniff(mp4), Ok(MediaType::Mp4));
        assert_eq!(sniff(&fixture!("not-an-image.jpg")), Err("is a PDF file: Keyport takes JPEG, PNG, GIF and WebP images and MP4 video".into()));
        assert!(sniff(b"hello").unwrap_err().starts_with("is of a type Keyport does not recognise"));
    }

    #[test]
    fn strips_the_gps_position_and_keeps_the_pixels() {
        let original = fixture!("photo.jpg");
        assert!(contains(&original, b"Exif\0\0") && contains(&original, b"KeyportCam") && contains(&original, b"xmpmeta"));
        let stripped = strip_metadata(MediaType::Jpeg, original.clone()).unwrap();
        for gone in [&b"Exif\0\0"[..], b"KeyportCam", b"xmpmeta"] {
            assert!(!contains(&stripped, gone), "{:?} is still there", String::from_utf8_lossy(gone));
        }
        assert_eq!(scan(&stripped), scan(&original), "the compressed picture is untouched");
        assert_eq!(dimensions(&stripped), Some((64, 48)));

        let png = strip_metadata(MediaType::Png, fixture!("photo.png")).unwrap();
        assert!(contains(&fixture!("photo.png"), b"eXIf") && !contains(&png, b"eXIf") && !contains(&png, b"KeyportCam"));
        assert_eq!(dimensions(&png), Some((64, 48)));

        let webp = strip_metadata(MediaType::Webp, fixture!("photo.webp")).unwrap();
        assert!(!contains(&webp, b"EXIF") && !contains(&webp, b"XMP ") && !contains(&webp, b"KeyportCam"));
        assert!(WebP::from_bytes(webp.clone()).is_ok());
        assert_eq!(u32::from_le_bytes(webp[4..8].try_into().unwrap()) as usize, webp.len() - 8, "the RIFF header says the new length");
        assert_eq!(dimensions(&webp), Some((64, 48)));
    }

    #[test]
    fn a_file_that_only_starts_like_an_image_is_refused() {
        let mut fake = fixture!("photo.png")[..HEAD].to_vec();
        fake.extend_from_slice(b"garbage");
        assert!(strip_metadata(MediaType::Png, Bytes::from(fake)).unwrap_err().starts_with("is not a readable PNG image"));
    }
}
