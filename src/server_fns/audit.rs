//! Server function behind the audit page (admins only).

#[cfg(feature = "ssr")]
use super::prelude::*;
use crate::domain::{AppError, AuditPage};
use leptos::prelude::*;

#[server]
pub async fn list_audit(actor: Option<String>, action: Option<String>, target: Option<String>, cursor: Option<String>) -> Result<AuditPage, AppError> {
    guarded(Role::Admin, |cx| async move {
        let blank = |v: Option<String>| v.map(|s| s.trim().to_owned()).filter(|s| !s.is_empty());
        let filter = crate::server::store::audit::Filter { actor: blank(actor), action: blank(action), target_id: blank(target) };
        audit::page(&cx.state.db, filter, blank(cursor).as_deref()).await
    })
    .await
}
