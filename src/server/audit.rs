//! The audit log: who did what to which target, and whether it worked. Never a secret.

use super::{
    auth::Caller,
    db::Db,
    error::internal,
    store::audit::{self as store, Entry, Filter},
};
use crate::domain::{AppError, AuditPage};

pub const PAGE_SIZE: i64 = 50;

/// What an action was done to.
pub struct Target<'a> {
    pub kind: &'static str,
    pub id: String,
    pub label: &'a str,
}

impl<'a> Target<'a> {
    pub fn new(kind: &'static str, id: impl ToString, label: &'a str) -> Self {
        Self { kind, id: id.to_string(), label }
    }
}

/// Appends one entry. A failure to write it is logged, not shown: the action happened.
pub async fn record(db: &Db, caller: &Caller, action: &'static str, target: Option<Target<'_>>, outcome: &'static str, detail: Option<String>) {
    let entry = Entry {
        actor_id: caller.user.as_ref().map(|u| u.id),
        actor: caller.actor(),
        action,
        target_type: target.as_ref().map(|t| t.kind),
        target_id: target.as_ref().map(|t| t.id.clone()),
        target_label: target.as_ref().map(|t| t.label.to_owned()),
        outcome,
        client_addr: caller.client_addr.clone(),
        detail,
    };
    if let Err(e) = store::insert(db, &entry).await {
        tracing::error!(error = %e, action, "could not write the audit log");
    }
}

/// One page of the log, newest first.
pub async fn page(db: &Db, filter: Filter, page: u32) -> Result<AuditPage, AppError> {
    let offset = i64::from(page.saturating_sub(1)) * PAGE_SIZE;
    let mut events = store::list(db, &filter, PAGE_SIZE + 1, offset).await.map_err(internal)?;
    let has_more = events.len() as i64 > PAGE_SIZE;
    events.truncate(PAGE_SIZE as usize);
    let (actors, actions) = store::facets(db).await.map_err(internal)?;
    Ok(AuditPage { events, page: page.max(1), has_more, actors, actions })
}
