//! The `keyport` binary as an operator runs it: configuration errors end start-up with one
//! sentence naming the variable, a good configuration serves and stops cleanly on SIGTERM.

use crate::common;

use std::{
    net::TcpListener,
    process::{Command, Output, Stdio},
    time::Duration,
};

pub(crate) fn keyport(dir: &std::path::Path, env: &[(&str, &str)]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_keyport"));
    // A clean environment and folder: no developer .env can leak in.
    cmd.env_clear().env("PATH", std::env::var("PATH").unwrap_or_default()).current_dir(dir);
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd
}

fn fails_with(env: &[(&str, &str)], variable: &str, words: &str) -> String {
    let dir = tempfile::tempdir().unwrap();
    let Output { status, stderr, .. } = keyport(dir.path(), env).output().unwrap();
    let stderr = String::from_utf8(stderr).unwrap();
    assert_eq!(status.code(), Some(2), "{stderr}");
    assert!(stderr.starts_with(&format!("keyport: {variable}")), "{stderr}");
    assert!(stderr.contains(words), "{stderr}");
    assert!(!stderr.contains("panicked") && !stderr.contains("backtrace"), "{stderr}");
    assert_eq!(stderr.trim().lines().count(), 1, "one sentence: {stderr}");
    stderr
}

#[test]
fn refuses_to_start_without_a_key() {
    fails_with(&[], "ENCRYPTION_KEY is not set", "keyport keys generate");
}

#[test]
fn refuses_a_key_that_is_not_base64_or_not_32_bytes() {
    fails_with(&[("ENCRYPTION_KEY", "not base64!")], "ENCRYPTION_KEY", "is not valid base64");
    fails_with(&[("ENCRYPTION_KEY", "c2hvcnQ=")], "ENCRYPTION_KEY", "does not decode to 32 bytes");
    fails_with(&[("ENCRYPTION_KEY_FILE", "/no/such/key")], "ENCRYPTION_KEY_FILE", "cannot be read");
}

#[test]
fn refuses_an_unknown_database_scheme() {
    fails_with(&[("ENCRYPTION_KEY", common::TEST_KEY), ("DATABASE_URL", "mysql://db/x")], "DATABASE_URL", "sqlite:// or postgres://");
}

#[test]
fn refuses_an_unreachable_database_without_showing_its_password() {
    let port = free_port(); // nothing listens there
    let url = format!("postgres://keyport:hunter2@127.0.0.1:{port}/keyport");
    let stderr = fails_with(&[("ENCRYPTION_KEY", common::TEST_KEY), ("DATABASE_URL", &url)], "DATABASE_URL: could not open", "is running");
    assert!(!stderr.contains("hunter2") && stderr.contains("keyport:***@"), "{stderr}");
}

#[test]
fn keys_generate_prints_a_usable_key() {
    let dir = tempfile::tempdir().unwrap();
    let out = keyport(dir.path(), &[]).args(["keys", "generate"]).output().unwrap();
    assert!(out.status.success());
    let key = String::from_utf8(out.stdout).unwrap();
    assert_eq!(key.trim().len(), 44, "base64 of 32 bytes: {key}");
}

#[test]
fn serves_with_sqlite_by_default_and_stops_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    serve_then_stop(dir.path(), common::TEST_KEY);
}

#[test]
fn user_create_reads_the_password_from_stdin() {
    use std::io::Write;
    let dir = tempfile::tempdir().unwrap();
    let create = |email: &str, password: &str| {
        let mut child = keyport(dir.path(), &[("ENCRYPTION_KEY", common::TEST_KEY)])
            .args(["user", "create", "--email", email, "--role", "admin"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        child.stdin.take().unwrap().write_all(format!("{password}\n").as_bytes()).unwrap();
        child.wait_with_output().unwrap()
    };
    let out = create("Root@Example.com", "correct horse battery");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(String::from_utf8(out.stdout).unwrap().trim(), "Created root@example.com (admin).");
    let again = create("root@example.com", "correct horse battery");
    assert_eq!(again.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&again.stderr).contains("another user has this email"));
    let short = create("b@example.com", "short");
    assert!(String::from_utf8_lossy(&short.stderr).contains("at least 12 characters"));
}

#[test]
fn keys_status_rotate_and_retire_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let keys = |args: &[&str]| {
        let out = keyport(dir.path(), &[("ENCRYPTION_KEY", common::TEST_KEY)]).arg("keys").args(args).output().unwrap();
        (out.status.code(), String::from_utf8(out.stdout).unwrap(), String::from_utf8(out.stderr).unwrap())
    };
    let (code, stdout, stderr) = keys(&["status"]);
    assert_eq!(code, Some(0), "{stderr}");
    assert!(stdout.starts_with("root key: ENCRYPTION_KEY (local) (check value "), "{stdout}");
    let row = stdout.lines().find(|l| l.starts_with("v1")).unwrap_or_else(|| panic!("{stdout}"));
    let columns: Vec<_> = row.split_whitespace().collect();
    assert_eq!((columns[1], columns[3], columns[4], columns[5].len()), ("Active", "0", "0", 32), "no secrets, no encryptions yet: {stdout}");
    let (code, stdout, stderr) = keys(&["rotate"]);
    assert_eq!(code, Some(0), "{stderr}");
    assert!(stdout.contains("Data key v2 is now active; re-encrypting 0 secrets to it."), "{stdout}");
    let (code, _, stderr) = keys(&["retire", "v2"]);
    assert_eq!(code, Some(2));
    assert!(stderr.contains("v2 is the active key: rotate to a new key first"), "{stderr}");
    let (code, stdout, stderr) = keys(&["retire", "v1"]);
    assert_eq!((code, stdout.trim()), (Some(0), "Data key v1 retired."), "{stderr}");
    let (_, stdout, _) = keys(&["status"]);
    assert!(stdout.lines().any(|l| l.starts_with("v1") && l.contains("Retired")) && stdout.lines().any(|l| l.starts_with("v2") && l.contains("Active")), "{stdout}");
}

#[test]
fn refuses_to_start_with_another_root_key() {
    let dir = tempfile::tempdir().unwrap();
    serve_then_stop(dir.path(), common::TEST_KEY);
    let other = "ICEiIyQlJicoKSorLC0uLzAxMjM0NTY3ODk6Ozw9Pj8=";
    let out = keyport(dir.path(), &[("ENCRYPTION_KEY", other)]).output().unwrap();
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.starts_with("keyport: ENCRYPTION_KEY does not unwrap data key v1: it is not the root key the data keys were wrapped with."),
        "{stderr}"
    );
}

/// Starts the server in `dir` (SQLite under ./data), waits until it listens, then stops it
/// with SIGTERM and checks it exits cleanly.
fn serve_then_stop(dir: &std::path::Path, key: &str) {
    let addr = format!("127.0.0.1:{}", free_port());
    let mut child = keyport(dir, &[("ENCRYPTION_KEY", key), ("LEPTOS_SITE_ADDR", &addr), ("RUST_LOG", "warn")])
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let healthy = (0..100).any(|_| {
        std::thread::sleep(Duration::from_millis(100));
        std::net::TcpStream::connect(&addr).is_ok()
    });
    assert!(healthy, "server did not start listening");
    assert!(dir.join("data/keyport.db").exists(), "the default SQLite database is created under ./data/");
    let status = Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap();
    assert!(status.success());
    let exit = (0..100).find_map(|_| {
        std::thread::sleep(Duration::from_millis(100));
        child.try_wait().unwrap()
    });
    match exit {
        Some(exit) => assert!(exit.success(), "graceful shutdown exits 0, got {exit}"),
        None => {
            let _ = child.kill();
            panic!("server did not stop on SIGTERM");
        }
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}
