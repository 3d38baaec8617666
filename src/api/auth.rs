//! Server functions for signing in and out, first-run set-up and the current user.

use crate::domain::{AppError, SecretText, User};
use leptos::prelude::*;

/// The signed-in user, or `None`.
#[server]
pub async fn current_user() -> Result<Option<User>, AppError> {
    Ok(crate::server::auth::caller().user)
}

#[server]
pub async fn set_up(email: String, password: SecretText, confirm: SecretText) -> Result<(), AppError> {
    use crate::server::{auth::{caller, session}, error::respond, state::app_state, users};
    respond(async {
        let session = session().await?;
        users::set_up_first_admin(&app_state()?.db, &session, &caller(), &email, &password, &confirm).await?;
        leptos_axum::redirect("/platforms?notice=welcome");
        Ok(())
    })
    .await
}

#[server]
pub async fn sign_in(email: String, password: SecretText, next: Option<String>) -> Result<(), AppError> {
    use crate::{domain::safe_return_path, server::{auth::{caller, session}, error::respond, state::app_state, users}};
    respond(async {
        let session = session().await?;
        users::sign_in(&app_state()?.db, &session, &caller(), &email, &password).await?;
        leptos_axum::redirect(&safe_return_path(next.as_deref()));
        Ok(())
    })
    .await
}

#[server]
pub async fn sign_out() -> Result<(), AppError> {
    use crate::server::{auth::{caller, session}, error::respond, state::app_state, users};
    respond(async {
        let session = session().await?;
        users::sign_out(&app_state()?.db, &session, &caller()).await?;
        leptos_axum::redirect("/login?notice=signed_out");
        Ok(())
    })
    .await
}
