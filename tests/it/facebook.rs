//! Facebook Pages through the Page picker, against the sandbox's Meta personality (its
//! login dialog, `oauth/access_token` with `fb_exchange_token`, `/me/permissions`,
//! `/me/accounts`, `/me/businesses` → `owned_pages`, and `/{page}/feed`). SQLite and
//! PostgreSQL.

use crate::common::{
    browser_post, contains, count, location,
    sandbox::{callback, facebook_platform, MetaChoice, Sandbox},
    signed_in_browser, TestApp,
};
use keyport::{
    domain::{DeliveryStatus, PostForm, Role, SecretField},
    on_db,
    server::{auth::Caller, crypto::SecretSlot, publish},
};
use serde_json::Value;

on_both_backends!(
    a_marketer_picks_two_facebook_pages_and_publishes_to_both,
    a_declined_permission_is_named_and_nothing_is_stored,
    a_cancelled_or_expired_pick_never_becomes_an_account,
    pages_beyond_the_first_list_page_are_offered,
);

const EVERYTHING: MetaChoice = MetaChoice { pages: "Sandbox Bakery, Sandbox Books", business_pages: "Sandbox Agency Client", declined: &[] };

/// Connect, consent at the Meta dialog as `choice` says, callback: the callback's response.
async fn connect(app: &TestApp, sandbox: &Sandbox, browser: &reqwest::Client, id: &str, choice: &MetaChoice<'_>) -> reqwest::Response {
    let r = browser_post(app, browser, &format!("/oauth/{id}/connect"), &[]).await;
    assert_eq!(r.status(), 303, "{}", r.text().await.unwrap());
    let back = sandbox.decide_meta(&location(&r), "Pat Baker", choice).await;
    callback(app, browser, &back).await
}

/// The picker page as the browser sees it, and the Page ids it offers (in order).
async fn picker(app: &TestApp, browser: &reqwest::Client, at: &str) -> (String, Vec<String>) {
    let html = browser.get(app.url(at)).send().await.unwrap().text().await.unwrap();
    let ids = html.split("name=\"page\" value=\"").skip(1).filter_map(|rest| rest.split('"').next()).map(str::to_owned).collect();
    (html, ids)
}

/// Moves every pick's expiry a minute into the past.
async fn expire_picks(app: &TestApp) {
    let past = chrono::Utc::now() - chrono::Duration::minutes(1);
    on_db!(&app.db, |pool| sqlx::query("UPDATE page_picks SET expires_at = $1").bind(past).execute(pool).await.map(|_| ())).unwrap();
}

async fn accounts(app: &TestApp, id: &str) -> Vec<Value> {
    app.get_json(&format!("/api/platforms/{id}/accounts")).await.1["accounts"].as_array().unwrap().clone()
}

async fn a_marketer_picks_two_facebook_pages_and_publishes_to_both(app: TestApp) {
    let sandbox = Sandbox::start(&[]).await;
    let id = facebook_platform(&app, &sandbox).await;
    let (browser, _) = signed_in_browser(&app, Role::Marketer).await;

    // The dialog asks for what Page publishing needs, Meta's way: commas, no PKCE.
    let r = browser_post(&app, &browser, &format!("/oauth/{id}/connect"), &[]).await;
    let authorize = location(&r);
    let query: Vec<(String, String)> = reqwest::Url::parse(&authorize).unwrap().query_pairs().map(|(k, v)| (k.into(), v.into())).collect();
    assert!(query.contains(&("scope".into(), "pages_show_list,pages_manage_posts,pages_read_engagement,business_management".into())), "{query:?}");
    assert!(!query.iter().any(|(k, _)| k == "code_challenge"), "Meta documents no PKCE for this flow");
    let back = sandbox.decide_meta(&authorize, "Pat Baker", &EVERYTHING).await;
    let r = callback(&app, &browser, &back).await;
    let at = location(&r);
    assert!(at.starts_with(&format!("/platforms/{id}/pages/")), "the callback leads to the picker: {at}");
    assert_eq!(sandbox.stats().await["long_lived_exchanges"], 1, "the user token was made long-lived");

    // Half-way: nothing is an account yet, and the offer is sealed (no Page token in clear).
    assert!(accounts(&app, &id).await.is_empty());
    let (sealed,): (Vec<u8>,) = on_db!(&app.db, |pool| sqlx::query_as("SELECT ciphertext FROM page_picks").fetch_one(pool).await).unwrap();
    assert!(!contains(&sealed, "sbx_page_") && !contains(&sealed, "Sandbox Bakery"), "the pick is ciphertext");

    // The picker lists the Pages managed directly and through the business, never a token.
    let (html, ids) = picker(&app, &browser, &at).await;
    assert_eq!(ids.len(), 3, "{html}");
    for name in ["Sandbox Bakery", "Sandbox Books", "Sandbox Agency Client", "Through Pat Baker Business", "as Pat Baker"] {
        assert!(html.contains(name), "{name} in the picker");
    }
    assert!(!html.contains("sbx_page_") && !html.contains("sbx_at_"), "no token on the page");

    // Someone else cannot see or use it.
    let (other, _) = signed_in_browser(&app, Role::Marketer).await;
    assert!(!picker(&app, &other, &at).await.0.contains("Sandbox Bakery"));
    let pick_path = at.replace("/platforms/", "/oauth/");
    let stolen = browser_post(&app, &other, &pick_path, &[("page", &ids[0]), ("decision", "connect")]).await;
    assert_eq!(stolen.status(), 410);

    // Picking none is said on the picker; picking two makes two accounts, each with its Page token.
    let r = browser_post(&app, &browser, &pick_path, &[("decision", "connect")]).await;
    assert_eq!(location(&r), format!("{at}?notice=pick_none"));
    let r = browser_post(&app, &browser, &pick_path, &[("page", &ids[0]), ("page", &ids[2]), ("decision", "connect")]).await;
    assert_eq!(location(&r), format!("/platforms/{id}?notice=pages_connected"));
    let again = browser_post(&app, &browser, &pick_path, &[("page", &ids[1]), ("decision", "connect")]).await;
    assert_eq!(again.status(), 410, "a pick is used once");
    assert_eq!(count(&app, "SELECT COUNT(*) FROM page_picks").await, 0);

    let listed = accounts(&app, &id).await;
    let names: Vec<&str> = listed.iter().map(|a| a["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["Sandbox Agency Client", "Sandbox Bakery"]);
    assert!(listed.iter().all(|a| a["expires_at"].is_null() && a["has_refresh_token"] == false), "Page tokens from a long-lived user token do not expire");
    assert!(listed.iter().all(|a| ids.contains(&a["external_id"].as_str().unwrap().to_owned())), "each account is its Page");
    for a in &listed {
        let account: uuid::Uuid = a["id"].as_str().unwrap().parse().unwrap();
        let (ciphertext,): (Vec<u8>,) = on_db!(&app.db, |pool| {
            sqlx::query_as("SELECT ciphertext FROM secrets WHERE owner_id = $1 AND field = 'access_token'").bind(account).fetch_one(pool).await
        })
        .unwrap();
        let token = app.state.keyring.open(&ciphertext, &SecretSlot::account_token(account, SecretField::AccessToken)).expect("bound to its account");
        assert!(token.starts_with(b"sbx_page_"), "a Page token, not the user's");
    }

    // Each Page publishes as itself, with its own token.
    let form = PostForm { text: "Fresh bread at nine".into(), accounts: listed.iter().map(|a| a["id"].as_str().unwrap().to_owned()).collect(), action: "now".into(), ..Default::default() };
    let post = publish::create(&app.state, &Caller::default(), form).await.unwrap();
    publish::worker::process_due(&app.state).await;
    let deliveries = publish::get(&app.state, post.id).await.unwrap().deliveries;
    assert_eq!(deliveries.len(), 2);
    for d in deliveries {
        assert_eq!(d.status, DeliveryStatus::Published, "{:?}", d.error);
        let (page, post_id) = d.provider_post_id.as_deref().unwrap().split_once('_').unwrap();
        let account = listed.iter().find(|a| a["id"].as_str() == d.account_id.map(|u| u.to_string()).as_deref()).unwrap();
        assert_eq!(page, account["external_id"].as_str().unwrap(), "posted on the account's own Page");
        assert!(sandbox.page(&format!("/posts/{post_id}")).await.contains(account["name"].as_str().unwrap()));
    }

    // With a photo: Facebook fetches it from the link Keyport lends (POST /{page}/photos
    // with url and message); two photos are more than Keyport sends a Page.
    let photo = crate::media::uploaded(&app, crate::media::PHOTO).await;
    let pick = |m: &Value| keyport::domain::MediaPick { id: m["id"].as_str().unwrap().into(), alt: "A loaf".into() };
    let page_account = listed[0]["id"].as_str().unwrap().to_owned();
    let form = PostForm { text: "Pictured".into(), link: "https://example.com/bread".into(), accounts: vec![page_account.clone()], action: "now".into(), media: vec![pick(&photo)], ..Default::default() };
    let post = publish::create(&app.state, &Caller::default(), form.clone()).await.unwrap();
    publish::worker::process_due(&app.state).await;
    let d = publish::get(&app.state, post.id).await.unwrap().deliveries.remove(0);
    assert_eq!(d.status, DeliveryStatus::Published, "{:?}", d.error);
    let page = sandbox.page(&format!("/posts/{}", d.provider_post_id.unwrap().split_once('_').unwrap().1)).await;
    let src = page.split("<img src=\"").nth(1).expect("the photo on the post").split('"').next().unwrap();
    let fetched = reqwest::get(sandbox.url(src)).await.unwrap().bytes().await.unwrap();
    let stored = app.client.get(app.url(&format!("/api/media/{}/content", photo["id"].as_str().unwrap()))).send().await.unwrap().bytes().await.unwrap();
    assert_eq!(fetched, stored, "the photo Keyport stored");
    assert!(page.contains("https://example.com/bread"), "the link goes in the message");

    // Two photos: each unpublished (published=false), then one feed post attaching both
    // (attached_media). The feed post fails once; the retry attaches the same photos.
    sandbox.fault("posts", "500", 1, 0).await;
    let uploads = sandbox.stats().await["media_uploads"].as_u64().unwrap();
    let two = PostForm { media: vec![pick(&photo), pick(&crate::media::uploaded(&app, crate::media::PHOTO_2).await)], ..form.clone() };
    let post = publish::create(&app.state, &Caller::default(), two).await.unwrap();
    publish::worker::process_due(&app.state).await;
    let d = publish::get(&app.state, post.id).await.unwrap().deliveries.remove(0);
    assert_eq!(d.status, DeliveryStatus::Queued, "retrying: {:?}", d.error);
    assert!(d.error.as_deref().unwrap().starts_with("posting: the provider failed (HTTP 500)"), "{:?}", d.error);
    app.execute("UPDATE deliveries SET due_at = '2000-01-01T00:00:00Z' WHERE status = 'queued'").await;
    publish::worker::process_due(&app.state).await;
    let d = publish::get(&app.state, post.id).await.unwrap().deliveries.remove(0);
    assert_eq!(d.status, DeliveryStatus::Published, "{:?}", d.error);
    assert_eq!(sandbox.stats().await["media_uploads"].as_u64().unwrap(), uploads + 2, "each photo went up once");
    let page = sandbox.page(&format!("/posts/{}", d.provider_post_id.unwrap().split_once('_').unwrap().1)).await;
    assert_eq!(page.matches("<img src=").count(), 2, "{page}");
    assert_eq!(page.matches("alt=\"A loaf\"").count(), 2, "each photo's alt text went as alt_text_custom: {page}");
    assert!(page.contains("https://example.com/bread"), "the link goes in the message");

    // A video: POST /{page}/videos with file_url and description; the video is the post.
    let mut video = b"\0\0\0\x18ftypmp42\0\0\0\0isommp42".to_vec();
    video.resize(300 * 1024, 7);
    let clip = crate::media::uploaded(&app, &video).await;
    let post = publish::create(&app.state, &Caller::default(), PostForm { text: "How we knead".into(), link: String::new(), media: vec![pick(&clip)], ..form }).await.unwrap();
    publish::worker::process_due(&app.state).await;
    let d = publish::get(&app.state, post.id).await.unwrap().deliveries.remove(0);
    assert_eq!(d.status, DeliveryStatus::Published, "{:?}", d.error);
    let page = sandbox.page(&format!("/posts/{}", d.provider_post_id.as_deref().unwrap())).await;
    assert!(page.contains("<video src=") && page.contains("How we knead"), "{page}");
    assert!(d.provider_url.unwrap().ends_with(&format!("/videos/{}", d.provider_post_id.unwrap())));

    // Disconnecting one Page leaves the other.
    let first = listed[0]["id"].as_str().unwrap();
    let (status, _) = app.send_json(reqwest::Method::DELETE, &format!("/api/platforms/{id}/accounts/{first}"), Value::Null).await;
    assert_eq!(status, 204);
    assert_eq!(accounts(&app, &id).await.len(), 1);
}

async fn a_declined_permission_is_named_and_nothing_is_stored(app: TestApp) {
    let sandbox = Sandbox::start(&[]).await;
    let id = facebook_platform(&app, &sandbox).await;
    let (browser, _) = signed_in_browser(&app, Role::Marketer).await;
    let choice = MetaChoice { declined: &["business_management", "pages_manage_posts"], ..EVERYTHING };
    let r = connect(&app, &sandbox, &browser, &id, &choice).await;
    assert_eq!(r.status(), 400);
    let text = r.text().await.unwrap();
    assert!(text.contains("pages_manage_posts (to publish on them)"), "{text}");
    assert!(text.contains("business_management (to list the Pages of your business portfolios)"), "{text}");
    assert!(text.contains("Nothing was stored"));
    assert!(accounts(&app, &id).await.is_empty());
    assert_eq!(count(&app, "SELECT COUNT(*) FROM page_picks").await, 0);

    // A Facebook user with no Page is told so.
    let r = connect(&app, &sandbox, &browser, &id, &MetaChoice { pages: "", business_pages: "", declined: &[] }).await;
    assert_eq!(r.status(), 400);
    assert!(r.text().await.unwrap().contains("manages no Page"));
}

async fn a_cancelled_or_expired_pick_never_becomes_an_account(app: TestApp) {
    let sandbox = Sandbox::start(&[]).await;
    let id = facebook_platform(&app, &sandbox).await;
    let (browser, _) = signed_in_browser(&app, Role::Marketer).await;

    let at = location(&connect(&app, &sandbox, &browser, &id, &EVERYTHING).await);
    let r = browser_post(&app, &browser, &at.replace("/platforms/", "/oauth/"), &[("decision", "cancel")]).await;
    assert_eq!(location(&r), format!("/platforms/{id}?notice=pick_cancelled"));
    assert_eq!(count(&app, "SELECT COUNT(*) FROM page_picks").await, 0);

    let at = location(&connect(&app, &sandbox, &browser, &id, &EVERYTHING).await);
    let (_, ids) = picker(&app, &browser, &at).await;
    expire_picks(&app).await;
    assert!(picker(&app, &browser, &at).await.0.contains("expired"), "the picker says it expired");
    let r = browser_post(&app, &browser, &at.replace("/platforms/", "/oauth/"), &[("page", &ids[0]), ("decision", "connect")]).await;
    assert_eq!(r.status(), 410);
    assert!(r.text().await.unwrap().contains("expired"));
    assert!(accounts(&app, &id).await.is_empty());

    // The sweep removes picks nobody finished.
    let _ = location(&connect(&app, &sandbox, &browser, &id, &EVERYTHING).await);
    expire_picks(&app).await;
    assert_eq!(keyport::server::store::picks::sweep(&app.db).await.unwrap(), 1);
    assert_eq!(count(&app, "SELECT COUNT(*) FROM page_picks").await, 0);
}

async fn pages_beyond_the_first_list_page_are_offered(app: TestApp) {
    let sandbox = Sandbox::start(&[]).await;
    let id = facebook_platform(&app, &sandbox).await;
    let (browser, _) = signed_in_browser(&app, Role::Marketer).await;
    // Keyport asks for 100 a page: 130 Pages take two pages of `/me/accounts`.
    let names: Vec<String> = (1..=130).map(|n| format!("Shop {n}")).collect();
    let pages = names.join(", ");
    let at = location(&connect(&app, &sandbox, &browser, &id, &MetaChoice { pages: &pages, business_pages: "", declined: &[] }).await);
    let (html, ids) = picker(&app, &browser, &at).await;
    assert_eq!(ids.len(), 130);
    assert!(html.contains("Shop 130"));
}
