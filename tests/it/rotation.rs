//! Key rotation: re-encryption across three data keys, pause and resume, refreshes running
//! beside it, a server killed mid-job, and retiring the old keys afterwards. SQLite and
//! PostgreSQL. (tests/it/keys.rs: the data keys themselves.)

use crate::common;

use common::{
    rotate,
    sandbox::{connect, sandbox_platform, Sandbox},
    signed_in_browser, TestApp, TEST_KEY,
};
use keyport::{
    domain::{JobState, Role, SecretField},
    on_db,
    server::{auth::Caller, crypto::SecretSlot, keys, rotation, secrets, state::AppState},
};
use serde_json::json;
use uuid::Uuid;

on_both_backends!(
    reencrypts_secrets_under_three_key_versions_and_the_old_keys_can_go,
    pauses_and_resumes_where_it_stopped,
    refreshes_during_re_encryption_lose_nothing,
    a_server_killed_mid_job_resumes_after_restart,
    every_kind_of_owner_is_re_encrypted_in_its_own_slot,
    a_job_others_got_ahead_of_finishes_at_100_percent,
);

async fn add_secret(app: &TestApp, name: &str, value: &str) -> String {
    let p = app.create_platform(json!({"name": name, "auth_type": "api_key"})).await;
    let id = p["id"].as_str().unwrap().to_owned();
    let (status, body) = app.send_json(reqwest::Method::PUT, &format!("/api/platforms/{id}/secrets/api_key"), json!({"value": value})).await;
    assert!(status < 300, "{body}");
    id
}

async fn versions(app: &TestApp) -> Vec<(i32, i64)> {
    on_db!(&app.db, |pool| sqlx::query_as("SELECT key_version, COUNT(*) FROM secrets GROUP BY key_version ORDER BY key_version").fetch_all(pool).await).unwrap()
}

/// Runs the job to its end in this process.
async fn run_to_end(state: &AppState) -> keyport::domain::RotationJob {
    rotation::work(state, Uuid::now_v7(), |_| {}).await.unwrap().expect("a job")
}

async fn reencrypts_secrets_under_three_key_versions_and_the_old_keys_can_go(app: TestApp) {
    let mut expected = vec![(add_secret(&app, "One", "secret-under-v1").await, "secret-under-v1")];
    let first = rotate(&app).await;
    assert_eq!((first.target_version, first.total, first.state), (2, 1, JobState::Running));
    // "Re-encrypt now" on one platform, before the job gets to it.
    let one = keyport::server::platforms::get(&app.db, &app.state.keyring, expected[0].0.parse().unwrap()).await.unwrap();
    assert_eq!(rotation::reencrypt_platform(&app.state, &Caller::default(), &one).await.unwrap(), (1, 0));
    expected.push((add_secret(&app, "Two", "secret-under-v2").await, "secret-under-v2"));
    // A second rotation while the first job is unfinished: that job gives way to one to v3.
    let job = rotate(&app).await;
    assert_eq!((job.target_version, job.total), (3, 2));
    expected.push((add_secret(&app, "Three", "secret-under-v3").await, "secret-under-v3"));
    assert_eq!(versions(&app).await, [(2, 2), (3, 1)]);
    let panel = rotation::panel(&app.state).await.unwrap();
    assert_eq!(panel.current_version, 3);
    assert!(panel.next_steps.contains(&"2 secrets still use v2 — re-encrypt them to v3, then retire v2.".to_owned()), "{:?}", panel.next_steps);
    assert!(panel.next_steps.contains(&"v1 protects nothing any more: retire it.".to_owned()), "{:?}", panel.next_steps);
    assert!(rotation::start(&app.state, &Caller::default()).await.is_err(), "one job at a time");
    let job = run_to_end(&app.state).await;
    assert_eq!((job.state, job.done, job.failed, job.percent()), (JobState::Done, 2, 0, 100));
    assert_eq!(versions(&app).await, [(3, 3)]);
    for version in [1, 2] {
        keys::retire(&app.state, &Caller::default(), version).await.unwrap();
    }

    // Restart: the app starts with the root key alone, and every secret decrypts.
    let restarted = app.reopen(&[("ENCRYPTION_KEY", TEST_KEY)]).await;
    assert_eq!(restarted.state.keyring.versions().into_iter().map(|(v, _)| v).collect::<Vec<_>>(), [3], "the retired keys are gone");
    for (id, value) in expected {
        let secret = secrets::resolve(&restarted.db, &restarted.state.keyring, id.parse().unwrap(), SecretField::ApiKey).await.unwrap();
        assert_eq!(secrecy::ExposeSecret::expose_secret(&secret), value);
    }
    let (_, list) = restarted.get_json("/api/platforms?encryption=current").await;
    assert_eq!(list["count"], 3, "every badge says current key");
    let actions: Vec<(String,)> = on_db!(&app.db, |pool| {
        sqlx::query_as("SELECT action FROM audit_events WHERE action LIKE 'rotation_%' OR action LIKE 'key_%' ORDER BY at").fetch_all(pool).await
    })
    .unwrap();
    let actions: Vec<String> = actions.into_iter().map(|a| a.0).collect();
    assert_eq!(actions, ["key_rotated", "rotation_started", "key_rotated", "rotation_started", "rotation_finished", "key_retired", "key_retired"]);
}

/// Inserts `n` platforms with five secrets each, sealed with the app's current key, in
/// bulk (the API would take minutes for thousands).
async fn seed(app: &TestApp, platforms: usize) {
    let keyring = &app.state.keyring;
    let v = keyring.current_version() as i32;
    let now = chrono::Utc::now();
    on_db!(&app.db, |pool| {
        let mut tx = pool.begin().await.unwrap();
        for i in 0..platforms {
            let id = Uuid::now_v7();
            sqlx::query("INSERT INTO platforms (id, name, category, auth_type, status, metadata, created_at, updated_at) VALUES ($1, $2, 'other', 'oauth2', 'active', '{}', $3, $3)")
                .bind(id).bind(format!("Seed {i} {}", id.simple())).bind(now).execute(&mut *tx).await.unwrap();
            for field in SecretField::ALL {
                let sealed = keyring.seal(format!("{field}-{i}").as_bytes(), &SecretSlot::platform_secret(id, *field));
                sqlx::query("INSERT INTO secrets (owner_id, platform_id, field, ciphertext, key_version, created_at, updated_at) VALUES ($1, $1, $2, $3, $4, $5, $5)")
                    .bind(id).bind(field.as_str()).bind(sealed).bind(v).bind(now).execute(&mut *tx).await.unwrap();
            }
        }
        tx.commit().await.unwrap();
    });
}

/// The job counts its secrets when it starts; a secret rewritten under the new key before
/// the job reaches it (a token refresh, an edit) or deleted is not the job's to do, and the
/// finished job must not read "2 of 4 (50%) · done".
async fn a_job_others_got_ahead_of_finishes_at_100_percent(app: TestApp) {
    let ids = [add_secret(&app, "Kept", "a").await, add_secret(&app, "Edited", "b").await, add_secret(&app, "Deleted", "c").await, add_secret(&app, "Also kept", "d").await];
    let job = rotate(&app).await;
    assert_eq!((job.total, job.percent()), (4, 0));
    let (status, body) = app.send_json(reqwest::Method::PUT, &format!("/api/platforms/{}/secrets/api_key", ids[1]), json!({"value": "b2"})).await;
    assert!(status < 300, "{body}");
    let (status, body) = app.send_json(reqwest::Method::DELETE, &format!("/api/platforms/{}", ids[2]), serde_json::Value::Null).await;
    assert!(status < 300, "{body}");
    let job = run_to_end(&app.state).await;
    assert_eq!((job.state, job.done, job.failed, job.total, job.percent()), (JobState::Done, 2, 0, 2, 100));
    assert_eq!(rotation::panel(&app.state).await.unwrap().job.map(|j| (j.total, j.percent())), Some((2, 100)));
    assert_eq!(versions(&app).await, [(2, 3)]);
}

async fn pauses_and_resumes_where_it_stopped(app: TestApp) {
    seed(&app, 500).await; // 2,500 secrets: three batches
    rotate(&app).await;
    let v2 = &app;
    let mut seen = Vec::new();
    let state = v2.state.clone();
    // Pause from "another admin" right after the first batch.
    let job = rotation::work(&v2.state, Uuid::now_v7(), |job| {
        seen.push(job.handled());
        if seen.len() == 1 {
            tokio::task::block_in_place(|| tokio::runtime::Handle::current().block_on(rotation::set_paused(&state, &Caller::default(), true))).unwrap();
        }
    })
    .await
    .unwrap()
    .unwrap();
    assert_eq!(job.state, JobState::Paused);
    assert_eq!((seen.as_slice(), job.done), (&[1000][..], 1000));
    assert_eq!(versions(&v2).await, [(1, 1500), (2, 1000)]);
    assert!(rotation::work(&v2.state, Uuid::now_v7(), |_| {}).await.unwrap().unwrap().state == JobState::Paused, "a paused job stays put");

    rotation::set_paused(&v2.state, &Caller::default(), false).await.unwrap();
    let mut seen = Vec::new();
    let job = rotation::work(&v2.state, Uuid::now_v7(), |job| seen.push(job.handled())).await.unwrap().unwrap();
    assert_eq!(seen, [2000, 2500, 2500], "resumed after the first 1,000 (the last call reports the finish)");
    assert_eq!((job.state, job.done, job.total), (JobState::Done, 2500, 2500));
    assert_eq!(versions(&v2).await, [(2, 2500)]);
}

async fn refreshes_during_re_encryption_lose_nothing(app: TestApp) {
    let sandbox = Sandbox::start(&["--token-ttl", "60"]).await;
    let id = sandbox_platform(&app, &sandbox).await;
    let (browser, _) = signed_in_browser(&app, Role::Marketer).await;
    connect(&app, &sandbox, &browser, &id).await;
    seed(&app, 300).await;
    rotate(&app).await;
    let v2 = &app;
    let account = common::first_account(&v2, &id).await;
    // Refreshes (each rotating the refresh token) race the re-encryption.
    let refreshes = async {
        for _ in 0..5 {
            let (status, body) = v2.post_json(&format!("/api/platforms/{id}/accounts/{account}/token"), json!({})).await;
            assert_eq!(status, 200, "{body}");
        }
    };
    let (job, ()) = tokio::join!(run_to_end(&v2.state), refreshes);
    assert_eq!(job.state, JobState::Done);
    assert_eq!(sandbox.stats().await["refreshes"], 5);
    // The stored refresh token is the latest one: the sandbox revokes the grant if a
    // rotated-out token comes back, so one more refresh proves nothing was overwritten.
    let (status, body) = v2.post_json(&format!("/api/platforms/{id}/accounts/{account}/token"), json!({})).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(versions(&v2).await, [(2, 1503)]);
}

async fn a_server_killed_mid_job_resumes_after_restart(app: TestApp) {
    seed(&app, 8000).await; // 40,000 secrets
    let job = rotate(&app).await;
    let v2 = &app;
    let new_keys = [("ENCRYPTION_KEY", TEST_KEY)];
    let progress = || async {
        let (done,): (i64,) = on_db!(&app.db, |pool| sqlx::query_as("SELECT done FROM rotation_jobs").fetch_one(pool).await).unwrap();
        done
    };
    let (mut server, _) = common::serve_process(&app, &new_keys).await;
    while progress().await == 0 {
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    server.start_kill().unwrap(); // SIGKILL: no shutdown, mid-transaction as it may be
    server.wait().await.unwrap();
    let at_kill = progress().await;
    assert!(at_kill < job.total, "killed mid-job ({at_kill} of {})", job.total);
    // Time passes: the dead process's lease runs out.
    app.execute("UPDATE rotation_jobs SET lease_until = NULL, lease_owner = NULL").await;
    let _server = common::serve_process(&app, &new_keys).await;
    let finished = loop {
        let (state, done, failed): (String, i64, i64) =
            on_db!(&app.db, |pool| sqlx::query_as("SELECT state, done, failed FROM rotation_jobs").fetch_one(pool).await).unwrap();
        if state == "done" {
            break (done, failed);
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    };
    assert_eq!(finished, (40_000, 0), "every secret counted once");
    assert_eq!(versions(&v2).await, [(2, 40_000)]);
    // Every secret decrypts with the new key alone: v1 retired, a fresh start holds v2 only.
    keys::retire(&app.state, &Caller::default(), 1).await.unwrap();
    let only_v2 = app.reopen(&new_keys).await;
    assert_eq!(only_v2.state.keyring.versions().len(), 1);
    let rows: Vec<(Uuid, String, Vec<u8>)> = on_db!(&app.db, |pool| sqlx::query_as("SELECT platform_id, field, ciphertext FROM secrets").fetch_all(pool).await).unwrap();
    for (id, field, ciphertext) in rows {
        only_v2.state.keyring.open(&ciphertext, &SecretSlot::platform_secret(id, field.parse().unwrap())).unwrap();
    }
}

/// A platform's own secret, an account's tokens and an instance client's secret are each
/// re-sealed for their own slot: after the job, a server holding only the new key opens all
/// three (a re-seal into the wrong slot would not decrypt there).
async fn every_kind_of_owner_is_re_encrypted_in_its_own_slot(app: TestApp) {
    let api = add_secret(&app, "Own", "platform-own-secret").await;
    let sandbox = Sandbox::start(&[]).await;
    let id = sandbox_platform(&app, &sandbox).await;
    let (browser, _) = signed_in_browser(&app, Role::Marketer).await;
    connect(&app, &sandbox, &browser, &id).await;
    let account: Uuid = common::first_account(&app, &id).await.parse().unwrap();
    let before = secrets::resolve(&app.db, &app.state.keyring, account, SecretField::AccessToken).await.unwrap();
    let client = keyport::server::store::instances::InstanceClient {
        id: Uuid::now_v7(),
        platform_id: id.parse().unwrap(),
        origin: "https://mastodon.example".into(),
        client_id: "instance-client".into(),
        scopes: "read".into(),
    };
    secrets::store_instance_client(&app.db, &app.state.keyring, &client, &secrecy::SecretString::from("instance-secret")).await.unwrap();

    rotate(&app).await;
    assert_eq!(run_to_end(&app.state).await.state, JobState::Done);
    keys::retire(&app.state, &Caller::default(), 1).await.unwrap();
    let only_v2 = app.reopen(&[("ENCRYPTION_KEY", TEST_KEY)]).await;
    assert!(versions(&only_v2).await.iter().all(|(v, _)| *v == 2), "{:?}", versions(&only_v2).await);
    let open = |owner: Uuid, field| secrets::resolve(&only_v2.db, &only_v2.state.keyring, owner, field);
    use secrecy::ExposeSecret;
    assert_eq!(open(api.parse().unwrap(), SecretField::ApiKey).await.unwrap().expose_secret(), "platform-own-secret");
    assert_eq!(open(account, SecretField::AccessToken).await.unwrap().expose_secret(), before.expose_secret());
    assert!(open(account, SecretField::RefreshToken).await.is_ok());
    assert_eq!(open(client.id, SecretField::ClientSecret).await.unwrap().expose_secret(), "instance-secret");
    let (envelope,): (Vec<u8>,) = on_db!(&only_v2.db, |pool| {
        sqlx::query_as("SELECT ciphertext FROM secrets WHERE instance_id IS NOT NULL").fetch_one(pool).await
    })
    .unwrap();
    assert!(only_v2.state.keyring.open(&envelope, &SecretSlot::instance_client(client.id, SecretField::ClientSecret)).is_ok());
}
