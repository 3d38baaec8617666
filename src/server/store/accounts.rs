//! The `accounts` table (the connected accounts under each OAuth platform) and their
//! tokens in `secrets`: what a connection looks like, and the lease and version that make
//! refreshes single-flight across tasks and instances.

use super::{cut, now, secrets::count_encryptions, StoreError};
use crate::{
    domain::{Account, ProviderKey, SecretField},
    on_db,
    server::db::Db,
    transaction,
};
use chrono::{DateTime, Utc};
use uuid::Uuid;

/// Longest texts the schema keeps of what a provider says about an account.
pub const EXTERNAL_ID_MAX: usize = 200;
pub const NAME_MAX: usize = 300;
pub const AVATAR_URL_MAX: usize = 2048;
const TOKEN_TYPE_MAX: usize = 100;
const SCOPES_MAX: usize = 4000;
const ERROR_MAX: usize = 2000;

/// An account and the version its tokens are at.
#[derive(Clone, Debug)]
pub struct AccountRow {
    pub account: Account,
    pub token_version: i64,
    pub refresh_lease_until: Option<DateTime<Utc>>,
}

/// The accounts query, with whether each account's provider renews its access token
/// itself (`refresh = "renew"` in the catalog: Instagram, Threads).
fn select() -> &'static str {
    static SELECT: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    SELECT.get_or_init(|| {
        format!(
            "SELECT a.id, a.platform_id, a.instance_id, i.origin AS instance, a.external_id, a.name, a.avatar_url, a.scopes, \
             a.expires_at, a.connected_at, a.last_refreshed_at, a.last_error, a.refresh_failures, a.needs_attention, a.token_version, \
             a.refresh_lease_until, a.destination, a.posting_slots, \
             EXISTS (SELECT 1 FROM secrets s WHERE s.owner_id = a.id AND s.field = 'access_token') AS connected, \
             EXISTS (SELECT 1 FROM secrets s WHERE s.owner_id = a.id AND s.field = 'refresh_token') AS has_refresh_token, \
             {} AS renews \
             FROM accounts a LEFT JOIN instance_clients i ON i.id = a.instance_id",
            renews()
        )
    })
}

/// SQL that is true for an account (`a`) whose provider renews the access token itself.
/// The keys are the catalog's own (lower-case identifiers), never input.
/// Whether account `a` renews its own token (`refresh = "renew"` in the catalog), in SQL.
pub(super) fn renews() -> &'static str {
    static RENEWS: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    RENEWS.get_or_init(|| {
        use crate::server::oauth::catalog::{all, Refresh};
        let keys: Vec<String> = all().iter().filter(|p| p.refresh == Refresh::Renew).map(|p| format!("'{}'", p.key.as_str())).collect();
        match keys.is_empty() {
            true => "FALSE".to_owned(),
            false => format!("EXISTS (SELECT 1 FROM oauth_settings o WHERE o.platform_id = a.platform_id AND o.provider IN ({}))", keys.join(", ")),
        }
    })
}

#[derive(sqlx::FromRow)]
struct Row {
    id: Uuid,
    platform_id: Uuid,
    instance_id: Option<Uuid>,
    instance: Option<String>,
    external_id: String,
    name: Option<String>,
    avatar_url: Option<String>,
    scopes: Option<String>,
    expires_at: Option<DateTime<Utc>>,
    connected_at: DateTime<Utc>,
    last_refreshed_at: Option<DateTime<Utc>>,
    last_error: Option<String>,
    refresh_failures: i32,
    needs_attention: bool,
    token_version: i64,
    refresh_lease_until: Option<DateTime<Utc>>,
    connected: bool,
    has_refresh_token: bool,
    renews: bool,
    destination: Option<String>,
    posting_slots: Option<String>,
}

fn decode(r: Row) -> AccountRow {
    AccountRow {
        account: Account {
            id: r.id,
            platform_id: r.platform_id,
            instance_id: r.instance_id,
            instance: r.instance,
            external_id: r.external_id,
            name: r.name,
            avatar_url: r.avatar_url,
            connected: r.connected,
            has_refresh_token: r.has_refresh_token,
            renews: r.renews,
            scopes: r.scopes,
            expires_at: r.expires_at,
            connected_at: r.connected_at,
            last_refreshed_at: r.last_refreshed_at,
            last_error: r.last_error,
            refresh_failures: r.refresh_failures,
            needs_attention: r.needs_attention,
            expired: !r.has_refresh_token && !r.renews && r.expires_at.is_some_and(|at| at <= Utc::now()),
            destination: r.destination,
            // Written only by `set_slots`; an unreadable value reads as none.
            slots: r.posting_slots.and_then(|json| serde_json::from_str(&json).ok()),
        },
        token_version: r.token_version,
        refresh_lease_until: r.refresh_lease_until,
    }
}

/// The accounts of one platform, by name.
pub async fn list(db: &Db, platform_id: Uuid) -> Result<Vec<Account>, StoreError> {
    let rows: Vec<Row> = on_db!(db, |pool| {
        sqlx::query_as(&format!("{} WHERE a.platform_id = $1 ORDER BY lower(coalesce(a.name, a.external_id)), a.connected_at", select()))
            .bind(platform_id)
            .fetch_all(pool)
            .await
    })?;
    Ok(rows.into_iter().map(|r| decode(r).account).collect())
}

/// Every account, for the "needs attention" list.
/// The accounts of the platforms `ids`.
pub async fn of_platforms(db: &Db, ids: &[Uuid]) -> Result<Vec<Account>, StoreError> {
    let rows: Vec<Row> = crate::fetch_for_ids!(db, ids, format!("{} WHERE a.platform_id", select()), "ORDER BY a.platform_id")?;
    Ok(rows.into_iter().map(|r| decode(r).account).collect())
}

pub async fn get(db: &Db, account_id: Uuid) -> Result<Option<AccountRow>, StoreError> {
    let row: Option<Row> = on_db!(db, |pool| {
        sqlx::query_as(&format!("{} WHERE a.id = $1", select())).bind(account_id).fetch_optional(pool).await
    })?;
    Ok(row.map(decode))
}

/// Sets where the account's posts go (`None`: the provider's default).
/// Sets (or, with `None`, clears) an account's posting slots.
pub async fn set_slots(db: &Db, account_id: Uuid, slots: Option<&crate::domain::PostingSlots>) -> Result<(), StoreError> {
    let json = slots.map(|s| serde_json::to_string(s).expect("slots serialize"));
    on_db!(db, |pool| sqlx::query("UPDATE accounts SET posting_slots = $1, updated_at = $2 WHERE id = $3").bind(json).bind(now()).bind(account_id).execute(pool).await.map(|_| ()))?;
    Ok(())
}

pub async fn set_destination(db: &Db, account_id: Uuid, destination: Option<&str>) -> Result<(), StoreError> {
    on_db!(db, |pool| sqlx::query("UPDATE accounts SET destination = $1, updated_at = $2 WHERE id = $3").bind(destination).bind(now()).bind(account_id).execute(pool).await.map(|_| ()))?;
    Ok(())
}

/// The account of a platform that has this provider id, if connected before.
pub async fn find(db: &Db, platform_id: Uuid, external_id: &str) -> Result<Option<Uuid>, StoreError> {
    let row: Option<(Uuid,)> = on_db!(db, |pool| {
        sqlx::query_as("SELECT id FROM accounts WHERE platform_id = $1 AND external_id = $2")
            .bind(platform_id)
            .bind(cut(external_id.to_owned(), EXTERNAL_ID_MAX))
            .fetch_optional(pool)
            .await
    })?;
    Ok(row.map(|r| r.0))
}

/// A connected account a post can go to, with its platform.
pub struct Publishable {
    pub account_id: Uuid,
    pub platform_id: Uuid,
    pub platform_name: String,
    pub provider: ProviderKey,
    pub name: Option<String>,
    pub external_id: String,
    pub avatar_url: Option<String>,
    /// Where its posts go, for a provider that asks (a Reddit subreddit, a Pinterest board).
    pub destination: Option<String>,
}

/// Accounts with an access token, under OAuth platforms that are not switched off, in one
/// query (platform name, then account name).
pub async fn publishable(db: &Db) -> Result<Vec<Publishable>, StoreError> {
    type Row = (Uuid, Uuid, String, String, Option<String>, String, Option<String>, Option<String>);
    let rows: Vec<Row> = on_db!(db, |pool| {
        sqlx::query_as(
            "SELECT a.id, a.platform_id, p.name, o.provider, a.name, a.external_id, a.avatar_url, a.destination FROM accounts a \
             JOIN platforms p ON p.id = a.platform_id JOIN oauth_settings o ON o.platform_id = a.platform_id \
             WHERE p.auth_type = 'oauth2' AND p.status <> 'inactive' \
             AND EXISTS (SELECT 1 FROM secrets s WHERE s.owner_id = a.id AND s.field = 'access_token') \
             ORDER BY lower(p.name), lower(coalesce(a.name, a.external_id))",
        )
        .fetch_all(pool)
        .await
    })?;
    rows.into_iter()
        .map(|(account_id, platform_id, platform_name, provider, name, external_id, avatar_url, destination)| {
            let provider = provider.parse().map_err(StoreError::Corrupt)?;
            Ok(Publishable { account_id, platform_id, platform_name, provider, name, external_id, avatar_url, destination })
        })
        .collect()
}

/// Takes the right to refresh the account's tokens until `until`, if their version is
/// still `version` and nobody else holds an unexpired lease. `false`: someone else won.
pub async fn claim_refresh(db: &Db, account_id: Uuid, version: i64, until: DateTime<Utc>) -> Result<bool, StoreError> {
    let at = now();
    let n = on_db!(db, |pool| {
        sqlx::query(
            "UPDATE accounts SET refresh_lease_until = $1 \
             WHERE id = $2 AND token_version = $3 AND (refresh_lease_until IS NULL OR refresh_lease_until < $4)",
        )
        .bind(until)
        .bind(account_id)
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
}

/// Who a provider says the account is.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Identity {
    /// The provider's id; empty when it does not say (then the platform holds one such account).
    pub external_id: String,
    pub name: Option<String>,
    pub avatar_url: Option<String>,
}

/// Whose tokens a write stores.
#[derive(Clone, Debug)]
pub enum Grant {
    /// A new connection: creates the platform's account with this identity (on this
    /// registered instance, if any), or replaces the tokens of the one connected before.
    New(Identity, Option<Uuid>),
    /// A refresh of the account's grant connected at `connected_at`. Written unless that
    /// grant is gone (disconnected, or replaced by a new connection); a refresh of the same
    /// grant that finished meanwhile does not stop it: the provider has just issued these
    /// tokens, and a rotated refresh token dropped here would be lost for good.
    Refreshed { account_id: Uuid, connected_at: DateTime<Utc> },
}

/// The platform's status follows its accounts: `error` while one needs a person, `active`
/// with accounts, `inactive` with none.
macro_rules! settle_platform_status {
    ($tx:ident, $platform_id:expr, $at:expr) => {
        sqlx::query(
            "UPDATE platforms SET updated_at = $2, status = CASE \
             WHEN EXISTS (SELECT 1 FROM accounts WHERE platform_id = $1 AND needs_attention) THEN 'error' \
             WHEN EXISTS (SELECT 1 FROM accounts WHERE platform_id = $1) THEN 'active' ELSE 'inactive' END WHERE id = $1",
        )
        .bind($platform_id)
        .bind($at)
        .execute(&mut *$tx)
        .await?
    };
}

/// Writes new tokens in one transaction: the account's facts (bumping `token_version`),
/// the encryption count and the ciphertexts `seal` makes for the account's slots. Returns
/// the account written, `None` when a refresh's grant is gone (nothing written).
#[allow(clippy::too_many_arguments)]
pub async fn save_tokens(
    db: &Db,
    platform_id: Uuid,
    key_version: u32,
    limit: i64,
    refresh: RefreshWrite,
    facts: &TokenFacts,
    grant: &Grant,
    seal: impl Fn(Uuid, SecretField) -> Vec<u8>,
) -> Result<Option<Uuid>, StoreError> {
    let at = now();
    let mut fields = vec![SecretField::AccessToken];
    if matches!(refresh, RefreshWrite::Replace) {
        fields.push(SecretField::RefreshToken);
    }
    let token_type = facts.token_type.clone().map(|t| cut(t, TOKEN_TYPE_MAX));
    let scopes = facts.scopes.clone().map(|s| cut(s, SCOPES_MAX));
    transaction!(db, |tx| {
        let account_id = match grant {
            Grant::Refreshed { account_id, connected_at } => {
                let n = sqlx::query(
                    "UPDATE accounts SET token_type = $1, scopes = COALESCE($2, scopes), expires_at = $3, last_refreshed_at = $4, \
                     updated_at = $4, token_version = token_version + 1, refresh_lease_until = NULL, refresh_failures = 0, \
                     next_refresh_at = NULL, last_error = NULL WHERE id = $5 AND platform_id = $6 AND connected_at = $7 \
                     AND EXISTS (SELECT 1 FROM secrets s WHERE s.owner_id = $5 AND s.field = 'access_token')",
                )
                .bind(&token_type)
                .bind(&scopes)
                .bind(facts.expires_at)
                .bind(at)
                .bind(account_id)
                .bind(platform_id)
                .bind(connected_at)
                .execute(&mut *tx)
                .await?
                .rows_affected();
                if n != 1 {
                    return Ok(None);
                }
                *account_id
            }
            Grant::New(who, instance) => {
                let (id,): (Uuid,) = sqlx::query_as(
                    "INSERT INTO accounts (id, platform_id, external_id, name, avatar_url, token_type, scopes, expires_at, connected_at, updated_at, instance_id) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9, $10) \
                     ON CONFLICT (platform_id, external_id) DO UPDATE SET name = excluded.name, avatar_url = excluded.avatar_url, \
                     instance_id = excluded.instance_id, \
                     token_type = excluded.token_type, scopes = excluded.scopes, expires_at = excluded.expires_at, \
                     connected_at = excluded.connected_at, last_refreshed_at = NULL, updated_at = excluded.updated_at, \
                     token_version = accounts.token_version + 1, refresh_lease_until = NULL, refresh_failures = 0, \
                     next_refresh_at = NULL, last_error = NULL, needs_attention = FALSE RETURNING id",
                )
                .bind(Uuid::now_v7())
                .bind(platform_id)
                .bind(cut(who.external_id.clone(), EXTERNAL_ID_MAX))
                .bind(who.name.clone().map(|n| cut(n, NAME_MAX)))
                .bind(who.avatar_url.clone().filter(|u| u.len() <= AVATAR_URL_MAX))
                .bind(&token_type)
                .bind(&scopes)
                .bind(facts.expires_at)
                .bind(at)
                .bind(instance)
                .fetch_one(&mut *tx)
                .await
                .map_err(StoreError::missing_platform)?;
                id
            }
        };
        count_encryptions!(tx, fields.len(), key_version, limit);
        for field in &fields {
            sqlx::query(
                "INSERT INTO secrets (owner_id, platform_id, account_id, field, ciphertext, key_version, created_at, updated_at) \
                 VALUES ($1, $2, $1, $3, $4, $5, $6, $6) ON CONFLICT (owner_id, field) DO UPDATE \
                 SET account_id = excluded.account_id, ciphertext = excluded.ciphertext, key_version = excluded.key_version, \
                 updated_at = excluded.updated_at",
            )
            .bind(account_id)
            .bind(platform_id)
            .bind(field.as_str())
            .bind(seal(account_id, *field))
            .bind(key_version as i32)
            .bind(at)
            .execute(&mut *tx)
            .await?;
        }
        if matches!(refresh, RefreshWrite::Delete) {
            sqlx::query("DELETE FROM secrets WHERE owner_id = $1 AND field = 'refresh_token'").bind(account_id).execute(&mut *tx).await?;
        }
        if matches!(grant, Grant::New(..)) {
            settle_platform_status!(tx, platform_id, at);
        }
        Ok(Some(account_id))
    })
}


/// A refresh that did not work but may next time: release the lease and try again at `retry_at`.
pub async fn record_refresh_failure(db: &Db, account_id: Uuid, reason: &str, retry_at: DateTime<Utc>) -> Result<i32, StoreError> {
    let (failures,): (i32,) = on_db!(db, |pool| {
        sqlx::query_as(
            "UPDATE accounts SET refresh_lease_until = NULL, refresh_failures = refresh_failures + 1, next_refresh_at = $1, \
             last_error = $2, updated_at = $3 WHERE id = $4 RETURNING refresh_failures",
        )
        .bind(retry_at)
        .bind(cut(reason.to_owned(), ERROR_MAX))
        .bind(now())
        .bind(account_id)
        .fetch_one(pool)
        .await
    })?;
    Ok(failures)
}

/// The account needs a person (re-authentication): flagged with the reason, lease
/// released, and its platform shows `error`.
pub async fn mark_needs_attention(db: &Db, account_id: Uuid, reason: &str) -> Result<(), StoreError> {
    let at = now();
    transaction!(db, |tx| {
        let platform: Option<(Uuid,)> = sqlx::query_as(
            "UPDATE accounts SET refresh_lease_until = NULL, needs_attention = TRUE, last_error = $1, updated_at = $2 WHERE id = $3 RETURNING platform_id",
        )
        .bind(cut(reason.to_owned(), ERROR_MAX))
        .bind(at)
        .bind(account_id)
        .fetch_optional(&mut *tx)
        .await?;
        if let Some((platform_id,)) = platform {
            settle_platform_status!(tx, platform_id, at);
        }
        Ok(())
    })
}

/// Forgets one account of the platform (its tokens with it); `false` when there was none.
pub async fn remove(db: &Db, platform_id: Uuid, account_id: Uuid) -> Result<bool, StoreError> {
    let at = now();
    transaction!(db, |tx| {
        // By field too: an account made by the migration has its platform's id, which also
        // owns the platform's client secret.
        sqlx::query("DELETE FROM secrets WHERE owner_id = $1 AND platform_id = $2 AND field IN ('access_token', 'refresh_token')")
            .bind(account_id)
            .bind(platform_id)
            .execute(&mut *tx)
            .await?;
        let n = sqlx::query("DELETE FROM accounts WHERE id = $1 AND platform_id = $2")
            .bind(account_id)
            .bind(platform_id)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        settle_platform_status!(tx, platform_id, at);
        Ok(n == 1)
    })
}

/// Forgets every account of the platform; it becomes inactive.
pub async fn remove_all(db: &Db, platform_id: Uuid) -> Result<(), StoreError> {
    let at = now();
    transaction!(db, |tx| {
        sqlx::query("DELETE FROM secrets WHERE platform_id = $1 AND field IN ('access_token', 'refresh_token') AND owner_id IN (SELECT id FROM accounts WHERE platform_id = $1)")
            .bind(platform_id)
            .execute(&mut *tx)
            .await?;
        sqlx::query("DELETE FROM accounts WHERE platform_id = $1").bind(platform_id).execute(&mut *tx).await?;
        settle_platform_status!(tx, platform_id, at);
        Ok(())
    })
}

/// Accounts whose access token expires before `horizon`, that can be refreshed and are
/// not waiting out a backoff or a person.
/// An account whose token expires before `horizon` with nothing to renew it, not yet
/// warned about for this expiry: its id, platform, name and expiry.
pub type Expiring = (Uuid, Uuid, String, DateTime<Utc>);

pub async fn expiring_unwarned(db: &Db, horizon: DateTime<Utc>) -> Result<Vec<Expiring>, StoreError> {
    let at = now();
    let sql = format!(
        "SELECT a.id, a.platform_id, coalesce(a.name, a.external_id), a.expires_at FROM accounts a \
         WHERE a.expires_at IS NOT NULL AND a.expires_at > $1 AND a.expires_at <= $2 AND NOT a.needs_attention \
         AND (a.expiry_warned_for IS NULL OR a.expiry_warned_for <> a.expires_at) \
         AND NOT EXISTS (SELECT 1 FROM secrets s WHERE s.owner_id = a.id AND s.field = 'refresh_token') AND NOT {} \
         ORDER BY a.expires_at",
        renews()
    );
    on_db!(db, |pool| {
        sqlx::query_as(&sql)
        .bind(at)
        .bind(horizon)
        .fetch_all(pool)
        .await
    })
    .map_err(Into::into)
}

/// Records that the warning for this expiry is written; `false` when another instance (or
/// an earlier round) already did, so each expiry is warned about once.
pub async fn claim_expiry_warning(db: &Db, account_id: Uuid, expires_at: DateTime<Utc>) -> Result<bool, StoreError> {
    let done = on_db!(db, |pool| {
        sqlx::query("UPDATE accounts SET expiry_warned_for = $2 WHERE id = $1 AND expires_at = $2 AND (expiry_warned_for IS NULL OR expiry_warned_for <> $2)")
            .bind(account_id)
            .bind(expires_at)
            .execute(pool)
            .await
            .map(|r| r.rows_affected())
    })?;
    Ok(done == 1)
}

/// Accounts to renew now, each with whether its provider renews the access token itself:
/// those with a refresh token expiring before `horizon`, and renewing ones expiring before
/// `renew_horizon` whose token is at least a day old (Meta renews no younger token).
pub async fn due_for_refresh(db: &Db, horizon: DateTime<Utc>, renew_horizon: DateTime<Utc>) -> Result<Vec<(Uuid, bool)>, StoreError> {
    let at = now();
    let day_ago = at.checked_sub_signed(chrono::Duration::days(1)).unwrap_or(at);
    let sql = format!(
        "SELECT a.id, {renews} AS renews FROM accounts a WHERE a.expires_at IS NOT NULL AND NOT a.needs_attention \
         AND (a.next_refresh_at IS NULL OR a.next_refresh_at <= $2) \
         AND ((a.expires_at < $1 AND EXISTS (SELECT 1 FROM secrets s WHERE s.owner_id = a.id AND s.field = 'refresh_token')) \
              OR (a.expires_at < $3 AND coalesce(a.last_refreshed_at, a.connected_at) <= $4 AND {renews})) \
         ORDER BY a.expires_at",
        renews = renews()
    );
    let rows: Vec<(Uuid, bool)> = on_db!(db, |pool| sqlx::query_as(&sql).bind(horizon).bind(at).bind(renew_horizon).bind(day_ago).fetch_all(pool).await)?;
    Ok(rows)
}
