//! The `instance_clients` table: apps Keyport registered by itself on an instance of a
//! federated provider (Mastodon), one per platform and instance, with the client secret in
//! `secrets` (owner: the instance client, slot `instance_clients`).

use super::{now, secrets::count_encryptions, StoreError, Unique};
use crate::{domain::SecretField, on_db, server::db::Db, transaction};
use uuid::Uuid;

/// A registered app, without its secret.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InstanceClient {
    pub id: Uuid,
    pub platform_id: Uuid,
    /// `https://host[:port]`, no trailing slash.
    pub origin: String,
    pub client_id: String,
    pub scopes: String,
}

type Row = (Uuid, Uuid, String, String, String);

fn decode((id, platform_id, origin, client_id, scopes): Row) -> InstanceClient {
    InstanceClient { id, platform_id, origin, client_id, scopes }
}

pub async fn get(db: &Db, id: Uuid) -> Result<Option<InstanceClient>, StoreError> {
    let row: Option<Row> = on_db!(db, |pool| {
        sqlx::query_as("SELECT id, platform_id, origin, client_id, scopes FROM instance_clients WHERE id = $1").bind(id).fetch_optional(pool).await
    })?;
    Ok(row.map(decode))
}

/// The platform's app on the instance at `origin`, if Keyport registered one.
pub async fn find(db: &Db, platform_id: Uuid, origin: &str) -> Result<Option<InstanceClient>, StoreError> {
    let row: Option<Row> = on_db!(db, |pool| {
        sqlx::query_as("SELECT id, platform_id, origin, client_id, scopes FROM instance_clients WHERE platform_id = $1 AND origin = $2")
            .bind(platform_id)
            .bind(origin)
            .fetch_optional(pool)
            .await
    })?;
    Ok(row.map(decode))
}

/// Stores a newly registered app and its client secret (what `seal` makes for the new
/// row's slot, counted) in one transaction. `Duplicate`: another request registered an
/// app on this instance first (use that one).
pub async fn insert(db: &Db, client: &InstanceClient, key_version: u32, limit: i64, seal: impl Fn(Uuid) -> Vec<u8>) -> Result<(), StoreError> {
    let at = now();
    transaction!(db, |tx| {
        sqlx::query("INSERT INTO instance_clients (id, platform_id, origin, client_id, scopes, registered_at) VALUES ($1, $2, $3, $4, $5, $6)")
            .bind(client.id)
            .bind(client.platform_id)
            .bind(&client.origin)
            .bind(&client.client_id)
            .bind(&client.scopes)
            .bind(at)
            .execute(&mut *tx)
            .await
            .map_err(|e| match e.as_database_error() {
                Some(d) if d.is_unique_violation() => StoreError::Duplicate(Unique::InstanceClient),
                Some(d) if d.is_foreign_key_violation() => StoreError::MissingPlatform,
                _ => e.into(),
            })?;
        count_encryptions!(tx, 1, key_version, limit);
        sqlx::query(
            "INSERT INTO secrets (owner_id, platform_id, instance_id, field, ciphertext, key_version, created_at, updated_at) \
             VALUES ($1, $2, $1, $3, $4, $5, $6, $6)",
        )
        .bind(client.id)
        .bind(client.platform_id)
        .bind(SecretField::ClientSecret.as_str())
        .bind(seal(client.id))
        .bind(key_version as i32)
        .bind(at)
        .execute(&mut *tx)
        .await?;
        Ok(())
    })
}
