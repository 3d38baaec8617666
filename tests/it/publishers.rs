//! Each publisher against a local HTTP server that records the request and answers with
//! the provider's documented success and error bodies: the exact request shape, and what
//! each answer means (published, retry, re-authenticate, refused).

use axum::{body::Bytes, http::{HeaderMap, Method, StatusCode, Uri}, response::IntoResponse, Router};
use keyport::server::publish::publishers::{publish, NoUploads, PublishError, Published, Request, Target};
use secrecy::SecretString;
use serde_json::{json, Value};
use std::{collections::VecDeque, sync::{Arc, Mutex}, time::Duration};

#[derive(Debug, Clone)]
struct Recorded {
    method: Method,
    path: String,
    headers: HeaderMap,
    body: Value,
    /// The body as sent (a form for Reddit).
    raw: String,
}

type Reply = (u16, Vec<(&'static str, &'static str)>, String);

struct Provider {
    base: String,
    seen: Arc<Mutex<Vec<Recorded>>>,
    replies: Arc<Mutex<VecDeque<Reply>>>,
}

impl Provider {
    async fn start() -> Provider {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let replies: Arc<Mutex<VecDeque<Reply>>> = Arc::new(Mutex::new(VecDeque::new()));
        let (s, r) = (seen.clone(), replies.clone());
        let app = Router::new().fallback(move |method: Method, uri: Uri, headers: HeaderMap, body: Bytes| {
            let (s, r) = (s.clone(), r.clone());
            async move {
                s.lock().unwrap().push(Recorded { method, path: uri.to_string(), headers, body: serde_json::from_slice(&body).unwrap_or(Value::Null), raw: String::from_utf8_lossy(&body).into_owned() });
                let (status, headers, body) = r.lock().unwrap().pop_front().expect("a reply is queued");
                let mut response = (StatusCode::from_u16(status).unwrap(), body).into_response();
                for (k, v) in headers {
                    response.headers_mut().insert(k, v.parse().unwrap());
                }
                response.headers_mut().insert("content-type", "application/json".parse().unwrap());
                response
            }
        });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        Provider { base, seen, replies }
    }

    async fn post(&self, provider: &str, account: Option<&str>, reply: Reply) -> (Recorded, Result<Published, PublishError>) {
        self.post_as(provider, account, None, reply).await
    }

    async fn post_as(&self, provider: &str, account: Option<&str>, api_version: Option<&str>, reply: Reply) -> (Recorded, Result<Published, PublishError>) {
        self.post_text(provider, account, api_version, "Hello from Keyport", Some("https://example.com/launch"), reply).await
    }

    async fn post_text(&self, provider: &str, account: Option<&str>, api_version: Option<&str>, text: &str, link: Option<&str>, reply: Reply) -> (Recorded, Result<Published, PublishError>) {
        self.replies.lock().unwrap().push_back(reply);
        let http = reqwest::Client::new();
        let target = Target { api_base: &self.base, account_id: account, api_version, destination: Some("bakery"), account_name: Some("baker") };
        let post = Request { text, link, idempotency_key: "keyport-0192abc", media: &[], uploads: &NoUploads };
        let result = publish(&http, provider.parse().unwrap(), &target, &SecretString::from("token-123"), &post).await;
        (self.seen.lock().unwrap().pop().unwrap(), result)
    }
}

fn header<'a>(r: &'a Recorded, name: &str) -> Option<&'a str> {
    r.headers.get(name).map(|v| v.to_str().unwrap())
}

fn assert_json_post(r: &Recorded, path: &str) {
    assert_eq!(r.method, Method::POST);
    assert_eq!(r.path, path);
    assert_eq!(header(r, "authorization"), Some("Bearer token-123"));
    assert_eq!(header(r, "content-type"), Some("application/json"));
}

#[tokio::test]
async fn sandbox_posts_with_an_idempotency_key() {
    let p = Provider::start().await;
    let (r, result) = p.post("sandbox", None, (201, vec![], json!({"id": "p1", "url": "http://127.0.0.1:3200/posts/p1"}).to_string())).await;
    assert_json_post(&r, "/api/posts");
    assert_eq!(header(&r, "idempotency-key"), Some("keyport-0192abc"));
    assert_eq!(r.body, json!({"text": "Hello from Keyport", "link": "https://example.com/launch"}));
    assert_eq!(result.unwrap(), Published { id: "p1".into(), url: Some("http://127.0.0.1:3200/posts/p1".into()) });

    let (_, result) = p.post("sandbox", None, (422, vec![], json!({"error": "invalid_request", "error_description": "text must be between 1 and 500 characters"}).to_string())).await;
    assert_eq!(result.unwrap_err(), PublishError::Rejected { message: "the provider refused the post (HTTP 422): text must be between 1 and 500 characters".into() });
}

#[tokio::test]
async fn mastodon_creates_a_status() {
    let p = Provider::start().await;
    let ok = json!({"id": "103704874086360371", "url": "https://mastodon.social/@keyport/103704874086360371", "content": "<p>Hello</p>", "visibility": "public"});
    let (r, result) = p.post("mastodon", None, (200, vec![], ok.to_string())).await;
    assert_json_post(&r, "/api/v1/statuses");
    assert_eq!(header(&r, "idempotency-key"), Some("keyport-0192abc"));
    assert_eq!(r.body, json!({"status": "Hello from Keyport\n\nhttps://example.com/launch", "visibility": "public"}));
    assert_eq!(result.unwrap().url.as_deref(), Some("https://mastodon.social/@keyport/103704874086360371"));

    let (_, result) = p.post("mastodon", None, (422, vec![], json!({"error": "Validation failed: Text character limit of 500 exceeded"}).to_string())).await;
    assert!(matches!(result.unwrap_err(), PublishError::Rejected { message } if message.ends_with("Text character limit of 500 exceeded")));
    let (_, result) = p.post("mastodon", None, (429, vec![("retry-after", "30")], json!({"error": "Too many requests"}).to_string())).await;
    assert_eq!(result.unwrap_err(), PublishError::Retryable { message: "rate limited (HTTP 429): Too many requests".into(), retry_after: Some(Duration::from_secs(30)) });
    let (_, result) = p.post("mastodon", None, (401, vec![], json!({"error": "The access token is invalid"}).to_string())).await;
    assert!(matches!(result.unwrap_err(), PublishError::Unauthorized { .. }));
}

#[tokio::test]
async fn x_creates_a_post() {
    let p = Provider::start().await;
    let ok = json!({"data": {"id": "1445880548472328192", "text": "Hello from Keyport https://t.co/x", "edit_history_tweet_ids": ["1445880548472328192"]}});
    let (r, result) = p.post("x", None, (201, vec![], ok.to_string())).await;
    assert_json_post(&r, "/2/tweets");
    assert_eq!(header(&r, "idempotency-key"), None, "X takes no idempotency key");
    assert_eq!(r.body, json!({"text": "Hello from Keyport https://example.com/launch"}));
    assert_eq!(result.unwrap(), Published { id: "1445880548472328192".into(), url: Some("https://x.com/i/web/status/1445880548472328192".into()) });

    let duplicate = json!({"detail": "You are not allowed to create a Tweet with duplicate content.", "type": "about:blank", "title": "Forbidden", "status": 403});
    let (_, result) = p.post("x", None, (403, vec![], duplicate.to_string())).await;
    assert!(matches!(result.unwrap_err(), PublishError::Rejected { .. }), "a duplicate is about the post, not the token");
    let (_, result) = p.post("x", None, (401, vec![], json!({"title": "Unauthorized", "type": "about:blank", "status": 401, "detail": "Unauthorized"}).to_string())).await;
    assert!(matches!(result.unwrap_err(), PublishError::Unauthorized { .. }));
    let (_, result) = p.post("x", None, (503, vec![], json!({"title": "Service Unavailable", "detail": "Service Unavailable", "status": 503}).to_string())).await;
    assert!(matches!(result.unwrap_err(), PublishError::Retryable { .. }));
}

#[tokio::test]
async fn facebook_posts_to_the_page_feed() {
    let p = Provider::start().await;
    let (r, result) = p.post("facebook_pages", Some("1234567890"), (200, vec![], json!({"id": "1234567890_987654321"}).to_string())).await;
    assert_json_post(&r, "/1234567890/feed");
    assert_eq!(r.body, json!({"message": "Hello from Keyport", "link": "https://example.com/launch"}));
    assert_eq!(result.unwrap(), Published { id: "1234567890_987654321".into(), url: Some("https://www.facebook.com/1234567890_987654321".into()) });

    let expired = json!({"error": {"message": "Error validating access token: Session has expired on Friday.", "type": "OAuthException", "code": 190, "error_subcode": 463, "fbtrace_id": "A1"}});
    let (_, result) = p.post("facebook_pages", Some("1234567890"), (400, vec![], expired.to_string())).await;
    assert!(matches!(result.unwrap_err(), PublishError::Unauthorized { .. }), "code 190 comes as HTTP 400");
    let bad = json!({"error": {"message": "(#100) The parameter link is not a valid URL", "type": "OAuthException", "code": 100}});
    let (_, result) = p.post("facebook_pages", Some("1234567890"), (400, vec![], bad.to_string())).await;
    assert!(matches!(result.unwrap_err(), PublishError::Rejected { message } if message.contains("(#100)")));
}

#[tokio::test]
async fn linkedin_creates_a_post_with_the_versioned_headers() {
    let p = Provider::start().await;
    let (r, result) = p.post("linkedin", Some("8675309"), (201, vec![("x-restli-id", "urn:li:share:6844785523593134080")], String::new())).await;
    assert_json_post(&r, "/rest/posts");
    assert_eq!(header(&r, "linkedin-version"), Some("202608"), "the fallback when the catalog is not consulted");
    assert_eq!(header(&r, "x-restli-protocol-version"), Some("2.0.0"));
    assert_eq!(
        r.body,
        json!({
            "author": "urn:li:person:8675309",
            "commentary": "Hello from Keyport\n\nhttps://example.com/launch",
            "visibility": "PUBLIC",
            "distribution": {"feedDistribution": "MAIN_FEED", "targetEntities": [], "thirdPartyDistributionChannels": []},
            "lifecycleState": "PUBLISHED",
            "isReshareDisabledByAuthor": false
        })
    );
    assert_eq!(result.unwrap(), Published { id: "urn:li:share:6844785523593134080".into(), url: Some("https://www.linkedin.com/feed/update/urn:li:share:6844785523593134080".into()) });

    let (_, result) = p.post("linkedin", Some("8675309"), (422, vec![], json!({"message": "ERROR :: /commentary :: is too long", "status": 422}).to_string())).await;
    assert!(matches!(result.unwrap_err(), PublishError::Rejected { message } if message.contains("is too long")));

    // The platform's version is the one named; a retired one is the platform's to fix.
    let retired = (426, vec![], json!({"status": 426, "code": "NONEXISTENT_VERSION", "message": "Requested version 20240101 is not active"}).to_string());
    let (r, result) = p.post_as("linkedin", Some("8675309"), Some("202401"), retired).await;
    assert_eq!(header(&r, "linkedin-version"), Some("202401"));
    let message = result.unwrap_err().to_string();
    assert!(message.starts_with("LinkedIn no longer accepts API version 202401: an admin must set a newer version"), "{message}");
    assert!(message.contains("the post itself is fine"));
}

/// A recorded answer of the real service (tests/fixtures/recorded/{name}.json, each naming
/// the public SDK cassette it comes from) as the local server's reply.
fn recorded(name: &str) -> Reply {
    let (_, status, body) = recorded_body(name);
    (status, vec![], body.to_string())
}

fn recorded_body(name: &str) -> (String, u16, Value) {
    let path = format!("{}/tests/fixtures/recorded/{name}.json", env!("CARGO_MANIFEST_DIR"));
    let file: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    (file["source"].as_str().unwrap().to_owned(), file["status"].as_u64().unwrap() as u16, file["body"].clone())
}

fn form(r: &Recorded) -> Vec<(String, String)> {
    url::form_urlencoded::parse(r.raw.as_bytes()).into_owned().collect()
}

#[tokio::test]
async fn reddit_submits_a_link_or_text_post_to_the_accounts_subreddit() {
    let p = Provider::start().await;
    // A link post: the text's first line is the title (answer recorded by PRAW).
    let (r, result) = p.post("reddit", None, recorded("reddit/submit_url")).await;
    assert_eq!((r.method.clone(), r.path.as_str()), (Method::POST, "/api/submit"));
    assert_eq!(header(&r, "authorization"), Some("Bearer token-123"));
    assert_eq!(header(&r, "content-type"), Some("application/x-www-form-urlencoded"));
    let agent = header(&r, "user-agent").unwrap();
    assert!(agent.starts_with("web:keyport:v") && agent.ends_with("(by /u/baker)"), "Reddit's User-Agent rule: {agent}");
    let sent = form(&r);
    for pair in [("api_type", "json"), ("sr", "bakery"), ("kind", "link"), ("title", "Hello from Keyport"), ("url", "https://example.com/launch")] {
        assert!(sent.contains(&(pair.0.into(), pair.1.into())), "{pair:?} in {sent:?}");
    }
    assert_eq!(result.unwrap(), Published { id: "t3_4bbe4m".into(), url: Some("https://www.reddit.com/r/<TEST_SUBREDDIT>/comments/4bbe4m/test_title/".into()) });

    // A text post: the first line is the title, the rest the body.
    let (r, result) = p.post_text("reddit", None, None, "Fresh bread\n\nBaked at nine.", None, recorded("reddit/submit_selftext")).await;
    let sent = form(&r);
    for pair in [("kind", "self"), ("title", "Fresh bread"), ("text", "Baked at nine.")] {
        assert!(sent.contains(&(pair.0.into(), pair.1.into())), "{pair:?} in {sent:?}");
    }
    assert!(!sent.iter().any(|(k, _)| k == "url"));
    assert_eq!(result.unwrap().id, "t3_4bbe4b");

    // Errors come with HTTP 200; a rate limit is retried after the seconds Reddit names.
    let (_, result) = p.post("reddit", None, recorded("reddit/submit_error")).await;
    match result.unwrap_err() {
        PublishError::Retryable { message, retry_after } => {
            assert!(message.contains("you are doing that too much") && message.contains("RATELIMIT"), "{message}");
            assert_eq!(retry_after.map(|d| d.as_secs()), Some(76));
        }
        other => panic!("a rate limit is retried: {other:?}"),
    }
    let noexist = json!({"json": {"errors": [["SUBREDDIT_NOEXIST", "that community doesn't exist", "sr"]]}});
    let (_, result) = p.post("reddit", None, (200, vec![], noexist.to_string())).await;
    assert_eq!(result.unwrap_err(), PublishError::Rejected { message: "Reddit refused the post: that community doesn't exist (SUBREDDIT_NOEXIST, field sr)".into() });
    // A validation refusal with HTTP 400 names Reddit's explanation.
    let (_, result) = p.post("reddit", None, recorded("reddit/submit_validation_error")).await;
    assert!(matches!(result.unwrap_err(), PublishError::Rejected { message } if message.contains(r#"You may not have "dfgfdgfdgdf" in your title."#)));
}

#[tokio::test]
async fn publishers_read_the_recorded_answers_of_the_real_services() {
    let p = Provider::start().await;
    let (_, result) = p.post("mastodon", None, recorded("mastodon/status_post")).await;
    assert_eq!(result.unwrap(), Published { id: "109440146774012815".into(), url: Some("http://localhost:3000/@mastodonpy_test/109440146774012815".into()) });
    let (_, result) = p.post("mastodon", None, recorded("mastodon/status_error")).await;
    assert_eq!(result.unwrap_err(), PublishError::Rejected { message: "the provider refused the post (HTTP 422): Gültigkeitsprüfung ist fehlgeschlagen: Text Zeichenlimit von 500 überschritten".into() });
    let (_, result) = p.post("x", None, recorded("x/create_tweet")).await;
    assert_eq!(result.unwrap(), Published { id: "1522929456142245888".into(), url: Some("https://x.com/i/web/status/1522929456142245888".into()) });
}

#[test]
fn accounts_are_read_from_the_recorded_answers_of_the_real_services() {
    use keyport::{domain::ProviderKey, server::oauth::{catalog, client::account_of}};
    for (provider, name, id, account_name) in [
        (ProviderKey::Reddit, "reddit/me", "4cixf", "<USERNAME>"),
        (ProviderKey::X, "x/users_me", "1072250532645998596", "TweepyDev"),
        (ProviderKey::Mastodon, "mastodon/verify_credentials", "109440137734600341", "mastodonpy_test"),
    ] {
        let (source, status, body) = recorded_body(name);
        assert_eq!(status, 200, "{source}");
        let identity = account_of(catalog::get(provider), &body);
        assert_eq!((identity.external_id.as_str(), identity.name.as_deref()), (id, Some(account_name)), "{source}");
    }
}
