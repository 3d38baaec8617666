//! `keyport-sandbox`, the real OAuth server, as a child process of a test; and the steps of
//! connecting a platform to it the way a browser does.

use super::{browser_post, location, TestApp};
use serde_json::{json, Value};
use tokio::io::AsyncBufReadExt;

pub struct Sandbox {
    pub base: String,
    http: reqwest::Client,
    _child: tokio::process::Child,
}

impl Sandbox {
    /// Starts the binary on a free port with extra arguments (`--token-ttl 60`, …).
    pub async fn start(args: &[&str]) -> Sandbox {
        let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_keyport-sandbox"))
            .args(["--addr", "127.0.0.1:0"])
            .args(args)
            .env("RUST_LOG", "warn")
            .stdout(std::process::Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("keyport-sandbox starts");
        let stdout = child.stdout.take().unwrap();
        let mut line = String::new();
        tokio::io::BufReader::new(stdout).read_line(&mut line).await.unwrap();
        let base = line.trim().strip_prefix("keyport-sandbox listening on ").unwrap_or_else(|| panic!("unexpected first line: {line}")).to_owned();
        Sandbox { base, http: reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap(), _child: child }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// The next `count` calls of `endpoint` fail with `mode` (500, 429, hang, invalid_grant).
    pub async fn fault(&self, endpoint: &str, mode: &str, count: u32, retry_after: u64) {
        let r = self.http.post(self.url("/faults")).json(&json!({"endpoint": endpoint, "mode": mode, "count": count, "retry_after": retry_after})).send().await.unwrap();
        assert_eq!(r.status(), 204);
    }

    pub async fn revoke_all(&self) {
        assert_eq!(self.http.post(self.url("/admin/revoke-all")).send().await.unwrap().status(), 204);
    }

    pub async fn set_token_ttl(&self, seconds: u64) {
        let r = self.http.post(self.url("/admin/config")).json(&json!({"token_ttl": seconds})).send().await.unwrap();
        assert_eq!(r.status(), 204);
    }

    pub async fn stats(&self) -> Value {
        self.http.get(self.url("/admin/stats")).send().await.unwrap().json().await.unwrap()
    }

    /// Registers a client for `redirect_uri`; returns (client_id, client_secret).
    pub async fn register(&self, redirect_uri: &str) -> (String, String) {
        let r: Value = self.http.post(self.url("/register")).json(&json!({"client_name": "Keyport tests", "redirect_uris": [redirect_uri]})).send().await.unwrap().json().await.unwrap();
        (r["client_id"].as_str().unwrap().to_owned(), r["client_secret"].as_str().unwrap().to_owned())
    }

    /// The user's answer on the consent page: submits the authorize request's parameters
    /// with `decision` and returns where the sandbox sends the browser.
    pub async fn decide(&self, authorize_url: &str, decision: &str) -> String {
        self.decide_as(authorize_url, decision, "Test Marketing").await
    }

    /// Answers the consent page signed in at the sandbox as `account`.
    pub async fn decide_as(&self, authorize_url: &str, decision: &str, account: &str) -> String {
        let url = reqwest::Url::parse(authorize_url).unwrap();
        let dialogs = ["/authorize?", "/oauth/authorize?", "/linkedin/oauth/v2/authorization?", "/instagram/oauth/authorize?", "/threads/oauth/authorize?", "/reddit/api/v1/authorize?", "/x/i/oauth2/authorize?", "/pinterest/oauth/?"];
        assert!(dialogs.iter().any(|d| authorize_url.starts_with(&self.url(d))), "{authorize_url}");
        let page = self.http.get(authorize_url).send().await.unwrap();
        assert_eq!(page.status(), 200, "the consent page shows");
        let mut fields: Vec<(String, String)> = url.query_pairs().map(|(k, v)| (k.into_owned(), v.into_owned())).collect();
        fields.push(("decision".into(), decision.into()));
        fields.push(("account".into(), account.into()));
        // The consent form posts back to the dialog it came from.
        let r = self.http.post(self.url(url.path())).form(&fields).send().await.unwrap();
        assert_eq!(r.status(), 303, "{}", r.text().await.unwrap());
        location(&r)
    }
}

/// A Facebook Pages platform whose endpoints point at the sandbox's Meta personality
/// (`/meta/v25.0/…`), with its app registered there and the app secret stored.
pub async fn facebook_platform(app: &TestApp, sandbox: &Sandbox) -> String {
    let graph = sandbox.url("/meta/v25.0");
    let settings = json!({
        "provider": "facebook_pages",
        "authorize_url": format!("{graph}/dialog/oauth"),
        "token_url": format!("{graph}/oauth/access_token"),
        "userinfo_url": format!("{graph}/me"),
        "api_base_url": graph,
    });
    platform_with(app, sandbox, settings).await
}

/// An OAuth platform configured through the JSON API as an admin would: `settings` (the
/// provider and its endpoints at the sandbox), plus the client id and secret of an app
/// registered at the sandbox for the platform's redirect URI. Returns its id.
pub async fn platform_with(app: &TestApp, sandbox: &Sandbox, mut settings: Value) -> String {
    let name = format!("{} {}", settings["provider"].as_str().unwrap(), uuid::Uuid::now_v7().simple());
    let platform = app.create_platform(json!({"name": name, "auth_type": "oauth2"})).await;
    let id = platform["id"].as_str().unwrap().to_owned();
    let (_, view) = app.get_json(&format!("/api/platforms/{id}/oauth")).await;
    let (client_id, client_secret) = sandbox.register(view["oauth"]["redirect_uri"].as_str().unwrap()).await;
    settings["client_id"] = json!(client_id);
    let (status, body) = app.send_json(reqwest::Method::PUT, &format!("/api/platforms/{id}/oauth"), settings).await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = app.send_json(reqwest::Method::PUT, &format!("/api/platforms/{id}/secrets/client_secret"), json!({"value": client_secret})).await;
    assert!(status == 200 || status == 204, "{status} {body}");
    id
}

/// What a person does on the Meta consent page.
pub struct MetaChoice<'a> {
    pub pages: &'a str,
    pub business_pages: &'a str,
    pub declined: &'a [&'a str],
}

impl Sandbox {
    /// Answers the Meta login dialog at `authorize_url` as the Facebook user `account`:
    /// every requested permission granted except `declined`. Returns where it sends the browser.
    pub async fn decide_meta(&self, authorize_url: &str, account: &str, choice: &MetaChoice<'_>) -> String {
        let url = reqwest::Url::parse(authorize_url).unwrap();
        assert!(authorize_url.starts_with(&self.url("/meta/v25.0/dialog/oauth?")), "{authorize_url}");
        let page = self.http.get(authorize_url).send().await.unwrap();
        assert_eq!(page.status(), 200, "the consent page shows");
        let mut fields: Vec<(String, String)> = url.query_pairs().map(|(k, v)| (k.into_owned(), v.into_owned())).collect();
        let scope = fields.iter().find(|(k, _)| k == "scope").map(|(_, v)| v.clone()).unwrap_or_default();
        fields.retain(|(k, _)| k != "scope");
        fields.push(("scope".into(), scope.replace(',', " ")));
        for permission in scope.split(',').filter(|p| !choice.declined.contains(p)) {
            fields.push((format!("grant.{permission}"), "on".into()));
        }
        for (k, v) in [("decision", "approve"), ("account", account), ("pages", choice.pages), ("business_pages", choice.business_pages)] {
            fields.push((k.into(), v.into()));
        }
        let r = self.http.post(self.url("/meta/v25.0/dialog/oauth")).form(&fields).send().await.unwrap();
        assert_eq!(r.status(), 303, "{}", r.text().await.unwrap());
        location(&r)
    }

    /// A page of the sandbox, as text.
    pub async fn page(&self, path: &str) -> String {
        self.http.get(self.url(path)).send().await.unwrap().text().await.unwrap()
    }
}

/// An OAuth platform pointed at the sandbox, configured through the JSON API as an admin
/// would: provider, instance URL, client id, client secret.
pub async fn sandbox_platform(app: &TestApp, sandbox: &Sandbox) -> String {
    platform_with(app, sandbox, json!({"provider": "sandbox", "instance_url": sandbox.base})).await
}

/// Presses Connect: returns the provider's authorize URL Keyport redirected to.
pub async fn start_connect(app: &TestApp, browser: &reqwest::Client, id: &str) -> String {
    let r = browser_post(app, browser, &format!("/oauth/{id}/connect"), &[]).await;
    assert_eq!(r.status(), 303, "connect redirects to the provider");
    location(&r)
}

/// Follows the provider's redirect back to Keyport's callback (same path and query, on the
/// test server's real address); returns the callback's response.
pub async fn callback(app: &TestApp, browser: &reqwest::Client, redirect: &str) -> reqwest::Response {
    let url = reqwest::Url::parse(redirect).unwrap();
    let path = format!("{}?{}", url.path(), url.query().unwrap_or_default());
    browser.get(app.url(&path)).send().await.unwrap()
}

/// The whole flow, approved: connect, consent, callback. Returns the callback's location.
pub async fn connect(app: &TestApp, sandbox: &Sandbox, browser: &reqwest::Client, id: &str) -> String {
    connect_as(app, sandbox, browser, id, "Test Marketing").await
}

/// [`connect`], signed in at the sandbox as `account`.
pub async fn connect_as(app: &TestApp, sandbox: &Sandbox, browser: &reqwest::Client, id: &str, account: &str) -> String {
    let authorize = start_connect(app, browser, id).await;
    let back = sandbox.decide_as(&authorize, "approve", account).await;
    let r = callback(app, browser, &back).await;
    location(&r)
}
