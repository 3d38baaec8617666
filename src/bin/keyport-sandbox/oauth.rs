//! Server metadata (RFC 8414), dynamic client registration (a subset of RFC 7591), the
//! token endpoint (RFC 6749 §4.1.3 and §6) and token revocation (RFC 7009).

use crate::faults::Endpoint;
use crate::reply::{json_error, no_store_json, parse_json, ApiError};
use crate::state::AppState;
use crate::store::{Store, TokenError, TokenSet};
use crate::urlenc::{parse_basic_credentials, parse_params, validate_redirect_uri, Params};
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};
use std::time::Instant;

/// `GET /.well-known/oauth-authorization-server`.
pub async fn metadata(State(app): State<AppState>) -> Json<Value> {
    let base = &*app.base_url;
    let auth_methods = ["client_secret_basic", "client_secret_post"];
    Json(json!({
        "issuer": base,
        "authorization_endpoint": format!("{base}/authorize"),
        "token_endpoint": format!("{base}/token"),
        "revocation_endpoint": format!("{base}/revoke"),
        "registration_endpoint": format!("{base}/register"),
        "userinfo_endpoint": format!("{base}/userinfo"),
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "grant_types_supported": ["authorization_code", "refresh_token"],
        "code_challenge_methods_supported": ["S256"],
        "token_endpoint_auth_methods_supported": auth_methods,
        "revocation_endpoint_auth_methods_supported": auth_methods,
    }))
}

#[derive(Deserialize)]
struct Registration {
    client_name: Option<String>,
    redirect_uris: Option<Vec<String>>,
}

/// `POST /register`.
pub async fn register(State(app): State<AppState>, body: Bytes) -> Response {
    let registration: Registration = match parse_json(&body) {
        Ok(registration) => registration,
        Err(message) => return json_error(StatusCode::BAD_REQUEST, "invalid_client_metadata", Some(&message)),
    };
    let redirect_uris = registration.redirect_uris.unwrap_or_default();
    if redirect_uris.is_empty() {
        return json_error(StatusCode::BAD_REQUEST, "invalid_redirect_uri", Some("at least one redirect_uri is required"));
    }
    if let Err(message) = redirect_uris.iter().try_for_each(|uri| validate_redirect_uri(uri)) {
        return json_error(StatusCode::BAD_REQUEST, "invalid_redirect_uri", Some(&message));
    }
    let name = registration.client_name.filter(|name| !name.trim().is_empty()).unwrap_or_else(|| "Keyport".to_owned());
    let client = app.store().register_client(name, redirect_uris);
    tracing::info!(client_id = %client.id, client_name = %client.name, "registered client");
    let body = json!({
        "client_id": client.id,
        "client_secret": client.secret,
        "client_name": client.name,
        "redirect_uris": client.redirect_uris,
        // RFC 7591 §3.2.1: required whenever a secret is issued; 0 means it never expires.
        "client_secret_expires_at": 0,
        "client_id_issued_at": chrono::Utc::now().timestamp(),
    });
    no_store_json(StatusCode::CREATED, body)
}

pub fn parse_form(body: &[u8]) -> Result<Params, ApiError> {
    std::str::from_utf8(body)
        .map_err(|_| "the form body is not UTF-8".to_owned())
        .and_then(parse_params)
        .map_err(|message| ApiError::invalid_request(&message))
}

fn required<'a>(params: &'a Params, name: &str) -> Result<&'a str, ApiError> {
    params.get(name).ok_or_else(|| ApiError::invalid_request(&format!("missing parameter: {name}")))
}

/// Authenticates the client by HTTP Basic or by `client_id`/`client_secret` in the body
/// (RFC 6749 §2.3.1) and returns its id.
fn authenticate(store: &Store, headers: &HeaderMap, params: &Params) -> Result<String, ApiError> {
    let basic = headers
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .filter(|value| value.trim_start().get(..6).is_some_and(|scheme| scheme.eq_ignore_ascii_case("basic ")));
    let (client_id, secret) = match basic {
        Some(value) => {
            let (id, secret) = parse_basic_credentials(value).ok_or_else(ApiError::invalid_client)?;
            // Some clients repeat client_id in the body; it must then name the same client.
            if params.get("client_id").is_some_and(|body_id| body_id != id) {
                return Err(ApiError::invalid_client());
            }
            (id, secret)
        }
        None => match (params.get("client_id"), params.get("client_secret")) {
            (Some(id), Some(secret)) => (id.to_owned(), secret.to_owned()),
            _ => return Err(ApiError::invalid_client()),
        },
    };
    if store.authenticate_client(&client_id, &secret) {
        Ok(client_id)
    } else {
        tracing::info!(%client_id, "client authentication failed");
        Err(ApiError::invalid_client())
    }
}

/// `POST /token`.
pub async fn token(State(app): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    if let Some(response) = app.injected_fault(Endpoint::Token).await {
        return response;
    }
    app.store().counters.token_requests += 1;
    let answer = |tokens: TokenSet| {
        json!({
            "access_token": tokens.access_token,
            "token_type": "Bearer",
            "expires_in": tokens.expires_in,
            "refresh_token": tokens.refresh_token,
            "scope": tokens.scope,
        })
    };
    exchange(&app, &headers, &body).map(|tokens| no_store_json(StatusCode::OK, answer(tokens))).unwrap_or_else(IntoResponse::into_response)
}

/// Redeems a code or a refresh token: the tokens, or the error to answer.
pub fn exchange(app: &AppState, headers: &HeaderMap, body: &[u8]) -> Result<TokenSet, ApiError> {
    exchange_with(app, headers, body, true)
}

/// [`exchange`], with refresh tokens rotated on use or kept (`rotate`).
pub fn exchange_with(app: &AppState, headers: &HeaderMap, body: &[u8], rotate: bool) -> Result<TokenSet, ApiError> {
    let params = parse_form(body)?;
    let mut store = app.store();
    let client_id = authenticate(&store, headers, &params)?;
    let grant_type = required(&params, "grant_type")?;
    let now = Instant::now();
    let result = match grant_type {
        "authorization_code" => {
            let code = required(&params, "code")?;
            let redirect_uri = required(&params, "redirect_uri")?;
            store.exchange_code(&client_id, code, redirect_uri, params.get("code_verifier"), now)
        }
        "refresh_token" => {
            let refresh_token = required(&params, "refresh_token")?;
            store.refresh(&client_id, refresh_token, params.get("scope"), rotate, now)
        }
        _ => return Err(ApiError::new(StatusCode::BAD_REQUEST, "unsupported_grant_type", None)),
    };
    drop(store);
    match result {
        Ok(tokens) => {
            tracing::info!(%client_id, grant_type, "tokens issued");
            Ok(tokens)
        }
        Err(TokenError::InvalidGrant(reason)) => {
            tracing::info!(%client_id, grant_type, reason, "grant rejected");
            Err(ApiError::new(StatusCode::BAD_REQUEST, "invalid_grant", Some(reason)))
        }
        Err(TokenError::InvalidScope(reason)) => Err(ApiError::new(StatusCode::BAD_REQUEST, "invalid_scope", Some(reason))),
    }
}

/// `POST /revoke`: always 200 once the client is authenticated, whether or not the token
/// existed (RFC 7009 §2.2), so it cannot be used to probe for valid tokens.
pub async fn revoke(State(app): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    if let Some(response) = app.injected_fault(Endpoint::Revoke).await {
        return response;
    }
    revoke_token(&app, &headers, &body).unwrap_or_else(IntoResponse::into_response)
}

fn revoke_token(app: &AppState, headers: &HeaderMap, body: &[u8]) -> Result<Response, ApiError> {
    let params = parse_form(body)?;
    let mut store = app.store();
    let client_id = authenticate(&store, headers, &params)?;
    let token = required(&params, "token")?;
    let revoked = store.revoke(&client_id, token);
    tracing::info!(%client_id, revoked, "revocation request");
    Ok(StatusCode::OK.into_response())
}
