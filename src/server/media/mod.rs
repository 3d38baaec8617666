//! Uploaded images and video: taken in as a stream (never whole in memory), checked for what
//! they really are, stripped of location metadata, stored by the SHA-256 of what is kept,
//! served to signed-in people, and lent to providers that fetch media by URL through links
//! that expire.

mod inspect;
pub mod storage;

use super::{error::internal, state::AppState, store::{self, media::NewMedia}};
use crate::domain::{size, AppError, Media};
use bytes::Bytes;
use futures::{Stream, StreamExt, TryStreamExt};
use sha2::{Digest, Sha256};
use std::{fmt::Display, time::Duration};
use tokio::io::AsyncWriteExt;
use uuid::Uuid;

/// The largest image kept (images are read whole to strip their metadata): above every
/// provider's image limit in the catalog (Mastodon's 16 MB is the largest).
pub const IMAGE_MAX: u64 = 20 * 1024 * 1024;
/// How long a link lent to a provider works: long enough to fetch and process a video.
pub const LINK_LIFETIME: Duration = Duration::from_secs(3600);

/// Takes in one uploaded file: streams it to a temporary file (refusing it once it passes
/// the configured maximum), reads its real type from its first bytes, strips an image's
/// metadata, stores it by hash and records it. The same bytes uploaded again give the same
/// file.
pub async fn ingest<E: Display>(state: &AppState, uploader: Option<Uuid>, body: impl Stream<Item = Result<Bytes, E>>) -> Result<Media, AppError> {
    let cap = state.config.media.upload_max;
    let too_large = |limit: u64| AppError::invalid("file", format!("is larger than {}, the most Keyport takes", size(limit)));
    let (file, path) = tokio::task::spawn_blocking(|| tempfile::NamedTempFile::new().map(|f| f.into_parts()))
        .await
        .map_err(internal)?
        .map_err(|e| internal(format!("cannot create a temporary file for an upload: {e}")))?;
    let mut file = tokio::fs::File::from_std(file);
    let (mut hasher, mut head, mut total) = (Sha256::new(), Vec::with_capacity(inspect::HEAD), 0u64);
    let mut body = std::pin::pin!(body);
    while let Some(chunk) = body.next().await {
        let chunk = chunk.map_err(|e| AppError::invalid("file", format!("the upload broke off ({e})")))?;
        total += chunk.len() as u64;
        if total > cap {
            return Err(too_large(cap));
        }
        let wanted = inspect::HEAD.saturating_sub(head.len()).min(chunk.len());
        head.extend_from_slice(&chunk[..wanted]);
        hasher.update(&chunk);
        file.write_all(&chunk).await.map_err(|e| internal(format!("cannot write an upload to a temporary file: {e}")))?;
    }
    if total == 0 {
        return Err(AppError::invalid("file", "is empty"));
    }
    file.flush().await.map_err(internal)?;
    let media_type = inspect::sniff(&head).map_err(|why| AppError::invalid("file", why))?;
    let (sha256, bytes, dimensions, duration_ms) = if media_type.is_video() {
        let sha256 = hex::encode(hasher.finalize());
        let header = path.to_path_buf();
        let duration_ms = tokio::task::spawn_blocking(move || std::fs::File::open(header).ok().and_then(|mut f| inspect::mp4_duration_ms(&mut f))).await.map_err(internal)?;
        let file = tokio::fs::File::open(&path).await.map_err(internal)?;
        storage::put_file(&state.media, &storage::key(&sha256), file).await.map_err(unavailable)?;
        (sha256, total, None, duration_ms)
    } else {
        if total > IMAGE_MAX {
            return Err(AppError::invalid("file", format!("is an image larger than {}, the most Keyport takes for an image", size(IMAGE_MAX))));
        }
        let original = Bytes::from(tokio::fs::read(&path).await.map_err(internal)?);
        let kept = inspect::strip_metadata(media_type, original).map_err(|why| AppError::invalid("file", why))?;
        let sha256 = hex::encode(Sha256::digest(&kept));
        let (bytes, dimensions) = (kept.len() as u64, inspect::dimensions(&kept));
        storage::put_bytes(&state.media, &storage::key(&sha256), kept).await.map_err(unavailable)?;
        (sha256, bytes, dimensions, None)
    };
    drop(path); // removes the temporary file
    Ok(store::media::insert(&state.db, &NewMedia { sha256: &sha256, media_type, bytes, dimensions, duration_ms, created_by: uploader }).await?)
}

/// A storage failure: logged, and a 503 that asks to try again.
fn unavailable(e: object_store::Error) -> AppError {
    tracing::error!(error = %e, "media storage failed");
    AppError::Unavailable { message: "media storage did not answer: try again in a moment".into() }
}

/// A stored file and its bytes, as a stream.
pub async fn open(state: &AppState, id: Uuid) -> Result<(Media, futures::stream::BoxStream<'static, Result<Bytes, object_store::Error>>), AppError> {
    let (media, sha256) = store::media::get(&state.db, id).await?.ok_or_else(|| AppError::not_found(format!("media {id}")))?;
    use object_store::ObjectStoreExt;
    let found = state.media.get(&storage::key(&sha256)).await.map_err(|e| match e {
        object_store::Error::NotFound { .. } => internal(format!("media {id} is recorded but its file {sha256} is missing from storage")),
        e => unavailable(e),
    })?;
    Ok((media, found.into_stream()))
}

/// A stored file's bytes, whole (for a provider's upload).
pub async fn read(state: &AppState, id: Uuid) -> Result<Bytes, AppError> {
    let (_, stream) = open(state, id).await?;
    let parts: Vec<Bytes> = stream.try_collect().await.map_err(unavailable)?;
    Ok(parts.concat().into())
}

pub async fn get(state: &AppState, id: Uuid) -> Result<Media, AppError> {
    Ok(store::media::get(&state.db, id).await?.ok_or_else(|| AppError::not_found(format!("media {id}")))?.0)
}

/// What a link to `id` valid until `expires` (Unix seconds) signs.
fn link_message(id: Uuid, expires: i64) -> String {
    format!("media {id} until {expires}")
}

/// A link to the file that works without signing in until it expires, for a provider that
/// fetches media by URL (Instagram, Threads, Facebook). It works only where `PUBLIC_URL`
/// is reachable from the provider.
pub fn lend(state: &AppState, id: Uuid) -> String {
    link_until(state, id, super::clock::from_now(LINK_LIFETIME).timestamp())
}

/// A lent link that works until `expires` (Unix seconds).
pub fn link_until(state: &AppState, id: Uuid, expires: i64) -> String {
    let signature = state.keyring.sign_link(&link_message(id, expires));
    format!("{}/api/media/{id}/shared?expires={expires}&signature={signature}", state.config.web.public_url)
}

/// Whether a lent link is genuine and has not expired.
pub fn lent(state: &AppState, id: Uuid, expires: i64, signature: &str) -> bool {
    expires > chrono::Utc::now().timestamp() && state.keyring.verify_link(&link_message(id, expires), signature)
}
