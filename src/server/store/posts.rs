//! The `posts` and `deliveries` tables: the durable publish queue. Claiming differs per
//! backend (PostgreSQL skips rows other instances hold; SQLite has one writer at a time).

use super::{now, StoreError};
use crate::{
    domain::{Delivery, DeliveryStatus, Post, PostFilter, PostState, ProviderKey},
    on_db,
    server::{
        db::Db,
        publish::pacing::{self, Due, Used},
    },
    transaction,
};
use chrono::{DateTime, Utc};
use std::collections::{BTreeMap, HashMap};
use uuid::Uuid;

/// A delivery to create with its post.
pub struct NewDelivery {
    /// The account's own text; `None`: the post's.
    pub text: Option<String>,
    pub platform_id: Uuid,
    pub account_id: Uuid,
    pub status: DeliveryStatus,
    pub due_at: DateTime<Utc>,
}

/// What a composer writes: the post's content and when it goes, with its deliveries.
pub struct PostWrite<'a> {
    pub id: Uuid,
    pub text: &'a str,
    pub link: Option<&'a str>,
    pub state: PostState,
    pub scheduled_at: Option<DateTime<Utc>>,
    pub deliveries: &'a [NewDelivery],
    /// Its files in order, each with its alt text.
    pub media: &'a [(Uuid, String)],
}

/// Inside a transaction: inserts the post's deliveries and its files.
macro_rules! insert_deliveries {
    ($tx:ident, $post:expr, $at:expr) => {
        for d in $post.deliveries {
            let id = Uuid::now_v7();
            sqlx::query(
                "INSERT INTO deliveries (id, post_id, platform_id, account_id, status, due_at, idempotency_key, updated_at, text) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
            )
            .bind(id)
            .bind($post.id)
            .bind(d.platform_id)
            .bind(d.account_id)
            .bind(d.status.as_str())
            .bind(d.due_at)
            // One key per delivery, for its whole life: every retry sends the same one.
            .bind(format!("keyport-{}", id.simple()))
            .bind($at)
            .bind(d.text.as_deref())
            .execute(&mut *$tx)
            .await?;
        }
        for (position, (media_id, alt)) in $post.media.iter().enumerate() {
            sqlx::query("INSERT INTO post_media (post_id, position, media_id, alt) VALUES ($1, $2, $3, $4)")
                .bind($post.id)
                .bind(position as i32)
                .bind(media_id)
                .bind(alt)
                .execute(&mut *$tx)
                .await?;
        }
    };
}

/// Inside a transaction: whether the post is still a draft or scheduled and none of its
/// deliveries has started, locking them so no worker claims one until the transaction
/// ends (PostgreSQL: row locks, which the worker's `SKIP LOCKED` passes over; SQLite: the
/// first UPDATE takes the database's write lock).
macro_rules! lock_unsent {
    ($tx:ident, $id:expr) => {{
        let editable = sqlx::query("UPDATE posts SET updated_at = updated_at WHERE id = $1 AND state IN ('draft', 'scheduled')")
            .bind($id)
            .execute(&mut *$tx)
            .await?
            .rows_affected();
        let untouched = sqlx::query(
            "UPDATE deliveries SET updated_at = updated_at WHERE post_id = $1 AND attempts = 0 AND status IN ('waiting', 'queued')",
        )
        .bind($id)
        .execute(&mut *$tx)
        .await?
        .rows_affected();
        let (all,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM deliveries WHERE post_id = $1").bind($id).fetch_one(&mut *$tx).await?;
        editable == 1 && untouched as i64 == all
    }};
}

/// Inserts a post and its deliveries in one transaction.
pub async fn insert(db: &Db, post: &PostWrite<'_>, created_by: &str, created_by_id: Option<Uuid>) -> Result<(), StoreError> {
    let at = now();
    transaction!(db, |tx| {
        sqlx::query("INSERT INTO posts (id, text, link, state, scheduled_at, created_by, created_at, updated_at, created_by_id) VALUES ($1, $2, $3, $4, $5, $6, $7, $7, $8)")
            .bind(post.id)
            .bind(post.text)
            .bind(post.link)
            .bind(post.state.as_str())
            .bind(post.scheduled_at)
            .bind(created_by)
            .bind(at)
            .bind(created_by_id)
            .execute(&mut *tx)
            .await?;
        insert_deliveries!(tx, post, at);
        Ok(())
    })
}

/// Replaces a post that nothing has been sent for yet (a draft, or a scheduled post whose
/// time has not come). `false`: too late, a delivery has started (or it does not exist).
pub async fn replace_unsent(db: &Db, post: &PostWrite<'_>) -> Result<bool, StoreError> {
    let at = now();
    transaction!(db, |tx| {
        if !lock_unsent!(tx, post.id) {
            return Ok(false);
        }
        sqlx::query("UPDATE posts SET text = $1, link = $2, state = $3, scheduled_at = $4, updated_at = $5 WHERE id = $6")
            .bind(post.text)
            .bind(post.link)
            .bind(post.state.as_str())
            .bind(post.scheduled_at)
            .bind(at)
            .bind(post.id)
            .execute(&mut *tx)
            .await?;
        sqlx::query("DELETE FROM deliveries WHERE post_id = $1").bind(post.id).execute(&mut *tx).await?;
        sqlx::query("DELETE FROM post_media WHERE post_id = $1").bind(post.id).execute(&mut *tx).await?;
        insert_deliveries!(tx, post, at);
        Ok(true)
    })
}

/// Cancels a post nothing has been sent for yet; `false` when too late.
pub async fn cancel_unsent(db: &Db, id: Uuid) -> Result<bool, StoreError> {
    let at = now();
    transaction!(db, |tx| {
        if !lock_unsent!(tx, id) {
            return Ok(false);
        }
        sqlx::query("UPDATE posts SET state = 'cancelled', updated_at = $1 WHERE id = $2").bind(at).bind(id).execute(&mut *tx).await?;
        sqlx::query("UPDATE deliveries SET status = 'cancelled', updated_at = $1 WHERE post_id = $2").bind(at).bind(id).execute(&mut *tx).await?;
        Ok(true)
    })
}

/// A delivery the worker now owns.
#[derive(Clone, Debug)]
pub struct Claimed {
    pub id: Uuid,
    pub post_id: Uuid,
    pub platform_id: Uuid,
    /// `None`: the account was disconnected after the post was written.
    pub account_id: Option<Uuid>,
    /// This attempt's number: written back with the outcome as a fencing token.
    pub attempts: i32,
    pub idempotency_key: String,
}

/// A round's claim: what it owns now, and how many it left waiting for a posting limit.
pub struct Claim {
    pub claimed: Vec<Claimed>,
    pub deferred: usize,
}

/// Due deliveries a claim looks at, each its account's first: a few more than a round
/// takes, for the accounts at a limit.
const LOOK_AT: i64 = 64;
/// The first due delivery of each account with none in flight, oldest first: an account
/// with a thousand due deliveries holds one place, not a thousand.
const DUE: &str = "SELECT d.id, d.account_id, s.provider FROM deliveries d LEFT JOIN oauth_settings s ON s.platform_id = d.platform_id \
     WHERE d.status = 'queued' AND d.due_at <= $1 \
     AND NOT EXISTS (SELECT 1 FROM deliveries busy WHERE busy.account_id = d.account_id AND busy.status = 'publishing') \
     AND NOT EXISTS (SELECT 1 FROM deliveries earlier WHERE earlier.account_id = d.account_id AND earlier.status = 'queued' \
                     AND (earlier.due_at < d.due_at OR (earlier.due_at = d.due_at AND earlier.id < d.id))) \
     ORDER BY d.due_at, d.id LIMIT $2";
/// Per account of `{ids}`: its attempts since $1 and the oldest of them.
const USED: &str = "SELECT account_id, COUNT(*), MIN(attempt_started_at) FROM deliveries WHERE attempt_started_at >= $1 AND account_id {ids} GROUP BY account_id";
const CLAIM: &str = "UPDATE deliveries SET status = 'publishing', lease_until = $1, attempts = attempts + 1, attempt_started_at = $2, updated_at = $2 \
     WHERE status = 'queued' AND id {ids} RETURNING id, post_id, platform_id, account_id, attempts, idempotency_key";
/// An account at a limit: its queued deliveries due before the window frees wait until then
/// (in their order: ids follow creation).
const DEFER: &str = "UPDATE deliveries SET due_at = $1, error = $2, updated_at = $3 WHERE account_id = $4 AND status = 'queued' AND due_at < $1";

/// [`fetch_for_ids!`](crate::fetch_for_ids) inside a transaction: `$sql` with `{ids}`
/// standing for "is one of `$ids`", which are bound last, after `$bind`s.
macro_rules! fetch_in_ids {
    (sqlite, $tx:ident, $sql:expr, $ids:expr, $($bind:expr),*) => {{
        let n = [$(stringify!($bind)),*].len() + 1;
        let sql = $sql.replace("{ids}", &format!("IN (SELECT unhex(value) FROM json_each(${n}))"));
        sqlx::query_as(&sql)$(.bind($bind))*.bind(super::hex_json($ids)).fetch_all(&mut *$tx).await
    }};
    (postgres, $tx:ident, $sql:expr, $ids:expr, $($bind:expr),*) => {{
        let n = [$(stringify!($bind)),*].len() + 1;
        sqlx::query_as(&$sql.replace("{ids}", &format!("= ANY(${n})")))$(.bind($bind))*.bind($ids).fetch_all(&mut *$tx).await
    }};
}

/// Inside the claim's transaction: reads what is due and each limited account's recent
/// attempts, lets `pacing` choose, then claims and defers.
macro_rules! claim_in {
    ($backend:ident, $tx:ident, $due:expr, $take:expr, $lease_until:expr, $at:expr) => {{
        let rows: Vec<(Uuid, Option<Uuid>, Option<String>)> = sqlx::query_as($due).bind($at).bind(LOOK_AT).fetch_all(&mut *$tx).await?;
        let due = rows
            .into_iter()
            .map(|(id, account_id, provider)| Ok(Due { id, account_id, provider: provider.map(|p| p.parse()).transpose().map_err(StoreError::Corrupt)? }))
            .collect::<Result<Vec<_>, StoreError>>()?;
        // Each window length the due accounts' providers limit, with those accounts.
        let mut windows: BTreeMap<u32, Vec<Uuid>> = BTreeMap::new();
        for d in &due {
            for limit in pacing::limits(d.provider) {
                windows.entry(limit.seconds).or_default().extend(d.account_id);
            }
        }
        let mut used = HashMap::new();
        for (seconds, accounts) in windows {
            let since = $at - chrono::Duration::seconds(seconds.into());
            let rows: Vec<(Uuid, i64, DateTime<Utc>)> = fetch_in_ids!($backend, $tx, USED, &accounts, since)?;
            used.extend(rows.into_iter().map(|(account, count, oldest)| ((account, seconds), Used { count: u32::try_from(count).unwrap_or(u32::MAX), oldest })));
        }
        let choice = pacing::choose(&due, &used, $take, $at);
        for d in &choice.defer {
            sqlx::query(DEFER).bind(d.until).bind(&d.why).bind($at).bind(d.account).execute(&mut *$tx).await?;
        }
        let rows: Vec<(Uuid, Uuid, Uuid, Option<Uuid>, i32, String)> =
            if choice.claim.is_empty() { Vec::new() } else { fetch_in_ids!($backend, $tx, CLAIM, &choice.claim, $lease_until, $at)? };
        let claimed = rows
            .into_iter()
            .map(|(id, post_id, platform_id, account_id, attempts, idempotency_key)| Claimed { id, post_id, platform_id, account_id, attempts, idempotency_key })
            .collect();
        Claim { claimed, deferred: choice.defer.len() }
    }};
}

/// Claims up to `take` due deliveries until `lease_until`, recording the attempt before
/// any provider is called: the oldest due of each account that has none in flight and
/// room under its provider's posting limits; one over a limit gets a later `due_at`
/// instead (`publish::pacing`). One transaction, in which no other claim runs, so two
/// instances never claim the same delivery nor two of one account at once.
pub async fn claim(db: &Db, take: usize, lease_until: DateTime<Utc>) -> Result<Claim, StoreError> {
    let at = now();
    on_db!(
        db,
        sqlite |pool| {
            // Starts as the writer: a read first could not become the writer later if another wrote between.
            let mut tx = pool.begin_with("BEGIN IMMEDIATE").await?;
            let claim = claim_in!(sqlite, tx, DUE, take, lease_until, at);
            tx.commit().await?;
            Ok(claim)
        },
        postgres |pool| {
            let mut tx = pool.begin().await?;
            // Claims queue behind each other; the lock ends with the transaction.
            sqlx::query("SELECT pg_advisory_xact_lock(7150401)").execute(&mut *tx).await?;
            let claim = claim_in!(postgres, tx, &format!("{DUE} FOR UPDATE OF d SKIP LOCKED"), take, lease_until, at);
            tx.commit().await?;
            Ok(claim)
        },
    )
}

/// When the queued deliveries of `accounts` that have not started are due: the slots
/// "Add to queue" must not give again.
pub async fn queued_times(db: &Db, accounts: &[Uuid]) -> Result<Vec<DateTime<Utc>>, StoreError> {
    let rows: Vec<(DateTime<Utc>,)> = crate::fetch_for_ids!(db, accounts, "SELECT due_at FROM deliveries WHERE status = 'queued' AND attempts = 0 AND account_id", "")?;
    Ok(rows.into_iter().map(|(t,)| t).collect())
}

/// Deliveries a crashed worker left 'publishing' past their lease, with their platform's provider.
pub async fn abandoned(db: &Db) -> Result<Vec<(Uuid, i32, Option<ProviderKey>)>, StoreError> {
    let rows: Vec<(Uuid, i32, Option<String>)> = on_db!(db, |pool| {
        sqlx::query_as(
            "SELECT d.id, d.attempts, s.provider FROM deliveries d LEFT JOIN oauth_settings s ON s.platform_id = d.platform_id \
             WHERE d.status = 'publishing' AND d.lease_until < $1",
        )
        .bind(now())
        .fetch_all(pool)
        .await
    })?;
    rows.into_iter().map(|(id, attempts, provider)| Ok((id, attempts, provider.map(|p| p.parse()).transpose().map_err(StoreError::Corrupt)?))).collect()
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

/// Records a round's outcomes, each with its audit entry, in one commit. An outcome is
/// written only if its attempt is still the delivery's latest (a worker whose lease ran
/// out must not overwrite its successor's result), and its entry only with it: the answer
/// says which were, in order.
pub async fn record(db: &Db, outcomes: &[(Uuid, i32, Outcome<'_>, super::audit::Entry)]) -> Result<Vec<bool>, StoreError> {
    let at = now();
    transaction!(db, |tx| {
        let mut written = Vec::with_capacity(outcomes.len());
        for (id, attempt, outcome, entry) in outcomes {
            let n = sqlx::query(
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
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if n == 1 {
                super::audit::insert_entry!(&mut *tx, entry)?;
            }
            written.push(n == 1);
        }
        Ok(written)
    })
}

/// Extends the leases of attempts still running (each fenced by its attempt number), so
/// a slow round is not taken for an abandoned one.
pub async fn renew(db: &Db, attempts: &[(Uuid, i32)], lease_until: DateTime<Utc>) -> Result<(), StoreError> {
    transaction!(db, |tx| {
        for (id, attempt) in attempts {
            sqlx::query("UPDATE deliveries SET lease_until = $1 WHERE id = $2 AND attempts = $3 AND status = 'publishing'")
                .bind(lease_until)
                .bind(id)
                .bind(attempt)
                .execute(&mut *tx)
                .await?;
        }
        Ok(())
    })
}

/// The post a delivery belongs to.
pub async fn post_of_delivery(db: &Db, id: Uuid) -> Result<Option<Uuid>, StoreError> {
    let row: Option<(Uuid,)> = on_db!(db, |pool| sqlx::query_as("SELECT post_id FROM deliveries WHERE id = $1").bind(id).fetch_optional(pool).await)?;
    Ok(row.map(|r| r.0))
}

/// Puts a failed or unconfirmed delivery back in the queue (the Retry button); `false`
/// when it is neither.
pub async fn requeue(db: &Db, id: Uuid) -> Result<bool, StoreError> {
    let at = now();
    let n = on_db!(db, |pool| {
        sqlx::query(
            "UPDATE deliveries SET status = 'queued', due_at = $1, error = NULL, updated_at = $1 \
             WHERE id = $2 AND status IN ('failed', 'unconfirmed')",
        )
        .bind(at)
        .bind(id)
        .execute(pool)
        .await
        .map(|r| r.rows_affected())
    })?;
    Ok(n == 1)
}

type PostRow = (Uuid, String, Option<String>, String, Option<DateTime<Utc>>, String, Option<Uuid>, DateTime<Utc>, DateTime<Utc>);
type DeliveryRow = (Uuid, Uuid, Uuid, String, Option<Uuid>, Option<String>, String, i32, DateTime<Utc>, Option<String>, Option<String>, Option<String>, DateTime<Utc>, Option<String>);

/// Posts matching the filter, newest first (ids are UUID v7, so by creation), with their
/// deliveries: at most `limit`, those older than `before` when it is given (keyset paging).
pub async fn list(db: &Db, filter: &PostFilter, before: Option<Uuid>, limit: i64) -> Result<Vec<Post>, StoreError> {
    let midnight = |d: chrono::NaiveDate| d.and_time(chrono::NaiveTime::MIN).and_utc();
    let (day_start, day_end) = (filter.day.map(midnight), filter.day.and_then(|d| d.succ_opt()).map(midnight));
    let posts: Vec<PostRow> = on_db!(db, |pool| {
        sqlx::query_as(
            "SELECT p.id, p.text, p.link, p.state, p.scheduled_at, p.created_by, p.created_by_id, p.created_at, p.updated_at FROM posts p \
             WHERE ($1 IS NULL OR p.created_at >= $1) AND ($2 IS NULL OR p.created_at < $2) \
             AND ($3 IS NULL AND $4 IS NULL AND $6 IS NULL OR EXISTS (SELECT 1 FROM deliveries d WHERE d.post_id = p.id \
                  AND ($3 IS NULL OR d.status = $3) AND ($4 IS NULL OR d.platform_id = $4) AND ($6 IS NULL OR d.account_id = $6))) \
             AND ($7 IS NULL OR coalesce(p.scheduled_at, p.created_at) >= $7) AND ($8 IS NULL OR coalesce(p.scheduled_at, p.created_at) < $8) \
             AND ($9 IS NULL OR p.id < $9) \
             ORDER BY p.id DESC LIMIT $5",
        )
        .bind(day_start)
        .bind(day_end)
        .bind(filter.status.map(|s| s.as_str()))
        .bind(filter.platform)
        .bind(limit)
        .bind(filter.account)
        .bind(filter.from)
        .bind(filter.to)
        .bind(before)
        .fetch_all(pool)
        .await
    })?;
    with_deliveries(db, posts).await
}

/// The posts of `ids` that exist, with their deliveries and files.
pub async fn get_many(db: &Db, ids: &[Uuid]) -> Result<Vec<Post>, StoreError> {
    let rows: Vec<PostRow> = crate::fetch_for_ids!(db, ids, "SELECT id, text, link, state, scheduled_at, created_by, created_by_id, created_at, updated_at FROM posts WHERE id", "")?;
    with_deliveries(db, rows).await
}

pub async fn get(db: &Db, id: Uuid) -> Result<Option<Post>, StoreError> {
    let row: Option<PostRow> = on_db!(db, |pool| {
        sqlx::query_as("SELECT id, text, link, state, scheduled_at, created_by, created_by_id, created_at, updated_at FROM posts WHERE id = $1").bind(id).fetch_optional(pool).await
    })?;
    Ok(with_deliveries(db, row.into_iter().collect()).await?.pop())
}

/// The posts with their deliveries and files, read in one query each for all of them.
async fn with_deliveries(db: &Db, posts: Vec<PostRow>) -> Result<Vec<Post>, StoreError> {
    if posts.is_empty() {
        return Ok(Vec::new());
    }
    let ids: Vec<Uuid> = posts.iter().map(|p| p.0).collect();
    let rows: Vec<DeliveryRow> = crate::fetch_for_ids!(
        db,
        &ids,
        "SELECT d.post_id, d.id, d.platform_id, p.name, d.account_id, coalesce(a.name, nullif(a.external_id, '')), d.status, d.attempts, \
         d.due_at, d.provider_post_id, d.provider_url, d.error, d.updated_at, d.text \
         FROM deliveries d JOIN platforms p ON p.id = d.platform_id LEFT JOIN accounts a ON a.id = d.account_id \
         WHERE d.post_id",
        "ORDER BY lower(p.name), lower(coalesce(a.name, a.external_id))"
    )?;
    let media = super::media::of_posts(db, &ids).await?;
    let mut deliveries = Vec::with_capacity(rows.len());
    for (post_id, id, platform_id, platform_name, account_id, account_name, status, attempts, due_at, provider_post_id, provider_url, error, updated_at, text) in rows {
        let status = status.parse().map_err(StoreError::Corrupt)?;
        let delivery = Delivery { id, platform_id, platform_name, account_id, account_name, status, attempts, due_at, provider_post_id, provider_url, error, updated_at, text };
        deliveries.push((post_id, delivery));
    }
    posts
        .into_iter()
        .map(|(id, text, link, state, scheduled_at, created_by, created_by_id, created_at, updated_at)| {
            Ok(Post {
                id,
                text,
                link,
                state: state.parse().map_err(StoreError::Corrupt)?,
                scheduled_at,
                created_by,
                created_by_id,
                created_at,
                updated_at,
                deliveries: deliveries.iter().filter(|d| d.0 == id).map(|d| d.1.clone()).collect(),
                media: media.iter().filter(|m| m.0 == id).map(|m| m.1.clone()).collect(),
            })
        })
        .collect()
}
