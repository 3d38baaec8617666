//! The `posts` and `deliveries` tables: the durable publish queue. Claiming differs per
//! backend (PostgreSQL skips rows other instances hold; SQLite has one writer at a time).

use super::{now, StoreError};
use crate::{
    domain::{Delivery, DeliveryStatus, Post, PostFilter, PostState},
    on_db,
    server::db::Db,
};
use chrono::{DateTime, Utc};
use uuid::Uuid;

/// A delivery to create with its post.
pub struct NewDelivery {
    pub platform_id: Uuid,
    pub status: DeliveryStatus,
    pub due_at: DateTime<Utc>,
}

/// Inserts a post and its deliveries in one transaction.
pub async fn insert(db: &Db, id: Uuid, text: &str, link: Option<&str>, state: PostState, scheduled_at: Option<DateTime<Utc>>, created_by: &str, deliveries: &[NewDelivery]) -> Result<(), StoreError> {
    let at = now();
    on_db!(db, |pool| {
        let mut tx = pool.begin().await?;
        sqlx::query("INSERT INTO posts (id, text, link, state, scheduled_at, created_by, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $7)")
            .bind(id)
            .bind(text)
            .bind(link)
            .bind(state.as_str())
            .bind(scheduled_at)
            .bind(created_by)
            .bind(at)
            .execute(&mut *tx)
            .await?;
        insert_deliveries(&mut tx, id, deliveries, at).await?;
        tx.commit().await?;
        Ok(())
    })
}

// The same insert for both transaction types (the pools differ, so the transactions do).
macro_rules! insert_deliveries_fn {
    ($name:ident, $db:ty) => {
        async fn $name(tx: &mut sqlx::Transaction<'_, $db>, post_id: Uuid, deliveries: &[NewDelivery], at: DateTime<Utc>) -> Result<(), sqlx::Error> {
            for d in deliveries {
                let id = Uuid::now_v7();
                sqlx::query(
                    "INSERT INTO deliveries (id, post_id, platform_id, status, due_at, idempotency_key, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
                )
                .bind(id)
                .bind(post_id)
                .bind(d.platform_id)
                .bind(d.status.as_str())
                .bind(d.due_at)
                // One key per delivery, for its whole life: every retry sends the same one.
                .bind(format!("keyport-{}", id.simple()))
                .bind(at)
                .execute(&mut **tx)
                .await?;
            }
            Ok(())
        }
    };
}
insert_deliveries_fn!(insert_deliveries_sqlite, sqlx::Sqlite);
insert_deliveries_fn!(insert_deliveries_pg, sqlx::Postgres);

trait InsertDeliveries {
    async fn insert_deliveries(&mut self, post_id: Uuid, deliveries: &[NewDelivery], at: DateTime<Utc>) -> Result<(), sqlx::Error>;
}
impl InsertDeliveries for sqlx::Transaction<'_, sqlx::Sqlite> {
    async fn insert_deliveries(&mut self, post_id: Uuid, deliveries: &[NewDelivery], at: DateTime<Utc>) -> Result<(), sqlx::Error> {
        insert_deliveries_sqlite(self, post_id, deliveries, at).await
    }
}
impl InsertDeliveries for sqlx::Transaction<'_, sqlx::Postgres> {
    async fn insert_deliveries(&mut self, post_id: Uuid, deliveries: &[NewDelivery], at: DateTime<Utc>) -> Result<(), sqlx::Error> {
        insert_deliveries_pg(self, post_id, deliveries, at).await
    }
}
async fn insert_deliveries<T: InsertDeliveries>(tx: &mut T, post_id: Uuid, deliveries: &[NewDelivery], at: DateTime<Utc>) -> Result<(), sqlx::Error> {
    tx.insert_deliveries(post_id, deliveries, at).await
}

/// Replaces a post that nothing has been sent for yet (a draft, or a scheduled post whose
/// time has not come). `false`: too late, a delivery has started (or it does not exist).
pub async fn replace_unsent(db: &Db, id: Uuid, text: &str, link: Option<&str>, state: PostState, scheduled_at: Option<DateTime<Utc>>, deliveries: &[NewDelivery]) -> Result<bool, StoreError> {
    let at = now();
    on_db!(db, |pool| {
        let mut tx = pool.begin().await?;
        if !tx.lock_unsent(id).await? {
            return Ok(false);
        }
        sqlx::query("UPDATE posts SET text = $1, link = $2, state = $3, scheduled_at = $4, updated_at = $5 WHERE id = $6")
            .bind(text)
            .bind(link)
            .bind(state.as_str())
            .bind(scheduled_at)
            .bind(at)
            .bind(id)
            .execute(&mut *tx)
            .await?;
        sqlx::query("DELETE FROM deliveries WHERE post_id = $1").bind(id).execute(&mut *tx).await?;
        insert_deliveries(&mut tx, id, deliveries, at).await?;
        tx.commit().await?;
        Ok(true)
    })
}

/// Cancels a post nothing has been sent for yet; `false` when too late.
pub async fn cancel_unsent(db: &Db, id: Uuid) -> Result<bool, StoreError> {
    let at = now();
    on_db!(db, |pool| {
        let mut tx = pool.begin().await?;
        if !tx.lock_unsent(id).await? {
            return Ok(false);
        }
        sqlx::query("UPDATE posts SET state = 'cancelled', updated_at = $1 WHERE id = $2").bind(at).bind(id).execute(&mut *tx).await?;
        sqlx::query("UPDATE deliveries SET status = 'cancelled', updated_at = $1 WHERE post_id = $2").bind(at).bind(id).execute(&mut *tx).await?;
        tx.commit().await?;
        Ok(true)
    })
}

/// Inside a transaction: whether the post is still a draft or scheduled and none of its
/// deliveries was claimed. On PostgreSQL the rows stay locked, so a worker skips them
/// until the transaction ends; SQLite's writer lock does the same for the whole database.
trait LockUnsent {
    async fn lock_unsent(&mut self, id: Uuid) -> Result<bool, sqlx::Error>;
}
impl LockUnsent for sqlx::Transaction<'_, sqlx::Sqlite> {
    async fn lock_unsent(&mut self, id: Uuid) -> Result<bool, sqlx::Error> {
        // Take the write lock first, so no worker claims between the check and the change.
        sqlx::query("UPDATE posts SET updated_at = updated_at WHERE id = $1").bind(id).execute(&mut **self).await?;
        let (state, started): (Option<String>, i64) = sqlx::query_as(
            "SELECT (SELECT state FROM posts WHERE id = $1), \
             (SELECT COUNT(*) FROM deliveries WHERE post_id = $1 AND (attempts > 0 OR status NOT IN ('waiting', 'queued')))",
        )
        .bind(id)
        .fetch_one(&mut **self)
        .await?;
        Ok(matches!(state.as_deref(), Some("draft" | "scheduled")) && started == 0)
    }
}
impl LockUnsent for sqlx::Transaction<'_, sqlx::Postgres> {
    async fn lock_unsent(&mut self, id: Uuid) -> Result<bool, sqlx::Error> {
        let state: Option<(String,)> = sqlx::query_as("SELECT state FROM posts WHERE id = $1 FOR UPDATE").bind(id).fetch_optional(&mut **self).await?;
        let rows: Vec<(String, i32)> = sqlx::query_as("SELECT status, attempts FROM deliveries WHERE post_id = $1 FOR UPDATE").bind(id).fetch_all(&mut **self).await?;
        let untouched = rows.iter().all(|(status, attempts)| *attempts == 0 && (status == "waiting" || status == "queued"));
        Ok(matches!(state.as_ref().map(|s| s.0.as_str()), Some("draft" | "scheduled")) && untouched)
    }
}

/// A delivery the worker now owns.
#[derive(Clone, Debug)]
pub struct Claimed {
    pub id: Uuid,
    pub post_id: Uuid,
    pub platform_id: Uuid,
    /// This attempt's number: written back with the outcome as a fencing token.
    pub attempts: i32,
    pub idempotency_key: String,
}

/// Claims up to `limit` due deliveries until `lease_until`, recording the attempt before
/// any provider is called.
pub async fn claim(db: &Db, limit: i64, lease_until: DateTime<Utc>) -> Result<Vec<Claimed>, StoreError> {
    let at = now();
    let skip_locked = if matches!(db, Db::Postgres(_)) { " FOR UPDATE SKIP LOCKED" } else { "" };
    let sql = format!(
        "UPDATE deliveries SET status = 'publishing', lease_until = $1, attempts = attempts + 1, attempt_started_at = $2, updated_at = $2 \
         WHERE id IN (SELECT id FROM deliveries WHERE status = 'queued' AND due_at <= $2 ORDER BY due_at LIMIT $3{skip_locked}) \
         RETURNING id, post_id, platform_id, attempts, idempotency_key"
    );
    let rows: Vec<(Uuid, Uuid, Uuid, i32, String)> =
        on_db!(db, |pool| sqlx::query_as(&sql).bind(lease_until).bind(at).bind(limit).fetch_all(pool).await)?;
    Ok(rows.into_iter().map(|(id, post_id, platform_id, attempts, idempotency_key)| Claimed { id, post_id, platform_id, attempts, idempotency_key }).collect())
}

/// Deliveries a crashed worker left 'publishing' past their lease, with their platform's provider.
pub async fn abandoned(db: &Db) -> Result<Vec<(Uuid, i32, Option<String>)>, StoreError> {
    let rows = on_db!(db, |pool| {
        sqlx::query_as(
            "SELECT d.id, d.attempts, s.provider FROM deliveries d LEFT JOIN oauth_settings s ON s.platform_id = d.platform_id \
             WHERE d.status = 'publishing' AND d.lease_until < $1",
        )
        .bind(now())
        .fetch_all(pool)
        .await
    })?;
    Ok(rows)
}

/// What became of one attempt.
pub struct Outcome<'a> {
    pub status: DeliveryStatus,
    pub provider_post_id: Option<&'a str>,
    pub provider_url: Option<&'a str>,
    pub error: Option<&'a str>,
    /// For a retry: when.
    pub due_at: Option<DateTime<Utc>>,
}

/// Records an attempt's outcome, if the attempt is still the delivery's latest (a worker
/// whose lease ran out must not overwrite its successor's result).
pub async fn record(db: &Db, id: Uuid, attempt: i32, outcome: &Outcome<'_>) -> Result<bool, StoreError> {
    let at = now();
    let n = on_db!(db, |pool| {
        sqlx::query(
            "UPDATE deliveries SET status = $1, provider_post_id = COALESCE($2, provider_post_id), provider_url = COALESCE($3, provider_url), \
             error = $4, due_at = COALESCE($5, due_at), lease_until = NULL, updated_at = $6 \
             WHERE id = $7 AND attempts = $8 AND status = 'publishing'",
        )
        .bind(outcome.status.as_str())
        .bind(outcome.provider_post_id)
        .bind(outcome.provider_url)
        .bind(outcome.error)
        .bind(outcome.due_at)
        .bind(at)
        .bind(id)
        .bind(attempt)
        .execute(pool)
        .await
        .map(|r| r.rows_affected())
    })?;
    Ok(n == 1)
}

/// Puts a failed or unconfirmed delivery back in the queue (the Retry button).
pub async fn requeue(db: &Db, id: Uuid) -> Result<Option<Uuid>, StoreError> {
    let at = now();
    let row: Option<(Uuid,)> = on_db!(db, |pool| {
        sqlx::query_as(
            "UPDATE deliveries SET status = 'queued', due_at = $1, error = NULL, updated_at = $1 \
             WHERE id = $2 AND status IN ('failed', 'unconfirmed') RETURNING post_id",
        )
        .bind(at)
        .bind(id)
        .fetch_optional(pool)
        .await
    })?;
    Ok(row.map(|r| r.0))
}

type PostRow = (Uuid, String, Option<String>, String, Option<DateTime<Utc>>, String, DateTime<Utc>, DateTime<Utc>);
type DeliveryRow = (Uuid, Uuid, Uuid, String, String, i32, DateTime<Utc>, Option<String>, Option<String>, Option<String>, DateTime<Utc>);

/// Posts matching the filter, newest first, with their deliveries.
pub async fn list(db: &Db, filter: &PostFilter, limit: i64) -> Result<Vec<Post>, StoreError> {
    let day_start = filter.day.map(|d| d.and_hms_opt(0, 0, 0).expect("midnight").and_utc());
    let day_end = day_start.map(|d| d + chrono::Duration::days(1));
    let posts: Vec<PostRow> = on_db!(db, |pool| {
        sqlx::query_as(
            "SELECT p.id, p.text, p.link, p.state, p.scheduled_at, p.created_by, p.created_at, p.updated_at FROM posts p \
             WHERE ($1 IS NULL OR p.created_at >= $1) AND ($2 IS NULL OR p.created_at < $2) \
             AND ($3 IS NULL AND $4 IS NULL OR EXISTS (SELECT 1 FROM deliveries d WHERE d.post_id = p.id \
                  AND ($3 IS NULL OR d.status = $3) AND ($4 IS NULL OR d.platform_id = $4))) \
             ORDER BY p.created_at DESC, p.id DESC LIMIT $5",
        )
        .bind(day_start)
        .bind(day_end)
        .bind(filter.status.map(|s| s.as_str()))
        .bind(filter.platform)
        .bind(limit)
        .fetch_all(pool)
        .await
    })?;
    let ids: Vec<Uuid> = posts.iter().map(|p| p.0).collect();
    let deliveries = deliveries_of(db, &ids).await?;
    posts
        .into_iter()
        .map(|(id, text, link, state, scheduled_at, created_by, created_at, updated_at)| {
            Ok(Post {
                id,
                text,
                link,
                state: PostState::parse(&state).ok_or_else(|| StoreError::Corrupt(format!("post state {state}")))?,
                scheduled_at,
                created_by,
                created_at,
                updated_at,
                deliveries: deliveries.iter().filter(|d| d.0 == id).map(|d| d.1.clone()).collect(),
            })
        })
        .collect()
}

pub async fn get(db: &Db, id: Uuid) -> Result<Option<Post>, StoreError> {
    let row: Option<PostRow> = on_db!(db, |pool| {
        sqlx::query_as("SELECT id, text, link, state, scheduled_at, created_by, created_at, updated_at FROM posts WHERE id = $1").bind(id).fetch_optional(pool).await
    })?;
    let Some((id, text, link, state, scheduled_at, created_by, created_at, updated_at)) = row else { return Ok(None) };
    let deliveries = deliveries_of(db, &[id]).await?.into_iter().map(|d| d.1).collect();
    let state = PostState::parse(&state).ok_or_else(|| StoreError::Corrupt(format!("post state {state}")))?;
    Ok(Some(Post { id, text, link, state, scheduled_at, created_by, created_at, updated_at, deliveries }))
}

async fn deliveries_of(db: &Db, post_ids: &[Uuid]) -> Result<Vec<(Uuid, Delivery)>, StoreError> {
    if post_ids.is_empty() {
        return Ok(Vec::new());
    }
    // Portable "IN (…)": one placeholder per id.
    let placeholders = (1..=post_ids.len()).map(|i| format!("${i}")).collect::<Vec<_>>().join(", ");
    let sql = format!(
        "SELECT d.post_id, d.id, d.platform_id, p.name, d.status, d.attempts, d.due_at, d.provider_post_id, d.provider_url, d.error, d.updated_at \
         FROM deliveries d JOIN platforms p ON p.id = d.platform_id WHERE d.post_id IN ({placeholders}) ORDER BY lower(p.name)"
    );
    let rows: Vec<DeliveryRow> = on_db!(db, |pool| {
        let mut q = sqlx::query_as(&sql);
        for id in post_ids {
            q = q.bind(*id);
        }
        q.fetch_all(pool).await
    })?;
    rows.into_iter()
        .map(|(post_id, id, platform_id, platform_name, status, attempts, due_at, provider_post_id, provider_url, error, updated_at)| {
            let status = DeliveryStatus::parse(&status).ok_or_else(|| StoreError::Corrupt(format!("delivery status {status}")))?;
            Ok((post_id, Delivery { id, platform_id, platform_name, status, attempts, due_at, provider_post_id, provider_url, error, updated_at }))
        })
        .collect()
}
