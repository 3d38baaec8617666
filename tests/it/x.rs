//! X against the sandbox's X personality (`/x/…`, X's paths and shapes): connect with PKCE
//! and a confidential client, the account from `/2/users/me`, a rotating refresh token,
//! a post through `/2/tweets`, a duplicate refused as the post's fault (not the token's),
//! and disconnect with a revocation. SQLite and PostgreSQL.

use crate::common::{browser_post, location, sandbox::{connect_as, platform_with, Sandbox}, signed_in_browser, TestApp};
use keyport::{
    domain::{DeliveryStatus, PostForm, Role},
    server::{auth::Caller, oauth::tokens, publish},
};
use serde_json::json;
use std::time::Duration;

on_both_backends!(an_x_account_connects_with_pkce_refreshes_and_posts);

async fn an_x_account_connects_with_pkce_refreshes_and_posts(app: TestApp) {
    let sandbox = Sandbox::start(&[]).await;
    let base = sandbox.url("/x");
    let settings = json!({
        "provider": "x",
        "authorize_url": format!("{base}/i/oauth2/authorize"), "token_url": format!("{base}/2/oauth2/token"),
        "revoke_url": format!("{base}/2/oauth2/revoke"), "userinfo_url": format!("{base}/2/users/me"), "api_base_url": base,
    });
    let id = platform_with(&app, &sandbox, settings).await;

    let (browser, _) = signed_in_browser(&app, Role::Marketer).await;
    assert_eq!(connect_as(&app, &sandbox, &browser, &id, "Crumb Shop").await, format!("/platforms/{id}?notice=connected"));
    let (_, accounts) = app.get_json(&format!("/api/platforms/{id}/accounts")).await;
    let a = &accounts["accounts"][0];
    assert_eq!(a["name"], "crumb_shop", "the username from /2/users/me");
    assert!(a["external_id"].as_str().unwrap().bytes().all(|b| b.is_ascii_digit()), "X's numeric id: {a}");
    assert!(a["scopes"].as_str().unwrap().contains("media.write"), "asked for now, so media needs no reconnect");
    let account_id = a["id"].as_str().unwrap().to_owned();

    // Rotating refresh: each refresh returns a new refresh token, and the next one uses it.
    let before = sandbox.stats().await["refreshes"].as_u64().unwrap();
    for _ in 0..2 {
        tokens::fresh(&app.state, account_id.parse().unwrap(), Duration::from_secs(100 * 3600)).await.expect("refreshed");
    }
    assert_eq!(sandbox.stats().await["refreshes"].as_u64().unwrap(), before + 2, "the rotated token was kept (a reuse would revoke the grant)");

    let publish_now = |text: &str| PostForm { text: text.into(), link: "https://example.com/rolls".into(), accounts: vec![account_id.clone()], action: "now".into(), ..Default::default() };
    let post = publish::create(&app.state, &Caller::default(), publish_now("Cinnamon rolls today")).await.unwrap();
    publish::worker::process_due(&app.state).await;
    let delivery = publish::get(&app.state, post.id).await.unwrap().deliveries.remove(0);
    assert_eq!(delivery.status, DeliveryStatus::Published, "{:?}", delivery.error);
    let tweet = delivery.provider_post_id.unwrap();
    assert_eq!(delivery.provider_url.as_deref(), Some(format!("https://x.com/i/web/status/{tweet}").as_str()));
    assert!(sandbox.page(&format!("/posts/{tweet}")).await.contains("Cinnamon rolls today https://example.com/rolls"));

    // The same text again: X's 403 is about the post, so the account stays connected.
    let post = publish::create(&app.state, &Caller::default(), publish_now("Cinnamon rolls today")).await.unwrap();
    publish::worker::process_due(&app.state).await;
    let delivery = publish::get(&app.state, post.id).await.unwrap().deliveries.remove(0);
    assert_eq!(delivery.status, DeliveryStatus::Failed);
    assert!(delivery.error.as_deref().unwrap_or_default().contains("duplicate content"), "{:?}", delivery.error);
    let (_, accounts) = app.get_json(&format!("/api/platforms/{id}/accounts")).await;
    assert_eq!(accounts["accounts"][0]["needs_attention"], false);

    let revocations = sandbox.stats().await["revocations"].as_u64().unwrap();
    let r = browser_post(&app, &browser, &format!("/oauth/{id}/accounts/{account_id}/disconnect"), &[]).await;
    assert_eq!(location(&r), format!("/platforms/{id}?notice=disconnected"));
    assert_eq!(sandbox.stats().await["revocations"].as_u64().unwrap(), revocations + 1);
}
