//! The catalog's honesty and per-platform settings: a connect-only provider's accounts are
//! named in the composer with why, never offered as targets; an API version is checked and
//! kept. SQLite and PostgreSQL.

use crate::common::{count, sandbox::{connect_as, Sandbox}, signed_in_browser, TestApp};
use keyport::{
    domain::{PostForm, ProviderKey, Role},
    server::{
        attention,
        auth::Caller,
        oauth::worker::warn_expiring,
        publish, secrets,
        store::accounts::{Grant, Identity, TokenFacts},
    },
};
use secrecy::SecretString;
use serde_json::json;

on_both_backends!(
    a_connect_only_account_is_named_in_the_composer_and_never_offered,
    an_api_version_is_checked_and_kept,
    a_custom_provider_is_configured_from_its_issuer_alone,
    a_token_nothing_can_renew_is_flagged_a_week_ahead_and_audited_once,
    needs_attention_pages_through_only_the_platforms_that_need_a_person,
);

async fn a_connect_only_account_is_named_in_the_composer_and_never_offered(app: TestApp) {
    let platform = app.create_platform(json!({"name": "TikTok Team", "auth_type": "oauth2"})).await;
    let id = platform["id"].as_str().unwrap().to_owned();
    let (status, body) = app.send_json(reqwest::Method::PUT, &format!("/api/platforms/{id}/oauth"), json!({"provider": "tiktok", "client_id": "abc"})).await;
    assert_eq!(status, 200, "{body}");
    // An account connected as the callback would store it.
    let facts = TokenFacts { token_type: Some("bearer".into()), scopes: Some("user.info.basic video.publish".into()), expires_at: None };
    let who = Identity { external_id: "7162361729036".into(), name: Some("keyport_clips".into()), avatar_url: None };
    let account = secrets::store_tokens(&app.db, &app.state.keyring, id.parse().unwrap(), &SecretString::from("token"), None, &facts, &Grant::New(who, None)).await.unwrap().unwrap();
    assert_eq!(count(&app, "SELECT COUNT(*) FROM accounts").await, 1);

    let (targets, skipped) = publish::choices(&app.state).await.unwrap();
    assert!(targets.is_empty(), "a TikTok account is no target");
    assert_eq!(skipped, ["keyport_clips (TikTok Team): Keyport does not send videos to TikTok yet"]);
    let html = app.page("/posts").await.text().await.unwrap();
    assert!(html.contains("1 connected account(s) cannot be posted to") && html.contains("Keyport does not send videos to TikTok yet"), "the composer says why");
    let page = app.page(&format!("/platforms/{id}")).await.text().await.unwrap();
    assert!(page.contains("Connect only: "), "the platform page says so too");

    // Naming it anyway is refused with the field named, before anything is queued.
    let form = PostForm { text: "hello".into(), accounts: vec![account.to_string()], action: "now".into(), ..Default::default() };
    let refused = publish::create(&app.state, &Caller::default(), form).await.unwrap_err();
    assert!(refused.fields().is_some_and(|f| f.get("accounts").is_some()), "{refused}");
    assert_eq!(count(&app, "SELECT COUNT(*) FROM deliveries").await, 0);
    assert!(ProviderKey::Tiktok.label().contains("TikTok"));
}

async fn an_api_version_is_checked_and_kept(app: TestApp) {
    let platform = app.create_platform(json!({"name": "LinkedIn Team", "auth_type": "oauth2"})).await;
    let id = platform["id"].as_str().unwrap().to_owned();
    let path = format!("/api/platforms/{id}/oauth");
    let put = |version: &'static str| app.send_json(reqwest::Method::PUT, &path, json!({"provider": "linkedin", "client_id": "abc", "api_version": version}));
    for bad in ["2026-08", "202613", "201912", "20260801"] {
        let (status, body) = put(bad).await;
        assert_eq!(status, 422, "{bad}: {body}");
        assert!(body.to_string().contains("api_version"), "{body}");
    }
    let (status, body) = put("202701").await;
    assert_eq!(status, 200, "{body}");
    let (_, view) = app.get_json(&format!("/api/platforms/{id}/oauth")).await;
    assert_eq!(view["oauth"]["settings"]["api_version"], "202701");
    assert_eq!(view["oauth"]["defaults"]["api_version"], "202608", "the catalog's, shown as the placeholder");
}

/// The sandbox publishes RFC 8414 metadata (no OpenID Connect document: the second place
/// is tried) and OpenID Connect's standard claims at /userinfo.
async fn a_custom_provider_is_configured_from_its_issuer_alone(app: TestApp) {
    let sandbox = Sandbox::start(&[]).await;
    let platform = app.create_platform(json!({"name": "Our IdP", "auth_type": "oauth2"})).await;
    let id = platform["id"].as_str().unwrap().to_owned();
    let (_, view) = app.get_json(&format!("/api/platforms/{id}/oauth")).await;
    let (client_id, secret) = sandbox.register(view["oauth"]["redirect_uri"].as_str().unwrap()).await;
    let path = format!("/api/platforms/{id}/oauth");

    let (status, body) = app.send_json(reqwest::Method::PUT, &path, json!({"provider": "custom", "client_id": client_id, "instance_url": "http://127.0.0.1:9"})).await;
    assert_eq!(status, 422, "{body}");
    assert!(body.to_string().contains("instance_url") && body.to_string().contains("no usable OpenID Connect or OAuth 2.0 metadata"), "{body}");

    let (status, body) = app.send_json(reqwest::Method::PUT, &path, json!({"provider": "custom", "client_id": client_id, "instance_url": sandbox.base})).await;
    assert_eq!(status, 200, "{body}");
    let (_, view) = app.get_json(&path).await;
    let settings = &view["oauth"]["settings"];
    assert_eq!(settings["authorize_url"], sandbox.url("/authorize"));
    assert_eq!(settings["token_url"], sandbox.url("/token"));
    assert_eq!(settings["revoke_url"], sandbox.url("/revoke"));
    assert_eq!(settings["userinfo_url"], sandbox.url("/userinfo"));
    assert_eq!(count(&app, "SELECT COUNT(*) FROM audit_events WHERE detail LIKE '%metadata%'").await, 1, "the audit log says where they came from");

    let (status, body) = app.send_json(reqwest::Method::PUT, &format!("/api/platforms/{id}/secrets/client_secret"), json!({"value": secret})).await;
    assert!(status == 200 || status == 204, "{status} {body}");
    let (browser, _) = signed_in_browser(&app, Role::Marketer).await;
    assert_eq!(connect_as(&app, &sandbox, &browser, &id, "Jane Doe").await, format!("/platforms/{id}?notice=connected"));
    let (_, accounts) = app.get_json(&format!("/api/platforms/{id}/accounts")).await;
    let account = &accounts["accounts"][0];
    assert_eq!(account["name"], "Jane Doe", "named by the standard claims");
    assert!(account["external_id"].as_str().unwrap().starts_with("sbx-"), "identified by sub: {account}");
}

/// LinkedIn gives most apps 60-day tokens and no refresh token: a week before one runs out
/// the account is in Needs attention, and the audit log says so once.
async fn a_token_nothing_can_renew_is_flagged_a_week_ahead_and_audited_once(app: TestApp) {
    let platform = app.create_platform(json!({"name": "LinkedIn Brand", "auth_type": "oauth2"})).await;
    let id: uuid::Uuid = platform["id"].as_str().unwrap().parse().unwrap();
    let store = |name: &str, days: i64, refresh: Option<&str>| {
        let facts = TokenFacts { token_type: Some("Bearer".into()), scopes: None, expires_at: Some(chrono::Utc::now() + chrono::Duration::days(days)) };
        let who = Identity { external_id: name.to_lowercase(), name: Some(name.to_owned()), avatar_url: None };
        let refresh = refresh.map(|r| SecretString::from(r.to_owned()));
        let (db, keyring) = (app.db.clone(), app.state.keyring.clone());
        async move { secrets::store_tokens(&db, &keyring, id, &SecretString::from("token"), refresh.as_ref(), &facts, &Grant::New(who, None)).await.unwrap() }
    };
    store("Soon", 3, None).await;
    store("Later", 30, None).await;
    store("Renewable", 3, Some("refresh")).await;

    let items = attention::page(&app.state, None).await.unwrap().items;
    let reasons: Vec<&String> = items.iter().filter(|i| i.platform_id == id).flat_map(|i| &i.reasons).collect();
    assert_eq!(reasons.len(), 1, "{reasons:?}");
    assert!(reasons[0].starts_with("Soon: the access token expires ") && reasons[0].ends_with("re-authenticate before then"), "{}", reasons[0]);

    assert_eq!(warn_expiring(&app.state).await, 1);
    assert_eq!(warn_expiring(&app.state).await, 0, "once per expiry");
    assert_eq!(count(&app, "SELECT COUNT(*) FROM audit_events WHERE action = 'token_expiring' AND detail LIKE 'Soon:%'").await, 1);

    // Re-authenticating brings a new expiry, which is warned about in its turn.
    store("Soon", 5, None).await;
    assert_eq!(warn_expiring(&app.state).await, 1);
}

/// 120 platforms, of which 60 need a person for one reason or another: the list pages
/// through those 60 in name order (50, then 10), back again, and never shows the others.
async fn needs_attention_pages_through_only_the_platforms_that_need_a_person(app: TestApp) {
    for i in 0..60 {
        // Fine: an API-key platform, active, nothing imported.
        app.create_platform(json!({"name": format!("Fine {i:03}"), "auth_type": "api_key"})).await;
        // Needs a person: OAuth without an account, or in error.
        let body = match i % 2 {
            0 => json!({"name": format!("Needs {i:03}"), "auth_type": "oauth2"}),
            _ => json!({"name": format!("needs {i:03}"), "auth_type": "api_key", "status": "error"}),
        };
        app.create_platform(body).await;
    }
    let first = attention::page(&app.state, None).await.unwrap();
    assert_eq!(first.items.len(), 50);
    assert!(first.prev.is_none());
    let names = |p: &keyport::domain::AttentionPage| p.items.iter().map(|i| i.name.to_lowercase()).collect::<Vec<_>>();
    let mut all = names(&first);
    let second = attention::page(&app.state, first.next.as_deref()).await.unwrap();
    assert_eq!(second.items.len(), 10);
    assert!(second.next.is_none());
    all.extend(names(&second));
    assert_eq!(all, (0..60).map(|i| format!("needs {i:03}")).collect::<Vec<_>>(), "every one once, in name order whatever the case");
    assert!(second.items.iter().all(|i| !i.reasons.is_empty()));
    let back = attention::page(&app.state, second.prev.as_deref()).await.unwrap();
    assert_eq!(names(&back), names(&first), "back to the first page");
    let refused = app.page("/attention?cursor=not-a-cursor").await.text().await.unwrap();
    assert!(refused.contains("is not a cursor of this list"), "a cursor from elsewhere is named, not a 500");

    let html = app.page(&format!("/attention?cursor={}", first.next.unwrap())).await.text().await.unwrap();
    assert!(html.contains("Needs 050") && !html.contains("Needs 048"), "the second page, rendered");
    assert!(html.contains("rel=\"prev\""), "with a link back");
}
