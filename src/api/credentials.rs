//! Server functions behind the credentials panel of a platform page. They return
//! statuses only; a secret travels one way, from the form into the credential store.

use crate::domain::{AppError, PlatformDetails, SecretText};
use leptos::prelude::*;

/// The platform page's data in one call: one resource, so the page renders in one pass.
#[server]
pub async fn get_platform_details(id: String) -> Result<PlatformDetails, AppError> {
    use crate::{domain::Role, server::{auth::require, error::respond, oauth, platforms, secrets, state::app_state}};
    respond(async {
        let user = require(Role::Marketer)?;
        let state = app_state()?;
        let platform = platforms::get(&state.db, &state.keyring, platforms::parse_id(&id)?).await?;
        // Marketers see the badge (on the platform), not the secrets' details.
        let credentials = if user.is_admin() { Some(secrets::credentials(&state.db, &state.keyring, platform.id).await?) } else { None };
        let oauth = oauth::view(&state, &platform).await?;
        Ok(PlatformDetails { platform, credentials, oauth })
    })
    .await
}

/// Sets or replaces the secret an admin types in for this platform's auth type (API key,
/// bearer token or basic-auth password, with its user name).
#[server]
pub async fn set_secret(id: String, value: SecretText, username: Option<String>) -> Result<(), AppError> {
    use crate::{
        domain::{AuthType, FieldErrors, Role},
        server::{auth::{caller, require}, error::respond, platforms, secrets, state::app_state},
    };
    use secrecy::SecretString;
    respond(async {
        require(Role::Admin)?;
        let state = app_state()?;
        let platform = platforms::get(&state.db, &state.keyring, platforms::parse_id(&id)?).await?;
        let field = platform.auth_type.typed_secret().ok_or_else(|| {
            AppError::invalid("value", "this auth type has no secret to type in")
        })?;
        let username = username.map(|u| u.trim().to_owned()).filter(|u| !u.is_empty());
        if platform.auth_type == AuthType::Basic {
            match &username {
                None => return Err(FieldErrors::single("username", "is required for basic auth").into()),
                Some(u) if u.chars().count() > 200 => {
                    return Err(FieldErrors::single("username", "must be at most 200 characters").into())
                }
                Some(_) => {}
            }
        }
        let secret = SecretString::from(value.expose());
        secrets::store_secret(&state.db, &state.keyring, &caller(), &platform, field, &secret).await?;
        if platform.auth_type == AuthType::Basic {
            secrets::set_username(&state.db, platform.id, username.as_deref()).await?;
        }
        leptos_axum::redirect(&format!("/platforms/{}?notice=secret_saved", platform.id));
        Ok(())
    })
    .await
}

#[server]
pub async fn remove_secret(id: String) -> Result<(), AppError> {
    use crate::{domain::Role, server::{auth::{caller, require}, error::respond, platforms, secrets, state::app_state}};
    respond(async {
        require(Role::Admin)?;
        let state = app_state()?;
        let platform = platforms::get(&state.db, &state.keyring, platforms::parse_id(&id)?).await?;
        let field = platform.auth_type.typed_secret().ok_or_else(|| AppError::invalid("id", "this platform has no typed secret"))?;
        secrets::remove_secret(&state.db, &caller(), &platform, field).await?;
        leptos_axum::redirect(&format!("/platforms/{}?notice=secret_removed", platform.id));
        Ok(())
    })
    .await
}
