//! The `encryption_keys` table: each data key version, wrapped by the root key, with its
//! state, check value and encryption count.

use super::{now, StoreError, Unique};
use crate::{domain::KeyState, on_db, server::db::Db, transaction};
use chrono::{DateTime, Utc};

/// What the database knows about one key version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyUsage {
    pub version: u32,
    pub encryptions: i64,
    /// How many stored secrets are encrypted with this version.
    pub secrets: i64,
}

/// One stored data key.
#[derive(Clone, PartialEq, Eq)]
pub struct KeyRow {
    pub version: u32,
    pub state: KeyState,
    pub check_value: String,
    /// Wrapped by the root key; `None` before it was first wrapped, and once retired.
    pub wrapped: Option<Vec<u8>>,
    pub created_at: DateTime<Utc>,
}

impl std::fmt::Debug for KeyRow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyRow").field("version", &self.version).field("state", &self.state).field("wrapped", &self.wrapped.is_some()).finish()
    }
}

/// Every data key, oldest first.
pub async fn rows(db: &Db) -> Result<Vec<KeyRow>, StoreError> {
    let rows: Vec<(i32, String, String, Option<Vec<u8>>, DateTime<Utc>)> = on_db!(db, |pool| {
        sqlx::query_as("SELECT version, state, check_value, wrapped, created_at FROM encryption_keys ORDER BY version").fetch_all(pool).await
    })?;
    rows.into_iter()
        .map(|(version, state, check_value, wrapped, created_at)| {
            Ok(KeyRow { version: version as u32, state: state.parse().map_err(StoreError::Corrupt)?, check_value, wrapped, created_at })
        })
        .collect()
}

/// Adds a wrapped key unless its version exists (two instances starting on a new database
/// both try; the first one's stays).
pub async fn insert(db: &Db, version: u32, state: KeyState, check_value: &str, wrapped: &[u8]) -> Result<(), StoreError> {
    on_db!(db, |pool| {
        sqlx::query(
            "INSERT INTO encryption_keys (version, state, check_value, wrapped, encryptions, created_at) VALUES ($1, $2, $3, $4, 0, $5) \
             ON CONFLICT DO NOTHING",
        )
        .bind(version as i32)
        .bind(state.as_str())
        .bind(check_value)
        .bind(wrapped)
        .bind(now())
        .execute(pool)
        .await
        .map(|_| ())
    })?;
    Ok(())
}

/// Stores keys wrapped anew (first wrap of a key from the environment, or under a new
/// root key), each only if its row still holds `before`, in one transaction.
pub async fn rewrap(db: &Db, keys: &[(u32, Option<Vec<u8>>, Vec<u8>)]) -> Result<(), StoreError> {
    transaction!(db, |tx| {
        for (version, before, wrapped) in keys {
            sqlx::query("UPDATE encryption_keys SET wrapped = $1 WHERE version = $2 AND wrapped IS NOT DISTINCT FROM $3 AND state <> 'retired'")
                .bind(wrapped)
                .bind(*version as i32)
                .bind(before)
                .execute(&mut *tx)
                .await?;
        }
        Ok(())
    })
}

/// Makes `version` the active key when none is (the first start after data keys came).
pub async fn activate_if_none(db: &Db, version: u32) -> Result<(), StoreError> {
    on_db!(db, |pool| {
        sqlx::query(
            "UPDATE encryption_keys SET state = 'active' WHERE version = $1 AND state = 'decrypt_only' \
             AND NOT EXISTS (SELECT 1 FROM encryption_keys WHERE state = 'active')",
        )
        .bind(version as i32)
        .execute(pool)
        .await
        .map(|_| ())
    })?;
    Ok(())
}

/// Replaces the active key `from` with a new one, `version`, in one transaction: `false`
/// when `from` is no longer the active key or `version` is taken (another rotation won).
pub async fn rotate(db: &Db, from: u32, version: u32, check_value: &str, wrapped: &[u8]) -> Result<bool, StoreError> {
    let result = transaction!(db, |tx| {
        let demoted = sqlx::query("UPDATE encryption_keys SET state = 'decrypt_only' WHERE version = $1 AND state = 'active'")
            .bind(from as i32)
            .execute(&mut *tx)
            .await?;
        if demoted.rows_affected() != 1 {
            return Err(StoreError::Duplicate(Unique::ActiveKey));
        }
        sqlx::query("INSERT INTO encryption_keys (version, state, check_value, wrapped, encryptions, created_at) VALUES ($1, 'active', $2, $3, 0, $4)")
            .bind(version as i32)
            .bind(check_value)
            .bind(wrapped)
            .bind(now())
            .execute(&mut *tx)
            .await
            .map_err(StoreError::unique(Unique::ActiveKey))?;
        Ok(())
    });
    match result {
        Ok(()) => Ok(true),
        Err(StoreError::Duplicate(Unique::ActiveKey)) => Ok(false),
        Err(e) => Err(e),
    }
}

/// What retiring a key did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Retired {
    Done,
    /// No such version, or retired already.
    Unknown,
    /// It is the active key: rotate first.
    Active,
    /// Secrets still use it.
    InUse(i64),
}

/// Retires a decrypt-only key nothing uses: its wrapped key is erased, its row stays (the
/// version is never reused). The row is written first, which takes PostgreSQL's row lock
/// and SQLite's write lock: a write sealing with this key (it counts on the same row)
/// either commits before the count and is counted, or waits and then finds it retired.
pub async fn retire(db: &Db, version: u32) -> Result<Retired, StoreError> {
    let v = version as i32;
    transaction!(db, |tx| {
        let state: Option<(String,)> = sqlx::query_as("UPDATE encryption_keys SET state = state WHERE version = $1 RETURNING state")
            .bind(v)
            .fetch_optional(&mut *tx)
            .await?;
        match state.as_ref().map(|(s,)| s.as_str()) {
            None | Some("retired") => return Ok(Retired::Unknown),
            Some("active") => return Ok(Retired::Active),
            _ => {}
        }
        let (using,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM secrets WHERE key_version = $1").bind(v).fetch_one(&mut *tx).await?;
        if using > 0 {
            return Ok(Retired::InUse(using));
        }
        // A Facebook Page choice still open under it (10 minutes at most) ends: the person
        // connects again, as after it expires.
        sqlx::query("DELETE FROM page_picks WHERE key_version = $1").bind(v).execute(&mut *tx).await?;
        sqlx::query("UPDATE encryption_keys SET state = 'retired', wrapped = NULL WHERE version = $1").bind(v).execute(&mut *tx).await?;
        Ok(Retired::Done)
    })
}

/// Every key version the database has seen, with its counts, oldest first.
pub async fn usage(db: &Db) -> Result<Vec<KeyUsage>, StoreError> {
    let rows: Vec<(i32, i64, i64)> = on_db!(db, |pool| {
        sqlx::query_as(
            "SELECT k.version, k.encryptions, \
                    (SELECT COUNT(*) FROM secrets s WHERE s.key_version = k.version) \
             FROM encryption_keys k ORDER BY k.version",
        )
        .fetch_all(pool)
        .await
    })?;
    Ok(rows
        .into_iter()
        .map(|(version, encryptions, secrets)| KeyUsage { version: version as u32, encryptions, secrets })
        .collect())
}

/// How many encryptions `version` has made.
pub async fn encryptions(db: &Db, version: u32) -> Result<i64, StoreError> {
    let (n,): (i64,) = on_db!(db, |pool| {
        sqlx::query_as("SELECT encryptions FROM encryption_keys WHERE version = $1").bind(version as i32).fetch_one(pool).await
    })?;
    Ok(n)
}
