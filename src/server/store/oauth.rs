//! The `oauth_settings` table (who the client is, which endpoints) and the platform side of
//! the "needs attention" list. The connected accounts are in `store::accounts`.

use super::{now, StoreError};
use crate::{
    domain::{AuthType, OauthSettings, Status},
    on_db,
    server::db::Db,
};
use chrono::{DateTime, Utc};
use uuid::Uuid;

type SettingsRow = (String, Option<String>, Option<String>, Option<String>, Option<String>, Option<String>, Option<String>, Option<String>, Option<String>, Option<String>);

pub async fn settings(db: &Db, platform_id: Uuid) -> Result<Option<OauthSettings>, StoreError> {
    let row: Option<SettingsRow> = on_db!(db, |pool| {
        sqlx::query_as(
            "SELECT provider, client_id, instance_url, authorize_url, token_url, revoke_url, userinfo_url, api_base_url, scopes, api_version \
             FROM oauth_settings WHERE platform_id = $1",
        )
        .bind(platform_id)
        .fetch_optional(pool)
        .await
    })?;
    row.map(|(provider, client_id, instance_url, authorize_url, token_url, revoke_url, userinfo_url, api_base_url, scopes, api_version)| {
        let provider = provider.parse().map_err(StoreError::Corrupt)?;
        Ok(OauthSettings { provider, client_id, instance_url, authorize_url, token_url, revoke_url, userinfo_url, api_base_url, scopes, api_version })
    })
    .transpose()
}

pub async fn put_settings(db: &Db, platform_id: Uuid, s: &OauthSettings) -> Result<(), StoreError> {
    on_db!(db, |pool| {
        sqlx::query(
            "INSERT INTO oauth_settings (platform_id, provider, client_id, instance_url, authorize_url, token_url, revoke_url, \
             userinfo_url, api_base_url, scopes, api_version, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) \
             ON CONFLICT (platform_id) DO UPDATE SET provider = excluded.provider, client_id = excluded.client_id, \
             instance_url = excluded.instance_url, authorize_url = excluded.authorize_url, token_url = excluded.token_url, \
             revoke_url = excluded.revoke_url, userinfo_url = excluded.userinfo_url, api_base_url = excluded.api_base_url, \
             scopes = excluded.scopes, api_version = excluded.api_version, updated_at = excluded.updated_at",
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
        .bind(&s.api_version)
        .bind(now())
        .execute(pool)
        .await
        .map(|_| ())
    })
    .map_err(StoreError::missing_platform)
}

/// What the "needs attention" list looks at, per platform that is not switched off (its
/// accounts come from `store::accounts`).
pub struct HealthRow {
    pub platform_id: Uuid,
    pub name: String,
    /// The list's order, `lower(name)` as the database computes it: the page's cursor.
    pub sort_key: String,
    pub auth_type: AuthType,
    pub status: Status,
    pub imported_plaintext: bool,
    /// A stored secret failed to open when last tried (kept by migration 0022's triggers).
    pub secret_failing: bool,
}

/// Up to `rows` platforms that may need a person, in name order from `from` (its sort
/// key and id; backward when `before`, the caller turns them round): in error, a secret
/// failing, secrets imported in clear, or an OAuth platform without an account or with
/// one that is flagged, disconnected, or expiring by `soon` with nothing to renew it. The
/// same rules as `server::attention`, which words the reasons: the database only finds
/// the rows, walking the name index, so a page reads no more than it must.
pub async fn health_page(db: &Db, soon: DateTime<Utc>, from: Option<(&(String, Uuid), bool)>, rows: i64) -> Result<Vec<HealthRow>, StoreError> {
    type Row = (Uuid, String, String, String, String, Option<bool>, i32);
    let (key, id, before) = match from {
        Some(((key, id), before)) => (Some(key.as_str()), Some(*id), before),
        None => (None, None, false),
    };
    let account_needs_a_person = format!(
        "a.needs_attention \
         OR NOT EXISTS (SELECT 1 FROM secrets s WHERE s.owner_id = a.id AND s.field = 'access_token') \
         OR (a.expires_at <= $1 AND NOT EXISTS (SELECT 1 FROM secrets s WHERE s.owner_id = a.id AND s.field = 'refresh_token') AND NOT {})",
        super::accounts::renews()
    );
    let (compare, order) = if before { ("<", "DESC") } else { (">", "ASC") };
    let sql = format!(
        "SELECT p.id, p.name, lower(p.name), p.auth_type, p.status, c.imported_plaintext, p.secrets_failing \
         FROM platforms p LEFT JOIN credentials c ON c.platform_id = p.id \
         WHERE p.status <> 'inactive' AND ($2 IS NULL OR (lower(p.name), p.id) {compare} ($2, $3)) \
           AND (p.status = 'error' OR p.secrets_failing > 0 OR c.imported_plaintext \
                OR (p.auth_type = 'oauth2' AND (NOT EXISTS (SELECT 1 FROM accounts a WHERE a.platform_id = p.id) \
                    OR EXISTS (SELECT 1 FROM accounts a WHERE a.platform_id = p.id AND ({account_needs_a_person}))))) \
         ORDER BY lower(p.name) {order}, p.id {order} LIMIT $4"
    );
    let rows: Vec<Row> = on_db!(db, |pool| sqlx::query_as(&sql).bind(soon).bind(key).bind(id).bind(rows).fetch_all(pool).await)?;
    rows.into_iter()
        .map(|(platform_id, name, sort_key, auth_type, status, imported, failing)| {
            Ok(HealthRow {
                platform_id,
                name,
                sort_key,
                auth_type: auth_type.parse().map_err(StoreError::Corrupt)?,
                status: status.parse().map_err(StoreError::Corrupt)?,
                imported_plaintext: imported.unwrap_or(false),
                secret_failing: failing > 0,
            })
        })
        .collect()
}
