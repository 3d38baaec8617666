//! OAuth 2.0 connections: the provider catalog, each platform's client settings, the
//! connect flow (`connect`: the `/oauth/{id}/…` routes, built from `authorize`, `pending`,
//! `exchange`, `revoke` and `answer`), the token resolver with single-flight refresh, the
//! background refresher and the demo's sandbox platform.

mod answer;
mod authorize;
pub mod catalog;
pub mod client;
pub mod bluesky;
pub mod connect;
pub mod demo;
mod discovery;
mod exchange;
pub mod long_lived;
pub mod facebook;
pub mod instances;
mod pending;
mod revoke;
pub use revoke::revoke_all;
pub mod tokens;
pub mod worker;

use super::{
    audit::{self, Action, Outcome, Target},
    auth::Caller,
    secrets,
    state::AppState,
    store::{accounts, oauth as store},
};
use crate::domain::{Account, AppError, AuthType, OauthSettings, OauthSettingsForm, OauthView, Platform, SecretField};
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
    let (settings, accounts) = tokio::try_join!(settings(state, platform.id), async { Ok(accounts::list(&state.db, platform.id).await?) })?;
    let per_instance = catalog::get(settings.provider).register_url.is_some();
    Ok(Some(OauthView {
        defaults: catalog::get(settings.provider).defaults(settings.instance_url.as_deref()),
        redirect_uri: redirect_uri(state, platform.id),
        not_ready: if per_instance { None } else { client::Endpoints::resolve(&settings).err() },
        per_instance,
        connect_only: catalog::get(settings.provider).connect_only.clone(),
        app_password: catalog::get(settings.provider).sign_in == catalog::SignIn::AppPassword,
        accounts,
        settings,
        providers: catalog::choices(),
    }))
}

/// Disconnects one account: revokes its grant at the provider where it can, forgets its
/// tokens and records it. The inner result is the revocation's: revoked, nothing to call,
/// or why it failed (the account is forgotten all the same).
pub async fn disconnect(state: &AppState, caller: &Caller, platform: &Platform, account: &Account) -> Result<Result<bool, String>, AppError> {
    let revoked = revoke::revoke(state, platform, account).await;
    accounts::remove(&state.db, platform.id, account.id).await?;
    let detail = match &revoked {
        Ok(true) => format!("{}: revoked at the provider", account.label()),
        Ok(false) => format!("{}: the provider offers no revocation", account.label()),
        Err(why) => format!("{}: revocation failed: {why}", account.label()),
    };
    audit::record(&state.db, caller, Action::OauthDisconnected, Some(Target::platform(platform)), Outcome::Ok, Some(detail)).await;
    Ok(revoked)
}

/// A custom provider given by its issuer (the instance URL) without its endpoints: they are
/// read from the issuer's metadata (`discovery`). Returns the issuer when it did so.
async fn discover_endpoints(state: &AppState, settings: &mut OauthSettings) -> Result<Option<String>, AppError> {
    let Some(issuer) = settings.instance_url.clone() else { return Ok(None) };
    if settings.provider != crate::domain::ProviderKey::Custom || (settings.authorize_url.is_some() && settings.token_url.is_some()) {
        return Ok(None);
    }
    let found = discovery::discover(state, &issuer).await.map_err(|why| AppError::invalid("instance_url", format!("{why}: give the issuer's exact URL, or fill in the endpoints below")))?;
    settings.authorize_url.get_or_insert(found.authorize_url);
    settings.token_url.get_or_insert(found.token_url);
    if let Some(url) = found.revoke_url {
        settings.revoke_url.get_or_insert(url);
    }
    if let Some(url) = found.userinfo_url {
        settings.userinfo_url.get_or_insert(url);
    }
    Ok(Some(issuer))
}

/// The first endpoint that receives secrets and now points at another origin (scheme, host
/// and port), with its old and new URL.
fn moved(before: &OauthSettings, after: &OauthSettings) -> Option<(&'static str, String, Option<String>)> {
    let origin = |url: &str| url::Url::parse(url).ok().map(|u| u.origin().ascii_serialization());
    let (old, new) = (client::Endpoints::secret_receivers(before), client::Endpoints::secret_receivers(after));
    old.into_iter().zip(new).find_map(|((what, old), (_, new))| {
        let old = old?;
        (origin(&old) != new.as_deref().and_then(origin)).then_some((what, old, new))
    })
}

/// Saves a platform's client settings (admins only, checked by the caller). Moving an
/// endpoint that receives secrets to another host clears the client secret and the accounts.
pub async fn save_settings(state: &AppState, caller: &Caller, platform: &Platform, form: OauthSettingsForm) -> Result<OauthSettings, AppError> {
    if platform.auth_type != AuthType::Oauth2 {
        return Err(AppError::invalid("auth_type", "OAuth settings apply to OAuth 2.0 platforms only: change the auth type first"));
    }
    let mut settings = form.validate()?;
    let discovered = discover_endpoints(state, &mut settings).await?;
    let before = store::settings(&state.db, platform.id).await?;
    store::put_settings(&state.db, platform.id, &settings).await?;
    tracing::info!(platform.id = %platform.id, oauth.provider = %settings.provider, "OAuth settings saved");
    let mut detail = format!("provider {}", settings.provider);
    if let Some(issuer) = discovered {
        detail = format!("{detail}; endpoints read from {issuer}'s metadata");
    }
    // The client secret and the tokens were entered for (and issued by) the old host: they
    // are never sent to a new one. The admin enters the secret again; users reconnect.
    if let Some((what, old, new)) = before.as_ref().and_then(|before| moved(before, &settings)) {
        secrets::remove_secret(&state.db, caller, platform, SecretField::ClientSecret).await.or_else(|e| match e {
            AppError::NotFound { .. } => Ok(()),
            e => Err(e),
        })?;
        accounts::remove_all(&state.db, platform.id).await?;
        tracing::warn!(platform.id = %platform.id, endpoint = what, "an endpoint moved to another host: client secret and accounts cleared");
        detail = format!("{detail}; the {what} moved from {old} to {} — client secret and every account's tokens cleared", new.as_deref().unwrap_or("(none)"));
    }
    audit::record(&state.db, caller, Action::OauthSettingsSaved, Some(Target::platform(platform)), Outcome::Ok, Some(detail)).await;
    Ok(settings)
}
