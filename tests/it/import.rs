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
    the_import_api_streams_progress_then_the_report_and_runs_on_without_the_caller,
    a_server_shutting_down_stops_an_import_after_a_whole_batch,
    the_import_api_refuses_what_is_not_an_export_with_the_reason,
    hostile_entries_are_each_reported_and_the_import_goes_on,
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

/// The lines of an answer of `POST /api/imports`.
fn lines(body: &str) -> Vec<Value> {
    body.lines().map(|l| serde_json::from_str(l).unwrap()).collect()
}

/// SIGTERM during a web import: the batch being written lands whole, the import stops
/// there with a report that says so and how to go on, and shutdown waits for it.
async fn a_server_shutting_down_stops_an_import_after_a_whole_batch(app: TestApp) {
    let total = import::BATCH * 3;
    app.state.stopping.cancel();
    let answer = app.client.post(app.url("/api/imports")).header("content-type", "application/json").body(api_key_export(total)).send().await.unwrap();
    assert_eq!(answer.status(), 200);
    let all = lines(&answer.text().await.unwrap());
    let progress: Vec<(u64, u64)> = all.iter().filter_map(|l| Some((l["done"].as_u64()?, l["total"].as_u64()?))).collect();
    assert_eq!(progress, [(0, total as u64), (import::BATCH as u64, total as u64)]);
    let report = &all.last().unwrap()["report"];
    assert_eq!(report["platforms_created"], import::BATCH, "{report}");
    let reason = report["problems"][0]["reason"].as_str().unwrap();
    assert!(reason.starts_with(&format!("stopped after entry {}: the server was shutting down", import::BATCH)) && reason.contains("importing the same file again"), "{reason}");
    assert_eq!(app.get_json("/api/platforms?limit=1").await.1["total"], import::BATCH);
    let audited = keyport::server::audit::page(&app.db, Default::default(), None).await.unwrap().events;
    assert!(audited.iter().any(|e| e.action == "import" && e.detail.as_deref().is_some_and(|d| d.starts_with("500 platforms created"))), "the report is in the audit log");
    app.state.tasks.close();
    app.state.tasks.wait().await;
}

async fn the_import_api_streams_progress_then_the_report_and_runs_on_without_the_caller(app: TestApp) {
    let total = import::BATCH + 100;
    let mut file: Value = serde_json::from_slice(&api_key_export(total)).unwrap();
    file.as_array_mut().unwrap().push(json!({"name": "Nul\0here", "category": "payment", "auth_type": "api_key"}));
    let send = |file: Vec<u8>| app.client.post(app.url("/api/imports")).header("content-type", "application/json").header("accept-encoding", "gzip, br").body(file).send();
    let mut answer = send(serde_json::to_vec(&file).unwrap()).await.unwrap();
    assert_eq!(answer.status(), 200);
    assert_eq!(answer.headers()["content-type"], "application/x-ndjson");
    assert!(answer.headers().get("content-encoding").is_none(), "progress is not held back by compression");
    // The first line arrives while the batches are being written.
    let first = String::from_utf8(answer.chunk().await.unwrap().unwrap().to_vec()).unwrap();
    assert!(first.starts_with(&format!("{{\"done\":0,\"total\":{}}}\n", total + 1)), "{first}");
    assert!(!first.contains("report"), "the report comes last, not all at once: {first}");
    let rest = String::from_utf8(answer.bytes().await.unwrap().to_vec()).unwrap();
    let all = lines(&(first + &rest));
    let progress: Vec<(u64, u64)> = all.iter().filter_map(|l| Some((l["done"].as_u64()?, l["total"].as_u64()?))).collect();
    let total = total as u64 + 1;
    assert_eq!(progress, [(0, total), (import::BATCH as u64, total), (total, total)], "a line per batch");
    let report = &all.last().unwrap()["report"];
    assert_eq!((report["platforms_created"].as_u64(), report["from_plaintext"].as_u64()), (Some(total - 1), Some(total - 1)), "{report}");
    let problems = report["problems"].as_array().unwrap();
    assert_eq!(problems.len(), 1, "{report}");
    assert_eq!((problems[0]["platform"].as_str(), problems[0]["field"].as_str()), (Some("entry 601"), Some("name")));
    assert!(problems[0]["reason"].as_str().unwrap().contains("NUL"), "{report}");
    assert_eq!(secret(&app, "Bulk 0599", SecretField::ApiKey).await.as_deref(), Some("key-0599"));

    // A caller that hangs up after the first line: the import goes on to its end, and its
    // report is in the audit log.
    let file: Vec<Value> = (0..import::BATCH * 2).map(|i| json!({"name": format!("Later {i:04}"), "category": "crm", "auth_type": "api_key"})).collect();
    let mut answer = send(serde_json::to_vec(&file).unwrap()).await.unwrap();
    answer.chunk().await.unwrap();
    drop(answer);
    let reports = || async {
        let events = keyport::server::audit::page(&app.db, Default::default(), None).await.unwrap().events;
        events.into_iter().filter(|e| e.action == "import").filter_map(|e| e.detail).collect::<Vec<_>>()
    };
    let mut waited = 0;
    while !reports().await.iter().any(|d| d.starts_with("1000 platforms created")) {
        assert!(waited < 600, "the import did not finish after its caller left: {:?}", reports().await);
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        waited += 1;
    }
    assert_eq!(app.get_json("/api/platforms?q=Later&limit=1").await.1["total"], import::BATCH * 2);
}

async fn the_import_api_refuses_what_is_not_an_export_with_the_reason(app: TestApp) {
    let post = |client: reqwest::Client, kind: &'static str, body: Vec<u8>| {
        let url = app.url("/api/imports");
        async move { common::json_of(client.post(url).header("content-type", kind).body(body).send().await.unwrap()).await }
    };
    let json = "application/json";
    for (body, reason) in [
        (&b"{\"name\": \"x\"}"[..], "the file must be a JSON array of platforms"),
        (b"[{\"name\": \"x\"", "the file is not valid JSON (line 1, column 13)"),
        (b"", "the file is not valid JSON (line 1, column 0)"),
    ] {
        let (status, answer) = post(app.client.clone(), json, body.to_vec()).await;
        assert_eq!((status, answer["error"]["fields"][0]["field"].as_str(), answer["error"]["fields"][0]["message"].as_str()), (400, Some("body"), Some(reason)), "{answer}");
    }
    let (status, answer) = post(app.client.clone(), "text/plain", b"[]".to_vec()).await;
    assert_eq!((status, answer["error"]["fields"][0]["field"].as_str()), (415, Some("content-type")), "{answer}");
    let (status, answer) = post(app.client.clone(), json, vec![b' '; import::UPLOAD_MAX_BYTES + 1]).await;
    assert_eq!(status, 413, "{answer}");
    assert!(answer["error"]["message"].as_str().unwrap().contains("keyport import FILE"), "{answer}");
    let marketer = app.client_as(keyport::domain::Role::Marketer).await;
    assert_eq!(post(marketer, json, api_key_export(1)).await.0, 403, "admins only");
    assert_eq!(app.get_json("/api/platforms?limit=1").await.1["total"], 0, "nothing was imported");
}

/// Shapes no exporter writes, each in an entry of its own between good ones: every one is a
/// problem in the report (named), none stops the import or reaches the database.
async fn hostile_entries_are_each_reported_and_the_import_goes_on(app: TestApp) {
    let app = with_legacy_keys(&app).await;
    let sealed = |change: Value| {
        let mut s = legacy_seal(1, 12, "a-token-0001");
        s.as_object_mut().unwrap().extend(change.as_object().unwrap().clone());
        json!({"access_token_encrypted": s})
    };
    let hostile = [
        json!({"name": "H config", "api_config": "access_token=x"}),
        json!({"name": "H number", "api_config": {"access_token_encrypted": 7}}),
        json!({"name": "H array", "api_config": {"api_key_encrypted": ["a", "b"]}}),
        json!({"name": "H no iv", "api_config": {"access_token_encrypted": {"encrypted": "AAAA", "authTag": "AAAA"}}}),
        sealed(json!({"iv": STANDARD.encode([1u8; 5])})).pipe_into("H short iv"),
        sealed(json!({"authTag": STANDARD.encode([1u8; 3])})).pipe_into("H short tag"),
        sealed(json!({"keyVersion": -1})).pipe_into("H negative version"),
        sealed(json!({"keyVersion": 1.5})).pipe_into("H fractional version"),
        sealed(json!({"keyVersion": 1u64 << 40})).pipe_into("H huge version"),
        sealed(json!({"keyVersion": true})).pipe_into("H boolean version"),
        json!({"name": 12, "category": "payment"}),
        json!({"name": "x".repeat(10_000)}),
        json!({"name": "H token number", "auth_type": "api_key", "api_config": {"api_key": 42}, "category": "nonsense"}),
        json!({"name": "H huge secret", "auth_type": "api_key", "api_config": {"api_key": "k".repeat(64 * 1024)}}),
        json!(null),
        json!([[[]]]),
    ];
    let mut file = vec![json!({"name": "Good first", "auth_type": "api_key", "api_config": {"api_key": "good-key-1"}})];
    file.extend(hostile.iter().cloned());
    file.push(json!({"name": "Good last", "auth_type": "api_key", "api_config": {"api_key": "good-key-2"}}));
    let report = import::run(&app.state, &Caller::default(), &serde_json::to_vec(&file).unwrap(), |_, _| {}).await.unwrap();
    let reasons: Vec<String> = report.problems.iter().map(|p| format!("{}: {}", p.platform, p.reason)).collect();
    assert_eq!(report.platforms_created, 2 + 10, "the good ones, and the nine with a broken secret and the one with a secret too large to keep, each without it: {reasons:#?}");
    for expected in [
        "H config: is not a JSON object: platform skipped",
        "H number: not imported: malformed: must be an object with encrypted, iv, authTag and keyVersion",
        "H no iv: not imported: malformed: iv is missing",
        "H short iv: not imported: ",
        "H short tag: not imported: ",
        "H negative version: not imported: malformed: keyVersion is not a whole number",
        "H fractional version: not imported: malformed: keyVersion is not a whole number",
        "H huge version: not imported: malformed: keyVersion is not a whole number",
        "H boolean version: not imported: malformed: keyVersion is not a whole number",
        "entry 12: platform skipped: name: is required",
        "H token number: platform skipped: category",
        "H huge secret: not imported: ",
        "entry 16: is not a JSON object",
        "entry 17: is not a JSON object",
    ] {
        assert!(reasons.iter().any(|r| r.starts_with(expected)), "missing {expected:?} in {reasons:#?}");
    }
    let long = format!("{}…: platform skipped: name: must be at most 100 characters", "x".repeat(100));
    assert!(reasons.contains(&long), "a name of 10,000 characters is shown cut: {reasons:#?}");
    assert_eq!(secret(&app, "Good last", SecretField::ApiKey).await.as_deref(), Some("good-key-2"), "the import went on to the end");
    assert_eq!(secret(&app, "H short iv", SecretField::AccessToken).await, None);
}

/// An entry of the hostile table: `api_config` with this name.
trait PipeInto {
    fn pipe_into(self, name: &str) -> Value;
}

impl PipeInto for Value {
    fn pipe_into(self, name: &str) -> Value {
        json!({"name": name, "api_config": self})
    }
}
