//! The `login_throttle` table: sign-in attempts per key (an account or a client address)
//! in a fixed window, counted atomically.

use super::StoreError;
use crate::{on_db, server::db::Db};

/// Counts one attempt for `key` and answers how many its current window holds, this one
/// included; a window that began at or before `stale` starts again at 1. One statement:
/// concurrent attempts each get their own count, so no two can both see "below the limit".
pub async fn count_attempt(db: &Db, key: &str, now: i64, stale: i64) -> Result<i64, StoreError> {
    let (attempts,): (i64,) = on_db!(db, |pool| {
        sqlx::query_as(
            "INSERT INTO login_throttle (key, window_start, attempts) VALUES ($1, $2, 1) \
             ON CONFLICT (key) DO UPDATE SET \
             attempts = CASE WHEN login_throttle.window_start <= $3 THEN 1 ELSE login_throttle.attempts + 1 END, \
             window_start = CASE WHEN login_throttle.window_start <= $3 THEN $2 ELSE login_throttle.window_start END \
             RETURNING attempts",
        )
        .bind(key)
        .bind(now)
        .bind(stale)
        .fetch_one(pool)
        .await
    })?;
    Ok(attempts)
}

/// Takes back one attempt of `key` (it was a success: only failures should count).
pub async fn forgive(db: &Db, key: &str) -> Result<(), StoreError> {
    on_db!(db, |pool| {
        sqlx::query("UPDATE login_throttle SET attempts = attempts - 1 WHERE key = $1 AND attempts > 0").bind(key).execute(pool).await.map(|_| ())
    })?;
    Ok(())
}

/// Forgets every attempt of `key`.
pub async fn clear(db: &Db, key: &str) -> Result<(), StoreError> {
    on_db!(db, |pool| sqlx::query("DELETE FROM login_throttle WHERE key = $1").bind(key).execute(pool).await.map(|_| ()))?;
    Ok(())
}

/// Deletes windows that began at or before `stale`; how many.
pub async fn sweep(db: &Db, stale: i64) -> Result<u64, StoreError> {
    Ok(on_db!(db, |pool| {
        sqlx::query("DELETE FROM login_throttle WHERE window_start <= $1").bind(stale).execute(pool).await.map(|r| r.rows_affected())
    })?)
}
