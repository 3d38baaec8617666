//! Server functions behind the profile page: the signed-in user's password and personal
//! API tokens.

#[cfg(feature = "ssr")]
use super::prelude::*;
use crate::domain::{ApiToken, AppError, NewApiToken, SecretText};
use leptos::prelude::*;

#[server]
pub async fn list_api_tokens() -> Result<Vec<ApiToken>, AppError> {
    guarded(Role::Marketer, |cx| async move { tokens::list(&cx.state.db, cx.user()?).await }).await
}

/// Creates a token and returns its value: the only time it is shown. `scope` is `read` or
/// `read_write` (default `read`); `expires` is `never` or days (default 90).
#[server]
pub async fn create_api_token(name: String, scope: Option<String>, expires: Option<String>) -> Result<NewApiToken, AppError> {
    guarded(Role::Marketer, |cx| async move {
        tokens::create(&cx.state.db, &cx.caller, &name, scope.as_deref().unwrap_or("read"), expires.as_deref().unwrap_or("90")).await
    })
    .await
}

#[server]
pub async fn revoke_api_token(id: String) -> Result<(), AppError> {
    guarded(Role::Marketer, |cx| async move {
        tokens::revoke(&cx.state.db, &cx.caller, parse_id(&id, "API token")?).await?;
        leptos_axum::redirect("/profile?notice=token_revoked");
        Ok(())
    })
    .await
}

/// Changes the signed-in user's password; their other sessions end.
#[server]
pub async fn change_password(current: SecretText, new: SecretText, confirm: SecretText) -> Result<(), AppError> {
    guarded(Role::Marketer, |cx| async move {
        users::change_own_password(&cx.state.db, &cx.session().await?, &cx.caller, &current, &new, &confirm).await?;
        leptos_axum::redirect("/profile?notice=password_changed");
        Ok(())
    })
    .await
}
