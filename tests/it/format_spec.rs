//! docs/encryption.md is precise enough for an independent implementation: a Python
//! program written from it unwraps the data key with the root key derived from
//! ENCRYPTION_KEY, decrypts what Keyport stored with it, and rejects a moved ciphertext.

use crate::common;

use common::TestApp;
use reqwest::Method;
use serde_json::json;
use std::process::Command;

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The wrapped data key the envelope's header names, as stored.
async fn wrapped_key(app: &TestApp, envelope: &[u8]) -> Vec<u8> {
    let version = keyport::server::crypto::Keyring::key_version_of(envelope).unwrap() as i32;
    let (wrapped,): (Vec<u8>,) =
        keyport::on_db!(&app.db, |pool| sqlx::query_as("SELECT wrapped FROM encryption_keys WHERE version = $1").bind(version).fetch_one(pool).await).unwrap();
    wrapped
}

async fn python_decrypt(app: &TestApp, envelope: &[u8], owner_id: &str, field: &str) -> std::process::Output {
    python_decrypt_in(app, envelope, owner_id, field, "secrets").await
}

async fn python_decrypt_in(app: &TestApp, envelope: &[u8], owner_id: &str, field: &str, table: &str) -> std::process::Output {
    let wrapped = wrapped_key(app, envelope).await;
    Command::new("python3")
        .arg(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/independent_decrypt.py"))
        .args([&hex(envelope), &hex(&wrapped), common::TEST_KEY, owner_id, field, table])
        .output()
        .expect("python3 runs (scripts/setup.sh installs the cryptography package)")
}

#[tokio::test]
async fn python_decrypts_a_stored_secret_from_the_documented_format() {
    let app = TestApp::sqlite().await;
    // After a rotation, so the data key is a random one, not anything in the environment.
    common::rotate(&app).await;
    let secret = "xoxb-1234-independent-check-ünïcode";
    let p = app.create_platform(json!({"name": "Slack", "auth_type": "bearer", "category": "communication"})).await;
    let id = p["id"].as_str().unwrap();
    let (status, _) = app.send_json(Method::PUT, &format!("/api/platforms/{id}/secrets/access_token"), json!({"value": secret})).await;
    assert_eq!(status, 200);
    let (envelope,): (Vec<u8>,) =
        keyport::on_db!(&app.db, |pool| sqlx::query_as("SELECT ciphertext FROM secrets").fetch_one(pool).await).unwrap();

    assert_eq!(keyport::server::crypto::Keyring::key_version_of(&envelope), Some(2));
    let out = python_decrypt(&app, &envelope, id, "access_token").await;
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(String::from_utf8(out.stdout).unwrap(), secret);

    let moved = python_decrypt(&app, &envelope, id, "refresh_token").await;
    assert!(!moved.status.success(), "the AAD binds the field");
    assert!(String::from_utf8_lossy(&moved.stderr).contains("InvalidTag"));
}

/// An account's token is bound to the account (`accounts|…|{account id}`), not to its platform.
#[tokio::test]
async fn python_decrypts_an_account_token_only_in_the_accounts_slot() {
    let app = TestApp::sqlite().await;
    let token = "account-token-independent-check";
    let file = json!([{"name": "Imported", "auth_type": "oauth2", "api_config": {"access_token": token}}]);
    let report = keyport::server::import::run(&app.state, &keyport::server::auth::Caller::default(), file.to_string().as_bytes(), |_, _| {}).await.unwrap();
    assert_eq!(report.problems, []);
    let (envelope, account, platform): (Vec<u8>, uuid::Uuid, uuid::Uuid) = keyport::on_db!(&app.db, |pool| {
        sqlx::query_as("SELECT ciphertext, account_id, platform_id FROM secrets WHERE field = 'access_token'").fetch_one(pool).await
    })
    .unwrap();

    let out = python_decrypt_in(&app, &envelope, &account.to_string(), "access_token", "accounts").await;
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(String::from_utf8(out.stdout).unwrap(), token);
    let as_platform = python_decrypt(&app, &envelope, &platform.to_string(), "access_token").await;
    assert!(!as_platform.status.success(), "an account's token is not its platform's");
}
