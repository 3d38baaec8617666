//! Server functions behind the users page (admins only).

use crate::domain::{AppError, SecretText, User};
use leptos::prelude::*;

#[server]
pub async fn list_users() -> Result<Vec<User>, AppError> {
    use crate::{domain::Role, server::{auth::require, error::respond, state::app_state, users}};
    respond(async {
        require(Role::Admin)?;
        users::list(&app_state()?.db).await
    })
    .await
}

#[server]
pub async fn create_user(email: String, password: SecretText, role: String) -> Result<User, AppError> {
    use crate::{domain::{FieldErrors, Role}, server::{auth::{caller, require}, error::respond, state::app_state, users}};
    respond(async {
        require(Role::Admin)?;
        let role: Role = role.parse().map_err(|m| AppError::from(FieldErrors::single("role", m)))?;
        let user = users::create(&app_state()?.db, &caller(), &email, &password, role).await?;
        leptos_axum::redirect("/users?notice=user_created");
        Ok(user)
    })
    .await
}

/// Changes a user's role and whether they may sign in.
#[server]
pub async fn update_user(id: String, role: String, disabled: Option<String>) -> Result<User, AppError> {
    use crate::{domain::{FieldErrors, Role}, server::{auth::{caller, require}, error::respond, platforms::parse_id, state::app_state, users}};
    respond(async {
        require(Role::Admin)?;
        let role: Role = role.parse().map_err(|m| AppError::from(FieldErrors::single("role", m)))?;
        let user = users::update_access(&app_state()?.db, &caller(), parse_id(&id)?, role, disabled.is_some()).await?;
        leptos_axum::redirect("/users?notice=user_updated");
        Ok(user)
    })
    .await
}

#[server]
pub async fn reset_password(id: String, password: SecretText) -> Result<(), AppError> {
    use crate::{domain::Role, server::{auth::{caller, require}, error::respond, platforms::parse_id, state::app_state, users}};
    respond(async {
        require(Role::Admin)?;
        users::reset_password(&app_state()?.db, &caller(), parse_id(&id)?, &password).await?;
        leptos_axum::redirect("/users?notice=password_reset");
        Ok(())
    })
    .await
}
