//! OAuth 2.0 connections: the provider catalog, each platform's client settings, the
//! connect flow (`/oauth/{id}/…` routes), the token resolver with single-flight refresh,
//! the background refresher and the demo's sandbox platform.

pub mod catalog;
pub mod client;
pub mod connect;
pub mod demo;
pub mod tokens;
pub mod worker;

use super::{
    audit::{self, Target},
    auth::Caller,
    error::internal,
    state::AppState,
    store::{oauth as store, StoreError},
};
use crate::domain::{AppError, AuthType, FieldErrors, OauthSettings, OauthSettingsForm, OauthView, Platform};
use uuid::Uuid;

/// The redirect URI to register with the provider: exact and per platform, so a code
/// meant for one platform can never be redeemed on another's callback.
pub fn redirect_uri(state: &AppState, platform_id: Uuid) -> String {
    format!("{}/oauth/{platform_id}/callback", state.config.public_url)
}

/// A platform's settings; an OAuth platform nobody configured yet starts as "custom".
pub async fn settings(state: &AppState, platform_id: Uuid) -> Result<OauthSettings, AppError> {
    Ok(store::settings(&state.db, platform_id)
        .await
        .map_err(internal)?
        .unwrap_or_else(|| OauthSettings { provider: "custom".into(), ..Default::default() }))
}

/// The OAuth part of the platform page; `None` for platforms that do not use OAuth 2.0.
pub async fn view(state: &AppState, platform: &Platform) -> Result<Option<OauthView>, AppError> {
    if platform.auth_type != AuthType::Oauth2 {
        return Ok(None);
    }
    let (settings, row) = tokio::try_join!(settings(state, platform.id), async {
        store::connection(&state.db, platform.id).await.map_err(internal)
    })?;
    let provider = catalog::get(&settings.provider);
    Ok(Some(OauthView {
        provider_name: provider.map_or_else(|| settings.provider.clone(), |p| p.name.clone()),
        defaults: provider.map(|p| p.defaults(settings.instance_url.as_deref())).unwrap_or_default(),
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
    let settings = form.validate().map_err(|fields| AppError::Invalid { fields })?;
    if catalog::get(&settings.provider).is_none() {
        let known = catalog::all().iter().map(|p| p.key.as_str()).collect::<Vec<_>>().join(", ");
        return Err(AppError::Invalid { fields: FieldErrors::single("provider", format!("is not in the catalog; known: {known}")) });
    }
    store::put_settings(&state.db, platform.id, &settings).await.map_err(|e| match e {
        StoreError::MissingParent => AppError::not_found(format!("platform {}", platform.id)),
        other => internal(other),
    })?;
    tracing::info!(platform.id = %platform.id, oauth.provider = %settings.provider, "OAuth settings saved");
    let detail = format!("provider {}", settings.provider);
    audit::record(&state.db, caller, "oauth_settings_saved", Some(Target::new("platform", platform.id, &platform.name)), "ok", Some(detail)).await;
    Ok(settings)
}
