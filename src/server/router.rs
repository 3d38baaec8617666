//! The axum router: health checks, the JSON API, static files and the Leptos pages and
//! server functions — and `serve`, which starts it all.

use super::{
    auth::{
        middleware::{authenticate, csrf, page_gate, security_headers, CspNonce},
        Caller,
    },
    config::Config,
    json_api, oauth,
    state::AppState,
    store::sessions::DbSessionStore,
};
use crate::{
    app::{shell, App},
    domain::{AppError, Viewer},
};
use axum::{
    body::{to_bytes, Body},
    extract::{Request, State},
    http::{request::Parts, StatusCode},
    middleware::{from_fn, from_fn_with_state, Next},
    response::Response,
    routing::get,
    Router,
};
use leptos::{config::LeptosOptions, nonce::Nonce, prelude::{provide_context, use_context}};
use leptos_axum::{generate_route_list, LeptosRoutes};
use std::net::SocketAddr;
use tower_http::trace::TraceLayer;
use tower_sessions::{cookie::SameSite, Expiry, SessionManagerLayer};

/// Leptos options built from our [`Config`], so the server does not depend on the
/// environment cargo-leptos sets.
pub fn leptos_options(config: &Config) -> LeptosOptions {
    LeptosOptions::builder()
        .output_name("keyport")
        .site_root(config.web.site_root.as_str())
        .site_pkg_dir("pkg")
        .site_addr(config.web.site_addr)
        .build()
}

/// The session cookie: HttpOnly, SameSite=Lax (a Strict cookie would not come back with
/// the OAuth provider's redirect), Secure and `__Host-` prefixed behind https.
fn session_layer(state: &AppState) -> SessionManagerLayer<DbSessionStore> {
    let https = state.config.web.https();
    let idle = tower_sessions::cookie::time::Duration::seconds(state.config.sessions.idle.as_secs() as i64);
    SessionManagerLayer::new(DbSessionStore(state.db.clone()))
        .with_name(if https { "__Host-keyport" } else { "keyport_session" })
        .with_secure(https)
        .with_http_only(true)
        .with_same_site(SameSite::Lax)
        .with_path("/")
        .with_expiry(Expiry::OnInactivity(idle))
}

/// What every page render and server function can reach: the state, and the CSP nonce
/// the security-headers layer chose for this response.
fn provide_request_context(state: &AppState) {
    provide_context(state.clone());
    let parts = use_context::<Parts>();
    if let Some(nonce) = parts.as_ref().and_then(|p| p.extensions.get::<CspNonce>().cloned()) {
        provide_context(Nonce::from_value(nonce.0));
    }
    let user = parts.and_then(|p| p.extensions.get::<Caller>().cloned()).and_then(|c| c.user);
    provide_context(Viewer(user));
}

pub fn build(state: AppState) -> Router {
    let routes = generate_route_list(App);
    let context_state = state.clone();
    Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(readyz))
        .nest("/api", json_api::routes())
        .merge(oauth::connect::routes())
        .leptos_routes_with_context(
            &state,
            routes,
            move || provide_request_context(&context_state),
            {
                let options = state.leptos_options.clone();
                move || shell(options.clone())
            },
        )
        .fallback(leptos_axum::file_and_error_handler::<AppState, _>(shell))
        // Outermost last: headers → session → who is calling → CSRF → page gate → route.
        .layer(from_fn(unreadable_arguments))
        .layer(from_fn_with_state(state.clone(), page_gate))
        .layer(from_fn_with_state(state.clone(), csrf))
        .layer(from_fn_with_state(state.clone(), authenticate))
        .layer(session_layer(&state))
        .layer(from_fn(security_headers))
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}

/// server_fn answers 500 when a server function's arguments do not decode (an empty or
/// malformed body), before the function runs; every error from inside a function already
/// has its own status (`server_fns::guard`). Such an answer is an `AppError::Invalid` that
/// names the field: it is the caller's mistake, so 400, like the JSON API's unreadable bodies.
async fn unreadable_arguments(req: Request, next: Next) -> Response {
    let response = next.run(req).await;
    if response.status() != StatusCode::INTERNAL_SERVER_ERROR || !response.headers().contains_key(leptos::server_fn::error::SERVER_FN_ERROR_HEADER) {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let Ok(bytes) = to_bytes(body, 64 * 1024).await else {
        return Response::from_parts(parts, Body::empty());
    };
    if matches!(serde_json::from_slice(&bytes), Ok(AppError::Invalid { .. })) {
        parts.status = StatusCode::BAD_REQUEST;
    }
    Response::from_parts(parts, Body::from(bytes))
}

/// Ready when the database answers, so a load balancer stops sending traffic otherwise.
async fn readyz(State(state): State<AppState>) -> (StatusCode, &'static str) {
    match state.db.ping().await {
        Ok(()) => (StatusCode::OK, "ready"),
        Err(e) => {
            tracing::warn!(error = %e, "readiness check failed");
            (StatusCode::SERVICE_UNAVAILABLE, "database unavailable")
        }
    }
}

/// Prepares the state and serves until SIGTERM or Ctrl-C, then drains open requests.
pub async fn serve(config: Config) -> Result<(), String> {
    let addr = config.web.site_addr;
    let state = AppState::prepare(config).await?;
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|e| format!("LEPTOS_SITE_ADDR: cannot listen on {addr} ({e}); choose a free address and port."))?;
    tracing::info!(
        address = %state.config.web.public_url,
        database = %state.config.database.url_redacted(),
        key.version = state.keyring.current_version(),
        "Keyport is listening"
    );
    println!("Keyport is running at {}", state.config.web.public_url);
    if let Some(sandbox_url) = state.config.oauth.sandbox_url.clone() {
        if let Err(why) = oauth::demo::ensure_sandbox_platform(&state, &sandbox_url).await {
            tracing::warn!("{why}");
        }
    }
    let db = state.db.clone();
    let sweeper = tokio::spawn(sweep_expired_sessions(DbSessionStore(db.clone())));
    let refresher = tokio::spawn(oauth::worker::run(state.clone()));
    let rotation = tokio::spawn(super::rotation::run(state.clone()));
    let publisher = tokio::spawn(super::publish::worker::run(state.clone()));
    axum::serve(listener, build(state).into_make_service_with_connect_info::<SocketAddr>())
        .with_graceful_shutdown(async {
            super::shutdown::signal().await;
            tracing::info!("shutting down");
        })
        .await
        .map_err(|e| format!("server error: {e}"))?;
    sweeper.abort();
    refresher.abort();
    rotation.abort();
    publisher.abort();
    db.close().await;
    tracing::info!("stopped");
    Ok(())
}

/// Deletes expired sessions hourly, so the table does not grow without bound.
async fn sweep_expired_sessions(store: DbSessionStore) {
    use tower_sessions::session_store::ExpiredDeletion;
    let mut every_hour = tokio::time::interval(std::time::Duration::from_secs(3600));
    loop {
        every_hour.tick().await;
        if let Err(e) = store.delete_expired().await {
            tracing::warn!(error = %e, "could not delete expired sessions");
        }
    }
}
