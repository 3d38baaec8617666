//! Posting slots: an account's weekly times, set with the platform page's form; "Add to
//! queue" puts each post in the next slot no queued post holds. SQLite and PostgreSQL.

use crate::common;

use common::{
    browser_post, location,
    sandbox::{connect, sandbox_platform, Sandbox},
    TestApp,
};
use keyport::{domain::PostingSlots, server::slots::next_free};
use serde_json::{json, Value};

on_both_backends!(add_to_queue_takes_the_next_free_posting_slot);

async fn queue(app: &TestApp, account: &str, text: &str) -> (u16, Value) {
    app.post_json("/api/posts", json!({"text": text, "accounts": [account], "action": "queue"})).await
}

fn scheduled(post: &Value) -> chrono::DateTime<chrono::Utc> {
    post["post"]["scheduled_at"].as_str().unwrap().parse().unwrap()
}

async fn add_to_queue_takes_the_next_free_posting_slot(app: TestApp) {
    let sandbox = Sandbox::start(&[]).await;
    let id = sandbox_platform(&app, &sandbox).await;
    connect(&app, &sandbox, &app.browser, &id).await;
    let account = common::first_account(&app, &id).await;

    // No slots yet: the composer says what to do.
    let (status, json) = queue(&app, &account, "Queued bread").await;
    assert_eq!(status, 422, "{json}");
    assert_eq!(json["error"]["fields"][0]["field"], "action");
    assert!(json["error"]["fields"][0]["message"].as_str().unwrap().starts_with("Add to queue needs posting slots"), "{json}");

    // The platform page's form: every day at 09:00 and 17:00 in Paris. Mistakes change nothing.
    let path = format!("/oauth/{id}/accounts/{account}/slots");
    let every_day = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];
    let mut form: Vec<(&str, &str)> = every_day.iter().map(|d| ("day", *d)).collect();
    form.extend([("times", "17:00, 9am"), ("zone", "Europe/Paris")]);
    assert_eq!(location(&browser_post(&app, &app.browser, &path, &form).await), format!("/platforms/{id}?notice=slots_invalid"));
    form.truncate(7);
    form.extend([("times", "17:00, 09:00"), ("zone", "Mars/Olympus")]);
    assert_eq!(location(&browser_post(&app, &app.browser, &path, &form).await), format!("/platforms/{id}?notice=slots_zone_unknown"));
    assert!(app.get_json(&format!("/api/platforms/{id}/accounts")).await.1["accounts"][0]["slots"].is_null());
    form.truncate(7);
    form.extend([("times", "17:00, 09:00"), ("zone", "Europe/Paris")]);
    assert_eq!(location(&browser_post(&app, &app.browser, &path, &form).await), format!("/platforms/{id}?notice=slots_saved"));
    let (_, accounts) = app.get_json(&format!("/api/platforms/{id}/accounts")).await;
    let plan: PostingSlots = serde_json::from_value(accounts["accounts"][0]["slots"].clone()).unwrap();
    assert_eq!(plan.describe(), "Mon, Tue, Wed, Thu, Fri, Sat, Sun at 09:00 and 17:00 (Europe/Paris)");

    // Two posts queued: the next slot, then the one after it.
    let before = chrono::Utc::now();
    let (status, first) = queue(&app, &account, "First in line").await;
    assert_eq!(status, 201, "{first}");
    let (status, second) = queue(&app, &account, "Second in line").await;
    assert_eq!(status, 201, "{second}");
    let after = chrono::Utc::now();
    let expected = |now| {
        let one = next_free(std::slice::from_ref(&plan), &[], now).unwrap();
        (one, next_free(std::slice::from_ref(&plan), &[one], now).unwrap())
    };
    // (A slot could pass between the two clocks: either reading is right.)
    let got = (scheduled(&first), scheduled(&second));
    assert!(got == expected(before) || got == expected(after), "{got:?}");
    assert_eq!(first["post"]["state"], "scheduled");
    let paris = got.0.with_timezone(&chrono_tz::Europe::Paris).format("%H:%M").to_string();
    assert!(paris == "09:00" || paris == "17:00", "{paris}");

    // Cleared: queueing asks for slots again.
    assert_eq!(location(&browser_post(&app, &app.browser, &path, &[("clear", "1")]).await), format!("/platforms/{id}?notice=slots_saved"));
    assert_eq!(queue(&app, &account, "Third").await.0, 422);
}
