//! The posts API (`/api/posts`) as automation uses it, with an API token: create, read,
//! change, cancel and retry through the same rules as the composer, filters, and keyset
//! paging that neither repeats nor skips a post. SQLite and PostgreSQL.

use crate::common::{
    json_of,
    sandbox::{connect, sandbox_platform, Sandbox},
    signed_in_browser, TestApp,
};
use keyport::{domain::Role, server::publish};
use reqwest::Method;
use chrono::Datelike;
use leptos::server_fn::ServerFn;
use serde_json::{json, Value};

on_both_backends!(
    a_post_is_created_published_and_read_through_the_api,
    a_scheduled_post_is_changed_and_cancelled_and_bad_input_is_named,
    pages_and_filters_list_every_post_once,
    a_failed_delivery_is_retried_and_others_posts_stay_theirs,
    the_calendar_shows_a_scheduled_post_on_its_day_of_its_month,
);

/// A sandbox platform with one connected account; returns the sandbox (kept alive) and
/// the account's id.
async fn account(app: &TestApp) -> (Sandbox, String) {
    let sandbox = Sandbox::start(&[]).await;
    let id = sandbox_platform(app, &sandbox).await;
    let (browser, _) = signed_in_browser(app, Role::Marketer).await;
    connect(app, &sandbox, &browser, &id).await;
    (sandbox, crate::common::first_account(app, &id).await)
}

async fn send(client: &reqwest::Client, app: &TestApp, method: Method, path: &str, body: Option<Value>) -> (u16, Value) {
    let request = client.request(method, app.url(path));
    let request = match body {
        Some(body) => request.json(&body),
        None => request,
    };
    json_of(request.send().await.unwrap()).await
}

fn in_an_hour() -> String {
    (chrono::Utc::now() + chrono::Duration::hours(1)).to_rfc3339()
}

async fn a_post_is_created_published_and_read_through_the_api(app: TestApp) {
    let (_sandbox, account) = account(&app).await;
    let body = json!({"text": "Hello from a script", "link": "https://example.com/api", "accounts": [account], "action": "now"});
    let (status, created) = app.post_json("/api/posts", body).await;
    assert_eq!(status, 201, "{created}");
    let id = created["post"]["id"].as_str().unwrap().to_owned();
    assert_eq!(created["post"]["deliveries"][0]["status"], "queued");
    publish::worker::process_due(&app.state).await;
    let (status, read) = app.get_json(&format!("/api/posts/{id}")).await;
    assert_eq!(status, 200);
    let delivery = &read["post"]["deliveries"][0];
    assert_eq!(delivery["status"], "published", "{read}");
    assert!(delivery["provider_url"].as_str().unwrap().contains("/posts/"));
    assert_eq!(app.get_json("/api/posts/not-an-id").await.0, 400);
    assert_eq!(app.get_json(&format!("/api/posts/{}", uuid::Uuid::now_v7())).await.0, 404);
}

async fn a_scheduled_post_is_changed_and_cancelled_and_bad_input_is_named(app: TestApp) {
    let (_sandbox, account) = account(&app).await;
    let at = in_an_hour();
    let (status, created) = app.post_json("/api/posts", json!({"text": "Later", "accounts": [account], "action": "schedule", "scheduled_at": at})).await;
    assert_eq!(status, 201, "{created}");
    assert_eq!(created["post"]["state"], "scheduled");
    let id = created["post"]["id"].as_str().unwrap().to_owned();
    let path = format!("/api/posts/{id}");

    // Only the fields sent change; the schedule and the accounts stay.
    let (status, changed) = app.send_json(Method::PATCH, &path, json!({"text": "Later, and better"})).await;
    assert_eq!(status, 200, "{changed}");
    assert_eq!((changed["post"]["text"].as_str(), changed["post"]["state"].as_str()), (Some("Later, and better"), Some("scheduled")));
    assert_eq!(changed["post"]["scheduled_at"], created["post"]["scheduled_at"]);
    assert_eq!(changed["post"]["deliveries"][0]["account_id"], account.as_str());

    // Each mistake names its field.
    for (body, field, code) in [
        (json!({"text": ""}), "text", 422),
        (json!({"scheduled_at": "tomorrow"}), "scheduled_at", 400),
        (json!({"scheduled_at": "2001-01-01T00:00:00Z"}), "scheduled_at", 422),
        (json!({"accounts": [uuid::Uuid::now_v7().to_string()]}), "accounts", 422),
        (json!({"colour": "blue"}), "colour", 400),
        (json!({"accounts": "all"}), "accounts", 400),
    ] {
        let (status, error) = app.send_json(Method::PATCH, &path, body.clone()).await;
        assert_eq!(status, code, "{body}: {error}");
        let fields = error["error"]["fields"].as_array().unwrap();
        assert!(fields.iter().any(|f| f["field"] == field), "{body}: {error}");
    }
    let (status, error) = app.post_json("/api/posts", json!({"text": "When?", "accounts": [account], "action": "schedule"})).await;
    assert_eq!((status, error["error"]["fields"][0]["field"].as_str()), (422, Some("scheduled_at")), "{error}");

    // An account's own text is kept, and read back.
    let (status, own) = app.send_json(Method::PATCH, &path, json!({"texts": {account.clone(): "Later, for this account"}})).await;
    assert_eq!(status, 200, "{own}");
    assert_eq!(own["post"]["deliveries"][0]["text"], "Later, for this account");
    assert_eq!(own["post"]["text"], "Later, and better");

    // Cancelled: 204, kept in the history; then too late to change (409).
    let r = app.client.delete(app.url(&path)).send().await.unwrap();
    assert_eq!(r.status(), 204);
    let (_, read) = app.get_json(&path).await;
    assert_eq!(read["post"]["state"], "cancelled");
    let (status, _) = app.send_json(Method::PATCH, &path, json!({"text": "Too late"})).await;
    assert_eq!(status, 409);
}

async fn pages_and_filters_list_every_post_once(app: TestApp) {
    let (_sandbox, account) = account(&app).await;
    let mut made = Vec::new();
    for n in 0..5 {
        let (status, created) = app.post_json("/api/posts", json!({"text": format!("Draft {n}"), "accounts": [account], "action": "draft"})).await;
        assert_eq!(status, 201, "{created}");
        made.push(created["post"]["id"].as_str().unwrap().to_owned());
    }
    let (_, scheduled) = app.post_json("/api/posts", json!({"text": "Scheduled", "accounts": [account], "action": "schedule", "scheduled_at": in_an_hour()})).await;

    // Pages of two, newest first, following next_cursor until it is null.
    let mut seen: Vec<String> = Vec::new();
    let mut path = "/api/posts?limit=2".to_owned();
    loop {
        let (status, page) = app.get_json(&path).await;
        assert_eq!(status, 200, "{page}");
        let posts = page["posts"].as_array().unwrap();
        assert!(posts.len() <= 2);
        seen.extend(posts.iter().map(|p| p["id"].as_str().unwrap().to_owned()));
        match page["next_cursor"].as_str() {
            Some(cursor) => path = format!("/api/posts?limit=2&cursor={cursor}"),
            None => break,
        }
    }
    let mut expected: Vec<String> = made.iter().cloned().chain([scheduled["post"]["id"].as_str().unwrap().to_owned()]).collect();
    expected.reverse();
    assert_eq!(seen, expected, "every post once, newest first");

    // Filters: by account, by status, by time (scheduled, else created).
    let (_, by_account) = app.get_json(&format!("/api/posts?account={account}&limit=200")).await;
    assert_eq!(by_account["posts"].as_array().unwrap().len(), 6);
    let (_, none) = app.get_json(&format!("/api/posts?account={}", uuid::Uuid::now_v7())).await;
    assert_eq!(none["posts"], json!([]));
    let (_, waiting) = app.get_json("/api/posts?status=waiting").await;
    assert_eq!(waiting["posts"].as_array().unwrap().len(), 5, "drafts wait; the scheduled post is queued");
    let soon = (chrono::Utc::now() + chrono::Duration::minutes(30)).to_rfc3339();
    let (_, later) = app.get_json(&format!("/api/posts?from={}", urlencode(&soon))).await;
    assert_eq!(later["posts"].as_array().unwrap().iter().map(|p| p["text"].as_str().unwrap()).collect::<Vec<_>>(), ["Scheduled"]);
    let (_, earlier) = app.get_json(&format!("/api/posts?to={}", urlencode(&soon))).await;
    assert_eq!(earlier["posts"].as_array().unwrap().len(), 5);

    for (query, field) in [("limit=0", "limit"), ("limit=201", "limit"), ("cursor=abc", "cursor"), ("from=yesterday", "from"), ("status=lost", "status"), ("account=x", "account"), ("colour=red", "query")] {
        let (status, error) = app.get_json(&format!("/api/posts?{query}")).await;
        assert_eq!(status, 400, "{query}: {error}");
        assert!(error["error"]["fields"].as_array().unwrap().iter().any(|f| f["field"] == field), "{query}: {error}");
    }
}

fn urlencode(text: &str) -> String {
    url::form_urlencoded::byte_serialize(text.as_bytes()).collect()
}

async fn a_failed_delivery_is_retried_and_others_posts_stay_theirs(app: TestApp) {
    let (_sandbox, account) = account(&app).await;
    let marketer = app.client_as(Role::Marketer).await;
    let (status, created) = send(&marketer, &app, Method::POST, "/api/posts", Some(json!({"text": "Mine", "accounts": [account], "action": "draft"}))).await;
    assert_eq!(status, 201, "{created}");
    let id = created["post"]["id"].as_str().unwrap().to_owned();

    // Another marketer may read it but not change it.
    let other = app.client_as(Role::Marketer).await;
    assert_eq!(send(&other, &app, Method::GET, &format!("/api/posts/{id}"), None).await.0, 200);
    let (status, error) = send(&other, &app, Method::PATCH, &format!("/api/posts/{id}"), Some(json!({"text": "Theirs now"}))).await;
    assert_eq!(status, 403, "{error}");

    // Sent, then failed at the provider: a retry queues it again; a delivery of another post is 404.
    let (status, sent) = send(&marketer, &app, Method::PATCH, &format!("/api/posts/{id}"), Some(json!({"action": "now"}))).await;
    assert_eq!(status, 200, "{sent}");
    let delivery = sent["post"]["deliveries"][0]["id"].as_str().unwrap().to_owned();
    app.execute(&format!("UPDATE deliveries SET status = 'failed', error = 'refused' WHERE id = {}", app.uuid_literal(delivery.parse().unwrap()))).await;
    let retry = format!("/api/posts/{id}/deliveries/{delivery}/retry");
    let (status, retried) = send(&marketer, &app, Method::POST, &retry, None).await;
    assert_eq!(status, 200, "{retried}");
    assert_eq!(retried["post"]["deliveries"][0]["status"], "queued");
    let (status, _) = send(&marketer, &app, Method::POST, &retry, Some(json!({}))).await;
    assert_eq!(status, 409, "queued already");
    let (status, _) = send(&marketer, &app, Method::POST, &format!("/api/posts/{}/deliveries/{delivery}/retry", uuid::Uuid::now_v7()), None).await;
    assert_eq!(status, 404);

    // Without a token the API answers nobody.
    let (status, _) = send(&crate::common::http_client(None), &app, Method::GET, "/api/posts", None).await;
    assert_eq!(status, 401, "no token, no posts");
}

/// The calendar page as the server renders it (UTC until the browser's zone is known).
async fn the_calendar_shows_a_scheduled_post_on_its_day_of_its_month(app: TestApp) {
    let (_sandbox, account) = account(&app).await;
    let next = chrono::Utc::now().date_naive().with_day(1).unwrap().checked_add_months(chrono::Months::new(1)).unwrap();
    let at = next.with_day(15).unwrap().and_hms_opt(10, 5, 0).unwrap().and_utc();
    let (status, created) = app.post_json("/api/posts", json!({"text": "Mid-month sale", "accounts": [account], "action": "schedule", "scheduled_at": at.to_rfc3339()})).await;
    assert_eq!(status, 201, "{created}");

    let month = next.format("%Y-%m");
    let html = app.page(&format!("/calendar?month={month}")).await.text().await.unwrap();
    let cell = html.split(&format!("aria-label=\"{}\"", next.with_day(15).unwrap().format("%A %-d %B"))).nth(1).expect("the 15th has a cell");
    let cell = cell.split("</td>").next().unwrap();
    assert!(cell.contains("10:05 Mid-month sale") && cell.contains("scheduled"), "on its day, at its time: {cell}");
    assert!(html.contains(&next.format("%B %Y").to_string()));

    // The week view of any of that week's days shows it too.
    let week = app.page(&format!("/calendar?week={}", next.with_day(15).unwrap().format("%Y-%m-%d"))).await.text().await.unwrap();
    assert!(week.contains("10:05 Mid-month sale") && week.contains("Week of"), "{week}");
    assert!(app.page("/calendar?week=soon").await.text().await.unwrap().contains("must be a day like 2026-12-07"));

    // Moved to the 17th (the calendar's drag, through its server function): same time of day.
    let id = created["post"]["id"].as_str().unwrap().to_owned();
    let browser = app.browser.clone();
    let day = next.with_day(17).unwrap().format("%Y-%m-%d").to_string();
    let r = browser.post(app.url(keyport::server_fns::posts::ReschedulePost::PATH)).header("origin", &app.base).header("accept", "application/json")
        .form(&[("id", id.as_str()), ("day", day.as_str()), ("tz_offset", "0")]).send().await.unwrap();
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    let (_, read) = app.get_json(&format!("/api/posts/{id}")).await;
    assert_eq!(read["post"]["scheduled_at"], next.with_day(17).unwrap().and_hms_opt(10, 5, 0).unwrap().and_utc().to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true));
    // A draft has no day to move from.
    let (_, draft) = app.post_json("/api/posts", json!({"text": "Someday", "accounts": [account], "action": "draft"})).await;
    let r = browser.post(app.url(keyport::server_fns::posts::ReschedulePost::PATH)).header("origin", &app.base).header("accept", "application/json")
        .form(&[("id", draft["post"]["id"].as_str().unwrap()), ("day", day.as_str()), ("tz_offset", "0")]).send().await.unwrap();
    assert_eq!(r.status(), 409);

    // Not in this month, not when filtered out, and a month that is not one is named.
    let this_month = app.page("/calendar").await.text().await.unwrap();
    assert!(!this_month.contains("Mid-month sale"));
    let failed = app.page(&format!("/calendar?month={month}&status=failed")).await.text().await.unwrap();
    assert!(!failed.contains("Mid-month sale"));
    let bad = app.page("/calendar?month=2026-13").await.text().await.unwrap();
    assert!(bad.contains("must be a month like 2026-12"), "{bad}");
}
