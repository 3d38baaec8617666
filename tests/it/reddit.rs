//! Reddit against the sandbox's Reddit personality (`/reddit/…`, which keeps Reddit's
//! rules: a descriptive User-Agent, `duration`, errors in HTTP 200, a reusable refresh
//! token): connect, refresh twice with the same refresh token, post to the profile by
//! default, choose a subreddit on the platform page (a plain form), see a refusal in
//! Reddit's words, and disconnect with a revocation. SQLite and PostgreSQL.

use crate::common::{browser_post, location, sandbox::{connect_as, platform_with, Sandbox}, signed_in_browser, TestApp};
use keyport::{
    domain::{Delivery, DeliveryStatus, PostForm, Role},
    server::{auth::Caller, oauth::tokens, publish},
};
use serde_json::{json, Value};
use std::time::Duration;

on_both_backends!(a_reddit_account_connects_refreshes_and_posts_to_its_chosen_subreddit);

async fn account(app: &TestApp, id: &str) -> Value {
    app.get_json(&format!("/api/platforms/{id}/accounts")).await.1["accounts"][0].clone()
}

async fn publish_one(app: &TestApp, account_id: &str, text: &str, link: &str) -> Delivery {
    let form = PostForm { text: text.into(), link: link.into(), accounts: vec![account_id.to_owned()], action: "now".into(), ..Default::default() };
    let post = publish::create(&app.state, &Caller::default(), form).await.unwrap();
    publish::worker::process_due(&app.state).await;
    publish::get(&app.state, post.id).await.unwrap().deliveries.remove(0)
}

async fn a_reddit_account_connects_refreshes_and_posts_to_its_chosen_subreddit(app: TestApp) {
    let sandbox = Sandbox::start(&[]).await;
    let base = sandbox.url("/reddit");
    let settings = json!({
        "provider": "reddit",
        "authorize_url": format!("{base}/api/v1/authorize"), "token_url": format!("{base}/api/v1/access_token"),
        "revoke_url": format!("{base}/api/v1/revoke_token"), "userinfo_url": format!("{base}/api/v1/me"), "api_base_url": base,
    });
    let id = platform_with(&app, &sandbox, settings).await;

    // Connect: the personality throttles a request without a descriptive User-Agent, and
    // needs duration=permanent for a refresh token.
    let (browser, _) = signed_in_browser(&app, Role::Marketer).await;
    assert_eq!(connect_as(&app, &sandbox, &browser, &id, "Rye Baker").await, format!("/platforms/{id}?notice=connected"));
    let a = account(&app, &id).await;
    assert_eq!((a["name"].as_str(), a["has_refresh_token"].as_bool()), (Some("rye-baker"), Some(true)), "{a}");
    let account_id = a["id"].as_str().unwrap().to_owned();

    // The refresh token is reusable: two refreshes with it both work.
    let refreshes = sandbox.stats().await["refreshes"].as_u64().unwrap();
    for _ in 0..2 {
        tokens::fresh(&app.state, account_id.parse().unwrap(), Duration::from_secs(100 * 3600)).await.expect("refreshed");
    }
    assert_eq!(sandbox.stats().await["refreshes"].as_u64().unwrap(), refreshes + 2);
    assert_eq!(account(&app, &id).await["has_refresh_token"], true);

    // Without a chosen subreddit a text post goes to the profile: first line title, rest body.
    let delivery = publish_one(&app, &account_id, "Fresh rye\n\nOut of the oven at nine.", "").await;
    assert_eq!(delivery.status, DeliveryStatus::Published, "{:?}", delivery.error);
    assert!(delivery.provider_post_id.as_deref().unwrap().starts_with("t3_"));
    let url = delivery.provider_url.unwrap();
    let page = sandbox.page(url.trim_start_matches(&sandbox.base)).await;
    assert!(page.contains("Fresh rye") && page.contains("Out of the oven at nine."), "{page}");

    // A subreddit is chosen on the platform page, as a person types it; nonsense is refused.
    let destination = format!("/oauth/{id}/accounts/{account_id}/destination");
    let r = browser_post(&app, &browser, &destination, &[("subreddit", "r/no way")]).await;
    assert_eq!(location(&r), format!("/platforms/{id}?notice=destination_invalid"));
    assert_eq!(account(&app, &id).await["destination"], Value::Null, "nothing changed");
    let r = browser_post(&app, &browser, &destination, &[("subreddit", " r/bakery/ ")]).await;
    assert_eq!(location(&r), format!("/platforms/{id}?notice=destination_saved"));
    assert_eq!(account(&app, &id).await["destination"], "bakery");
    let page = browser.get(app.url(&format!("/platforms/{id}"))).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("Posts go to <strong>r/bakery</strong>"), "the page says where posts go");

    // A link post to the chosen subreddit.
    let delivery = publish_one(&app, &account_id, "New sourdough recipe", "https://example.com/sourdough").await;
    assert_eq!(delivery.status, DeliveryStatus::Published, "{:?}", delivery.error);
    let page = sandbox.page(delivery.provider_url.unwrap().trim_start_matches(&sandbox.base)).await;
    assert!(page.contains("https://example.com/sourdough"));

    // A community that does not exist: Reddit's refusal (HTTP 200) in its words, not retried.
    browser_post(&app, &browser, &destination, &[("subreddit", "r/doesnotexist")]).await;
    let delivery = publish_one(&app, &account_id, "Anyone there?", "").await;
    assert_eq!(delivery.status, DeliveryStatus::Failed);
    assert_eq!(delivery.attempts, 1, "a refusal is final");
    assert!(delivery.error.as_deref().unwrap_or_default().contains("that community doesn't exist (SUBREDDIT_NOEXIST, field sr)"), "{:?}", delivery.error);

    // Disconnect revokes at Reddit (204) and forgets the account.
    let revocations = sandbox.stats().await["revocations"].as_u64().unwrap();
    let r = browser_post(&app, &browser, &format!("/oauth/{id}/accounts/{account_id}/disconnect"), &[]).await;
    assert_eq!(location(&r), format!("/platforms/{id}?notice=disconnected"));
    assert_eq!(sandbox.stats().await["revocations"].as_u64().unwrap(), revocations + 1);
}
