//! The layers every request passes: security headers, authentication (session cookie or
//! bearer token), CSRF refusal of cross-site writes, and the page gate that sends
//! strangers to sign in (or, before the first user exists, to set-up).

use super::{tokens, Caller};
use crate::domain::TokenScope;
use crate::server::{state::AppState, users};
use axum::{
    extract::{ConnectInfo, Request, State},
    http::{header, HeaderMap, HeaderValue, Method, StatusCode},
    middleware::Next,
    response::{IntoResponse, Redirect, Response},
    Json,
};
use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine};
use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use rand::RngCore;
use serde_json::json;
use std::net::SocketAddr;
use tower_sessions::Session;

/// The CSP nonce of this response, for the inline hydration script.
#[derive(Clone, Debug)]
pub struct CspNonce(pub String);

fn is_static(path: &str) -> bool {
    path.starts_with("/pkg/") || path == "/favicon.svg"
}

/// Paths that render pages (everything but the API, server functions, assets and probes).
pub fn is_page(path: &str) -> bool {
    !(path.starts_with("/api/") || is_static(path) || path == "/healthz" || path == "/readyz" || path.starts_with("/oauth/"))
}

/// Security headers on every response; a fresh CSP nonce per request; HSTS when Keyport is
/// served over https (so a browser never again tries it over plain http).
pub async fn security_headers(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    let mut bytes = [0u8; 16];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    let nonce = URL_SAFE_NO_PAD.encode(bytes);
    let path = req.uri().path().to_owned();
    req.extensions_mut().insert(CspNonce(nonce.clone()));
    let mut res = next.run(req).await;
    let ok = res.status() == StatusCode::OK;
    let h = res.headers_mut();
    let csp = format!(
        "default-src 'self'; script-src 'self' 'nonce-{nonce}' 'wasm-unsafe-eval'; style-src 'self' 'unsafe-inline'; \
         img-src 'self' https: data:; connect-src 'self'; object-src 'none'; base-uri 'self'; frame-ancestors 'none'"
    );
    h.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_str(&csp).expect("ASCII"));
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.entry(header::REFERRER_POLICY).or_insert(HeaderValue::from_static("strict-origin-when-cross-origin"));
    if state.config.web.https() {
        h.insert(header::STRICT_TRANSPORT_SECURITY, HeaderValue::from_static("max-age=31536000"));
    }
    let cache = if !is_static(&path) {
        // Pages and API answers may hold data only this user may see.
        "no-store"
    } else if state.leptos_options.hash_files && path.starts_with("/pkg/") && ok {
        // A hashed name never changes content: kept a year, never asked again.
        "public, max-age=31536000, immutable"
    } else {
        // The same name may hold a new build: asked again each time (a 304 when unchanged).
        "no-cache"
    };
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    res
}

fn bearer(headers: &HeaderMap) -> Option<&str> {
    headers.get(header::AUTHORIZATION)?.to_str().ok()?.strip_prefix("Bearer ").map(str::trim)
}

/// Finds the caller by the session cookie. A request that sends a bearer token is not
/// looked up by its session at all: it reaches the JSON API, where [`api_token`] resolves
/// the token, and everywhere else it is a stranger.
pub async fn authenticate(State(state): State<AppState>, session: Session, mut req: Request, next: Next) -> Response {
    // Probes answer about the process and the database, whoever asks (and even when the
    // database, which sign-in needs, is down).
    if matches!(req.uri().path(), "/healthz" | "/readyz") {
        return next.run(req).await;
    }
    let client_addr = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| super::client_addr::client_addr(c.0.ip(), req.headers(), &state.config.web.trusted_proxies).to_string());
    let via_token = req.headers().contains_key(header::AUTHORIZATION);
    let user = match via_token {
        true => None,
        false => match users::from_session(&state.db, &session, &state.config).await {
            Ok(user) => user,
            Err(e) => return crate::server::json_api::ApiError::from(e).into_response(),
        },
    };
    req.extensions_mut().insert(Caller { user, client_addr, via_token, token_scope: None, job: None });
    next.run(req).await
}

/// The JSON API's own layer: resolves the bearer token into its user and scope. A token
/// that is unknown, revoked or expired answers 401; a read-only token may only read.
pub async fn api_token(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    let Some(caller) = req.extensions().get::<Caller>().filter(|c| c.via_token).cloned() else {
        return next.run(req).await;
    };
    let Some(token) = bearer(req.headers()) else {
        return refuse(StatusCode::UNAUTHORIZED, "unauthorized", "send the API token as \"Authorization: Bearer kp_…\"");
    };
    let (user, scope) = match tokens::authenticate(&state.db, token).await {
        Ok(Some(found)) => found,
        Ok(None) => return refuse(StatusCode::UNAUTHORIZED, "unauthorized", "the API token is not valid (unknown, revoked or expired)"),
        Err(e) => return crate::server::json_api::ApiError::from(e).into_response(),
    };
    let reads = matches!(*req.method(), Method::GET | Method::HEAD);
    if scope == TokenScope::Read && !reads {
        return refuse(StatusCode::FORBIDDEN, "forbidden", "this API token is read-only: create a read-and-write token on your profile page to make changes");
    }
    req.extensions_mut().insert(Caller { user: Some(user), token_scope: Some(scope), ..caller });
    next.run(req).await
}

fn refuse(status: StatusCode, code: &str, message: &str) -> Response {
    (status, Json(json!({ "error": { "code": code, "message": message } }))).into_response()
}

/// Refuses state-changing requests sent from another site. Browsers say where a request
/// comes from in `Sec-Fetch-Site` (or, older ones, in `Origin` or `Referer`); a request
/// that says it comes from elsewhere is refused, with or without a cookie (a cookieless
/// cross-site sign-in would sign the visitor in as the attacker: login CSRF), and so is a
/// cookie-carrying one that says nothing. Exempt: bearer-token requests, and requests with
/// no cookie and none of these headers (scripts, which cannot ride anyone's session).
pub async fn csrf(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let safe = matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS);
    let token = req.extensions().get::<Caller>().is_some_and(|c| c.via_token);
    let headers = req.headers();
    let script = ![header::COOKIE, header::ORIGIN, header::REFERER].iter().any(|h| headers.contains_key(h)) && !headers.contains_key("sec-fetch-site");
    if safe || token || script || same_site(headers, &state.config.web.public_url) {
        return next.run(req).await;
    }
    tracing::warn!(path = %req.uri().path(), "refused a cross-site request");
    refuse(StatusCode::FORBIDDEN, "forbidden", "cross-site request refused: send it from Keyport's own pages")
}

fn same_site(headers: &HeaderMap, public_url: &str) -> bool {
    let get = |name| headers.get(name).and_then(|v: &HeaderValue| v.to_str().ok());
    if let Some(site) = get(header::HeaderName::from_static("sec-fetch-site")) {
        return site == "same-origin" || site == "none";
    }
    let referred = || get(header::REFERER).and_then(|r| url::Url::parse(r).ok()).map(|u| u.origin().ascii_serialization());
    let Some(origin) = get(header::ORIGIN).map(str::to_owned).or_else(referred) else { return false };
    let host = get(header::HOST).unwrap_or_default();
    origin == public_url || origin == format!("http://{host}") || origin == format!("https://{host}")
}

/// Sends visitors without a session to sign in (returning them afterwards), and everyone
/// to set-up while no user exists.
pub async fn page_gate(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let path = req.uri().path();
    if !matches!(*req.method(), Method::GET | Method::HEAD) || !is_page(path) {
        return next.run(req).await;
    }
    let signed_in = req.extensions().get::<Caller>().is_some_and(|c| c.user.is_some());
    let target = if signed_in {
        (path == "/login" || path == "/setup").then(|| "/platforms".to_owned())
    } else {
        match users::any_exists(&state.db).await {
            Err(e) => return crate::server::json_api::ApiError::from(e).into_response(),
            Ok(false) => (path != "/setup").then(|| "/setup".to_owned()),
            Ok(true) if path == "/setup" => Some("/login".to_owned()),
            Ok(true) if path == "/login" => None,
            Ok(true) => {
                let here = req.uri().path_and_query().map_or(path, |p| p.as_str());
                Some(format!("/login?next={}", percent_encode(here)))
            }
        }
    };
    match target {
        Some(to) => Redirect::to(&to).into_response(),
        None => next.run(req).await,
    }
}

/// A path as a query value: only what the query would misread is escaped (`/` stays).
fn percent_encode(s: &str) -> String {
    const QUERY_VALUE: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'_').remove(b'.').remove(b'~').remove(b'/');
    utf8_percent_encode(s, QUERY_VALUE).to_string()
}
