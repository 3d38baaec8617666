//! After the provider sends the user back: redeem the code (with the PKCE verifier), read
//! the connected account from the userinfo endpoint, and store it all.

use super::{
    client::{self, Endpoints, GrantError},
    redirect_uri,
    tokens::{self, TokenError, TokenSet},
};
use crate::{
    domain::Platform,
    server::{secrets, state::AppState, store::oauth::TokenFacts},
};
use oauth2::{AuthorizationCode, PkceCodeVerifier};
use secrecy::ExposeSecret;

/// Redeems the code, reads the account and stores it all; returns the account's name.
pub async fn exchange_code(state: &AppState, platform: &Platform, code: String, verifier: Option<String>) -> Result<Option<String>, TokenError> {
    let (endpoints, secret) = tokens::endpoints_and_secret(state, platform.id).await?;
    let oauth = endpoints.client(secret.as_ref(), &redirect_uri(state, platform.id)).map_err(GrantError::Misconfigured)?;
    let mut request = oauth.exchange_code(AuthorizationCode::new(code));
    if let Some(verifier) = verifier {
        request = request.set_pkce_verifier(PkceCodeVerifier::new(verifier));
    }
    if let Some(param) = &endpoints.provider.client_id_param {
        request = request.add_extra_param(param.clone(), endpoints.client_id.clone());
    }
    let response = request.request_async(&tokens::sender(state)).await.map_err(client::classify)?;
    let tokens = TokenSet::from_response(&response);
    let account = match &endpoints.userinfo_url {
        Some(url) => userinfo(state, &endpoints, url, &tokens).await,
        None => (None, None),
    };
    let name = account.1.clone().or_else(|| account.0.clone());
    let facts = TokenFacts { token_type: Some(tokens.token_type.clone()), scopes: tokens.scopes.clone().or_else(|| Some(endpoints.scopes.join(" "))), expires_at: tokens.expires_at, account: Some(account) };
    secrets::store_tokens(&state.db, &state.keyring, platform.id, &tokens.access, tokens.refresh.as_ref(), false, &facts, None).await?;
    Ok(name)
}

/// The connected account; a provider that will not say is not a reason to fail the connection.
async fn userinfo(state: &AppState, endpoints: &Endpoints, url: &str, tokens: &TokenSet) -> (Option<String>, Option<String>) {
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
            (None, None)
        }
    }
}
