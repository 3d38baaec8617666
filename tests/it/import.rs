//! `keyport import` and the import form: the older Medusa-style store's platforms, with
//! plaintext and `{encrypted, iv, authTag, keyVersion}` tokens, land encrypted in Keyport's
//! own format with a report — and no plaintext reaches the database. SQLite and PostgreSQL.

use crate::common;

use aes_gcm::{
    aead::{array::Array, AeadInOut, KeyInit},
    aes::{cipher::consts::{U12, U16}, Aes256},
    AesGcm,
};
use base64::{engine::general_purpose::STANDARD, Engine};
use common::{contains, TestApp, TEST_KEY};
use keyport::{
    domain::{AttentionAction, SecretField},
    on_db,
    server::{attention, auth::Caller, import, secrets},
};
use serde_json::{json, Value};

/// Legacy v1 as Node apps keep it (hex), v2 as base64.
const LEGACY_V1_HEX: &str = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";
const LEGACY_V2_B64: &str = "ICEiIyQlJicoKSorLC0uLzAxMjM0NTY3ODk6Ozw9Pj8=";

on_both_backends!(
    a_batch_lands_whole_and_a_second_run_imports_the_rest,
    imports_plaintext_and_legacy_ciphertext_and_stores_no_plaintext,
    reports_tampered_unknown_version_and_malformed_entries,
    a_file_that_is_not_a_list_of_platforms_imports_nothing,
);

async fn with_legacy_keys(app: &TestApp) -> TestApp {
    app.reopen(&[("ENCRYPTION_KEY", TEST_KEY), ("LEGACY_ENCRYPTION_KEY_V1", LEGACY_V1_HEX), ("LEGACY_ENCRYPTION_KEY_V2", LEGACY_V2_B64)]).await
}

/// Encrypts like the Node plugin: createCipheriv('aes-256-gcm', key, iv), no AAD.
fn legacy_seal(version: u32, iv_len: usize, plaintext: &str) -> Value {
    let key: [u8; 32] = match version {
        1 => core::array::from_fn(|i| i as u8),
        _ => STANDARD.decode(LEGACY_V2_B64).unwrap().try_into().unwrap(),
    };
    let iv: Vec<u8> = (0..iv_len as u8).map(|i| i.wrapping_mul(7)).collect();
    let mut buf = plaintext.as_bytes().to_vec();
    let tag = match iv_len {
        12 => AesGcm::<Aes256, U12>::new_from_slice(&key).unwrap().encrypt_inout_detached(&Array::try_from(&iv[..]).unwrap(), b"", buf.as_mut_slice().into()).unwrap(),
        _ => AesGcm::<Aes256, U16>::new_from_slice(&key).unwrap().encrypt_inout_detached(&Array::try_from(&iv[..]).unwrap(), b"", buf.as_mut_slice().into()).unwrap(),
    };
    json!({"encrypted": STANDARD.encode(&buf), "iv": STANDARD.encode(&iv), "authTag": STANDARD.encode(tag), "keyVersion": version})
}

/// Every byte the database keeps: the SQLite files themselves, or every row of every
/// table on PostgreSQL (as text).
async fn database_bytes(app: &TestApp) -> Vec<u8> {
    if let Some(path) = app.database_url.strip_prefix("sqlite://") {
        on_db!(&app.db, |pool| sqlx::query("PRAGMA wal_checkpoint(FULL)").execute(pool).await.map(|_| ())).unwrap();
        let mut all = Vec::new();
        for suffix in ["", "-wal", "-shm"] {
            all.extend(std::fs::read(format!("{path}{suffix}")).unwrap_or_default());
        }
        return all;
    }
    let mut all = Vec::new();
    for table in ["platforms", "secrets", "credentials", "audit_events", "sessions", "oauth_settings", "encryption_keys"] {
        let rows: Vec<(String,)> = on_db!(&app.db, |pool| sqlx::query_as(&format!("SELECT t::text FROM {table} t")).fetch_all(pool).await).unwrap();
        rows.into_iter().for_each(|(r,)| all.extend(r.into_bytes()));
    }
    all
}

/// The platform's secret: tokens are its (one, imported) account's.
async fn secret(app: &TestApp, name: &str, field: SecretField) -> Option<String> {
    let sql = "SELECT coalesce((SELECT a.id FROM accounts a WHERE a.platform_id = p.id), p.id) FROM platforms p WHERE p.name = $1";
    let (id,): (uuid::Uuid,) = on_db!(&app.db, |pool| sqlx::query_as(sql).bind(name).fetch_one(pool).await).unwrap();
    secrets::resolve_optional(&app.db, &app.state.keyring, id, field).await.unwrap().map(|s| secrecy::ExposeSecret::expose_secret(&s).to_owned())
}

async fn imports_plaintext_and_legacy_ciphertext_and_stores_no_plaintext(app: TestApp) {
    let app = with_legacy_keys(&app).await;
    let tokens = ["EAAG-plain-access-1234567890", "plain-refresh-4567890123", "IGQ-cipher-access-7890123456", "cipher-refresh-0001112223", "both-copies-access-99887766"];
    let file = json!([
        {"id": "plat_01", "name": "Facebook", "category": "social", "auth_type": "oauth2", "status": "active",
         "api_config": {"access_token": tokens[0], "refresh_token": tokens[1], "client_id": "1234"}},
        {"name": "Instagram", "category": "social",
         "api_config": {"access_token_encrypted": legacy_seal(1, 12, tokens[2]), "refresh_token_encrypted": legacy_seal(2, 16, tokens[3])}},
        {"name": "Both", "api_config": {"access_token": tokens[4], "access_token_encrypted": legacy_seal(1, 16, tokens[4])}},
    ]);
    let report = import::run(&app.state, &Caller::default(), file.to_string().as_bytes(), |_, _| {}).await.unwrap();
    assert_eq!(report.problems, []);
    assert_eq!((report.platforms_created, report.from_plaintext, report.from_ciphertext), (3, 2, 3));

    assert_eq!(secret(&app, "Facebook", SecretField::AccessToken).await.as_deref(), Some(tokens[0]));
    assert_eq!(secret(&app, "Facebook", SecretField::RefreshToken).await.as_deref(), Some(tokens[1]));
    assert_eq!(secret(&app, "Instagram", SecretField::AccessToken).await.as_deref(), Some(tokens[2]));
    assert_eq!(secret(&app, "Instagram", SecretField::RefreshToken).await.as_deref(), Some(tokens[3]));
    assert_eq!(secret(&app, "Both", SecretField::AccessToken).await.as_deref(), Some(tokens[4]));
    let (_, list) = app.get_json("/api/platforms?encryption=current").await;
    assert_eq!(list["count"], 3, "everything is in Keyport's format under the current key");

    // Plaintext that lay in the old store: flagged until re-authenticated.
    let flagged: Vec<String> = attention::page(&app.state, None)
        .await
        .unwrap()
        .items
        .into_iter()
        .filter(|i| i.reasons.iter().any(|r| r.contains("plaintext store")))
        .inspect(|i| assert_eq!(i.action, AttentionAction::Reauthenticate))
        .map(|i| i.name)
        .collect();
    assert_eq!(flagged, ["Both", "Facebook"]);

    let stored = database_bytes(&app).await;
    for token in tokens {
        assert!(!contains(&stored, token), "{token} is stored in plaintext");
    }
}

async fn reports_tampered_unknown_version_and_malformed_entries(app: TestApp) {
    let app = with_legacy_keys(&app).await;
    app.create_platform(json!({"name": "Existing"})).await;
    let mut tampered = legacy_seal(1, 12, "tampered-token-123456");
    let mut bytes = STANDARD.decode(tampered["encrypted"].as_str().unwrap()).unwrap();
    bytes[0] ^= 1;
    tampered["encrypted"] = json!(STANDARD.encode(bytes));
    let file = json!([
        {"name": "Tampered", "api_config": {"access_token_encrypted": tampered, "refresh_token": "ok-refresh-token-1"}},
        {"name": "Future", "api_config": {"access_token_encrypted": legacy_seal(1, 12, "x").as_object().unwrap().clone().into_iter().map(|(k, v)| if k == "keyVersion" { (k, json!(9)) } else { (k, v) }).collect::<serde_json::Map<_, _>>()}},
        {"name": "Broken", "api_config": {"access_token_encrypted": {"encrypted": "AAAA", "iv": "not base64!", "authTag": "AAAA", "keyVersion": 1}}},
        "not an object",
        {"name": "Odd", "category": "socialmedia"},
        {"name": "Existing", "api_config": {"access_token": "would-overwrite-0000"}},
    ]);
    let path = std::env::temp_dir().join(format!("keyport-import-{}.json", uuid::Uuid::now_v7().simple()));
    std::fs::write(&path, file.to_string()).unwrap();
    // Through the command line, as an operator runs it.
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_keyport"))
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("DATABASE_URL", &app.database_url)
        .env("ENCRYPTION_KEY", TEST_KEY)
        .env("LEGACY_ENCRYPTION_KEY_V1", LEGACY_V1_HEX)
        .env("RUST_LOG", "warn")
        .current_dir(std::env::temp_dir())
        .arg("import")
        .arg(&path)
        .output()
        .await
        .unwrap();
    std::fs::remove_file(&path).unwrap();
    let stdout = String::from_utf8(out.stdout).unwrap();
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert_eq!(out.status.code(), Some(2), "problems make a non-zero exit: {stdout}{stderr}");
    assert!(stdout.starts_with("3 platforms created; 0 secrets imported (0 from plaintext, 0 from ciphertext); 7 problems"), "{stdout}");
    for line in [
        "- Tampered (access_token): not imported: does not decrypt: tampered, or encrypted with another key",
        "- Tampered (refresh_token): not imported: a refresh token without its access token makes no account; connect the account instead",
        "- Future (access_token): not imported: unknown key version 9: set LEGACY_ENCRYPTION_KEY_V9",
        "- Broken (access_token): not imported: malformed: iv is not base64",
        "- entry 4: is not a JSON object",
        "- Odd: platform skipped: category: unknown category \"socialmedia\"",
        "- Existing: a platform with this name already exists: skipped (nothing changed)",
    ] {
        assert!(stdout.contains(line), "missing {line:?} in:\n{stdout}");
    }
    assert!(stderr.contains("7 problems (listed above)"), "{stderr}");
    assert_eq!(secret(&app, "Tampered", SecretField::AccessToken).await, None, "nothing stored for a tampered secret");
    assert_eq!(secret(&app, "Tampered", SecretField::RefreshToken).await, None, "a refresh token alone makes no account");
    assert_eq!(secret(&app, "Existing", SecretField::AccessToken).await, None, "an existing platform is left alone");
    assert!(!contains(&database_bytes(&app).await, "ok-refresh-token-1"));
}

async fn a_file_that_is_not_a_list_of_platforms_imports_nothing(app: TestApp) {
    let before = app.get_json("/api/platforms").await.1["count"].clone();
    for (file, reason) in [
        (&b"{\"name\": \"x\"}"[..], "the file must be a JSON array of platforms"),
        (b"[{\"name\": \"x\", \"api_config\": {\"access_token\": \"sec", "the file is not valid JSON (line 1, column 50)"),
        (b"[{\"name\": \" \"}]", "platform skipped: name: is required"),
    ] {
        let report = import::run(&app.state, &Caller::default(), file, |_, _| {}).await.unwrap();
        assert_eq!(report.problems.len(), 1);
        assert_eq!(report.problems[0].reason, reason);
        assert_eq!(report.platforms_created, 0);
    }
    assert_eq!(app.get_json("/api/platforms").await.1["count"], before);
}

/// The seed format: `n` platforms with an API key each, in plaintext.
fn api_key_export(n: usize) -> Vec<u8> {
    let entries: Vec<Value> = (0..n).map(|i| json!({"name": format!("Bulk {i:04}"), "category": "payment", "auth_type": "api_key", "api_config": {"api_key": format!("key-{i:04}")}})).collect();
    serde_json::to_vec(&entries).unwrap()
}

async fn a_batch_lands_whole_and_a_second_run_imports_the_rest(app: TestApp) {
    let total = import::BATCH + 100;
    // The key has room for one batch of encryptions only: the second batch is refused.
    let room = keyport::server::crypto::ENCRYPTIONS_REFUSE_AT - import::BATCH as i64;
    app.execute(&format!("UPDATE encryption_keys SET encryptions = {room}")).await;
    let mut seen = Vec::new();
    let report = import::run(&app.state, &Caller::default(), &api_key_export(total), |done, all| seen.push((done, all))).await.unwrap();
    assert_eq!((report.platforms_created, report.from_plaintext), (import::BATCH as u32, import::BATCH as u32));
    assert_eq!(seen, [(import::BATCH, total)], "progress after each batch written");
    let stop = &report.problems.last().unwrap().reason;
    assert!(stop.contains(&format!("stopped after entry {}", import::BATCH)) && stop.contains("importing the same file again"), "{stop}");
    assert!(stop.contains("the safe limit"), "the cause is named: {stop}");
    let (_, list) = app.get_json("/api/platforms?limit=1").await;
    assert_eq!(list["total"], import::BATCH, "nothing of the refused batch was written");

    app.execute("UPDATE encryption_keys SET encryptions = 0").await;
    let again = import::run(&app.state, &Caller::default(), &api_key_export(total), |_, _| {}).await.unwrap();
    assert_eq!(again.platforms_created, 100, "the rest");
    assert_eq!(again.problems.len(), import::BATCH, "the first batch's names are skipped, each named");
    assert!(again.problems[0].reason.contains("already exists"));
    assert_eq!(app.get_json("/api/platforms?limit=1").await.1["total"], total);
    assert_eq!(secret(&app, "Bulk 0549", SecretField::ApiKey).await.as_deref(), Some("key-0549"), "a secret of the second run opens");
}
