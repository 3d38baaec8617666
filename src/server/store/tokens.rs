//! The `api_tokens` table: SHA-256 hashes of personal API tokens.

use super::{now, StoreError};
use crate::{domain::{ApiToken, TokenScope}, on_db, server::db::Db};
use chrono::{DateTime, Utc};
use uuid::Uuid;

type Row = (Uuid, String, String, String, DateTime<Utc>, Option<DateTime<Utc>>, Option<DateTime<Utc>>, Option<DateTime<Utc>>);

fn scope(text: &str) -> Result<TokenScope, StoreError> {
    text.parse().map_err(StoreError::Corrupt)
}

fn decode((id, name, prefix, scope_text, created_at, expires_at, last_used_at, revoked_at): Row) -> Result<ApiToken, StoreError> {
    let expired = expires_at.is_some_and(|at| at <= Utc::now());
    Ok(ApiToken { id, name, prefix, scope: scope(&scope_text)?, created_at, expires_at, last_used_at, revoked_at, expired })
}

pub async fn insert(
    db: &Db,
    user_id: Uuid,
    name: &str,
    token_hash: &str,
    prefix: &str,
    scope: TokenScope,
    expires_at: Option<DateTime<Utc>>,
) -> Result<ApiToken, StoreError> {
    let (id, at) = (Uuid::now_v7(), now());
    on_db!(db, |pool| {
        sqlx::query(
            "INSERT INTO api_tokens (id, user_id, name, token_hash, prefix, scope, expires_at, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(id)
        .bind(user_id)
        .bind(name)
        .bind(token_hash)
        .bind(prefix)
        .bind(scope.as_str())
        .bind(expires_at)
        .bind(at)
        .execute(pool)
        .await
        .map(|_| ())
    })?;
    Ok(ApiToken { id, name: name.to_owned(), prefix: prefix.to_owned(), scope, created_at: at, expires_at, last_used_at: None, revoked_at: None, expired: false })
}

pub async fn for_user(db: &Db, user_id: Uuid) -> Result<Vec<ApiToken>, StoreError> {
    let rows: Vec<Row> = on_db!(db, |pool| {
        sqlx::query_as(
            "SELECT id, name, prefix, scope, created_at, expires_at, last_used_at, revoked_at FROM api_tokens \
             WHERE user_id = $1 ORDER BY created_at DESC",
        )
        .bind(user_id)
        .fetch_all(pool)
        .await
    })?;
    rows.into_iter().map(decode).collect()
}

/// The owner and scope of a live (unrevoked, unexpired) token with this hash, recording its use.
pub async fn use_token(db: &Db, token_hash: &str) -> Result<Option<(Uuid, TokenScope)>, StoreError> {
    let at = now();
    let row: Option<(Uuid, String)> = on_db!(db, |pool| {
        sqlx::query_as(
            "UPDATE api_tokens SET last_used_at = $2 WHERE token_hash = $1 AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > $2) \
             RETURNING user_id, scope",
        )
        .bind(token_hash)
        .bind(at)
        .fetch_optional(pool)
        .await
    })?;
    row.map(|(user, text)| Ok((user, scope(&text)?))).transpose()
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
