//! The `secrets` table (ciphertext only) and the `credentials` table (the facts about a
//! platform's credentials that are not secret).

use super::{now, StoreError};
use crate::{
    domain::SecretField,
    on_db,
    server::{crypto::SecretSlot, db::Db},
    transaction,
};
use chrono::{DateTime, Utc};
use uuid::Uuid;

/// A stored secret: still ciphertext. Its owner is the platform (`account_id` and
/// `instance_id` none), one of its accounts, or an app registered on an instance for it.
#[derive(Clone, PartialEq, Eq)]
pub struct SealedSecret {
    pub owner_id: Uuid,
    pub platform_id: Uuid,
    pub account_id: Option<Uuid>,
    pub instance_id: Option<Uuid>,
    pub field: SecretField,
    pub ciphertext: Vec<u8>,
    pub key_version: u32,
    pub updated_at: DateTime<Utc>,
    /// It failed to open when last tried, since it was written.
    pub failing: bool,
}

impl SealedSecret {
    /// The slot it was sealed for (an OAuth token not yet re-bound to its account is still
    /// in its platform's slot: `account_id` none).
    pub fn slot(&self) -> SecretSlot {
        match (self.account_id, self.instance_id) {
            (Some(account), _) => SecretSlot::account_token(account, self.field),
            (None, Some(instance)) => SecretSlot::instance_client(instance, self.field),
            (None, None) => SecretSlot::platform_secret(self.platform_id, self.field),
        }
    }
}

impl std::fmt::Debug for SealedSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SealedSecret")
            .field("owner_id", &self.owner_id)
            .field("field", &self.field)
            .field("key_version", &self.key_version)
            .finish_non_exhaustive()
    }
}

/// Whether a row's last recorded failure to open is about its current ciphertext.
macro_rules! failing {
    () => {
        "CASE WHEN decrypt_failed_at >= updated_at THEN 1 ELSE 0 END"
    };
}

/// The columns of [`Row`], in order.
pub(super) const COLUMNS: &str = concat!("owner_id, platform_id, account_id, instance_id, field, ciphertext, key_version, updated_at, ", failing!());

/// A `secrets` row: owner_id, platform_id, account_id, instance_id, field, ciphertext, key_version, updated_at, failing.
pub(super) type Row = (Uuid, Uuid, Option<Uuid>, Option<Uuid>, String, Vec<u8>, i32, DateTime<Utc>, i32);

pub(super) fn decode(rows: Vec<Row>) -> Result<Vec<SealedSecret>, StoreError> {
    rows.into_iter()
        .map(|(owner_id, platform_id, account_id, instance_id, field, ciphertext, key_version, updated_at, failing)| {
            let field = field.parse().map_err(StoreError::Corrupt)?;
            Ok(SealedSecret { owner_id, platform_id, account_id, instance_id, field, ciphertext, key_version: key_version as u32, updated_at, failing: failing != 0 })
        })
        .collect()
}

/// Records that the secret was just opened, and whether it opened: only if its ciphertext
/// is still the one opened (a write in between replaced what was checked).
pub async fn record_check(db: &Db, sealed: &SealedSecret, opens: bool) -> Result<(), StoreError> {
    let at = now();
    let failed_at = (!opens).then_some(at);
    on_db!(db, |pool| {
        sqlx::query("UPDATE secrets SET checked_at = $1, decrypt_failed_at = $2 WHERE owner_id = $3 AND field = $4 AND ciphertext = $5")
            .bind(at)
            .bind(failed_at)
            .bind(sealed.owner_id)
            .bind(sealed.field.as_str())
            .bind(&sealed.ciphertext)
            .execute(pool)
            .await
            .map(|_| ())
    })?;
    Ok(())
}

/// Up to `limit` secrets not checked since `before` (a write counts as a check), the
/// longest unchecked first: the integrity sweep's next batch.
pub async fn due_for_check(db: &Db, before: DateTime<Utc>, limit: i64) -> Result<Vec<SealedSecret>, StoreError> {
    let rows: Vec<Row> = on_db!(db, |pool| {
        sqlx::query_as(&format!(
            "SELECT {COLUMNS} FROM secrets WHERE coalesce(checked_at, updated_at) < $1 ORDER BY coalesce(checked_at, updated_at), owner_id, field LIMIT $2"
        ))
        .bind(before)
        .bind(limit)
        .fetch_all(pool)
        .await
    })?;
    decode(rows)
}

/// Counts `n` encryptions with `key_version` inside a write's transaction, refusing
/// (`KeyExhausted`) once the key has made `limit`, or once it is retired (an instance that
/// has not yet seen a rotation): no secret is written uncounted or under an erased key.
macro_rules! count_encryptions {
    ($tx:ident, $n:expr, $key_version:expr, $limit:expr) => {{
        let counted: Option<(i64,)> = sqlx::query_as("UPDATE encryption_keys SET encryptions = encryptions + $1 WHERE version = $2 AND state <> 'retired' RETURNING encryptions")
            .bind($n as i64)
            .bind($key_version as i32)
            .fetch_optional(&mut *$tx)
            .await?;
        let Some((count,)) = counted else {
            return Err(StoreError::KeyRetired { version: $key_version });
        };
        if count > $limit {
            return Err(StoreError::KeyExhausted { version: $key_version });
        }
    }};
}
pub(super) use count_encryptions;

/// Stores what `seal` returns as the platform's own `field`, counting the encryption (see
/// [`count_encryptions!`]) in the same transaction.
pub async fn put(
    db: &Db,
    platform_id: Uuid,
    field: SecretField,
    key_version: u32,
    limit: i64,
    seal: impl FnOnce() -> Vec<u8>,
) -> Result<(), StoreError> {
    let at = now();
    transaction!(db, |tx| {
        count_encryptions!(tx, 1, key_version, limit);
        sqlx::query(
            "INSERT INTO secrets (owner_id, platform_id, field, ciphertext, key_version, created_at, updated_at) \
             VALUES ($1, $1, $2, $3, $4, $5, $5) \
             ON CONFLICT (owner_id, field) DO UPDATE \
             SET ciphertext = excluded.ciphertext, key_version = excluded.key_version, updated_at = excluded.updated_at",
        )
        .bind(platform_id)
        .bind(field.as_str())
        .bind(seal())
        .bind(key_version as i32)
        .bind(at)
        .execute(&mut *tx)
        .await
        .map_err(StoreError::missing_platform)?;
        // A new value replaces whatever came from a plaintext store.
        sqlx::query("UPDATE credentials SET imported_plaintext = $1 WHERE platform_id = $2").bind(false).bind(platform_id).execute(&mut *tx).await?;
        Ok(())
    })
}

/// The platform's own secrets (`own`), or those, its accounts' tokens and its instance
/// clients' secrets.
pub async fn for_platform(db: &Db, platform_id: Uuid, own: bool) -> Result<Vec<SealedSecret>, StoreError> {
    let rows: Vec<Row> = on_db!(db, |pool| {
        sqlx::query_as(&format!(
            "SELECT {COLUMNS} FROM secrets WHERE platform_id = $1 AND ($2 = 0 OR (account_id IS NULL AND instance_id IS NULL)) ORDER BY field, owner_id"
        ))
            .bind(platform_id)
            .bind(own as i32)
            .fetch_all(pool)
            .await
    })?;
    decode(rows)
}

/// The `field` of its owner (a platform, or an account).
pub async fn one(db: &Db, owner_id: Uuid, field: SecretField) -> Result<Option<SealedSecret>, StoreError> {
    let row: Option<Row> = on_db!(db, |pool| {
        sqlx::query_as(&format!("SELECT {COLUMNS} FROM secrets WHERE owner_id = $1 AND field = $2"))
            .bind(owner_id)
            .bind(field.as_str())
            .fetch_optional(pool)
            .await
    })?;
    Ok(decode(row.into_iter().collect())?.pop())
}

/// OAuth tokens sealed before accounts existed (in their platform's slot), with the account
/// each now belongs to (the migration gave it the platform's id).
pub async fn unbound_tokens(db: &Db) -> Result<Vec<SealedSecret>, StoreError> {
    let rows: Vec<Row> = on_db!(db, |pool| {
        sqlx::query_as(&format!(
            "SELECT {COLUMNS} FROM secrets \
             WHERE account_id IS NULL AND field IN ('access_token', 'refresh_token') AND owner_id IN (SELECT id FROM accounts)"
        ))
        .fetch_all(pool)
        .await
    })?;
    decode(rows)
}

/// Re-binds one token to its account: the new ciphertext replaces the old one only if the
/// row is still unbound and unchanged (another instance may have done it first).
pub async fn bind_to_account(db: &Db, old: &SealedSecret, key_version: u32, limit: i64, ciphertext: Vec<u8>) -> Result<bool, StoreError> {
    let at = now();
    transaction!(db, |tx| {
        let n = sqlx::query(
            "UPDATE secrets SET account_id = owner_id, ciphertext = $1, key_version = $2, updated_at = $3 \
             WHERE owner_id = $4 AND field = $5 AND account_id IS NULL AND ciphertext = $6",
        )
        .bind(&ciphertext)
        .bind(key_version as i32)
        .bind(at)
        .bind(old.owner_id)
        .bind(old.field.as_str())
        .bind(&old.ciphertext)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if n == 1 {
            count_encryptions!(tx, 1, key_version, limit);
        }
        Ok(n == 1)
    })
}

/// Deletes one secret; `false` when there was none.
pub async fn delete(db: &Db, platform_id: Uuid, field: SecretField) -> Result<bool, StoreError> {
    let n = on_db!(db, |pool| {
        sqlx::query("DELETE FROM secrets WHERE owner_id = $1 AND field = $2")
            .bind(platform_id)
            .bind(field.as_str())
            .execute(pool)
            .await
            .map(|r| r.rows_affected())
    })?;
    Ok(n > 0)
}

/// The basic-auth user name, if one is stored.
pub async fn username(db: &Db, platform_id: Uuid) -> Result<Option<String>, StoreError> {
    let row: Option<(Option<String>,)> = on_db!(db, |pool| {
        sqlx::query_as("SELECT username FROM credentials WHERE platform_id = $1").bind(platform_id).fetch_optional(pool).await
    })?;
    Ok(row.and_then(|r| r.0))
}

pub async fn set_username(db: &Db, platform_id: Uuid, username: Option<&str>) -> Result<(), StoreError> {
    on_db!(db, |pool| {
        sqlx::query(
            "INSERT INTO credentials (platform_id, username, updated_at) VALUES ($1, $2, $3) \
             ON CONFLICT (platform_id) DO UPDATE SET username = excluded.username, updated_at = excluded.updated_at",
        )
        .bind(platform_id)
        .bind(username)
        .bind(now())
        .execute(pool)
        .await
        .map(|_| ())
    })
    .map_err(StoreError::missing_platform)
}


/// Marks the platform's secrets as having come from a plaintext store.
pub async fn flag_imported_plaintext(db: &Db, platform_id: Uuid) -> Result<(), StoreError> {
    on_db!(db, |pool| {
        sqlx::query(
            "INSERT INTO credentials (platform_id, imported_plaintext, updated_at) VALUES ($1, $2, $3) \
             ON CONFLICT (platform_id) DO UPDATE SET imported_plaintext = excluded.imported_plaintext, updated_at = excluded.updated_at",
        )
        .bind(platform_id)
        .bind(true)
        .bind(now())
        .execute(pool)
        .await
        .map(|_| ())
    })
    .map_err(StoreError::missing_platform)
}
