//! The encrypted credential store through the API, the pages and the resolver, on SQLite
//! and PostgreSQL: only ciphertext at rest, statuses out, tampering detected.

use crate::common;

use common::TestApp;
use keyport::{
    server_fns::credentials::SetSecret,
    domain::{AppError, KeyState, SecretField},
    server::{auth::Caller, import, integrity, secrets, state::AppState},
};
use leptos::server_fn::ServerFn;
use reqwest::Method;
use secrecy::ExposeSecret;
use serde_json::{json, Value};
use uuid::Uuid;

/// A token planted in requests and searched for in every response and in the database.
const PLANTED: &str = "sk_live_PLANTED_4f9a2c_do_not_leak";
const KEY_V1: &str = common::TEST_KEY;
const KEY_V2: &str = "ICEiIyQlJicoKSorLC0uLzAxMjM0NTY3ODk6Ozw9Pj8=";

on_both_backends!(
    stores_an_api_key_as_ciphertext_and_shows_only_its_status,
    replacing_a_secret_keeps_one_row_and_counts_each_encryption,
    deleting_a_platform_deletes_its_secrets,
    rejects_secrets_that_do_not_fit_the_platform,
    a_ciphertext_moved_to_another_platform_fails_to_decrypt,
    the_list_opens_no_secret_and_the_integrity_sweep_finds_a_tampered_one,
    the_kept_list_counts_match_a_recount_after_every_kind_of_write,
    old_key_versions_still_decrypt_after_rotation,
    a_wrong_root_key_refuses_to_start,
    refuses_to_encrypt_once_a_key_reached_its_limit,
    planted_secret_never_appears_in_pages_or_responses,
    basic_auth_form_stores_password_and_username,
);

async fn platform(app: &TestApp, name: &str, auth_type: &str) -> Uuid {
    let p = app.create_platform(json!({"name": name, "auth_type": auth_type, "category": "payment"})).await;
    p["id"].as_str().unwrap().parse().unwrap()
}

async fn put_secret(app: &TestApp, id: Uuid, field: &str, body: Value) -> (u16, Value) {
    app.send_json(Method::PUT, &format!("/api/platforms/{id}/secrets/{field}"), body).await
}

async fn encryption_of(app: &TestApp, id: Uuid) -> Value {
    app.get_json(&format!("/api/platforms/{id}")).await.1["platform"]["encryption"].clone()
}

/// Every stored ciphertext, raw from the database.
async fn stored_ciphertexts(app: &TestApp) -> Vec<(Uuid, String, Vec<u8>)> {
    keyport::on_db!(&app.db, |pool| sqlx::query_as("SELECT platform_id, field, ciphertext FROM secrets").fetch_all(pool).await)
        .unwrap()
}

async fn stores_an_api_key_as_ciphertext_and_shows_only_its_status(app: TestApp) {
    let id = platform(&app, "Stripe", "api_key").await;
    assert_eq!(encryption_of(&app, id).await, json!({"state": "none", "key_version": null}));

    let (status, body) = put_secret(&app, id, "api_key", json!({"value": PLANTED})).await;
    assert_eq!(status, 200, "{body}");
    let secret = &body["credentials"]["secrets"][0];
    assert_eq!((secret["field"].as_str(), secret["key_version"].as_u64()), (Some("api_key"), Some(1)));
    assert_eq!((secret["current_key"].as_bool(), secret["readable"].as_bool()), (Some(true), Some(true)));
    assert!(!body.to_string().contains(PLANTED));
    assert_eq!(encryption_of(&app, id).await, json!({"state": "current", "key_version": 1}));

    let rows = stored_ciphertexts(&app).await;
    assert_eq!(rows.len(), 1);
    let (row_id, field, ciphertext) = &rows[0];
    assert_eq!((row_id, field.as_str()), (&id, "api_key"));
    assert_eq!(ciphertext.len(), 1 + 4 + 12 + PLANTED.len() + 16, "envelope format 1");
    assert_eq!(ciphertext[0], 1);
    assert!(!ciphertext.windows(PLANTED.len()).any(|w| w == PLANTED.as_bytes()), "no plaintext at rest");

    let resolved = secrets::resolve(&app.db, &app.state.keyring, id, SecretField::ApiKey).await.unwrap();
    assert_eq!(resolved.expose_secret(), PLANTED);
    let (_, current) = app.get_json("/api/platforms?encryption=current").await;
    assert_eq!(current["count"], 1);
    let (_, none) = app.get_json("/api/platforms?encryption=none").await;
    assert_eq!(none["count"], 0);
}

async fn replacing_a_secret_keeps_one_row_and_counts_each_encryption(app: TestApp) {
    let id = platform(&app, "Mailgun", "api_key").await;
    let before = key_encryptions(&app.state).await;
    put_secret(&app, id, "api_key", json!({"value": "first"})).await;
    let (status, _) = put_secret(&app, id, "api_key", json!({"value": "second"})).await;
    assert_eq!(status, 200);
    assert_eq!(stored_ciphertexts(&app).await.len(), 1);
    assert_eq!(key_encryptions(&app.state).await, before + 2);
    let resolved = secrets::resolve(&app.db, &app.state.keyring, id, SecretField::ApiKey).await.unwrap();
    assert_eq!(resolved.expose_secret(), "second");
    let response = app.client.delete(app.url(&format!("/api/platforms/{id}/secrets/api_key"))).send().await.unwrap();
    assert_eq!(response.status(), 204);
    let err = secrets::resolve(&app.db, &app.state.keyring, id, SecretField::ApiKey).await.unwrap_err();
    assert_eq!(err, AppError::Unavailable { message: "no API key is stored for this platform".into() });
}

async fn key_encryptions(state: &AppState) -> i64 {
    let usage = keyport::server::store::keys::usage(&state.db).await.unwrap();
    usage.iter().find(|k| k.version == 1).unwrap().encryptions
}

async fn deleting_a_platform_deletes_its_secrets(app: TestApp) {
    let id = platform(&app, "Twilio", "basic").await;
    let (status, body) = put_secret(&app, id, "password", json!({"value": PLANTED, "username": "ACbob"})).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["credentials"]["username"], "ACbob");
    let response = app.client.delete(app.url(&format!("/api/platforms/{id}"))).send().await.unwrap();
    assert_eq!(response.status(), 204);
    assert!(stored_ciphertexts(&app).await.is_empty());
    let (n,): (i64,) = keyport::on_db!(&app.db, |pool| sqlx::query_as("SELECT COUNT(*) FROM credentials").fetch_one(pool).await).unwrap();
    assert_eq!(n, 0);
}

async fn rejects_secrets_that_do_not_fit_the_platform(app: TestApp) {
    let id = platform(&app, "Shopify", "api_key").await;
    let cases = [
        ("password", json!({"value": "x"}), 422, "field", "holds no password; it holds api_key"),
        ("pin", json!({"value": "x"}), 400, "field", "unknown secret field"),
        ("api_key", json!({"value": ""}), 422, "value", "must not be empty"),
        ("api_key", json!({}), 400, "value", "missing field"),
        ("api_key", json!({"value": 5}), 400, "value", "invalid type"),
        ("api_key", json!({"value": "x".repeat(17 * 1024)}), 422, "value", "at most 16 KiB"),
        ("api_key", json!({"value": "x", "username": "bob"}), 422, "username", "only goes with a password"),
        ("api_key", json!({"value": "x", "extra": 1}), 400, "extra", "unknown field"),
    ];
    for (field, body, status, named, message) in cases {
        let (got, answer) = put_secret(&app, id, field, body.clone()).await;
        assert_eq!(got, status, "{field} {body}: {answer}");
        assert_eq!(answer["error"]["fields"][0]["field"], named, "{field} {body}: {answer}");
        assert!(answer["error"]["fields"][0]["message"].as_str().unwrap().contains(message), "{field} {body}: {answer}");
    }
    let (status, _) = put_secret(&app, Uuid::now_v7(), "api_key", json!({"value": "x"})).await;
    assert_eq!(status, 404);
    assert!(stored_ciphertexts(&app).await.is_empty(), "nothing was stored");
}

/// Platforms A and B with an API key each, then, as an attacker with database access
/// would, A's ciphertext copied onto B's row. Returns (A, B).
async fn b_holds_a_ciphertext_of_a(app: &TestApp) -> (Uuid, Uuid) {
    let a = platform(app, "A", "api_key").await;
    let b = platform(app, "B", "api_key").await;
    put_secret(app, a, "api_key", json!({"value": PLANTED})).await;
    put_secret(app, b, "api_key", json!({"value": "b's own key"})).await;
    let hex: String = stored_ciphertexts(app).await.into_iter().find(|r| r.0 == a).unwrap().2.iter().map(|b| format!("{b:02x}")).collect();
    app.execute(&format!("UPDATE secrets SET ciphertext = {} WHERE platform_id = {}", app.blob_literal(&hex), app.uuid_literal(b))).await;
    (a, b)
}

async fn a_ciphertext_moved_to_another_platform_fails_to_decrypt(app: TestApp) {
    let (a, b) = b_holds_a_ciphertext_of_a(&app).await;

    let err = secrets::resolve(&app.db, &app.state.keyring, b, SecretField::ApiKey).await.unwrap_err();
    assert!(err.to_string().contains("does not decrypt"), "{err}");
    assert_eq!(encryption_of(&app, b).await["state"], "failed");
    assert_eq!(encryption_of(&app, a).await["state"], "current");
    let (_, failed) = app.get_json("/api/platforms?encryption=failed").await;
    assert_eq!(failed["platforms"][0]["name"], "B");
    let html = app.page(&format!("/platforms/{b}")).await.text().await.unwrap();
    assert!(html.contains("Decryption failed (wrong key or tampered)"));
}

async fn the_list_opens_no_secret_and_the_integrity_sweep_finds_a_tampered_one(app: TestApp) {
    let (_, b) = b_holds_a_ciphertext_of_a(&app).await;
    let state_in_list = |list: &Value, name: &str| list["platforms"].as_array().unwrap().iter().find(|p| p["name"] == name).unwrap()["encryption"]["state"].clone();

    // The list draws badges from what is recorded: it opens nothing, so it cannot know yet.
    let (_, list) = app.get_json("/api/platforms").await;
    assert_eq!(state_in_list(&list, "B"), "current", "no list request decrypts");

    // Nothing is due within the period (a write counts as a check)...
    assert_eq!(integrity::sweep(&app.state).await.unwrap(), (0, 0));
    // ...and once the period has passed, the sweep opens both and records B's failure.
    app.execute("UPDATE secrets SET updated_at = '2000-01-01T00:00:00Z'").await;
    assert_eq!(integrity::sweep(&app.state).await.unwrap(), (2, 1));
    let (_, list) = app.get_json("/api/platforms").await;
    assert_eq!((state_in_list(&list, "A"), state_in_list(&list, "B")), ("current".into(), "failed".into()));
    let (_, failed) = app.get_json("/api/platforms?encryption=failed").await;
    assert_eq!(failed["platforms"].as_array().unwrap().len(), 1);
    let html = app.page("/platforms").await.text().await.unwrap();
    assert!(html.contains("Decryption failed (1)") && html.contains("Encrypted (current key) (1)"), "the grouped counts beside the filter");
    assert_eq!(integrity::sweep(&app.state).await.unwrap(), (0, 0), "each secret once per period");

    // A new value replaces the tampered one: the recorded failure was about the old one.
    put_secret(&app, b, "api_key", json!({"value": "b's new key"})).await;
    let (_, list) = app.get_json("/api/platforms").await;
    assert_eq!(state_in_list(&list, "B"), "current");
}

/// The counts the triggers keep (migration 0022) against a recount from the secrets
/// themselves, as the list computed them before it kept them.
async fn assert_counts_match_a_recount(app: &TestApp, after: &str) {
    type Row = (String, String, i32, i32, i64);
    let kept: Vec<Row> = keyport::on_db!(&app.db, |pool| sqlx::query_as(
        "SELECT category, status, key_min, failing, CAST(n AS BIGINT) FROM platform_facets WHERE n <> 0 ORDER BY 1, 2, 3, 4"
    ).fetch_all(pool).await).unwrap();
    let recounted: Vec<Row> = keyport::on_db!(&app.db, |pool| sqlx::query_as(
        "SELECT p.category, p.status, coalesce(s.oldest, 0), CASE WHEN s.failing > 0 THEN 1 ELSE 0 END, COUNT(*) \
         FROM platforms p LEFT JOIN (SELECT platform_id, MIN(key_version) AS oldest, \
             SUM(CASE WHEN decrypt_failed_at >= updated_at THEN 1 ELSE 0 END) AS failing FROM secrets GROUP BY platform_id) s \
         ON s.platform_id = p.id GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4"
    ).fetch_all(pool).await).unwrap();
    assert_eq!(kept, recounted, "after {after}");
}

async fn the_kept_list_counts_match_a_recount_after_every_kind_of_write(app: TestApp) {
    let (a, b) = b_holds_a_ciphertext_of_a(&app).await;
    let c = platform(&app, "C", "api_key").await;
    assert_counts_match_a_recount(&app, "creating platforms and secrets").await;
    // A batch in one statement per table (PostgreSQL's triggers run once per statement);
    // "C" is taken and skipped with its key.
    let export = json!([
        {"name": "C", "category": "payment", "auth_type": "api_key", "api_config": {"api_key": "skipped"}},
        {"name": "D", "category": "email", "auth_type": "api_key", "api_config": {"api_key": "d key"}},
        {"name": "E", "category": "email", "auth_type": "api_key"},
    ]);
    let report = import::run(&app.state, &Caller::default(), export.to_string().as_bytes(), |_, _| {}).await.unwrap();
    assert_eq!(report.platforms_created, 2);
    assert_counts_match_a_recount(&app, "importing a batch").await;
    put_secret(&app, c, "api_key", json!({"value": "c key"})).await;
    app.send_json(Method::PATCH, &format!("/api/platforms/{c}"), json!({"category": "crm", "status": "error"})).await;
    assert_counts_match_a_recount(&app, "moving a platform to another category and status").await;
    app.execute("UPDATE secrets SET updated_at = '2000-01-01T00:00:00Z'").await;
    assert_eq!(integrity::sweep(&app.state).await.unwrap(), (4, 1));
    assert_counts_match_a_recount(&app, "the sweep recording a failure").await;
    let (_, failed) = app.get_json("/api/platforms?encryption=failed").await;
    assert_eq!(failed["platforms"][0]["id"], b.to_string());
    let (status, _) = app.send_json(Method::DELETE, &format!("/api/platforms/{a}/secrets/api_key"), json!(null)).await;
    assert_eq!(status, 204);
    assert_counts_match_a_recount(&app, "deleting a secret").await;
    let (_, none) = app.get_json("/api/platforms?encryption=none").await;
    assert_eq!(none["platforms"][0]["id"], a.to_string(), "a platform whose last secret went has none");
    put_secret(&app, b, "api_key", json!({"value": "b's new key"})).await;
    assert_counts_match_a_recount(&app, "replacing the failing secret").await;
    common::rotate(&app).await;
    let rotated = &app;
    put_secret(rotated, a, "api_key", json!({"value": "under v2"})).await;
    let (_, old) = rotated.get_json("/api/platforms?encryption=old_key").await;
    assert_eq!(old["total"], 3, "B, C and D still use v1");
    assert_counts_match_a_recount(&rotated, "a secret under a new key").await;
    let (status, _) = rotated.send_json(Method::DELETE, &format!("/api/platforms/{c}"), json!(null)).await;
    assert_eq!(status, 204);
    assert_counts_match_a_recount(&rotated, "deleting a platform with its secrets").await;
    let html = rotated.page("/platforms").await.text().await.unwrap();
    assert!(html.contains("Encrypted with an old key (2)") && html.contains("Encrypted (current key) (1)"), "the counts beside the filter");
}

async fn old_key_versions_still_decrypt_after_rotation(app: TestApp) {
    let id = platform(&app, "Old", "bearer").await;
    put_secret(&app, id, "access_token", json!({"value": PLANTED})).await;
    // Another instance presses Rotate now; this one has not looked at the keys since.
    let other = app.reopen(&[("ENCRYPTION_KEY", KEY_V1)]).await;
    common::rotate(&other).await;
    let fresh = platform(&other, "New", "bearer").await;
    let (_, body) = put_secret(&other, fresh, "access_token", json!({"value": "new"})).await;
    assert_eq!(body["credentials"]["secrets"][0]["key_version"], 2);
    assert_eq!(app.state.keyring.current_version(), 1, "this instance has not looked yet");
    let resolved = secrets::resolve(&app.db, &app.state.keyring, fresh, SecretField::AccessToken).await.unwrap();
    assert_eq!(resolved.expose_secret(), "new", "a secret under a key it had not seen opens: it loads the key first");
    assert_eq!(app.state.keyring.current_version(), 2, "and seals with the new key from then on");
    assert_eq!(encryption_of(&app, id).await, json!({"state": "old_key", "key_version": 1}));
    let resolved = secrets::resolve(&app.db, &app.state.keyring, id, SecretField::AccessToken).await.unwrap();
    assert_eq!(resolved.expose_secret(), PLANTED);
    let (_, old) = app.get_json("/api/platforms?encryption=old_key").await;
    assert_eq!(old["count"], 1);
    let versions = secrets::key_versions(&app.db, &app.state.keyring).await.unwrap();
    let summary: Vec<_> = versions.iter().map(|v| (v.version, v.state, v.available, v.secrets)).collect();
    assert_eq!(summary, [(1, KeyState::DecryptOnly, true, 1), (2, KeyState::Active, true, 1)], "what `keyport keys status` prints");
}

async fn a_wrong_root_key_refuses_to_start(app: TestApp) {
    let err = AppState::prepare(app.config_with(&[("ENCRYPTION_KEY", KEY_V2)])).await.err().unwrap();
    assert_eq!(
        err,
        "ENCRYPTION_KEY does not unwrap data key v1: it is not the root key the data keys were wrapped with. Put back \
         the key it replaced, or keep the new one and set the one it replaced as ENCRYPTION_KEY_PREVIOUS so the data \
         keys are rewrapped (docs/encryption.md, \"Changing the root key\")."
    );
    let err = AppState::prepare(app.config_with(&[("ENCRYPTION_KEY", KEY_V2), ("ENCRYPTION_KEY_PREVIOUS", KEY_V2)])).await.err();
    assert!(err.is_some_and(|e| e.starts_with("neither ENCRYPTION_KEY nor ENCRYPTION_KEY_PREVIOUS unwraps data key v1")));
}

async fn refuses_to_encrypt_once_a_key_reached_its_limit(app: TestApp) {
    let id = platform(&app, "Busy", "api_key").await;
    app.execute(&format!("UPDATE encryption_keys SET encryptions = {} WHERE version = 1", 1i64 << 31)).await;
    let (status, body) = put_secret(&app, id, "api_key", json!({"value": "x"})).await;
    assert_eq!(status, 503, "{body}");
    assert!(body["error"]["message"].as_str().unwrap().contains("rotate"), "{body}");
    assert!(stored_ciphertexts(&app).await.is_empty());
    assert_eq!(key_encryptions(&app.state).await, 1i64 << 31, "the refused attempt is not counted");
}

async fn planted_secret_never_appears_in_pages_or_responses(app: TestApp) {
    let id = platform(&app, "Leaky", "api_key").await;
    // Through the form, as a browser without JS posts it.
    let response = app
        .browser
        .post(app.url(SetSecret::PATH))
        .header("accept", "text/html")
        .header("referer", app.url(&format!("/platforms/{id}")))
        .form(&[("id", id.to_string().as_str()), ("value", PLANTED)])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 302);
    let location = response.headers()["location"].to_str().unwrap().to_owned();
    assert_eq!(location, format!("/platforms/{id}?notice=secret_saved"));
    assert!(!response.text().await.unwrap().contains(PLANTED));
    // Through the server function as the hydrated app calls it.
    let response = app.browser.post(app.url(SetSecret::PATH)).form(&[("id", id.to_string().as_str()), ("value", PLANTED)]).send().await.unwrap();
    assert_eq!(response.status(), 200);
    assert!(!response.text().await.unwrap().contains(PLANTED));

    let base64 = {
        use base64::Engine;
        base64::engine::general_purpose::STANDARD.encode(PLANTED)
    };
    for path in [
        "/platforms".to_owned(),
        format!("/platforms/{id}"),
        format!("/platforms/{id}?notice=secret_saved"),
        format!("/platforms/{id}/edit"),
        "/api/platforms".to_owned(),
        format!("/api/platforms/{id}"),
        format!("/api/platforms/{id}/credentials"),
    ] {
        let response = if path.starts_with("/api/") { app.get(&path).await } else { app.page(&path).await };
        assert_eq!(response.status(), 200, "{path}");
        let body = response.text().await.unwrap();
        assert!(!body.contains(PLANTED) && !body.contains(&base64), "{path} leaks the secret");
        if path.starts_with("/platforms/") && !path.ends_with("edit") {
            assert!(body.contains("Encrypted (current key v1)"), "{path} shows the badge");
        }
    }
}

async fn basic_auth_form_stores_password_and_username(app: TestApp) {
    let id = platform(&app, "SMTP", "basic").await;
    let post = |fields: Vec<(&'static str, String)>| {
        app.browser.post(app.url(SetSecret::PATH)).header("accept", "text/html").header("referer", app.url(&format!("/platforms/{id}"))).form(&fields).send()
    };
    let response = post(vec![("id", id.to_string()), ("value", "pw".into()), ("username", " ".into())]).await.unwrap();
    let back = response.headers()["location"].to_str().unwrap().to_owned();
    assert!(back.contains("__err="), "a missing user name is refused: {back}");
    assert!(stored_ciphertexts(&app).await.is_empty());
    let response = post(vec![("id", id.to_string()), ("value", "pw".into()), ("username", "mailer".into())]).await.unwrap();
    assert_eq!(response.headers()["location"], format!("/platforms/{id}?notice=secret_saved").as_str());
    let (_, body) = app.get_json(&format!("/api/platforms/{id}/credentials")).await;
    assert_eq!(body["credentials"]["username"], "mailer");
    assert_eq!(body["credentials"]["secrets"][0]["field"], "password");
}
