//! The OpenAPI document: it describes every route of the JSON API and nothing else, every
//! reference in it resolves, and schemathesis (PyPI) finds the running API answering as
//! it says — no 5xx, every status, content type and body as documented.

use crate::common::TestApp;
use keyport::domain::Role;
use serde_json::{json, Value};
use std::collections::BTreeSet;

const METHODS: [&str; 5] = ["get", "post", "put", "patch", "delete"];

async fn document(app: &TestApp) -> Value {
    let r = app.anonymous.get(app.url("/api/openapi.json")).send().await.unwrap();
    assert_eq!(r.status(), 200, "the document is public");
    r.json().await.unwrap()
}

/// Every `$ref` in the document, anywhere.
fn references(value: &Value, found: &mut BTreeSet<String>) {
    match value {
        Value::Object(map) => {
            if let Some(Value::String(r)) = map.get("$ref") {
                found.insert(r.clone());
            }
            map.values().for_each(|v| references(v, found));
        }
        Value::Array(items) => items.iter().for_each(|v| references(v, found)),
        _ => {}
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_document_describes_every_route_and_only_those() {
    let app = TestApp::sqlite().await;
    let doc = document(&app).await;
    assert!(doc["openapi"].as_str().unwrap().starts_with("3.1"), "{}", doc["openapi"]);

    let mut operations = 0;
    for (path, item) in doc["paths"].as_object().unwrap() {
        assert!(path.starts_with("/api/"), "{path}");
        // A concrete URL for the path: any id (a random one is simply not found).
        let url = path.split('/').map(|part| if part.starts_with('{') { uuid::Uuid::now_v7().to_string() } else { part.to_owned() }).collect::<Vec<_>>().join("/");
        for method in METHODS {
            let request = app.anonymous.request(method.to_uppercase().parse().unwrap(), app.url(&url));
            let r = request.header("content-type", "application/json").body("{}").send().await.unwrap();
            let status = r.status().as_u16();
            let body = r.text().await.unwrap();
            match item.get(method) {
                Some(op) => {
                    operations += 1;
                    let name = format!("{} {path}", method.to_uppercase());
                    assert!(op["summary"].as_str().is_some_and(|s| !s.is_empty()), "{name} has no summary");
                    assert!(op["tags"].as_array().is_some_and(|t| !t.is_empty()), "{name} has no tag");
                    let statuses: Vec<&String> = op["responses"].as_object().unwrap().keys().collect();
                    assert!(statuses.iter().any(|s| s.starts_with('2')), "{name} documents no success");
                    // The route exists: an anonymous call is refused or not found, never the
                    // API's "no such route" nor 405 — and whatever it is, it is documented.
                    assert!(!body.contains("API route was not found") && status != 405, "{name}: documented but not routed ({status} {body})");
                    assert!(statuses.contains(&&status.to_string()), "{name}: answered {status}, which the document does not list ({body})");
                }
                // A method the document does not list on this path is not routed either.
                None => assert_eq!(status, 405, "{} {path} is routed but not documented", method.to_uppercase()),
            }
        }
    }
    assert!(operations >= 24, "only {operations} operations");
    let ids: Vec<&str> = doc["paths"].as_object().unwrap().values().flat_map(|item| METHODS.iter().filter_map(|m| item[*m]["operationId"].as_str())).collect();
    assert_eq!(ids.iter().collect::<BTreeSet<_>>().len(), ids.len(), "operation ids repeat: {ids:?}");

    let mut refs = BTreeSet::new();
    references(&doc, &mut refs);
    for r in &refs {
        let pointer = r.strip_prefix('#').unwrap_or_else(|| panic!("an outside reference: {r}"));
        assert!(doc.pointer(pointer).is_some(), "{r} does not resolve");
    }
    let link = &doc["paths"]["/api/posts"]["post"]["responses"]["201"]["links"]["show_post"];
    assert_eq!(link["operationId"], "show_post", "links name their operation as OpenAPI spells it: {link}");
    assert!(refs.contains("#/components/schemas/Platform") && refs.contains("#/components/schemas/Post"), "{refs:?}");

    // The page shows the same operations, with nothing fetched from elsewhere.
    let page = app.anonymous.get(app.url("/api/docs")).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("<code>/api/posts/{id}/deliveries/{delivery}/retry</code>") && page.contains("id=\"schema-Platform\""), "{}", &page[..page.len().min(600)]);
    assert!(!page.contains("src=\"http") && !page.contains("href=\"http"), "the page loads nothing from elsewhere");
    for id in &ids {
        assert!(page.contains(&format!("<section id=\"{id}\">")), "{id} is missing from the page");
    }
}

/// Routes are registered only with `routes!`, which takes each route's path from its
/// description: a plain axum `.route(` in the API would be a route without one.
#[test]
fn the_api_registers_routes_only_with_their_descriptions() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/src/server");
    let mut files = vec![format!("{dir}/json_api.rs")];
    for entry in std::fs::read_dir(format!("{dir}/json_api")).unwrap() {
        files.push(entry.unwrap().path().display().to_string());
    }
    for file in files {
        let source = std::fs::read_to_string(&file).unwrap();
        for bare in [".route(", ".nest(", ".route_service(", "routing::"] {
            assert!(!source.contains(bare), "{file} registers a route with {bare}: use routes!() so the OpenAPI document describes it");
        }
    }
}

/// schemathesis from PyPI (`setup.sh` installs it) against the running API, as an admin
/// with an API token, a bounded number of examples per operation (SCHEMATHESIS_EXAMPLES
/// for more), with a fixed seed so CI is repeatable. One worker: with two, Python 3.11
/// failed inside schemathesis now and then ("AST constructor recursion depth mismatch",
/// its threads parsing source at once), which is no finding about the API. Skipped
/// without it, unless KEYPORT_REQUIRE_SCHEMATHESIS is set (CI).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn schemathesis_finds_the_api_as_documented() {
    let present = std::process::Command::new("python3").args(["-m", "schemathesis.cli", "--version"]).output().is_ok_and(|o| o.status.success());
    if !present {
        assert!(std::env::var_os("KEYPORT_REQUIRE_SCHEMATHESIS").is_none(), "schemathesis is not installed: run scripts/setup.sh");
        eprintln!("schemathesis is not installed: skipping (scripts/setup.sh installs it)");
        return;
    }
    let app = TestApp::sqlite().await;
    // Something to find: a platform with a secret, and a draft post.
    let platform = app.create_platform(json!({ "name": "Stripe", "category": "payment", "auth_type": "api_key" })).await;
    let (status, _) = app.send_json(reqwest::Method::PUT, &format!("/api/platforms/{}/secrets/api_key", platform["id"].as_str().unwrap()), json!({ "value": "sk_test_1" })).await;
    assert_eq!(status, 200);
    let token = app.token_as(Role::Admin).await;
    let examples = std::env::var("SCHEMATHESIS_EXAMPLES").unwrap_or_else(|_| "15".into());
    // It keeps a cache of crashes where it runs: somewhere of its own, not the checkout.
    let workdir = tempfile::tempdir().unwrap();
    let out = tokio::process::Command::new("python3")
        .current_dir(workdir.path())
        .args(["-m", "schemathesis.cli", "--no-color", "run", &app.url("/api/openapi.json"), "--url", &app.base])
        .args(["--header", &format!("Authorization: Bearer {token}")])
        .args(["--checks", "all", "--exclude-checks", "positive_data_acceptance"])
        .args(["--max-examples", &examples, "--seed", "1", "--workers", "1", "--generation-database", "none"])
        .output()
        .await
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    println!("{stdout}");
    assert!(out.status.success(), "schemathesis found answers that differ from the document:\n{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
}
