//! 1,000 deliveries to keyport-sandbox through the delivery worker (SQLite), spread over 16
//! accounts (the worker sends one delivery per account at a time), against the same 1,000
//! HTTP calls made directly with the same concurrency: deliveries per second and the
//! worker's overhead per delivery beyond the HTTP call itself.
//! `cargo bench --features ssr --bench publish`.

use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine};
use keyport::{
    domain::{OauthSettingsForm, PostForm, ValidPlatform},
    server::{auth::Caller, config::Config, oauth, platforms, publish, secrets, state::AppState, store::accounts::{Grant, Identity, TokenFacts}},
};
use secrecy::SecretString;
use sha2::{Digest, Sha256};
use std::time::Instant;
use tokio::io::AsyncBufReadExt;

const DELIVERIES: usize = 1000;
const CONCURRENCY: usize = 16; // accounts, and what the worker claims per round

#[tokio::main]
async fn main() {
    let mut sandbox = tokio::process::Command::new(env!("CARGO_BIN_EXE_keyport-sandbox"))
        .args(["--addr", "127.0.0.1:0"])
        .env("RUST_LOG", "warn")
        .stdout(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut line = String::new();
    tokio::io::BufReader::new(sandbox.stdout.take().unwrap()).read_line(&mut line).await.unwrap();
    let sandbox_url = line.trim().rsplit(' ').next().unwrap().to_owned();

    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("bench.db").display());
    let config = Config::from_vars([("DATABASE_URL", url.as_str()), ("ENCRYPTION_KEY", "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="), ("LEPTOS_SITE_ADDR", "127.0.0.1:0"), ("ALLOW_INSECURE_PROVIDERS", "1")]).unwrap();
    let state = AppState::prepare(config).await.unwrap();
    let caller = Caller::default();
    let platform = platforms::create(&state.db, &caller, ValidPlatform { name: "Sandbox".into(), category: Default::default(), auth_type: Default::default(), status: Default::default(), description: None, icon_url: None, base_url: None, metadata: Default::default() }).await.unwrap();

    // The OAuth dance by hand (no browser here): register, approve, redeem the code.
    let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let redirect = oauth::redirect_uri(&state, platform.id);
    let client: serde_json::Value = http.post(format!("{sandbox_url}/register")).json(&serde_json::json!({"redirect_uris": [redirect]})).send().await.unwrap().json().await.unwrap();
    let (id, secret) = (client["client_id"].as_str().unwrap(), client["client_secret"].as_str().unwrap());
    let verifier = "bench-verifier-0123456789-0123456789-0123456789";
    let challenge = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier));
    let approved = http
        .post(format!("{sandbox_url}/authorize"))
        .form(&[("response_type", "code"), ("client_id", id), ("redirect_uri", &redirect), ("scope", "posts.write"), ("code_challenge", &challenge), ("code_challenge_method", "S256"), ("decision", "approve")])
        .send()
        .await
        .unwrap();
    let location = reqwest::Url::parse(approved.headers()["location"].to_str().unwrap()).unwrap();
    let code = location.query_pairs().find(|(k, _)| k == "code").unwrap().1.into_owned();
    let tokens: serde_json::Value = http
        .post(format!("{sandbox_url}/token"))
        .basic_auth(id, Some(secret))
        .form(&[("grant_type", "authorization_code"), ("code", &code), ("redirect_uri", &redirect), ("code_verifier", verifier)])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let settings = OauthSettingsForm { provider: "sandbox".into(), instance_url: sandbox_url.clone(), client_id: id.into(), ..Default::default() };
    let platform = keyport::server::platforms::get(&state.db, &state.keyring, platform.id).await.unwrap();
    oauth::save_settings(&state, &caller, &platform, settings).await.unwrap();
    let access = SecretString::from(tokens["access_token"].as_str().unwrap().to_owned());
    let facts = TokenFacts { token_type: Some("Bearer".into()), scopes: None, expires_at: None };
    let mut accounts = Vec::new();
    for i in 0..CONCURRENCY {
        let who = Identity { external_id: format!("bench-{i}"), name: Some(format!("Bench {i}")), avatar_url: None };
        accounts.push(secrets::store_tokens(&state.db, &state.keyring, platform.id, &access, None, &facts, &Grant::New(who, None)).await.unwrap().expect("a new account"));
    }

    // Baseline: the HTTP calls alone, CONCURRENCY at a time.
    let started = Instant::now();
    for chunk in (0..DELIVERIES).collect::<Vec<_>>().chunks(CONCURRENCY) {
        let mut calls = tokio::task::JoinSet::new();
        for i in chunk {
            let (http, url, token) = (http.clone(), format!("{sandbox_url}/api/posts"), tokens["access_token"].as_str().unwrap().to_owned());
            let key = format!("baseline-{i}");
            calls.spawn(async move { http.post(url).bearer_auth(token).header("Idempotency-Key", key).json(&serde_json::json!({"text": "baseline"})).send().await.unwrap().status() });
        }
        calls.join_all().await;
    }
    let http_seconds = started.elapsed().as_secs_f64();

    for i in 0..DELIVERIES {
        let account = accounts[i % CONCURRENCY];
        let form = PostForm { text: format!("Bench post {i}"), accounts: vec![account.to_string()], action: "draft".into(), ..Default::default() };
        publish::create(&state, &caller, form).await.unwrap();
    }
    keyport::on_db!(&state.db, |pool| sqlx::query("UPDATE deliveries SET status = 'queued'").execute(pool).await.map(|_| ())).unwrap();
    let started = Instant::now();
    let mut delivered = 0;
    while delivered < DELIVERIES {
        delivered += publish::worker::process_due(&state).await;
    }
    let worker_seconds = started.elapsed().as_secs_f64();
    let stats: serde_json::Value = http.get(format!("{sandbox_url}/admin/stats")).send().await.unwrap().json().await.unwrap();
    assert_eq!(stats["posts"], (2 * DELIVERIES) as u64);
    println!("direct HTTP : {DELIVERIES} posts in {http_seconds:.2} s = {:.0}/s", DELIVERIES as f64 / http_seconds);
    println!("worker      : {DELIVERIES} deliveries in {worker_seconds:.2} s = {:.0}/s", DELIVERIES as f64 / worker_seconds);
    println!(
        "overhead    : {:.2} ms of wall time per delivery beyond the HTTP call ({} at a time)",
        (worker_seconds - http_seconds) * 1000.0 / DELIVERIES as f64,
        CONCURRENCY
    );
}
