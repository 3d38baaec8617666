//! The `secrets` table (ciphertext only) and the `credentials` table (the facts about a
//! platform's credentials that are not secret).

use super::{now, StoreError};
use crate::{domain::SecretField, on_db, server::db::Db, transaction};
use chrono::{DateTime, Utc};
use uuid::Uuid;

/// A stored secret: still ciphertext.
#[derive(Clone, PartialEq, Eq)]
pub struct SealedSecret {
    pub platform_id: Uuid,
    pub field: SecretField,
    pub ciphertext: Vec<u8>,
    pub key_version: u32,
    pub updated_at: DateTime<Utc>,
}

impl std::fmt::Debug for SealedSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SealedSecret")
            .field("platform_id", &self.platform_id)
            .field("field", &self.field)
            .field("key_version", &self.key_version)
            .finish_non_exhaustive()
    }
}

/// A `secrets` row: platform_id, field, ciphertext, key_version, updated_at.
pub(super) type Row = (Uuid, String, Vec<u8>, i32, DateTime<Utc>);

pub(super) fn decode(rows: Vec<Row>) -> Result<Vec<SealedSecret>, StoreError> {
    rows.into_iter()
        .map(|(platform_id, field, ciphertext, key_version, updated_at)| {
            Ok(SealedSecret { platform_id, field: field.parse().map_err(StoreError::Corrupt)?, ciphertext, key_version: key_version as u32, updated_at })
        })
        .collect()
}

/// Counts `n` encryptions with `key_version` inside a write's transaction, refusing
/// (`KeyExhausted`) once the key has made `limit`: no secret is written uncounted.
macro_rules! count_encryptions {
    ($tx:ident, $n:expr, $key_version:expr, $limit:expr) => {{
        let (count,): (i64,) = sqlx::query_as("UPDATE encryption_keys SET encryptions = encryptions + $1 WHERE version = $2 RETURNING encryptions")
            .bind($n as i64)
            .bind($key_version as i32)
            .fetch_one(&mut *$tx)
            .await?;
        if count > $limit {
            return Err(StoreError::KeyExhausted { version: $key_version });
        }
    }};
}
pub(super) use count_encryptions;

/// Stores what `seal` returns as the platform's `field`, counting the encryption (see
/// [`count_encryptions!`]) in the same transaction.
pub async fn put(
    db: &Db,
    platform_id: Uuid,
    field: SecretField,
    key_version: u32,
    limit: i64,
    seal: impl FnOnce() -> Vec<u8>,
) -> Result<(), StoreError> {
    let at = now();
    transaction!(db, |tx| {
        count_encryptions!(tx, 1, key_version, limit);
        sqlx::query(
            "INSERT INTO secrets (platform_id, field, ciphertext, key_version, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $5) \
             ON CONFLICT (platform_id, field) DO UPDATE \
             SET ciphertext = excluded.ciphertext, key_version = excluded.key_version, updated_at = excluded.updated_at",
        )
        .bind(platform_id)
        .bind(field.as_str())
        .bind(seal())
        .bind(key_version as i32)
        .bind(at)
        .execute(&mut *tx)
        .await
        .map_err(StoreError::missing_platform)?;
        // A new value replaces whatever came from a plaintext store.
        sqlx::query("UPDATE credentials SET imported_plaintext = $1 WHERE platform_id = $2").bind(false).bind(platform_id).execute(&mut *tx).await?;
        Ok(())
    })
}

pub async fn for_platform(db: &Db, platform_id: Uuid) -> Result<Vec<SealedSecret>, StoreError> {
    let rows: Vec<Row> = on_db!(db, |pool| {
        sqlx::query_as(
            "SELECT platform_id, field, ciphertext, key_version, updated_at FROM secrets WHERE platform_id = $1 ORDER BY field",
        )
        .bind(platform_id)
        .fetch_all(pool)
        .await
    })?;
    decode(rows)
}

/// Every stored secret, for the encryption badges of the platform list.
pub async fn all(db: &Db) -> Result<Vec<SealedSecret>, StoreError> {
    let rows: Vec<Row> = on_db!(db, |pool| {
        sqlx::query_as("SELECT platform_id, field, ciphertext, key_version, updated_at FROM secrets").fetch_all(pool).await
    })?;
    decode(rows)
}

pub async fn one(db: &Db, platform_id: Uuid, field: SecretField) -> Result<Option<SealedSecret>, StoreError> {
    let row: Option<Row> = on_db!(db, |pool| {
        sqlx::query_as(
            "SELECT platform_id, field, ciphertext, key_version, updated_at FROM secrets WHERE platform_id = $1 AND field = $2",
        )
        .bind(platform_id)
        .bind(field.as_str())
        .fetch_optional(pool)
        .await
    })?;
    Ok(decode(row.into_iter().collect())?.pop())
}

/// Deletes one secret; `false` when there was none.
pub async fn delete(db: &Db, platform_id: Uuid, field: SecretField) -> Result<bool, StoreError> {
    let n = on_db!(db, |pool| {
        sqlx::query("DELETE FROM secrets WHERE platform_id = $1 AND field = $2")
            .bind(platform_id)
            .bind(field.as_str())
            .execute(pool)
            .await
            .map(|r| r.rows_affected())
    })?;
    Ok(n > 0)
}

/// The basic-auth user name, if one is stored.
pub async fn username(db: &Db, platform_id: Uuid) -> Result<Option<String>, StoreError> {
    let row: Option<(Option<String>,)> = on_db!(db, |pool| {
        sqlx::query_as("SELECT username FROM credentials WHERE platform_id = $1").bind(platform_id).fetch_optional(pool).await
    })?;
    Ok(row.and_then(|r| r.0))
}

pub async fn set_username(db: &Db, platform_id: Uuid, username: Option<&str>) -> Result<(), StoreError> {
    on_db!(db, |pool| {
        sqlx::query(
            "INSERT INTO credentials (platform_id, username, updated_at) VALUES ($1, $2, $3) \
             ON CONFLICT (platform_id) DO UPDATE SET username = excluded.username, updated_at = excluded.updated_at",
        )
        .bind(platform_id)
        .bind(username)
        .bind(now())
        .execute(pool)
        .await
        .map(|_| ())
    })
    .map_err(StoreError::missing_platform)
}


/// Marks the platform's secrets as having come from a plaintext store.
pub async fn flag_imported_plaintext(db: &Db, platform_id: Uuid) -> Result<(), StoreError> {
    on_db!(db, |pool| {
        sqlx::query(
            "INSERT INTO credentials (platform_id, imported_plaintext, updated_at) VALUES ($1, $2, $3) \
             ON CONFLICT (platform_id) DO UPDATE SET imported_plaintext = excluded.imported_plaintext, updated_at = excluded.updated_at",
        )
        .bind(platform_id)
        .bind(true)
        .bind(now())
        .execute(pool)
        .await
        .map(|_| ())
    })
    .map_err(StoreError::missing_platform)
}
