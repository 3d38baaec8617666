//! The `audit_events` table: append-only (this module has no UPDATE or DELETE).

use super::StoreError;
use crate::{domain::AuditEvent, on_db, server::db::Db};
use chrono::{DateTime, Utc};
use uuid::Uuid;

/// A new audit entry.
#[derive(Debug, Clone, Default)]
pub struct Entry {
    pub actor_id: Option<Uuid>,
    pub actor: String,
    pub action: &'static str,
    pub target_type: Option<&'static str>,
    pub target_id: Option<String>,
    pub target_label: Option<String>,
    pub outcome: &'static str,
    pub client_addr: Option<String>,
    pub detail: Option<String>,
}

/// Runs the INSERT of one entry on `$executor` (a pool or a transaction).
macro_rules! insert_entry {
    ($executor:expr, $e:expr) => {{
        let e: &$crate::server::store::audit::Entry = $e;
        sqlx::query(
            "INSERT INTO audit_events (id, at, actor_id, actor, action, target_type, target_id, target_label, outcome, client_addr, detail) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
        )
        .bind(uuid::Uuid::now_v7())
        .bind($crate::server::store::now())
        .bind(e.actor_id)
        .bind(&e.actor)
        .bind(e.action)
        .bind(e.target_type)
        .bind(&e.target_id)
        .bind(&e.target_label)
        .bind(e.outcome)
        .bind(&e.client_addr)
        .bind(&e.detail)
        .execute($executor)
        .await
    }};
}
pub(crate) use insert_entry;

pub async fn insert(db: &Db, e: &Entry) -> Result<(), StoreError> {
    on_db!(db, |pool| insert_entry!(pool, e).map(|_| ()))?;
    Ok(())
}

/// Appends several entries in one commit.
pub async fn insert_all(db: &Db, entries: &[Entry]) -> Result<(), StoreError> {
    crate::transaction!(db, |tx| {
        for e in entries {
            insert_entry!(&mut *tx, e)?;
        }
        Ok(())
    })
}

/// Filters of the audit page; `None` means any.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    pub actor: Option<String>,
    pub action: Option<String>,
    pub target_id: Option<String>,
}

type Row = (Uuid, DateTime<Utc>, String, String, Option<String>, Option<String>, Option<String>, String, Option<String>, Option<String>);

/// Up to `rows` entries, newest first, or, with `from`, just older than its `(at, id)`
/// (oldest first when `before`: just newer than it; the caller turns them round).
pub async fn list(db: &Db, f: &Filter, from: Option<(&(DateTime<Utc>, Uuid), bool)>, rows: i64) -> Result<Vec<AuditEvent>, StoreError> {
    let (at, id, before) = match from {
        Some(((at, id), before)) => (Some(*at), Some(*id), before),
        None => (None, None, false),
    };
    // Two statements rather than one with a flipped comparison: each is a plain index walk.
    let sql = if before {
        "SELECT id, at, actor, action, target_type, target_id, target_label, outcome, client_addr, detail FROM audit_events \
         WHERE ($1 IS NULL OR actor = $1) AND ($2 IS NULL OR action = $2) AND ($3 IS NULL OR target_id = $3) \
           AND (at, id) > ($4, $5) ORDER BY at ASC, id ASC LIMIT $6"
    } else {
        "SELECT id, at, actor, action, target_type, target_id, target_label, outcome, client_addr, detail FROM audit_events \
         WHERE ($1 IS NULL OR actor = $1) AND ($2 IS NULL OR action = $2) AND ($3 IS NULL OR target_id = $3) \
           AND ($4 IS NULL OR (at, id) < ($4, $5)) ORDER BY at DESC, id DESC LIMIT $6"
    };
    let rows: Vec<Row> = on_db!(db, |pool| {
        sqlx::query_as(sql)
            .bind(&f.actor)
            .bind(&f.action)
            .bind(&f.target_id)
            .bind(at)
            .bind(id)
            .bind(rows)
            .fetch_all(pool)
            .await
    })?;
    Ok(rows
        .into_iter()
        .map(|(id, at, actor, action, target_type, target_id, target_label, outcome, client_addr, detail)| AuditEvent {
            id, at, actor, action, target_type, target_id, target_label, outcome, client_addr, detail,
        })
        .collect())
}

/// The distinct actors and actions, for the filter choices.
pub async fn facets(db: &Db) -> Result<(Vec<String>, Vec<String>), StoreError> {
    let (actors, actions): (Vec<(String,)>, Vec<(String,)>) = on_db!(db, |pool| {
        let actors = sqlx::query_as("SELECT DISTINCT actor FROM audit_events ORDER BY actor").fetch_all(pool).await?;
        let actions = sqlx::query_as("SELECT DISTINCT action FROM audit_events ORDER BY action").fetch_all(pool).await?;
        Ok::<_, sqlx::Error>((actors, actions))
    })?;
    Ok((actors.into_iter().map(|r| r.0).collect(), actions.into_iter().map(|r| r.0).collect()))
}
