//! Server function of the "needs attention" page.

#[cfg(feature = "ssr")]
use super::prelude::*;
use crate::domain::{AppError, AttentionItem};
use leptos::prelude::*;

#[server]
pub async fn list_attention() -> Result<Vec<AttentionItem>, AppError> {
    guarded(Role::Marketer, |cx| async move { attention::list(&cx.state).await }).await
}
