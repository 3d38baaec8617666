//! After the provider sends the user back: redeem the code (with the PKCE verifier), read
//! the connected account from the userinfo endpoint, and store it as one of the platform's
//! accounts (the same provider account connected again replaces its own tokens).

use super::{
    client::{self, Endpoints, GrantError},
    redirect_uri, revoke,
    tokens::{self, TokenError, TokenSet},
};
use crate::{
    domain::Platform,
    server::{secrets, state::AppState, store::accounts::{self, Grant, Identity, TokenFacts}},
};
use oauth2::{AuthorizationCode, PkceCodeVerifier};
use secrecy::{ExposeSecret, SecretString};
use uuid::Uuid;

/// Redeems the code, reads the account and stores it all; returns what the audit log
/// records: the account's name and, on a re-authentication, what became of the old grant.
pub async fn exchange_code(state: &AppState, platform: &Platform, code: String, verifier: Option<String>, instance: Option<Uuid>) -> Result<String, TokenError> {
    let (endpoints, secret) = tokens::endpoints_and_secret(state, platform.id, instance).await?;
    let mut tokens = redeem(state, platform.id, &endpoints, secret.as_ref(), code, verifier).await?;
    if endpoints.provider.long_lived.is_some() {
        tokens = super::long_lived::exchange(state, &endpoints, secret.as_ref(), &tokens).await?;
    }
    let mut identity = match &endpoints.userinfo_url {
        Some(url) => userinfo(state, &endpoints, url, &tokens).await,
        None => Identity::default(),
    };
    if instance.is_some() {
        on_instance(&mut identity, &endpoints.token_url);
    }
    let name = identity.name.clone().or_else(|| (!identity.external_id.is_empty()).then(|| identity.external_id.clone())).unwrap_or_else(|| "an unnamed account".into());
    // The grant of the same account connected before, read before the new tokens overwrite
    // it (see `revoke_replaced` in providers.toml).
    let replaced = match endpoints.provider.revoke_replaced {
        true => match accounts::find(&state.db, platform.id, &identity.external_id).await {
            Ok(Some(account_id)) => revoke::grant_token(state, account_id).await.map(|t| t.map(|t| (t, instance))).unwrap_or_else(|why| {
                tracing::warn!(platform.id = %platform.id, error = %why, "could not read the grant a re-authentication replaces");
                None
            }),
            Ok(None) => None,
            Err(e) => return Err(TokenError::App(e.into())),
        },
        false => None,
    };
    let facts = TokenFacts { token_type: Some(tokens.token_type.clone()), scopes: tokens.scopes.clone().or_else(|| Some(endpoints.scopes.join(" "))), expires_at: tokens.expires_at };
    secrets::store_tokens(&state.db, &state.keyring, platform.id, &tokens.access, tokens.refresh.as_ref(), &facts, &Grant::New(identity, instance)).await?;
    let Some(old) = replaced else { return Ok(name) };
    let (old, old_instance) = old;
    let outcome = match revoke::revoke_token(state, platform.id, old_instance, old).await {
        Ok(true) => "the replaced grant was revoked at the provider".to_owned(),
        Ok(false) => "the provider offers no revocation for the replaced grant".to_owned(),
        Err(why) => {
            tracing::warn!(platform.id = %platform.id, error = %why, "could not revoke the grant a re-authentication replaced");
            format!("the replaced grant could not be revoked ({why})")
        }
    };
    Ok(format!("{name}; {outcome}"))
}

/// Redeems an authorization code at the token endpoint, with the PKCE verifier and, where
/// the provider names it its own way, the client id.
pub(super) async fn redeem(state: &AppState, platform_id: Uuid, endpoints: &Endpoints, secret: Option<&SecretString>, code: String, verifier: Option<String>) -> Result<TokenSet, TokenError> {
    let oauth = endpoints.client(secret, &redirect_uri(state, platform_id)).map_err(GrantError::Misconfigured)?;
    let mut request = oauth.exchange_code(AuthorizationCode::new(code));
    if let Some(verifier) = verifier {
        request = request.set_pkce_verifier(PkceCodeVerifier::new(verifier));
    }
    if let Some(param) = &endpoints.provider.client_id_param {
        request = request.add_extra_param(param.clone(), endpoints.client_id.clone());
    }
    let response = request.request_async(&tokens::sender(state)).await.map_err(client::classify)?;
    Ok(TokenSet::from_response(&response))
}

/// An account on an instance is named there by a local id and handle: qualified with the
/// instance's host, so the same id on two instances makes two accounts (`12@mastodon.social`)
/// and the name says where it lives (`alice@mastodon.social`).
fn on_instance(identity: &mut Identity, token_url: &str) {
    let Some(host) = url::Url::parse(token_url).ok().and_then(|u| u.host_str().map(str::to_owned)) else { return };
    if !identity.external_id.is_empty() {
        identity.external_id = format!("{}@{host}", identity.external_id);
    }
    if let Some(name) = identity.name.as_mut().filter(|n| !n.contains('@')) {
        *name = format!("{name}@{host}");
    }
}

/// The connected account; a provider that will not say is not a reason to fail the connection.
async fn userinfo(state: &AppState, endpoints: &Endpoints, url: &str, tokens: &TokenSet) -> Identity {
    let answer = async {
        state.config.oauth.egress.check_url(url)?;
        let response = state.http.get(url).bearer_auth(tokens.access.expose_secret()).send().await.map_err(|e| client::describe(&e))?;
        if !response.status().is_success() {
            return Err(format!("HTTP {}", response.status().as_u16()));
        }
        let body = client::read_capped(response).await?;
        serde_json::from_slice::<serde_json::Value>(&body).map_err(|_| "unreadable answer".to_owned())
    };
    match answer.await {
        Ok(json) => client::account_of(endpoints.provider, &json),
        Err(why) => {
            tracing::warn!(error = %why, "userinfo failed; connected without the account name");
            Identity::default()
        }
    }
}
