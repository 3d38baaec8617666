//! Federated providers (Mastodon): a marketer names an instance, and Keyport registers an
//! app there by itself (`register_url` in providers.toml: `POST {instance}/api/v1/apps`,
//! https://docs.joinmastodon.org/methods/apps/#create) with the platform's redirect URI and
//! scopes, keeps its client secret encrypted, and reuses it for the next account on the
//! same instance. No admin step.

use super::{catalog, client, redirect_uri};
use crate::{
    domain::Platform,
    server::{
        audit::{self, Action, Outcome, Target},
        auth::Caller,
        secrets,
        state::AppState,
        store::{
            instances::{self as store, InstanceClient},
            StoreError,
        },
    },
};
use secrecy::SecretString;
use url::Url;
use uuid::Uuid;

/// Longest instance address accepted (a host name is at most 253 characters).
const TYPED_MAX: usize = 300;

/// The origin of what a person typed as the instance: `mastodon.social`,
/// `https://mastodon.social/` → `https://mastodon.social`. Only a scheme, host and port: a
/// path, query, fragment or credentials are refused, not dropped.
pub fn origin_of(typed: &str) -> Result<String, String> {
    let typed = typed.trim();
    if typed.is_empty() {
        return Err("type the instance, for example mastodon.social".into());
    }
    let refuse = || format!("{} is not an instance address: give its name, for example mastodon.social", typed.chars().take(80).collect::<String>());
    if typed.len() > TYPED_MAX {
        return Err(refuse());
    }
    let with_scheme = if typed.contains("://") { typed.to_owned() } else { format!("https://{typed}") };
    let url = Url::parse(&with_scheme).map_err(|_| refuse())?;
    let bare = url.username().is_empty() && url.password().is_none() && url.path() == "/" && url.query().is_none() && url.fragment().is_none();
    if !matches!(url.scheme(), "https" | "http") || url.host_str().is_none() || !bare {
        return Err(refuse());
    }
    Ok(url.origin().ascii_serialization())
}

/// The platform's app on the instance at `origin`, registered now if there is none yet.
pub async fn client_for(state: &AppState, caller: &Caller, platform: &Platform, origin: &str) -> Result<InstanceClient, String> {
    let known = |e: StoreError| format!("cannot read the instance's registration ({e})");
    if let Some(client) = store::find(&state.db, platform.id, origin).await.map_err(known)? {
        return Ok(client);
    }
    let settings = super::settings(state, platform.id).await.map_err(|e| e.to_string())?;
    let provider = catalog::get(settings.provider);
    let Some(register_url) = provider.register_url.as_deref().map(|u| u.replace(catalog::INSTANCE, origin)) else {
        return Err(format!("{} apps are registered by an admin, not per instance", provider.key.label()));
    };
    state.config.oauth.egress.check_url(&register_url)?;
    let scopes = settings.scopes.clone().unwrap_or_else(|| provider.scopes.join(" "));
    let redirect = redirect_uri(state, platform.id);
    let form = [("client_name", "Keyport"), ("redirect_uris", redirect.as_str()), ("scopes", scopes.as_str()), ("website", state.config.web.public_url.as_str())];
    let response = state.http.post(&register_url).form(&form).send().await.map_err(|e| client::describe(&e))?;
    let status = response.status();
    let body = client::read_capped(response).await?;
    let json: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
    if !status.is_success() {
        let said = json["error"].as_str().map(|e| format!(": {}", e.chars().take(200).collect::<String>())).unwrap_or_default();
        return Err(format!("the instance refused to register Keyport (HTTP {}{said})", status.as_u16()));
    }
    let text = |name: &str, max: usize| json[name].as_str().filter(|v| !v.is_empty() && v.len() <= max).map(str::to_owned);
    let (Some(client_id), Some(secret)) = (text("client_id", 500), text("client_secret", secrets::SECRET_MAX_BYTES)) else {
        return Err("the instance's answer to the app registration has no usable client_id and client_secret".into());
    };
    let client = InstanceClient { id: Uuid::now_v7(), platform_id: platform.id, origin: origin.to_owned(), client_id, scopes };
    match secrets::store_instance_client(&state.db, &state.keyring, &client, &SecretString::from(secret)).await {
        Ok(()) => {
            tracing::info!(platform.id = %platform.id, instance = %origin, "registered Keyport's app on an instance");
            audit::record(&state.db, caller, Action::InstanceRegistered, Some(Target::platform(platform)), Outcome::Ok, Some(origin.to_owned())).await;
            Ok(client)
        }
        // Someone registered on this instance at the same moment: theirs is used.
        Err(crate::domain::AppError::Conflict { .. }) => store::find(&state.db, platform.id, origin).await.map_err(known)?.ok_or_else(|| "the instance's registration vanished".into()),
        Err(e) => Err(e.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_instance_is_its_origin_and_nothing_else() {
        assert_eq!(origin_of(" mastodon.social ").as_deref(), Ok("https://mastodon.social"));
        assert_eq!(origin_of("https://Fosstodon.org/").as_deref(), Ok("https://fosstodon.org"));
        assert_eq!(origin_of("http://127.0.0.1:4000").as_deref(), Ok("http://127.0.0.1:4000"));
        for bad in ["", "https://mastodon.social/@someone", "mastodon.social?x=1", "user:pw@mastodon.social", "ftp://mastodon.social", "https://", "a b"] {
            assert!(origin_of(bad).is_err(), "{bad:?} accepted");
        }
        assert!(origin_of(&"a".repeat(400)).is_err());
    }
}
