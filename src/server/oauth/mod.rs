//! OAuth 2.0 connections: the provider catalog, each platform's client settings, the
//! connect flow (`connect`: the `/oauth/{id}/…` routes, built from `authorize`, `pending`,
//! `exchange`, `revoke` and `answer`), the token resolver with single-flight refresh, the
//! background refresher and the demo's sandbox platform.

mod answer;
mod authorize;
pub mod catalog;
pub mod client;
pub mod connect;
pub mod demo;
mod exchange;
mod pending;
mod revoke;
pub mod tokens;
pub mod worker;

use super::{
    audit::{self, Action, Outcome, Target},
    auth::Caller,
    state::AppState,
    store::oauth as store,
};
use crate::domain::{AppError, AuthType, OauthSettings, OauthSettingsForm, OauthView, Platform};
use uuid::Uuid;

/// The redirect URI to register with the provider: exact and per platform, so a code
/// meant for one platform can never be redeemed on another's callback.
pub fn redirect_uri(state: &AppState, platform_id: Uuid) -> String {
    format!("{}/oauth/{platform_id}/callback", state.config.web.public_url)
}

/// A platform's settings; an OAuth platform nobody configured yet starts as "custom".
pub async fn settings(state: &AppState, platform_id: Uuid) -> Result<OauthSettings, AppError> {
    Ok(store::settings(&state.db, platform_id).await?.unwrap_or_default())
}

/// The OAuth part of the platform page; `None` for platforms that do not use OAuth 2.0.
pub async fn view(state: &AppState, platform: &Platform) -> Result<Option<OauthView>, AppError> {
    if platform.auth_type != AuthType::Oauth2 {
        return Ok(None);
    }
    let (settings, row) = tokio::try_join!(settings(state, platform.id), async { Ok(store::connection(&state.db, platform.id).await?) })?;
    Ok(Some(OauthView {
        defaults: catalog::get(settings.provider).defaults(settings.instance_url.as_deref()),
        redirect_uri: redirect_uri(state, platform.id),
        not_ready: client::Endpoints::resolve(&settings).err(),
        connection: row.connection,
        settings,
        providers: catalog::choices(),
    }))
}

/// Saves a platform's client settings (admins only, checked by the caller).
pub async fn save_settings(state: &AppState, caller: &Caller, platform: &Platform, form: OauthSettingsForm) -> Result<OauthSettings, AppError> {
    if platform.auth_type != AuthType::Oauth2 {
        return Err(AppError::invalid("auth_type", "OAuth settings apply to OAuth 2.0 platforms only: change the auth type first"));
    }
    let settings = form.validate()?;
    store::put_settings(&state.db, platform.id, &settings).await?;
    tracing::info!(platform.id = %platform.id, oauth.provider = %settings.provider, "OAuth settings saved");
    let detail = format!("provider {}", settings.provider);
    audit::record(&state.db, caller, Action::OauthSettingsSaved, Some(Target::platform(platform)), Outcome::Ok, Some(detail)).await;
    Ok(settings)
}
