//! The `users` table. The password hash is read only by the sign-in check.

use super::{now, StoreError, Unique};
use crate::{
    domain::{Role, User},
    on_db,
    server::db::Db,
    transaction,
};
use chrono::{DateTime, Utc};
use uuid::Uuid;

type Row = (Uuid, String, String, bool, DateTime<Utc>);

fn decode((id, email, role, disabled, created_at): Row) -> Result<User, StoreError> {
    Ok(User { id, email, role: role.parse().map_err(StoreError::Corrupt)?, disabled, created_at })
}

pub async fn any_exists(db: &Db) -> Result<bool, StoreError> {
    let (exists,): (bool,) = on_db!(db, |pool| sqlx::query_as("SELECT EXISTS (SELECT 1 FROM users)").fetch_one(pool).await)?;
    Ok(exists)
}

/// Inserts a user; `Duplicate(UserEmail)` when the address is taken.
pub async fn insert(db: &Db, email: &str, password_hash: &str, role: Role) -> Result<User, StoreError> {
    let (id, at) = (Uuid::now_v7(), now());
    on_db!(db, |pool| {
        sqlx::query(
            "INSERT INTO users (id, email, password_hash, role, disabled, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, FALSE, $5, $5)",
        )
        .bind(id)
        .bind(email)
        .bind(password_hash)
        .bind(role.as_str())
        .bind(at)
        .execute(pool)
        .await
        .map(|_| ())
    })
    .map_err(StoreError::unique(Unique::UserEmail))?;
    Ok(User { id, email: email.to_owned(), role, disabled: false, created_at: at })
}

/// Inserts the first user only if there is none yet (one statement, so two concurrent
/// set-up forms cannot both succeed). `None` when a user already exists.
pub async fn insert_first(db: &Db, email: &str, password_hash: &str) -> Result<Option<User>, StoreError> {
    let (id, at) = (Uuid::now_v7(), now());
    let n = on_db!(db, |pool| {
        sqlx::query(
            "INSERT INTO users (id, email, password_hash, role, disabled, created_at, updated_at) \
             SELECT $1, $2, $3, 'admin', FALSE, $4, $4 WHERE NOT EXISTS (SELECT 1 FROM users)",
        )
        .bind(id)
        .bind(email)
        .bind(password_hash)
        .bind(at)
        .execute(pool)
        .await
        .map(|r| r.rows_affected())
    })?;
    Ok((n == 1).then(|| User { id, email: email.to_owned(), role: Role::Admin, disabled: false, created_at: at }))
}

pub async fn get(db: &Db, id: Uuid) -> Result<Option<User>, StoreError> {
    let row: Option<Row> = on_db!(db, |pool| {
        sqlx::query_as("SELECT id, email, role, disabled, created_at FROM users WHERE id = $1").bind(id).fetch_optional(pool).await
    })?;
    row.map(decode).transpose()
}

type WithHash = (Uuid, String, String, bool, DateTime<Utc>, String);

fn decode_with_hash((id, email, role, disabled, created_at, hash): WithHash) -> Result<(User, String), StoreError> {
    Ok((decode((id, email, role, disabled, created_at))?, hash))
}

/// The user and password hash for a sign-in attempt.
pub async fn credentials_by_email(db: &Db, email: &str) -> Result<Option<(User, String)>, StoreError> {
    let row: Option<WithHash> = on_db!(db, |pool| {
        sqlx::query_as("SELECT id, email, role, disabled, created_at, password_hash FROM users WHERE lower(email) = lower($1)")
            .bind(email)
            .fetch_optional(pool)
            .await
    })?;
    row.map(decode_with_hash).transpose()
}

/// The user and password hash behind a session (one query per request).
pub async fn get_with_hash(db: &Db, id: Uuid) -> Result<Option<(User, String)>, StoreError> {
    let row: Option<WithHash> = on_db!(db, |pool| {
        sqlx::query_as("SELECT id, email, role, disabled, created_at, password_hash FROM users WHERE id = $1")
            .bind(id)
            .fetch_optional(pool)
            .await
    })?;
    row.map(decode_with_hash).transpose()
}

/// Up to `rows` users in email order, each with its sort key (`lower(email)`, as the
/// database computes it), from `from` (its key and id; backward when `before`: the caller
/// turns them round).
pub async fn page(db: &Db, from: Option<(&(String, Uuid), bool)>, rows: i64) -> Result<Vec<(String, User)>, StoreError> {
    let (key, id, before) = match from {
        Some(((key, id), before)) => (Some(key.as_str()), Some(*id), before),
        None => (None, None, false),
    };
    let sql = if before {
        "SELECT lower(email), id, email, role, disabled, created_at FROM users WHERE (lower(email), id) < ($1, $2) ORDER BY lower(email) DESC, id DESC LIMIT $3"
    } else {
        "SELECT lower(email), id, email, role, disabled, created_at FROM users WHERE ($1 IS NULL OR (lower(email), id) > ($1, $2)) ORDER BY lower(email), id LIMIT $3"
    };
    type Keyed = (String, Uuid, String, String, bool, DateTime<Utc>);
    let rows: Vec<Keyed> = on_db!(db, |pool| sqlx::query_as(sql).bind(key).bind(id).bind(rows).fetch_all(pool).await)?;
    rows.into_iter().map(|(key, id, email, role, disabled, created_at)| Ok((key, decode((id, email, role, disabled, created_at))?))).collect()
}

/// Changes role and disabled flag, refusing (`LastAdmin`) when no active admin would remain.
/// Two admins demoting each other at once cannot both succeed: SQLite runs one writer at a
/// time, so its one statement is enough; on PostgreSQL each statement would see the other
/// admin still active in its own snapshot, so the active admins are locked first (in id
/// order: no deadlock) and the update then reads what the other committed.
pub async fn update_access(db: &Db, id: Uuid, role: Role, disabled: bool) -> Result<Option<User>, StoreError> {
    macro_rules! set_access {
        ($tx:ident) => {
            sqlx::query(
                "UPDATE users SET role = $2, disabled = $3, updated_at = $4 WHERE id = $1 \
                 AND ($2 = 'admin' AND $3 = FALSE \
                      OR EXISTS (SELECT 1 FROM users o WHERE o.id <> $1 AND o.role = 'admin' AND o.disabled = FALSE))",
            )
            .bind(id)
            .bind(role.as_str())
            .bind(disabled)
            .bind(now())
            .execute(&mut *$tx)
            .await?
            .rows_affected()
        };
    }
    let n = transaction!(db, |tx| {} sqlite {
        Ok(set_access!(tx))
    } postgres {
        sqlx::query("SELECT id FROM users WHERE role = 'admin' AND disabled = FALSE ORDER BY id FOR UPDATE").fetch_all(&mut *tx).await?;
        Ok(set_access!(tx))
    })?;
    if n == 0 {
        return match get(db, id).await? {
            None => Ok(None),
            Some(_) => Err(StoreError::LastAdmin),
        };
    }
    get(db, id).await
}

pub async fn set_password_hash(db: &Db, id: Uuid, password_hash: &str) -> Result<bool, StoreError> {
    let n = on_db!(db, |pool| {
        sqlx::query("UPDATE users SET password_hash = $2, updated_at = $3 WHERE id = $1")
            .bind(id)
            .bind(password_hash)
            .bind(now())
            .execute(pool)
            .await
            .map(|r| r.rows_affected())
    })?;
    Ok(n > 0)
}
