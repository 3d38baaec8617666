//! The calendar's month view with 2,000 scheduled posts (SQLite): the whole server-side
//! render of `GET /calendar?month=…` for a signed-in marketer, through the real router —
//! the query, the posts with their deliveries, and the HTML of every day.
//! `cargo bench --features ssr --bench calendar`.

use chrono::{Datelike, Duration, NaiveDate, Utc};
use criterion::{criterion_group, criterion_main, Criterion};
use keyport::{
    domain::{DeliveryStatus, PostState, Role, SecretText, ValidPlatform},
    server::{
        auth::Caller,
        config::Config,
        platforms, router, secrets,
        state::AppState,
        store::{self, accounts::{Grant, Identity, TokenFacts}, posts::{NewDelivery, PostWrite}},
        users,
    },
};
use leptos::server_fn::ServerFn;
use secrecy::SecretString;
use uuid::Uuid;

const POSTS: usize = 2000;

struct Served {
    base: String,
    browser: reqwest::Client,
    month: String,
    _dir: tempfile::TempDir,
}

async fn serve() -> Served {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("bench.db").display());
    let media = dir.path().join("media");
    let config = Config::from_vars([
        ("DATABASE_URL", url.as_str()),
        ("ENCRYPTION_KEY", "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="),
        ("LEPTOS_SITE_ADDR", "127.0.0.1:0"),
        ("MEDIA_DIR", media.to_str().unwrap()),
    ])
    .unwrap();
    let state = AppState::prepare(config).await.unwrap();
    let caller = Caller::default();
    let platform = platforms::create(&state.db, &caller, ValidPlatform { name: "Bakery".into(), category: Default::default(), auth_type: Default::default(), status: Default::default(), description: None, icon_url: None, base_url: None, metadata: Default::default() }).await.unwrap();
    let facts = TokenFacts { token_type: Some("Bearer".into()), scopes: None, expires_at: None };
    let who = Identity { external_id: "bench".into(), name: Some("Bench".into()), avatar_url: None };
    let account = secrets::store_tokens(&state.db, &state.keyring, platform.id, &SecretString::from("token"), None, &facts, &Grant::New(who, None)).await.unwrap().expect("a new account");

    // 2,000 posts spread over next month, one delivery each, as the composer writes them.
    let today = Utc::now().date_naive();
    let first = NaiveDate::from_ymd_opt(today.year(), today.month(), 1).unwrap().checked_add_months(chrono::Months::new(1)).unwrap();
    for i in 0..POSTS {
        let at = first.and_hms_opt(9, 0, 0).unwrap().and_utc() + Duration::minutes((i * 20) as i64);
        let deliveries = [NewDelivery { text: None, platform_id: platform.id, account_id: account, status: DeliveryStatus::Queued, due_at: at }];
        let text = format!("Bread of the day number {i}, fresh from the oven at https://example.com/{i}");
        let write = PostWrite { id: Uuid::now_v7(), text: &text, link: None, state: PostState::Scheduled, scheduled_at: Some(at), deliveries: &deliveries, media: &[] };
        store::posts::insert(&state.db, &write, "bench@example.com", None).await.unwrap();
    }

    let email = "marketer@example.com";
    users::create(&state.db, &caller, email, &SecretText::new("correct horse battery"), Role::Marketer).await.unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, router::build(state).into_make_service_with_connect_info::<std::net::SocketAddr>()).await.unwrap() });
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert(reqwest::header::ORIGIN, base.parse().unwrap());
    let browser = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).cookie_store(true).default_headers(headers).build().unwrap();
    let signed_in = browser.post(format!("{base}{}", keyport::server_fns::auth::SignIn::PATH)).header("accept", "text/html").form(&[("email", email), ("password", "correct horse battery")]).send().await.unwrap();
    assert!(signed_in.status().is_redirection(), "signed in: {}", signed_in.status());
    Served { base, browser, month: first.format("%Y-%m").to_string(), _dir: dir }
}

fn calendar(c: &mut Criterion) {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let served = runtime.block_on(serve());
    let url = format!("{}/calendar?month={}", served.base, served.month);
    let page = runtime.block_on(async { served.browser.get(&url).send().await.unwrap().text().await.unwrap() });
    assert!(page.contains("Bread of the day number 1999"), "the month shows the last post");
    println!("GET /calendar?month={}: {} posts, {} bytes of HTML", served.month, POSTS, page.len());
    let mut group = c.benchmark_group("calendar");
    group.sample_size(20);
    group.bench_function("month view, 2,000 posts (GET /calendar, server render)", |b| {
        b.iter(|| runtime.block_on(async { served.browser.get(&url).send().await.unwrap().bytes().await.unwrap().len() }))
    });
    group.finish();
}

criterion_group!(benches, calendar);
criterion_main!(benches);
