//! Data keys wrapped by a root key: Rotate with two instances running, two presses at once,
//! changing the root key, retiring, a database from before data keys, and the schedule.
//! SQLite and PostgreSQL.

use crate::common;

use common::{key_rows, open_api_key, put_api_key, rotate, Blank, TestApp, TEST_KEY};
use keyport::{
    domain::{KeyState, SecretField},
    on_db,
    server::{config::EncryptionKey, crypto::{Keyring, SecretSlot}, keys, rotation, secrets, state::AppState},
};
use serde_json::json;
use uuid::Uuid;

const NEW_ROOT: &str = "ICEiIyQlJicoKSorLC0uLzAxMjM0NTY3ODk6Ozw9Pj8=";

on_both_backends!(
    rotate_now_reaches_a_second_instance_without_a_restart,
    two_rotate_presses_at_once_make_one_key,
    a_new_root_key_rewraps_only_the_data_keys,
    a_key_is_retired_only_when_nothing_uses_it,
    the_schedule_rotates_an_old_key;
    blank: a_database_from_before_data_keys_is_brought_over,
);

async fn rotate_now_reaches_a_second_instance_without_a_restart(app: TestApp) {
    let before = put_api_key(&app, "Before", "sealed-with-v1").await;
    let second = app.reopen(&[("ENCRYPTION_KEY", TEST_KEY)]).await;
    let (status, job) = app.post_json("/api/keys/rotate", json!({"from": 1})).await;
    assert_eq!(status, 201, "{job}");
    assert_eq!((job["target_version"].as_u64(), job["total"].as_u64()), (Some(2), Some(1)));
    assert_eq!(app.state.keyring.current_version(), 2);

    // The second instance has not looked yet; its loop's next round (every
    // KEY_REFRESH_SECONDS) picks the key up, and from then on it seals with it.
    assert_eq!(second.state.keyring.current_version(), 1);
    assert!(keys::refresh(&second.db, &second.state.keyring).await.unwrap(), "the round found a change");
    let after = put_api_key(&second, "After", "sealed-with-v2").await;
    let (_, body) = second.get_json(&format!("/api/platforms/{after}/credentials")).await;
    assert_eq!(body["credentials"]["secrets"][0]["key_version"], 2, "{body}");
    assert_eq!((open_api_key(&second, before).await, open_api_key(&app, after).await), ("sealed-with-v1".into(), "sealed-with-v2".into()));

    // The job moves the old secret; then v1 can be retired, and both instances drop it.
    rotation::work(&app.state, Uuid::now_v7(), |_| {}).await.unwrap();
    let (status, _) = second.post_json("/api/keys/1/retire", json!(null)).await;
    assert_eq!(status, 204);
    keys::refresh(&app.db, &app.state.keyring).await.unwrap();
    for instance in [&app, &second] {
        assert_eq!(instance.state.keyring.versions().into_iter().map(|(v, _)| v).collect::<Vec<_>>(), [2]);
        assert_eq!(open_api_key(instance, before).await, "sealed-with-v1");
    }
    let rows = key_rows(&app.db).await;
    assert_eq!(rows.iter().map(|(v, s, w)| (*v, s.as_str(), w.is_some())).collect::<Vec<_>>(), [(1, "retired", false), (2, "active", true)]);
    let (_, panel) = app.get_json("/api/keys").await;
    assert_eq!(panel["current_version"], 2);
    assert_eq!(panel["root_source"], "ENCRYPTION_KEY (local)");
    assert!(!panel.to_string().contains(&hex(&rows[1].2.clone().unwrap())), "the wrapped key is not shown either");
}

async fn two_rotate_presses_at_once_make_one_key(app: TestApp) {
    put_api_key(&app, "Kept", "one-secret").await;
    let second = app.reopen(&[("ENCRYPTION_KEY", TEST_KEY)]).await;
    let (a, b) = tokio::join!(app.post_json("/api/keys/rotate", json!({"from": 1})), second.post_json("/api/keys/rotate", json!({"from": 1})));
    let mut statuses = [a.0, b.0];
    statuses.sort();
    assert_eq!(statuses, [201, 409], "{} / {}", a.1, b.1);
    let conflict = if a.0 == 409 { &a.1 } else { &b.1 };
    assert_eq!(conflict["error"]["code"], "conflict", "{conflict}");
    assert_eq!(key_rows(&app.db).await.len(), 2, "one new key");
    let (_, panel) = second.get_json("/api/keys").await;
    assert_eq!(panel["current_version"], 2, "the loser sees the winner's key");
    // A press that names a key that is no longer active rotates nothing.
    let (status, body) = app.post_json("/api/keys/rotate", json!({"from": 1})).await;
    assert_eq!(status, 409, "{body}");
    assert!(body["error"]["message"].as_str().unwrap().contains("v1 is no longer the active key (v2 is)"), "{body}");
    assert_eq!(key_rows(&app.db).await.len(), 2);
}

async fn a_new_root_key_rewraps_only_the_data_keys(app: TestApp) {
    let id = put_api_key(&app, "Survivor", "sealed-before-the-root-changed").await;
    rotate(&app).await;
    let second = put_api_key(&app, "Second", "sealed-with-v2").await;
    let secrets_before: Vec<(Vec<u8>,)> = on_db!(&app.db, |pool| sqlx::query_as("SELECT ciphertext FROM secrets ORDER BY ciphertext").fetch_all(pool).await).unwrap();
    let wrapped_before = key_rows(&app.db).await;

    // The new root alone is refused, with the sentence that says what to do.
    let refused = AppState::prepare(app.config_with(&[("ENCRYPTION_KEY", NEW_ROOT)])).await.err().unwrap();
    assert!(refused.starts_with("ENCRYPTION_KEY does not unwrap data key v1") && refused.contains("ENCRYPTION_KEY_PREVIOUS"), "{refused}");
    // Beside the old one, it rewraps the two data keys and nothing else.
    let rewrapped = app.reopen(&[("ENCRYPTION_KEY", NEW_ROOT), ("ENCRYPTION_KEY_PREVIOUS", TEST_KEY)]).await;
    let wrapped_after = key_rows(&app.db).await;
    for (before, after) in wrapped_before.iter().zip(&wrapped_after) {
        assert_eq!((before.0, &before.1), (after.0, &after.1));
        assert_ne!(before.2, after.2, "v{} is wrapped anew", before.0);
    }
    let secrets_after: Vec<(Vec<u8>,)> = on_db!(&app.db, |pool| sqlx::query_as("SELECT ciphertext FROM secrets ORDER BY ciphertext").fetch_all(pool).await).unwrap();
    assert_eq!(secrets_before, secrets_after, "O(keys): no secret was touched");
    assert_eq!(open_api_key(&rewrapped, id).await, "sealed-before-the-root-changed");

    // The restart with the new root alone; the old root is now refused in turn.
    let only_new = app.reopen(&[("ENCRYPTION_KEY", NEW_ROOT)]).await;
    assert_eq!((open_api_key(&only_new, id).await, open_api_key(&only_new, second).await), ("sealed-before-the-root-changed".into(), "sealed-with-v2".into()));
    assert_eq!(only_new.state.keyring.current_version(), 2);
    let old_root = AppState::prepare(app.config_with(&[("ENCRYPTION_KEY", TEST_KEY)])).await.err().unwrap();
    assert!(old_root.starts_with("ENCRYPTION_KEY does not unwrap data key v1"), "{old_root}");
}

async fn a_key_is_retired_only_when_nothing_uses_it(app: TestApp) {
    let id = put_api_key(&app, "Holder", "keeps-v1-busy").await;
    rotate(&app).await;
    let retire = |version: &str| {
        let path = format!("/api/keys/{version}/retire");
        let app = &app;
        async move { app.post_json(&path, json!(null)).await }
    };
    let (status, body) = retire("1").await;
    assert_eq!(status, 409, "{body}");
    assert_eq!(body["error"]["fields"][0]["message"], "1 secret still uses v1: re-encrypt them to the active key first");
    let (status, body) = retire("2").await;
    assert_eq!((status, body["error"]["fields"][0]["message"].as_str()), (409, Some("v2 is the active key: rotate to a new key first")));
    assert_eq!(retire("9").await.0, 404);
    let (status, body) = retire("two").await;
    assert_eq!((status, body["error"]["fields"][0]["field"].as_str()), (400, Some("version")));
    let marketer = app.client_as(keyport::domain::Role::Marketer).await;
    assert_eq!(marketer.post(app.url("/api/keys/1/retire")).send().await.unwrap().status(), 403, "admins only");

    rotation::work(&app.state, Uuid::now_v7(), |_| {}).await.unwrap();
    assert_eq!(retire("v1").await.0, 204);
    assert_eq!(retire("1").await.0, 404, "retired already");
    assert_eq!(open_api_key(&app, id).await, "keeps-v1-busy");
    // A write sealed with a retired key (an instance that had not seen the rotation) is
    // refused, not stored under a key nobody holds.
    let stale = Keyring::new(1, &[(1, EncryptionKey::from_bytes([9; 32]))].into_iter().collect());
    let written = keyport::server::store::secrets::put(&app.db, id, SecretField::ApiKey, 1, i64::MAX, || stale.seal(b"x", &SecretSlot::platform_secret(id, SecretField::ApiKey))).await;
    assert!(matches!(written, Err(keyport::server::store::StoreError::KeyRetired { version: 1 })), "{written:?}");
    let actions: Vec<(String,)> = on_db!(&app.db, |pool| sqlx::query_as("SELECT action FROM audit_events WHERE action LIKE 'key_%' ORDER BY at").fetch_all(pool).await).unwrap();
    assert_eq!(actions.into_iter().map(|a| a.0).collect::<Vec<_>>(), ["key_rotated", "key_retired"]);
}

async fn the_schedule_rotates_an_old_key(app: TestApp) {
    let scheduled = app.reopen(&[("ENCRYPTION_KEY", TEST_KEY), ("KEY_ROTATION_DAYS", "30"), ("KEY_REFRESH_SECONDS", "1")]).await;
    keys::round(scheduled.state.clone()).await;
    assert_eq!(key_rows(&app.db).await.len(), 1, "a new key is not due");
    let month_ago = chrono::Utc::now() - chrono::Duration::days(31);
    on_db!(&app.db, |pool| sqlx::query("UPDATE encryption_keys SET created_at = $1").bind(month_ago).execute(pool).await.map(|_| ())).unwrap();
    keys::round(scheduled.state.clone()).await;
    assert_eq!(scheduled.state.keyring.current_version(), 2);
    let (by,): (String,) = on_db!(&app.db, |pool| sqlx::query_as("SELECT actor FROM audit_events WHERE action = 'key_rotated'").fetch_one(pool).await).unwrap();
    assert!(by.contains("scheduled key rotation"), "{by}");
    keys::round(scheduled.state.clone()).await;
    assert_eq!(key_rows(&app.db).await.len(), 2, "the new key is not due again");
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A database from before data keys: its keys were the `ENCRYPTION_KEY*` variables. The
/// first start wraps them (the current one active) and every secret still opens; after
/// that the old variables can go.
async fn a_database_from_before_data_keys_is_brought_over(blank: Blank) {
    let db = blank.migrated_before("0028").await;
    // Two versions then: v1 (ENCRYPTION_KEY_V1 = TEST_KEY) and v2 current (NEW_ROOT).
    let (k1, k2) = (base64_32(TEST_KEY), base64_32(NEW_ROOT));
    let now = chrono::Utc::now();
    let (p1, p2) = (Uuid::now_v7(), Uuid::now_v7());
    on_db!(&db, |pool| {
        for (id, version, name, bytes) in [(p1, 1u32, "Under v1", k1), (p2, 2, "Under v2", k2)] {
            let keyring = Keyring::new(version, &[(version, EncryptionKey::from_bytes(bytes))].into_iter().collect());
            let check = keyring.versions()[0].1.clone();
            sqlx::query("INSERT INTO encryption_keys (version, check_value, encryptions, created_at) VALUES ($1, $2, 1, $3)").bind(version as i32).bind(check).bind(now).execute(pool).await.unwrap();
            sqlx::query("INSERT INTO platforms (id, name, category, auth_type, status, metadata, created_at, updated_at) VALUES ($1, $2, 'other', 'api_key', 'active', '{}', $3, $3)")
                .bind(id).bind(name).bind(now).execute(pool).await.unwrap();
            let sealed = keyring.seal(name.as_bytes(), &SecretSlot::platform_secret(id, SecretField::ApiKey));
            sqlx::query("INSERT INTO secrets (owner_id, platform_id, field, ciphertext, key_version, created_at, updated_at) VALUES ($1, $1, 'api_key', $2, $3, $4, $4)")
                .bind(id).bind(sealed).bind(version as i32).bind(now).execute(pool).await.unwrap();
        }
    });
    db.close().await;

    let app = blank.serve_with(&[("ENCRYPTION_KEY", NEW_ROOT), ("ENCRYPTION_KEY_VERSION", "2"), ("ENCRYPTION_KEY_V1", TEST_KEY)]).await;
    assert_eq!((open_api_key(&app, p1).await, open_api_key(&app, p2).await), ("Under v1".into(), "Under v2".into()));
    let rows = key_rows(&app.db).await;
    assert_eq!(rows.iter().map(|(v, s, w)| (*v, s.as_str(), w.is_some())).collect::<Vec<_>>(), [(1, "decrypt_only", true), (2, "active", true)]);
    // The old variables can go: the data keys are in the database now.
    let after = app.reopen(&[("ENCRYPTION_KEY", NEW_ROOT)]).await;
    assert_eq!((open_api_key(&after, p1).await, open_api_key(&after, p2).await), ("Under v1".into(), "Under v2".into()));
    let versions = secrets::key_versions(&after.db, &after.state.keyring).await.unwrap();
    assert_eq!(versions.iter().map(|v| (v.version, v.state, v.available)).collect::<Vec<_>>(), [(1, KeyState::DecryptOnly, true), (2, KeyState::Active, true)]);
    assert_eq!(rotate(&after).await.target_version, 3, "and Rotate goes on from there");
}

fn base64_32(text: &str) -> [u8; 32] {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.decode(text).unwrap().try_into().unwrap()
}
