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
    workers,
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
use std::{net::SocketAddr, time::Duration};
use tower_http::{
    catch_panic::CatchPanicLayer,
    compression::{predicate::{NotForContentType, Predicate}, CompressionLayer, CompressionLevel, DefaultPredicate},
    timeout::ResponseBodyTimeoutLayer,
    trace::TraceLayer,
};
use tower_sessions::{cookie::SameSite, Expiry, SessionManagerLayer};

/// Leptos options built from our [`Config`], so the server does not depend on the
/// environment cargo-leptos sets. The bundle's names are hashed when cargo-leptos left its
/// hash file beside this binary (leptos reads it there; an absolute name is taken as is).
pub fn leptos_options(config: &Config) -> LeptosOptions {
    let beside_binary = std::env::current_exe().ok().and_then(|exe| exe.parent().map(|dir| dir.join(&config.web.hash_file)));
    LeptosOptions::builder()
        .output_name("keyport")
        .site_root(config.web.site_root.as_str())
        .site_pkg_dir("pkg")
        .site_addr(config.web.site_addr)
        .hash_files(beside_binary.is_some_and(|file| file.is_file()))
        .hash_file(config.web.hash_file.as_str().into())
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

/// The page routes, generated once per process. Generating renders the app with a
/// process-wide flag set (leptos_server's `IS_SUPPRESSING_RESOURCE_LOAD`) under which any
/// resource created by a concurrent render in the same process waits forever; a second
/// server built while another serves (integration tests, `TestApp::reopen`) would hang
/// that render. Once per process, before any server answers, it cannot overlap a render.
pub fn page_routes() -> Vec<leptos_axum::AxumRouteListing> {
    static ROUTES: std::sync::OnceLock<Vec<leptos_axum::AxumRouteListing>> = std::sync::OnceLock::new();
    ROUTES.get_or_init(|| generate_route_list(App)).clone()
}

pub fn build(state: AppState) -> Router {
    let routes = page_routes();
    let context_state = state.clone();
    Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(readyz))
        .nest("/api", json_api::routes(&state))
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
        // Outermost last: headers → session → who is calling → CSRF → page gate → no NUL in
        // text → route.
        .layer(from_fn(unreadable_arguments))
        .layer(from_fn(super::text_input::refuse_nul))
        .layer(from_fn_with_state(state.clone(), page_gate))
        .layer(from_fn_with_state(state.clone(), csrf))
        .layer(from_fn_with_state(state.clone(), authenticate))
        .layer(session_layer(&state))
        .layer(CatchPanicLayer::custom(panicked))
        .layer(ResponseBodyTimeoutLayer::new(BODY_STALL))
        .layer(from_fn_with_state(state.clone(), security_headers))
        .layer(compression())
        // The path only, at every level: a query may hold an OAuth callback's code and state.
        .layer(TraceLayer::new_for_http().make_span_with(|req: &Request| tracing::debug_span!("request", method = %req.method(), path = %req.uri().path())))
        .with_state(state)
}

/// Text answers (pages, JSON, a bundle that was not precompressed) go gzip-compressed to a
/// client that accepts it, at gzip's fastest level (zlib-rs, chosen in Cargo.toml). Not
/// Brotli: at tower-http's quality 4 it cost a page of 50 platforms 0.5 ms more CPU than
/// gzip to save 324 of 4,853 bytes; and the fastest gzip level takes a further 0.2–0.3 ms
/// off that page for 1.8 KB more on the wire (66 KB → 6.7 instead of 4.9 KB;
/// docs/performance.md). The release bundle's `.br` files are made once at build time and
/// sent as they are. Images and video are compressed already, and an event stream or an
/// import's progress must flush as it goes (the default predicate skips images, gRPC, event
/// streams and tiny bodies).
fn compression() -> CompressionLayer<impl Predicate> {
    let skipped = NotForContentType::const_new("video/").and(NotForContentType::const_new("application/x-ndjson"));
    CompressionLayer::new().gzip(true).br(false).quality(CompressionLevel::Fastest).compress_when(DefaultPredicate::new().and(skipped))
}

/// How long an answer's body may wait for its next bytes before the connection is closed.
/// A page is streamed: its handler returns at once and its data follows, drawn by tasks
/// Leptos spawns; should one of them panic (CatchPanicLayer sees only the handler), the
/// page would otherwise wait for it for ever, and so would the browser. Longer than any
/// honest wait: the database gives up on a query within 10 s (5 s for a connection, 5 s
/// busy); the timer runs only while the server has nothing to send, not while a slow
/// client reads.
const BODY_STALL: Duration = Duration::from_secs(15);

/// A handler that panics answers 500 with the reference of the logged cause, rather than
/// a dropped connection.
fn panicked(panic: Box<dyn std::any::Any + Send>) -> Response {
    let error = super::error::internal(format!("a request handler panicked: {}", workers::panic_message(&*panic)));
    let mut response = Response::new(Body::from(error.to_string()));
    *response.status_mut() = StatusCode::INTERNAL_SERVER_ERROR;
    response.headers_mut().insert(axum::http::header::CONTENT_TYPE, axum::http::HeaderValue::from_static("text/plain; charset=utf-8"));
    response
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

/// Ready when the database answers and every background loop is making progress, so a
/// load balancer stops sending traffic (and an operator is told) otherwise.
async fn readyz(State(state): State<AppState>) -> (StatusCode, String) {
    if let Err(e) = state.db.ping().await {
        tracing::warn!(error = %e, "readiness check failed");
        return (StatusCode::SERVICE_UNAVAILABLE, "database unavailable".into());
    }
    match state.workers.stalled().as_slice() {
        [] => (StatusCode::OK, "ready".into()),
        stalled => {
            tracing::warn!(workers = ?stalled, "readiness check failed: a background worker stopped making progress");
            (StatusCode::SERVICE_UNAVAILABLE, format!("stalled: {}", stalled.join(", ")))
        }
    }
}

/// Prepares the state and serves until SIGTERM or Ctrl-C, then drains open requests.
pub async fn serve(config: Config) -> Result<(), String> {
    let addr = config.web.site_addr;
    // From here on a stop signal waits for the server to come up and stops it cleanly.
    let stop = super::shutdown::signal();
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
    let (db, tasks, stopping) = (state.db.clone(), state.tasks.clone(), state.stopping.clone());
    let background = start_workers(&state);
    axum::serve(listener, build(state).into_make_service_with_connect_info::<SocketAddr>())
        .with_graceful_shutdown(async move {
            stop.await;
            tracing::info!("shutting down");
            stopping.cancel();
        })
        .await
        .map_err(|e| format!("server error: {e}"))?;
    // An import whose caller hung up ends at its next batch, its report in the audit log.
    tasks.close();
    tasks.wait().await;
    background.iter().for_each(|task| task.abort());
    db.close().await;
    tracing::info!("stopped");
    Ok(())
}

/// The background loops, each supervised (`server::workers`): a panic in one round is
/// logged and the loop goes on; `/readyz` reports a loop that stops making progress.
fn start_workers(state: &AppState) -> Vec<tokio::task::JoinHandle<()>> {
    let w = &state.workers;
    let (s, sessions) = (state.clone(), DbSessionStore(state.db.clone()));
    let refresher = workers::spawn(w, "token refresher", s.config.oauth.refresh_interval, move |hb| oauth::worker::round(s.clone(), move || hb.beat()));
    let s = state.clone();
    let publisher = workers::spawn(w, "delivery worker", s.config.publishing.poll_interval, move |_| super::publish::worker::round(s.clone()));
    let (s, owner) = (state.clone(), uuid::Uuid::now_v7());
    let rotation = workers::spawn(w, "key rotation", super::rotation::ROUND_WAIT, move |hb| super::rotation::round(s.clone(), owner, move || hb.beat()));
    let sweeper = workers::spawn(w, "session sweeper", SESSION_SWEEP, move |_| sweep_expired_sessions(sessions.clone()));
    let s = state.clone();
    let integrity = workers::spawn(w, "integrity sweep", Duration::from_secs(60), move |hb| super::integrity::round(s.clone(), move || hb.beat()));
    let s = state.clone();
    let keys = workers::spawn(w, "data keys", s.config.keys.refresh_interval, move |_| super::keys::round(s.clone()));
    vec![refresher, publisher, rotation, sweeper, integrity, keys]
}

/// Often enough that an expired Page pick (10 minutes) is gone soon after.
const SESSION_SWEEP: Duration = Duration::from_secs(600);

/// Deletes expired sessions, finished sign-in throttle windows and expired Page picks,
/// then waits ten minutes, so no such table grows without bound.
async fn sweep_expired_sessions(store: DbSessionStore) {
    use tower_sessions::session_store::ExpiredDeletion;
    if let Err(e) = store.delete_expired().await {
        tracing::warn!(error = %e, "could not delete expired sessions");
    }
    if let Err(e) = super::auth::throttle::sweep(&store.0).await {
        tracing::warn!(error = %e, "could not delete finished sign-in throttle windows");
    }
    // Page picks hold Page tokens: none outlives its 10 minutes by more than a sweep.
    if let Err(e) = super::store::picks::sweep(&store.0).await {
        tracing::warn!(error = %e, "could not delete expired Facebook Page picks");
    }
    tokio::time::sleep(SESSION_SWEEP).await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_panicking_handler_answers_500_with_a_reference() {
        let app = Router::new().route("/boom", get(|| async { panic!("boom") as &'static str })).layer(CatchPanicLayer::custom(panicked));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        let r = reqwest::get(format!("{base}/boom")).await.expect("an answer, not a dropped connection");
        assert_eq!(r.status(), 500);
        let text = r.text().await.unwrap();
        assert!(text.starts_with("something went wrong on the server (reference "), "{text}");
        assert!(!text.contains("boom"), "the cause goes to the log, not to the visitor");
    }

    /// A page whose rendering task died sends its first part and then nothing: the answer
    /// is cut after [`BODY_STALL`] instead of keeping the browser waiting for ever.
    #[tokio::test(start_paused = true)]
    async fn a_stalled_body_is_cut_after_its_stall_time() {
        let stalled = || async {
            let first = futures::stream::once(async { Ok::<_, std::io::Error>(axum::body::Bytes::from_static(b"<html>")) });
            Body::from_stream(futures::StreamExt::chain(first, futures::stream::pending()))
        };
        let app = Router::new().route("/page", get(stalled)).layer(ResponseBodyTimeoutLayer::new(BODY_STALL));
        let response = tower::ServiceExt::oneshot(app, Request::get("/page").body(Body::empty()).unwrap()).await.unwrap();
        assert_eq!(response.status(), 200);
        let started = tokio::time::Instant::now();
        // Virtual time: a body that never ends fails this test after an hour instead of hanging it.
        let read = tokio::time::timeout(Duration::from_secs(3600), to_bytes(response.into_body(), usize::MAX)).await;
        let read = read.expect("the stalled body ends");
        assert!(read.is_err(), "cut, not completed as if the page were whole: {read:?}");
        assert_eq!(started.elapsed().as_secs(), BODY_STALL.as_secs());
    }
}
