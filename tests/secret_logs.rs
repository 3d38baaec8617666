//! Secrets never reach the log, at any level: every flow that touches a secret runs with
//! a TRACE subscriber capturing everything, then the capture is searched. Its own test
//! binary: the capture is the process's global subscriber, so that every thread's log lines
//! (sqlx's workers, blocking tasks) are in it, and no other test's are.

#[path = "it/common/mod.rs"]
mod common;

use common::{
    sandbox::{callback, sandbox_platform, start_connect, Sandbox},
    signed_in_browser, TestApp,
};
use keyport::{domain::SecretField, server::secrets};
use reqwest::Method;
use serde_json::json;
use std::{
    io::Write,
    sync::{Arc, Mutex},
};

const PLANTED: &str = "ghp_PLANTEDlogtoken9d8c7b6a5";
const PASSWORD_PLANTED: &str = "planted password for logs";

#[derive(Clone, Default)]
struct Capture(Arc<Mutex<Vec<u8>>>);

impl Write for Capture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn secrets_never_reach_the_log_at_trace_level() {
    let capture = Capture::default();
    let writer = capture.clone();
    tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .init();

    let app = TestApp::sqlite().await;
    let (_, p) = app.post_json("/api/platforms", json!({"name": "Logged", "auth_type": "bearer"})).await;
    let id = p["platform"]["id"].as_str().unwrap().to_owned();
    let (status, _) = app.send_json(Method::PUT, &format!("/api/platforms/{id}/secrets/access_token"), json!({"value": PLANTED})).await;
    assert_eq!(status, 200);
    let uuid = id.parse().unwrap();
    let token = secrets::resolve(&app.db, &app.state.keyring, uuid, SecretField::AccessToken).await.unwrap();
    tracing::debug!(?token, "a careless debug line");
    // A failed decryption logs a warning: it must not carry the value either.
    app.execute("UPDATE secrets SET ciphertext = X'01000000010000000000000000000000000000000000000000000000000000000000'").await;
    assert!(secrets::resolve(&app.db, &app.state.keyring, uuid, SecretField::AccessToken).await.is_err());
    app.get(&format!("/platforms/{id}")).await.text().await.unwrap();
    // Sign-ins, right and wrong, never log the password or its hash.
    let caller = keyport::server::auth::Caller::default();
    let user = keyport::server::users::create(&app.db, &caller, "log@example.com", &keyport::domain::SecretText::new(PASSWORD_PLANTED), keyport::domain::Role::Marketer).await.unwrap();
    for password in [PASSWORD_PLANTED, "wrong-but-logged?"] {
        app.anonymous
            .post(app.url(<keyport::server_fns::auth::SignIn as leptos::server_fn::ServerFn>::PATH))
            .form(&[("email", user.email.as_str()), ("password", password)])
            .send()
            .await
            .unwrap();
    }
    // An OAuth connection: the callback's query carries the code and the state.
    let sandbox = Sandbox::start(&[]).await;
    let platform = sandbox_platform(&app, &sandbox).await;
    let (browser, _) = signed_in_browser(&app, keyport::domain::Role::Marketer).await;
    let authorize = start_connect(&app, &browser, &platform).await;
    let back = sandbox.decide(&authorize, "approve").await;
    let query: std::collections::HashMap<String, String> = url::Url::parse(&back).unwrap().query_pairs().into_owned().collect();
    assert_eq!(common::location(&callback(&app, &browser, &back).await), format!("/platforms/{platform}?notice=connected"));

    let log = String::from_utf8(capture.0.lock().unwrap().clone()).unwrap();
    assert!(log.contains("/callback"), "the callback was logged (by path)");
    for (name, value) in [("code", &query["code"]), ("state", &query["state"])] {
        assert!(!log.contains(value.as_str()), "the log contains the callback's {name}");
    }
    assert!(log.contains("secret stored") && log.contains("secret does not decrypt"), "the flows were logged:\n{log}");
    assert!(log.to_lowercase().contains("[redacted]"), "a secret passed to a log line shows as redacted");
    assert!(!log.contains(PLANTED), "the log contains the secret:\n{log}");
    assert!(log.contains("login_failed") || log.contains("audit_events"), "sign-ins ran");
    for leaked in [PASSWORD_PLANTED, "wrong-but-logged?", "$argon2id$"] {
        assert!(!log.contains(leaked), "the log contains {leaked}");
    }
}
