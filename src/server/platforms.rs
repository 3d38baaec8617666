//! The platform registry's operations, shared by the server functions and the JSON API:
//! validated input in, stored platforms or a user-facing [`AppError`] out.

use super::{
    db::Db,
    error::internal,
    store::{platforms as store, StoreError},
};
use crate::domain::{AppError, FacetCounts, FieldErrors, Platform, PlatformFilter, PlatformList, ValidPlatform};
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

pub async fn list(db: &Db, filter: PlatformFilter) -> Result<PlatformList, AppError> {
    let (platforms, groups) = tokio::try_join!(store::list(db, &filter), store::count_groups(db)).map_err(internal)?;
    Ok(PlatformList { platforms, counts: FacetCounts::from_groups(&groups, &filter) })
}

pub async fn get(db: &Db, id: Uuid) -> Result<Platform, AppError> {
    store::get(db, id).await.map_err(internal)?.ok_or_else(|| missing(id))
}

pub async fn create(db: &Db, input: ValidPlatform) -> Result<Platform, AppError> {
    let platform = store::insert(db, &input).await.map_err(|e| store_error(e, &input.name))?;
    tracing::info!(platform.id = %platform.id, platform.name = %platform.name, "platform created");
    Ok(platform)
}

pub async fn update(db: &Db, id: Uuid, input: ValidPlatform) -> Result<Platform, AppError> {
    let platform = store::update(db, id, &input).await.map_err(|e| store_error(e, &input.name))?.ok_or_else(|| missing(id))?;
    tracing::info!(platform.id = %platform.id, "platform updated");
    Ok(platform)
}

pub async fn delete(db: &Db, id: Uuid) -> Result<(), AppError> {
    if !store::delete(db, id).await.map_err(internal)? {
        return Err(missing(id));
    }
    tracing::info!(platform.id = %id, "platform deleted");
    Ok(())
}
