//! The `media`, `post_media` and `delivery_media` tables: stored files, the files on each
//! post, and what each provider already holds of a delivery's files.

use super::{now, StoreError};
use crate::{
    domain::{Attached, Media, MediaType},
    on_db,
    server::db::Db,
};
use uuid::Uuid;

type Row = (Uuid, String, i64, Option<i64>, Option<i64>, Option<i64>);

fn media_of((id, media_type, bytes, width, height, duration): Row) -> Result<Media, StoreError> {
    let size = |n: Option<i64>| n.and_then(|n| u32::try_from(n).ok());
    let duration_ms = duration.and_then(|d| u64::try_from(d).ok());
    Ok(Media { id, media_type: media_type.parse::<MediaType>().map_err(StoreError::Corrupt)?, bytes: bytes.max(0) as u64, width: size(width), height: size(height), duration_ms })
}

/// A file's facts, to record once it is in storage.
pub struct NewMedia<'a> {
    pub sha256: &'a str,
    pub media_type: MediaType,
    pub bytes: u64,
    pub dimensions: Option<(u32, u32)>,
    pub duration_ms: Option<u64>,
    pub created_by: Option<Uuid>,
}

/// Records a stored file, or finds the row of the same bytes stored before.
pub async fn insert(db: &Db, m: &NewMedia<'_>) -> Result<Media, StoreError> {
    let (width, height) = m.dimensions.map_or((None, None), |(w, h)| (Some(i64::from(w)), Some(i64::from(h))));
    on_db!(db, |pool| {
        sqlx::query(
            "INSERT INTO media (id, sha256, media_type, bytes, width, height, duration_ms, created_by, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) \
             ON CONFLICT (sha256) DO NOTHING",
        )
        .bind(Uuid::now_v7())
        .bind(m.sha256)
        .bind(m.media_type.as_str())
        .bind(i64::try_from(m.bytes).unwrap_or(i64::MAX))
        .bind(width)
        .bind(height)
        .bind(m.duration_ms.map(|d| i64::try_from(d).unwrap_or(i64::MAX)))
        .bind(m.created_by)
        .bind(now())
        .execute(pool)
        .await
        .map(|_| ())
    })?;
    let row: Row = on_db!(db, |pool| sqlx::query_as("SELECT id, media_type, bytes, width, height, duration_ms FROM media WHERE sha256 = $1").bind(m.sha256).fetch_one(pool).await)?;
    media_of(row)
}

/// A stored file and its storage name (the SHA-256 of its bytes).
pub async fn get(db: &Db, id: Uuid) -> Result<Option<(Media, String)>, StoreError> {
    let row: Option<(Uuid, String, i64, Option<i64>, Option<i64>, Option<i64>, String)> =
        on_db!(db, |pool| sqlx::query_as("SELECT id, media_type, bytes, width, height, duration_ms, sha256 FROM media WHERE id = $1").bind(id).fetch_optional(pool).await)?;
    row.map(|(id, t, b, w, h, d, sha)| Ok((media_of((id, t, b, w, h, d))?, sha))).transpose()
}

/// The files among `ids` that exist, in no particular order.
pub async fn existing(db: &Db, ids: &[Uuid]) -> Result<Vec<Media>, StoreError> {
    let rows: Vec<Row> = crate::fetch_for_ids!(db, ids, "SELECT id, media_type, bytes, width, height, duration_ms FROM media WHERE id", "")?;
    rows.into_iter().map(media_of).collect()
}

/// The files on each of `posts`, each post's in order.
pub async fn of_posts(db: &Db, posts: &[Uuid]) -> Result<Vec<(Uuid, Attached)>, StoreError> {
    let rows: Vec<(Uuid, Uuid, String, i64, Option<i64>, Option<i64>, Option<i64>, String)> = crate::fetch_for_ids!(
        db,
        posts,
        "SELECT pm.post_id, m.id, m.media_type, m.bytes, m.width, m.height, m.duration_ms, pm.alt FROM post_media pm JOIN media m ON m.id = pm.media_id WHERE pm.post_id",
        "ORDER BY pm.post_id, pm.position"
    )?;
    rows.into_iter().map(|(post, id, t, b, w, h, d, alt)| Ok((post, Attached { media: media_of((id, t, b, w, h, d))?, alt }))).collect()
}

/// What the provider holds of each of a delivery's files (`media id → its reference`).
pub async fn uploaded(db: &Db, delivery: Uuid) -> Result<Vec<(Uuid, String)>, StoreError> {
    Ok(on_db!(db, |pool| sqlx::query_as("SELECT media_id, provider_ref FROM delivery_media WHERE delivery_id = $1").bind(delivery).fetch_all(pool).await)?)
}

/// Remembers that the provider holds `media` for `delivery` as `reference`.
pub async fn remember_upload(db: &Db, delivery: Uuid, media: Uuid, reference: &str) -> Result<(), StoreError> {
    on_db!(db, |pool| {
        sqlx::query(
            "INSERT INTO delivery_media (delivery_id, media_id, provider_ref, created_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (delivery_id, media_id) DO UPDATE SET provider_ref = excluded.provider_ref",
        )
        .bind(delivery)
        .bind(media)
        .bind(reference)
        .bind(now())
        .execute(pool)
        .await
        .map(|_| ())
    })?;
    Ok(())
}
