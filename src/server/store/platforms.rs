//! The `platforms` table.

use super::{now, StoreError, Unique};
use crate::{
    domain::{Category, FacetKey, Platform, PlatformFilter, Status, ValidPlatform},
    on_db,
    server::db::Db,
};
use chrono::{DateTime, Utc};
use serde_json::{Map, Value};
use sqlx::types::Json;
use uuid::Uuid;

macro_rules! columns {
    () => {
        "id, name, category, auth_type, status, description, icon_url, base_url, metadata, created_at, updated_at"
    };
}

/// Binds a platform's editable fields in column order, after whatever came before them.
macro_rules! bind_fields {
    ($query:expr, $p:expr) => {
        $query
            .bind(&$p.name)
            .bind($p.category.as_str())
            .bind($p.auth_type.as_str())
            .bind($p.status.as_str())
            .bind(&$p.description)
            .bind(&$p.icon_url)
            .bind(&$p.base_url)
            .bind(Json(&$p.metadata))
    };
}

#[derive(sqlx::FromRow)]
struct PlatformRow {
    id: Uuid,
    name: String,
    category: String,
    auth_type: String,
    status: String,
    description: Option<String>,
    icon_url: Option<String>,
    base_url: Option<String>,
    metadata: Json<Map<String, Value>>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

impl TryFrom<PlatformRow> for Platform {
    type Error = StoreError;
    fn try_from(r: PlatformRow) -> Result<Self, StoreError> {
        let corrupt = |e: String| StoreError::Corrupt(format!("platform {}: {e}", r.id));
        Ok(Platform {
            category: r.category.parse().map_err(corrupt)?,
            auth_type: r.auth_type.parse().map_err(corrupt)?,
            status: r.status.parse().map_err(corrupt)?,
            id: r.id,
            name: r.name,
            description: r.description,
            icon_url: r.icon_url,
            base_url: r.base_url,
            metadata: r.metadata.0,
            created_at: r.created_at,
            updated_at: r.updated_at,
            encryption: Default::default(),
        })
    }
}

pub async fn insert(db: &Db, p: &ValidPlatform) -> Result<Platform, StoreError> {
    let (id, at) = (Uuid::now_v7(), now());
    let row: PlatformRow = on_db!(db, |pool| {
        let query = sqlx::query_as(concat!(
            "INSERT INTO platforms (", columns!(), ") ",
            "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING ", columns!()
        ))
        .bind(id);
        bind_fields!(query, p)
        .bind(at)
        .bind(at)
        .fetch_one(pool)
        .await
    })
    .map_err(StoreError::unique(Unique::PlatformName))?;
    row.try_into()
}

pub async fn get(db: &Db, id: Uuid) -> Result<Option<Platform>, StoreError> {
    let row: Option<PlatformRow> = on_db!(db, |pool| {
        sqlx::query_as(concat!("SELECT ", columns!(), " FROM platforms WHERE id = $1"))
            .bind(id)
            .fetch_optional(pool)
            .await
    })?;
    row.map(Platform::try_from).transpose()
}

/// Platforms matching `filter`, by name (case-insensitive).
pub async fn list(db: &Db, filter: &PlatformFilter) -> Result<Vec<Platform>, StoreError> {
    let category = filter.category.map(Category::as_str);
    let status = filter.status.map(Status::as_str);
    let rows: Vec<PlatformRow> = on_db!(db, |pool| {
        sqlx::query_as(concat!(
            "SELECT ", columns!(), " FROM platforms ",
            "WHERE ($1 IS NULL OR category = $1) AND ($2 IS NULL OR status = $2) ",
            "ORDER BY lower(name), id"
        ))
        .bind(category)
        .bind(status)
        .fetch_all(pool)
        .await
    })?;
    rows.into_iter().map(Platform::try_from).collect()
}

/// How many platforms share each category, status and encryption state: one grouped query
/// for the counts beside the filters. The state is the badge's rule (`Encryption::of`) on
/// stored facts: no secret; any secret failing to open; the oldest key not `current`; else
/// current.
pub async fn facets(db: &Db, current: u32) -> Result<Vec<(FacetKey, i64)>, StoreError> {
    let rows: Vec<(String, String, String, i64)> = on_db!(db, |pool| {
        sqlx::query_as(&format!(
            "SELECT p.category, p.status, \
                    CASE WHEN s.platform_id IS NULL THEN 'none' WHEN s.failing > 0 THEN 'failed' WHEN s.oldest <> $1 THEN 'old_key' ELSE 'current' END AS state, \
                    COUNT(*) \
             FROM platforms p LEFT JOIN ( \
                 SELECT platform_id, MAX({}) AS failing, MIN(key_version) AS oldest FROM secrets GROUP BY platform_id \
             ) s ON s.platform_id = p.id \
             GROUP BY p.category, p.status, state",
            super::secrets::FAILING
        ))
        .bind(current as i32)
        .fetch_all(pool)
        .await
    })?;
    rows.into_iter()
        .map(|(c, s, e, n)| Ok(((c.parse().map_err(StoreError::Corrupt)?, s.parse().map_err(StoreError::Corrupt)?, e.parse().map_err(StoreError::Corrupt)?), n)))
        .collect()
}

/// Replaces every editable field; `None` when no such platform exists.
pub async fn update(db: &Db, id: Uuid, p: &ValidPlatform) -> Result<Option<Platform>, StoreError> {
    let row: Option<PlatformRow> = on_db!(db, |pool| {
        let query = sqlx::query_as(concat!(
            "UPDATE platforms SET name = $2, category = $3, auth_type = $4, status = $5, ",
            "description = $6, icon_url = $7, base_url = $8, metadata = $9, updated_at = $10 ",
            "WHERE id = $1 RETURNING ", columns!()
        ))
        .bind(id);
        bind_fields!(query, p)
        .bind(now())
        .fetch_optional(pool)
        .await
    })
    .map_err(StoreError::unique(Unique::PlatformName))?;
    row.map(Platform::try_from).transpose()
}

/// Deletes the platform; `false` when there was none.
pub async fn delete(db: &Db, id: Uuid) -> Result<bool, StoreError> {
    let done = on_db!(db, |pool| {
        sqlx::query("DELETE FROM platforms WHERE id = $1").bind(id).execute(pool).await.map(|r| r.rows_affected())
    })?;
    Ok(done > 0)
}

/// The platform the demo set-up made, if it still exists.
pub async fn demo(db: &Db) -> Result<Option<Platform>, StoreError> {
    let id: Option<(Uuid,)> = on_db!(db, |pool| sqlx::query_as("SELECT platform_id FROM demo_platform").fetch_optional(pool).await)?;
    match id {
        Some((id,)) => get(db, id).await,
        None => Ok(None),
    }
}

/// Remembers `id` as the demo set-up's platform.
pub async fn set_demo(db: &Db, id: Uuid) -> Result<(), StoreError> {
    on_db!(db, |pool| {
        sqlx::query("INSERT INTO demo_platform (platform_id) VALUES ($1) ON CONFLICT (platform_id) DO NOTHING").bind(id).execute(pool).await.map(|_| ())
    })
    .map_err(StoreError::missing_platform)
}
