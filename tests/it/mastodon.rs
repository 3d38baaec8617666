//! Mastodon on any instance, against the sandbox's Mastodon personality (its
//! `/api/v1/apps`, `/oauth/*`, `/api/v1/accounts/verify_credentials` and
//! `/api/v1/statuses`): a marketer names the instance, Keyport registers its app there by
//! itself, reuses it for the next account, connects, publishes and disconnects through it.
//! SQLite and PostgreSQL.

use crate::common::{browser_post, count, location, sandbox::{callback, Sandbox}, signed_in_browser, TestApp};
use keyport::{
    domain::{DeliveryStatus, PostForm, Role, SecretField},
    on_db,
    server::{auth::Caller, crypto::SecretSlot, publish},
};
use serde_json::{json, Value};

on_both_backends!(a_marketer_connects_mastodon_accounts_on_an_instance_they_name);

/// A Mastodon platform as an admin creates it from the catalog: nothing else configured.
async fn mastodon_platform(app: &TestApp) -> String {
    let platform = app.create_platform(json!({"name": format!("Mastodon {}", uuid::Uuid::now_v7().simple()), "auth_type": "oauth2"})).await;
    let id = platform["id"].as_str().unwrap().to_owned();
    let (status, body) = app.send_json(reqwest::Method::PUT, &format!("/api/platforms/{id}/oauth"), json!({"provider": "mastodon"})).await;
    assert_eq!(status, 200, "{body}");
    id
}

/// Connect with `instance` typed in; the sandbox's consent page approves as `account`.
async fn connect_on(app: &TestApp, sandbox: &Sandbox, browser: &reqwest::Client, id: &str, instance: &str, account: &str) -> String {
    let r = browser_post(app, browser, &format!("/oauth/{id}/connect"), &[("instance", instance)]).await;
    assert_eq!(r.status(), 303, "{}", r.text().await.unwrap());
    let authorize = location(&r);
    let back = sandbox.decide_as(&authorize, "approve", account).await;
    location(&callback(app, browser, &back).await)
}

async fn accounts(app: &TestApp, id: &str) -> Vec<Value> {
    app.get_json(&format!("/api/platforms/{id}/accounts")).await.1["accounts"].as_array().unwrap().clone()
}

async fn a_marketer_connects_mastodon_accounts_on_an_instance_they_name(app: TestApp) {
    let sandbox = Sandbox::start(&[]).await;
    let id = mastodon_platform(&app).await;
    let (browser, _) = signed_in_browser(&app, Role::Marketer).await;
    let (_, view) = app.get_json(&format!("/api/platforms/{id}/oauth")).await;
    assert_eq!((view["oauth"]["per_instance"].as_bool(), view["oauth"]["not_ready"].as_str()), (Some(true), None), "no admin step: {view}");

    // The first account on the instance: Keyport registers its app there, then connects.
    let r = browser_post(&app, &browser, &format!("/oauth/{id}/connect"), &[("instance", &sandbox.base)]).await;
    let authorize = location(&r);
    assert!(authorize.starts_with(&sandbox.url("/oauth/authorize?")), "{authorize}");
    let query: Vec<(String, String)> = reqwest::Url::parse(&authorize).unwrap().query_pairs().map(|(k, v)| (k.into(), v.into())).collect();
    assert!(query.contains(&("scope".into(), "read write:statuses write:media".into())), "{query:?}");
    assert_eq!(sandbox.stats().await["apps_registered"], 1);
    let back = sandbox.decide_as(&authorize, "approve", "Mastodon Fan").await;
    assert_eq!(location(&callback(&app, &browser, &back).await), format!("/platforms/{id}?notice=connected"));

    // The second reuses the app registered for the instance.
    assert_eq!(connect_on(&app, &sandbox, &browser, &id, &sandbox.base, "Second Toot").await, format!("/platforms/{id}?notice=connected"));
    assert_eq!(sandbox.stats().await["apps_registered"], 1, "one app per instance");
    let listed = accounts(&app, &id).await;
    let host = reqwest::Url::parse(&sandbox.base).unwrap().host_str().unwrap().to_owned();
    let names: Vec<&str> = listed.iter().map(|a| a["name"].as_str().unwrap()).collect();
    assert_eq!(names, [format!("mastodon-fan@{host}"), format!("second-toot@{host}")], "named with their instance");
    assert!(listed.iter().all(|a| a["instance"] == sandbox.base.as_str() && a["external_id"].as_str().unwrap().ends_with(&format!("@{host}"))));

    // The instance's client secret is stored once, sealed for the instance client, and is
    // not one of the platform's own secrets.
    let (ciphertext, instance): (Vec<u8>, uuid::Uuid) = on_db!(&app.db, |pool| {
        sqlx::query_as("SELECT ciphertext, instance_id FROM secrets WHERE instance_id IS NOT NULL AND field = 'client_secret'").fetch_one(pool).await
    })
    .unwrap();
    assert!(app.state.keyring.open(&ciphertext, &SecretSlot::instance_client(instance, SecretField::ClientSecret)).is_ok());
    assert!(app.state.keyring.open(&ciphertext, &SecretSlot::platform_secret(id.parse().unwrap(), SecretField::ClientSecret)).is_err());
    let (_, credentials) = app.get_json(&format!("/api/platforms/{id}/credentials")).await;
    assert_eq!(credentials["credentials"]["secrets"], json!([]), "{credentials}");

    // Publishing goes to the instance, as each account.
    let ids: Vec<String> = listed.iter().map(|a| a["id"].as_str().unwrap().to_owned()).collect();
    let form = PostForm { text: "Hello, fediverse".into(), accounts: ids.clone(), action: "now".into(), ..Default::default() };
    let post = publish::create(&app.state, &Caller::default(), form).await.unwrap();
    publish::worker::process_due(&app.state).await;
    for d in publish::get(&app.state, post.id).await.unwrap().deliveries {
        assert_eq!(d.status, DeliveryStatus::Published, "{:?}", d.error);
        assert!(d.provider_url.as_deref().unwrap().starts_with(&sandbox.base));
    }
    assert_eq!(sandbox.stats().await["posts"], 2);

    // With an image: uploaded to the instance as each account (`POST /api/v2/media`, the alt
    // text as its description), then attached to the status by `media_ids`.
    let photo = crate::media::uploaded(&app, crate::media::PHOTO).await;
    let media = vec![keyport::domain::MediaPick { id: photo["id"].as_str().unwrap().into(), alt: "A loaf on the counter".into() }];
    let form = PostForm { text: "Bread, pictured".into(), accounts: ids.clone(), action: "now".into(), media, ..Default::default() };
    let post = publish::create(&app.state, &Caller::default(), form).await.unwrap();
    publish::worker::process_due(&app.state).await;
    for d in publish::get(&app.state, post.id).await.unwrap().deliveries {
        assert_eq!(d.status, DeliveryStatus::Published, "{:?}", d.error);
        let page = reqwest::get(d.provider_url.as_deref().unwrap()).await.unwrap().text().await.unwrap();
        assert!(page.contains("alt=\"A loaf on the counter\""), "{page}");
    }
    assert_eq!(sandbox.stats().await["media_uploads"], 2, "once per account");

    // What a person can type wrong is said on the page, and nothing is registered.
    for (typed, notice) in [("mastodon.social/@someone", "instance_invalid"), ("", "instance_missing")] {
        let r = browser_post(&app, &browser, &format!("/oauth/{id}/connect"), &[("instance", typed)]).await;
        assert_eq!(location(&r), format!("/platforms/{id}?notice={notice}"), "{typed:?}");
    }
    let r = browser_post(&app, &browser, &format!("/oauth/{id}/connect"), &[("instance", "http://127.0.0.1:9")]).await;
    assert_eq!(r.status(), 502);
    assert!(r.text().await.unwrap().contains("nothing was stored"));
    assert_eq!(count(&app, "SELECT COUNT(*) FROM instance_clients").await, 1);

    // Disconnecting revokes at the instance with the instance's app credentials.
    let before = sandbox.stats().await["revocations"].as_u64().unwrap();
    let (status, _) = app.send_json(reqwest::Method::DELETE, &format!("/api/platforms/{id}/accounts/{}", ids[1]), Value::Null).await;
    assert_eq!(status, 204);
    assert_eq!(sandbox.stats().await["revocations"].as_u64().unwrap(), before + 1);
    assert_eq!(accounts(&app, &id).await.len(), 1);
}
