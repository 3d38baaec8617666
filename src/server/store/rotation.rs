//! The `rotation_jobs` table and the batch queries of re-encryption: read secrets not on
//! the current key in key order, write them back with compare-and-swap on `key_version`.

use super::{
    now,
    secrets::{self, count_encryptions, SealedSecret},
    StoreError, Unique,
};
use crate::{
    domain::{JobState, RotationJob, SecretField},
    on_db,
    server::db::Db,
    transaction,
};
use chrono::{DateTime, Utc};
use uuid::Uuid;

/// Where a job stopped: the last secret it handled.
pub type Cursor = Option<(Uuid, String)>;

type JobRow = (Uuid, String, i32, i64, i64, i64, f64, String, DateTime<Utc>, Option<DateTime<Utc>>, Option<String>, Option<Uuid>, Option<String>);

const JOB_COLUMNS: &str = "id, state, target_version, total, done, failed, busy_seconds, started_by, started_at, finished_at, last_error, cursor_owner, cursor_field";

fn decode(row: JobRow) -> Result<(RotationJob, Cursor), StoreError> {
    let (id, state, target_version, total, done, failed, busy_seconds, started_by, started_at, finished_at, last_error, cp, cf) = row;
    let state = state.parse().map_err(StoreError::Corrupt)?;
    let job = RotationJob { id, state, target_version: target_version as u32, total, done, failed, busy_seconds, started_by, started_at, finished_at, last_error };
    Ok((job, cp.zip(cf)))
}

/// How many stored secrets are not sealed with `version`.
pub async fn count_not_on(db: &Db, version: u32) -> Result<i64, StoreError> {
    let (n,): (i64,) = on_db!(db, |pool| {
        sqlx::query_as("SELECT COUNT(*) FROM secrets WHERE key_version <> $1").bind(version as i32).fetch_one(pool).await
    })?;
    Ok(n)
}

/// Starts a job; `Duplicate` when one is already running or paused.
pub async fn create(db: &Db, target_version: u32, total: i64, started_by: &str) -> Result<RotationJob, StoreError> {
    let id = Uuid::now_v7();
    let at = now();
    on_db!(db, |pool| {
        sqlx::query(
            "INSERT INTO rotation_jobs (id, state, active, target_version, total, started_by, started_at, updated_at) \
             VALUES ($1, 'running', 1, $2, $3, $4, $5, $5)",
        )
        .bind(id)
        .bind(target_version as i32)
        .bind(total)
        .bind(started_by)
        .bind(at)
        .execute(pool)
        .await
        .map(|_| ())
    })
    .map_err(StoreError::unique(Unique::ActiveRotation))?;
    latest(db).await?.map(|(job, _)| job).ok_or_else(|| StoreError::Corrupt("the job just started is not there".into()))
}

/// The most recent job and its cursor.
pub async fn latest(db: &Db) -> Result<Option<(RotationJob, Cursor)>, StoreError> {
    let row: Option<JobRow> = on_db!(db, |pool| {
        sqlx::query_as(&format!("SELECT {JOB_COLUMNS} FROM rotation_jobs ORDER BY started_at DESC, id DESC LIMIT 1"))
            .fetch_optional(pool)
            .await
    })?;
    row.map(decode).transpose()
}

/// Pauses a running job or resumes a paused one; `false` when it was not in `from`.
pub async fn set_state(db: &Db, id: Uuid, from: JobState, to: JobState) -> Result<bool, StoreError> {
    let n = on_db!(db, |pool| {
        sqlx::query("UPDATE rotation_jobs SET state = $1, lease_owner = NULL, lease_until = NULL, updated_at = $2 WHERE id = $3 AND state = $4")
            .bind(to.as_str())
            .bind(now())
            .bind(id)
            .bind(from.as_str())
            .execute(pool)
            .await
            .map(|r| r.rows_affected())
    })?;
    Ok(n == 1)
}

/// Takes (or renews) the right to work on a running job until `until`.
pub async fn claim(db: &Db, id: Uuid, owner: Uuid, until: DateTime<Utc>) -> Result<bool, StoreError> {
    let at = now();
    let n = on_db!(db, |pool| {
        sqlx::query(
            "UPDATE rotation_jobs SET lease_owner = $1, lease_until = $2 WHERE id = $3 AND state = 'running' \
             AND (lease_owner IS NULL OR lease_owner = $1 OR lease_until < $4)",
        )
        .bind(owner)
        .bind(until)
        .bind(id)
        .bind(at)
        .execute(pool)
        .await
        .map(|r| r.rows_affected())
    })?;
    Ok(n == 1)
}

/// The next secrets after `cursor` not sealed with `version`, in key order (owner id,
/// field); only one platform's (its own and its accounts') with `platform`. Measured per
/// backend (docs/performance.md): PostgreSQL walks the primary key from the cursor
/// (row-value comparison; the first batch starts from the smallest key); SQLite is fastest
/// reading the table in one pass per batch (31,000/s against 17,000/s through the index).
pub async fn next_batch(db: &Db, version: u32, cursor: &Cursor, platform: Option<Uuid>, limit: i64) -> Result<Vec<SealedSecret>, StoreError> {
    let (cursor_owner, cursor_field) = cursor.clone().unzip();
    let columns = secrets::COLUMNS;
    let rows: Vec<secrets::Row> = on_db!(
        db,
        sqlite |pool| sqlx::query_as(&format!(
            "SELECT {columns} FROM secrets \
             WHERE key_version <> $1 AND ($2 IS NULL OR owner_id > $2 OR (owner_id = $2 AND field > $3)) \
             AND ($4 IS NULL OR platform_id = $4) ORDER BY owner_id, field LIMIT $5",
        ))
        .bind(version as i32)
        .bind(cursor_owner)
        .bind(cursor_field)
        .bind(platform)
        .bind(limit)
        .fetch_all(pool)
        .await,
        // Not a cached prepared statement: after five runs PostgreSQL would switch to a
        // generic plan, which without the cursor's value scans and sorts the whole table.
        postgres |pool| sqlx::query_as(&format!(
            "SELECT {columns} FROM secrets \
             WHERE key_version <> $1 AND (owner_id, field) > ($2, $3) AND ($4::uuid IS NULL OR platform_id = $4) \
             ORDER BY owner_id, field LIMIT $5",
        ))
        .persistent(false)
        .bind(version as i32)
        .bind(cursor_owner.unwrap_or(Uuid::nil()))
        .bind(cursor_field.unwrap_or_default())
        .bind(platform)
        .bind(limit)
        .fetch_all(pool)
        .await,
    )?;
    secrets::decode(rows)
}

/// A secret re-sealed with the new key, to replace the one still on `old_version`.
pub struct Resealed {
    pub owner_id: Uuid,
    pub field: SecretField,
    pub old_version: u32,
    pub ciphertext: Vec<u8>,
}

/// The job's part of a batch: whose it is and how far it got.
pub struct Progress<'a> {
    pub job: Uuid,
    pub owner: Uuid,
    pub failed: i64,
    pub cursor: &'a (Uuid, String),
    pub busy_seconds: f64,
}

/// Writes one batch in one transaction: counts the encryptions, replaces each secret only
/// if it is still on its old version (a refresh may have replaced it meanwhile — then the
/// newer value wins), and records the job's progress. `None`: the job is no longer ours
/// to work on (paused, or another instance took it over); nothing was written.
pub async fn apply(db: &Db, version: u32, limit: i64, batch: &[Resealed], progress: Option<Progress<'_>>) -> Result<Option<u64>, StoreError> {
    let at = now();
    let v = version as i32;
    transaction!(db, |tx| {
        if let Some(p) = &progress {
            let n = sqlx::query(
                "UPDATE rotation_jobs SET done = done + $1, failed = failed + $2, cursor_owner = $3, cursor_field = $4, \
                 busy_seconds = busy_seconds + $5, updated_at = $6 WHERE id = $7 AND lease_owner = $8 AND state = 'running'",
            )
            .bind(batch.len() as i64)
            .bind(p.failed)
            .bind(p.cursor.0)
            .bind(&p.cursor.1)
            .bind(p.busy_seconds)
            .bind(at)
            .bind(p.job)
            .bind(p.owner)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if n != 1 {
                return Ok(None);
            }
        }
        if batch.is_empty() {
            return Ok(Some(0));
        }
        count_encryptions!(tx, batch.len(), version, limit);
    } sqlite {
        let mut written = 0;
        for r in batch {
            written += sqlx::query(
                "UPDATE secrets SET ciphertext = $1, key_version = $2, updated_at = $3 \
                 WHERE owner_id = $4 AND field = $5 AND key_version = $6",
            )
            .bind(&r.ciphertext)
            .bind(v)
            .bind(at)
            .bind(r.owner_id)
            .bind(r.field.as_str())
            .bind(r.old_version as i32)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        }
        Ok(Some(written))
    } postgres {
        // One round trip per batch: the rows travel as arrays. `key_version + 0`: match
        // each row through the primary key only. Compared bare, the planner (without
        // statistics, as after an import) also walks the key_version index — every
        // secret, once per row: 2.3 s per batch of 1,000 at 100,000 secrets instead of 11 ms.
        let ids: Vec<Uuid> = batch.iter().map(|r| r.owner_id).collect();
        let fields: Vec<&str> = batch.iter().map(|r| r.field.as_str()).collect();
        let ciphertexts: Vec<&[u8]> = batch.iter().map(|r| r.ciphertext.as_slice()).collect();
        let olds: Vec<i32> = batch.iter().map(|r| r.old_version as i32).collect();
        let written = sqlx::query(
            "UPDATE secrets AS s SET ciphertext = v.c, key_version = $5, updated_at = $6 \
             FROM UNNEST($1::uuid[], $2::text[], $3::bytea[], $4::int[]) AS v(p, f, c, old) \
             WHERE s.owner_id = v.p AND s.field = v.f AND s.key_version + 0 = v.old",
        )
        .bind(&ids)
        .bind(&fields)
        .bind(&ciphertexts)
        .bind(&olds)
        .bind(v)
        .bind(at)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        Ok(Some(written))
    })
}

/// Marks the job done (it found nothing more to do). Its total, counted at the start,
/// becomes what it handled: secrets that other writes moved to the new key meanwhile (a
/// token refresh, an edit) or that were deleted were never the job's to do, and a finished
/// job reads 100 %.
pub async fn finish(db: &Db, id: Uuid, owner: Uuid) -> Result<bool, StoreError> {
    let at = now();
    let n = on_db!(db, |pool| {
        sqlx::query(
            "UPDATE rotation_jobs SET state = 'done', total = done + failed, active = NULL, lease_owner = NULL, lease_until = NULL, \
             finished_at = $1, updated_at = $1 WHERE id = $2 AND lease_owner = $3 AND state = 'running'",
        )
        .bind(at)
        .bind(id)
        .bind(owner)
        .execute(pool)
        .await
        .map(|r| r.rows_affected())
    })?;
    Ok(n == 1)
}

/// Ends the running or paused job when it re-encrypts to another key than `version` (a
/// rotation made a newer one); `true` when there was one.
pub async fn supersede(db: &Db, version: u32) -> Result<bool, StoreError> {
    let at = now();
    let n = on_db!(db, |pool| {
        sqlx::query(
            "UPDATE rotation_jobs SET state = 'done', active = NULL, lease_owner = NULL, lease_until = NULL, finished_at = $1, \
             updated_at = $1, last_error = $2 WHERE active = 1 AND target_version <> $3",
        )
        .bind(at)
        .bind(format!("superseded by the rotation to v{version}"))
        .bind(version as i32)
        .execute(pool)
        .await
        .map(|r| r.rows_affected())
    })?;
    Ok(n > 0)
}
