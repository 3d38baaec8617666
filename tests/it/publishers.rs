//! Each publisher against a local HTTP server that records the request and answers with
//! the provider's documented success and error bodies: the exact request shape, and what
//! each answer means (published, retry, re-authenticate, refused).

use axum::{body::Bytes, http::{HeaderMap, Method, StatusCode, Uri}, response::IntoResponse, Router};
use keyport::server::publish::publishers::{publish, PublishError, Published, Request, Target};
use secrecy::SecretString;
use serde_json::{json, Value};
use std::{collections::VecDeque, sync::{Arc, Mutex}, time::Duration};

#[derive(Debug, Clone)]
struct Recorded {
    method: Method,
    path: String,
    headers: HeaderMap,
    body: Value,
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
                s.lock().unwrap().push(Recorded { method, path: uri.to_string(), headers, body: serde_json::from_slice(&body).unwrap_or(Value::Null) });
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
        self.replies.lock().unwrap().push_back(reply);
        let http = reqwest::Client::new();
        let target = Target { api_base: &self.base, account_id: account, api_version };
        let post = Request { text: "Hello from Keyport", link: Some("https://example.com/launch"), idempotency_key: "keyport-0192abc" };
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
