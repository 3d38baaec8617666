//! Pinterest against the sandbox's Pinterest personality (`/pinterest/…`, API v5 shapes:
//! the client in HTTP Basic, rotating refresh tokens, boards, Pins that fetch their images
//! from a URL): connect, see the account's boards on the platform page, choose one, pin one
//! image and then a carousel of two, each image fetched from the link Keyport lends.
//! SQLite and PostgreSQL.

use crate::common::{browser_post, location, sandbox::{connect_as, platform_with, Sandbox}, signed_in_browser, TestApp};
use keyport::{
    domain::{Delivery, DeliveryStatus, MediaPick, PostForm, Role},
    server::{auth::Caller, publish},
};
use serde_json::{json, Value};

on_both_backends!(a_pinterest_account_chooses_a_board_and_pins_images);

async fn account(app: &TestApp, id: &str) -> Value {
    app.get_json(&format!("/api/platforms/{id}/accounts")).await.1["accounts"][0].clone()
}

async fn pin(app: &TestApp, form: PostForm) -> Delivery {
    let post = publish::create(&app.state, &Caller::default(), form).await.unwrap();
    publish::worker::process_due(&app.state).await;
    publish::get(&app.state, post.id).await.unwrap().deliveries.remove(0)
}

async fn a_pinterest_account_chooses_a_board_and_pins_images(app: TestApp) {
    let sandbox = Sandbox::start(&[]).await;
    let base = sandbox.url("/pinterest");
    let settings = json!({
        "provider": "pinterest",
        "authorize_url": format!("{base}/oauth/"), "token_url": format!("{base}/v5/oauth/token"),
        "userinfo_url": format!("{base}/v5/user_account"), "api_base_url": format!("{base}/v5"),
    });
    let id = platform_with(&app, &sandbox, settings).await;
    let (browser, _) = signed_in_browser(&app, Role::Marketer).await;
    assert_eq!(connect_as(&app, &sandbox, &browser, &id, "Flour Studio").await, format!("/platforms/{id}?notice=connected"));
    let a = account(&app, &id).await;
    assert_eq!(a["name"], "flour_studio", "the username from /v5/user_account");
    let account_id = a["id"].as_str().unwrap().to_owned();

    // A Pin needs an image: the composer refuses a text-only post to Pinterest.
    let text_only = PostForm { text: "Rye loaves".into(), accounts: vec![account_id.clone()], action: "now".into(), ..Default::default() };
    let refused = publish::create(&app.state, &Caller::default(), text_only.clone()).await.unwrap_err().to_string();
    assert!(refused.contains("Pinterest posts need an image: attach one"), "{refused}");

    // Without a board it cannot be sent or scheduled, only kept as a draft.
    let photo = crate::media::uploaded(&app, crate::media::PHOTO).await;
    let pick = |m: &Value, alt: &str| MediaPick { id: m["id"].as_str().unwrap().into(), alt: alt.into() };
    let one = PostForm { link: "https://example.com/rye".into(), media: vec![pick(&photo, "A rye loaf on a board")], ..text_only };
    let refused = publish::create(&app.state, &Caller::default(), one.clone()).await.unwrap_err().to_string();
    assert!(refused.contains("flour_studio (pinterest ") && refused.contains(") has no board yet: choose one on its platform page"), "{refused}");
    let draft = PostForm { action: "draft".into(), ..one.clone() };
    publish::create(&app.state, &Caller::default(), draft).await.expect("a draft needs no board");

    // The platform page lists the account's boards (read from Pinterest with its token).
    let page = browser.get(app.url(&format!("/platforms/{id}"))).send().await.unwrap().text().await.unwrap();
    for board in ["Recipes", "Shop window", "Drafts (secret)"] {
        assert!(page.contains(board), "{board} offered: {page}");
    }
    let boards = keyport::server::publish::boards::list(&app.state, &Caller::default(), id.parse().unwrap(), account_id.parse().unwrap()).await.unwrap();
    let recipes = boards.iter().find(|b| b.name == "Recipes").unwrap().id.clone();

    // Choosing one: nonsense is refused, a board id is kept.
    let destination = format!("/oauth/{id}/accounts/{account_id}/destination");
    let r = browser_post(&app, &browser, &destination, &[("board", "recipes")]).await;
    assert_eq!(location(&r), format!("/platforms/{id}?notice=board_invalid"));
    let r = browser_post(&app, &browser, &destination, &[("board", &recipes)]).await;
    assert_eq!(location(&r), format!("/platforms/{id}?notice=destination_saved"));
    assert_eq!(account(&app, &id).await["destination"], recipes.as_str());
    let page = browser.get(app.url(&format!("/platforms/{id}"))).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("Pins go to Recipes."), "the page says where Pins go");

    // One image: Pinterest fetches it from the lent link; the Pin carries the alt text and link.
    let d = pin(&app, one.clone()).await;
    assert_eq!(d.status, DeliveryStatus::Published, "{:?}", d.error);
    let pin_id = d.provider_post_id.unwrap();
    assert!(pin_id.bytes().all(|b| b.is_ascii_digit()), "{pin_id}");
    assert_eq!(d.provider_url.as_deref(), Some(format!("https://www.pinterest.com/pin/{pin_id}/").as_str()));
    let shown = sandbox.page(&format!("/posts/{pin_id}")).await;
    assert!(shown.contains("alt=\"A rye loaf on a board\"") && shown.contains("https://example.com/rye"), "{shown}");
    let src = shown.split("<img src=\"").nth(1).unwrap().split('"').next().unwrap();
    let fetched = reqwest::get(sandbox.url(src)).await.unwrap().bytes().await.unwrap();
    let stored = app.client.get(app.url(&format!("/api/media/{}/content", photo["id"].as_str().unwrap()))).send().await.unwrap().bytes().await.unwrap();
    assert!(fetched == stored, "the image Keyport stored (its location data removed)");

    // Two images: a carousel (multiple_image_urls).
    let second = crate::media::uploaded(&app, crate::media::PHOTO_2).await;
    let two = PostForm { media: vec![pick(&photo, "A rye loaf"), pick(&second, "The crumb")], ..one };
    let d = pin(&app, two).await;
    assert_eq!(d.status, DeliveryStatus::Published, "{:?}", d.error);
    let shown = sandbox.page(&format!("/posts/{}", d.provider_post_id.unwrap())).await;
    assert_eq!(shown.matches("<img src=").count(), 2, "{shown}");
}
