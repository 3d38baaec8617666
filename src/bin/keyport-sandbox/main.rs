//! `keyport-sandbox`: an offline OAuth 2.0 authorization server (authorization code +
//! PKCE S256, rotating refresh tokens, revocation) with a fake social API, for the demo
//! and for integration and browser tests. Everything lives in memory.
//!
//! This file holds the command line, startup, routing and shutdown. Modules:
//! `store` (OAuth state and rules), `account` (the remote account), `posts` (the social
//! API's data), `faults` (injected failures), `authorize` / `oauth` / `api` / `admin` (HTTP
//! handlers), `mastodon` / `meta` / `linkedin` / `instagram` / `bluesky` / `reddit` / `pinterest` / `x` (provider personalities at their providers' paths),
//! `state` (what handlers share, the fault gate), `reply` (responses and request reading),
//! `html` (pages), `urlenc` (URL and form encoding), `secrets` (random credentials and PKCE).

mod account;
mod admin;
mod api;
mod authorize;
mod bluesky;
mod faults;
mod html;
mod instagram;
mod linkedin;
mod linkedin_media;
mod linkedin_video;
mod mastodon;
mod media;
mod meta;
mod oauth;
mod posts;
mod pinterest;
mod reddit;
mod reply;
mod secrets;
mod state;
mod store;
mod threads_media;
mod urlenc;
mod vault;
mod x;
mod x_media;

use axum::extract::Request;
use axum::http::StatusCode;
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::routing::{get, post};
use axum::Router;
use clap::Parser;
use faults::{parse_fault_plan, FaultPlan};
use std::io::{IsTerminal, Write};
use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::atomic::Ordering;
use std::time::Instant;
use tracing_subscriber::EnvFilter;

#[derive(Parser)]
#[command(name = "keyport-sandbox", version, about = "Offline OAuth 2.0 server and fake social API for Keyport demos and tests")]
struct Cli {
    /// Address to listen on; port 0 picks a free port (read it from the first stdout line).
    #[arg(long, default_value = "127.0.0.1:3200")]
    addr: SocketAddr,
    /// Access-token lifetime in seconds.
    #[arg(long, default_value_t = 3600)]
    token_ttl: u64,
    /// How old (seconds) a long-lived Instagram or Threads token must be before it may be
    /// renewed; Meta's rule is a day, tests set 0.
    #[arg(long, default_value_t = 86_400)]
    min_renew_age: u64,
    /// Lifetime in seconds of a token the Vault personality's AppRole login grants.
    #[arg(long, default_value_t = 3600)]
    vault_token_ttl: u64,
    /// Preload a fault, e.g. `token=500:2`; may be repeated.
    #[arg(long = "fault", value_name = "ENDPOINT=MODE[:COUNT]", value_parser = parse_fault_plan)]
    faults: Vec<FaultPlan>,
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .with_env_filter(EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")))
        .init();

    let stop = keyport::server::shutdown::signal();
    let listener = match tokio::net::TcpListener::bind(cli.addr).await {
        Ok(listener) => listener,
        Err(err) => {
            eprintln!("keyport-sandbox: cannot listen on {}: {err}", cli.addr);
            return ExitCode::FAILURE;
        }
    };
    let local_addr = match listener.local_addr() {
        Ok(addr) => addr,
        Err(err) => {
            eprintln!("keyport-sandbox: cannot read the bound address: {err}");
            return ExitCode::FAILURE;
        }
    };
    let base_url = format!("http://{local_addr}");

    let mut store = store::Store::new(cli.token_ttl);
    store.min_renew_age = std::time::Duration::from_secs(cli.min_renew_age);
    store.vault.token_ttl = std::time::Duration::from_secs(cli.vault_token_ttl);
    for plan in cli.faults {
        store.faults.push(plan);
    }
    let app = state::AppState::new(store, base_url.clone());

    // Tests parse this exact line to learn the port, so it goes to stdout, flushed at once.
    println!("keyport-sandbox listening on {base_url}");
    if let Err(err) = std::io::stdout().flush() {
        eprintln!("keyport-sandbox: cannot write to stdout: {err}");
    }
    tracing::info!(%base_url, token_ttl = cli.token_ttl, "sandbox ready");

    let shutting_down = app.shutting_down.clone();
    let served = axum::serve(listener, router(app))
        .with_graceful_shutdown(async move {
            stop.await;
            shutting_down.store(true, Ordering::Relaxed);
            tracing::info!("shutting down");
        })
        .await;
    match served {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            tracing::error!(%err, "server failed");
            ExitCode::FAILURE
        }
    }
}

fn router(app: state::AppState) -> Router {
    Router::new()
        .route("/", get(index))
        .route("/.well-known/oauth-authorization-server", get(oauth::metadata))
        .route("/register", post(oauth::register))
        .route("/authorize", get(authorize::consent).post(authorize::decide))
        .route("/token", post(oauth::token))
        .route("/revoke", post(oauth::revoke))
        .route("/userinfo", get(api::userinfo))
        .route("/api/posts", post(api::create_post))
        .route("/posts/{id}", get(api::show_post))
        // Media in Mastodon's shapes (media.rs), here and at the Mastodon personality's paths.
        .route("/api/media", post(media::upload).layer(axum::extract::DefaultBodyLimit::max(media::FILE_MAX + 64 * 1024)))
        .route("/api/media/{id}", get(media::status))
        .route("/media/{id}", get(media::file))
        .route("/api/v2/media", post(media::upload).layer(axum::extract::DefaultBodyLimit::max(media::FILE_MAX + 64 * 1024)))
        .route("/api/v1/media/{id}", get(media::status))
        // The Mastodon personality (mastodon.rs): Mastodon's paths and shapes.
        .route("/api/v1/apps", post(mastodon::register_app))
        .route("/oauth/authorize", get(authorize::consent).post(authorize::decide))
        .route("/oauth/token", post(mastodon::token))
        .route("/oauth/revoke", post(oauth::revoke))
        .route("/api/v1/accounts/verify_credentials", get(mastodon::verify_credentials))
        .route("/api/v1/statuses", post(mastodon::create_status))
        // The Instagram and Threads personalities (instagram.rs): login, long-lived tokens.
        .route("/{app}/oauth/authorize", get(instagram::consent).post(instagram::decide))
        .route("/{app}/oauth/access_token", post(instagram::token))
        .route("/{app}/access_token", get(instagram::long_lived))
        .route("/{app}/refresh_access_token", get(instagram::renew))
        .route("/{app}/{version}/me", get(instagram::me))
        .route("/{app}/{version}/{node}", get(instagram::post))
        .route("/{app}/{version}/{node}/{edge}", post(instagram::publish_step))
        // The Bluesky personality (bluesky.rs): a PDS's session and record methods.
        .route("/xrpc/com.atproto.server.createSession", post(bluesky::create_session))
        .route("/xrpc/com.atproto.server.refreshSession", post(bluesky::refresh_session))
        .route("/xrpc/com.atproto.repo.createRecord", post(bluesky::create_record))
        .route("/xrpc/com.atproto.repo.uploadBlob", post(bluesky::upload_blob).layer(axum::extract::DefaultBodyLimit::max(media::FILE_MAX + 64 * 1024)))
        // The LinkedIn personality (linkedin.rs): its OAuth, userinfo and versioned Posts API.
        .route("/linkedin/oauth/v2/authorization", get(linkedin::consent).post(linkedin::decide))
        .route("/linkedin/oauth/v2/accessToken", post(linkedin::token))
        .route("/linkedin/v2/userinfo", get(linkedin::userinfo))
        .route("/linkedin/rest/posts", post(linkedin::create_post))
        .route("/linkedin/rest/images", post(linkedin_media::initialize))
        .route("/linkedin/dms-uploads/{id}", axum::routing::put(linkedin_media::upload).layer(axum::extract::DefaultBodyLimit::max(media::FILE_MAX * 2)))
        .route("/linkedin/rest/videos", post(linkedin_video::action))
        .route("/linkedin/rest/videos/{urn}", get(linkedin_video::status))
        .route("/linkedin/dms-uploads/video/{id}/{part}", axum::routing::put(linkedin_video::part).layer(axum::extract::DefaultBodyLimit::max(5 * 1024 * 1024)))
        // The X personality (x.rs): OAuth 2.0 with PKCE, users/me and the v2 Posts API.
        .route("/x/i/oauth2/authorize", get(x::consent).post(x::decide))
        .route("/x/2/oauth2/token", post(x::token))
        .route("/x/2/oauth2/revoke", post(x::revoke))
        .route("/x/2/users/me", get(x::me))
        .route("/x/2/tweets", post(x::create_tweet))
        .route("/x/2/media/upload/initialize", post(x_media::initialize))
        .route("/x/2/media/upload/{id}/append", post(x_media::append).layer(axum::extract::DefaultBodyLimit::max(x_media::SEGMENT_MAX + 64 * 1024)))
        .route("/x/2/media/upload/{id}/finalize", post(x_media::finalize))
        .route("/x/2/media/upload", get(x_media::status))
        .route("/x/2/media/metadata", post(x_media::metadata))
        // The Reddit personality (reddit.rs): its OAuth (User-Agent rule, errors in 200), me, submit.
        .route("/reddit/api/v1/authorize", get(reddit::consent).post(reddit::decide))
        .route("/reddit/api/v1/access_token", post(reddit::token))
        .route("/reddit/api/v1/revoke_token", post(reddit::revoke_token))
        .route("/reddit/api/v1/me", get(reddit::me))
        .route("/reddit/api/submit", post(reddit::submit))
        // The Pinterest personality (pinterest.rs): OAuth with Basic, the account, boards, pins.
        .route("/pinterest/oauth/", get(pinterest::consent).post(pinterest::decide))
        .route("/pinterest/v5/oauth/token", post(pinterest::token))
        .route("/pinterest/v5/user_account", get(pinterest::user_account))
        .route("/pinterest/v5/boards", get(pinterest::boards))
        .route("/pinterest/v5/pins", post(pinterest::create_pin))
        // The Meta personality (meta.rs): Facebook Login and the Graph API's Page paths.
        .route("/meta/{version}/{node}", get(meta::node))
        .route("/meta/{version}/{node}/{edge}", axum::routing::any(meta::edge))
        // The Vault personality (vault.rs): transit encrypt/decrypt/rotate and AppRole login.
        .route("/vault/v1/auth/approle/login", post(vault::login))
        .route("/vault/v1/{mount}/{operation}/{name}", post(vault::operate))
        .route("/vault/v1/{mount}/keys/{name}/{action}", post(vault::manage))
        .route("/faults", post(admin::add_fault).delete(admin::clear_faults))
        .route("/admin/revoke-all", post(admin::revoke_all))
        .route("/admin/config", post(admin::config))
        .route("/admin/stats", get(admin::stats))
        .fallback(not_found)
        .layer(middleware::from_fn(log_request))
        .with_state(app)
}

async fn index(axum::extract::State(app): axum::extract::State<state::AppState>) -> Response {
    reply::html(StatusCode::OK, html::index_page(&app.base_url))
}

async fn not_found() -> Response {
    reply::json_error(StatusCode::NOT_FOUND, "not_found", None)
}

/// Logs method, path and status only: query strings and bodies carry codes, tokens,
/// secrets and verifiers, which must never reach the log.
async fn log_request(request: Request, next: Next) -> Response {
    let method = request.method().clone();
    let path = request.uri().path().to_owned();
    let started = Instant::now();
    let response = next.run(request).await;
    tracing::info!(%method, %path, status = response.status().as_u16(), elapsed_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX), "request");
    response
}
