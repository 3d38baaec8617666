//! The browser side of OAuth (plain axum routes, so they work without JavaScript):
//! `POST /oauth/{id}/connect` sends the user to the provider, `GET /oauth/{id}/callback`
//! takes them back and stores the tokens, `POST /oauth/{id}/disconnect` revokes and forgets.

use super::{
    catalog::{ClientAuth, Pkce},
    client::{self, Endpoints},
    redirect_uri,
    tokens::{self, TokenSet},
};
use crate::{
    domain::{AuthType, Platform, Role, SecretField},
    server::{
        audit::{self, Target},
        auth::Caller,
        secrets,
        state::AppState,
        store::{self, oauth::TokenFacts},
    },
};
use axum::{
    extract::{Path, Query, State},
    http::{header, HeaderValue, StatusCode},
    response::{Html, IntoResponse, Redirect, Response},
    routing::{get, post},
    Extension, Router,
};
use chrono::{DateTime, Utc};
use oauth2::{AuthorizationCode, CsrfToken, PkceCodeChallenge, PkceCodeVerifier, Scope};
use secrecy::ExposeSecret;
use serde::{Deserialize, Serialize};
use tower_sessions::Session;
use uuid::Uuid;

/// Where pending authorizations live in the session (namespaced, removed on use).
const PENDING_KEY: &str = "oauth.pending";
/// How long a user has to finish at the provider.
const PENDING_LIFETIME_MINUTES: i64 = 10;
/// At most this many authorizations may be pending per session (several tabs).
const PENDING_MAX: usize = 5;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/oauth/{id}/connect", post(connect))
        .route("/oauth/{id}/callback", get(callback))
        .route("/oauth/{id}/disconnect", post(disconnect))
}

/// One authorization the user started and has not finished.
#[derive(Clone, Serialize, Deserialize)]
struct Pending {
    state: String,
    platform_id: Uuid,
    verifier: Option<String>,
    expires_at: DateTime<Utc>,
}

/// A page for a callback that cannot go on. It loads nothing from anywhere else.
fn message_page(status: StatusCode, title: &str, message: &str, platform_id: Option<Uuid>) -> Response {
    let back = platform_id.map_or_else(|| "/platforms".to_owned(), |id| format!("/platforms/{id}"));
    let html = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{title} — Keyport</title>\
         <meta name=\"viewport\" content=\"width=device-width\"><style>body{{font:16px system-ui,sans-serif;max-width:36rem;margin:4rem auto;padding:0 1rem;color:#1f2933}}\
         a{{color:#2457c5}}</style></head><body><main><h1>{title}</h1><p>{message}</p>\
         <p><a href=\"{back}\">Back to the platform</a></p></main></body></html>",
        title = escape(title),
        message = escape(message),
    );
    (status, Html(html)).into_response()
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// Back to the platform page with a notice that says what happened.
fn back_to(platform_id: Uuid, notice: &str) -> Response {
    Redirect::to(&format!("/platforms/{platform_id}?notice={notice}")).into_response()
}

/// The callback's URL holds a code: no page after it may learn it from a Referer.
fn no_referrer(mut response: Response) -> Response {
    response.headers_mut().insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    response
}

/// The signed-in user (cookie session only) and the OAuth platform, or the page to show.
async fn user_and_platform(state: &AppState, caller: &Caller, id: &str) -> Result<(crate::domain::User, Platform), Response> {
    let Ok(platform_id) = id.parse::<Uuid>() else {
        return Err(message_page(StatusCode::NOT_FOUND, "Platform not found", "This link does not name a platform.", None));
    };
    let Ok(user) = caller.require(Role::Marketer) else {
        return Err(Redirect::to(&format!("/login?next=/platforms/{platform_id}")).into_response());
    };
    if caller.via_token {
        return Err(message_page(StatusCode::BAD_REQUEST, "Use the browser", "Connecting an account happens in the browser, signed in.", Some(platform_id)));
    }
    let platform = match store::platforms::get(&state.db, platform_id).await {
        Ok(Some(p)) => p,
        Ok(None) => return Err(message_page(StatusCode::NOT_FOUND, "Platform not found", "It may have been deleted.", None)),
        Err(e) => {
            let reference = crate::server::error::internal(e);
            return Err(message_page(StatusCode::INTERNAL_SERVER_ERROR, "Something went wrong", &reference.to_string(), Some(platform_id)));
        }
    };
    if platform.auth_type != AuthType::Oauth2 {
        return Err(message_page(StatusCode::BAD_REQUEST, "Not an OAuth platform", "This platform does not use OAuth 2.0.", Some(platform_id)));
    }
    Ok((user, platform))
}

async fn pending(session: &Session) -> Vec<Pending> {
    session.get::<Vec<Pending>>(PENDING_KEY).await.ok().flatten().unwrap_or_default()
}

async fn connect(State(state): State<AppState>, Extension(caller): Extension<Caller>, session: Session, Path(id): Path<String>) -> Response {
    let (_, platform) = match user_and_platform(&state, &caller, &id).await {
        Ok(found) => found,
        Err(page) => return page,
    };
    let settings = match super::settings(&state, platform.id).await {
        Ok(s) => s,
        Err(e) => return message_page(StatusCode::INTERNAL_SERVER_ERROR, "Something went wrong", &e.to_string(), Some(platform.id)),
    };
    let endpoints = match Endpoints::resolve(&settings) {
        Ok(e) => e,
        Err(_) => return back_to(platform.id, "oauth_not_ready"),
    };
    let secret = secrets::resolve_optional(&state.db, &state.keyring, platform.id, SecretField::ClientSecret).await.ok().flatten();
    let oauth = match endpoints.client(secret.as_ref(), &redirect_uri(&state, platform.id)) {
        Ok(c) => c,
        Err(_) => return back_to(platform.id, "oauth_not_ready"),
    };
    let mut request = oauth.authorize_url(CsrfToken::new_random);
    for scope in &endpoints.scopes {
        request = request.add_scope(Scope::new(scope.clone()));
    }
    for (name, value) in &endpoints.provider.authorize_params {
        request = request.add_extra_param(name.clone(), value.clone());
    }
    if let Some(param) = &endpoints.provider.client_id_param {
        request = request.add_extra_param(param.clone(), endpoints.client_id.clone());
    }
    let verifier = if endpoints.provider.pkce == Pkce::Unsupported {
        None
    } else {
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        request = request.set_pkce_challenge(challenge);
        Some(verifier.secret().to_owned())
    };
    let (url, csrf) = request.url();
    let url = rewrite_scope_separator(url, &endpoints.provider.scope_separator);

    let now = Utc::now();
    let mut list: Vec<Pending> = pending(&session).await.into_iter().filter(|p| p.expires_at > now).collect();
    if list.len() >= PENDING_MAX {
        list.remove(0);
    }
    list.push(Pending {
        state: csrf.secret().to_owned(),
        platform_id: platform.id,
        verifier,
        expires_at: now + chrono::Duration::minutes(PENDING_LIFETIME_MINUTES),
    });
    if let Err(e) = session.insert(PENDING_KEY, list).await {
        let reference = crate::server::error::internal(e);
        return message_page(StatusCode::INTERNAL_SERVER_ERROR, "Something went wrong", &reference.to_string(), Some(platform.id));
    }
    audit::record(&state.db, &caller, "oauth_connect_started", Some(Target::new("platform", platform.id, &platform.name)), "ok", Some(endpoints.provider.key.clone())).await;
    Redirect::to(url.as_str()).into_response()
}

/// Most providers take space-separated scopes; some (TikTok, Facebook) want commas.
fn rewrite_scope_separator(mut url: oauth2::url::Url, separator: &str) -> oauth2::url::Url {
    if separator == " " {
        return url;
    }
    let pairs: Vec<(String, String)> = url
        .query_pairs()
        .map(|(k, v)| {
            let v = if k == "scope" { v.split(' ').collect::<Vec<_>>().join(separator) } else { v.into_owned() };
            (k.into_owned(), v)
        })
        .collect();
    url.query_pairs_mut().clear().extend_pairs(pairs);
    url
}

#[derive(Deserialize)]
struct CallbackParams {
    state: Option<String>,
    code: Option<String>,
    error: Option<String>,
    error_description: Option<String>,
}

async fn callback(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    session: Session,
    Path(id): Path<String>,
    Query(params): Query<CallbackParams>,
) -> Response {
    no_referrer(finish(&state, &caller, &session, &id, params).await)
}

async fn finish(state: &AppState, caller: &Caller, session: &Session, id: &str, params: CallbackParams) -> Response {
    let (_, platform) = match user_and_platform(state, caller, id).await {
        Ok(found) => found,
        Err(page) => return page,
    };
    let target = || Some(Target::new("platform", platform.id, &platform.name));
    let refuse = |why: &'static str| async move {
        audit::record(&state.db, caller, "oauth_callback_rejected", target(), "denied", Some(why.into())).await;
        message_page(
            StatusCode::BAD_REQUEST,
            "This sign-in link cannot be used",
            &format!("{why}. Nothing was stored. Start again with Connect on the platform page."),
            Some(platform.id),
        )
    };
    // The state is single-use: take it out of the session whatever happens next.
    let Some(given) = params.state.filter(|s| !s.is_empty()) else {
        return refuse("The provider's answer has no state").await;
    };
    let mut list = pending(session).await;
    let Some(position) = list.iter().position(|p| constant_time_eq(p.state.as_bytes(), given.as_bytes())) else {
        return refuse("The link is unknown, already used, or was started in another browser session").await;
    };
    let entry = list.remove(position);
    if session.insert(PENDING_KEY, list).await.is_err() {
        return refuse("The session could not be updated").await;
    }
    if entry.platform_id != platform.id {
        return refuse("The link was issued for another platform").await;
    }
    if entry.expires_at <= Utc::now() {
        return refuse("The link expired (it is valid for 10 minutes)").await;
    }
    if let Some(error) = params.error {
        let detail = format!("{error}{}", params.error_description.map(|d| format!(": {}", d.chars().take(200).collect::<String>())).unwrap_or_default());
        audit::record(&state.db, caller, "oauth_connect", target(), "denied", Some(detail)).await;
        let notice = if error == "access_denied" { "oauth_denied" } else { "oauth_error" };
        return back_to(platform.id, notice);
    }
    let Some(code) = params.code.filter(|c| !c.is_empty()) else {
        return refuse("The provider's answer has neither a code nor an error").await;
    };
    match exchange_code(state, &platform, code, entry.verifier).await {
        Ok(account) => {
            audit::record(&state.db, caller, "oauth_connected", target(), "ok", account).await;
            back_to(platform.id, "connected")
        }
        Err(why) => {
            tracing::warn!(platform.id = %platform.id, error = %why, "code exchange failed");
            audit::record(&state.db, caller, "oauth_connect", target(), "failed", Some(why.to_string())).await;
            back_to(platform.id, "oauth_failed")
        }
    }
}

/// Redeems the code, reads the account and stores it all; returns the account's name.
async fn exchange_code(state: &AppState, platform: &Platform, code: String, verifier: Option<String>) -> Result<Option<String>, tokens::TokenError> {
    let (endpoints, secret) = tokens::endpoints_and_secret(state, platform.id).await?;
    let oauth = endpoints.client(secret.as_ref(), &redirect_uri(state, platform.id)).map_err(client::GrantError::Misconfigured)?;
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
        let response = state.http.get(url).bearer_auth(tokens.access.expose_secret()).send().await.map_err(|e| client::describe(&e))?;
        if !response.status().is_success() {
            return Err(format!("HTTP {}", response.status().as_u16()));
        }
        response.json::<serde_json::Value>().await.map_err(|e| client::describe(&e))
    };
    match answer.await {
        Ok(json) => client::account_of(endpoints.provider, &json),
        Err(why) => {
            tracing::warn!(error = %why, "userinfo failed; connected without the account name");
            (None, None)
        }
    }
}

/// Compares two states without revealing, through timing, how much of a guess was right.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

async fn disconnect(State(state): State<AppState>, Extension(caller): Extension<Caller>, Path(id): Path<String>) -> Response {
    let (_, platform) = match user_and_platform(&state, &caller, &id).await {
        Ok(found) => found,
        Err(page) => return page,
    };
    let revoked = revoke(&state, &platform).await;
    if let Err(e) = store::oauth::disconnect(&state.db, platform.id).await {
        let reference = crate::server::error::internal(e);
        return message_page(StatusCode::INTERNAL_SERVER_ERROR, "Something went wrong", &reference.to_string(), Some(platform.id));
    }
    let detail = match &revoked {
        Ok(true) => "revoked at the provider".to_owned(),
        Ok(false) => "the provider offers no revocation".to_owned(),
        Err(why) => format!("revocation failed: {why}"),
    };
    audit::record(&state.db, &caller, "oauth_disconnected", Some(Target::new("platform", platform.id, &platform.name)), "ok", Some(detail)).await;
    back_to(platform.id, if revoked.is_ok() { "disconnected" } else { "disconnected_unrevoked" })
}

/// Tells the provider to forget the grant (RFC 7009): the refresh token when there is one
/// (that ends the whole grant), else the access token. `Ok(false)`: nothing to call.
/// Sent by hand: the `oauth2` crate refuses http:// revocation URLs, which the loopback
/// sandbox uses; we require https everywhere except loopback instead.
async fn revoke(state: &AppState, platform: &Platform) -> Result<bool, String> {
    let (endpoints, secret) = tokens::endpoints_and_secret(state, platform.id).await.map_err(|e| e.to_string())?;
    let Some(url) = endpoints.revoke_url.clone() else {
        return Ok(false);
    };
    if !(url.starts_with("https://") || is_loopback(&url)) {
        return Err("the revocation URL must use https".into());
    }
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
    oauth2::url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

fn is_loopback(url: &str) -> bool {
    oauth2::url::Url::parse(url).ok().and_then(|u| u.host_str().map(str::to_owned)).is_some_and(|h| h == "127.0.0.1" || h == "localhost" || h == "[::1]")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn comma_separated_scopes_for_providers_that_want_them() {
        let url = oauth2::url::Url::parse("https://p.example/auth?client_id=a&scope=x+y&state=s").unwrap();
        let rewritten = rewrite_scope_separator(url.clone(), ",");
        assert_eq!(rewritten.query_pairs().find(|(k, _)| k == "scope").unwrap().1, "x,y");
        assert_eq!(rewrite_scope_separator(url.clone(), " "), url);
    }

    #[test]
    fn states_compare_whole() {
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"ab"));
    }
}
