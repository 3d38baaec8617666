//! Server functions for signing in and out, first-run set-up and the current user.

#[cfg(feature = "ssr")]
use super::prelude::*;
use crate::domain::{AppError, SecretText, User};
use leptos::prelude::*;

/// The signed-in user, or `None`.
#[server]
pub async fn current_user() -> Result<Option<User>, AppError> {
    guarded(Anyone, |cx| async move { Ok(cx.caller.user) }).await
}

#[server]
pub async fn set_up(email: String, password: SecretText, confirm: SecretText) -> Result<(), AppError> {
    guarded(Anyone, |cx| async move {
        users::set_up_first_admin(&cx.state.db, &cx.session().await?, &cx.caller, &email, &password, &confirm).await?;
        leptos_axum::redirect("/platforms?notice=welcome");
        Ok(())
    })
    .await
}

#[server]
pub async fn sign_in(email: String, password: SecretText, next: Option<String>) -> Result<(), AppError> {
    guarded(Anyone, |cx| async move {
        users::sign_in(&cx.state.db, &cx.session().await?, &cx.caller, &email, &password).await?;
        leptos_axum::redirect(&crate::domain::safe_return_path(next.as_deref()));
        Ok(())
    })
    .await
}

#[server]
pub async fn sign_out() -> Result<(), AppError> {
    guarded(Anyone, |cx| async move {
        users::sign_out(&cx.state.db, &cx.session().await?, &cx.caller).await?;
        leptos_axum::redirect("/login?notice=signed_out");
        Ok(())
    })
    .await
}
