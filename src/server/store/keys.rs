//! The `encryption_keys` table: each key version's check value and encryption count.

use super::{now, StoreError};
use crate::{on_db, server::db::Db};

/// What the database knows about one key version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyUsage {
    pub version: u32,
    pub check_value: String,
    pub encryptions: i64,
    /// How many stored secrets are encrypted with this version.
    pub secrets: i64,
}

/// Records `check_value` for `version` unless one is stored already; returns the stored one.
pub async fn record_check_value(db: &Db, version: u32, check_value: &str) -> Result<String, StoreError> {
    let version = version as i32;
    let stored: (String,) = on_db!(db, |pool| {
        sqlx::query(
            "INSERT INTO encryption_keys (version, check_value, encryptions, created_at) VALUES ($1, $2, 0, $3) \
             ON CONFLICT (version) DO NOTHING",
        )
        .bind(version)
        .bind(check_value)
        .bind(now())
        .execute(pool)
        .await?;
        sqlx::query_as("SELECT check_value FROM encryption_keys WHERE version = $1").bind(version).fetch_one(pool).await
    })?;
    Ok(stored.0)
}

/// Every key version the database has seen, with its counts, oldest first.
pub async fn usage(db: &Db) -> Result<Vec<KeyUsage>, StoreError> {
    let rows: Vec<(i32, String, i64, i64)> = on_db!(db, |pool| {
        sqlx::query_as(
            "SELECT k.version, k.check_value, k.encryptions, \
                    (SELECT COUNT(*) FROM secrets s WHERE s.key_version = k.version) \
             FROM encryption_keys k ORDER BY k.version",
        )
        .fetch_all(pool)
        .await
    })?;
    Ok(rows
        .into_iter()
        .map(|(version, check_value, encryptions, secrets)| KeyUsage { version: version as u32, check_value, encryptions, secrets })
        .collect())
}

/// How many encryptions `version` has made.
pub async fn encryptions(db: &Db, version: u32) -> Result<i64, StoreError> {
    let (n,): (i64,) = on_db!(db, |pool| {
        sqlx::query_as("SELECT encryptions FROM encryption_keys WHERE version = $1").bind(version as i32).fetch_one(pool).await
    })?;
    Ok(n)
}
