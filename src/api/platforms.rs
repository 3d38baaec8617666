//! Server functions behind the platform pages.

use crate::domain::{AppError, Platform, PlatformForm, PlatformList};
use leptos::prelude::*;

#[server]
pub async fn list_platforms(
    category: Option<String>,
    status: Option<String>,
    encryption: Option<String>,
) -> Result<PlatformList, AppError> {
    use crate::{domain::{PlatformFilter, Role}, server::{auth::require, error::respond, platforms, state::app_state}};
    respond(async {
        require(Role::Marketer)?;
        let filter = PlatformFilter::parse(category.as_deref(), status.as_deref(), encryption.as_deref())?;
        let state = app_state()?;
        platforms::list(&state.db, &state.keyring, filter).await
    })
    .await
}

#[server]
pub async fn get_platform(id: String) -> Result<Platform, AppError> {
    use crate::{domain::Role, server::{auth::require, error::respond, platforms, state::app_state}};
    respond(async {
        require(Role::Marketer)?;
        let state = app_state()?;
        platforms::get(&state.db, &state.keyring, platforms::parse_id(&id)?).await
    })
    .await
}

/// Creates the platform and sends the browser to its page.
#[server]
pub async fn create_platform(form: PlatformForm) -> Result<Platform, AppError> {
    use crate::{domain::{OauthSettingsForm, Role}, server::{auth::{caller, require}, error::respond, oauth, platforms, state::app_state}};
    respond(async {
        require(Role::Admin)?;
        let state = app_state()?;
        let provider = form.provider.trim().to_owned();
        let platform = platforms::create(&state.db, &caller(), form.validate()?).await?;
        if !provider.is_empty() && platform.auth_type == crate::domain::AuthType::Oauth2 {
            oauth::save_settings(&state, &caller(), &platform, OauthSettingsForm { provider, ..Default::default() }).await?;
        }
        leptos_axum::redirect(&format!("/platforms/{}?notice=created", platform.id));
        Ok(platform)
    })
    .await
}

#[server]
pub async fn update_platform(id: String, form: PlatformForm) -> Result<Platform, AppError> {
    use crate::{domain::Role, server::{auth::{caller, require}, error::respond, platforms, state::app_state}};
    respond(async {
        require(Role::Admin)?;
        let id = platforms::parse_id(&id)?;
        let state = app_state()?;
        let platform = platforms::update(&state.db, &state.keyring, &caller(), id, form.validate()?).await?;
        leptos_axum::redirect(&format!("/platforms/{id}?notice=saved"));
        Ok(platform)
    })
    .await
}

#[server]
pub async fn delete_platform(id: String) -> Result<(), AppError> {
    use crate::{domain::Role, server::{auth::{caller, require}, error::respond, platforms, state::app_state}};
    respond(async {
        require(Role::Admin)?;
        platforms::delete(&app_state()?.db, &caller(), platforms::parse_id(&id)?).await?;
        leptos_axum::redirect("/platforms?notice=deleted");
        Ok(())
    })
    .await
}
