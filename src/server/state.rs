//! What every request handler and server function can reach, and how it is prepared.

use super::{config::Config, crypto::Keyring, db::Db, router, secrets, workers::Workers};
use axum::extract::FromRef;
use leptos::config::LeptosOptions;
use std::sync::Arc;

#[derive(Clone)]
pub struct AppState {
    pub db: Db,
    pub keyring: Arc<Keyring>,
    pub config: Arc<Config>,
    pub leptos_options: LeptosOptions,
    /// For providers' token, revocation, userinfo and publishing endpoints: follows no
    /// redirects (a redirect could turn a token request into a request to anywhere).
    pub http: reqwest::Client,
    /// Wakes the delivery worker when a post is sent, rather than at its next poll.
    pub publish_now: Arc<tokio::sync::Notify>,
    /// The heartbeats of the background loops, for `/readyz`.
    pub workers: Workers,
    /// Where uploaded images and video are kept (a folder or an S3 bucket).
    pub media: super::media::storage::Storage,
    /// Work a request started that outlives it (a web import): shutdown waits for it.
    pub tasks: tokio_util::task::TaskTracker,
    /// Cancelled when the server begins to shut down; long work stops at a safe point.
    pub stopping: tokio_util::sync::CancellationToken,
    /// Searches found to have more matches than the list counts, for a few seconds.
    pub search_counts: Arc<super::search_counts::SearchCounts>,
    /// Searches' whole orders of matches, while no platform changes.
    pub search_orders: Arc<super::search_orders::SearchOrders>,
}

impl FromRef<AppState> for LeptosOptions {
    fn from_ref(state: &AppState) -> Self {
        state.leptos_options.clone()
    }
}

impl AppState {
    /// Connects to the database, applies migrations, unwraps the data keys with the root key
    /// (bringing a database from before data keys over) and re-binds tokens sealed before accounts existed. Each failure is one sentence naming the variable to fix.
    pub async fn prepare(config: Config) -> Result<Self, String> {
        let db = Db::connect(&config.database.url, config.database.backend).await.map_err(|e| {
            format!(
                "DATABASE_URL: could not open {} ({e}); check that the database server is running and the URL is right.",
                config.database.url_redacted()
            )
        })?;
        db.migrate().await.map_err(|e| format!("DATABASE_URL: migrating {} failed: {e}.", config.database.url_redacted()))?;
        let keyring = super::keys::open(&db, &config.keys).await?;
        secrets::bind_legacy_tokens(&db, &keyring).await?;
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(std::time::Duration::from_secs(5))
            .timeout(config.oauth.http_timeout)
            .user_agent(concat!("Keyport/", env!("CARGO_PKG_VERSION")))
            .dns_resolver(Arc::new(super::egress::Resolver(config.oauth.egress.clone())))
            .build()
            .map_err(|e| format!("cannot create the HTTP client for providers: {e}"))?;
        let media = super::media::storage::open(&config.media.storage)?;
        Ok(Self {
            media,
            http,
            publish_now: Arc::new(tokio::sync::Notify::new()),
            workers: Workers::default(),
            tasks: Default::default(),
            stopping: Default::default(),
            search_counts: Default::default(),
            search_orders: Default::default(),
            leptos_options: router::leptos_options(&config),
            db,
            keyring: Arc::new(keyring),
            config: Arc::new(config),
        })
    }
}
