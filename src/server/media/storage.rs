//! Where media files live: `object_store`'s one trait over a folder on this machine (the
//! default) or an S3-compatible bucket, chosen by the configuration. Files are named by the
//! SHA-256 of their bytes, so a file is written once however often it is uploaded.

use crate::server::config::MediaStorage;
use bytes::Bytes;
use object_store::{aws::AmazonS3Builder, local::LocalFileSystem, path::Path, ObjectStore, ObjectStoreExt, WriteMultipart};
use secrecy::ExposeSecret;
use std::sync::Arc;
use tokio::io::AsyncReadExt;

pub type Storage = Arc<dyn ObjectStore>;

/// Parts a large file is sent in: S3 takes parts of 5 MiB or more; two in flight at most,
/// so an upload holds about 16 MiB in memory whatever the file's size.
const PART: usize = 8 * 1024 * 1024;

/// The configured storage (a folder is created if missing); one sentence naming the
/// variable when it cannot be used.
pub fn open(config: &MediaStorage) -> Result<Storage, String> {
    match config {
        MediaStorage::Directory(dir) => {
            std::fs::create_dir_all(dir).map_err(|e| format!("MEDIA_DIR: cannot create {} ({e}); choose a folder Keyport may write to.", dir.display()))?;
            let store = LocalFileSystem::new_with_prefix(dir).map_err(|e| format!("MEDIA_DIR: cannot use {} ({e}).", dir.display()))?;
            Ok(Arc::new(store))
        }
        MediaStorage::S3 { bucket, endpoint, region, access_key_id, secret_access_key } => {
            let mut builder = AmazonS3Builder::new()
                .with_bucket_name(bucket)
                .with_region(region)
                .with_access_key_id(access_key_id)
                .with_secret_access_key(secret_access_key.expose_secret());
            if let Some(endpoint) = endpoint {
                builder = builder.with_endpoint(endpoint).with_allow_http(endpoint.starts_with("http://"));
            }
            Ok(Arc::new(builder.build().map_err(|e| format!("MEDIA_S3_BUCKET: cannot use bucket {bucket} ({e}).")) ?))
        }
    }
}

/// The storage name of the bytes whose SHA-256 is `sha256` (hex): `sha256/ab/abcdef…`.
pub fn key(sha256: &str) -> Path {
    Path::from(format!("sha256/{}/{sha256}", &sha256[..2]))
}

async fn stored(storage: &Storage, key: &Path) -> Result<bool, object_store::Error> {
    match storage.head(key).await {
        Ok(_) => Ok(true),
        Err(object_store::Error::NotFound { .. }) => Ok(false),
        Err(e) => Err(e),
    }
}

/// Stores `bytes` under `key` unless they are there already.
pub async fn put_bytes(storage: &Storage, key: &Path, bytes: Bytes) -> Result<(), object_store::Error> {
    if !stored(storage, key).await? {
        storage.put(key, bytes.into()).await?;
    }
    Ok(())
}

/// Streams `file` to `key` in parts (never whole in memory) unless it is there already.
pub async fn put_file(storage: &Storage, key: &Path, mut file: tokio::fs::File) -> Result<(), object_store::Error> {
    if stored(storage, key).await? {
        return Ok(());
    }
    let mut upload = WriteMultipart::new_with_chunk_size(storage.put_multipart(key).await?, PART);
    let mut buffer = vec![0u8; 1024 * 1024];
    loop {
        let n = match file.read(&mut buffer).await {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) => {
                let _ = upload.abort().await;
                return Err(object_store::Error::Generic { store: "media", source: Box::new(e) });
            }
        };
        upload.wait_for_capacity(1).await?;
        upload.write(&buffer[..n]);
    }
    upload.finish().await?;
    Ok(())
}
