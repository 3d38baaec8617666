//! Bluesky against the sandbox's Bluesky personality (a PDS's XRPC methods): a handle and
//! an app password open a session once, its tokens are stored encrypted and renewed with
//! refreshSession, and posts carry their links as UTF-8 byte facets. SQLite and PostgreSQL.

use crate::common::{browser_post, contains, count, location, sandbox::Sandbox, signed_in_browser, TestApp};
use keyport::{
    domain::{DeliveryStatus, PostForm, Role},
    on_db,
    server::{auth::Caller, oauth::worker, publish},
};
use serde_json::json;

on_both_backends!(a_bluesky_account_connects_with_an_app_password_publishes_a_link_and_refreshes);

const APP_PASSWORD: &str = "abcd-1234-efgh-5678";

async fn a_bluesky_account_connects_with_an_app_password_publishes_a_link_and_refreshes(app: TestApp) {
    // Access JWTs of 10 minutes: inside the refresher's look-ahead, so a sweep renews them.
    let sandbox = Sandbox::start(&["--token-ttl", "600"]).await;
    let platform = app.create_platform(json!({"name": "Bluesky Bakery", "auth_type": "oauth2"})).await;
    let id = platform["id"].as_str().unwrap().to_owned();
    // Only the PDS: sessions are opened and renewed there, whatever the catalog's token URL says.
    let settings = json!({"provider": "bluesky", "api_base_url": sandbox.base});
    let (status, body) = app.send_json(reqwest::Method::PUT, &format!("/api/platforms/{id}/oauth"), settings).await;
    assert_eq!(status, 200, "{body}");
    let (_, view) = app.get_json(&format!("/api/platforms/{id}/oauth")).await;
    assert_eq!((view["oauth"]["app_password"].as_bool(), view["oauth"]["not_ready"].as_str()), (Some(true), None), "no client to register: {view}");

    let (browser, _) = signed_in_browser(&app, Role::Marketer).await;
    let page = browser.get(app.url(&format!("/platforms/{id}"))).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("App password") && !page.contains(">Re-authenticate<"), "the sign-in form, not an OAuth button");

    let path = format!("/oauth/{id}/app-password");
    let refused = browser_post(&app, &browser, &path, &[("handle", "@Alice.test"), ("password", "my account password")]).await;
    assert_eq!(location(&refused), format!("/platforms/{id}?notice=app_password_refused"));
    assert_eq!(count(&app, "SELECT COUNT(*) FROM accounts").await, 0, "nothing stored");
    let signed_in = browser_post(&app, &browser, &path, &[("handle", "@Alice.test"), ("password", APP_PASSWORD)]).await;
    assert_eq!(location(&signed_in), format!("/platforms/{id}?notice=connected"));

    let (_, accounts) = app.get_json(&format!("/api/platforms/{id}/accounts")).await;
    let account = accounts["accounts"][0].clone();
    assert_eq!(account["name"], "alice.test");
    assert!(account["external_id"].as_str().unwrap().starts_with("did:plc:"), "{account}");
    assert_eq!(account["has_refresh_token"], true, "the session's refresh JWT is kept");
    let expires: chrono::DateTime<chrono::Utc> = account["expires_at"].as_str().unwrap().parse().unwrap();
    assert!((expires - chrono::Utc::now()).num_minutes() <= 10, "read from the access JWT's exp");

    // The app password was used once and is stored nowhere.
    let mut stored = Vec::new();
    let secrets: Vec<(Vec<u8>,)> = on_db!(&app.db, |pool| sqlx::query_as("SELECT ciphertext FROM secrets").fetch_all(pool).await).unwrap();
    secrets.into_iter().for_each(|(c,)| stored.extend(c));
    let audit: Vec<(String,)> = on_db!(&app.db, |pool| sqlx::query_as("SELECT action || COALESCE(detail, '') FROM audit_events").fetch_all(pool).await).unwrap();
    audit.into_iter().for_each(|(t,)| stored.extend(t.into_bytes()));
    assert!(!contains(&stored, APP_PASSWORD) && !contains(&stored, "eyJ0eXAi"), "no app password and no JWT in clear");

    // A post with a link: the link becomes a facet the PDS checks byte for byte.
    let account_id = account["id"].as_str().unwrap().to_owned();
    let form = PostForm { text: "Croissants ☕ today".into(), link: "https://example.com/menu".into(), accounts: vec![account_id.clone()], action: "now".into(), ..Default::default() };
    let post = publish::create(&app.state, &Caller::default(), form).await.unwrap();
    publish::worker::process_due(&app.state).await;
    let delivery = publish::get(&app.state, post.id).await.unwrap().deliveries.remove(0);
    assert_eq!(delivery.status, DeliveryStatus::Published, "{:?}", delivery.error);
    let url = delivery.provider_url.unwrap();
    assert!(url.starts_with(&format!("https://bsky.app/profile/{}/post/", account["external_id"].as_str().unwrap())), "{url}");
    let rkey = url.rsplit('/').next().unwrap();
    let shown = sandbox.page(&format!("/posts/{rkey}")).await;
    assert!(shown.contains("Croissants ☕ today") && shown.contains("href=\"https://example.com/menu\""), "the link arrived as a link");

    // With two images: each goes up with uploadBlob, and the record embeds them with their
    // alt text and aspect ratio (the personality checks the embed as the lexicon says).
    let (one, two) = (crate::media::uploaded(&app, crate::media::PHOTO).await, crate::media::uploaded(&app, crate::media::PHOTO_2).await);
    let media = vec![
        keyport::domain::MediaPick { id: one["id"].as_str().unwrap().into(), alt: "A croissant".into() },
        keyport::domain::MediaPick { id: two["id"].as_str().unwrap().into(), alt: "The counter".into() },
    ];
    let form = PostForm { text: "Pictured".into(), accounts: vec![account_id.clone()], action: "now".into(), media, ..Default::default() };
    let post = publish::create(&app.state, &Caller::default(), form).await.unwrap();
    publish::worker::process_due(&app.state).await;
    let delivery = publish::get(&app.state, post.id).await.unwrap().deliveries.remove(0);
    assert_eq!(delivery.status, DeliveryStatus::Published, "{:?}", delivery.error);
    let shown = sandbox.page(&format!("/posts/{}", delivery.provider_url.unwrap().rsplit('/').next().unwrap())).await;
    assert!(shown.find("alt=\"A croissant\"").unwrap() < shown.find("alt=\"The counter\"").unwrap(), "{shown}");
    assert_eq!(sandbox.stats().await["media_uploads"], 2);

    // A video goes alone, as an app.bsky.embed.video with its alt text.
    let mut video = b"\0\0\0\x18ftypmp42\0\0\0\0isommp42".to_vec();
    video.resize(200 * 1024, 7);
    let clip = crate::media::uploaded(&app, &video).await;
    let media = vec![keyport::domain::MediaPick { id: clip["id"].as_str().unwrap().into(), alt: "Folding the dough".into() }];
    let form = PostForm { text: "How we fold".into(), accounts: vec![account_id.clone()], action: "now".into(), media, ..Default::default() };
    let post = publish::create(&app.state, &Caller::default(), form).await.unwrap();
    publish::worker::process_due(&app.state).await;
    let delivery = publish::get(&app.state, post.id).await.unwrap().deliveries.remove(0);
    assert_eq!(delivery.status, DeliveryStatus::Published, "{:?}", delivery.error);
    let shown = sandbox.page(&format!("/posts/{}", delivery.provider_url.unwrap().rsplit('/').next().unwrap())).await;
    assert!(shown.contains("<video src=") && shown.contains("aria-label=\"Folding the dough\""), "{shown}");

    // The refresher renews the session with refreshSession (the old refresh JWT is spent).
    let before = sandbox.stats().await["refreshes"].as_u64().unwrap();
    assert_eq!(worker::sweep(&app.state, || {}).await, 1);
    assert_eq!(sandbox.stats().await["refreshes"].as_u64().unwrap(), before + 1);
    let (_, accounts) = app.get_json(&format!("/api/platforms/{id}/accounts")).await;
    assert!(accounts["accounts"][0]["last_refreshed_at"].is_string());
    assert_eq!(accounts["accounts"][0]["needs_attention"], false);
}
