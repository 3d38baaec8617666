//! The `oauth_settings` table and the OAuth columns of `credentials`: who the client is,
//! what the connection looks like, and the lease and version that make refreshes
//! single-flight across tasks and instances.

use super::{now, secrets::count_encryptions, StoreError};
use crate::{
    domain::{AuthType, Connection, OauthSettings, SecretField, Status},
    on_db,
    server::db::Db,
    transaction,
};
use chrono::{DateTime, Utc};
use uuid::Uuid;

type SettingsRow = (String, Option<String>, Option<String>, Option<String>, Option<String>, Option<String>, Option<String>, Option<String>, Option<String>);

pub async fn settings(db: &Db, platform_id: Uuid) -> Result<Option<OauthSettings>, StoreError> {
    let row: Option<SettingsRow> = on_db!(db, |pool| {
        sqlx::query_as(
            "SELECT provider, client_id, instance_url, authorize_url, token_url, revoke_url, userinfo_url, api_base_url, scopes \
             FROM oauth_settings WHERE platform_id = $1",
        )
        .bind(platform_id)
        .fetch_optional(pool)
        .await
    })?;
    row.map(|(provider, client_id, instance_url, authorize_url, token_url, revoke_url, userinfo_url, api_base_url, scopes)| {
        let provider = provider.parse().map_err(StoreError::Corrupt)?;
        Ok(OauthSettings { provider, client_id, instance_url, authorize_url, token_url, revoke_url, userinfo_url, api_base_url, scopes })
    })
    .transpose()
}

pub async fn put_settings(db: &Db, platform_id: Uuid, s: &OauthSettings) -> Result<(), StoreError> {
    on_db!(db, |pool| {
        sqlx::query(
            "INSERT INTO oauth_settings (platform_id, provider, client_id, instance_url, authorize_url, token_url, revoke_url, \
             userinfo_url, api_base_url, scopes, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) \
             ON CONFLICT (platform_id) DO UPDATE SET provider = excluded.provider, client_id = excluded.client_id, \
             instance_url = excluded.instance_url, authorize_url = excluded.authorize_url, token_url = excluded.token_url, \
             revoke_url = excluded.revoke_url, userinfo_url = excluded.userinfo_url, api_base_url = excluded.api_base_url, \
             scopes = excluded.scopes, updated_at = excluded.updated_at",
        )
        .bind(platform_id)
        .bind(s.provider.as_str())
        .bind(&s.client_id)
        .bind(&s.instance_url)
        .bind(&s.authorize_url)
        .bind(&s.token_url)
        .bind(&s.revoke_url)
        .bind(&s.userinfo_url)
        .bind(&s.api_base_url)
        .bind(&s.scopes)
        .bind(now())
        .execute(pool)
        .await
        .map(|_| ())
    })
    .map_err(StoreError::missing_platform)
}

/// The connection of a platform and the version its tokens are at.
#[derive(Clone, Debug, Default)]
pub struct ConnectionRow {
    pub connection: Connection,
    pub token_version: i64,
    pub refresh_lease_until: Option<DateTime<Utc>>,
}

type ConnectionTuple = (
    Option<String>, Option<String>, Option<String>, Option<DateTime<Utc>>, Option<DateTime<Utc>>, Option<DateTime<Utc>>,
    Option<String>, i32, i64, Option<DateTime<Utc>>, i64, i64,
);

pub async fn connection(db: &Db, platform_id: Uuid) -> Result<ConnectionRow, StoreError> {
    let row: Option<ConnectionTuple> = on_db!(db, |pool| {
        sqlx::query_as(
            "SELECT c.account_id, c.account_name, c.scopes, c.expires_at, c.connected_at, c.last_refreshed_at, c.last_error, \
             c.refresh_failures, c.token_version, c.refresh_lease_until, \
             (SELECT COUNT(*) FROM secrets s WHERE s.platform_id = c.platform_id AND s.field = 'access_token'), \
             (SELECT COUNT(*) FROM secrets s WHERE s.platform_id = c.platform_id AND s.field = 'refresh_token') \
             FROM credentials c WHERE c.platform_id = $1",
        )
        .bind(platform_id)
        .fetch_optional(pool)
        .await
    })?;
    let Some((account_id, account_name, scopes, expires_at, connected_at, last_refreshed_at, last_error, refresh_failures, token_version, refresh_lease_until, access, refresh)) = row
    else {
        return Ok(ConnectionRow::default());
    };
    Ok(ConnectionRow {
        connection: Connection {
            connected: access > 0,
            has_refresh_token: refresh > 0,
            account_id,
            account_name,
            scopes,
            expires_at,
            connected_at,
            last_refreshed_at,
            last_error,
            refresh_failures,
        },
        token_version,
        refresh_lease_until,
    })
}

/// Takes the right to refresh the platform's tokens until `until`, if their version is
/// still `version` and nobody else holds an unexpired lease. `false`: someone else won.
pub async fn claim_refresh(db: &Db, platform_id: Uuid, version: i64, until: DateTime<Utc>) -> Result<bool, StoreError> {
    let at = now();
    let n = on_db!(db, |pool| {
        sqlx::query(
            "UPDATE credentials SET refresh_lease_until = $1 \
             WHERE platform_id = $2 AND token_version = $3 AND (refresh_lease_until IS NULL OR refresh_lease_until < $4)",
        )
        .bind(until)
        .bind(platform_id)
        .bind(version)
        .bind(at)
        .execute(pool)
        .await
        .map(|r| r.rows_affected())
    })?;
    Ok(n == 1)
}

/// What to do with the stored refresh token when tokens are written.
pub enum RefreshWrite {
    Replace,
    /// The provider sent none with a refresh: the old one stays valid.
    Keep,
    /// A new connection without one: an old one must not linger.
    Delete,
}

/// The non-secret facts written with new tokens.
pub struct TokenFacts {
    pub token_type: Option<String>,
    pub scopes: Option<String>,
    pub expires_at: Option<DateTime<Utc>>,
    /// `Some` on a new connection; `None` keeps the stored account.
    pub account: Option<(Option<String>, Option<String>)>,
}

/// Whose tokens a write stores.
#[derive(Clone, Copy, Debug)]
pub enum Grant {
    /// A new connection: replaces whatever was there, and the platform becomes active.
    New,
    /// A refresh of the grant connected at `connected_at`. Written unless that grant is gone
    /// (disconnected, or replaced by a new connection); a refresh of the same grant that
    /// finished meanwhile does not stop it: the provider has just issued these tokens, and
    /// a rotated refresh token dropped here would be lost for good.
    Refreshed { connected_at: Option<DateTime<Utc>> },
}

/// Writes new tokens in one transaction: counts the encryptions, stores the ciphertexts
/// `seal` makes, updates the facts and bumps `token_version`. `false` when a refresh's
/// grant is gone (nothing written).
#[allow(clippy::too_many_arguments)]
pub async fn save_tokens(
    db: &Db,
    platform_id: Uuid,
    key_version: u32,
    limit: i64,
    refresh: RefreshWrite,
    facts: &TokenFacts,
    grant: Grant,
    seal: impl Fn(SecretField) -> Vec<u8>,
) -> Result<bool, StoreError> {
    let at = now();
    let mut fields = vec![SecretField::AccessToken];
    if matches!(refresh, RefreshWrite::Replace) {
        fields.push(SecretField::RefreshToken);
    }
    transaction!(db, |tx| {
        let written = match grant {
            Grant::Refreshed { connected_at } => sqlx::query(
                "UPDATE credentials SET token_type = $1, scopes = COALESCE($2, scopes), expires_at = $3, last_refreshed_at = $4, \
                 updated_at = $4, token_version = token_version + 1, refresh_lease_until = NULL, refresh_failures = 0, \
                 next_refresh_at = NULL, last_error = NULL WHERE platform_id = $5 AND connected_at IS NOT DISTINCT FROM $6 \
                 AND EXISTS (SELECT 1 FROM secrets s WHERE s.platform_id = $5 AND s.field = 'access_token')",
            )
            .bind(&facts.token_type)
            .bind(&facts.scopes)
            .bind(facts.expires_at)
            .bind(at)
            .bind(platform_id)
            .bind(connected_at)
            .execute(&mut *tx)
            .await?
            .rows_affected(),
            Grant::New => {
                let (account_id, account_name) = facts.account.clone().unwrap_or_default();
                sqlx::query(
                    "INSERT INTO credentials (platform_id, token_type, scopes, expires_at, account_id, account_name, connected_at, \
                     last_refreshed_at, updated_at, imported_plaintext) VALUES ($1, $2, $3, $4, $5, $6, $7, NULL, $7, $8) \
                     ON CONFLICT (platform_id) DO UPDATE SET token_type = excluded.token_type, scopes = excluded.scopes, \
                     expires_at = excluded.expires_at, account_id = excluded.account_id, account_name = excluded.account_name, \
                     connected_at = excluded.connected_at, last_refreshed_at = NULL, updated_at = excluded.updated_at, \
                     token_version = credentials.token_version + 1, refresh_lease_until = NULL, refresh_failures = 0, \
                     next_refresh_at = NULL, last_error = NULL, imported_plaintext = excluded.imported_plaintext",
                )
                .bind(platform_id)
                .bind(&facts.token_type)
                .bind(&facts.scopes)
                .bind(facts.expires_at)
                .bind(account_id)
                .bind(account_name)
                .bind(at)
                .bind(false)
                .execute(&mut *tx)
                .await
                .map_err(StoreError::missing_platform)?
                .rows_affected()
            }
        };
        if written != 1 {
            return Ok(false);
        }
        count_encryptions!(tx, fields.len(), key_version, limit);
        for field in fields {
            sqlx::query(
                "INSERT INTO secrets (platform_id, field, ciphertext, key_version, created_at, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, $5) ON CONFLICT (platform_id, field) DO UPDATE \
                 SET ciphertext = excluded.ciphertext, key_version = excluded.key_version, updated_at = excluded.updated_at",
            )
            .bind(platform_id)
            .bind(field.as_str())
            .bind(seal(field))
            .bind(key_version as i32)
            .bind(at)
            .execute(&mut *tx)
            .await?;
        }
        if matches!(refresh, RefreshWrite::Delete) {
            sqlx::query("DELETE FROM secrets WHERE platform_id = $1 AND field = 'refresh_token'").bind(platform_id).execute(&mut *tx).await?;
        }
        if matches!(grant, Grant::New) {
            sqlx::query("UPDATE platforms SET status = 'active', updated_at = $1 WHERE id = $2").bind(at).bind(platform_id).execute(&mut *tx).await?;
        }
        Ok(true)
    })
}

/// A refresh that did not work but may next time: release the lease and try again at `retry_at`.
pub async fn record_refresh_failure(db: &Db, platform_id: Uuid, reason: &str, retry_at: DateTime<Utc>) -> Result<i32, StoreError> {
    let (failures,): (i32,) = on_db!(db, |pool| {
        sqlx::query_as(
            "UPDATE credentials SET refresh_lease_until = NULL, refresh_failures = refresh_failures + 1, next_refresh_at = $1, \
             last_error = $2, updated_at = $3 WHERE platform_id = $4 RETURNING refresh_failures",
        )
        .bind(retry_at)
        .bind(reason)
        .bind(now())
        .bind(platform_id)
        .fetch_one(pool)
        .await
    })?;
    Ok(failures)
}

/// The connection needs a human: platform status `error` with the reason, lease released.
pub async fn mark_needs_attention(db: &Db, platform_id: Uuid, reason: &str) -> Result<(), StoreError> {
    let at = now();
    transaction!(db, |tx| {
        sqlx::query("UPDATE credentials SET refresh_lease_until = NULL, last_error = $1, updated_at = $2 WHERE platform_id = $3")
            .bind(reason)
            .bind(at)
            .bind(platform_id)
            .execute(&mut *tx)
            .await?;
        sqlx::query("UPDATE platforms SET status = 'error', updated_at = $1 WHERE id = $2").bind(at).bind(platform_id).execute(&mut *tx).await?;
        Ok(())
    })
}

/// Forgets the connection: tokens and account facts; the platform becomes inactive.
pub async fn disconnect(db: &Db, platform_id: Uuid) -> Result<(), StoreError> {
    let at = now();
    transaction!(db, |tx| {
        sqlx::query("DELETE FROM secrets WHERE platform_id = $1 AND field IN ('access_token', 'refresh_token')")
            .bind(platform_id)
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "UPDATE credentials SET token_type = NULL, scopes = NULL, expires_at = NULL, account_id = NULL, account_name = NULL, \
             connected_at = NULL, last_refreshed_at = NULL, refresh_lease_until = NULL, refresh_failures = 0, \
             next_refresh_at = NULL, last_error = NULL, token_version = token_version + 1, updated_at = $1 WHERE platform_id = $2",
        )
        .bind(at)
        .bind(platform_id)
        .execute(&mut *tx)
        .await?;
        sqlx::query("UPDATE platforms SET status = 'inactive', updated_at = $1 WHERE id = $2").bind(at).bind(platform_id).execute(&mut *tx).await?;
        Ok(())
    })
}

/// Platforms whose access token expires before `horizon`, that can be refreshed and are
/// not waiting out a backoff or a human.
pub async fn due_for_refresh(db: &Db, horizon: DateTime<Utc>) -> Result<Vec<Uuid>, StoreError> {
    let at = now();
    let rows: Vec<(Uuid,)> = on_db!(db, |pool| {
        sqlx::query_as(
            "SELECT c.platform_id FROM credentials c JOIN platforms p ON p.id = c.platform_id \
             WHERE c.expires_at IS NOT NULL AND c.expires_at < $1 AND p.status <> 'error' \
             AND (c.next_refresh_at IS NULL OR c.next_refresh_at <= $2) \
             AND EXISTS (SELECT 1 FROM secrets s WHERE s.platform_id = c.platform_id AND s.field = 'refresh_token') \
             ORDER BY c.expires_at",
        )
        .bind(horizon)
        .bind(at)
        .fetch_all(pool)
        .await
    })?;
    Ok(rows.into_iter().map(|r| r.0).collect())
}

/// What the "needs attention" list looks at, per platform that is not switched off.
pub struct HealthRow {
    pub platform_id: Uuid,
    pub name: String,
    pub auth_type: AuthType,
    pub status: Status,
    pub last_error: Option<String>,
    pub imported_plaintext: bool,
    pub has_access_token: bool,
    pub has_refresh_token: bool,
    pub expires_at: Option<DateTime<Utc>>,
}

pub async fn health(db: &Db) -> Result<Vec<HealthRow>, StoreError> {
    type Row = (Uuid, String, String, String, Option<String>, Option<bool>, i64, i64, Option<DateTime<Utc>>);
    let rows: Vec<Row> = on_db!(db, |pool| {
        sqlx::query_as(
            "SELECT p.id, p.name, p.auth_type, p.status, c.last_error, c.imported_plaintext, \
             (SELECT COUNT(*) FROM secrets s WHERE s.platform_id = p.id AND s.field = 'access_token'), \
             (SELECT COUNT(*) FROM secrets s WHERE s.platform_id = p.id AND s.field = 'refresh_token'), c.expires_at \
             FROM platforms p LEFT JOIN credentials c ON c.platform_id = p.id WHERE p.status <> 'inactive' ORDER BY lower(p.name)",
        )
        .fetch_all(pool)
        .await
    })?;
    rows.into_iter()
        .map(|(platform_id, name, auth_type, status, last_error, imported, access, refresh, expires_at)| {
            Ok(HealthRow {
                platform_id,
                name,
                auth_type: auth_type.parse().map_err(StoreError::Corrupt)?,
                status: status.parse().map_err(StoreError::Corrupt)?,
                last_error,
                imported_plaintext: imported.unwrap_or(false),
                has_access_token: access > 0,
                has_refresh_token: refresh > 0,
                expires_at,
            })
        })
        .collect()
}
