//! Server functions behind the users page (admins only).

#[cfg(feature = "ssr")]
use super::prelude::*;
use crate::domain::{AppError, SecretText, User, UsersPage};
use leptos::prelude::*;

#[server]
pub async fn list_users(cursor: Option<String>) -> Result<UsersPage, AppError> {
    guarded(Role::Admin, |cx| async move { users::page(&cx.state.db, cursor.as_deref()).await }).await
}

#[server]
pub async fn create_user(email: String, password: SecretText, role: String) -> Result<User, AppError> {
    guarded(Role::Admin, |cx| async move {
        let user = users::create(&cx.state.db, &cx.caller, &email, &password, parse_role(&role)?).await?;
        leptos_axum::redirect("/users?notice=user_created");
        Ok(user)
    })
    .await
}

/// Changes a user's role and whether they may sign in.
#[server]
pub async fn update_user(id: String, role: String, disabled: Option<String>) -> Result<User, AppError> {
    guarded(Role::Admin, |cx| async move {
        let user = users::update_access(&cx.state.db, &cx.caller, parse_id(&id, "user")?, parse_role(&role)?, disabled.is_some()).await?;
        leptos_axum::redirect("/users?notice=user_updated");
        Ok(user)
    })
    .await
}

#[server]
pub async fn reset_password(id: String, password: SecretText) -> Result<(), AppError> {
    guarded(Role::Admin, |cx| async move {
        users::reset_password(&cx.state.db, &cx.caller, parse_id(&id, "user")?, &password).await?;
        leptos_axum::redirect("/users?notice=password_reset");
        Ok(())
    })
    .await
}

#[cfg(feature = "ssr")]
fn parse_role(role: &str) -> Result<Role, AppError> {
    role.parse().map_err(|message: String| AppError::invalid("role", message))
}
