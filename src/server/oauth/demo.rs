//! The demo's "Sandbox" platform: when `SANDBOX_URL` is set, make sure a platform points at
//! that `keyport-sandbox` and that the sandbox knows it as a client, so a new user can press
//! Connect within a minute of first start.

use super::{redirect_uri, tokens};
use crate::{
    domain::{AppError, AuthType, Category, OauthSettings, Platform, ProviderKey, SecretField, Status, ValidPlatform},
    server::{auth::Caller, platforms, secrets, state::AppState, store},
};
use secrecy::{ExposeSecret, SecretString};

pub const PLATFORM_NAME: &str = "Sandbox";

/// Creates or repairs the Sandbox platform — only the one this set-up created, found by id
/// (a platform an admin named "Sandbox" is never touched); returns a sentence for the log
/// on failure.
pub async fn ensure_sandbox_platform(state: &AppState, sandbox_url: &str) -> Result<(), String> {
    state.config.oauth.egress.check_url(sandbox_url).map_err(|why| format!("SANDBOX_URL: {why}."))?;
    let caller = Caller::job("demo set-up");
    let existing = store::platforms::demo(&state.db).await.map_err(|e| e.to_string())?;
    let platform = match existing {
        Some(p) => p,
        None => create(state, &caller, sandbox_url).await?,
    };
    let mut settings = super::settings(state, platform.id).await.map_err(|e| e.to_string())?;
    let known = settings.provider == ProviderKey::Sandbox
        && settings.instance_url.as_deref() == Some(sandbox_url)
        && client_is_known(state, platform.id).await;
    if known {
        return Ok(());
    }
    let (client_id, client_secret) = register(state, sandbox_url, &redirect_uri(state, platform.id)).await?;
    settings = OauthSettings { provider: ProviderKey::Sandbox, client_id: Some(client_id), instance_url: Some(sandbox_url.to_owned()), ..Default::default() };
    super::save_settings(state, &caller, &platform, (&settings).into()).await.map_err(|e| e.to_string())?;
    secrets::store_secret(&state.db, &state.keyring, &caller, &platform, SecretField::ClientSecret, &client_secret)
        .await
        .map_err(|e| e.to_string())?;
    tracing::info!(platform.id = %platform.id, sandbox = %sandbox_url, "Sandbox platform ready: press Connect on its page");
    Ok(())
}

async fn create(state: &AppState, caller: &Caller, sandbox_url: &str) -> Result<Platform, String> {
    let platform = ValidPlatform {
        name: PLATFORM_NAME.into(),
        category: Category::Social,
        auth_type: AuthType::Oauth2,
        status: Status::Pending,
        description: Some("keyport-sandbox: an OAuth 2.0 provider and social API on this machine, for trying Keyport offline.".into()),
        icon_url: None,
        base_url: Some(sandbox_url.to_owned()),
        metadata: Default::default(),
    };
    let platform = platforms::create(&state.db, caller, platform).await.map_err(|e| match e {
        AppError::Conflict { .. } => format!(
            "SANDBOX_URL: a platform named {PLATFORM_NAME:?} exists that the demo set-up did not create; it is left alone. Rename it to get the demo platform."
        ),
        e => e.to_string(),
    })?;
    store::platforms::set_demo(&state.db, platform.id).await.map_err(|e| e.to_string())?;
    Ok(platform)
}

/// Whether the sandbox still knows our client (it keeps clients in memory only): a token
/// request it cannot grant answers `invalid_client` for strangers only.
async fn client_is_known(state: &AppState, platform_id: uuid::Uuid) -> bool {
    let Ok((endpoints, Some(secret))) = tokens::endpoints_and_secret(state, platform_id, None).await else {
        return false;
    };
    let probe = state
        .http
        .post(&endpoints.token_url)
        .basic_auth(&endpoints.client_id, Some(secret.expose_secret()))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await;
    matches!(probe, Ok(r) if r.status() != reqwest::StatusCode::UNAUTHORIZED)
}

/// Registers Keyport with the sandbox (RFC 7591 style) for this exact redirect URI.
async fn register(state: &AppState, sandbox_url: &str, redirect_uri: &str) -> Result<(String, SecretString), String> {
    #[derive(serde::Deserialize)]
    struct Registered {
        client_id: String,
        client_secret: SecretString,
    }
    let response = state
        .http
        .post(format!("{sandbox_url}/register"))
        .json(&serde_json::json!({ "client_name": "Keyport", "redirect_uris": [redirect_uri] }))
        .send()
        .await
        .map_err(|e| format!("SANDBOX_URL: cannot reach keyport-sandbox at {sandbox_url} ({}); start it with `make demo`.", super::client::describe(&e)))?;
    if !response.status().is_success() {
        return Err(format!("SANDBOX_URL: keyport-sandbox refused the registration (HTTP {}).", response.status().as_u16()));
    }
    let registered: Registered = response.json().await.map_err(|e| format!("SANDBOX_URL: unreadable registration answer ({e})."))?;
    Ok((registered.client_id, registered.client_secret))
}
