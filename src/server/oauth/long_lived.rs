//! Meta's long-lived tokens for Instagram and Threads (`long_lived` in providers.toml): the
//! code's short-lived token (an hour) is exchanged for a 60-day one, and that one is renewed
//! before it runs out — once it is a day old — with the token itself, there being no refresh
//! token. Both are GETs on the API host whose answer is `{"access_token", "token_type",
//! "expires_in"}`:
//! - Instagram: https://developers.facebook.com/docs/instagram-platform/instagram-api-with-instagram-login/business-login
//!   (`ig_exchange_token`) and https://developers.facebook.com/docs/instagram-platform/reference/refresh_access_token
//!   (`ig_refresh_token`: "at least 24 hours old but has not expired");
//! - Threads: https://developers.facebook.com/docs/threads/get-started/long-lived-tokens
//!   (`th_exchange_token`, `th_refresh_token`).
//!
//! Facebook's own `fb_exchange_token` (`facebook.rs`) answers in the same shape and is read here too.

use super::{
    catalog::LongLived,
    client::{self, describe, read_capped, Endpoints, GrantError},
    tokens::{TokenError, TokenSet},
};
use crate::{domain::Account, server::{clock, state::AppState}};
use chrono::{DateTime, Utc};
use oauth2::basic::BasicErrorResponse;
use secrecy::{ExposeSecret, SecretString};
use zeroize::Zeroizing;

/// Whether Meta would renew this account's token now: at least a day old.
pub fn renewable(account: &Account, now: DateTime<Utc>) -> bool {
    let issued = account.last_refreshed_at.unwrap_or(account.connected_at);
    issued.checked_add_signed(chrono::Duration::days(1)).is_some_and(|at| at <= now)
}

fn spec(endpoints: &Endpoints) -> Result<&'static LongLived, TokenError> {
    endpoints.provider.long_lived.as_ref().ok_or_else(|| GrantError::Misconfigured(format!("{} has no long-lived tokens", endpoints.provider.key.label())).into())
}

/// `path` beside the API base URL's version segment.
fn at(endpoints: &Endpoints, path: &str) -> Result<url::Url, TokenError> {
    let base = endpoints.api_base_url.as_deref().ok_or_else(|| GrantError::Misconfigured("the platform has no API base URL".into()))?;
    url::Url::parse(base).and_then(|u| u.join(path)).map_err(|e| GrantError::Misconfigured(format!("the API base URL is not a URL ({e})")).into())
}

/// The short-lived token for a long-lived one.
pub async fn exchange(state: &AppState, endpoints: &Endpoints, secret: Option<&SecretString>, short: &TokenSet) -> Result<TokenSet, TokenError> {
    let spec = spec(endpoints)?;
    let secret = secret.ok_or_else(|| GrantError::Misconfigured("the long-lived exchange needs the app secret: an admin must enter the client secret".into()))?;
    let mut url = at(endpoints, &spec.exchange)?;
    url.query_pairs_mut()
        .append_pair("grant_type", &spec.exchange_grant)
        .append_pair("client_secret", secret.expose_secret())
        .append_pair("access_token", short.access.expose_secret());
    let long = get_token(state, url).await?;
    Ok(TokenSet { scopes: short.scopes.clone(), ..long })
}

/// A long-lived token for a fresh one, with the token itself.
pub async fn renew(state: &AppState, endpoints: &Endpoints, current: &SecretString) -> Result<TokenSet, TokenError> {
    let spec = spec(endpoints)?;
    let mut url = at(endpoints, &spec.renew)?;
    url.query_pairs_mut().append_pair("grant_type", &spec.renew_grant).append_pair("access_token", current.expose_secret());
    get_token(state, url).await
}

/// A token GET whose URL carries secrets in its query, as Meta documents: checked by the
/// egress policy without the query, never logged, the answer capped and read in the
/// standard shape (`client::standard_answer`).
pub async fn get_token(state: &AppState, mut url: url::Url) -> Result<TokenSet, TokenError> {
    let query = Zeroizing::new(url.query().unwrap_or_default().to_owned());
    url.set_query(None);
    let bare = url.to_string();
    state.config.oauth.egress.check_url(&bare).map_err(GrantError::Misconfigured)?;
    url.set_query(Some(&query));
    let response = state.http.get(url).send().await.map_err(|e| match client::refusal(&e) {
        Some(refused) => GrantError::Misconfigured(refused),
        None => GrantError::Transient { message: describe(&e), retry_after: None },
    })?;
    let status = response.status().as_u16();
    if status >= 500 || status == 429 {
        return Err(GrantError::Transient { message: format!("HTTP {status}"), retry_after: client::retry_after(response.headers()) }.into());
    }
    let body = read_capped(response).await.map_err(|why| GrantError::Transient { message: why, retry_after: None })?;
    let (status, body) = client::standard_answer(status, body);
    if !(200..300).contains(&status) {
        let refused = serde_json::from_slice::<BasicErrorResponse>(&body).map(|e| (e.error().to_string(), e.error_description().cloned().unwrap_or_default()));
        return Err(match refused {
            Ok((error, description)) if error == "invalid_client" => GrantError::Misconfigured(format!("{error} ({description})")),
            Ok((error, description)) => GrantError::Reauthenticate(format!("{error} ({description})")),
            Err(_) => GrantError::Reauthenticate(format!("the provider refused (HTTP {status})")),
        }
        .into());
    }
    let answer: serde_json::Value = serde_json::from_slice(&body).map_err(|_| GrantError::Transient { message: "unreadable answer".into(), retry_after: None })?;
    let access = answer.get("access_token").and_then(|t| t.as_str()).filter(|t| !t.is_empty() && t.len() <= client::MAX_ANSWER_BYTES);
    let access = access.ok_or_else(|| GrantError::Transient { message: "the answer has no access_token".into(), retry_after: None })?;
    let expires_in = answer.get("expires_in").and_then(serde_json::Value::as_u64).map(std::time::Duration::from_secs);
    Ok(TokenSet {
        access: SecretString::from(access.to_owned()),
        refresh: None,
        token_type: answer.get("token_type").and_then(|t| t.as_str()).unwrap_or("bearer").to_owned(),
        expires_at: expires_in.map(|d| clock::from_now(d.min(clock::MAX_TOKEN_LIFETIME))),
        scopes: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_is_renewable_once_a_day_old() {
        let now = Utc::now();
        let account = |connected: DateTime<Utc>, refreshed: Option<DateTime<Utc>>| Account { connected_at: connected, last_refreshed_at: refreshed, ..Default::default() };
        assert!(!renewable(&account(now - chrono::Duration::hours(23), None), now));
        assert!(renewable(&account(now - chrono::Duration::hours(25), None), now));
        assert!(!renewable(&account(now - chrono::Duration::days(30), Some(now - chrono::Duration::hours(2))), now), "the last renewal counts");
    }
}
