//! Instagram and Threads against the sandbox's personalities (`/instagram/…`,
//! `/threads/…`): Threads and Instagram fetch a post's files from the links Keyport lends
//! (one image, a carousel); the code's short-lived token is exchanged for a 60-day one at connect,
//! and the refresher renews it a week before it runs out, once it is a day old — with the
//! token itself, there being no refresh token. Threads then publishes a text post
//! (container, then publication). SQLite and PostgreSQL.

use crate::common::{sandbox::{connect_as, platform_with, Sandbox}, signed_in_browser, TestApp};
use keyport::{
    domain::{DeliveryStatus, PostForm, Role},
    on_db,
    server::{auth::Caller, oauth::worker, publish},
};
use serde_json::{json, Value};

on_both_backends!(instagram_and_threads_keep_a_long_lived_token_and_renew_it, threads_and_instagram_fetch_the_files_from_the_links_keyport_lends);

async fn platform(app: &TestApp, sandbox: &Sandbox, provider: &str, version: &str) -> String {
    let base = sandbox.url(&format!("/{provider}"));
    let settings = json!({
        "provider": provider,
        "authorize_url": format!("{base}/oauth/authorize"), "token_url": format!("{base}/oauth/access_token"),
        "userinfo_url": format!("{base}/{version}/me"), "api_base_url": format!("{base}/{version}"),
    });
    platform_with(app, sandbox, settings).await
}

async fn account(app: &TestApp, id: &str) -> Value {
    app.get_json(&format!("/api/platforms/{id}/accounts")).await.1["accounts"][0].clone()
}

fn days_left(account: &Value) -> i64 {
    let at: chrono::DateTime<chrono::Utc> = account["expires_at"].as_str().unwrap().parse().unwrap();
    (at - chrono::Utc::now()).num_days()
}

async fn instagram_and_threads_keep_a_long_lived_token_and_renew_it(app: TestApp) {
    let sandbox = Sandbox::start(&["--min-renew-age", "0"]).await;
    let (browser, _) = signed_in_browser(&app, Role::Marketer).await;
    for (provider, version, name) in [("instagram", "v25.0", "Insta Bakery"), ("threads", "v1.0", "Thread Bakery")] {
        let id = platform(&app, &sandbox, provider, version).await;
        let before = sandbox.stats().await["long_lived_exchanges"].as_u64().unwrap();
        assert_eq!(connect_as(&app, &sandbox, &browser, &id, name).await, format!("/platforms/{id}?notice=connected"), "{provider}");
        assert_eq!(sandbox.stats().await["long_lived_exchanges"].as_u64().unwrap(), before + 1, "{provider}: exchanged at connect");
        let a = account(&app, &id).await;
        assert_eq!(a["name"], name.to_lowercase().replace(' ', "-"), "{provider}: named by /me");
        assert!(a["external_id"].as_str().unwrap().bytes().all(|b| b.is_ascii_digit()), "{provider}: the numeric user id");
        assert_eq!((a["renews"].as_bool(), a["has_refresh_token"].as_bool()), (Some(true), Some(false)), "{provider}");
        assert!((59..=60).contains(&days_left(&a)), "{provider}: a 60-day token, not the short-lived hour: {}", days_left(&a));

        // Not renewed while young and far from its end.
        assert_eq!(worker::sweep(&app.state, || {}).await, 0, "{provider}");

        // A day old and within a week of its end: the refresher renews it.
        let account_id: uuid::Uuid = a["id"].as_str().unwrap().parse().unwrap();
        let (connected, expires) = (chrono::Utc::now() - chrono::Duration::days(55), chrono::Utc::now() + chrono::Duration::days(5));
        on_db!(&app.db, |pool| sqlx::query("UPDATE accounts SET connected_at = $1, expires_at = $2 WHERE id = $3").bind(connected).bind(expires).bind(account_id).execute(pool).await.map(|_| ())).unwrap();
        let renewed = sandbox.stats().await["renewals"].as_u64().unwrap();
        assert_eq!(worker::sweep(&app.state, || {}).await, 1, "{provider}");
        assert_eq!(sandbox.stats().await["renewals"].as_u64().unwrap(), renewed + 1);
        let a = account(&app, &id).await;
        assert!((59..=60).contains(&days_left(&a)), "{provider}: renewed for 60 days: {}", days_left(&a));
        assert_eq!(a["needs_attention"], false);
        assert_eq!(worker::warn_expiring(&app.state).await, 0, "{provider}: nothing to warn about, it renews");

        // Threads publishes text: a container, then its publication, with the renewed token.
        if provider == "threads" {
            let form = PostForm { text: "Fresh loaves at nine".into(), link: "https://example.com/bread".into(), accounts: vec![account_id.to_string()], action: "now".into(), ..Default::default() };
            let post = publish::create(&app.state, &Caller::default(), form).await.unwrap();
            publish::worker::process_due(&app.state).await;
            let delivery = publish::get(&app.state, post.id).await.unwrap().deliveries.remove(0);
            assert_eq!(delivery.status, DeliveryStatus::Published, "{:?}", delivery.error);
            let url = delivery.provider_url.unwrap();
            assert!(url.starts_with(&sandbox.url("/posts/")), "{url}");
            let page = sandbox.page(url.trim_start_matches(&sandbox.base)).await;
            assert!(page.contains("Fresh loaves at nine") && page.contains("https://example.com/bread"), "the link goes with the text");
        }
    }
}

async fn threads_and_instagram_fetch_the_files_from_the_links_keyport_lends(app: TestApp) {
    let sandbox = Sandbox::start(&[]).await;
    let (browser, _) = signed_in_browser(&app, Role::Marketer).await;
    let (photo, photo_2) = (crate::media::uploaded(&app, crate::media::PHOTO).await, crate::media::uploaded(&app, crate::media::PHOTO_2).await);
    let webp = crate::media::uploaded(&app, crate::media::WEBP).await;
    for (provider, version, name, label, takes) in [("threads", "v1.0", "Thread Bakery", "Threads", "JPEG image, PNG image, MP4 video"), ("instagram", "v25.0", "Insta Bakery", "Instagram", "JPEG image, MP4 video")] {
        let id = platform(&app, &sandbox, provider, version).await;
        connect_as(&app, &sandbox, &browser, &id, name).await;
        let account_id = account(&app, &id).await["id"].as_str().unwrap().to_owned();
        let form = |text: &str, files: &[(&Value, &str)]| PostForm {
            text: text.into(),
            accounts: vec![account_id.clone()],
            action: "now".into(),
            media: files.iter().map(|(m, alt)| keyport::domain::MediaPick { id: m["id"].as_str().unwrap().into(), alt: (*alt).into() }).collect(),
            ..Default::default()
        };
        // One image: a container whose image_url is Keyport's lent link, fetched by the
        // sandbox over HTTP; then a carousel of two, in order, each with its alt text.
        for (text, files) in [("A loaf", vec![(&photo_2, "A loaf on a board")]), ("Our morning", vec![(&photo, "The oven at dawn"), (&photo_2, "A loaf on a board")])] {
            let post = publish::create(&app.state, &Caller::default(), form(text, &files)).await.unwrap();
            publish::worker::process_due(&app.state).await;
            let delivery = publish::get(&app.state, post.id).await.unwrap().deliveries.remove(0);
            assert_eq!(delivery.status, DeliveryStatus::Published, "{provider}: {:?}", delivery.error);
            let page = sandbox.page(delivery.provider_url.unwrap().trim_start_matches(&sandbox.base)).await;
            assert!(page.contains(text), "{provider}: the caption");
            let at: Vec<usize> = files.iter().map(|(_, alt)| page.find(&format!("alt=\"{alt}\"")).unwrap_or_else(|| panic!("{provider}: {alt}: {page}"))).collect();
            assert!(at.windows(2).all(|w| w[0] < w[1]), "{provider}: in the order chosen");
            // What the provider fetched is the file Keyport stored.
            let src = page[..at[0]].rsplit("src=\"").next().unwrap().split('"').next().unwrap();
            let fetched = reqwest::get(sandbox.url(src)).await.unwrap().bytes().await.unwrap();
            let stored = app.client.get(app.url(&format!("/api/media/{}/content", files[0].0["id"].as_str().unwrap()))).send().await.unwrap().bytes().await.unwrap();
            assert_eq!(fetched, stored, "{provider}");
        }

        // This server's PUBLIC_URL is loopback: the composer warns that the provider could
        // not fetch files from it (here the sandbox can, being on the same machine).
        let (targets, _) = publish::choices(&app.state).await.unwrap();
        let target = targets.iter().find(|t| t.account_id.to_string() == account_id).unwrap();
        let warning = target.unreachable.as_deref().expect("a warning for a loopback PUBLIC_URL");
        assert!(warning.starts_with(&format!("{label} fetches each file from Keyport at {}, which the internet cannot reach: set PUBLIC_URL", app.base)), "{warning}");

        // A type the provider does not take is refused by name before anything is sent.
        let refused = publish::create(&app.state, &Caller::default(), form("Cake", &[(&webp, "A cake")])).await.unwrap_err().to_string();
        assert!(refused.contains(&format!("{label} takes {takes}, not a WebP image")), "{refused}");
        // Instagram takes images from 4:5 to 1.91:1: a 1:4 one is refused with its size.
        if provider == "instagram" {
            let tall = crate::media::uploaded(&app, &resized_jpeg(crate::media::PHOTO, 48, 192)).await;
            assert_eq!((tall["width"].as_u64(), tall["height"].as_u64()), (Some(48), Some(192)), "{tall}");
            let refused = publish::create(&app.state, &Caller::default(), form("Tall", &[(&tall, "A tall loaf")])).await.unwrap_err().to_string();
            assert!(refused.contains("Instagram takes images from 0.8:1 (tallest) to 1.91:1 (widest); this one is 48×192"), "{refused}");
        }
        // Instagram has no text-only posts; Threads has.
        let text_only = publish::create(&app.state, &Caller::default(), form("Just words", &[])).await;
        match provider {
            "instagram" => assert!(text_only.unwrap_err().to_string().contains("Instagram posts need an image or a video"), "{provider}"),
            _ => assert!(text_only.is_ok(), "{provider}"),
        }
    }
}

/// The JPEG with other dimensions in its frame header (SOF0): enough for a size check,
/// which reads the header, not the pixels.
fn resized_jpeg(jpeg: &[u8], width: u16, height: u16) -> Vec<u8> {
    let mut bytes = jpeg.to_vec();
    let sof = bytes.windows(2).position(|w| w == [0xFF, 0xC0]).expect("a baseline JPEG");
    bytes[sof + 5..sof + 7].copy_from_slice(&height.to_be_bytes());
    bytes[sof + 7..sof + 9].copy_from_slice(&width.to_be_bytes());
    bytes
}
