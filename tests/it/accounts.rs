//! Several accounts under one platform (connect, re-authenticate, publish, disconnect each
//! on its own, tokens bound to their account), and a connection made before accounts
//! existed becoming the platform's first account. SQLite and PostgreSQL.

use crate::common::{
    self, contains, count,
    sandbox::{connect_as, sandbox_platform, Sandbox},
    signed_in_browser, Blank, TestApp,
};
use keyport::{
    domain::{DeliveryStatus, PostForm, Role, SecretField},
    on_db,
    server::{
        auth::Caller,
        crypto::{Keyring, SecretSlot},
        publish, secrets,
    },
};
use secrecy::ExposeSecret;
use serde_json::Value;
use uuid::Uuid;

on_both_backends!(several_accounts_under_one_platform_connect_publish_and_disconnect_on_their_own; blank: a_connection_from_before_accounts_becomes_the_first_account);

async fn accounts(app: &TestApp, platform: &str) -> Vec<Value> {
    let (status, json) = app.get_json(&format!("/api/platforms/{platform}/accounts")).await;
    assert_eq!(status, 200, "{json}");
    assert!(!json.to_string().contains("sbx_"), "never a token: {json}");
    json["accounts"].as_array().unwrap().clone()
}

fn names(accounts: &[Value]) -> Vec<&str> {
    accounts.iter().map(|a| a["name"].as_str().unwrap()).collect()
}

async fn several_accounts_under_one_platform_connect_publish_and_disconnect_on_their_own(app: TestApp) {
    let sandbox = Sandbox::start(&[]).await;
    let id = sandbox_platform(&app, &sandbox).await;
    let (browser, _) = signed_in_browser(&app, Role::Marketer).await;
    connect_as(&app, &sandbox, &browser, &id, "Test Marketing").await;
    connect_as(&app, &sandbox, &browser, &id, "Second Brand").await;
    let listed = accounts(&app, &id).await;
    assert_eq!(names(&listed), ["Second Brand", "Test Marketing"], "one platform, two accounts, by name");
    assert!(listed.iter().all(|a| a["connected"] == true && a["has_refresh_token"] == true));
    let (second, first) = (listed[0]["id"].as_str().unwrap().to_owned(), listed[1]["id"].as_str().unwrap().to_owned());

    // Connecting the same provider account again re-authenticates it: no third account.
    connect_as(&app, &sandbox, &browser, &id, "Second Brand").await;
    let again = accounts(&app, &id).await;
    assert_eq!(again.len(), 2);
    assert_eq!(again[0]["id"], second, "the account keeps its id");

    // The platform page and the composer show each account by name.
    let page = browser.get(app.url(&format!("/platforms/{id}"))).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("Disconnect Second Brand") && page.contains("Disconnect Test Marketing"), "a Disconnect per account");
    let composer = browser.get(app.url("/posts")).send().await.unwrap().text().await.unwrap();
    assert!(composer.contains("Second Brand") && composer.contains("Test Marketing"), "the composer lists both accounts");

    // One post to both accounts: one delivery each, published as each account.
    let form = PostForm { text: "Two brands, one post".into(), accounts: vec![first.clone(), second.clone()], action: "now".into(), ..Default::default() };
    let post = publish::create(&app.state, &Caller::default(), form).await.unwrap();
    assert_eq!(post.deliveries.len(), 2);
    publish::worker::process_due(&app.state).await;
    let post = publish::get(&app.state, post.id).await.unwrap();
    for d in &post.deliveries {
        assert_eq!(d.status, DeliveryStatus::Published, "{:?}", d.error);
        let shown = reqwest::get(d.provider_url.as_deref().unwrap()).await.unwrap().text().await.unwrap();
        let name = d.account_name.as_deref().unwrap();
        assert!(shown.contains(&format!("Post by {name}")), "published as {name}");
    }

    // Each account's tokens are bound to it: a ciphertext moved to the other account's row
    // does not decrypt there.
    let sql = |account: &str| format!("SELECT ciphertext FROM secrets WHERE owner_id = {} AND field = 'access_token'", app.uuid_literal(account.parse().unwrap()));
    let (theirs,): (Vec<u8>,) = on_db!(&app.db, |pool| sqlx::query_as(&sql(&first)).fetch_one(pool).await).unwrap();
    let (mine,): (Vec<u8>,) = on_db!(&app.db, |pool| sqlx::query_as(&sql(&second)).fetch_one(pool).await).unwrap();
    let put = |ciphertext: &[u8], account: &str| format!("UPDATE secrets SET ciphertext = {} WHERE owner_id = {} AND field = 'access_token'", app.blob_literal(&hex(ciphertext)), app.uuid_literal(account.parse().unwrap()));
    app.execute(&put(&theirs, &second)).await;
    let moved = secrets::resolve(&app.db, &app.state.keyring, second.parse().unwrap(), SecretField::AccessToken).await;
    assert!(moved.is_err(), "another account's token does not decrypt here");
    app.execute(&put(&mine, &second)).await;

    // Disconnecting one account revokes its grant and leaves the other connected.
    let before = sandbox.stats().await["revocations"].as_u64().unwrap();
    let (status, _) = app.send_json(reqwest::Method::DELETE, &format!("/api/platforms/{id}/accounts/{second}"), Value::Null).await;
    assert_eq!(status, 204);
    assert_eq!(sandbox.stats().await["revocations"].as_u64().unwrap(), before + 1, "revoked at the provider");
    assert_eq!(names(&accounts(&app, &id).await), ["Test Marketing"]);
    assert_eq!(app.get_json(&format!("/api/platforms/{id}")).await.1["platform"]["status"], "active", "still connected through the other account");
    assert_eq!(count(&app, "SELECT COUNT(*) FROM audit_events WHERE action = 'oauth_disconnected' AND detail LIKE 'Second Brand:%'").await, 1);
    let (status, body) = app.send_json(reqwest::Method::DELETE, &format!("/api/platforms/{id}/accounts/{second}"), Value::Null).await;
    assert_eq!(status, 404, "{body}");
    let other = sandbox_platform(&app, &sandbox).await;
    let (status, _) = app.send_json(reqwest::Method::DELETE, &format!("/api/platforms/{other}/accounts/{first}"), Value::Null).await;
    assert_eq!(status, 404, "an account is reached only through its own platform");
    assert_eq!(accounts(&app, &id).await.len(), 1);
    // A post to the disconnected account is refused with the field named.
    let form = PostForm { text: "To a gone account".into(), accounts: vec![second], action: "now".into(), ..Default::default() };
    let refused = publish::create(&app.state, &Caller::default(), form).await.unwrap_err();
    assert!(refused.fields().and_then(|f| f.get("accounts")).is_some(), "{refused}");
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}


/// The database as Keyport left it before accounts (migration 10): one OAuth platform with
/// its connection in `credentials`, its tokens sealed for the platform, a queued delivery.
/// A server started on it moves the connection to an account, re-binds the tokens to the
/// account's slot (never writing plaintext) and points the delivery at the account.
async fn a_connection_from_before_accounts_becomes_the_first_account(blank: Blank) {
    let db = blank.migrated_before("0011").await;
    let config = blank.config();
    let keyring = Keyring::new(config.keys.current, &config.keys.by_version);
    // As Keyport recorded a key then: its check value, no wrapped copy (data keys came later).
    let check = keyring.versions()[0].1.clone();
    on_db!(&db, |pool| sqlx::query("INSERT INTO encryption_keys (version, check_value, encryptions, created_at) VALUES (1, $1, 0, $2)").bind(&check).bind(chrono::Utc::now()).execute(pool).await.map(|_| ())).unwrap();

    let (platform, post, delivery) = (Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7());
    let now = chrono::Utc::now();
    let expires = now + chrono::Duration::days(30);
    let sealed = |field: SecretField, value: &str| keyring.seal(value.as_bytes(), &SecretSlot::platform_secret(platform, field));
    let tokens = [(SecretField::AccessToken, "legacy-access-123456"), (SecretField::RefreshToken, "legacy-refresh-654321"), (SecretField::ClientSecret, "legacy-client-secret")];
    on_db!(&db, |pool| {
        sqlx::query("INSERT INTO platforms (id, name, category, auth_type, status, metadata, created_at, updated_at) VALUES ($1, 'Legacy', 'social', 'oauth2', 'active', '{}', $2, $2)")
            .bind(platform).bind(now).execute(pool).await.unwrap();
        sqlx::query("INSERT INTO credentials (platform_id, token_type, scopes, expires_at, account_id, account_name, connected_at, updated_at) VALUES ($1, 'bearer', 'profile posts.write', $2, 'acct-1', 'Legacy Brand', $3, $3)")
            .bind(platform).bind(expires).bind(now).execute(pool).await.unwrap();
        for (field, value) in tokens {
            sqlx::query("INSERT INTO secrets (platform_id, field, ciphertext, key_version, created_at, updated_at) VALUES ($1, $2, $3, 1, $4, $4)")
                .bind(platform).bind(field.as_str()).bind(sealed(field, value)).bind(now).execute(pool).await.unwrap();
        }
        sqlx::query("INSERT INTO posts (id, text, state, created_by, created_at, updated_at) VALUES ($1, 'Queued before', 'sent', 'someone', $2, $2)")
            .bind(post).bind(now).execute(pool).await.unwrap();
        sqlx::query("INSERT INTO deliveries (id, post_id, platform_id, status, due_at, idempotency_key, updated_at) VALUES ($1, $2, $3, 'queued', $4, 'k-legacy', $4)")
            .bind(delivery).bind(post).bind(platform).bind(now).execute(pool).await.map(|_| ())
    })
    .unwrap();
    db.close().await;

    let app = blank.serve().await;
    let id = platform.to_string();
    let listed = accounts(&app, &id).await;
    assert_eq!(listed.len(), 1, "{listed:?}");
    let a = &listed[0];
    assert_eq!((a["id"].as_str(), a["external_id"].as_str(), a["name"].as_str()), (Some(id.as_str()), Some("acct-1"), Some("Legacy Brand")));
    assert_eq!((a["connected"].as_bool(), a["has_refresh_token"].as_bool()), (Some(true), Some(true)));
    assert_eq!(a["scopes"], "profile posts.write");

    // The tokens now open only in the account's slot; the client secret stays the platform's.
    let resolve = |owner: Uuid, field| secrets::resolve(&app.db, &app.state.keyring, owner, field);
    assert_eq!(resolve(platform, SecretField::AccessToken).await.unwrap().expose_secret(), "legacy-access-123456");
    assert_eq!(resolve(platform, SecretField::ClientSecret).await.unwrap().expose_secret(), "legacy-client-secret");
    let stored = |field: SecretField| {
        let sql = format!("SELECT ciphertext FROM secrets WHERE owner_id = {} AND field = '{}'", app.uuid_literal(platform), field.as_str());
        let db = app.db.clone();
        async move { on_db!(&db, |pool| sqlx::query_as::<_, (Vec<u8>,)>(&sql).fetch_one(pool).await).unwrap().0 }
    };
    for field in [SecretField::AccessToken, SecretField::RefreshToken] {
        let ciphertext = stored(field).await;
        assert!(app.state.keyring.open(&ciphertext, &SecretSlot::account_token(platform, field)).is_ok(), "{field} is bound to the account");
        assert!(app.state.keyring.open(&ciphertext, &SecretSlot::platform_secret(platform, field)).is_err(), "{field} no longer opens as the platform's");
    }
    assert_eq!(count(&app, "SELECT COUNT(*) FROM secrets WHERE account_id IS NULL AND field IN ('access_token', 'refresh_token')").await, 0);
    let (pointed,): (Option<Uuid>,) = on_db!(&app.db, |pool| sqlx::query_as("SELECT account_id FROM deliveries").fetch_one(pool).await).unwrap();
    assert_eq!(pointed, Some(platform), "the queued delivery goes to the account");

    // A second start finds nothing more to re-bind and changes nothing.
    let access = stored(SecretField::AccessToken).await;
    let again = app.reopen(&[("ENCRYPTION_KEY", common::TEST_KEY)]).await;
    assert_eq!(secrets::bind_legacy_tokens(&again.db, &again.state.keyring).await, Ok(0));
    assert_eq!(stored(SecretField::AccessToken).await, access);
    let mut all = Vec::new();
    let rows: Vec<(Vec<u8>,)> = on_db!(&app.db, |pool| sqlx::query_as("SELECT ciphertext FROM secrets").fetch_all(pool).await).unwrap();
    rows.into_iter().for_each(|(c,)| all.extend(c));
    for (_, value) in tokens {
        assert!(!contains(&all, value), "{value} stored in clear");
    }
}
