//! A root key in AWS KMS (`ROOT_KEY_SOURCE=aws-kms`), through `aws-sdk-kms` against moto's
//! KMS (a real HTTP server that signs nothing but checks the encryption context): moving a
//! database's root key from `ENCRYPTION_KEY` into KMS, rotating with it, a wrapped key in
//! the wrong row, another KMS key and the move to it. SQLite and PostgreSQL.

use crate::common;

use common::{env_vars, key_rows, moto::Moto, set_wrapped, open_api_key, put_api_key, TestApp, TEST_KEY};
use keyport::{
    on_db,
    server::{db::Db, state::AppState},
};
use serde_json::{json, Value};

on_both_backends!(moving_the_root_key_into_aws_kms_rewraps_only_the_data_keys);

/// A new symmetric key in moto's KMS (`TrentService.CreateKey`, AWS JSON 1.1).
async fn create_key(moto: &Moto) -> String {
    let answer: Value = reqwest::Client::new()
        .post(&moto.base)
        .header("X-Amz-Target", "TrentService.CreateKey")
        .header("Content-Type", "application/x-amz-json-1.1")
        .header("Authorization", "AWS4-HMAC-SHA256 Credential=testing/20261205/us-east-1/kms/aws4_request, SignedHeaders=host, Signature=0")
        .body("{}")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    answer["KeyMetadata"]["KeyId"].as_str().unwrap().to_owned()
}

async fn wrapped(db: &Db) -> Vec<Vec<u8>> {
    key_rows(db).await.into_iter().map(|(_, _, w)| w.unwrap_or_default()).collect()
}

async fn moving_the_root_key_into_aws_kms_rewraps_only_the_data_keys(app: TestApp) {
    let Some(moto) = Moto::start().await else { return };
    let (key, other_key) = (create_key(&moto).await, create_key(&moto).await);
    let kms = |key_id: &str| -> Vec<(&'static str, String)> {
        [("ROOT_KEY_SOURCE", "aws-kms"), ("AWS_REGION", "us-east-1"), ("AWS_ACCESS_KEY_ID", "testing"), ("AWS_SECRET_ACCESS_KEY", "testing")]
            .into_iter()
            .map(|(k, v)| (k, v.to_owned()))
            .chain([("AWS_ENDPOINT_URL_KMS", moto.base.clone()), ("AWS_KMS_KEY_ID", key_id.to_owned())])
            .collect()
    };

    let id = put_api_key(&app, "Survivor", "sealed-under-the-local-root").await;
    common::rotate(&app).await;
    let before: Vec<(Vec<u8>,)> = on_db!(&app.db, |pool| sqlx::query_as("SELECT ciphertext FROM secrets").fetch_all(pool).await).unwrap();

    let with_key = kms(&key);
    let refused = AppState::prepare(app.config_with(&env_vars(&with_key, &[]))).await.err().unwrap();
    assert!(refused.contains(&format!("the root key (AWS KMS key {key} in us-east-1) does not unwrap data key v1")) && refused.contains("ENCRYPTION_KEY_PREVIOUS"), "{refused}");
    let moved = app.reopen(&env_vars(&with_key, &[("ENCRYPTION_KEY_PREVIOUS", TEST_KEY)])).await;
    let rows = wrapped(&app.db).await;
    assert!(rows.iter().all(|w| w.len() > 60), "KMS ciphertext blobs, not the local 60-byte form");
    let after: Vec<(Vec<u8>,)> = on_db!(&app.db, |pool| sqlx::query_as("SELECT ciphertext FROM secrets").fetch_all(pool).await).unwrap();
    assert_eq!(before, after, "O(keys): no secret was touched");
    assert_eq!(open_api_key(&moved, id).await, "sealed-under-the-local-root");

    // KMS alone from now on: no ENCRYPTION_KEY; Rotate wraps the new key through KMS.
    let only_kms = app.reopen(&env_vars(&with_key, &[])).await;
    let (_, panel) = only_kms.get_json("/api/keys").await;
    assert_eq!(panel["root_source"], format!("AWS KMS key {key} in us-east-1"), "{panel}");
    assert!(!panel.to_string().contains("testing"), "no credential on the panel");
    let (status, job) = only_kms.post_json("/api/keys/rotate", json!({"from": 2})).await;
    assert_eq!(status, 201, "{job}");
    let second = app.reopen(&env_vars(&with_key, &[])).await;
    let new = put_api_key(&only_kms, "After", "sealed-with-v3").await;
    assert_eq!((open_api_key(&second, new).await, open_api_key(&second, id).await), ("sealed-with-v3".into(), "sealed-under-the-local-root".into()));

    // The encryption context binds each wrapped key to its version's row.
    let rows = wrapped(&app.db).await;
    set_wrapped(&app.db, 3, &rows[1]).await;
    let swapped = AppState::prepare(app.config_with(&env_vars(&with_key, &[]))).await.err().unwrap();
    assert!(swapped.contains("does not unwrap data key v3"), "{swapped}");
    set_wrapped(&app.db, 3, &rows[2]).await;
    // Another KMS key does not open them (moto answers AccessDenied where AWS answers
    // IncorrectKeyException); the start stops and says why.
    let other = AppState::prepare(app.config_with(&env_vars(&kms(&other_key), &[]))).await.err().unwrap();
    assert!(other.contains(&format!("AWS KMS key {other_key}")) && other.contains("Decrypt"), "{other}");

    // Moving to that other key: the old one named beside it for one start.
    let with_other = kms(&other_key);
    app.reopen(&env_vars(&with_other, &[("AWS_KMS_KEY_ID_PREVIOUS", &key)])).await;
    assert!(wrapped(&app.db).await.iter().zip(&rows).all(|(after, before)| after != before), "every data key rewrapped");
    let moved = app.reopen(&env_vars(&kms(&other_key), &[])).await;
    assert_eq!(open_api_key(&moved, id).await, "sealed-under-the-local-root");
    assert!(AppState::prepare(app.config_with(&env_vars(&with_key, &[]))).await.is_err(), "the old KMS key no longer opens them");
}
