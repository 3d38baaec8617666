//! Telling the provider to forget a grant (RFC 7009) when a platform is disconnected.

use super::{catalog::ClientAuth, client, tokens};
use crate::{
    domain::{Platform, SecretField},
    server::{secrets, state::AppState},
};
use oauth2::url::form_urlencoded;
use secrecy::ExposeSecret;

/// Revokes the refresh token when there is one (that ends the whole grant), else the access
/// token. `Ok(false)`: nothing to call. Sent by hand: the `oauth2` crate refuses http://
/// revocation URLs, which the loopback sandbox uses; the egress policy decides instead.
pub async fn revoke(state: &AppState, platform: &Platform) -> Result<bool, String> {
    let (endpoints, secret) = tokens::endpoints_and_secret(state, platform.id).await.map_err(|e| e.to_string())?;
    let Some(url) = endpoints.revoke_url.clone() else {
        return Ok(false);
    };
    state.config.oauth.egress.check_url(&url)?;
    let resolve = |field| secrets::resolve_optional(&state.db, &state.keyring, platform.id, field);
    let (token, hint) = match resolve(SecretField::RefreshToken).await.map_err(|e| e.to_string())? {
        Some(t) => (t, "refresh_token"),
        None => match resolve(SecretField::AccessToken).await.map_err(|e| e.to_string())? {
            Some(t) => (t, "access_token"),
            None => return Ok(false),
        },
    };
    let mut form = vec![("token", token.expose_secret().to_owned()), ("token_type_hint", hint.to_owned())];
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
