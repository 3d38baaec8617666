//! Telling the provider to forget a grant (RFC 7009): when an account is disconnected or
//! its platform deleted, and when a re-authentication replaces a grant the provider
//! revokes on its own.

use super::{catalog::ClientAuth, client, tokens};
use crate::{
    domain::{Account, Platform, SecretField},
    server::{secrets, state::AppState},
};
use oauth2::url::form_urlencoded;
use secrecy::{ExposeSecret, SecretString};
use uuid::Uuid;

/// A stored token to revoke, with its RFC 7009 `token_type_hint`.
pub struct Revocable {
    token: SecretString,
    hint: &'static str,
}

/// The token that ends the account's grant: the refresh token when there is one (that
/// ends the whole grant), else the access token. `None`: not connected.
pub async fn grant_token(state: &AppState, account_id: Uuid) -> Result<Option<Revocable>, String> {
    let resolve = |field| secrets::resolve_optional(&state.db, &state.keyring, account_id, field);
    if let Some(token) = resolve(SecretField::RefreshToken).await.map_err(|e| e.to_string())? {
        return Ok(Some(Revocable { token, hint: "refresh_token" }));
    }
    Ok(resolve(SecretField::AccessToken).await.map_err(|e| e.to_string())?.map(|token| Revocable { token, hint: "access_token" }))
}

/// Revokes the account's stored grant at its provider (its instance's, if any).
/// `Ok(false)`: nothing to call.
pub async fn revoke(state: &AppState, platform: &Platform, account: &Account) -> Result<bool, String> {
    match grant_token(state, account.id).await? {
        Some(token) => revoke_token(state, platform.id, account.instance_id, token).await,
        None => Ok(false),
    }
}

/// Revokes every account's grant of the platform (it is being deleted). `Ok(false)`: the
/// provider offers no revocation, or there was nothing to revoke; the first failure wins.
pub async fn revoke_all(state: &AppState, platform: &Platform) -> Result<bool, String> {
    let accounts = crate::server::store::accounts::list(&state.db, platform.id).await.map_err(|e| e.to_string())?;
    let mut revoked = false;
    let mut failure = None;
    for account in accounts {
        match revoke(state, platform, &account).await {
            Ok(r) => revoked |= r,
            Err(why) => failure = failure.or(Some(why)),
        }
    }
    failure.map_or(Ok(revoked), Err)
}

/// Revokes `token` at the platform's revocation endpoint. `Ok(false)`: the provider has
/// none. Sent by hand: the `oauth2` crate refuses http:// revocation URLs, which the
/// loopback sandbox uses; the egress policy decides instead.
pub async fn revoke_token(state: &AppState, platform_id: Uuid, instance: Option<Uuid>, token: Revocable) -> Result<bool, String> {
    let (endpoints, secret) = tokens::endpoints_and_secret(state, platform_id, instance).await.map_err(|e| e.to_string())?;
    let Some(url) = endpoints.revoke_url.clone() else {
        return Ok(false);
    };
    state.config.oauth.egress.check_url(&url)?;
    let mut form = vec![("token", token.token.expose_secret().to_owned()), ("token_type_hint", token.hint.to_owned())];
    let mut request = state.http.post(&url);
    match (endpoints.provider.client_auth, &secret) {
        (ClientAuth::Basic, Some(secret)) => request = request.basic_auth(form_encode(&endpoints.client_id), Some(form_encode(secret.expose_secret()))),
        (_, secret) => {
            form.push(("client_id", endpoints.client_id.clone()));
            if let Some(secret) = secret {
                form.push(("client_secret", secret.expose_secret().to_owned()));
            }
        }
    }
    let response = request.form(&form).send().await.map_err(|e| client::describe(&e))?;
    match response.status().as_u16() {
        200..=299 => Ok(true),
        status => Err(format!("HTTP {status}")),
    }
}

/// RFC 6749 §2.3.1: Basic credentials are form-encoded first.
fn form_encode(s: &str) -> String {
    form_urlencoded::byte_serialize(s.as_bytes()).collect()
}
