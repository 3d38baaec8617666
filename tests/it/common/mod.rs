//! A real Keyport server on a random port with a fresh database, for integration tests:
//! SQLite in a temporary folder, or PostgreSQL in a fresh schema of `TEST_DATABASE_URL`.
#![allow(dead_code)]

pub mod moto;
pub mod sandbox;

use keyport::{
    domain::{Role, SecretText},
    server::{
        auth::{tokens, Caller},
        config::{Backend, Config},
        db::Db,
        router,
        state::AppState,
        users,
    },
};

pub const TEST_KEY: &str = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";

pub struct TestApp {
    /// Signed in as an admin through a read-write API token (sent on every request): for
    /// the JSON API, the only place a token opens.
    pub client: reqwest::Client,
    /// Signed in as an admin with a session cookie, sending `Origin` as Keyport's own pages
    /// do: for pages, server functions and the OAuth routes.
    pub browser: reqwest::Client,
    /// No credentials at all.
    pub anonymous: reqwest::Client,
    pub base: String,
    /// The database URL, to open a second server on the same data.
    pub database_url: String,
    pub db: Db,
    pub state: AppState,
    _cleanup: Cleanup,
}

enum Cleanup {
    Sqlite(tempfile::TempDir),
    Postgres { admin_url: String, schema: String },
    /// A second server on another app's database: that app cleans up.
    Shared,
}

impl Drop for Cleanup {
    fn drop(&mut self) {
        if let Cleanup::Postgres { admin_url, schema } = self {
            let (url, schema) = (admin_url.clone(), schema.clone());
            // Drop runs outside any runtime we may block; use a small one on its own thread.
            let _ = std::thread::spawn(move || {
                tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
                    if let Ok(pool) = sqlx::PgPool::connect(&url).await {
                        let _ = sqlx::query(&format!("DROP SCHEMA IF EXISTS {schema} CASCADE")).execute(&pool).await;
                    }
                })
            })
            .join();
        }
    }
}

/// A database with nothing in it yet (not migrated): for tests that prepare it as an
/// older Keyport left it, then start a server on it.
pub struct Blank {
    pub url: String,
    pub backend: Backend,
    cleanup: Cleanup,
}

impl Blank {
    pub async fn sqlite() -> Blank {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("keyport.db").display());
        Blank { url, backend: Backend::Sqlite, cleanup: Cleanup::Sqlite(dir) }
    }

    /// `None` (and a note on stderr) when `TEST_DATABASE_URL` is not set, unless
    /// `KEYPORT_REQUIRE_POSTGRES` says the run must include PostgreSQL.
    pub async fn postgres() -> Option<Blank> {
        let Ok(admin_url) = std::env::var("TEST_DATABASE_URL") else {
            assert!(
                std::env::var_os("KEYPORT_REQUIRE_POSTGRES").is_none(),
                "KEYPORT_REQUIRE_POSTGRES is set but TEST_DATABASE_URL is not"
            );
            eprintln!("skipped: TEST_DATABASE_URL is not set");
            return None;
        };
        let schema = format!("t_{}", uuid::Uuid::now_v7().simple());
        let pool = sqlx::PgPool::connect(&admin_url).await.expect("TEST_DATABASE_URL must be reachable");
        sqlx::query(&format!("CREATE SCHEMA {schema}")).execute(&pool).await.unwrap();
        pool.close().await;
        let separator = if admin_url.contains('?') { '&' } else { '?' };
        let url = format!("{admin_url}{separator}options=-c%20search_path%3D{schema}");
        Some(Blank { url, backend: Backend::Postgres, cleanup: Cleanup::Postgres { admin_url, schema } })
    }

    /// The configuration a server on this database uses (the test key).
    pub fn config(&self) -> Config {
        config_for(&self.url, &[("ENCRYPTION_KEY", TEST_KEY)])
    }

    /// A server on it (which applies the migrations it still lacks).
    pub async fn serve(self) -> TestApp {
        TestApp::spawn(&self.url, self.backend, self.cleanup).await
    }

    /// The database as Keyport left it before migration `first_missing` (such as "0011"):
    /// the earlier ones applied, none after; a server started on it then applies the rest.
    pub async fn migrated_before(&self, first_missing: &str) -> keyport::server::db::Db {
        let folder = match self.backend {
            Backend::Sqlite => "migrations/sqlite",
            Backend::Postgres => "migrations/postgres",
        };
        let before = tempfile::tempdir().unwrap();
        for entry in std::fs::read_dir(folder).unwrap() {
            let path = entry.unwrap().path();
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            if name.as_str() < first_missing {
                std::fs::copy(&path, before.path().join(name)).unwrap();
            }
        }
        let db = keyport::server::db::Db::connect(&self.url, self.backend).await.unwrap();
        let migrator = sqlx::migrate::Migrator::new(before.path()).await.unwrap();
        keyport::on_db!(&db, |pool| migrator.run(pool).await).unwrap();
        db
    }

    /// A server on it configured with `vars` (keys).
    pub async fn serve_with(self, vars: &[(&str, &str)]) -> TestApp {
        TestApp::spawn_with(&self.url, self.backend, self.cleanup, vars).await
    }
}

impl TestApp {
    pub async fn sqlite() -> TestApp {
        Blank::sqlite().await.serve().await
    }

    /// `None` when PostgreSQL is not configured (see [`Blank::postgres`]).
    pub async fn postgres() -> Option<TestApp> {
        Some(Blank::postgres().await?.serve().await)
    }

    async fn spawn(url: &str, backend: Backend, cleanup: Cleanup) -> TestApp {
        Self::spawn_with(url, backend, cleanup, &[("ENCRYPTION_KEY", TEST_KEY)]).await
    }

    /// Starts a server on the given database with extra configuration (keys).
    async fn spawn_with(url: &str, backend: Backend, cleanup: Cleanup, vars: &[(&str, &str)]) -> TestApp {
        // Listening first, so PUBLIC_URL is the real address: a provider that fetches media
        // by URL (the sandbox's Threads) reaches this server through the links it lends.
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap().to_string();
        let mut vars = vars.to_vec();
        vars.push(("LEPTOS_SITE_ADDR", &addr));
        let config = config_for(url, &vars);
        assert_eq!(config.database.backend, backend);
        let state = AppState::prepare(config).await.unwrap();
        let base = format!("http://{addr}");
        let app_state = state.clone();
        tokio::spawn(async move {
            let app = router::build(app_state).into_make_service_with_connect_info::<std::net::SocketAddr>();
            axum::serve(listener, app).await.unwrap()
        });
        let anonymous = http_client(None);
        let mut app = TestApp {
            base, database_url: url.to_owned(), client: anonymous.clone(), browser: anonymous.clone(), anonymous, db: state.db.clone(), state, _cleanup: cleanup,
        };
        app.client = app.client_as(Role::Admin).await;
        app.browser = app.browser_as(Role::Admin).await;
        app
    }

    /// A client with a read-write API token of a new user with `role`, for the JSON API.
    pub async fn client_as(&self, role: Role) -> reqwest::Client {
        http_client(Some(&self.token_as(role).await))
    }

    /// A read-write API token of a new user with `role`.
    pub async fn token_as(&self, role: Role) -> String {
        let email = format!("{}-{}@example.com", role, uuid::Uuid::now_v7().simple());
        let user = users::create(&self.db, &Caller::default(), &email, &SecretText::new(PASSWORD), role).await.unwrap();
        let token = tokens::create(&self.db, &Caller { user: Some(user), ..Caller::default() }, "tests", "read_write", "never").await.unwrap();
        token.value.expose().to_owned()
    }

    /// A browser signed in (session cookie) as a new user with `role`, sending this
    /// server's `Origin` on every request as a same-origin page does.
    pub async fn browser_as(&self, role: Role) -> reqwest::Client {
        use leptos::server_fn::ServerFn;
        let email = format!("{}-{}@example.com", role, uuid::Uuid::now_v7().simple());
        users::create(&self.db, &Caller::default(), &email, &SecretText::new(PASSWORD), role).await.unwrap();
        let mut headers = reqwest::header::HeaderMap::new();
        headers.insert(reqwest::header::ORIGIN, self.base.parse().unwrap());
        let browser = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).cookie_store(true).default_headers(headers).build().unwrap();
        let r = browser.post(self.url(keyport::server_fns::auth::SignIn::PATH)).header("accept", "text/html").form(&[("email", email.as_str()), ("password", PASSWORD)]).send().await.unwrap();
        assert_eq!(location(&r), "/platforms", "signed in");
        browser
    }

    /// Another server on this app's database, configured with `vars` (keys): as if the
    /// operator restarted Keyport with a new configuration.
    pub async fn reopen(&self, vars: &[(&str, &str)]) -> TestApp {
        Self::spawn_with(&self.database_url, self.state.config.database.backend, Cleanup::Shared, vars).await
    }

    /// The configuration [`reopen`](Self::reopen) would use, for preparing by hand.
    pub fn config_with(&self, vars: &[(&str, &str)]) -> Config {
        config_for(&self.database_url, vars)
    }

    /// `bytes` (as hex) as an SQL literal of this backend's blob type.
    pub fn blob_literal(&self, hex: &str) -> String {
        match self.state.config.database.backend {
            keyport::server::config::Backend::Sqlite => format!("X'{hex}'"),
            keyport::server::config::Backend::Postgres => format!("'\\x{hex}'::bytea"),
        }
    }

    /// `id` as an SQL literal of this backend's uuid type.
    pub fn uuid_literal(&self, id: uuid::Uuid) -> String {
        match self.state.config.database.backend {
            keyport::server::config::Backend::Sqlite => format!("X'{}'", id.simple()),
            keyport::server::config::Backend::Postgres => format!("'{id}'"),
        }
    }

    /// Runs one SQL statement against the app's database (to tamper, in tests).
    pub async fn execute(&self, sql: &str) {
        keyport::on_db!(&self.db, |pool| sqlx::query(sql).execute(pool).await.map(|_| ())).unwrap();
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// GET through the JSON API client (an API token).
    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client.get(self.url(path)).send().await.unwrap()
    }

    /// GET a page as the signed-in admin browser.
    pub async fn page(&self, path: &str) -> reqwest::Response {
        self.browser.get(self.url(path)).send().await.unwrap()
    }

    /// GET returning the status and the JSON body.
    pub async fn get_json(&self, path: &str) -> (u16, serde_json::Value) {
        json_of(self.get(path).await).await
    }

    pub async fn send_json(&self, method: reqwest::Method, path: &str, body: serde_json::Value) -> (u16, serde_json::Value) {
        json_of(self.client.request(method, self.url(path)).json(&body).send().await.unwrap()).await
    }

    pub async fn post_json(&self, path: &str, body: serde_json::Value) -> (u16, serde_json::Value) {
        self.send_json(reqwest::Method::POST, path, body).await
    }

    /// Creates a platform through the API and returns it.
    pub async fn create_platform(&self, body: serde_json::Value) -> serde_json::Value {
        let (status, json) = self.post_json("/api/platforms", body).await;
        assert_eq!(status, 201, "{json}");
        json["platform"].clone()
    }
}

/// A client that does not follow redirects (tests look at them), optionally with a token.
pub fn http_client(token: Option<&str>) -> reqwest::Client {
    let mut headers = reqwest::header::HeaderMap::new();
    if let Some(token) = token {
        headers.insert(reqwest::header::AUTHORIZATION, format!("Bearer {token}").parse().unwrap());
    }
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .cookie_store(true)
        .default_headers(headers)
        .build()
        .unwrap()
}

fn config_for(url: &str, vars: &[(&str, &str)]) -> Config {
    // The sandbox is a provider on this machine, over plain http.
    // Media in a folder of the build's own (files are named by hash: tests may share it).
    let media = concat!(env!("CARGO_TARGET_TMPDIR"), "/media");
    let mut all = vec![("DATABASE_URL", url), ("LEPTOS_SITE_ADDR", "127.0.0.1:0"), ("ALLOW_INSECURE_PROVIDERS", "1"), ("MEDIA_DIR", media)];
    all.extend_from_slice(vars);
    Config::from_vars(all).unwrap()
}

pub async fn json_of(response: reqwest::Response) -> (u16, serde_json::Value) {
    let status = response.status().as_u16();
    let text = response.text().await.unwrap();
    let json = if text.is_empty() { serde_json::Value::Null } else { serde_json::from_str(&text).unwrap_or_else(|_| panic!("not JSON ({status}): {text}")) };
    (status, json)
}

/// Runs each named `async fn(TestApp)` once against SQLite and once against PostgreSQL; those
/// after `blank:` are `async fn(Blank)`, given an empty database of each instead.
#[macro_export]
macro_rules! on_both_backends {
    ($($name:ident),+ $(,)?) => { $crate::on_both_backends!($($name),+ ; blank:); };
    ($($name:ident),* ; blank: $($blank:ident),* $(,)?) => {
        mod sqlite {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)] async fn $name() { super::$name($crate::common::TestApp::sqlite().await).await })*
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)] async fn $blank() { super::$blank($crate::common::Blank::sqlite().await).await })*
        }
        mod postgres {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)] async fn $name() {
                if let Some(app) = $crate::common::TestApp::postgres().await { super::$name(app).await }
            })*
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)] async fn $blank() {
                if let Some(blank) = $crate::common::Blank::postgres().await { super::$blank(blank).await }
            })*
        }
    };
}

pub const PASSWORD: &str = "correct horse battery";

/// Posts a form the way a browser on Keyport's own page does.
pub async fn browser_post(app: &TestApp, client: &reqwest::Client, path: &str, fields: &[(&str, &str)]) -> reqwest::Response {
    client
        .post(app.url(path))
        .header("accept", "text/html")
        .header("origin", &app.base)
        .header("referer", app.url("/login"))
        .form(fields)
        .send()
        .await
        .unwrap()
}

/// The first 200 characters of `text`, for failure messages.
pub fn shorten(text: &str) -> String {
    text.chars().take(200).collect()
}

/// Whether `needle` occurs anywhere in `haystack` (plaintext searches of stored bytes).
pub fn contains(haystack: &[u8], needle: impl AsRef<[u8]>) -> bool {
    let needle = needle.as_ref();
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// The one number a `SELECT COUNT(*) …` answers.
pub async fn count(app: &TestApp, sql: &str) -> i64 {
    let (n,): (i64,) = keyport::on_db!(&app.db, |pool| sqlx::query_as(sql).fetch_one(pool).await).unwrap();
    n
}

pub fn location(r: &reqwest::Response) -> String {
    r.headers().get("location").map(|v| v.to_str().unwrap().to_owned()).unwrap_or_default()
}

/// A cookie-session client signed in through the sign-in form as a new user with `role`.
pub async fn signed_in_browser(app: &TestApp, role: Role) -> (reqwest::Client, String) {
    use leptos::server_fn::ServerFn;
    let email = format!("{}-{}@example.com", role, uuid::Uuid::now_v7().simple());
    users::create(&app.db, &Caller::default(), &email, &SecretText::new(PASSWORD), role).await.unwrap();
    let browser = http_client(None);
    let r = browser_post(app, &browser, keyport::server_fns::auth::SignIn::PATH, &[("email", &email), ("password", PASSWORD)]).await;
    assert_eq!(location(&r), "/platforms", "signed in");
    (browser, email)
}

/// A real `keyport serve` process on this app's database, as a second instance, with
/// `vars` (keys, worker settings). Returns it (killed on drop) and its base URL; its
/// workers start at once, its HTTP side soon after (see [`wait_ready`]).
pub async fn serve_process(app: &TestApp, vars: &[(&str, &str)]) -> (tokio::process::Child, String) {
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let base = format!("http://127.0.0.1:{port}");
    let mut command = tokio::process::Command::new(env!("CARGO_BIN_EXE_keyport"));
    command
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("DATABASE_URL", &app.database_url)
        .env("ENCRYPTION_KEY", TEST_KEY)
        .env("ALLOW_INSECURE_PROVIDERS", "1")
        .env("LEPTOS_SITE_ADDR", format!("127.0.0.1:{port}"))
        .env("RUST_LOG", "warn")
        .envs(vars.iter().copied())
        .current_dir(std::env::temp_dir())
        .stdout(std::process::Stdio::null())
        .kill_on_drop(true);
    (command.spawn().expect("keyport starts"), base)
}

/// Waits until a server answers `/readyz`.
pub async fn wait_ready(base: &str) {
    for _ in 0..200 {
        if reqwest::get(format!("{base}/readyz")).await.is_ok_and(|r| r.status() == 200) {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("{base} did not become ready");
}

/// Variables a test built as owned strings, with `more` after them, as `reopen` and
/// `config_with` take them.
pub fn env_vars<'a>(owned: &'a [(&'static str, String)], more: &[(&'a str, &'a str)]) -> Vec<(&'a str, &'a str)> {
    owned.iter().map(|(k, v)| (*k, v.as_str())).chain(more.iter().copied()).collect()
}

/// Rotate now, as the keys panel presses it: a new active data key, and the re-encryption
/// job to it (left for the test to run: test servers run no background loops).
pub async fn rotate(app: &TestApp) -> keyport::domain::RotationJob {
    keyport::server::keys::rotate(&app.state, &Caller::default(), None).await.unwrap()
}

/// Every data key row: version, state and wrapped key, oldest first.
pub async fn key_rows(db: &keyport::server::db::Db) -> Vec<(i32, String, Option<Vec<u8>>)> {
    keyport::on_db!(db, |pool| sqlx::query_as("SELECT version, state, wrapped FROM encryption_keys ORDER BY version").fetch_all(pool).await).unwrap()
}

/// Puts `wrapped` in data key `version`'s row, as someone editing the database would.
pub async fn set_wrapped(db: &keyport::server::db::Db, version: i32, wrapped: &[u8]) {
    keyport::on_db!(db, |pool| sqlx::query("UPDATE encryption_keys SET wrapped = $1 WHERE version = $2").bind(wrapped.to_vec()).bind(version).execute(pool).await.map(|_| ())).unwrap();
}

/// A new API-key platform named `name` whose key is `value`, through the JSON API.
pub async fn put_api_key(app: &TestApp, name: &str, value: &str) -> uuid::Uuid {
    let p = app.create_platform(serde_json::json!({"name": name, "auth_type": "api_key"})).await;
    let id = p["id"].as_str().unwrap();
    let (status, body) = app.send_json(reqwest::Method::PUT, &format!("/api/platforms/{id}/secrets/api_key"), serde_json::json!({"value": value})).await;
    assert_eq!(status, 200, "{body}");
    id.parse().unwrap()
}

/// That platform's API key, opened with the server's keyring as a worker would.
pub async fn open_api_key(app: &TestApp, id: uuid::Uuid) -> String {
    use secrecy::ExposeSecret;
    let secret = keyport::server::secrets::resolve(&app.db, &app.state.keyring, id, keyport::domain::SecretField::ApiKey).await.unwrap();
    secret.expose_secret().to_owned()
}

/// The id of the platform's first connected account (by name), as the JSON API lists them.
pub async fn first_account(app: &TestApp, platform_id: &str) -> String {
    let (status, json) = app.get_json(&format!("/api/platforms/{platform_id}/accounts")).await;
    assert_eq!(status, 200, "{json}");
    json["accounts"][0]["id"].as_str().expect("a connected account").to_owned()
}

/// `POST …/accounts/{first}/token`: makes sure the platform's first account has a usable token.
pub async fn ensure_token(app: &TestApp, platform_id: &str) -> (u16, serde_json::Value) {
    let account = first_account(app, platform_id).await;
    app.post_json(&format!("/api/platforms/{platform_id}/accounts/{account}/token"), serde_json::json!({})).await
}
