//! docs/encryption.md is precise enough for an independent implementation: a Python
//! program written from it decrypts what Keyport stored, and rejects a moved ciphertext.

use crate::common;

use common::TestApp;
use reqwest::Method;
use serde_json::json;
use std::process::Command;

fn python_decrypt(envelope: &[u8], owner_id: &str, field: &str) -> std::process::Output {
    python_decrypt_in(envelope, owner_id, field, "secrets")
}

fn python_decrypt_in(envelope: &[u8], owner_id: &str, field: &str, table: &str) -> std::process::Output {
    let hex: String = envelope.iter().map(|b| format!("{b:02x}")).collect();
    Command::new("python3")
        .arg(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/independent_decrypt.py"))
        .args([&hex, common::TEST_KEY, owner_id, field, table])
        .output()
        .expect("python3 runs (scripts/setup.sh installs the cryptography package)")
}

#[tokio::test]
async fn python_decrypts_a_stored_secret_from_the_documented_format() {
    let app = TestApp::sqlite().await;
    let secret = "xoxb-1234-independent-check-ünïcode";
    let p = app.create_platform(json!({"name": "Slack", "auth_type": "bearer", "category": "communication"})).await;
    let id = p["id"].as_str().unwrap();
    let (status, _) = app.send_json(Method::PUT, &format!("/api/platforms/{id}/secrets/access_token"), json!({"value": secret})).await;
    assert_eq!(status, 200);
    let (envelope,): (Vec<u8>,) =
        keyport::on_db!(&app.db, |pool| sqlx::query_as("SELECT ciphertext FROM secrets").fetch_one(pool).await).unwrap();

    let out = python_decrypt(&envelope, id, "access_token");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(String::from_utf8(out.stdout).unwrap(), secret);

    let moved = python_decrypt(&envelope, id, "refresh_token");
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

    let out = python_decrypt_in(&envelope, &account.to_string(), "access_token", "accounts");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(String::from_utf8(out.stdout).unwrap(), token);
    let as_platform = python_decrypt(&envelope, &platform.to_string(), "access_token");
    assert!(!as_platform.status.success(), "an account's token is not its platform's");
}
