//! Server function behind the audit page (admins only).

use crate::domain::{AppError, AuditPage};
use leptos::prelude::*;

#[server]
pub async fn list_audit(actor: Option<String>, action: Option<String>, target: Option<String>, page: Option<u32>) -> Result<AuditPage, AppError> {
    use crate::{domain::Role, server::{audit, auth::require, error::respond, state::app_state, store::audit::Filter}};
    respond(async {
        require(Role::Admin)?;
        let blank = |v: Option<String>| v.map(|s| s.trim().to_owned()).filter(|s| !s.is_empty());
        let filter = Filter { actor: blank(actor), action: blank(action), target_id: blank(target) };
        audit::page(&app_state()?.db, filter, page.unwrap_or(1)).await
    })
    .await
}
