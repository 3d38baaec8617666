//! The `api_tokens` table: SHA-256 hashes of personal API tokens.

use super::{now, StoreError};
use crate::{domain::ApiToken, on_db, server::db::Db};
use chrono::{DateTime, Utc};
use uuid::Uuid;

type Row = (Uuid, String, String, DateTime<Utc>, Option<DateTime<Utc>>, Option<DateTime<Utc>>);

fn decode((id, name, prefix, created_at, last_used_at, revoked_at): Row) -> ApiToken {
    ApiToken { id, name, prefix, created_at, last_used_at, revoked_at }
}

pub async fn insert(db: &Db, user_id: Uuid, name: &str, token_hash: &str, prefix: &str) -> Result<ApiToken, StoreError> {
    let (id, at) = (Uuid::now_v7(), now());
    on_db!(db, |pool| {
        sqlx::query("INSERT INTO api_tokens (id, user_id, name, token_hash, prefix, created_at) VALUES ($1, $2, $3, $4, $5, $6)")
            .bind(id)
            .bind(user_id)
            .bind(name)
            .bind(token_hash)
            .bind(prefix)
            .bind(at)
            .execute(pool)
            .await
            .map(|_| ())
    })?;
    Ok(ApiToken { id, name: name.to_owned(), prefix: prefix.to_owned(), created_at: at, last_used_at: None, revoked_at: None })
}

pub async fn for_user(db: &Db, user_id: Uuid) -> Result<Vec<ApiToken>, StoreError> {
    let rows: Vec<Row> = on_db!(db, |pool| {
        sqlx::query_as(
            "SELECT id, name, prefix, created_at, last_used_at, revoked_at FROM api_tokens WHERE user_id = $1 ORDER BY created_at DESC",
        )
        .bind(user_id)
        .fetch_all(pool)
        .await
    })?;
    Ok(rows.into_iter().map(decode).collect())
}

/// The owner of an unrevoked token with this hash, recording its use.
pub async fn use_token(db: &Db, token_hash: &str) -> Result<Option<Uuid>, StoreError> {
    let row: Option<(Uuid,)> = on_db!(db, |pool| {
        sqlx::query_as("UPDATE api_tokens SET last_used_at = $2 WHERE token_hash = $1 AND revoked_at IS NULL RETURNING user_id")
            .bind(token_hash)
            .bind(now())
            .fetch_optional(pool)
            .await
    })?;
    Ok(row.map(|r| r.0))
}

/// Revokes one of the user's tokens; `None` when the user has no such token.
pub async fn revoke(db: &Db, user_id: Uuid, id: Uuid) -> Result<Option<String>, StoreError> {
    let row: Option<(String,)> = on_db!(db, |pool| {
        sqlx::query_as(
            "UPDATE api_tokens SET revoked_at = COALESCE(revoked_at, $3) WHERE id = $1 AND user_id = $2 RETURNING name",
        )
        .bind(id)
        .bind(user_id)
        .bind(now())
        .fetch_optional(pool)
        .await
    })?;
    Ok(row.map(|r| r.0))
}

/// Revokes every live token of the user; how many.
pub async fn revoke_all(db: &Db, user_id: Uuid) -> Result<u64, StoreError> {
    Ok(on_db!(db, |pool| {
        sqlx::query("UPDATE api_tokens SET revoked_at = $2 WHERE user_id = $1 AND revoked_at IS NULL")
            .bind(user_id)
            .bind(now())
            .execute(pool)
            .await
            .map(|r| r.rows_affected())
    })?)
}
