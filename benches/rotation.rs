//! Rotate now with 100,000 secrets under data key v1: the new key, then the re-encryption
//! job to it, on SQLite and (with TEST_DATABASE_URL) PostgreSQL. Prints secrets per
//! second; docs/performance.md records the numbers. `cargo bench --features ssr --bench rotation`.

use keyport::{
    domain::SecretField,
    on_db,
    server::{auth::Caller, config::Config, crypto::SecretSlot, keys, rotation, state::AppState},
};
use std::time::Instant;
use uuid::Uuid;

const ROOT: &str = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";
/// `BENCH_SECRETS` overrides the count (for a quick look).
fn secrets() -> usize {
    std::env::var("BENCH_SECRETS").ok().and_then(|n| n.parse().ok()).unwrap_or(100_000)
}

async fn state(url: &str) -> AppState {
    AppState::prepare(Config::from_vars([("DATABASE_URL", url), ("LEPTOS_SITE_ADDR", "127.0.0.1:0"), ("ENCRYPTION_KEY", ROOT)]).unwrap()).await.unwrap()
}

/// 20,000 platforms with five secrets each, sealed with v1, inserted in one transaction.
async fn seed(state: &AppState) {
    let now = chrono::Utc::now();
    on_db!(&state.db, |pool| {
        let mut tx = pool.begin().await.unwrap();
        for i in 0..secrets() / SecretField::ALL.len() {
            let id = Uuid::now_v7();
            sqlx::query("INSERT INTO platforms (id, name, category, auth_type, status, metadata, created_at, updated_at) VALUES ($1, $2, 'other', 'oauth2', 'active', '{}', $3, $3)")
                .bind(id).bind(format!("Bench {i}")).bind(now).execute(&mut *tx).await.unwrap();
            for field in SecretField::ALL {
                let sealed = state.keyring.seal(format!("token-{i}-{field}-0123456789abcdef0123456789abcdef").as_bytes(), &SecretSlot::platform_secret(id, *field));
                sqlx::query("INSERT INTO secrets (owner_id, platform_id, field, ciphertext, key_version, created_at, updated_at) VALUES ($1, $1, $2, $3, 1, $4, $4)")
                    .bind(id).bind(field.as_str()).bind(sealed).bind(now).execute(&mut *tx).await.unwrap();
            }
        }
        tx.commit().await.unwrap();
    });
}

async fn bench(backend: &str, url: &str) {
    let state = state(url).await;
    seed(&state).await;
    let started = Instant::now();
    keys::rotate(&state, &Caller::default(), None).await.unwrap();
    let job = rotation::work(&state, Uuid::now_v7(), |_| {}).await.unwrap().unwrap();
    let seconds = started.elapsed().as_secs_f64();
    assert_eq!((job.done, job.failed), (secrets() as i64, 0));
    println!("{backend:<10} re-encrypted {} secrets in {seconds:.2} s: {:.0} secrets/s", secrets(), secrets() as f64 / seconds);
}

#[tokio::main]
async fn main() {
    let dir = tempfile::tempdir().unwrap();
    bench("SQLite", &format!("sqlite://{}", dir.path().join("bench.db").display())).await;
    match std::env::var("TEST_DATABASE_URL") {
        Ok(admin) => {
            let schema = format!("bench_{}", Uuid::now_v7().simple());
            let pool = sqlx::PgPool::connect(&admin).await.unwrap();
            sqlx::query(&format!("CREATE SCHEMA {schema}")).execute(&pool).await.unwrap();
            let sep = if admin.contains('?') { '&' } else { '?' };
            bench("PostgreSQL", &format!("{admin}{sep}options=-c%20search_path%3D{schema}")).await;
            sqlx::query(&format!("DROP SCHEMA {schema} CASCADE")).execute(&pool).await.unwrap();
        }
        Err(_) => println!("PostgreSQL skipped: set TEST_DATABASE_URL"),
    }
}
