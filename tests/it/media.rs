//! Images and video: `POST /api/media` stores a file by the hash of what is kept, reads its
//! real type, strips an image's location; it is served only to signed-in people or through
//! a link that expires; posts carry files to the sandbox (and its Mastodon personality),
//! whose pages show them; a retry after a failed post does not upload again. Storage on the
//! filesystem (every test) and on an S3 server (moto). SQLite and PostgreSQL.

use crate::common;

use common::{
    moto::Moto,
    json_of,
    sandbox::{connect, sandbox_platform, Sandbox},
    signed_in_browser, TestApp, TEST_KEY,
};
use keyport::{
    domain::{DeliveryStatus, Role},
    server::{media, publish},
};
use object_store::ObjectStoreExt;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use uuid::Uuid;

on_both_backends!(
    an_upload_is_stored_by_hash_with_its_real_type_and_no_location,
    media_is_served_only_to_signed_in_people_or_through_an_unexpired_link,
    uploads_past_the_limit_are_refused_while_they_stream,
    a_post_carries_its_images_with_alt_text_to_the_sandbox,
    a_retry_after_the_post_failed_does_not_upload_the_files_again,
    the_composer_refuses_media_a_network_does_not_take,
    media_is_stored_on_an_s3_server,
);

pub const PHOTO: &[u8] = include_bytes!("../fixtures/media/photo.jpg");
pub const PHOTO_2: &[u8] = include_bytes!("../fixtures/media/photo-2.jpg");
pub const PNG: &[u8] = include_bytes!("../fixtures/media/photo.png");
pub const WEBP: &[u8] = include_bytes!("../fixtures/media/photo.webp");
const GIF: &[u8] = include_bytes!("../fixtures/media/anim.gif");
const NOT_AN_IMAGE: &[u8] = include_bytes!("../fixtures/media/not-an-image.jpg");

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// Uploads `bytes` as the multipart field `file`, named and typed as a browser might lie.
async fn upload(client: &reqwest::Client, app: &TestApp, bytes: &[u8], name: &str, claimed_type: &str) -> (u16, Value) {
    let part = reqwest::multipart::Part::bytes(bytes.to_vec()).file_name(name.to_owned()).mime_str(claimed_type).unwrap();
    let form = reqwest::multipart::Form::new().part("file", part);
    json_of(client.post(app.url("/api/media")).multipart(form).send().await.unwrap()).await
}

pub async fn uploaded(app: &TestApp, bytes: &[u8]) -> Value {
    let (status, json) = upload(&app.client, app, bytes, "photo.jpg", "image/jpeg").await;
    assert_eq!(status, 201, "{json}");
    json["media"].clone()
}

async fn an_upload_is_stored_by_hash_with_its_real_type_and_no_location(app: TestApp) {
    // A JPEG named and typed as a PNG: the bytes decide.
    let (status, json) = upload(&app.client, &app, PHOTO, "holiday.png", "image/png").await;
    assert_eq!(status, 201, "{json}");
    let stored = &json["media"];
    assert_eq!(stored["media_type"], "image/jpeg");
    assert_eq!((stored["width"].as_u64(), stored["height"].as_u64()), (Some(64), Some(48)));
    let id = stored["id"].as_str().unwrap();
    assert_eq!(stored["url"], format!("/api/media/{id}/content"));

    let kept = app.client.get(app.url(&format!("/api/media/{id}/content"))).send().await.unwrap();
    assert_eq!(kept.headers()["content-type"], "image/jpeg");
    let kept = kept.bytes().await.unwrap();
    assert!(contains(PHOTO, b"KeyportCam") && contains(PHOTO, b"Exif\0\0"), "the fixture carries EXIF with a GPS position");
    assert!(!contains(&kept, b"Exif\0\0") && !contains(&kept, b"KeyportCam") && !contains(&kept, b"xmpmeta"), "EXIF and XMP are gone");
    assert_eq!(stored["bytes"].as_u64(), Some(kept.len() as u64));
    // Named in storage by the SHA-256 of what is kept.
    let sha = hex::encode(Sha256::digest(&kept));
    let at_rest = app.state.media.get(&media::storage::key(&sha)).await.unwrap().bytes().await.unwrap();
    assert_eq!(at_rest, kept);

    // The same picture again is the same file.
    let again = uploaded(&app, PHOTO).await;
    assert_eq!(again["id"], stored["id"]);
    let png = uploaded(&app, PNG).await;
    assert_eq!(png["media_type"], "image/png");

    // What is not an image or a video, whatever its name; an empty file; no file at all.
    let (status, json) = upload(&app.client, &app, NOT_AN_IMAGE, "photo.jpg", "image/jpeg").await;
    assert_eq!(status, 422, "{json}");
    assert_eq!(json["error"]["fields"][0], json!({"field": "file", "message": "is a PDF file: Keyport takes JPEG, PNG, GIF and WebP images and MP4 video"}));
    let (status, json) = upload(&app.client, &app, b"", "empty.jpg", "image/jpeg").await;
    assert_eq!((status, json["error"]["fields"][0]["message"].as_str()), (422, Some("is empty")));
    let form = reqwest::multipart::Form::new().text("alt", "no file here");
    let (status, json) = json_of(app.client.post(app.url("/api/media")).multipart(form).send().await.unwrap()).await;
    assert_eq!((status, json["error"]["fields"][0]["field"].as_str()), (400, Some("file")), "{json}");
    let (status, json) = json_of(app.client.post(app.url("/api/media")).json(&json!({"file": "x"})).send().await.unwrap()).await;
    assert_eq!((status, json["error"]["fields"][0]["field"].as_str()), (400, Some("body")), "{json}");
}

async fn media_is_served_only_to_signed_in_people_or_through_an_unexpired_link(app: TestApp) {
    let stored = uploaded(&app, PHOTO).await;
    let id: Uuid = stored["id"].as_str().unwrap().parse().unwrap();
    let content = format!("/api/media/{id}/content");
    assert_eq!(app.anonymous.get(app.url(&content)).send().await.unwrap().status(), 401);
    let (browser, _) = signed_in_browser(&app, Role::Marketer).await;
    assert_eq!(browser.get(app.url(&content)).send().await.unwrap().status(), 200, "a signed-in marketer's browser");
    let (status, json) = app.get_json(&format!("/api/media/{}", Uuid::now_v7())).await;
    assert_eq!(status, 404, "{json}");

    // A lent link works without signing in, until it expires; changed, it does not.
    let link = media::lend(&app.state, id);
    let link = link.strip_prefix(&app.state.config.web.public_url).unwrap();
    let r = app.anonymous.get(app.url(link)).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.bytes().await.unwrap(), browser.get(app.url(&content)).send().await.unwrap().bytes().await.unwrap());
    let other = uploaded(&app, PHOTO_2).await;
    let forged = link.replace(&id.to_string(), other["id"].as_str().unwrap());
    assert_eq!(app.anonymous.get(app.url(&forged)).send().await.unwrap().status(), 403, "another file with this file's signature");
    let expires: i64 = link.split("expires=").nth(1).unwrap().split('&').next().unwrap().parse().unwrap();
    let later = link.replace(&format!("expires={expires}"), &format!("expires={}", expires + 3600));
    assert_eq!(app.anonymous.get(app.url(&later)).send().await.unwrap().status(), 403, "a longer life than signed");
    let expired = media::link_until(&app.state, id, chrono::Utc::now().timestamp() - 1);
    let expired = expired.strip_prefix(&app.state.config.web.public_url).unwrap();
    assert_eq!(app.anonymous.get(app.url(expired)).send().await.unwrap().status(), 403, "an expired link");
    let (status, _) = json_of(app.anonymous.get(app.url(&format!("/api/media/{id}/shared"))).send().await.unwrap()).await;
    assert_eq!(status, 403);
}

async fn uploads_past_the_limit_are_refused_while_they_stream(app: TestApp) {
    let small = app.reopen(&[("ENCRYPTION_KEY", TEST_KEY), ("MEDIA_UPLOAD_MAX_MB", "1")]).await;
    let mut video = b"\0\0\0\x18ftypmp42\0\0\0\0isommp42".to_vec();
    video.resize(1024 * 1024 + 1, 0);
    let (status, json) = upload(&small.client, &small, &video, "clip.mp4", "video/mp4").await;
    assert_eq!(status, 422, "{json}");
    assert_eq!(json["error"]["fields"][0]["message"], "is larger than 1 MB, the most Keyport takes");
    video.truncate(1024 * 1024);
    let (status, json) = upload(&small.client, &small, &video, "clip.mp4", "video/mp4").await;
    assert_eq!((status, json["media"]["media_type"].as_str()), (201, Some("video/mp4")), "{json}");
}

/// A sandbox with a connected account: (sandbox, the account's id).
async fn connected(app: &TestApp) -> (Sandbox, String) {
    let sandbox = Sandbox::start(&[]).await;
    let id = sandbox_platform(app, &sandbox).await;
    connect(app, &sandbox, &app.browser, &id).await;
    let account = common::first_account(app, &id).await;
    (sandbox, account)
}

async fn create_post(app: &TestApp, body: Value) -> (u16, Value) {
    app.post_json("/api/posts", body).await
}

async fn a_post_carries_its_images_with_alt_text_to_the_sandbox(app: TestApp) {
    let (sandbox, account) = connected(&app).await;
    let (one, two) = (uploaded(&app, PHOTO).await, uploaded(&app, PHOTO_2).await);
    let media = json!([{"id": two["id"], "alt": "Loaves on the counter"}, {"id": one["id"], "alt": "The oven at dawn"}]);
    let (status, json) = create_post(&app, json!({"text": "Fresh bread", "accounts": [account], "action": "now", "media": media})).await;
    assert_eq!(status, 201, "{json}");
    assert_eq!(json["post"]["media"][0]["alt"], "Loaves on the counter", "kept in order");
    let post: Uuid = json["post"]["id"].as_str().unwrap().parse().unwrap();
    publish::worker::process_due(&app.state).await;
    let post = publish::get(&app.state, post).await.unwrap();
    let d = &post.deliveries[0];
    assert_eq!(d.status, DeliveryStatus::Published, "{:?}", d.error);
    let page = reqwest::get(d.provider_url.as_deref().unwrap()).await.unwrap().text().await.unwrap();
    let first = page.find("alt=\"Loaves on the counter\"").expect("the first image with its alt text");
    let second = page.find("alt=\"The oven at dawn\"").expect("the second image with its alt text");
    assert!(first < second, "in the order chosen");
    // The images the sandbox shows are the stripped bytes Keyport stored.
    let src = page[..first].rsplit("src=\"").next().unwrap().split('"').next().unwrap();
    let shown = reqwest::get(sandbox.url(src)).await.unwrap().bytes().await.unwrap();
    assert!(shown.starts_with(&[0xFF, 0xD8]) && !contains(&shown, b"KeyportCam"));
    assert_eq!(sandbox.stats().await["media_uploads"], 2);

    // A file nobody uploaded, and a file without its description, are refused by field.
    let (status, json) = create_post(&app, json!({"text": "x", "accounts": [account], "action": "now", "media": [{"id": Uuid::now_v7(), "alt": "x"}]})).await;
    assert_eq!(status, 422, "{json}");
    assert!(json["error"]["fields"][0]["message"].as_str().unwrap().contains("is not stored"), "{json}");
    let (status, json) = create_post(&app, json!({"text": "x", "accounts": [account], "action": "now", "media": [{"id": one["id"], "alt": " "}]})).await;
    assert_eq!((status, json["error"]["fields"][0]["field"].as_str()), (422, Some("media.0.alt")), "{json}");
}

async fn a_retry_after_the_post_failed_does_not_upload_the_files_again(app: TestApp) {
    let (sandbox, account) = connected(&app).await;
    let one = uploaded(&app, PHOTO).await;
    sandbox.fault("posts", "500", 1, 0).await;
    let (status, json) = create_post(&app, json!({"text": "Fresh bread", "accounts": [account], "action": "now", "media": [{"id": one["id"], "alt": "The oven"}]})).await;
    assert_eq!(status, 201, "{json}");
    let post: Uuid = json["post"]["id"].as_str().unwrap().parse().unwrap();
    publish::worker::process_due(&app.state).await;
    let d = publish::get(&app.state, post).await.unwrap().deliveries.remove(0);
    assert_eq!(d.status, DeliveryStatus::Queued, "retrying: {:?}", d.error);
    assert!(d.error.as_deref().unwrap().starts_with("posting: the provider failed (HTTP 500)"), "the step that failed is named: {:?}", d.error);
    assert_eq!(sandbox.stats().await["media_uploads"], 1);
    app.execute("UPDATE deliveries SET due_at = '2000-01-01T00:00:00Z' WHERE status = 'queued'").await;
    publish::worker::process_due(&app.state).await;
    let d = publish::get(&app.state, post).await.unwrap().deliveries.remove(0);
    assert_eq!(d.status, DeliveryStatus::Published, "{:?}", d.error);
    assert_eq!(sandbox.stats().await["media_uploads"], 1, "the retry reused the file the sandbox already had");

    // A failed upload names its step too.
    sandbox.fault("media", "500", 1, 0).await;
    let (_, json) = create_post(&app, json!({"text": "More bread", "accounts": [account], "action": "now", "media": [{"id": one["id"], "alt": "The oven"}]})).await;
    let post: Uuid = json["post"]["id"].as_str().unwrap().parse().unwrap();
    publish::worker::process_due(&app.state).await;
    let d = publish::get(&app.state, post).await.unwrap().deliveries.remove(0);
    assert!(d.error.as_deref().unwrap().starts_with("uploading file 1 of 1: the provider failed (HTTP 500)"), "{:?}", d.error);
}

async fn the_composer_refuses_media_a_network_does_not_take(app: TestApp) {
    let (_sandbox, account) = connected(&app).await;
    // Over the sandbox's 8 MiB: the provider and its limit, in words.
    let mut video = b"\0\0\0\x18ftypmp42\0\0\0\0isommp42".to_vec();
    video.resize(9 * 1024 * 1024, 0);
    let (status, clip) = upload(&app.client, &app, &video, "clip.mp4", "video/mp4").await;
    assert_eq!(status, 201, "{clip}");
    let (status, json) = create_post(&app, json!({"text": "Our film", "accounts": [account], "action": "now", "media": [{"id": clip["media"]["id"], "alt": "A film"}]})).await;
    assert_eq!(status, 422, "{json}");
    assert_eq!(json["error"]["fields"][0], json!({"field": "media", "message": "file 1: Sandbox takes video up to 8 MB; this one is 9 MB"}));
    // Five images where four fit.
    let mut five = Vec::new();
    for (i, file) in [PHOTO, PHOTO_2, PNG, WEBP, GIF].into_iter().enumerate() {
        five.push(json!({"id": uploaded(&app, file).await["id"], "alt": format!("Picture {i}")}));
    }
    let (status, json) = create_post(&app, json!({"text": "Gallery", "accounts": [account], "action": "draft", "media": five})).await;
    assert_eq!(status, 422, "{json}");
    assert_eq!(json["error"]["fields"][0]["message"], "Sandbox takes at most 4 images per post; this post has 5");
}

async fn media_is_stored_on_an_s3_server(app: TestApp) {
    let Some(moto) = Moto::start().await else { return };
    let bucket = "keyport-media";
    assert_eq!(reqwest::Client::new().put(format!("{}/{bucket}", moto.base)).send().await.unwrap().status(), 200, "bucket created");
    let s3 = app
        .reopen(&[
            ("ENCRYPTION_KEY", TEST_KEY),
            ("MEDIA_S3_BUCKET", bucket),
            ("MEDIA_S3_ENDPOINT", &moto.base),
            ("MEDIA_S3_ACCESS_KEY_ID", "testing"),
            ("MEDIA_S3_SECRET_ACCESS_KEY", "testing"),
        ])
        .await;
    let stored = uploaded(&s3, PHOTO).await;
    let kept = s3.client.get(s3.url(&format!("/api/media/{}/content", stored["id"].as_str().unwrap()))).send().await.unwrap().bytes().await.unwrap();
    let key = media::storage::key(&hex::encode(Sha256::digest(&kept)));
    // Read back from the bucket by a client of its own.
    let bucket_client = object_store::aws::AmazonS3Builder::new()
        .with_bucket_name(bucket)
        .with_endpoint(&moto.base)
        .with_allow_http(true)
        .with_region("us-east-1")
        .with_access_key_id("testing")
        .with_secret_access_key("testing")
        .build()
        .unwrap();
    let in_bucket = bucket_client.get(&key).await.expect("the object is in the bucket").bytes().await.unwrap();
    assert_eq!(in_bucket, kept);
    // A video goes up in parts (S3 multipart upload) and comes back whole.
    let mut video = b"\0\0\0\x18ftypmp42\0\0\0\0isommp42".to_vec();
    video.extend((0..12 * 1024 * 1024).map(|i| (i % 251) as u8));
    let (status, json) = upload(&s3.client, &s3, &video, "clip.mp4", "video/mp4").await;
    assert_eq!(status, 201, "{json}");
    let back = s3.client.get(s3.url(&format!("/api/media/{}/content", json["media"]["id"].as_str().unwrap()))).send().await.unwrap().bytes().await.unwrap();
    assert_eq!(back.len(), video.len());
    assert!(back == video, "the same bytes");
}
