//! Server function of the "needs attention" page.

#[cfg(feature = "ssr")]
use super::prelude::*;
use crate::domain::{AppError, AttentionPage};
use leptos::prelude::*;

#[server]
pub async fn list_attention(cursor: Option<String>) -> Result<AttentionPage, AppError> {
    guarded(Role::Marketer, |cx| async move { attention::page(&cx.state, cursor.as_deref()).await }).await
}
