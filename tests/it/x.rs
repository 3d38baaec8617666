//! X against the sandbox's X personality (`/x/…`, X's paths and shapes): connect with PKCE
//! and a confidential client, the account from `/2/users/me`, a rotating refresh token,
//! a post through `/2/tweets`, a duplicate refused as the post's fault (not the token's),
//! and disconnect with a revocation; images and a video through X's chunked media upload,
//! each with its alt text, not uploaded again on a retry; a burst of posts kept to X's
//! posting limit, one at a time and in order. SQLite and PostgreSQL.

use crate::common::{browser_post, first_account, location, sandbox::{connect_as, platform_with, Sandbox}, signed_in_browser, TestApp};
use keyport::{
    domain::{DeliveryStatus, PostForm, Role},
    server::{auth::Caller, oauth::tokens, publish},
};
use serde_json::json;
use std::time::Duration;

on_both_backends!(
    an_x_account_connects_with_pkce_refreshes_and_posts,
    x_posts_carry_images_and_a_chunked_video_with_their_alt_text,
    a_burst_to_one_x_account_goes_in_order_and_keeps_to_xs_posting_limit,
);

/// An X platform whose endpoints are the sandbox's X personality.
async fn x_platform(app: &TestApp, sandbox: &Sandbox) -> String {
    let base = sandbox.url("/x");
    let settings = json!({
        "provider": "x",
        "authorize_url": format!("{base}/i/oauth2/authorize"), "token_url": format!("{base}/2/oauth2/token"),
        "revoke_url": format!("{base}/2/oauth2/revoke"), "userinfo_url": format!("{base}/2/users/me"), "api_base_url": base,
    });
    platform_with(app, sandbox, settings).await
}

async fn an_x_account_connects_with_pkce_refreshes_and_posts(app: TestApp) {
    let sandbox = Sandbox::start(&[]).await;
    let id = x_platform(&app, &sandbox).await;

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

async fn x_posts_carry_images_and_a_chunked_video_with_their_alt_text(app: TestApp) {
    let sandbox = Sandbox::start(&[]).await;
    let id = x_platform(&app, &sandbox).await;
    let (browser, _) = signed_in_browser(&app, Role::Marketer).await;
    connect_as(&app, &sandbox, &browser, &id, "Crumb Shop").await;
    let account = first_account(&app, &id).await;
    let published = |post: serde_json::Value| {
        let post: uuid::Uuid = post["post"]["id"].as_str().unwrap().parse().unwrap();
        let app = &app;
        async move {
            publish::worker::process_due(&app.state).await;
            publish::get(&app.state, post).await.unwrap().deliveries.remove(0)
        }
    };

    // Two images; the post itself fails once after they went up.
    let (one, two) = (crate::media::uploaded(&app, crate::media::PHOTO).await, crate::media::uploaded(&app, crate::media::PHOTO_2).await);
    let media = json!([{"id": two["id"], "alt": "Loaves on the counter"}, {"id": one["id"], "alt": "The oven at dawn"}]);
    sandbox.fault("posts", "500", 1, 0).await;
    let (status, post) = app.post_json("/api/posts", json!({"text": "Fresh bread", "accounts": [account], "action": "now", "media": media})).await;
    assert_eq!(status, 201, "{post}");
    let d = published(post.clone()).await;
    assert_eq!(d.status, DeliveryStatus::Queued, "retrying: {:?}", d.error);
    assert!(d.error.as_deref().unwrap().starts_with("posting: the provider failed (HTTP 500)"), "{:?}", d.error);
    assert_eq!(sandbox.stats().await["media_uploads"], 2);
    app.execute("UPDATE deliveries SET due_at = '2000-01-01T00:00:00Z' WHERE status = 'queued'").await;
    let d = published(post).await;
    assert_eq!(d.status, DeliveryStatus::Published, "{:?}", d.error);
    assert_eq!(sandbox.stats().await["media_uploads"], 2, "the retry reused the media ids X already had");
    // A media id X no longer has (they expire after about a day) is uploaded again.
    sandbox.fault("posts", "500", 1, 0).await;
    let (_, again) = app.post_json("/api/posts", json!({"text": "Fresh bread, again", "accounts": [account], "action": "now", "media": [{"id": one["id"], "alt": "The oven at dawn"}]})).await;
    let retried = published(again.clone()).await;
    assert_eq!(retried.status, DeliveryStatus::Queued, "{:?}", retried.error);
    app.execute("UPDATE delivery_media SET provider_ref = '1234567890'").await;
    app.execute("UPDATE deliveries SET due_at = '2000-01-01T00:00:00Z' WHERE status = 'queued'").await;
    let retried = published(again).await;
    assert_eq!(retried.status, DeliveryStatus::Published, "{:?}", retried.error);
    assert_eq!(sandbox.stats().await["media_uploads"], 4, "uploaded once more, after X said it had no such media");

    let page = sandbox.page(&format!("/posts/{}", d.provider_post_id.unwrap())).await;
    let first = page.find("alt=\"Loaves on the counter\"").expect("the first image with its alt text (POST /2/media/metadata)");
    let second = page.find("alt=\"The oven at dawn\"").expect("the second image with its alt text");
    assert!(first < second, "in the order chosen");

    // A 6 MiB video: initialize, two appends, finalize, processing; it arrives whole.
    let mut video = b"\0\0\0\x18ftypmp42\0\0\0\0isommp42".to_vec();
    video.extend((0..6 * 1024 * 1024).map(|i: u32| (i % 251) as u8));
    let clip = crate::media::uploaded(&app, &video).await;
    assert_eq!(clip["media_type"], "video/mp4");
    let (_, post) = app.post_json("/api/posts", json!({"text": "How we shape a loaf", "accounts": [account], "action": "now", "media": [{"id": clip["id"], "alt": "Hands folding dough"}]})).await;
    let d = published(post).await;
    assert_eq!(d.status, DeliveryStatus::Published, "{:?}", d.error);
    let page = sandbox.page(&format!("/posts/{}", d.provider_post_id.unwrap())).await;
    let src = page.split("<video src=\"").nth(1).expect("a video on the post").split('"').next().unwrap();
    assert!(page.contains("aria-label=\"Hands folding dough\""), "{page}");
    let arrived = reqwest::get(sandbox.url(src)).await.unwrap().bytes().await.unwrap();
    assert!(arrived[..] == video[..], "the segments were sent in order and complete ({} of {} bytes)", arrived.len(), video.len());

    // A video whose header says 21 minutes: stored with its length, refused for X (20).
    let long = crate::media::uploaded(&app, &mp4_lasting(1_260_000)).await;
    assert_eq!(long["duration_ms"], 1_260_000, "{long}");
    let (status, refused) = app.post_json("/api/posts", json!({"text": "The whole bake", "accounts": [account], "action": "now", "media": [{"id": long["id"], "alt": "Baking, start to end"}]})).await;
    assert_eq!(status, 422, "{refused}");
    assert_eq!(refused["error"]["fields"][0]["message"], "file 1: X (Twitter) takes video up to 20 min; this one is 21 min");
}

/// An MP4 whose movie header (`moov` → `mvhd`, version 0, timescale 1000) says `ms`.
fn mp4_lasting(ms: u32) -> Vec<u8> {
    let boxed = |kind: &[u8], body: &[u8]| [&((body.len() + 8) as u32).to_be_bytes()[..], kind, body].concat();
    let mvhd = [&[0u8; 4][..], &[0; 8], &1000u32.to_be_bytes(), &ms.to_be_bytes(), &[0; 80]].concat();
    [boxed(b"ftyp", b"mp42\0\0\0\0isommp42"), boxed(b"moov", &boxed(b"mvhd", &mvhd)), boxed(b"mdat", &[5; 4096])].concat()
}

/// 101 posts due at once to one X account and one to another: the worker sends one per
/// account at a time, in the order they fell due, stops at X's 100 posts per 15 minutes
/// (providers.toml) and says so on the 101st, which waits until the first leaves the
/// window; the other account is not held up.
async fn a_burst_to_one_x_account_goes_in_order_and_keeps_to_xs_posting_limit(app: TestApp) {
    let sandbox = Sandbox::start(&[]).await;
    let id = x_platform(&app, &sandbox).await;
    let (browser, _) = signed_in_browser(&app, Role::Marketer).await;
    connect_as(&app, &sandbox, &browser, &id, "Crumb Shop").await;
    let busy = first_account(&app, &id).await;
    connect_as(&app, &sandbox, &browser, &id, "Rye Corner").await;
    let (_, accounts) = app.get_json(&format!("/api/platforms/{id}/accounts")).await;
    let other = accounts["accounts"].as_array().unwrap().iter().map(|a| a["id"].as_str().unwrap().to_owned()).find(|a| *a != busy).unwrap();
    let now = |account: &str, text: String| PostForm { text, accounts: vec![account.to_owned()], action: "now".into(), ..Default::default() };
    let mut burst = Vec::new();
    for i in 1..=101 {
        burst.push(publish::create(&app.state, &Caller::default(), now(&busy, format!("Loaf number {i}"))).await.unwrap().id);
    }
    let elsewhere = publish::create(&app.state, &Caller::default(), now(&other, "Rye at noon".into())).await.unwrap().id;

    assert_eq!(publish::worker::process_due(&app.state).await, 2, "one delivery per account in a round");
    assert_eq!(publish::get(&app.state, elsewhere).await.unwrap().deliveries[0].status, DeliveryStatus::Published, "the other account is not held up");
    let mut rounds = 1;
    while publish::worker::process_due(&app.state).await > 0 {
        rounds += 1;
    }
    assert_eq!(rounds, 100, "one of the busy account's deliveries per round");

    let mut sent = Vec::new();
    for post in &burst[..100] {
        let d = publish::get(&app.state, *post).await.unwrap().deliveries.remove(0);
        assert_eq!(d.status, DeliveryStatus::Published, "{:?}", d.error);
        sent.push(d.updated_at);
    }
    assert!(sent.windows(2).all(|w| w[0] < w[1]), "published in the order they fell due: {sent:?}");
    let waiting = publish::get(&app.state, burst[100]).await.unwrap().deliveries.remove(0);
    assert_eq!((waiting.status, waiting.attempts), (DeliveryStatus::Queued, 0), "not an attempt: nothing was sent");
    assert_eq!(waiting.error.as_deref(), Some("waiting for X (Twitter)'s limit of 100 posts per 15 minutes from one account"));
    let wait = waiting.due_at - chrono::Utc::now();
    assert!(wait > chrono::Duration::minutes(14) && wait <= chrono::Duration::minutes(15), "until the first post leaves the window: {wait}");
    assert_eq!(sandbox.stats().await["posts"], 101, "X saw 100 posts from the busy account and one from the other");
}
