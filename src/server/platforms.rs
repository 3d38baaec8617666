//! The platform registry's operations, shared by the server functions and the JSON API:
//! validated input in, stored platforms (with their encryption badge) or a user-facing
//! [`AppError`] out.

use super::{
    audit::{self, Target},
    auth::Caller,
    crypto::Keyring,
    db::Db,
    error::internal,
    secrets,
    store::{platforms as store, StoreError},
};
use crate::domain::{
    AppError, EncryptionState, FacetCounts, FieldErrors, Platform, PlatformFilter, PlatformList, ValidPlatform,
};
use uuid::Uuid;

/// Reads a platform id from a URL or form.
pub fn parse_id(id: &str) -> Result<Uuid, AppError> {
    Uuid::parse_str(id.trim()).map_err(|_| AppError::invalid("id", "is not a platform id (expected a UUID)"))
}

fn store_error(e: StoreError, name: &str) -> AppError {
    match e {
        StoreError::Duplicate { field } => AppError::Conflict {
            fields: FieldErrors::single(field, format!("another platform is already named \"{name}\"")),
        },
        other => internal(other),
    }
}

fn missing(id: Uuid) -> AppError {
    AppError::not_found(format!("platform {id}"))
}

/// The platforms matching `filter`, each with its badge, and the counts for every filter
/// choice. Category and status filter in SQL; the encryption state is only known after
/// looking at the secrets, so that filter applies here.
pub async fn list(db: &Db, keyring: &Keyring, filter: PlatformFilter) -> Result<PlatformList, AppError> {
    let sql_filter = PlatformFilter { encryption: None, ..filter };
    let (platforms, summaries) =
        tokio::try_join!(store::list(db, &sql_filter), store::summaries(db)).map_err(internal)?;
    let badges = secrets::badges(db, keyring).await?;
    let state_of = |id: &Uuid| badges.get(id).map_or(EncryptionState::NoSecret, |b| b.state);
    let keys: Vec<_> = summaries.iter().map(|(id, c, s)| (*c, *s, state_of(id))).collect();
    let platforms = platforms
        .into_iter()
        .map(|p| Platform { encryption: badges.get(&p.id).copied().unwrap_or_default(), ..p })
        .filter(|p| filter.encryption.is_none_or(|e| e == p.encryption.state))
        .collect();
    Ok(PlatformList { platforms, counts: FacetCounts::new(&keys, &filter) })
}

pub async fn get(db: &Db, keyring: &Keyring, id: Uuid) -> Result<Platform, AppError> {
    let platform = store::get(db, id).await.map_err(internal)?.ok_or_else(|| missing(id))?;
    with_badge(db, keyring, platform).await
}

async fn with_badge(db: &Db, keyring: &Keyring, platform: Platform) -> Result<Platform, AppError> {
    let encryption = secrets::encryption(db, keyring, platform.id).await?;
    Ok(Platform { encryption, ..platform })
}

pub async fn create(db: &Db, caller: &Caller, input: ValidPlatform) -> Result<Platform, AppError> {
    let platform = store::insert(db, &input).await.map_err(|e| store_error(e, &input.name))?;
    tracing::info!(platform.id = %platform.id, platform.name = %platform.name, "platform created");
    audit::record(db, caller, "platform_created", Some(Target::new("platform", platform.id, &platform.name)), "ok", None).await;
    Ok(platform)
}

pub async fn update(db: &Db, keyring: &Keyring, caller: &Caller, id: Uuid, input: ValidPlatform) -> Result<Platform, AppError> {
    let platform = store::update(db, id, &input).await.map_err(|e| store_error(e, &input.name))?.ok_or_else(|| missing(id))?;
    tracing::info!(platform.id = %platform.id, "platform updated");
    audit::record(db, caller, "platform_updated", Some(Target::new("platform", platform.id, &platform.name)), "ok", None).await;
    with_badge(db, keyring, platform).await
}

/// Deletes the platform; its secrets and credentials go with it (ON DELETE CASCADE).
pub async fn delete(db: &Db, caller: &Caller, id: Uuid) -> Result<(), AppError> {
    let name = store::get(db, id).await.map_err(internal)?.map(|p| p.name).unwrap_or_default();
    if !store::delete(db, id).await.map_err(internal)? {
        return Err(missing(id));
    }
    tracing::info!(platform.id = %id, "platform deleted");
    audit::record(db, caller, "platform_deleted", Some(Target::new("platform", id, &name)), "ok", None).await;
    Ok(())
}
