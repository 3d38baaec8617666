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

/// An MP4's length in milliseconds, from the movie header (`moov` → `mvhd`: its timescale
/// and duration, ISO/IEC 14496-12 §8.2.2), wherever `moov` is in the file. `None` when
/// there is none or it is malformed: the length is then not checked.
pub fn mp4_duration_ms(file: &mut (impl std::io::Read + std::io::Seek)) -> Option<u64> {
    use std::io::SeekFrom;
    let end = file.seek(SeekFrom::End(0)).ok()?;
    let moov = find_box(file, 0, end, b"moov")?;
    let (body, body_end) = moov;
    let (mvhd, _) = find_box(file, body, body_end, b"mvhd")?;
    file.seek(SeekFrom::Start(mvhd)).ok()?;
    let mut version = [0u8; 4];
    file.read_exact(&mut version).ok()?;
    let (timescale, duration) = if version[0] == 1 {
        let mut b = [0u8; 28]; // creation (8), modification (8), timescale (4), duration (8)
        file.read_exact(&mut b).ok()?;
        (u32::from_be_bytes(b[16..20].try_into().ok()?), u64::from_be_bytes(b[20..28].try_into().ok()?))
    } else {
        let mut b = [0u8; 16]; // creation (4), modification (4), timescale (4), duration (4)
        file.read_exact(&mut b).ok()?;
        (u32::from_be_bytes(b[8..12].try_into().ok()?), u64::from(u32::from_be_bytes(b[12..16].try_into().ok()?)))
    };
    // All ones means "unknown"; a zero timescale would divide by zero.
    (timescale > 0 && duration != u64::MAX && duration != u64::from(u32::MAX)).then(|| u64::try_from(u128::from(duration) * 1000 / u128::from(timescale)).unwrap_or(u64::MAX))
}

/// The body (start, end) of the first box of `kind` among the boxes from `start` to `end`.
fn find_box(file: &mut (impl std::io::Read + std::io::Seek), mut at: u64, end: u64, kind: &[u8; 4]) -> Option<(u64, u64)> {
    use std::io::SeekFrom;
    // A file of a million boxes is not a video: bounded, so a crafted one cannot spin.
    for _ in 0..1_000_000 {
        if at.checked_add(8)? > end {
            return None;
        }
        file.seek(SeekFrom::Start(at)).ok()?;
        let mut header = [0u8; 8];
        file.read_exact(&mut header).ok()?;
        let (mut size, mut body) = (u64::from(u32::from_be_bytes(header[..4].try_into().ok()?)), at + 8);
        if size == 1 {
            let mut large = [0u8; 8];
            file.read_exact(&mut large).ok()?;
            size = u64::from_be_bytes(large);
            body += 8;
        } else if size == 0 {
            size = end - at; // to the end of the file
        }
        let box_end = at.checked_add(size)?;
        if size < body - at || box_end > end {
            return None;
        }
        if &header[4..] == kind {
            return Some((body, box_end));
        }
        at = box_end;
    }
    None
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

    /// A box of `kind` around `body`.
    fn mp4_box(kind: &[u8; 4], body: &[u8]) -> Vec<u8> {
        let mut b = ((body.len() + 8) as u32).to_be_bytes().to_vec();
        b.extend_from_slice(kind);
        b.extend_from_slice(body);
        b
    }

    fn mvhd(version: u8, timescale: u32, duration: u64) -> Vec<u8> {
        let mut body = vec![version, 0, 0, 0];
        if version == 1 {
            body.extend_from_slice(&[0; 16]);
            body.extend_from_slice(&timescale.to_be_bytes());
            body.extend_from_slice(&duration.to_be_bytes());
        } else {
            body.extend_from_slice(&[0; 8]);
            body.extend_from_slice(&timescale.to_be_bytes());
            body.extend_from_slice(&(duration as u32).to_be_bytes());
        }
        body.extend_from_slice(&[0; 80]); // rate, volume, matrix… as a real header has
        mp4_box(b"mvhd", &body)
    }

    #[test]
    fn reads_an_mp4s_length_wherever_its_header_is() {
        let ftyp = mp4_box(b"ftyp", b"mp42\0\0\0\0isommp42");
        let duration = |file: Vec<u8>| mp4_duration_ms(&mut std::io::Cursor::new(file));
        // moov first, version 0: 61.5 s at a timescale of 600.
        let first = [ftyp.clone(), mp4_box(b"moov", &mvhd(0, 600, 36_900)), mp4_box(b"mdat", &[7; 1000])].concat();
        assert_eq!(duration(first), Some(61_500));
        // moov after a large mdat written with a 64-bit size, version 1.
        let mut mdat = 1u32.to_be_bytes().to_vec();
        mdat.extend_from_slice(b"mdat");
        mdat.extend_from_slice(&(16u64 + 5000).to_be_bytes());
        mdat.extend_from_slice(&[9; 5000]);
        let last = [ftyp.clone(), mdat, mp4_box(b"moov", &[mp4_box(b"free", &[0; 4]), mvhd(1, 90_000, 90_000 * 1261)].concat())].concat();
        assert_eq!(duration(last), Some(1_261_000));
        // No moov, a box that claims more than the file, a zero timescale: not known.
        assert_eq!(duration(ftyp.clone()), None);
        let mut lying = ftyp.clone();
        lying.extend_from_slice(&[0xFF, 0xFF, 0xFF, 0xF0, b'm', b'o', b'o', b'v']);
        assert_eq!(duration(lying), None);
        assert_eq!(duration([ftyp, mp4_box(b"moov", &mvhd(0, 0, 100))].concat()), None);
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
