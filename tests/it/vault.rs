//! A root key in Vault's transit engine (`ROOT_KEY_SOURCE=vault-transit`), against the
//! sandbox's Vault personality (no Vault or OpenBao server installs from the registries
//! this project builds from; the personality speaks Vault's documented paths and shapes):
//! moving a database's root key from `ENCRYPTION_KEY` into Vault, rotating data keys with it,
//! Vault rotating its own key, AppRole sign-in, and Vault being away. SQLite and PostgreSQL.

use crate::common;

use common::{env_vars, key_rows, open_api_key, set_wrapped, put_api_key, sandbox::Sandbox, Blank, TestApp, TEST_KEY};
use keyport::{
    on_db,
    server::{db::Db, keys, state::AppState},
};
use serde_json::json;

const ROOT_TOKEN: &str = "sandbox-vault-root-token";

on_both_backends!(
    moving_the_root_key_into_vault_rewraps_only_the_data_keys,
    vault_rotating_its_key_rewraps_on_the_next_start_and_another_key_takes_over;
    blank: approle_and_vault_away,
);

fn with_token(sandbox: &Sandbox) -> Vec<(&'static str, String)> {
    vec![("ROOT_KEY_SOURCE", "vault-transit".into()), ("VAULT_ADDR", sandbox.url("/vault")), ("VAULT_TOKEN", ROOT_TOKEN.into())]
}

/// Each data key's version and wrapped form, which Vault makes text (`vault:v1:…`).
async fn wrapped(db: &Db) -> Vec<(i32, String)> {
    key_rows(db).await.into_iter().map(|(v, _, w)| (v, String::from_utf8_lossy(&w.unwrap_or_default()).into_owned())).collect()
}

async fn ciphertexts(db: &Db) -> Vec<(Vec<u8>,)> {
    on_db!(db, |pool| sqlx::query_as("SELECT ciphertext FROM secrets ORDER BY ciphertext").fetch_all(pool).await).unwrap()
}

async fn vault_admin(sandbox: &Sandbox, path: &str, body: serde_json::Value) {
    let r = reqwest::Client::new().post(sandbox.url(&format!("/vault/v1/transit/keys/keyport/{path}"))).header("X-Vault-Token", ROOT_TOKEN).json(&body).send().await.unwrap();
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
}

async fn moving_the_root_key_into_vault_rewraps_only_the_data_keys(app: TestApp) {
    let sandbox = Sandbox::start(&[]).await;
    let id = put_api_key(&app, "Survivor", "sealed-under-the-local-root").await;
    common::rotate(&app).await;
    let before = ciphertexts(&app.db).await;
    let vault = with_token(&sandbox);

    // Vault's key does not open what ENCRYPTION_KEY wrapped; the sentence says what to set.
    let refused = AppState::prepare(app.config_with(&env_vars(&vault, &[]))).await.err().unwrap();
    assert!(refused.contains("does not unwrap data key v1") && refused.contains("ENCRYPTION_KEY_PREVIOUS"), "{refused}");
    // With the old key as ENCRYPTION_KEY_PREVIOUS for one start, Vault wraps both data keys.
    let moved = app.reopen(&env_vars(&vault, &[("ENCRYPTION_KEY_PREVIOUS", TEST_KEY)])).await;
    let rows = wrapped(&app.db).await;
    assert!(rows.iter().all(|(_, w)| w.starts_with("vault:v1:")), "{rows:?}");
    assert_eq!(ciphertexts(&app.db).await, before, "O(keys): no secret was touched");
    assert_eq!(open_api_key(&moved, id).await, "sealed-under-the-local-root");

    // From now on Vault alone; no ENCRYPTION_KEY at all, and the local root is refused.
    let only_vault = app.reopen(&env_vars(&vault, &[])).await;
    assert_eq!(open_api_key(&only_vault, id).await, "sealed-under-the-local-root");
    let (_, panel) = only_vault.get_json("/api/keys").await;
    assert_eq!(panel["root_source"], format!("Vault transit key transit/keyport at {}", sandbox.url("/vault")), "{panel}");
    assert_eq!(panel["root_check_value"], "");
    assert!(!panel.to_string().contains(ROOT_TOKEN) && !panel.to_string().contains("vault:v1:"), "neither token nor wrapped key is shown");
    let local = AppState::prepare(app.config_with(&[("ENCRYPTION_KEY", TEST_KEY)])).await.err().unwrap();
    assert!(local.starts_with("ENCRYPTION_KEY does not unwrap data key v1"), "{local}");

    // Rotate with the root in Vault; a second instance loads the new key through Vault.
    let second = app.reopen(&env_vars(&vault, &[])).await;
    let (status, job) = only_vault.post_json("/api/keys/rotate", json!({"from": 2})).await;
    assert_eq!(status, 201, "{job}");
    assert!(wrapped(&app.db).await[2].1.starts_with("vault:v1:"));
    let after = put_api_key(&only_vault, "After", "sealed-with-v3").await;
    assert_eq!(open_api_key(&second, after).await, "sealed-with-v3", "loaded on demand, unwrapped by Vault");
    assert_eq!(second.state.keyring.current_version(), 3);

    // A wrapped key copied into another version's row does not unwrap (associated data).
    let rows = wrapped(&app.db).await;
    let (v2, v3) = (rows[1].1.clone(), rows[2].1.clone());
    set_wrapped(&app.db, 3, v2.as_bytes()).await;
    let swapped = AppState::prepare(app.config_with(&env_vars(&vault, &[]))).await.err().unwrap();
    assert!(swapped.contains("does not unwrap data key v3"), "{swapped}");
    set_wrapped(&app.db, 3, v3.as_bytes()).await;
}

/// Vault rotates its transit key: the next start rewraps the data keys under the new
/// version, so the operator can then stop the old one decrypting. Then a move to another
/// transit key.
async fn vault_rotating_its_key_rewraps_on_the_next_start_and_another_key_takes_over(app: TestApp) {
    let sandbox = Sandbox::start(&[]).await;
    let vault = with_token(&sandbox);
    let id = put_api_key(&app, "Kept", "through-two-vault-keys").await;
    app.reopen(&env_vars(&vault, &[("ENCRYPTION_KEY_PREVIOUS", TEST_KEY)])).await;
    vault_admin(&sandbox, "rotate", json!({})).await;
    let restarted = app.reopen(&env_vars(&vault, &[])).await;
    assert!(wrapped(&app.db).await.iter().all(|(_, w)| w.starts_with("vault:v2:")), "rewrapped under Vault's v2");
    vault_admin(&sandbox, "config", json!({"min_decryption_version": 2})).await;
    let strict = app.reopen(&env_vars(&vault, &[])).await;
    assert_eq!((open_api_key(&restarted, id).await, open_api_key(&strict, id).await), ("through-two-vault-keys".into(), "through-two-vault-keys".into()));

    // Another transit key: refused alone, rewrapped with the old one named beside it.
    let refused = AppState::prepare(app.config_with(&env_vars(&vault, &[("VAULT_TRANSIT_KEY", "keyport-2")]))).await.err().unwrap();
    assert!(refused.contains("Vault transit key transit/keyport-2") && refused.contains("VAULT_TRANSIT_KEY_PREVIOUS"), "{refused}");
    app.reopen(&env_vars(&vault, &[("VAULT_TRANSIT_KEY", "keyport-2"), ("VAULT_TRANSIT_KEY_PREVIOUS", "keyport")])).await;
    let moved = app.reopen(&env_vars(&vault, &[("VAULT_TRANSIT_KEY", "keyport-2")])).await;
    assert_eq!(open_api_key(&moved, id).await, "through-two-vault-keys");
    assert!(AppState::prepare(app.config_with(&env_vars(&vault, &[]))).await.is_err(), "the old transit key no longer opens them");
}

/// A new database whose root key is in Vault from the start, signing in with AppRole: no
/// `ENCRYPTION_KEY` anywhere; a revoked token signs in again; Vault away at start-up, during
/// Rotate and during another instance's refresh.
async fn approle_and_vault_away(blank: Blank) {
    let sandbox = Sandbox::start(&[]).await;
    let addr = sandbox.url("/vault");
    let approle = [("ROOT_KEY_SOURCE", "vault-transit"), ("VAULT_ADDR", addr.as_str()), ("VAULT_ROLE_ID", "keyport-sandbox-role"), ("VAULT_SECRET_ID", "keyport-sandbox-secret")];
    let app = blank.serve_with(&approle).await;
    let id = put_api_key(&app, "New", "sealed-under-a-random-v1").await;
    assert!(wrapped(&app.db).await[0].1.starts_with("vault:v1:"));

    let mut wrong = approle.to_vec();
    wrong[3] = ("VAULT_SECRET_ID", "not-the-secret");
    let refused = AppState::prepare(app.config_with(&wrong)).await.err().unwrap();
    assert!(refused.contains("AppRole login to Vault failed") && refused.contains("invalid role or secret ID"), "{refused}");
    assert!(!refused.contains("not-the-secret"));

    // The token is revoked in Vault: the next call signs in again and goes through.
    sandbox.revoke_all().await;
    let (status, job) = app.post_json("/api/keys/rotate", json!({"from": 1})).await;
    assert_eq!(status, 201, "{job}");

    // Vault answers 500: Rotate says so and changes nothing.
    sandbox.fault("vault", "500", 1, 0).await;
    let (status, body) = app.post_json("/api/keys/rotate", json!({"from": 2})).await;
    assert_eq!(status, 503, "{body}");
    assert!(body["error"]["message"].as_str().unwrap().contains("Vault answered 500 to encrypt"), "{body}");
    assert_eq!(wrapped(&app.db).await.len(), 2);

    // Another instance keeps the keys it holds while Vault is away, and catches up after.
    let second = app.reopen(&approle).await;
    let (status, _) = app.post_json("/api/keys/rotate", json!({"from": 2})).await;
    assert_eq!(status, 201);
    let newer = put_api_key(&app, "Newer", "sealed-with-v3").await;
    // Meanwhile a secret under the key it cannot load is neither opened nor taken for one
    // that does not decrypt: the page shows what was known, a use is refused with 503.
    sandbox.fault("vault", "500", 1, 0).await;
    let (status, body) = second.get_json(&format!("/api/platforms/{newer}/credentials")).await;
    assert_eq!((status, body["credentials"]["secrets"][0]["readable"].as_bool()), (200, Some(true)), "{body}");
    let refused = keyport::server::secrets::resolve(&second.db, &second.state.keyring, newer, keyport::domain::SecretField::ApiKey).await.unwrap_err();
    assert!(matches!(&refused, keyport::domain::AppError::Unavailable { message } if message.contains("data key v3 cannot be loaded just now")), "{refused:?}");
    let (failing,): (i64,) = on_db!(&app.db, |pool| sqlx::query_as("SELECT count(*) FROM secrets WHERE decrypt_failed_at IS NOT NULL").fetch_one(pool).await).unwrap();
    assert_eq!(failing, 0, "nothing recorded as failing");
    sandbox.fault("vault", "500", 1, 0).await;
    assert!(!keys::refresh(&second.db, &second.state.keyring).await.unwrap(), "nothing installed");
    assert_eq!((second.state.keyring.current_version(), open_api_key(&second, id).await.as_str()), (2, "sealed-under-a-random-v1"));
    assert!(keys::refresh(&second.db, &second.state.keyring).await.unwrap());
    assert_eq!(second.state.keyring.current_version(), 3);
    assert_eq!(open_api_key(&second, newer).await, "sealed-with-v3");

    // Vault away at start-up: a clear refusal, not a half-open keyring.
    sandbox.fault("vault", "500", 1, 0).await;
    let away = AppState::prepare(app.config_with(&approle)).await.err().unwrap();
    assert!(away.contains("cannot be used: Vault answered 500 to decrypt"), "{away}");
}


/// `keyport keys status` with the root key in Vault: the key and server named, no check
/// value, no token; a new SQLite database made from the command line alone.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keys_status_names_the_vault_key_and_never_the_token() {
    let sandbox = Sandbox::start(&[]).await;
    let dir = tempfile::tempdir().unwrap();
    let addr = sandbox.url("/vault");
    let env = [("ROOT_KEY_SOURCE", "vault-transit"), ("VAULT_ADDR", addr.as_str()), ("VAULT_TOKEN", ROOT_TOKEN)];
    let out = crate::startup::keyport(dir.path(), &env).args(["keys", "status"]).output().unwrap();
    let (stdout, stderr) = (String::from_utf8(out.stdout).unwrap(), String::from_utf8(out.stderr).unwrap());
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert_eq!(stdout.lines().next(), Some(format!("root key: Vault transit key transit/keyport at {addr}").as_str()), "{stdout}");
    assert!(stdout.lines().any(|l| l.starts_with("v1") && l.contains("Active")), "{stdout}");
    assert!(!stdout.contains(ROOT_TOKEN) && !stderr.contains(ROOT_TOKEN));
}
