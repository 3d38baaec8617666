//! Who may do what: first-run set-up, sign-in with sessions, rate limits, CSRF, roles on
//! every page, server function and API route, API tokens, the audit log. SQLite and
//! PostgreSQL.

use crate::common;

use common::{browser_post, http_client, location, signed_in_browser, TestApp, PASSWORD};
use keyport::{
    server_fns::{
        auth::{SetUp, SignIn, SignOut},
        platforms::ListPlatforms,
        profile::CreateApiToken,
    },
    domain::Role,
};
use leptos::server_fn::ServerFn;
use serde_json::{json, Value};

on_both_backends!(
    the_audit_log_pages_through_every_entry_once_each_way,
    the_users_page_through_everyone_in_email_order,
    first_run_leads_to_a_one_time_set_up,
    sign_in_rotates_the_session_and_sign_out_ends_it,
    a_session_in_use_outlives_its_idle_period,
    anonymous_pages_redirect_to_sign_in_and_come_back,
    failed_sign_ins_are_rate_limited_without_revealing_accounts,
    concurrent_attempts_cannot_all_pass_the_address_limit,
    a_stranger_guessing_from_many_addresses_cannot_lock_out_the_owner,
    cross_site_writes_are_refused,
    roles_are_enforced_on_every_server_function,
    roles_are_enforced_on_every_page,
    roles_are_enforced_on_every_api_route,
    the_last_active_admin_stays,
    disabling_a_user_or_resetting_the_password_ends_their_sessions,
    a_user_changes_their_own_password_and_their_other_sessions_end,
    client_addresses_come_from_trusted_proxies_only,
    api_tokens_are_created_used_and_revoked,
    actions_are_audited_without_secrets,
    security_headers_are_on_every_response,
);

async fn first_run_leads_to_a_one_time_set_up(app: TestApp) {
    app.execute("DELETE FROM users").await;
    let browser = http_client(None);
    assert_eq!(location(&browser.get(app.url("/platforms")).send().await.unwrap()), "/setup");
    assert_eq!(location(&browser.get(app.url("/login")).send().await.unwrap()), "/setup");
    assert_eq!(browser.get(app.url("/setup")).send().await.unwrap().status(), 200);

    let r = browser_post(&app, &browser, SetUp::PATH, &[("email", "ada@example.com"), ("password", PASSWORD), ("confirm", "different")]).await;
    assert!(location(&r).contains("__err="), "a mismatched confirmation is refused");
    let r = browser_post(&app, &browser, SetUp::PATH, &[("email", "ada@example.com"), ("password", PASSWORD), ("confirm", PASSWORD)]).await;
    assert_eq!(location(&r), "/platforms?notice=welcome");
    let page = browser.get(app.url("/platforms?notice=welcome")).send().await.unwrap();
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    assert!(html.contains("ada@example.com") && html.contains("Sign out"));

    let stranger = http_client(None);
    assert_eq!(location(&stranger.get(app.url("/setup")).send().await.unwrap()), "/login", "the set-up form is gone for good");
    let r = browser_post(&app, &stranger, SetUp::PATH, &[("email", "eve@example.com"), ("password", PASSWORD), ("confirm", PASSWORD)]).await;
    assert!(location(&r).contains("__err="));
    let (n,): (i64,) = keyport::on_db!(&app.db, |pool| sqlx::query_as("SELECT COUNT(*) FROM users").fetch_one(pool).await).unwrap();
    assert_eq!(n, 1);
}

fn session_cookie(r: &reqwest::Response) -> Option<String> {
    r.headers().get_all("set-cookie").iter().map(|v| v.to_str().unwrap().to_owned()).find(|c| c.starts_with("keyport_session="))
}

async fn sign_in_rotates_the_session_and_sign_out_ends_it(app: TestApp) {
    let (browser, email) = signed_in_browser(&app, Role::Marketer).await;
    let again = browser_post(&app, &browser, SignIn::PATH, &[("email", &email), ("password", PASSWORD)]).await;
    let cookie = session_cookie(&again).expect("a session cookie");
    assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"), "{cookie}");
    let first = browser.get(app.url("/platforms")).send().await.unwrap();
    assert_eq!(first.status(), 200);
    // A second sign-in from the same browser gets a new session id (no fixation).
    let third = browser_post(&app, &browser, SignIn::PATH, &[("email", &email), ("password", PASSWORD)]).await;
    assert_ne!(session_cookie(&third).unwrap().split(';').next(), cookie.split(';').next());
    // The database keeps a hash of the id, so a database reader cannot forge the cookie.
    let id = session_cookie(&third).unwrap().split(';').next().unwrap().trim_start_matches("keyport_session=").to_owned();
    let hashed = keyport::server::store::sessions::key(&id.parse().unwrap());
    assert_eq!(common::count(&app, &format!("SELECT COUNT(*) FROM sessions WHERE id = '{id}'")).await, 0, "no plain session id stored");
    assert_eq!(common::count(&app, &format!("SELECT COUNT(*) FROM sessions WHERE id = '{hashed}'")).await, 1);
    assert_eq!(hashed.len(), 64);

    let out = browser_post(&app, &browser, SignOut::PATH, &[]).await;
    assert_eq!(location(&out), "/login?notice=signed_out");
    assert!(location(&browser.get(app.url("/platforms")).send().await.unwrap()).starts_with("/login"));
    let api = browser.get(app.url("/api/platforms")).send().await.unwrap();
    assert_eq!(api.status(), 401);
}

/// SESSION_IDLE_MINUTES counts from the last request, not from sign-in; and a session is
/// not written again on every request.
async fn a_session_in_use_outlives_its_idle_period(app: TestApp) {
    let (browser, email) = signed_in_browser(&app, Role::Marketer).await;
    let (user,): (uuid::Uuid,) = keyport::on_db!(&app.db, |pool| sqlx::query_as("SELECT id FROM users WHERE email = $1").bind(&email).fetch_one(pool).await).unwrap();
    let theirs = format!("data LIKE '%{user}%'");
    assert_eq!(common::count(&app, &format!("SELECT COUNT(*) FROM sessions WHERE {theirs}")).await, 1);
    let idle = 60 * 60; // the default idle period
    let now = chrono::Utc::now().timestamp();
    // As if signed in 50 minutes ago and in use ever since: the stored session would end
    // in 10 minutes.
    let (data,): (String,) = keyport::on_db!(&app.db, |pool| sqlx::query_as(&format!("SELECT data FROM sessions WHERE {theirs}")).fetch_one(pool).await).unwrap();
    let mut data: Value = serde_json::from_str(&data).unwrap();
    data["auth.login_at"] = json!(now - 50 * 60);
    let update = format!("UPDATE sessions SET data = $1, expires_at = $2 WHERE {theirs}");
    keyport::on_db!(&app.db, |pool| sqlx::query(&update).bind(data.to_string()).bind(now + 600).execute(pool).await.map(|_| ())).unwrap();
    assert_eq!(browser.get(app.url("/platforms")).send().await.unwrap().status(), 200);
    let ends = common::count(&app, &format!("SELECT expires_at FROM sessions WHERE {theirs}")).await;
    assert!(ends >= now + idle - 60, "the session now ends {} s from now, not an idle period", ends - now);
    // Just extended: the next requests leave the stored session as it is.
    app.execute(&format!("UPDATE sessions SET expires_at = {} WHERE {theirs}", now + 900)).await;
    assert_eq!(browser.get(app.url("/platforms")).send().await.unwrap().status(), 200);
    assert_eq!(common::count(&app, &format!("SELECT expires_at FROM sessions WHERE {theirs}")).await, now + 900);
}

async fn anonymous_pages_redirect_to_sign_in_and_come_back(app: TestApp) {
    let browser = http_client(None);
    let r = browser.get(app.url("/platforms?category=social")).send().await.unwrap();
    assert_eq!(location(&r), "/login?next=/platforms%3Fcategory%3Dsocial");
    let (_, email) = signed_in_browser(&app, Role::Marketer).await;
    let r = browser_post(&app, &browser, SignIn::PATH, &[("email", &email), ("password", PASSWORD), ("next", "/platforms?category=social")]).await;
    assert_eq!(location(&r), "/platforms?category=social");
    let r = browser_post(&app, &http_client(None), SignIn::PATH, &[("email", &email), ("password", PASSWORD), ("next", "//evil.example/x")]).await;
    assert_eq!(location(&r), "/platforms", "only local return paths");
    // A tab is dropped by browsers, turning `/<TAB>/evil.example` into `//evil.example`.
    let r = browser_post(&app, &http_client(None), SignIn::PATH, &[("email", &email), ("password", PASSWORD), ("next", "/\t/evil.example")]).await;
    assert_eq!(location(&r), "/platforms", "a tab cannot make the return path off-site");
    // A control character cannot stand in a header: it is encoded, not a dropped connection.
    for (next, to) in [("/\u{1}", "/"), ("/a\u{1}b", "/a%01b")] {
        let r = browser_post(&app, &http_client(None), SignIn::PATH, &[("email", &email), ("password", PASSWORD), ("next", next)]).await;
        assert_eq!(location(&r), to);
    }
}

async fn failed_sign_ins_are_rate_limited_without_revealing_accounts(app: TestApp) {
    let (_, email) = signed_in_browser(&app, Role::Marketer).await;
    let attempt = |who: String, password: &'static str| {
        let app = &app;
        async move {
            let r = app.anonymous.post(app.url(SignIn::PATH)).header("origin", &app.base).form(&[("email", who.as_str()), ("password", password)]).send().await.unwrap();
            (r.status().as_u16(), r.text().await.unwrap())
        }
    };
    // A stranger's 100 KB "email" is refused before anything is written.
    let audited = common::count(&app, "SELECT COUNT(*) FROM audit_events").await;
    let (status, body) = attempt(format!("{}@example.com", "a".repeat(100_000)), "wrong password 1").await;
    assert_eq!(status, 422);
    assert!(body.contains("email") && body.contains("at most 254 characters"), "{body}");
    assert_eq!(common::count(&app, "SELECT COUNT(*) FROM audit_events").await, audited, "no audit row for it");
    let unknown = attempt("nobody@example.com".into(), "wrong password 1").await;
    let wrong = attempt(email.clone(), "wrong password 1").await;
    assert_eq!(unknown, wrong, "the answer does not tell whether the email exists");
    assert_eq!(wrong.0, 422);
    for _ in 0..3 {
        attempt(email.clone(), "wrong password 1").await;
    }
    let (status, body) = attempt(email.clone(), PASSWORD).await;
    assert_eq!(status, 429, "the sixth attempt from this address is refused even with the right password: {body}");
    assert!(body.contains("Too many failed sign-in attempts"));
}

/// Ten wrong passwords sent at once from one address: the count is taken atomically, so
/// exactly five are checked and five refused (a read-then-write count let all ten through).
async fn concurrent_attempts_cannot_all_pass_the_address_limit(app: TestApp) {
    let attempts = (0..10).map(|i| {
        let request = app.anonymous.post(app.url(SignIn::PATH)).header("origin", &app.base).form(&[("email", format!("guess{i}@example.com")), ("password", "wrong password".into())]);
        async move { request.send().await.unwrap().status().as_u16() }
    });
    let mut statuses = futures::future::join_all(attempts).await;
    statuses.sort();
    assert_eq!(statuses, [422, 422, 422, 422, 422, 429, 429, 429, 429, 429]);
    assert_eq!(common::count(&app, "SELECT COUNT(*) FROM audit_events WHERE action = 'login_failed'").await, 5);
    assert_eq!(
        common::count(&app, "SELECT COUNT(*) FROM audit_events WHERE action = 'login_throttled'").await,
        1,
        "throttled attempts are counted, not logged one row each"
    );
    assert_eq!(common::count(&app, "SELECT attempts FROM login_throttle WHERE key = 'addr:127.0.0.1'").await, 10);
}

/// Per account, failures slow sign-in down rather than block it: after a stranger's
/// guesses from many addresses the owner still signs in with the right password.
async fn a_stranger_guessing_from_many_addresses_cannot_lock_out_the_owner(app: TestApp) {
    let (_, email) = signed_in_browser(&app, Role::Admin).await;
    let proxied = app.reopen(&[("ENCRYPTION_KEY", common::TEST_KEY), ("TRUSTED_PROXIES", "127.0.0.1")]).await;
    let sign_in = |from: String, password: &'static str| {
        let request = proxied.anonymous.post(proxied.url(SignIn::PATH)).header("origin", &proxied.base).header("x-forwarded-for", from).form(&[("email", email.as_str()), ("password", password)]);
        async move { request.send().await.unwrap().status().as_u16() }
    };
    for i in 0..6 {
        assert_eq!(sign_in(format!("198.51.100.{i}"), "wrong password").await, 422, "attempt {i} is checked, not refused");
    }
    let owner = proxied.anonymous.post(proxied.url(SignIn::PATH)).header("origin", &proxied.base).header("x-forwarded-for", "203.0.113.1").form(&[("email", email.as_str()), ("password", PASSWORD)]);
    let r = owner.send().await.unwrap();
    assert_eq!(location(&r), "/platforms", "the owner signs in ({}), only more slowly", r.status());
    assert_eq!(common::count(&app, "SELECT COUNT(*) FROM login_throttle WHERE key LIKE 'account:%'").await, 0, "a success starts the account afresh");
    assert_eq!(common::count(&app, "SELECT COUNT(*) FROM audit_events WHERE action = 'login_throttled'").await, 1, "the slow-down is logged once");
}

async fn cross_site_writes_are_refused(app: TestApp) {
    let (browser, _) = signed_in_browser(&app, Role::Admin).await;
    let post = |headers: &'static [(&'static str, &'static str)]| {
        let mut req = browser.post(app.url(ListPlatforms::PATH)).form(&[("category", "")]);
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        req.send()
    };
    assert_eq!(post(&[("origin", "https://evil.example")]).await.unwrap().status(), 403);
    assert_eq!(post(&[("sec-fetch-site", "cross-site")]).await.unwrap().status(), 403);
    assert_eq!(post(&[]).await.unwrap().status(), 403, "no origin information at all");
    assert_eq!(post(&[("sec-fetch-site", "same-origin")]).await.unwrap().status(), 200);
    let json = browser.post(app.url("/api/platforms")).header("origin", "https://evil.example").json(&json!({"name": "x"})).send().await.unwrap();
    assert_eq!(json.status(), 403, "the JSON API with a cookie is protected too");
    // Mutating server functions take POST only.
    assert_eq!(browser.get(app.url(CreateApiToken::PATH)).send().await.unwrap().status(), 405);

    // Login CSRF: another site posts the sign-in form from an older browser (no cookie, no
    // Sec-Fetch-Site) to sign the visitor in as the attacker.
    let (_, attacker) = signed_in_browser(&app, Role::Marketer).await;
    let sign_in = |headers: &[(&str, &str)]| {
        let mut req = http_client(None).post(app.url(SignIn::PATH)).form(&[("email", attacker.as_str()), ("password", PASSWORD)]);
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        req.send()
    };
    assert_eq!(sign_in(&[("origin", "https://evil.example")]).await.unwrap().status(), 403);
    assert_eq!(sign_in(&[("referer", "https://evil.example/page")]).await.unwrap().status(), 403);
    assert_eq!(sign_in(&[("sec-fetch-site", "same-site")]).await.unwrap().status(), 403, "a sibling subdomain is another site");
    assert_eq!(location(&sign_in(&[("origin", app.base.as_str())]).await.unwrap()), "/platforms");
    assert_eq!(location(&sign_in(&[]).await.unwrap()), "/platforms", "a script without any browser header may sign in");
}

/// (server function name, sample arguments, who may call it).
fn server_function_expectations() -> Vec<(&'static str, String, Option<Role>)> {
    let unknown = "0190a0a0-0000-7000-8000-000000000000";
    let n = uuid::Uuid::now_v7().simple().to_string();
    vec![
        ("current_user", String::new(), None),
        ("set_up", format!("email=x{n}@example.com&password={PASSWORD}&confirm={PASSWORD}"), None),
        ("sign_in", "email=nobody@example.com&password=wrong".into(), None),
        ("sign_out", String::new(), None),
        ("list_platforms", String::new(), Some(Role::Marketer)),
        ("get_platform", format!("id={unknown}"), Some(Role::Marketer)),
        ("get_platform_details", format!("id={unknown}"), Some(Role::Marketer)),
        ("list_api_tokens", String::new(), Some(Role::Marketer)),
        ("create_api_token", "name=matrix".into(), Some(Role::Marketer)),
        ("revoke_api_token", format!("id={unknown}"), Some(Role::Marketer)),
        ("create_platform", format!("form[name]=matrix-{n}"), Some(Role::Admin)),
        ("update_platform", format!("id={unknown}&form[name]=x"), Some(Role::Admin)),
        ("delete_platform", format!("id={unknown}"), Some(Role::Admin)),
        ("set_secret", format!("id={unknown}&value=x"), Some(Role::Admin)),
        ("remove_secret", format!("id={unknown}"), Some(Role::Admin)),
        ("list_users", String::new(), Some(Role::Admin)),
        ("create_user", format!("email=m{n}@example.com&password={PASSWORD}&role=marketer"), Some(Role::Admin)),
        ("update_user", format!("id={unknown}&role=admin"), Some(Role::Admin)),
        ("reset_password", format!("id={unknown}&password={PASSWORD}"), Some(Role::Admin)),
        ("list_audit", String::new(), Some(Role::Admin)),
        ("provider_choices", String::new(), Some(Role::Marketer)),
        ("get_page_pick", format!("id={unknown}&pick={unknown}"), Some(Role::Marketer)),
        ("account_boards", format!("id={unknown}&account={unknown}"), Some(Role::Marketer)),
        ("save_oauth_settings", format!("id={unknown}&form[provider]=x"), Some(Role::Admin)),
        ("get_key_panel", String::new(), Some(Role::Admin)),
        ("start_rotation", String::new(), Some(Role::Admin)),
        ("pause_rotation", "paused=true".into(), Some(Role::Admin)),
        // An admin's call changes nothing: v999 is not the active key, nor a key at all.
        ("rotate_key", "from=999".into(), Some(Role::Admin)),
        ("retire_key", "version=999".into(), Some(Role::Admin)),
        ("reencrypt_platform", format!("id={unknown}"), Some(Role::Admin)),
        ("list_attention", String::new(), Some(Role::Marketer)),
        ("list_posts", String::new(), Some(Role::Marketer)),
        ("compose_choices", String::new(), Some(Role::Marketer)),
        ("create_post", "form[text]=x&form[action]=draft".into(), Some(Role::Marketer)),
        ("update_post", format!("id={unknown}&form[text]=x&form[action]=draft"), Some(Role::Marketer)),
        ("cancel_post", format!("id={unknown}"), Some(Role::Marketer)),
        ("retry_delivery", format!("id={unknown}"), Some(Role::Marketer)),
        ("get_post", format!("id={unknown}"), Some(Role::Marketer)),
        ("calendar_month", String::new(), Some(Role::Marketer)),
        ("reschedule_post", format!("id={unknown}&day=2030-01-01&tz_offset=0"), Some(Role::Marketer)),
        ("change_password", "current=wrong&new=x&confirm=x".into(), Some(Role::Marketer)),
    ]
}

async fn roles_are_enforced_on_every_server_function(app: TestApp) {
    let (mut marketer, mut admin) = (app.browser_as(Role::Marketer).await, app.browser_as(Role::Admin).await);
    let expectations = server_function_expectations();
    let paths: Vec<&str> = leptos::server_fn::axum::server_fn_paths().map(|(path, _)| path).collect();
    for path in &paths {
        let name = path.trim_start_matches("/api/").trim_end_matches(|c: char| c.is_ascii_digit());
        let (_, args, access) = expectations
            .iter()
            .find(|(n, ..)| *n == name)
            .unwrap_or_else(|| panic!("{path} has no row in the authorization matrix: add one"));
        // An admin's API token opens no server function: it is a stranger there.
        for (who, client) in [("anonymous", &app.anonymous), ("API token", &app.client), ("marketer", &marketer), ("admin", &admin)] {
            let status = client
                .post(app.url(path))
                .header("origin", &app.base)
                .header("content-type", "application/x-www-form-urlencoded")
                .body(args.clone())
                .send()
                .await
                .unwrap()
                .status()
                .as_u16();
            let expected_denial = match (access, who) {
                (None, _) => None,
                (Some(_), "anonymous" | "API token") => Some(401),
                (Some(Role::Admin), "marketer") => Some(403),
                _ => None,
            };
            match (expected_denial, access) {
                (Some(code), _) => assert_eq!(status, code, "{who} calling {name}"),
                // Public functions may still refuse (set-up once done): never as "sign in first".
                (None, None) => assert!(status != 401 && status < 500, "{who} calling {name} got {status}"),
                (None, Some(_)) => assert!(status != 401 && status != 403 && status < 500, "{who} calling {name} got {status}"),
            }
        }
        if name == "sign_out" {
            // It ended the sessions it rode on: later functions get fresh ones.
            app.execute("DELETE FROM login_throttle").await;
            (marketer, admin) = (app.browser_as(Role::Marketer).await, app.browser_as(Role::Admin).await);
        }
    }
    assert_eq!(paths.len(), expectations.len(), "every row of the matrix names a registered server function");
}

async fn roles_are_enforced_on_every_page(app: TestApp) {
    let p = app.create_platform(json!({"name": "Matrix"})).await;
    let id = p["id"].as_str().unwrap();
    // A draft post with the same id, so /posts/{id}/edit names something too.
    keyport::on_db!(&app.db, |pool| sqlx::query("INSERT INTO posts (id, text, state, created_by, created_at, updated_at) VALUES ($1, 'x', 'draft', 'test', $2, $2)")
        .bind(uuid::Uuid::parse_str(id).unwrap()).bind(chrono::Utc::now()).execute(pool).await.map(|_| ())).unwrap();
    let marketer = app.browser_as(Role::Marketer).await;
    let admin_pages = ["/platforms/new", "/platforms/{id}/edit", "/users", "/audit", "/keys", "/import"];
    for route in keyport::server::router::page_routes() {
        let pattern = route.path().to_owned();
        // A Page pick names a short-lived row nobody made here: the page answers 410, past the gate.
        let path = pattern.replace("{id}", id).replace("{pick}", "0190a0a0-0000-7000-8000-000000000000");
        let anonymous = app.anonymous.get(app.url(&path)).send().await.unwrap();
        if pattern == "/login" || pattern == "/setup" {
            assert!(anonymous.status() == 200 || anonymous.status() == 303 || anonymous.status() == 302, "{path}");
            continue;
        }
        assert!(location(&anonymous).starts_with("/login?next="), "anonymous {path}: {}", anonymous.status());
        let with_token = app.client.get(app.url(&path)).send().await.unwrap();
        assert!(location(&with_token).starts_with("/login?next="), "an API token opens no page: {path} {}", with_token.status());
        let as_marketer = marketer.get(app.url(&path)).send().await.unwrap().status().as_u16();
        let as_admin = app.browser.get(app.url(&path)).send().await.unwrap().status().as_u16();
        if admin_pages.contains(&pattern.as_str()) {
            assert_eq!(as_marketer, 403, "marketer {path}");
        } else if pattern.contains("{pick}") {
            assert_eq!((as_marketer, as_admin), (410, 410), "{path}");
            continue;
        } else {
            assert!(as_marketer == 200 || as_marketer == 302, "marketer {path}: {as_marketer}");
        }
        assert!(as_admin == 200 || as_admin == 302, "admin {path}: {as_admin}");
    }
}

async fn roles_are_enforced_on_every_api_route(app: TestApp) {
    let p = app.create_platform(json!({"name": "Api", "auth_type": "api_key"})).await;
    let id = p["id"].as_str().unwrap().to_owned();
    let o = app.create_platform(json!({"name": "Api OAuth", "auth_type": "oauth2"})).await;
    let oid = o["id"].as_str().unwrap().to_owned();
    let marketer = app.client_as(Role::Marketer).await;
    // (method, path, admin only). Keep in step with server/json_api.rs `routes`.
    let routes = [
        ("GET", "/api/platforms".to_owned(), false),
        ("POST", "/api/platforms".to_owned(), true),
        ("GET", format!("/api/platforms/{id}"), false),
        ("PATCH", format!("/api/platforms/{id}"), true),
        ("GET", format!("/api/platforms/{id}/credentials"), true),
        ("PUT", format!("/api/platforms/{id}/secrets/api_key"), true),
        ("DELETE", format!("/api/platforms/{id}/secrets/api_key"), true),
        ("GET", format!("/api/platforms/{oid}/oauth"), false),
        ("PUT", format!("/api/platforms/{oid}/oauth"), true),
        ("GET", format!("/api/platforms/{oid}/accounts"), false),
        ("POST", format!("/api/platforms/{oid}/accounts/{}/token", uuid::Uuid::now_v7()), true),
        ("DELETE", format!("/api/platforms/{id}"), true),
    ];
    for (method, path, admin_only) in &routes {
        let send = |client: &reqwest::Client| {
            client.request(method.parse().unwrap(), app.url(path)).json(&json!({"value": "x", "name": format!("n{}", uuid::Uuid::now_v7().simple())})).send()
        };
        assert_eq!(send(&app.anonymous).await.unwrap().status(), 401, "anonymous {method} {path}");
        let m = send(&marketer).await.unwrap().status().as_u16();
        if *admin_only {
            assert_eq!(m, 403, "marketer {method} {path}");
        } else {
            assert_eq!(m, 200, "marketer {method} {path}");
        }
    }
}

async fn the_last_active_admin_stays(app: TestApp) {
    // The test app signs in two admins (its token's and its browser's): one stays admin.
    app.execute("UPDATE users SET role = 'marketer' WHERE id <> (SELECT id FROM users WHERE role = 'admin' ORDER BY id LIMIT 1)").await;
    let (admin, n): (uuid::Uuid, i64) = keyport::on_db!(&app.db, |pool| {
        sqlx::query_as("SELECT id, (SELECT COUNT(*) FROM users WHERE role = 'admin') FROM users WHERE role = 'admin'").fetch_one(pool).await
    })
    .unwrap();
    assert_eq!(n, 1);
    let caller = keyport::server::auth::Caller::default();
    for (role, disabled) in [(Role::Marketer, false), (Role::Admin, true)] {
        let err = keyport::server::users::update_access(&app.db, &caller, admin, role, disabled).await.unwrap_err();
        assert!(err.to_string().contains("last active admin"), "{err}");
    }
    let other = app.client_as(Role::Admin).await;
    drop(other);
    keyport::server::users::update_access(&app.db, &caller, admin, Role::Marketer, false).await.expect("another admin exists now");

    // Two admins demote each other at the same moment, again and again: never both.
    let (a, b) = (new_user(&app, Role::Admin).await, new_user(&app, Role::Admin).await);
    app.execute("UPDATE users SET role = 'marketer' WHERE role = 'admin'").await;
    let both = format!("UPDATE users SET role = 'admin', disabled = FALSE WHERE id IN ({}, {})", app.uuid_literal(a), app.uuid_literal(b));
    for round in 0..30 {
        app.execute(&both).await;
        let (first, second) = tokio::join!(
            keyport::server::users::update_access(&app.db, &caller, a, Role::Marketer, false),
            keyport::server::users::update_access(&app.db, &caller, b, Role::Marketer, false),
        );
        assert_eq!(first.is_ok() as u8 + second.is_ok() as u8, 1, "round {round}: exactly one demotion succeeds");
        assert_eq!(common::count(&app, "SELECT COUNT(*) FROM users WHERE role = 'admin' AND disabled = FALSE").await, 1);
    }
}

async fn new_user(app: &TestApp, role: Role) -> uuid::Uuid {
    use keyport::{domain::SecretText, server::{auth::Caller, users}};
    let email = format!("{role}-{}@example.com", uuid::Uuid::now_v7().simple());
    users::create(&app.db, &Caller::default(), &email, &SecretText::new(PASSWORD), role).await.unwrap().id
}

async fn api_tokens_are_created_used_and_revoked(app: TestApp) {
    let (browser, _) = signed_in_browser(&app, Role::Marketer).await;
    let create = |fields: &'static [(&'static str, &'static str)]| {
        let request = browser.post(app.url(CreateApiToken::PATH)).header("origin", &app.base).form(fields);
        async move {
            let r = request.send().await.unwrap();
            (r.status().as_u16(), r.json::<Value>().await.unwrap())
        }
    };
    let (status, created) = create(&[("name", "QA"), ("scope", "read_write"), ("expires", "never")]).await;
    assert_eq!(status, 200, "{created}");
    let token = created["value"].as_str().unwrap().to_owned();
    assert!(token.starts_with("kp_") && token.len() > 40);
    let stored: Vec<(String,)> = keyport::on_db!(&app.db, |pool| sqlx::query_as("SELECT token_hash FROM api_tokens").fetch_all(pool).await).unwrap();
    assert!(stored.iter().all(|(h,)| !h.contains(&token[3..])), "only a hash is stored");
    let bot = http_client(Some(&token));
    assert_eq!(bot.get(app.url("/api/platforms")).send().await.unwrap().status(), 200);
    assert_eq!(bot.post(app.url("/api/platforms")).json(&json!({"name": "x"})).send().await.unwrap().status(), 403, "a token has its user's role");

    // A token cannot mint tokens, or do anything else outside the JSON API.
    let tokens = common::count(&app, "SELECT COUNT(*) FROM api_tokens").await;
    let minted = bot.post(app.url(CreateApiToken::PATH)).form(&[("name", "minted"), ("scope", "read_write")]).send().await.unwrap();
    assert_eq!(minted.status(), 401);
    assert_eq!(common::count(&app, "SELECT COUNT(*) FROM api_tokens").await, tokens, "no token was made");
    assert!(location(&bot.get(app.url("/profile")).send().await.unwrap()).starts_with("/login?next="), "nor open a page");

    // The default is read-only for 90 days: reads work, writes are refused with the reason.
    let (_, read_only) = create(&[("name", "Dashboards")]).await;
    assert_eq!(read_only["token"]["scope"], "read");
    let expires: chrono::DateTime<chrono::Utc> = read_only["token"]["expires_at"].as_str().unwrap().parse().unwrap();
    assert!((89..=90).contains(&(expires - chrono::Utc::now()).num_days()), "expires in 90 days: {expires}");
    let reader = http_client(read_only["value"].as_str());
    assert_eq!(reader.get(app.url("/api/platforms")).send().await.unwrap().status(), 200);
    let admin_reader = {
        let r = app.browser.post(app.url(CreateApiToken::PATH)).form(&[("name", "admin reads"), ("scope", "read")]).send().await.unwrap();
        http_client(r.json::<Value>().await.unwrap()["value"].as_str())
    };
    let (status, refused) = common::json_of(admin_reader.post(app.url("/api/platforms")).json(&json!({"name": "by a reader"})).send().await.unwrap()).await;
    assert_eq!(status, 403);
    assert!(refused["error"]["message"].as_str().unwrap().contains("read-only"), "{refused}");
    assert_eq!(admin_reader.get(app.url("/api/platforms")).send().await.unwrap().status(), 200);

    // Bad choices are named; an expired token no longer opens the API.
    let (status, bad) = create(&[("name", "x"), ("scope", "everything"), ("expires", "0")]).await;
    assert_eq!(status, 422, "{bad}");
    let fields = bad["fields"].to_string();
    assert!(fields.contains("scope") && fields.contains("expires"), "{bad}");
    app.execute("UPDATE api_tokens SET expires_at = '2001-01-01T00:00:00Z'").await;
    assert_eq!(reader.get(app.url("/api/platforms")).send().await.unwrap().status(), 401, "expired");
    app.execute("UPDATE api_tokens SET expires_at = NULL").await;
    let id = created["token"]["id"].as_str().unwrap();
    let r = browser_post(&app, &browser, keyport::server_fns::profile::RevokeApiToken::PATH, &[("id", id)]).await;
    assert_eq!(location(&r), "/profile?notice=token_revoked");
    assert_eq!(bot.get(app.url("/api/platforms")).send().await.unwrap().status(), 401);
    assert_eq!(http_client(Some("kp_forged")).get(app.url("/api/platforms")).send().await.unwrap().status(), 401);
}

async fn actions_are_audited_without_secrets(app: TestApp) {
    let (browser, email) = signed_in_browser(&app, Role::Admin).await;
    let p = app.create_platform(json!({"name": "Audited", "auth_type": "api_key"})).await;
    let id = p["id"].as_str().unwrap();
    app.send_json(reqwest::Method::PUT, &format!("/api/platforms/{id}/secrets/api_key"), json!({"value": "sk_AUDIT_secret_value"})).await;
    app.client.delete(app.url(&format!("/api/platforms/{id}"))).send().await.unwrap();
    browser_post(&app, &http_client(None), SignIn::PATH, &[("email", &email), ("password", "wrong password!")]).await;
    let r = browser.post(app.url(keyport::server_fns::audit::ListAudit::PATH)).header("origin", &app.base).form(&[("actor", "")]).send().await.unwrap();
    let body = r.text().await.unwrap();
    for action in ["login", "login_failed", "platform_created", "secret_set", "platform_deleted"] {
        assert!(body.contains(&format!("\"action\":\"{action}\"")), "{action} missing: {body}");
    }
    assert!(!body.contains("sk_AUDIT_secret_value") && !body.contains("$argon2") && !body.contains(PASSWORD));
    let (_, users) = app.get_json("/api/platforms").await;
    assert!(!users.to_string().contains("$argon2"));
}

async fn security_headers_are_on_every_response(app: TestApp) {
    for path in ["/platforms", "/api/platforms", "/login", "/healthz"] {
        let r = app.client.get(app.url(path)).send().await.unwrap();
        let h = r.headers();
        let csp = h["content-security-policy"].to_str().unwrap();
        assert!(csp.contains("frame-ancestors 'none'") && csp.contains("script-src 'self' 'nonce-"), "{path}: {csp}");
        assert_eq!(h["x-content-type-options"], "nosniff", "{path}");
        assert_eq!(h["cache-control"], "no-store", "{path}");
        assert!(h.contains_key("referrer-policy"), "{path}");
    }
    let page = app.browser.get(app.url("/platforms")).send().await.unwrap();
    let nonce = page.headers()["content-security-policy"].to_str().unwrap().split("'nonce-").nth(1).unwrap().split('\'').next().unwrap().to_owned();
    assert!(!page.headers().contains_key("strict-transport-security"), "no HSTS over plain http");
    let html = page.text().await.unwrap();
    assert!(html.contains(&format!("nonce=\"{nonce}\"")), "the hydration script carries the nonce");
    let https = app.reopen(&[("ENCRYPTION_KEY", common::TEST_KEY), ("PUBLIC_URL", "https://keyport.example")]).await;
    let r = https.anonymous.get(https.url("/healthz")).send().await.unwrap();
    assert_eq!(r.headers()["strict-transport-security"], "max-age=31536000", "HSTS behind https");
}

async fn a_user_changes_their_own_password_and_their_other_sessions_end(app: TestApp) {
    use keyport::server_fns::profile::ChangePassword;
    let (browser, email) = signed_in_browser(&app, Role::Marketer).await;
    let elsewhere = http_client(None);
    browser_post(&app, &elsewhere, SignIn::PATH, &[("email", &email), ("password", PASSWORD)]).await;
    let change = |current: &str, new: &str, confirm: &str| {
        let form = [("current", current.to_owned()), ("new", new.to_owned()), ("confirm", confirm.to_owned())];
        let (app, browser) = (&app, &browser);
        async move {
            let r = browser.post(app.url(ChangePassword::PATH)).header("origin", &app.base).header("accept", "application/json").form(&form).send().await.unwrap();
            (r.status().as_u16(), r.text().await.unwrap())
        }
    };
    let (status, body) = change("not my password", "a brand new passphrase", "a brand new passphrase").await;
    assert_eq!(status, 422);
    assert!(body.contains("is not your current password"), "{body}");
    let (status, body) = change(PASSWORD, "a brand new passphrase", "another passphrase").await;
    assert!(status == 422 && body.contains("does not match the new password"), "{status} {body}");
    let (status, body) = change(PASSWORD, "short", "short").await;
    assert!(status == 422 && body.contains("new"), "{status} {body}");

    let r = browser_post(&app, &browser, ChangePassword::PATH, &[("current", PASSWORD), ("new", "a brand new passphrase"), ("confirm", "a brand new passphrase")]).await;
    assert_eq!(location(&r), "/profile?notice=password_changed");
    assert_eq!(browser.get(app.url("/platforms")).send().await.unwrap().status(), 200, "this session goes on");
    assert!(location(&elsewhere.get(app.url("/platforms")).send().await.unwrap()).starts_with("/login"), "the other session ended");
    let old = browser_post(&app, &http_client(None), SignIn::PATH, &[("email", &email), ("password", PASSWORD)]).await;
    assert_ne!(location(&old), "/platforms", "the old password no longer works");
    let new = browser_post(&app, &http_client(None), SignIn::PATH, &[("email", &email), ("password", "a brand new passphrase")]).await;
    assert_eq!(location(&new), "/platforms");
}

/// Behind a proxy the audit log names the real client; without TRUSTED_PROXIES a visitor's
/// X-Forwarded-For is ignored (else they could dodge the per-address sign-in limit).
async fn client_addresses_come_from_trusted_proxies_only(app: TestApp) {
    let fail_from = |app: &TestApp, email: &'static str| {
        let request = app.anonymous.post(app.url(SignIn::PATH)).header("x-forwarded-for", "203.0.113.9").form(&[("email", email), ("password", "wrong")]);
        async move { request.send().await.unwrap().status() }
    };
    let addr_of = |app: &TestApp, email: &str| {
        let sql = format!("SELECT client_addr FROM audit_events WHERE action = 'login_failed' AND target_label = '{email}'");
        let db = app.db.clone();
        async move { keyport::on_db!(&db, |pool| sqlx::query_as::<_, (Option<String>,)>(&sql).fetch_one(pool).await).unwrap().0 }
    };
    assert_eq!(fail_from(&app, "direct@example.com").await, 422);
    assert_eq!(addr_of(&app, "direct@example.com").await.as_deref(), Some("127.0.0.1"), "a stranger's header is ignored");

    let proxied = app.reopen(&[("ENCRYPTION_KEY", common::TEST_KEY), ("TRUSTED_PROXIES", "127.0.0.1, 10.0.0.0/8")]).await;
    assert_eq!(fail_from(&proxied, "proxied@example.com").await, 422);
    assert_eq!(addr_of(&proxied, "proxied@example.com").await.as_deref(), Some("203.0.113.9"), "the proxy names the client");
}

async fn disabling_a_user_or_resetting_the_password_ends_their_sessions(app: TestApp) {
    use keyport::{domain::SecretText, server::{auth::Caller, users}};
    let (browser, email) = signed_in_browser(&app, Role::Marketer).await;
    let (id,): (uuid::Uuid,) = keyport::on_db!(&app.db, |pool| {
        sqlx::query_as("SELECT id FROM users WHERE email = $1").bind(&email).fetch_one(pool).await
    })
    .unwrap();
    let token = || async {
        let user = keyport::server::store::users::get(&app.db, id).await.unwrap().unwrap();
        let made = keyport::server::auth::tokens::create(&app.db, &Caller { user: Some(user), ..Caller::default() }, "script", "read_write", "never").await.unwrap();
        http_client(Some(made.value.expose()))
    };
    let api = |client: reqwest::Client| {
        let url = app.url("/api/platforms");
        async move { client.get(url).send().await.unwrap().status().as_u16() }
    };
    let script = token().await;
    assert_eq!(api(script.clone()).await, 200);
    users::reset_password(&app.db, &Caller::default(), id, &SecretText::new("another long password")).await.unwrap();
    assert!(location(&browser.get(app.url("/platforms")).send().await.unwrap()).starts_with("/login"), "old session ended");
    assert_eq!(api(script).await, 401, "a password reset revokes the user's API tokens");
    let r = browser_post(&app, &browser, SignIn::PATH, &[("email", &email), ("password", PASSWORD)]).await;
    assert!(location(&r).contains("__err="), "the old password no longer works");
    let r = browser_post(&app, &browser, SignIn::PATH, &[("email", &email), ("password", "another long password")]).await;
    assert_eq!(location(&r), "/platforms");

    let script = token().await;
    users::update_access(&app.db, &Caller::default(), id, Role::Marketer, true).await.unwrap();
    assert!(location(&browser.get(app.url("/platforms")).send().await.unwrap()).starts_with("/login"), "a disabled user is signed out");
    let r = browser_post(&app, &http_client(None), SignIn::PATH, &[("email", &email), ("password", "another long password")]).await;
    assert!(location(&r).contains("__err="), "and cannot sign in");
    users::update_access(&app.db, &Caller::default(), id, Role::Marketer, false).await.unwrap();
    assert_eq!(api(script).await, 401, "enabling the user again does not bring back the tokens made before");
}

async fn the_audit_log_pages_through_every_entry_once_each_way(app: TestApp) {
    use keyport::server::{audit, auth::Caller, store::audit::Filter};
    for i in 0..120 {
        audit::record(&app.db, &Caller::default(), audit::Action::Import, None, audit::Outcome::Ok, Some(format!("entry {i:03}"))).await;
    }
    let details = |p: &keyport::domain::AuditPage| p.events.iter().filter(|e| e.action == "import").filter_map(|e| e.detail.clone()).collect::<Vec<_>>();
    let mut page = audit::page(&app.db, Filter::default(), None).await.unwrap();
    assert_eq!((page.events.len(), page.prev.is_none()), (50, true), "the newest 50 first");
    let mut older = details(&page);
    while let Some(next) = page.next.clone() {
        page = audit::page(&app.db, Filter::default(), Some(&next)).await.unwrap();
        older.extend(details(&page));
    }
    let expected: Vec<String> = (0..120).rev().map(|i| format!("entry {i:03}")).collect();
    assert_eq!(older, expected, "newest first, each once");
    let prev = page.prev.clone().unwrap();
    let newer = audit::page(&app.db, Filter::default(), Some(&prev)).await.unwrap();
    assert_eq!(details(&newer), expected[50..100], "back one page, in the same order");
    let err = audit::page(&app.db, Filter::default(), Some("garbage")).await.unwrap_err();
    assert!(err.to_string().contains("cursor"), "{err}");
}

/// 70 users besides the first admin: pages of 50 in email order (whatever the case),
/// each once, back again; the page shows its links.
async fn the_users_page_through_everyone_in_email_order(app: TestApp) {
    use keyport::server::{auth::Caller, users};
    for i in 0..70 {
        let email = if i % 2 == 0 { format!("user{i:03}@example.com") } else { format!("User{i:03}@Example.com") };
        users::create(&app.db, &Caller::default(), &email, &keyport::domain::SecretText::new(PASSWORD), Role::Marketer).await.unwrap();
    }
    let emails = |p: &keyport::domain::UsersPage| p.users.iter().map(|u| u.email.to_lowercase()).filter(|e| e.starts_with("user")).collect::<Vec<_>>();
    let first = users::page(&app.db, None).await.unwrap();
    assert_eq!((first.users.len(), first.prev.is_none()), (50, true));
    let second = users::page(&app.db, first.next.as_deref()).await.unwrap();
    assert!(second.next.is_none());
    let everyone = [emails(&first), emails(&second)].concat();
    assert_eq!(everyone, (0..70).map(|i| format!("user{i:03}@example.com")).collect::<Vec<_>>(), "each once, in order");
    assert_eq!(users::page(&app.db, second.prev.as_deref()).await.unwrap(), first, "back to the first page");
    let html = app.page(&format!("/users?cursor={}", first.next.unwrap())).await.text().await.unwrap();
    assert!(html.contains("rel=\"prev\"") && html.contains("069@"), "the second page, with a link back");
}
