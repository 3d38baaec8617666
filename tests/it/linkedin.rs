//! LinkedIn against the sandbox's LinkedIn personality (`/linkedin/…`): connect without
//! PKCE, a 60-day token and no refresh token, publish through the versioned Posts API as
//! the member, images through the Images API (one, or a MultiImage post) with their alt
//! text, and a retired version named as the platform's setting to fix. SQLite and
//! PostgreSQL.

use crate::common::{sandbox::{connect_as, Sandbox}, signed_in_browser, TestApp};
use keyport::{
    domain::{DeliveryStatus, MediaPick, PostForm, Role},
    server::{auth::Caller, publish},
};
use serde_json::{json, Value};

on_both_backends!(a_linkedin_member_connects_and_publishes_and_a_retired_version_is_named);

async fn a_linkedin_member_connects_and_publishes_and_a_retired_version_is_named(app: TestApp) {
    let sandbox = Sandbox::start(&[]).await;
    let platform = app.create_platform(json!({"name": "LinkedIn Brand", "auth_type": "oauth2"})).await;
    let id = platform["id"].as_str().unwrap().to_owned();
    let (_, view) = app.get_json(&format!("/api/platforms/{id}/oauth")).await;
    let (client_id, secret) = sandbox.register(view["oauth"]["redirect_uri"].as_str().unwrap()).await;
    let base = sandbox.url("/linkedin");
    let settings = |version: Option<&str>| {
        json!({
            "provider": "linkedin", "client_id": client_id,
            "authorize_url": format!("{base}/oauth/v2/authorization"), "token_url": format!("{base}/oauth/v2/accessToken"),
            "userinfo_url": format!("{base}/v2/userinfo"), "revoke_url": "", "api_base_url": base,
            "api_version": version.unwrap_or_default(),
        })
    };
    let path = format!("/api/platforms/{id}/oauth");
    let (status, body) = app.send_json(reqwest::Method::PUT, &path, settings(None)).await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = app.send_json(reqwest::Method::PUT, &format!("/api/platforms/{id}/secrets/client_secret"), json!({"value": secret})).await;
    assert!(status == 200 || status == 204, "{status} {body}");

    let (browser, _) = signed_in_browser(&app, Role::Marketer).await;
    assert_eq!(connect_as(&app, &sandbox, &browser, &id, "Lee Member").await, format!("/platforms/{id}?notice=connected"));
    let (_, accounts) = app.get_json(&format!("/api/platforms/{id}/accounts")).await;
    let account: &Value = &accounts["accounts"][0];
    assert_eq!(account["name"], "Lee Member");
    assert_eq!(account["has_refresh_token"], false, "LinkedIn gives web apps no refresh token");
    let expires: chrono::DateTime<chrono::Utc> = account["expires_at"].as_str().unwrap().parse().unwrap();
    let days = (expires - chrono::Utc::now()).num_days();
    assert!((59..=60).contains(&days), "a 60-day token: {days} days");

    // Published as the member, with the catalog's version.
    let account_id = account["id"].as_str().unwrap().to_owned();
    let publish_now = |text: &str| PostForm { text: text.into(), accounts: vec![account_id.clone()], action: "now".into(), ..Default::default() };
    let post = publish::create(&app.state, &Caller::default(), publish_now("Hiring engineers")).await.unwrap();
    publish::worker::process_due(&app.state).await;
    let delivery = publish::get(&app.state, post.id).await.unwrap().deliveries.remove(0);
    assert_eq!(delivery.status, DeliveryStatus::Published, "{:?}", delivery.error);
    let urn = delivery.provider_post_id.unwrap();
    assert!(urn.starts_with("urn:li:share:"), "{urn}");
    assert!(sandbox.page(&format!("/posts/{}", urn.trim_start_matches("urn:li:share:"))).await.contains("Lee Member"));

    // Images through the Images API, each with its alt text: one as `content.media`, two as
    // a MultiImage post; a WebP, which LinkedIn does not take, is refused by name.
    let (photo, png) = (crate::media::uploaded(&app, crate::media::PHOTO).await, crate::media::uploaded(&app, crate::media::PNG).await);
    let with = |text: &str, files: &[(&Value, &str)]| PostForm {
        media: files.iter().map(|(m, alt)| MediaPick { id: m["id"].as_str().unwrap().into(), alt: (*alt).into() }).collect(),
        ..publish_now(text)
    };
    for (text, files) in [("Our office", vec![(&photo, "The office at noon")]), ("Team day", vec![(&png, "The team on the roof"), (&photo, "Lunch")])] {
        let post = publish::create(&app.state, &Caller::default(), with(text, &files)).await.unwrap();
        publish::worker::process_due(&app.state).await;
        let delivery = publish::get(&app.state, post.id).await.unwrap().deliveries.remove(0);
        assert_eq!(delivery.status, DeliveryStatus::Published, "{:?}", delivery.error);
        let page = sandbox.page(&format!("/posts/{}", delivery.provider_post_id.unwrap().trim_start_matches("urn:li:share:"))).await;
        let at: Vec<usize> = files.iter().map(|(_, alt)| page.find(&format!("alt=\"{alt}\"")).unwrap_or_else(|| panic!("{alt} on {page}"))).collect();
        assert!(at.windows(2).all(|w| w[0] < w[1]), "in the order chosen");
    }
    assert_eq!(sandbox.stats().await["media_uploads"], 3, "initializeUpload and PUT once per file");
    let webp = crate::media::uploaded(&app, crate::media::WEBP).await;
    let refused = publish::create(&app.state, &Caller::default(), with("Pictured", &[(&webp, "A cake")])).await.unwrap_err().to_string();
    assert!(refused.contains("LinkedIn takes JPEG image, PNG image, GIF image, MP4 video, not a WebP image"), "{refused}");

    // A video through the Videos API: initializeUpload, two 4 MiB parts PUT with their
    // ETags collected, finalizeUpload, then the post once LinkedIn has processed it.
    let mut video = b"\0\0\0\x18ftypmp42\0\0\0\0isommp42".to_vec();
    video.extend((0..6 * 1024 * 1024).map(|i| (i % 251) as u8));
    let clip = crate::media::uploaded(&app, &video).await;
    let post = publish::create(&app.state, &Caller::default(), with("How we work", &[(&clip, "A morning at the office")])).await.unwrap();
    publish::worker::process_due(&app.state).await;
    let delivery = publish::get(&app.state, post.id).await.unwrap().deliveries.remove(0);
    assert_eq!(delivery.status, DeliveryStatus::Published, "{:?}", delivery.error);
    let page = sandbox.page(&format!("/posts/{}", delivery.provider_post_id.unwrap().trim_start_matches("urn:li:share:"))).await;
    let src = page.split("<video src=\"").nth(1).unwrap_or_else(|| panic!("the video on {page}")).split('"').next().unwrap();
    let arrived = reqwest::get(sandbox.url(src)).await.unwrap().bytes().await.unwrap();
    assert!(arrived[..] == video[..], "the video arrived whole, its parts in order");

    // A platform still on a retired version: the platform's setting is named, not the post.
    let (status, body) = app.send_json(reqwest::Method::PUT, &path, settings(Some("202401"))).await;
    assert_eq!(status, 200, "{body}");
    let post = publish::create(&app.state, &Caller::default(), publish_now("Still hiring")).await.unwrap();
    publish::worker::process_due(&app.state).await;
    let delivery = publish::get(&app.state, post.id).await.unwrap().deliveries.remove(0);
    assert_eq!(delivery.status, DeliveryStatus::Failed);
    let error = delivery.error.unwrap_or_default();
    assert!(error.starts_with("LinkedIn no longer accepts API version 202401: an admin must set a newer version"), "{error}");
}
