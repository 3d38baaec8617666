//! Server functions behind the credentials panel of a platform page. They return
//! statuses only; a secret travels one way, from the form into the credential store.

#[cfg(feature = "ssr")]
use super::prelude::*;
use crate::domain::{AppError, PlatformDetails, SecretText};
use leptos::prelude::*;

/// The platform page's data in one call: one resource, so the page renders in one pass.
#[server]
pub async fn get_platform_details(id: String) -> Result<PlatformDetails, AppError> {
    guarded(Role::Marketer, |cx| async move {
        let state = &cx.state;
        let platform = platforms::get(&state.db, &state.keyring, parse_id(&id, "platform")?).await?;
        // Marketers see the badge (on the platform), not the secrets' details.
        let credentials = if cx.user()?.is_admin() { Some(secrets::credentials(&state.db, &state.keyring, platform.id).await?) } else { None };
        let oauth = oauth::view(state, &platform).await?;
        Ok(PlatformDetails { platform, credentials, oauth })
    })
    .await
}

/// Sets or replaces the secret an admin types in for this platform's auth type (API key,
/// bearer token or basic-auth password, with its user name).
#[server]
pub async fn set_secret(id: String, value: SecretText, username: Option<String>) -> Result<(), AppError> {
    guarded(Role::Admin, |cx| async move {
        let state = &cx.state;
        let platform = platforms::get(&state.db, &state.keyring, parse_id(&id, "platform")?).await?;
        let field = platform.auth_type.typed_secret().ok_or_else(|| AppError::invalid("value", "this auth type has no secret to type in"))?;
        let value = secrecy::SecretString::from(value.expose());
        secrets::set_typed(&state.db, &state.keyring, &cx.caller, &platform, field, &value, username.as_deref()).await?;
        leptos_axum::redirect(&format!("/platforms/{}?notice=secret_saved", platform.id));
        Ok(())
    })
    .await
}

#[server]
pub async fn remove_secret(id: String) -> Result<(), AppError> {
    guarded(Role::Admin, |cx| async move {
        let state = &cx.state;
        let platform = platforms::get(&state.db, &state.keyring, parse_id(&id, "platform")?).await?;
        let field = platform.auth_type.typed_secret().ok_or_else(|| AppError::invalid("id", "this platform has no typed secret"))?;
        secrets::remove_secret(&state.db, &cx.caller, &platform, field).await?;
        leptos_axum::redirect(&format!("/platforms/{}?notice=secret_removed", platform.id));
        Ok(())
    })
    .await
}
