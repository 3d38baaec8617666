//! OAuth connections end to end against `keyport-sandbox` (a real OAuth server, as a child
//! process): connect, the callback's defences, refresh with rotation, single-flight,
//! failures, disconnect. SQLite and PostgreSQL.

use crate::common;

use common::{
    contains, count, location,
    sandbox::{callback, connect, sandbox_platform, start_connect, Sandbox},
    signed_in_browser, TestApp,
};
use keyport::{domain::Role, on_db, server::oauth};
use serde_json::Value;

on_both_backends!(
    connects_through_the_sandbox_and_stores_only_ciphertext,
    rejects_callbacks_with_missing_unknown_reused_foreign_or_expired_state,
    a_code_redeemed_with_another_authorizations_verifier_stores_nothing,
    access_denied_at_the_provider_says_so_and_stores_nothing,
    refreshes_before_expiry_and_keeps_the_rotated_refresh_token,
    concurrent_callers_share_one_refresh,
    invalid_grant_marks_the_platform_for_re_authentication,
    transient_refresh_failures_back_off_without_flipping_the_status,
    the_background_refresher_renews_tokens_ahead_of_expiry,
    an_absurd_expires_in_is_clamped_at_connect_and_refresh,
    the_demo_set_up_touches_only_the_platform_it_created,
    a_client_secret_that_does_not_decrypt_stops_the_connection,
    moving_an_endpoint_to_another_host_clears_the_secret_and_the_tokens,
    deleting_a_connected_platform_revokes_its_grant,
    disconnect_revokes_at_the_provider_and_forgets_the_tokens,
    re_authenticating_revokes_the_replaced_grant,
    a_refresh_that_could_not_be_stored_is_not_started,
    a_rotated_refresh_token_survives_a_refresh_that_finished_meanwhile,
);

async fn oauth_json(app: &TestApp, id: &str) -> Value {
    let (status, json) = app.get_json(&format!("/api/platforms/{id}/oauth")).await;
    assert_eq!(status, 200, "{json}");
    json["oauth"].clone()
}

async fn platform_status(app: &TestApp, id: &str) -> String {
    app.get_json(&format!("/api/platforms/{id}")).await.1["platform"]["status"].as_str().unwrap().to_owned()
}

/// The platform's first account as the JSON API shows it, `{"connected": false}` with none.
async fn connection(app: &TestApp, id: &str) -> Value {
    let (status, json) = app.get_json(&format!("/api/platforms/{id}/accounts")).await;
    assert_eq!(status, 200, "{json}");
    json["accounts"].get(0).cloned().unwrap_or_else(|| serde_json::json!({ "connected": false }))
}

async fn ensure_token(app: &TestApp, id: &str) -> (u16, Value) {
    common::ensure_token(app, id).await
}

/// Every text and blob the database holds about tokens, to look for plaintext in.
async fn stored_bytes(app: &TestApp) -> Vec<u8> {
    let mut all = Vec::new();
    let secrets: Vec<(Vec<u8>,)> = on_db!(&app.db, |pool| sqlx::query_as("SELECT ciphertext FROM secrets").fetch_all(pool).await).unwrap();
    secrets.into_iter().for_each(|(c,)| all.extend(c));
    for sql in [
        "SELECT COALESCE(scopes, '') || COALESCE(name, '') || COALESCE(last_error, '') FROM accounts",
        "SELECT data FROM sessions",
        "SELECT action || COALESCE(detail, '') FROM audit_events",
    ] {
        let rows: Vec<(String,)> = on_db!(&app.db, |pool| sqlx::query_as(sql).fetch_all(pool).await).unwrap();
        rows.into_iter().for_each(|(t,)| all.extend(t.into_bytes()));
    }
    all
}

async fn connects_through_the_sandbox_and_stores_only_ciphertext(app: TestApp) {
    let sandbox = Sandbox::start(&[]).await;
    let id = sandbox_platform(&app, &sandbox).await;
    let (browser, _) = signed_in_browser(&app, Role::Marketer).await;

    let authorize = start_connect(&app, &browser, &id).await;
    let query: Vec<(String, String)> = reqwest::Url::parse(&authorize).unwrap().query_pairs().map(|(k, v)| (k.into(), v.into())).collect();
    let get = |k: &str| query.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
    assert_eq!(get("code_challenge_method").as_deref(), Some("S256"), "PKCE S256");
    assert_eq!(get("redirect_uri"), Some(oauth_json(&app, &id).await["redirect_uri"].as_str().unwrap().to_owned()), "the exact per-platform redirect URI");
    assert!(get("state").is_some_and(|s| s.len() >= 20), "an unguessable state");
    assert_eq!(get("scope").as_deref(), Some("profile posts.write"), "the catalog's default scopes");

    let back = sandbox.decide(&authorize, "approve").await;
    let r = callback(&app, &browser, &back).await;
    assert_eq!(location(&r), format!("/platforms/{id}?notice=connected"));
    assert_eq!(r.headers()["referrer-policy"], "no-referrer", "the code in the callback URL must not leak through Referer");

    let c = &connection(&app, &id).await;
    assert_eq!(c["connected"], true);
    assert_eq!(c["has_refresh_token"], true);
    assert_eq!(c["name"], "Test Marketing");
    assert!(c["expires_at"].is_string());
    assert_eq!(platform_status(&app, &id).await, "active");
    let (_, platform) = app.get_json(&format!("/api/platforms/{id}")).await;
    assert_eq!(platform["platform"]["encryption"]["state"], "current", "the badge turns Encrypted");
    assert_eq!(count(&app, &format!("SELECT COUNT(*) FROM audit_events WHERE action = 'oauth_connected' AND target_id = '{id}'")).await, 1);

    // Sandbox tokens carry recognisable prefixes: none may be stored, logged or audited in clear.
    let stored = stored_bytes(&app).await;
    for prefix in [&b"sbx_at_"[..], b"sbx_rt_", b"sbx_code_", b"sbx_secret_"] {
        assert!(!contains(&stored, prefix), "{} found in the database", String::from_utf8_lossy(prefix));
    }
    // The page shows the account, never a token.
    let page = browser.get(app.url(&format!("/platforms/{id}"))).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("Test Marketing") && !page.contains("sbx_at_") && !page.contains("sbx_rt_"), "the page shows the account and no token");
}

async fn rejects_callbacks_with_missing_unknown_reused_foreign_or_expired_state(app: TestApp) {
    let sandbox = Sandbox::start(&[]).await;
    let id = sandbox_platform(&app, &sandbox).await;
    let other = sandbox_platform(&app, &sandbox).await;
    let (browser, _) = signed_in_browser(&app, Role::Marketer).await;
    let (stranger, _) = signed_in_browser(&app, Role::Marketer).await;

    let rejected = |r: reqwest::Response| async move {
        assert_eq!(r.status(), 400, "rejected");
        let html = r.text().await.unwrap();
        assert!(html.contains("Nothing was stored"), "{html}");
        html
    };
    // Connecting needs a signed-in browser session: not anonymous, not an API token.
    let r = app.anonymous.post(app.url(&format!("/oauth/{id}/connect"))).header("origin", &app.base).send().await.unwrap();
    assert!(location(&r).starts_with("/login?next="), "anonymous: {}", r.status());
    let r = app.client.post(app.url(&format!("/oauth/{id}/connect"))).send().await.unwrap();
    assert!(location(&r).starts_with("/login?next="), "an API token cannot start a browser flow: {}", r.status());
    // A cross-site form post to connect is refused by the CSRF check.
    let r = browser.post(app.url(&format!("/oauth/{id}/connect"))).header("origin", "https://evil.example").header("sec-fetch-site", "cross-site").send().await.unwrap();
    assert_eq!(r.status(), 403);
    // No state at all.
    rejected(browser.get(app.url(&format!("/oauth/{id}/callback?code=abc"))).send().await.unwrap()).await;
    // A state this session never saw.
    rejected(browser.get(app.url(&format!("/oauth/{id}/callback?code=abc&state=forged"))).send().await.unwrap()).await;

    // A real answer delivered in another user's session is unknown there.
    let back = sandbox.decide(&start_connect(&app, &browser, &id).await, "approve").await;
    let html = rejected(callback(&app, &stranger, &back).await).await;
    assert!(html.contains("another browser session"));
    // The rightful session can still use it once; a replay is refused.
    assert_eq!(location(&callback(&app, &browser, &back).await), format!("/platforms/{id}?notice=connected"));
    rejected(callback(&app, &browser, &back).await).await;

    // A state issued for one platform, returned on another platform's callback (mix-up).
    let back = sandbox.decide(&start_connect(&app, &browser, &other).await, "approve").await;
    let swapped = back.replace(&format!("/oauth/{other}/"), &format!("/oauth/{id}/"));
    assert!(rejected(callback(&app, &browser, &swapped).await).await.contains("another platform"));

    // An expired state: age the pending authorization in the stored session.
    let back = sandbox.decide(&start_connect(&app, &browser, &other).await, "approve").await;
    app.execute("UPDATE sessions SET data = REPLACE(data, '\"expires_at\":\"20', '\"expires_at\":\"19')").await;
    assert!(rejected(callback(&app, &browser, &back).await).await.contains("expired"));

    assert_eq!(connection(&app, &other).await["connected"], false, "nothing stored for the other platform");
    assert!(count(&app, "SELECT COUNT(*) FROM audit_events WHERE action = 'oauth_callback_rejected'").await >= 6);
}

async fn a_code_redeemed_with_another_authorizations_verifier_stores_nothing(app: TestApp) {
    let sandbox = Sandbox::start(&[]).await;
    let id = sandbox_platform(&app, &sandbox).await;
    let (browser, _) = signed_in_browser(&app, Role::Marketer).await;
    // Two authorizations in one session: the code of the first, with the second's state
    // (an injected code), is redeemed with the second's PKCE verifier and must fail.
    let first = sandbox.decide(&start_connect(&app, &browser, &id).await, "approve").await;
    let second = sandbox.decide(&start_connect(&app, &browser, &id).await, "approve").await;
    let code = |u: &str| reqwest::Url::parse(u).unwrap().query_pairs().find(|(k, _)| k == "code").unwrap().1.into_owned();
    let state = |u: &str| reqwest::Url::parse(u).unwrap().query_pairs().find(|(k, _)| k == "state").unwrap().1.into_owned();
    let injected = format!("http://x/oauth/{id}/callback?code={}&state={}", code(&first), state(&second));
    let r = callback(&app, &browser, &injected).await;
    assert_eq!(location(&r), format!("/platforms/{id}?notice=oauth_failed"));
    assert_eq!(connection(&app, &id).await["connected"], false);
    assert_eq!(count(&app, &format!("SELECT COUNT(*) FROM secrets WHERE platform_id IN (SELECT id FROM platforms WHERE name LIKE 'Sandbox%') AND field <> 'client_secret'")).await, 0);
    let detail: (String,) = on_db!(&app.db, |pool| sqlx::query_as("SELECT detail FROM audit_events WHERE action = 'oauth_connect' AND outcome = 'failed'").fetch_one(pool).await).unwrap();
    assert!(detail.0.contains("invalid_grant"), "{}", detail.0);
}

async fn access_denied_at_the_provider_says_so_and_stores_nothing(app: TestApp) {
    let sandbox = Sandbox::start(&[]).await;
    let id = sandbox_platform(&app, &sandbox).await;
    let (browser, _) = signed_in_browser(&app, Role::Marketer).await;
    let back = sandbox.decide(&start_connect(&app, &browser, &id).await, "deny").await;
    assert!(back.contains("error=access_denied"));
    let r = callback(&app, &browser, &back).await;
    assert_eq!(location(&r), format!("/platforms/{id}?notice=oauth_denied"));
    let page = browser.get(app.url(&format!("/platforms/{id}?notice=oauth_denied"))).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("Access was not granted at the provider"), "a message that says what happened and what to do");
    assert_eq!(connection(&app, &id).await["connected"], false);
    assert_eq!(platform_status(&app, &id).await, "active", "a new platform is not put in error by a refusal");
}

async fn refreshes_before_expiry_and_keeps_the_rotated_refresh_token(app: TestApp) {
    // Tokens live 60 s: inside the 5-minute refresh window from the start.
    let sandbox = Sandbox::start(&["--token-ttl", "60"]).await;
    let id = sandbox_platform(&app, &sandbox).await;
    let (browser, _) = signed_in_browser(&app, Role::Marketer).await;
    connect(&app, &sandbox, &browser, &id).await;
    let refresh_cipher = || async {
        let (c,): (Vec<u8>,) = on_db!(&app.db, |pool| sqlx::query_as(&format!("SELECT ciphertext FROM secrets WHERE field = 'refresh_token'")).fetch_one(pool).await).unwrap();
        c
    };
    let before = refresh_cipher().await;
    // Each call refreshes (the new token also expires within the window); the second one
    // only works if the first persisted the rotated refresh token: the sandbox revokes the
    // whole grant when a rotated-out refresh token comes back.
    for round in 1..=2 {
        let (status, body) = ensure_token(&app, &id).await;
        assert_eq!(status, 200, "round {round}: {body}");
        assert!(body["account"]["last_refreshed_at"].is_string());
        assert_eq!(sandbox.stats().await["refreshes"], round);
    }
    assert_ne!(refresh_cipher().await, before, "the rotated refresh token replaced the old one");
    sandbox.set_token_ttl(3600).await;
    ensure_token(&app, &id).await;
    ensure_token(&app, &id).await;
    assert_eq!(sandbox.stats().await["refreshes"], 3, "a token valid beyond the window is used as is");
    assert_eq!(platform_status(&app, &id).await, "active");
    assert_eq!(count(&app, "SELECT COUNT(*) FROM audit_events WHERE action = 'token_refreshed'").await, 3);
}

async fn concurrent_callers_share_one_refresh(app: TestApp) {
    let sandbox = Sandbox::start(&["--token-ttl", "60"]).await;
    let id = sandbox_platform(&app, &sandbox).await;
    let (browser, _) = signed_in_browser(&app, Role::Marketer).await;
    connect(&app, &sandbox, &browser, &id).await;
    sandbox.set_token_ttl(3600).await;
    let statuses = concurrent_ensure(&app, &[app.base.clone()], &id, 8).await;
    assert_eq!(statuses, vec![200; 8]);
    assert_eq!(sandbox.stats().await["refreshes"], 1, "eight callers, one refresh");
    // In-process calls through the resolver directly, too.
    sandbox.set_token_ttl(60).await;
    app.execute("UPDATE accounts SET expires_at = NULL").await;
    let account = common::first_account(&app, &id).await.parse().unwrap();
    assert!(oauth::tokens::access_token(&app.state, account).await.is_ok(), "a token without expiry is used as is");
}

/// `n` concurrent `POST …/accounts/{first}/token` calls to each of `bases`; every answer's status.
async fn concurrent_ensure(app: &TestApp, bases: &[String], id: &str, n: usize) -> Vec<u16> {
    let account = common::first_account(app, id).await;
    let mut calls = tokio::task::JoinSet::new();
    for base in bases {
        for _ in 0..n {
            let (client, url) = (app.client.clone(), format!("{base}/api/platforms/{id}/accounts/{account}/token"));
            calls.spawn(async move { client.post(url).json(&serde_json::json!({})).send().await.unwrap().status().as_u16() });
        }
    }
    calls.join_all().await
}

async fn invalid_grant_marks_the_platform_for_re_authentication(app: TestApp) {
    let sandbox = Sandbox::start(&["--token-ttl", "60"]).await;
    let id = sandbox_platform(&app, &sandbox).await;
    let (browser, _) = signed_in_browser(&app, Role::Marketer).await;
    connect(&app, &sandbox, &browser, &id).await;
    sandbox.revoke_all().await;
    let (status, body) = ensure_token(&app, &id).await;
    assert_eq!(status, 503, "{body}");
    assert!(body.to_string().contains("re-authentication required"), "{body}");
    assert_eq!(platform_status(&app, &id).await, "error");
    let last_error = connection(&app, &id).await["last_error"].as_str().unwrap().to_owned();
    assert!(last_error.contains("re-authentication required") && last_error.contains("invalid_grant"), "{last_error}");
    assert_eq!(count(&app, "SELECT COUNT(*) FROM audit_events WHERE action = 'token_refresh_failed'").await, 1);

    // Re-authenticating repairs it.
    let page = browser.get(app.url(&format!("/platforms/{id}"))).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("Re-authenticate"), "the page offers re-authentication");
    assert_eq!(connect(&app, &sandbox, &browser, &id).await, format!("/platforms/{id}?notice=connected"));
    assert_eq!(platform_status(&app, &id).await, "active");
    assert!(connection(&app, &id).await["last_error"].is_null());
}

async fn transient_refresh_failures_back_off_without_flipping_the_status(app: TestApp) {
    let sandbox = Sandbox::start(&["--token-ttl", "60"]).await;
    let id = sandbox_platform(&app, &sandbox).await;
    let (browser, _) = signed_in_browser(&app, Role::Marketer).await;
    connect(&app, &sandbox, &browser, &id).await;

    sandbox.fault("token", "500", 1, 1).await;
    let (status, _) = ensure_token(&app, &id).await;
    assert_eq!(status, 503);
    assert_eq!(platform_status(&app, &id).await, "active", "one outage does not disconnect");
    let c = connection(&app, &id).await.clone();
    assert_eq!(c["refresh_failures"], 1);
    assert!(c["last_error"].as_str().unwrap().contains("HTTP 500"));

    sandbox.fault("token", "429", 1, 120).await;
    ensure_token(&app, &id).await;
    let (next,): (Option<chrono::DateTime<chrono::Utc>>,) =
        on_db!(&app.db, |pool| sqlx::query_as("SELECT next_refresh_at FROM accounts").fetch_one(pool).await).unwrap();
    assert!(next.unwrap() >= chrono::Utc::now() + chrono::Duration::seconds(110), "Retry-After is honoured");
    assert_eq!(platform_status(&app, &id).await, "active");

    // The refresh token was never spent: the next attempt succeeds and clears the failures.
    let (status, body) = ensure_token(&app, &id).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["account"]["refresh_failures"], 0);

    // Five transient failures in a row: the platform is shown as failing.
    sandbox.fault("token", "500", 5, 1).await;
    for _ in 0..5 {
        ensure_token(&app, &id).await;
    }
    assert_eq!(platform_status(&app, &id).await, "error");
    assert!(connection(&app, &id).await["last_error"].as_str().unwrap().contains("5 times in a row"));
}

async fn the_background_refresher_renews_tokens_ahead_of_expiry(app: TestApp) {
    let sandbox = Sandbox::start(&["--token-ttl", "600"]).await;
    let id = sandbox_platform(&app, &sandbox).await;
    let (browser, _) = signed_in_browser(&app, Role::Marketer).await;
    connect(&app, &sandbox, &browser, &id).await;
    // 10 minutes left: inside the default 15-minute look-ahead.
    sandbox.set_token_ttl(3600).await;
    assert_eq!(oauth::worker::sweep(&app.state, || {}).await, 1);
    assert_eq!(sandbox.stats().await["refreshes"], 1);
    assert_eq!(oauth::worker::sweep(&app.state, || {}).await, 0, "a fresh token is left alone");
    // A platform waiting for a human is not hammered.
    app.execute("UPDATE accounts SET expires_at = NULL").await;
    app.execute("UPDATE platforms SET status = 'error'").await;
    assert_eq!(oauth::worker::sweep(&app.state, || {}).await, 0);
}

/// `expires_in: 10000000000000` (317,000 years) used to overflow the expiry time and panic
/// the callback and the refresher; a token's lifetime is believed up to a year.
async fn an_absurd_expires_in_is_clamped_at_connect_and_refresh(app: TestApp) {
    let sandbox = Sandbox::start(&["--token-ttl", "10000000000000"]).await;
    let id = sandbox_platform(&app, &sandbox).await;
    let (browser, _) = signed_in_browser(&app, Role::Marketer).await;
    connect(&app, &sandbox, &browser, &id).await;
    let expires_at = || async { connection(&app, &id).await["expires_at"].as_str().unwrap().parse::<chrono::DateTime<chrono::Utc>>().unwrap() };
    let year = chrono::Utc::now() + chrono::Duration::days(365);
    let connected = expires_at().await;
    assert!(connected <= year && connected > year - chrono::Duration::minutes(5), "clamped to a year at connect ({connected})");

    app.execute("UPDATE accounts SET expires_at = '2000-01-01T00:00:00Z'").await;
    assert_eq!(oauth::worker::sweep(&app.state, || {}).await, 1, "the refresher survives the answer");
    let refreshed = expires_at().await;
    assert!(refreshed <= chrono::Utc::now() + chrono::Duration::days(365) && refreshed > year - chrono::Duration::minutes(5), "clamped to a year at refresh ({refreshed})");
}

/// SANDBOX_URL's set-up repairs only the platform it made: an admin's own "Sandbox" (a
/// payment provider's test account with a real secret, say) is never rewritten.
async fn the_demo_set_up_touches_only_the_platform_it_created(app: TestApp) {
    use keyport::{domain::SecretField, server::secrets};
    use secrecy::ExposeSecret;
    let sandbox = Sandbox::start(&[]).await;
    let admins = app.create_platform(serde_json::json!({"name": "Sandbox", "auth_type": "api_key", "category": "payment"})).await;
    let admins_id = admins["id"].as_str().unwrap().to_owned();
    let (status, _) = app.send_json(reqwest::Method::PUT, &format!("/api/platforms/{admins_id}/secrets/api_key"), serde_json::json!({"value": "sk_test_admins_own"})).await;
    assert_eq!(status, 200);
    let untouched = || async {
        let secret = secrets::resolve(&app.db, &app.state.keyring, admins_id.parse().unwrap(), SecretField::ApiKey).await.unwrap();
        assert_eq!(secret.expose_secret(), "sk_test_admins_own");
        assert_eq!(app.get_json(&format!("/api/platforms/{admins_id}")).await.1["platform"]["auth_type"], "api_key");
    };

    let why = oauth::demo::ensure_sandbox_platform(&app.state, &sandbox.base).await.unwrap_err();
    assert!(why.contains("left alone"), "{why}");
    untouched().await;

    let (status, _) = app.send_json(reqwest::Method::PATCH, &format!("/api/platforms/{admins_id}"), serde_json::json!({"name": "Payments sandbox"})).await;
    assert_eq!(status, 200);
    oauth::demo::ensure_sandbox_platform(&app.state, &sandbox.base).await.unwrap();
    let demo = keyport::server::store::platforms::demo(&app.db).await.unwrap().expect("the demo platform");
    assert_eq!((demo.name.as_str(), demo.auth_type.as_str()), ("Sandbox", "oauth2"));
    // Renamed by an admin, it is still the demo's (by id); nothing else is created or touched.
    let (status, _) = app.send_json(reqwest::Method::PATCH, &format!("/api/platforms/{}", demo.id), serde_json::json!({"name": "Our demo"})).await;
    assert_eq!(status, 200);
    oauth::demo::ensure_sandbox_platform(&app.state, &sandbox.base).await.unwrap();
    assert_eq!(keyport::server::store::platforms::demo(&app.db).await.unwrap().unwrap().id, demo.id);
    assert_eq!(count(&app, "SELECT COUNT(*) FROM platforms").await, 2);
    untouched().await;
}

async fn a_client_secret_that_does_not_decrypt_stops_the_connection(app: TestApp) {
    let sandbox = Sandbox::start(&[]).await;
    let id = sandbox_platform(&app, &sandbox).await;
    let (browser, _) = signed_in_browser(&app, Role::Marketer).await;
    let garbage = app.blob_literal("01000000010000000000000000000000000000000000000000000000000000000000");
    app.execute(&format!("UPDATE secrets SET ciphertext = {garbage} WHERE field = 'client_secret'")).await;
    let r = common::browser_post(&app, &browser, &format!("/oauth/{id}/connect"), &[]).await;
    assert_eq!(r.status(), 409, "not sent to the provider as a public client");
    let page = r.text().await.unwrap();
    assert!(page.contains("client secret") && page.contains("enter the client secret again"), "{page}");
}

/// A taken-over admin account cannot point the token or API URL at its own server and
/// wait for Keyport to send it the client secret and the tokens.
async fn moving_an_endpoint_to_another_host_clears_the_secret_and_the_tokens(app: TestApp) {
    let sandbox = Sandbox::start(&[]).await;
    let id = sandbox_platform(&app, &sandbox).await;
    let (browser, _) = signed_in_browser(&app, Role::Marketer).await;
    connect(&app, &sandbox, &browser, &id).await;
    let client_id = oauth_json(&app, &id).await["settings"]["client_id"].as_str().unwrap().to_owned();
    let app = &app;
    let put = |extra: Value| {
        let mut body = serde_json::json!({"provider": "sandbox", "instance_url": sandbox.base, "client_id": client_id});
        body.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
        let path = format!("/api/platforms/{id}/oauth");
        async move { app.send_json(reqwest::Method::PUT, &path, body).await.0 }
    };
    let client_secrets = || count(&app, "SELECT COUNT(*) FROM secrets WHERE field = 'client_secret'");

    // Same hosts: scopes and the client id may change freely.
    assert_eq!(put(serde_json::json!({"scopes": "profile post"})).await, 200);
    assert_eq!(connection(&app, &id).await["connected"], true);
    assert_eq!(client_secrets().await, 1);

    assert_eq!(put(serde_json::json!({"api_base_url": "https://elsewhere.example/api"})).await, 200);
    assert_eq!(connection(&app, &id).await["connected"], false, "the tokens are gone");
    assert_eq!(client_secrets().await, 0, "the client secret is gone");
    assert_eq!(count(&app, "SELECT COUNT(*) FROM secrets").await, 0);
    let detail = count(&app, "SELECT COUNT(*) FROM audit_events WHERE action = 'oauth_settings_saved' AND detail LIKE '%API base URL moved from http://127.0.0.1:%to https://elsewhere.example/api%'").await;
    assert_eq!(detail, 1, "the audit entry names the old and the new URL");
}

async fn deleting_a_connected_platform_revokes_its_grant(app: TestApp) {
    let sandbox = Sandbox::start(&[]).await;
    let id = sandbox_platform(&app, &sandbox).await;
    let (browser, _) = signed_in_browser(&app, Role::Marketer).await;
    connect(&app, &sandbox, &browser, &id).await;
    assert_eq!(sandbox.stats().await["live_grants"], 1);
    let (status, _) = app.send_json(reqwest::Method::DELETE, &format!("/api/platforms/{id}"), Value::Null).await;
    assert!(status == 200 || status == 204, "{status}");
    let stats = sandbox.stats().await;
    assert_eq!((stats["revocations"].as_u64(), stats["live_grants"].as_u64()), (Some(1), Some(0)), "no live grant is left behind");
    assert_eq!(count(&app, "SELECT COUNT(*) FROM audit_events WHERE action = 'platform_deleted' AND detail = 'the accounts'' OAuth grants were revoked at the provider'").await, 1);
}

async fn disconnect_revokes_at_the_provider_and_forgets_the_tokens(app: TestApp) {
    let sandbox = Sandbox::start(&[]).await;
    let id = sandbox_platform(&app, &sandbox).await;
    let (browser, _) = signed_in_browser(&app, Role::Marketer).await;
    connect(&app, &sandbox, &browser, &id).await;
    assert_eq!(sandbox.stats().await["live_grants"], 1);
    let account = common::first_account(&app, &id).await;
    let r = common::browser_post(&app, &browser, &format!("/oauth/{id}/accounts/{account}/disconnect"), &[]).await;
    let detail: Vec<(Option<String>,)> = on_db!(&app.db, |pool| sqlx::query_as("SELECT detail FROM audit_events WHERE action = 'oauth_disconnected'").fetch_all(pool).await).unwrap();
    assert_eq!(location(&r), format!("/platforms/{id}?notice=disconnected"), "{detail:?}");
    let stats = sandbox.stats().await;
    assert_eq!(stats["revocations"], 1);
    assert_eq!(stats["live_grants"], 0, "the grant is gone at the provider");
    assert_eq!(connection(&app, &id).await["connected"], false);
    assert_eq!(count(&app, "SELECT COUNT(*) FROM secrets WHERE field IN ('access_token', 'refresh_token')").await, 0);
    assert_eq!(platform_status(&app, &id).await, "inactive");
}

/// Two real `keyport` processes on one PostgreSQL database: callers on both at once must
/// spend the refresh token once (the sandbox would revoke the grant on a second spend).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_processes_on_postgres_share_one_refresh() {
    let Some(app) = TestApp::postgres().await else { return };
    let sandbox = Sandbox::start(&["--token-ttl", "60"]).await;
    let id = sandbox_platform(&app, &sandbox).await;
    let (browser, _) = signed_in_browser(&app, Role::Marketer).await;
    connect(&app, &sandbox, &browser, &id).await;
    sandbox.set_token_ttl(3600).await;

    let (first, a) = common::serve_process(&app, &[]).await;
    let (second, b) = common::serve_process(&app, &[]).await;
    let (_servers, bases) = ([first, second], [a, b]);
    for base in &bases {
        common::wait_ready(base).await;
    }
    let statuses = concurrent_ensure(&app, &bases, &id, 6).await;
    assert_eq!(statuses, vec![200; 12], "every caller on both processes got a usable token");
    assert_eq!(sandbox.stats().await["refreshes"], 1, "twelve callers on two processes, one refresh");
    assert_eq!(platform_status(&app, &id).await, "active");
}

async fn re_authenticating_revokes_the_replaced_grant(app: TestApp) {
    let sandbox = Sandbox::start(&[]).await;
    let id = sandbox_platform(&app, &sandbox).await;
    let (browser, _) = signed_in_browser(&app, Role::Marketer).await;
    connect(&app, &sandbox, &browser, &id).await;
    connect(&app, &sandbox, &browser, &id).await;
    let stats = sandbox.stats().await;
    assert_eq!((stats["revocations"].as_u64(), stats["live_grants"].as_u64()), (Some(1), Some(1)), "the old grant does not linger: {stats}");
    assert_eq!(ensure_token(&app, &id).await.0, 200, "the new grant works");
    let revoked = count(&app, "SELECT COUNT(*) FROM audit_events WHERE action = 'oauth_connected' AND detail LIKE '%the replaced grant was revoked at the provider'").await;
    assert_eq!(revoked, 1, "the audit log says so");
}

/// A key that has made (almost) all the encryptions it may: the refresh is not started, so
/// the refresh token is not spent, and it works once the key has room again (a rotation).
async fn a_refresh_that_could_not_be_stored_is_not_started(app: TestApp) {
    let sandbox = Sandbox::start(&["--token-ttl", "60"]).await;
    let id = sandbox_platform(&app, &sandbox).await;
    let (browser, _) = signed_in_browser(&app, Role::Marketer).await;
    connect(&app, &sandbox, &browser, &id).await;
    app.execute(&format!("UPDATE encryption_keys SET encryptions = {}", (1i64 << 31) - 1)).await;
    let (status, body) = ensure_token(&app, &id).await;
    assert!(status >= 400, "{status} {body}");
    assert!(body.to_string().contains("2^31 encryptions") && body.to_string().contains("not spent"), "{body}");
    assert_eq!(sandbox.stats().await["refreshes"], 0, "the provider was not called");
    assert_eq!(platform_status(&app, &id).await, "active", "a passing condition, not a broken connection");
    app.execute("UPDATE encryption_keys SET encryptions = 0").await;
    let (status, body) = ensure_token(&app, &id).await;
    assert_eq!(status, 200, "the grant survived: {body}");
    assert_eq!(sandbox.stats().await["refreshes"], 1);
}

/// The provider rotates the refresh token while another refresh of the same grant (its
/// lease run out) writes first: the tokens just issued are kept, not dropped as stale —
/// dropping them would leave a rotated-out refresh token, which ends the grant when spent.
async fn a_rotated_refresh_token_survives_a_refresh_that_finished_meanwhile(app: TestApp) {
    let sandbox = Sandbox::start(&["--token-ttl", "60"]).await;
    let id = sandbox_platform(&app, &sandbox).await;
    let (browser, _) = signed_in_browser(&app, Role::Marketer).await;
    connect(&app, &sandbox, &browser, &id).await;
    sandbox.fault("token", "slow", 1, 0).await;
    let state = app.state.clone();
    let account: uuid::Uuid = common::first_account(&app, &id).await.parse().unwrap();
    let refresh = tokio::spawn(async move { oauth::tokens::access_token(&state, account).await.map(|_| ()).map_err(|e| e.to_string()) });
    tokio::time::sleep(std::time::Duration::from_millis(400)).await;
    app.execute("UPDATE accounts SET token_version = token_version + 1").await;
    assert_eq!(refresh.await.unwrap(), Ok(()), "the refresh is stored");
    let (status, body) = ensure_token(&app, &id).await;
    assert_eq!(status, 200, "the stored refresh token is the newest one: {body}");
    assert_eq!(sandbox.stats().await["refreshes"], 2);
    assert_eq!(platform_status(&app, &id).await, "active");
}
