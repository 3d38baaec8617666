//! Bluesky: an account signs in with its handle and an app password, which open a session
//! (`com.atproto.server.createSession`, https://docs.bsky.app/docs/api/com-atproto-server-create-session);
//! Keyport keeps the session's access and refresh JWTs encrypted like any tokens and renews
//! them with `com.atproto.server.refreshSession` (the refresh JWT as bearer; a new pair comes
//! back and the old refresh JWT is revoked,
//! https://github.com/bluesky-social/atproto/blob/main/lexicons/com/atproto/server/refreshSession.json).
//! createSession is rate limited (30 per 5 minutes, 300 a day per handle,
//! https://docs.bsky.app/docs/advanced-guides/rate-limits), so it runs once per
//! connection, never per post. The app password is used for that one call and never stored.
//! Errors are XRPC's `{"error", "message"}`: 401 `AuthenticationRequired` for a wrong
//! password, 400 `ExpiredToken` / `InvalidToken` for a spent refresh JWT.

use super::{
    client::{self, describe, read_capped, Endpoints, GrantError},
    tokens::{TokenError, TokenSet},
};
use crate::{
    domain::Platform,
    server::{
        clock, secrets,
        state::AppState,
        store::accounts::{Grant, Identity, TokenFacts, NAME_MAX},
    },
};
use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine};
use chrono::{DateTime, Utc};
use secrecy::{ExposeSecret, SecretString};
use serde_json::{json, Value};
use std::time::Duration;

/// A session's access JWT lives about two hours (the PDS default); when its `exp` cannot
/// be read, it is taken to expire after this.
const ACCESS_FALLBACK: Duration = Duration::from_secs(7200);
const HANDLE_MAX: usize = 253;

/// Why a sign-in did not open a session, in words for the person.
#[derive(Debug, thiserror::Error)]
pub enum SignInError {
    #[error("Bluesky refused the handle or the app password")]
    Refused,
    #[error("Bluesky allows only a few sign-ins per handle in five minutes: wait a few minutes, then connect again")]
    RateLimited,
    #[error("{0}")]
    Failed(String),
}

fn xrpc(endpoints: &Endpoints, method: &str) -> Result<String, String> {
    let base = endpoints.api_base_url.as_deref().ok_or("the platform has no API base URL (its PDS)")?;
    Ok(format!("{}/xrpc/{method}", base.trim_end_matches('/')))
}

/// When a JWT expires, from its `exp` claim (read, not verified: the PDS verifies it; this
/// only times the renewal), clamped; `None` when it says nothing usable.
fn expiry(jwt: &str) -> Option<DateTime<Utc>> {
    let payload = URL_SAFE_NO_PAD.decode(jwt.split('.').nth(1)?).ok()?;
    let exp = serde_json::from_slice::<Value>(&payload).ok()?.get("exp")?.as_i64()?;
    let left = exp.checked_sub(Utc::now().timestamp()).filter(|s| *s > 0)?;
    Some(clock::from_now(Duration::from_secs(u64::try_from(left).ok()?).min(clock::MAX_TOKEN_LIFETIME)))
}

/// A session answer (createSession, refreshSession) as tokens and who it is.
fn session(answer: &Value) -> Result<(TokenSet, Identity), String> {
    let text = |key: &str| answer.get(key).and_then(Value::as_str).filter(|v| !v.is_empty() && v.len() <= client::MAX_ANSWER_BYTES);
    let (Some(access), Some(refresh)) = (text("accessJwt"), text("refreshJwt")) else { return Err("the session answer has no accessJwt or refreshJwt".into()) };
    let did = text("did").filter(|d| d.starts_with("did:") && d.len() <= 200).ok_or("the session answer has no did")?;
    let tokens = TokenSet {
        access: SecretString::from(access.to_owned()),
        refresh: Some(SecretString::from(refresh.to_owned())),
        token_type: "Bearer".into(),
        expires_at: Some(expiry(access).unwrap_or_else(|| clock::from_now(ACCESS_FALLBACK))),
        scopes: None,
    };
    let name = text("handle").map(|h| h.chars().take(NAME_MAX).collect());
    Ok((tokens, Identity { external_id: did.to_owned(), name, avatar_url: None }))
}

/// Sends an XRPC POST (the URL through the egress policy, the answer capped): the JSON
/// answer, or the status and XRPC error name.
async fn post(state: &AppState, url: &str, bearer: Option<&SecretString>, body: Option<Value>) -> Result<Value, (u16, String)> {
    state.config.oauth.egress.check_url(url).map_err(|why| (0, why))?;
    let mut request = state.http.post(url);
    if let Some(token) = bearer {
        request = request.bearer_auth(token.expose_secret());
    }
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.map_err(|e| (0, describe(&e)))?;
    let status = response.status().as_u16();
    let body = read_capped(response).await.map_err(|why| (status, why))?;
    let json: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    if (200..300).contains(&status) {
        return Ok(json);
    }
    let error = json.get("error").and_then(Value::as_str).unwrap_or("no reason given");
    Err((status, error.chars().take(100).collect()))
}

/// Opens a session with the handle and app password and stores it as the platform's
/// account (the same DID again replaces its tokens). Returns the account's handle.
pub async fn sign_in(state: &AppState, platform: &Platform, handle: &str, app_password: &SecretString) -> Result<String, SignInError> {
    let handle = handle.trim().trim_start_matches('@');
    if handle.is_empty() || handle.len() > HANDLE_MAX || handle.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(SignInError::Refused);
    }
    let (endpoints, _) = super::tokens::endpoints_and_secret(state, platform.id, None).await.map_err(|e| SignInError::Failed(e.to_string()))?;
    let url = xrpc(&endpoints, "com.atproto.server.createSession").map_err(SignInError::Failed)?;
    let body = json!({ "identifier": handle, "password": app_password.expose_secret() });
    let answer = post(state, &url, None, Some(body)).await.map_err(|(status, error)| match status {
        401 => SignInError::Refused,
        429 => SignInError::RateLimited,
        0 => SignInError::Failed(format!("Bluesky could not be reached ({error})")),
        _ => SignInError::Failed(format!("Bluesky did not open a session (HTTP {status}, {error})")),
    })?;
    let (tokens, identity) = session(&answer).map_err(SignInError::Failed)?;
    let name = identity.name.clone().unwrap_or_else(|| identity.external_id.clone());
    let facts = TokenFacts { token_type: Some(tokens.token_type.clone()), scopes: None, expires_at: tokens.expires_at };
    secrets::store_tokens(&state.db, &state.keyring, platform.id, &tokens.access, tokens.refresh.as_ref(), &facts, &Grant::New(identity, None))
        .await
        .map_err(|e| SignInError::Failed(e.to_string()))?;
    Ok(name)
}

/// refreshSession: a new access and refresh JWT for the refresh JWT (which it revokes).
/// Sent to the PDS that issued the session (the API base URL), never to the catalog's
/// token URL: a self-hosted PDS's refresh JWT must not go to bsky.social.
pub async fn refresh(state: &AppState, endpoints: &Endpoints, refresh_token: &SecretString) -> Result<TokenSet, TokenError> {
    let url = xrpc(endpoints, "com.atproto.server.refreshSession").map_err(GrantError::Misconfigured)?;
    let answer = post(state, &url, Some(refresh_token), None).await.map_err(|(status, error)| match status {
        0 => GrantError::Transient { message: error, retry_after: None },
        429 | 500..=599 => GrantError::Transient { message: format!("HTTP {status} ({error})"), retry_after: None },
        _ => GrantError::Reauthenticate(format!("Bluesky refused the session's refresh (HTTP {status}, {error}): connect the account again with an app password")),
    })?;
    let (tokens, _) = session(&answer).map_err(|why| GrantError::Transient { message: why, retry_after: None })?;
    Ok(tokens)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn jwt(exp: i64) -> String {
        format!("eyJhbGciOiJIUzI1NiJ9.{}.sig", URL_SAFE_NO_PAD.encode(json!({ "exp": exp, "sub": "did:plc:abc" }).to_string()))
    }

    #[test]
    fn the_access_jwt_says_when_it_expires() {
        let in_two_hours = Utc::now().timestamp() + 7200;
        let at = expiry(&jwt(in_two_hours)).unwrap();
        assert!((at - Utc::now()).num_minutes() >= 119);
        assert_eq!(expiry(&jwt(Utc::now().timestamp() - 5)), None, "already expired");
        assert_eq!(expiry(&jwt(i64::MAX)).map(|at| at <= clock::from_now(clock::MAX_TOKEN_LIFETIME)), Some(true), "clamped");
        assert_eq!(expiry("not a jwt"), None);
    }

    /// The createSession answer's shape (lexicons/com/atproto/server/createSession.json).
    #[test]
    fn a_session_answer_is_read() {
        let answer = json!({ "accessJwt": jwt(Utc::now().timestamp() + 7200), "refreshJwt": "r.r.r", "handle": "alice.bsky.social", "did": "did:plc:z72i7hdynmk6r22z27h6tvur", "active": true });
        let (tokens, who) = session(&answer).unwrap();
        assert_eq!((who.external_id.as_str(), who.name.as_deref()), ("did:plc:z72i7hdynmk6r22z27h6tvur", Some("alice.bsky.social")));
        assert!(tokens.refresh.is_some() && tokens.expires_at.is_some());
        assert!(session(&json!({ "accessJwt": "a", "refreshJwt": "r", "did": "not-a-did" })).is_err());
    }
}
