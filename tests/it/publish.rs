//! Publishing end to end against keyport-sandbox: compose through the server function,
//! the durable queue and its worker, scheduled posts, retries, 401s, a crash between the
//! provider's answer and ours, and two server processes sharing one queue. SQLite and
//! PostgreSQL.

use crate::common;

use common::{
    sandbox::{connect, sandbox_platform, Sandbox},
    count, signed_in_browser, TestApp,
};
use keyport::{
    server_fns::posts::CreatePost,
    domain::{DeliveryStatus, PostForm, PostState, Role},
    server::{auth::Caller, oauth, publish, store},
};
use leptos::server_fn::ServerFn;
use uuid::Uuid;

on_both_backends!(
    publishes_now_through_the_form_and_records_the_outcome,
    each_account_gets_its_own_text_when_given_one,
    a_scheduled_post_fires_at_its_time_and_can_be_edited_or_cancelled_before,
    retries_a_500_then_succeeds_and_honours_retry_after,
    an_absurd_retry_after_is_clamped_and_the_worker_goes_on,
    an_answer_past_the_size_cap_is_not_read_and_not_retried,
    a_marketer_changes_only_their_own_posts,
    secrets_go_only_where_the_egress_policy_allows,
    a_refused_token_marks_the_platform_and_is_not_retried,
    an_attempt_interrupted_by_a_crash_is_retried_or_reported,
    a_burst_to_one_account_does_not_hold_up_another,
);

/// A platform connected to a fresh sandbox, a marketer's browser session, and the id of
/// the account connected.
async fn connected(app: &TestApp) -> (Sandbox, String, reqwest::Client, String) {
    let sandbox = Sandbox::start(&[]).await;
    let id = sandbox_platform(app, &sandbox).await;
    let (browser, _) = signed_in_browser(app, Role::Marketer).await;
    connect(app, &sandbox, &browser, &id).await;
    let account = common::first_account(app, &id).await;
    (sandbox, id, browser, account)
}

fn form(text: &str, account: &str, action: &str) -> PostForm {
    PostForm { text: text.into(), accounts: vec![account.into()], action: action.into(), ..Default::default() }
}

async fn delivery(app: &TestApp, post: Uuid) -> keyport::domain::Delivery {
    publish::get(&app.state, post).await.unwrap().deliveries.into_iter().next().unwrap()
}

/// Time passes: every queued delivery is due now.
async fn make_due(app: &TestApp) {
    app.execute("UPDATE deliveries SET due_at = '2000-01-01T00:00:00Z' WHERE status = 'queued'").await;
}

/// One post, two accounts of one platform: the second has its own text (sent as the
/// compose form encodes it, `form[texts][i][account|text]`), the first gets the post's text.
async fn each_account_gets_its_own_text_when_given_one(app: TestApp) {
    let (sandbox, id, browser, first) = connected(&app).await;
    assert_eq!(common::sandbox::connect_as(&app, &sandbox, &browser, &id, "Second Bakery").await, format!("/platforms/{id}?notice=connected"));
    let (_, accounts) = app.get_json(&format!("/api/platforms/{id}/accounts")).await;
    let second = accounts["accounts"].as_array().unwrap().iter().map(|a| a["id"].as_str().unwrap().to_owned()).find(|a| *a != first).unwrap();
    let post_form = |own: &str| {
        format!(
            "form[text]=Fresh+bread+today&form[link]=&form%5Baccounts%5D%5B%5D={first}&form%5Baccounts%5D%5B%5D={second}&form[action]=now\
             &form[scheduled_local]=&form[tz_offset]=0&form[texts][0][account]={first}&form[texts][0][text]=\
             &form[texts][1][account]={second}&form[texts][1][text]={own}"
        )
    };
    let send = |body: String| browser.post(app.url(CreatePost::PATH)).header("origin", &app.base).header("content-type", "application/x-www-form-urlencoded").header("accept", "application/json").body(body).send();

    // Over the sandbox's 500 characters: the field of that account's text is named.
    let r = send(post_form(&"a".repeat(501))).await.unwrap();
    let status = r.status();
    let error: serde_json::Value = r.json().await.unwrap();
    assert_eq!(status, 422, "{error}");
    assert!(error.to_string().contains(&format!("texts.{second}")), "{error}");

    let r = send(post_form("Croissants+for+the+second+shop")).await.unwrap();
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    let post: serde_json::Value = r.json().await.unwrap();
    let post_id: Uuid = post["id"].as_str().unwrap().parse().unwrap();
    publish::worker::process_due(&app.state).await;
    let post = publish::get(&app.state, post_id).await.unwrap();
    for d in &post.deliveries {
        assert_eq!(d.status, DeliveryStatus::Published, "{:?}", d.error);
        let page = reqwest::get(d.provider_url.as_deref().unwrap()).await.unwrap().text().await.unwrap();
        let (own, shown) = match d.account_id.unwrap().to_string() == second {
            true => (Some("Croissants for the second shop"), "Croissants for the second shop"),
            false => (None, "Fresh bread today"),
        };
        assert_eq!(d.text.as_deref(), own);
        assert!(page.contains(shown), "{shown} on the provider's page");
    }
}

async fn publishes_now_through_the_form_and_records_the_outcome(app: TestApp) {
    let (sandbox, _, browser, account) = connected(&app).await;
    // The compose form exactly as a browser posts it (checkboxes as form[accounts][]).
    let body = format!("form[text]=Hello+from+Keyport&form[link]=https%3A%2F%2Fexample.com%2Flaunch&form%5Baccounts%5D%5B%5D={account}&form[action]=now&form[scheduled_local]=&form[tz_offset]=-60");
    let r = browser
        .post(app.url(CreatePost::PATH))
        .header("origin", &app.base)
        .header("content-type", "application/x-www-form-urlencoded")
        .header("accept", "application/json")
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    let post: serde_json::Value = r.json().await.unwrap();
    let post_id: Uuid = post["id"].as_str().unwrap().parse().unwrap();
    assert_eq!(post["deliveries"][0]["status"], "queued");

    assert_eq!(publish::worker::process_due(&app.state).await, 1);
    let d = delivery(&app, post_id).await;
    assert_eq!((d.status, d.attempts), (DeliveryStatus::Published, 1));
    let url = d.provider_url.expect("the provider's link");
    let page = reqwest::get(&url).await.unwrap().text().await.unwrap();
    assert!(page.contains("Hello from Keyport"), "the link works and shows the post");
    assert_eq!(sandbox.stats().await["posts"], 1);
    assert_eq!(count(&app, "SELECT COUNT(*) FROM audit_events WHERE action = 'secret_used'").await, 1, "the decryption for publishing is audited");
    assert_eq!(count(&app, "SELECT COUNT(*) FROM audit_events WHERE action = 'delivery_published'").await, 1);
    assert_eq!(publish::worker::process_due(&app.state).await, 0, "nothing is sent twice");

    // Over the sandbox's 500-character limit: refused at the form, with the field named.
    let long = "x".repeat(501);
    let err = publish::create(&app.state, &Caller::default(), form(&long, &account, "now")).await.unwrap_err();
    assert!(err.to_string().contains("takes at most 500"), "{err}");
}

async fn a_scheduled_post_fires_at_its_time_and_can_be_edited_or_cancelled_before(app: TestApp) {
    let (sandbox, _, _, account) = connected(&app).await;
    let later = (chrono::Utc::now() + chrono::Duration::hours(2)).format("%Y-%m-%dT%H:%M").to_string();
    let scheduled = PostForm { scheduled_local: later.clone(), ..form("Scheduled hello", &account, "schedule") };
    let post = publish::create(&app.state, &Caller::default(), scheduled.clone()).await.unwrap();
    assert_eq!(post.state, PostState::Scheduled);
    assert_eq!(publish::worker::process_due(&app.state).await, 0, "not before its time");

    let edited = publish::update(&app.state, &Caller::default(), post.id, PostForm { text: "Scheduled, edited".into(), ..scheduled.clone() }).await.unwrap();
    assert_eq!(edited.text, "Scheduled, edited");
    let other = publish::create(&app.state, &Caller::default(), scheduled).await.unwrap();
    let cancelled = publish::cancel(&app.state, &Caller::default(), other.id).await.unwrap();
    assert_eq!((cancelled.state, cancelled.deliveries[0].status), (PostState::Cancelled, DeliveryStatus::Cancelled));

    make_due(&app).await;
    assert_eq!(publish::worker::process_due(&app.state).await, 1, "the cancelled one stays put");
    assert_eq!(delivery(&app, post.id).await.status, DeliveryStatus::Published);
    assert_eq!(sandbox.stats().await["posts"], 1);
    let page = reqwest::get(delivery(&app, post.id).await.provider_url.unwrap()).await.unwrap().text().await.unwrap();
    assert!(page.contains("Scheduled, edited"), "the edit is what was published");
    // Once started, it can no longer change.
    assert!(publish::cancel(&app.state, &Caller::default(), post.id).await.is_err());
}

async fn retries_a_500_then_succeeds_and_honours_retry_after(app: TestApp) {
    let (sandbox, _, _, account) = connected(&app).await;
    sandbox.fault("posts", "500", 1, 1).await;
    let post = publish::create(&app.state, &Caller::default(), form("Retry me", &account, "now")).await.unwrap();
    publish::worker::process_due(&app.state).await;
    let d = delivery(&app, post.id).await;
    assert_eq!((d.status, d.attempts), (DeliveryStatus::Queued, 1));
    assert!(d.error.as_deref().unwrap().contains("HTTP 500") && d.error.as_deref().unwrap().contains("retrying automatically (attempt 1 of 5)"), "{:?}", d.error);
    assert!(d.due_at > chrono::Utc::now() + chrono::Duration::seconds(5), "backs off");

    sandbox.fault("posts", "429", 1, 120).await;
    make_due(&app).await;
    publish::worker::process_due(&app.state).await;
    let d = delivery(&app, post.id).await;
    assert_eq!((d.status, d.attempts), (DeliveryStatus::Queued, 2));
    assert!(d.due_at >= chrono::Utc::now() + chrono::Duration::seconds(115), "Retry-After: 120 is honoured ({})", d.due_at);

    make_due(&app).await;
    publish::worker::process_due(&app.state).await;
    let d = delivery(&app, post.id).await;
    assert_eq!((d.status, d.attempts, d.error), (DeliveryStatus::Published, 3, None));
    assert_eq!(sandbox.stats().await["posts"], 1);
}

/// Any Mastodon instance can answer `Retry-After: 100000000000000`; it used to overflow the
/// retry time and panic the worker, and nothing was published again until a restart.
async fn an_absurd_retry_after_is_clamped_and_the_worker_goes_on(app: TestApp) {
    let (sandbox, _, _, account) = connected(&app).await;
    sandbox.fault("posts", "429", 1, 100_000_000_000_000).await;
    let first = publish::create(&app.state, &Caller::default(), form("Rate limited", &account, "now")).await.unwrap();
    assert_eq!(publish::worker::process_due(&app.state).await, 1);
    let d = delivery(&app, first.id).await;
    assert_eq!((d.status, d.attempts), (DeliveryStatus::Queued, 1));
    let (now, day) = (chrono::Utc::now(), chrono::Duration::hours(24));
    assert!(d.due_at > now + day - chrono::Duration::minutes(5) && d.due_at <= now + day, "retried after at most a day ({})", d.due_at);

    let second = publish::create(&app.state, &Caller::default(), form("Still publishing", &account, "now")).await.unwrap();
    assert_eq!(publish::worker::process_due(&app.state).await, 1);
    assert_eq!(delivery(&app, second.id).await.status, DeliveryStatus::Published, "the next post goes out");
}

/// A provider that streams a 1 MiB answer is cut off at 256 KiB; as it may have published,
/// the delivery fails with the reason instead of being retried into a duplicate.
async fn an_answer_past_the_size_cap_is_not_read_and_not_retried(app: TestApp) {
    let (sandbox, _, _, account) = connected(&app).await;
    sandbox.fault("posts", "huge", 1, 0).await;
    let post = publish::create(&app.state, &Caller::default(), form("Big answer", &account, "now")).await.unwrap();
    publish::worker::process_due(&app.state).await;
    let d = delivery(&app, post.id).await;
    assert_eq!(d.status, DeliveryStatus::Failed);
    assert!(d.error.as_deref().unwrap().contains("answer larger than 256 KiB") && d.error.as_deref().unwrap().contains("may have been published"), "{:?}", d.error);
    assert_eq!(d.provider_post_id, None);
}

/// A caller signed in as a new user with `role`.
async fn person(app: &TestApp, role: Role) -> Caller {
    use keyport::{domain::SecretText, server::users};
    let email = format!("{role}-{}@example.com", Uuid::now_v7().simple());
    let user = users::create(&app.db, &Caller::default(), &email, &SecretText::new("correct horse battery"), role).await.unwrap();
    Caller { user: Some(user), ..Caller::default() }
}

async fn a_marketer_changes_only_their_own_posts(app: TestApp) {
    let (_sandbox, _, _, account) = connected(&app).await;
    let (ada, bob, admin) = (person(&app, Role::Marketer).await, person(&app, Role::Marketer).await, person(&app, Role::Admin).await);
    let draft = publish::create(&app.state, &ada, form("Ada's draft", &account, "draft")).await.unwrap();
    assert_eq!(draft.created_by_id, ada.user.as_ref().map(|u| u.id));
    let forbidden = |e: keyport::domain::AppError| matches!(&e, keyport::domain::AppError::Forbidden { message } if message.contains("only they or an admin may change it"));
    assert!(forbidden(publish::update(&app.state, &bob, draft.id, form("Bob was here", &account, "draft")).await.unwrap_err()));
    assert!(forbidden(publish::cancel(&app.state, &bob, draft.id).await.unwrap_err()));
    assert_eq!(publish::get(&app.state, draft.id).await.unwrap().text, "Ada's draft", "nothing changed");
    publish::update(&app.state, &ada, draft.id, form("Ada's draft, edited", &account, "draft")).await.unwrap();
    publish::cancel(&app.state, &admin, draft.id).await.unwrap();

    let sent = publish::create(&app.state, &ada, form("Ada's post", &account, "now")).await.unwrap();
    app.execute("UPDATE deliveries SET status = 'failed'").await;
    let failed = delivery(&app, sent.id).await.id;
    assert!(forbidden(publish::retry(&app.state, &bob, failed, false).await.unwrap_err()));
    assert_eq!(delivery(&app, sent.id).await.status, DeliveryStatus::Failed);
    publish::retry(&app.state, &ada, failed, false).await.unwrap();
    assert_eq!(delivery(&app, sent.id).await.status, DeliveryStatus::Queued);
}

/// Without ALLOW_INSECURE_PROVIDERS, no token goes to the sandbox: it is plain http, and
/// `localhost` resolves to loopback (checked when connecting, so DNS cannot smuggle it in).
async fn secrets_go_only_where_the_egress_policy_allows(app: TestApp) {
    let (sandbox, _, _, account) = connected(&app).await;
    let strict = app.reopen(&[("ENCRYPTION_KEY", common::TEST_KEY), ("ALLOW_INSECURE_PROVIDERS", "0")]).await;
    let deliver = |text: &'static str| {
        let (strict, account) = (&strict, account.clone());
        async move {
            let post = publish::create(&strict.state, &Caller::default(), form(text, &account, "now")).await.unwrap();
            publish::worker::process_due(&strict.state).await;
            delivery(strict, post.id).await
        }
    };
    let d = deliver("Over plain http?").await;
    assert_eq!(d.status, DeliveryStatus::Failed);
    assert!(d.error.as_deref().unwrap().contains("refusing to send credentials to http://127.0.0.1:") && d.error.as_deref().unwrap().contains("plain http"), "{:?}", d.error);

    let port = sandbox.base.rsplit(':').next().unwrap().to_owned();
    strict.execute(&format!("UPDATE oauth_settings SET api_base_url = 'https://localhost:{port}'")).await;
    let d = deliver("Through a name for loopback?").await;
    assert_eq!(d.status, DeliveryStatus::Failed, "not retried: no retry can help");
    assert!(d.error.as_deref().unwrap().contains("refusing to send credentials to localhost"), "{:?}", d.error);
    assert_eq!(sandbox.stats().await["posts"], 0, "nothing reached the provider");

    // The token endpoint is plain http too: a refresh is refused before anything is sent.
    strict.execute("UPDATE accounts SET expires_at = '2000-01-01T00:00:00Z'").await;
    let refused = oauth::tokens::access_token(&strict.state, account.parse().unwrap()).await.unwrap_err().to_string();
    assert!(refused.contains("plain http"), "{refused}");
    assert_eq!(sandbox.stats().await["refreshes"], 0);
}

async fn a_refused_token_marks_the_platform_and_is_not_retried(app: TestApp) {
    let (sandbox, id, _, account) = connected(&app).await;
    sandbox.revoke_all().await; // the access token is now refused
    let post = publish::create(&app.state, &Caller::default(), form("Refused", &account, "now")).await.unwrap();
    publish::worker::process_due(&app.state).await;
    let d = delivery(&app, post.id).await;
    assert_eq!((d.status, d.attempts), (DeliveryStatus::Failed, 1), "no retry");
    assert!(d.error.as_deref().unwrap().contains("re-authenticate the account, then Retry"), "{:?}", d.error);
    let (_, platform) = app.get_json(&format!("/api/platforms/{id}")).await;
    assert_eq!(platform["platform"]["status"], "error");
    make_due(&app).await;
    assert_eq!(publish::worker::process_due(&app.state).await, 0);

    // After re-authenticating, Retry publishes it.
    let (browser, _) = signed_in_browser(&app, Role::Marketer).await;
    connect(&app, &sandbox, &browser, &id).await;
    publish::retry(&app.state, &Caller::default(), d.id, false).await.unwrap();
    publish::worker::process_due(&app.state).await;
    assert_eq!(delivery(&app, post.id).await.status, DeliveryStatus::Published);
}

async fn an_attempt_interrupted_by_a_crash_is_retried_or_reported(app: TestApp) {
    let (sandbox, _, _, account) = connected(&app).await;
    let post = publish::create(&app.state, &Caller::default(), form("Crash test", &account, "now")).await.unwrap();
    // A worker claims it, reaches the provider, and dies before writing the outcome.
    let claimed = store::posts::claim(&app.db, 10, chrono::Utc::now() - chrono::Duration::seconds(1)).await.unwrap().claimed;
    assert_eq!(claimed.len(), 1);
    let token = oauth::tokens::access_token(&app.state, account.parse().unwrap()).await.unwrap();
    let first = reqwest::Client::new()
        .post(sandbox.url("/api/posts"))
        .bearer_auth(secrecy::ExposeSecret::expose_secret(&token))
        .header("Idempotency-Key", &claimed[0].idempotency_key)
        .json(&serde_json::json!({"text": "Crash test"}))
        .send()
        .await
        .unwrap();
    assert_eq!(first.status(), 201);
    // The next round finds the abandoned attempt: the sandbox deduplicates by key, so it is
    // retried with the same key — and published once.
    publish::worker::process_due(&app.state).await;
    publish::worker::process_due(&app.state).await;
    let d = delivery(&app, post.id).await;
    assert_eq!(d.status, DeliveryStatus::Published);
    assert_eq!(sandbox.stats().await["posts"], 1, "published exactly once");

    // A provider without idempotency keys (X): reported as unconfirmed, never re-sent blindly.
    app.execute(&format!("UPDATE oauth_settings SET provider = 'x', api_base_url = '{}' WHERE platform_id IN (SELECT id FROM platforms)", sandbox.base)).await;
    let post = publish::create(&app.state, &Caller::default(), form("Unsure", &account, "draft")).await.unwrap();
    app.execute(&format!(
        "UPDATE deliveries SET status = 'publishing', attempts = 1, lease_until = '2000-01-01T00:00:00Z' WHERE post_id IN (SELECT id FROM posts WHERE text = 'Unsure')"
    ))
    .await;
    publish::worker::process_due(&app.state).await;
    let d = delivery(&app, post.id).await;
    assert_eq!(d.status, DeliveryStatus::Unconfirmed);
    assert!(d.error.as_deref().unwrap().contains("may have been published"), "{:?}", d.error);
    assert_eq!(count(&app, "SELECT COUNT(*) FROM audit_events WHERE action = 'delivery_interrupted'").await, 2);
    // Retrying it needs the person to say they checked the platform.
    let unsure = publish::retry(&app.state, &Caller::default(), d.id, false).await.unwrap_err();
    assert_eq!(unsure.to_string(), "confirm: this delivery may already have been published: check the platform, then confirm the retry");
    assert_eq!(delivery(&app, post.id).await.status, DeliveryStatus::Unconfirmed);
    publish::retry(&app.state, &Caller::default(), d.id, true).await.unwrap();
    assert_eq!(delivery(&app, post.id).await.status, DeliveryStatus::Queued);
}

/// Two real server processes on one PostgreSQL database, 200 deliveries due at once:
/// each claimed and published exactly once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_processes_publish_200_scheduled_deliveries_exactly_once() {
    let Some(app) = TestApp::postgres().await else { return };
    let (sandbox, _, _, account) = connected(&app).await;
    let later = (chrono::Utc::now() + chrono::Duration::hours(1)).format("%Y-%m-%dT%H:%M").to_string();
    for i in 0..200 {
        let f = PostForm { scheduled_local: later.clone(), ..form(&format!("Post {i}"), &account, "schedule") };
        publish::create(&app.state, &Caller::default(), f).await.unwrap();
    }
    let fast = [("PUBLISH_POLL_MILLISECONDS", "100")];
    let servers = [common::serve_process(&app, &fast).await, common::serve_process(&app, &fast).await];
    for (_, base) in &servers {
        common::wait_ready(base).await;
    }
    make_due(&app).await; // the scheduled time arrives for all 200 at once
    for _ in 0..600 {
        if count(&app, "SELECT COUNT(*) FROM deliveries WHERE status = 'published'").await == 200 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(count(&app, "SELECT COUNT(*) FROM deliveries WHERE status = 'published'").await, 200);
    assert_eq!(count(&app, "SELECT COUNT(*) FROM deliveries WHERE attempts <> 1").await, 0, "every delivery claimed once");
    assert_eq!(sandbox.stats().await["posts"], 200, "the sandbox received each post once");
}

/// 100 posts due to one account, then one to another: each account holds one place in
/// the queue, so the second account's post goes in the first round, not after the 100.
async fn a_burst_to_one_account_does_not_hold_up_another(app: TestApp) {
    let (sandbox, id, browser, busy) = connected(&app).await;
    common::sandbox::connect_as(&app, &sandbox, &browser, &id, "Second Bakery").await;
    let (_, accounts) = app.get_json(&format!("/api/platforms/{id}/accounts")).await;
    let other = accounts["accounts"].as_array().unwrap().iter().map(|a| a["id"].as_str().unwrap().to_owned()).find(|a| *a != busy).unwrap();
    for i in 0..100 {
        publish::create(&app.state, &Caller::default(), form(&format!("Batch {i}"), &busy, "now")).await.unwrap();
    }
    let late = publish::create(&app.state, &Caller::default(), form("Not held up", &other, "now")).await.unwrap();
    assert_eq!(publish::worker::process_due(&app.state).await, 2, "one of each account");
    assert_eq!(delivery(&app, late.id).await.status, DeliveryStatus::Published);
    assert_eq!(count(&app, "SELECT COUNT(*) FROM deliveries WHERE status = 'published'").await, 2);
}
