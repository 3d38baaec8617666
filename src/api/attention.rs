//! Server function of the "needs attention" page.

use crate::domain::{AppError, AttentionItem};
use leptos::prelude::*;

#[server]
pub async fn list_attention() -> Result<Vec<AttentionItem>, AppError> {
    use crate::{domain::Role, server::{attention, auth::require, error::respond, state::app_state}};
    respond(async {
        require(Role::Marketer)?;
        attention::list(&app_state()?).await
    })
    .await
}
