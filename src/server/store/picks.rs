//! The `page_picks` table: a Facebook connection between the provider's answer and the
//! person's choice of Pages, as one sealed document (see `server::oauth::facebook`).

use super::{now, secrets::count_encryptions, StoreError};
use crate::{on_db, server::db::Db, transaction};
use chrono::{DateTime, Utc};
use uuid::Uuid;

/// A stored pick: whose it is, until when, and the sealed offer.
pub struct SealedPick {
    pub platform_id: Uuid,
    pub user_id: Uuid,
    pub ciphertext: Vec<u8>,
    pub expires_at: DateTime<Utc>,
}

type Row = (Uuid, Uuid, Vec<u8>, DateTime<Utc>);
const COLUMNS: &str = "platform_id, user_id, ciphertext, expires_at";

fn decode((platform_id, user_id, ciphertext, expires_at): Row) -> SealedPick {
    SealedPick { platform_id, user_id, ciphertext, expires_at }
}

/// Stores a new pick whose ciphertext `seal` makes for the row (counted against the key's
/// encryption limit in the same transaction).
pub async fn insert(db: &Db, id: Uuid, platform_id: Uuid, user_id: Uuid, expires_at: DateTime<Utc>, key_version: u32, limit: i64, ciphertext: Vec<u8>) -> Result<(), StoreError> {
    let at = now();
    transaction!(db, |tx| {
        count_encryptions!(tx, 1, key_version, limit);
        sqlx::query("INSERT INTO page_picks (id, platform_id, user_id, ciphertext, key_version, created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7)")
            .bind(id)
            .bind(platform_id)
            .bind(user_id)
            .bind(&ciphertext)
            .bind(key_version as i32)
            .bind(at)
            .bind(expires_at)
            .execute(&mut *tx)
            .await
            .map_err(StoreError::missing_platform)?;
        Ok(())
    })
}

/// The pick, if it exists and is this person's.
pub async fn get(db: &Db, id: Uuid, user_id: Uuid) -> Result<Option<SealedPick>, StoreError> {
    let row: Option<Row> = on_db!(db, |pool| {
        sqlx::query_as(&format!("SELECT {COLUMNS} FROM page_picks WHERE id = $1 AND user_id = $2"))
            .bind(id)
            .bind(user_id)
            .fetch_optional(pool)
            .await
    })?;
    Ok(row.map(decode))
}

/// Removes the pick and returns it: one statement, so two submissions cannot both use it.
pub async fn take(db: &Db, id: Uuid, user_id: Uuid) -> Result<Option<SealedPick>, StoreError> {
    let row: Option<Row> = on_db!(db, |pool| {
        sqlx::query_as(&format!("DELETE FROM page_picks WHERE id = $1 AND user_id = $2 RETURNING {COLUMNS}"))
            .bind(id)
            .bind(user_id)
            .fetch_optional(pool)
            .await
    })?;
    Ok(row.map(decode))
}

/// Deletes the picks nobody finished in time; returns how many.
pub async fn sweep(db: &Db) -> Result<u64, StoreError> {
    let at = now();
    let done = on_db!(db, |pool| sqlx::query("DELETE FROM page_picks WHERE expires_at <= $1").bind(at).execute(pool).await.map(|r| r.rows_affected()))?;
    Ok(done)
}
