//! The token resolver: the one way every workflow gets a usable access token. It refreshes
//! tokens that are about to expire, and makes sure only one task in one instance spends a
//! refresh token at a time (a lease on the row, claimed by compare-and-swap on
//! `token_version`). A refresh token the provider has just rotated is never lost: what
//! could refuse to store it is checked before the provider is called (the key's
//! encryption count; the lease's time for the write), and the write after the call is
//! refused only when the grant itself is gone (`store::oauth::Grant::Refreshed`).

use super::{
    client::{self, Endpoints, GrantError},
    long_lived, redirect_uri,
};
use crate::{
    domain::{AppError, Platform, SecretField},
    server::{
        audit::{self, Action, Outcome, Target, TargetKind},
        auth::Caller,
        clock,
        retry::backoff,
        secrets,
        state::AppState,
        store::{accounts::{self as store, AccountRow, Grant, TokenFacts}, StoreError},
    },
};
use chrono::{DateTime, Utc};
use oauth2::{RefreshToken, TokenResponse};
use secrecy::{ExposeSecret, SecretString};
use std::time::{Duration, Instant};
use uuid::Uuid;

/// How often a caller waiting for someone else's refresh looks again.
const POLL: Duration = Duration::from_millis(50);
/// The database work on each side of a refresh's HTTP call may take this long within the
/// lease: reading the client and the refresh token before, storing the new tokens after.
const DB_BUDGET: Duration = Duration::from_secs(10);
/// The first retry of a refresh that failed for a passing reason waits about this long.
const REFRESH_RETRY_BASE: Duration = Duration::from_secs(15);
/// After this many transient failures in a row the platform is shown as failing.
pub const MAX_TRANSIENT_FAILURES: i32 = 5;

#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    #[error("the account is not connected (it may have been disconnected): connect it first")]
    NotConnected,
    #[error(transparent)]
    Grant(#[from] GrantError),
    #[error(transparent)]
    App(#[from] AppError),
}

impl From<StoreError> for TokenError {
    fn from(e: StoreError) -> Self {
        Self::App(e.into())
    }
}

impl From<TokenError> for AppError {
    fn from(e: TokenError) -> Self {
        match e {
            TokenError::App(e) => e,
            other => AppError::Unavailable { message: other.to_string() },
        }
    }
}

/// Tokens as a provider sent them, held as secrets.
pub struct TokenSet {
    pub access: SecretString,
    pub refresh: Option<SecretString>,
    pub token_type: String,
    pub expires_at: Option<DateTime<Utc>>,
    pub scopes: Option<String>,
}

impl TokenSet {
    pub fn from_response(r: &oauth2::basic::BasicTokenResponse) -> Self {
        Self {
            access: SecretString::from(r.access_token().secret().to_owned()),
            refresh: r.refresh_token().map(|t| SecretString::from(t.secret().to_owned())),
            token_type: r.token_type().as_ref().to_owned(),
            expires_at: r.expires_in().map(|d| clock::from_now(d.min(clock::MAX_TOKEN_LIFETIME))),
            scopes: r.scopes().map(|s| s.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(" ")),
        }
    }
}

/// A usable access token for the account, refreshed first when it expires within the
/// configured window.
pub async fn access_token(state: &AppState, account_id: Uuid) -> Result<SecretString, TokenError> {
    fresh(state, account_id, state.config.oauth.refresh_window).await
}

/// An access token valid for at least `window` (when the provider allows refreshing).
pub async fn fresh(state: &AppState, account_id: Uuid, window: Duration) -> Result<SecretString, TokenError> {
    let lease = lease(state);
    let give_up = Instant::now() + lease + Duration::from_secs(5);
    loop {
        let Some(row) = store::get(&state.db, account_id).await? else {
            return Err(TokenError::NotConnected);
        };
        let c = &row.account;
        if !c.connected {
            return Err(TokenError::NotConnected);
        }
        let now = Utc::now();
        let due = c.expires_at.is_some_and(|at| at <= clock::after(now, window));
        if !due {
            return stored_access(state, account_id).await;
        }
        if !c.has_refresh_token && !c.renews {
            if c.expires_at.is_some_and(|at| at <= now) {
                return Err(GrantError::Reauthenticate("the access token expired and the provider issues no refresh token".into()).into());
            }
            return stored_access(state, account_id).await;
        }
        if c.renews && !long_lived::renewable(c, now) {
            // Meta renews no token younger than a day: the one stored serves until then.
            return stored_access(state, account_id).await;
        }
        let until = clock::after(now, lease);
        if store::claim_refresh(&state.db, account_id, row.token_version, until).await? {
            return refresh(state, &row, Instant::now()).await;
        }
        // Someone else is refreshing: wait for their new token rather than spend the same
        // refresh token twice (rotating providers revoke the whole grant on reuse).
        if Instant::now() > give_up {
            return Err(GrantError::Transient { message: "another refresh of this account is still running".into(), retry_after: None }.into());
        }
        tokio::time::sleep(POLL).await;
    }
}

/// A refresh lease outlives the database work before the call, the slowest possible call
/// and the write after it, so a lease never expires while its holder may still spend the
/// refresh token or store what came back.
fn lease(state: &AppState) -> Duration {
    DB_BUDGET + state.config.oauth.http_timeout + DB_BUDGET
}

async fn stored_access(state: &AppState, account_id: Uuid) -> Result<SecretString, TokenError> {
    Ok(secrets::resolve(&state.db, &state.keyring, account_id, SecretField::AccessToken).await?)
}

/// Spends the refresh token (we hold the lease since `claimed`) and records what happened.
async fn refresh(state: &AppState, row: &AccountRow, claimed: Instant) -> Result<SecretString, TokenError> {
    let caller = Caller::job("token refresh");
    let (platform_id, account_id) = (row.account.platform_id, row.account.id);
    let platform = crate::server::store::platforms::get(&state.db, platform_id).await?;
    let label = platform.as_ref().map_or_else(String::new, |p: &Platform| p.name.clone());
    let target = || Some(Target::new(TargetKind::Platform, platform_id, &label));
    let account = row.account.label();
    match exchange_refresh(state, &row.account, claimed).await {
        Ok(tokens) => {
            let facts = TokenFacts { token_type: Some(tokens.token_type.clone()), scopes: tokens.scopes.clone(), expires_at: tokens.expires_at };
            let grant = Grant::Refreshed { account_id, connected_at: row.account.connected_at };
            let saved = secrets::store_tokens(&state.db, &state.keyring, platform_id, &tokens.access, tokens.refresh.as_ref(), &facts, &grant).await?;
            if saved.is_none() {
                // Nothing to record on the row: it belongs to a newer connection, or to none.
                let message = "the connection was replaced or disconnected during the refresh".into();
                return Err(GrantError::Transient { message, retry_after: None }.into());
            }
            let detail = if tokens.refresh.is_some() { "refresh token rotated" } else { "refresh token kept" };
            audit::record(&state.db, &caller, Action::TokenRefreshed, target(), Outcome::Ok, Some(format!("{account}: {detail}"))).await;
            Ok(tokens.access)
        }
        Err(TokenError::Grant(GrantError::Transient { message, retry_after })) => {
            let failures = row.account.refresh_failures + 1;
            let retry_at = clock::from_now(backoff(REFRESH_RETRY_BASE, failures, retry_after));
            let reason = format!("token refresh failed ({message}); retrying automatically");
            store::record_refresh_failure(&state.db, account_id, &reason, retry_at).await?;
            tracing::warn!(platform.id = %platform_id, account.id = %account_id, failures, error = %message, "token refresh failed; will retry");
            if failures >= MAX_TRANSIENT_FAILURES {
                let reason = format!("token refresh failed {failures} times in a row ({message}): check the provider, then re-authenticate");
                store::mark_needs_attention(&state.db, account_id, &reason).await?;
            }
            audit::record(&state.db, &caller, Action::TokenRefreshFailed, target(), Outcome::Failed, Some(format!("{account}: attempt {failures}: {message}"))).await;
            Err(GrantError::Transient { message, retry_after }.into())
        }
        Err(TokenError::Grant(e)) => {
            let reason = match &e {
                GrantError::Reauthenticate(why) => format!("re-authentication required: the provider refused the refresh ({why})"),
                other => other.to_string(),
            };
            store::mark_needs_attention(&state.db, account_id, &reason).await?;
            tracing::warn!(platform.id = %platform_id, account.id = %account_id, error = %e, "token refresh refused; the account needs attention");
            audit::record(&state.db, &caller, Action::TokenRefreshFailed, target(), Outcome::Failed, Some(format!("{account}: {reason}"))).await;
            Err(e.into())
        }
        Err(other) => {
            let reason = format!("token refresh failed: {other}");
            store::mark_needs_attention(&state.db, account_id, &reason).await?;
            Err(other)
        }
    }
}

/// The platform's client and secret and the account's refresh token, then the refresh grant — unless
/// what comes back could not be stored, checked first: the provider may rotate the refresh
/// token, and then the stored one is spent whether or not the new one is kept.
async fn exchange_refresh(state: &AppState, account: &crate::domain::Account, claimed: Instant) -> Result<TokenSet, TokenError> {
    let platform_id = account.platform_id;
    let (endpoints, secret) = endpoints_and_secret(state, platform_id, account.instance_id).await?;
    if account.renews {
        // No refresh token to spend: the access token itself is exchanged for a new one.
        let current = stored_access(state, account.id).await.map_err(|e| GrantError::Reauthenticate(e.to_string()))?;
        return long_lived::renew(state, &endpoints, &current).await;
    }
    let refresh_token = secrets::resolve(&state.db, &state.keyring, account.id, SecretField::RefreshToken)
        .await
        .map_err(|e| GrantError::Reauthenticate(e.to_string()))?;
    // Passing: once an admin rotates to a new key, the next attempt goes through.
    secrets::ensure_room_for_refresh(&state.db, &state.keyring)
        .await
        .map_err(|e| GrantError::Transient { message: format!("{e}; the refresh token was not spent"), retry_after: None })?;
    if claimed.elapsed() > DB_BUDGET {
        let message = "the database was too slow to start the refresh within its lease; the refresh token was not spent".into();
        return Err(GrantError::Transient { message, retry_after: None }.into());
    }
    if endpoints.provider.sign_in == super::catalog::SignIn::AppPassword {
        return super::bluesky::refresh(state, &endpoints, &refresh_token).await;
    }
    let oauth = endpoints.client(secret.as_ref(), &redirect_uri(state, platform_id)).map_err(GrantError::Misconfigured)?;
    let refresh_token = RefreshToken::new(refresh_token.expose_secret().to_owned());
    let mut request = oauth.exchange_refresh_token(&refresh_token);
    if let Some(param) = &endpoints.provider.client_id_param {
        request = request.add_extra_param(param.clone(), endpoints.client_id.clone());
    }
    let response = request.request_async(&sender(state)).await.map_err(client::classify)?;
    Ok(TokenSet::from_response(&response))
}

/// The endpoints and client secret (absent for public clients) an account's grant goes
/// through (see [`endpoints`]).
pub async fn endpoints_and_secret(state: &AppState, platform_id: Uuid, instance: Option<Uuid>) -> Result<(Endpoints, Option<SecretString>), TokenError> {
    let endpoints = endpoints(state, platform_id, instance).await?;
    // An instance's app has its own secret, kept under the instance's id.
    let secret = match instance {
        None => secrets::resolve_optional(&state.db, &state.keyring, platform_id, SecretField::ClientSecret).await,
        Some(instance) => secrets::resolve(&state.db, &state.keyring, instance, SecretField::ClientSecret).await.map(Some),
    };
    Ok((endpoints, secret.map_err(|e| GrantError::Misconfigured(e.to_string()))?))
}

/// The endpoints an account's requests go to: the platform's, or — for an account on an
/// instance where Keyport registered its own app (`instance`) — that instance's, with
/// none of the platform's URL overrides (a secret goes only to the instance it was issued by).
pub async fn endpoints(state: &AppState, platform_id: Uuid, instance: Option<Uuid>) -> Result<Endpoints, TokenError> {
    let settings = super::settings(state, platform_id).await?;
    let Some(instance) = instance else {
        return Ok(Endpoints::resolve(&settings).map_err(GrantError::Misconfigured)?);
    };
    let gone = || GrantError::Misconfigured("the app Keyport registered on this account's instance is gone: connect the account again".into());
    let client = crate::server::store::instances::get(&state.db, instance).await?.filter(|c| c.platform_id == platform_id).ok_or_else(gone)?;
    let on_instance = crate::domain::OauthSettings {
        provider: settings.provider,
        client_id: Some(client.client_id),
        instance_url: Some(client.origin),
        scopes: Some(client.scopes),
        ..Default::default()
    };
    Ok(Endpoints::resolve(&on_instance).map_err(GrantError::Misconfigured)?)
}

/// The HTTP client the `oauth2` crate calls through.
pub fn sender(state: &AppState) -> impl Fn(oauth2::HttpRequest) -> std::pin::Pin<Box<dyn std::future::Future<Output = Result<oauth2::HttpResponse, client::HttpError>> + Send>> {
    let (http, egress) = (state.http.clone(), state.config.oauth.egress.clone());
    move |request| {
        let (http, egress) = (http.clone(), egress.clone());
        Box::pin(async move { client::send(&http, &egress, request).await })
    }
}
