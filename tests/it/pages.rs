//! The server-rendered pages and the form posts behind them, as a browser without
//! JavaScript sees them, on SQLite and PostgreSQL.

use crate::common;

use common::{location, TestApp};
use keyport::server_fns::platforms::{CreatePlatform, DeletePlatform, UpdatePlatform};
use leptos::server_fn::ServerFn;
use serde_json::json;

on_both_backends!(
    list_page_shows_platforms_counts_and_url_filters,
    list_page_has_an_empty_state,
    list_page_searches_sorts_and_pages_in_the_url,
    detail_page_shows_the_platform_and_404s_for_unknown_ids,
    unknown_filter_in_the_url_is_explained,
    form_post_without_js_creates_and_redirects_to_the_new_platform,
    form_post_without_js_reports_field_errors_back_to_the_form,
    form_post_without_js_updates_and_deletes,
    malformed_server_function_bodies_answer_400_naming_the_field,
    text_goes_compressed_and_images_as_they_are,
    the_bundle_goes_by_hashed_names_kept_a_year,
);

async fn page(app: &TestApp, path: &str) -> (u16, String) {
    let response = app.page(path).await;
    (response.status().as_u16(), response.text().await.unwrap())
}

/// Posts a form as a browser without JS does: urlencoded, accepting HTML, with a Referer.
async fn post_form(app: &TestApp, fn_path: &str, referer: &str, fields: &[(&str, &str)]) -> reqwest::Response {
    app.browser
        .post(app.url(fn_path))
        .header("accept", "text/html")
        .header("referer", app.url(referer))
        .form(fields)
        .send()
        .await
        .unwrap()
}

async fn list_page_shows_platforms_counts_and_url_filters(app: TestApp) {
    app.create_platform(json!({"name": "Mastodon", "category": "social"})).await;
    app.create_platform(json!({"name": "Stripe", "category": "payment", "status": "error"})).await;
    let (status, html) = page(&app, "/platforms").await;
    assert_eq!(status, 200);
    assert!(html.contains(">Mastodon</a>") && html.contains(">Stripe</a>"), "{html}");
    assert!(html.contains("Social (1)") && html.contains("Payment (1)") && html.contains("Error (1)"));
    assert!(html.contains("2 platforms"));
    let (_, html) = page(&app, "/platforms?category=payment").await;
    assert!(html.contains(">Stripe</a>") && !html.contains(">Mastodon</a>"));
    assert!(html.contains("1 platform (of 2)"), "{html}");
    assert!(html.contains("<option value=\"payment\" selected"), "the filter control shows the URL's choice");
    let (_, html) = page(&app, "/platforms?category=social&status=error").await;
    assert!(html.contains("No platforms match these filters"));
}

async fn list_page_searches_sorts_and_pages_in_the_url(app: TestApp) {
    for (name, description) in [("Stripe", "Card payments"), ("PayPal", ""), ("Paddle", ""), ("Mastodon", "Social")] {
        app.create_platform(json!({"name": name, "description": description})).await;
    }
    let (status, html) = page(&app, "/platforms?q=pa&limit=2").await;
    assert_eq!(status, 200);
    assert!(html.contains(">Paddle</a>") && html.contains(">PayPal</a>") && !html.contains(">Stripe</a>"), "{html}");
    assert!(html.contains("Showing 2 of 3 platforms matching “pa”"), "{html}");
    assert!(html.contains(r#"value="pa""#), "the search box shows the URL's search");
    assert!(html.contains(">Social</option>") && !html.contains("Social ("), "a search has no per-choice counts");
    let link = &html[html[..html.find(r#"rel="next""#).unwrap()].rfind("<a").unwrap()..];
    let next = link.split("href=\"").nth(1).and_then(|h| h.split('"').next()).unwrap().replace("&amp;", "&");
    assert!(next.starts_with("/platforms?q=pa&limit=2&cursor="), "the next link keeps the search: {next}");
    let (_, html) = page(&app, &next).await;
    assert!(html.contains(">Stripe</a>") && !html.contains(">PayPal</a>"), "{html}");
    assert!(html.contains(r#"rel="prev""#) && !html.contains(r#"rel="next""#), "the last page links back only");
    let (_, html) = page(&app, "/platforms?q=zzz").await;
    assert!(html.contains("No platforms match your search"));
    let (status, html) = page(&app, "/platforms?limit=9999").await;
    assert_eq!(status, 422);
    assert!(html.contains("from 1 to 500"), "{html}");
}

async fn list_page_has_an_empty_state(app: TestApp) {
    let (status, html) = page(&app, "/platforms").await;
    assert_eq!(status, 200);
    assert!(html.contains("No platforms yet") && html.contains("Add your first platform"));
    let (status, _) = page(&app, "/").await;
    assert!(status == 302 || status == 200, "the root leads to the list ({status})");
}

async fn detail_page_shows_the_platform_and_404s_for_unknown_ids(app: TestApp) {
    let p = app.create_platform(json!({"name": "Mailgun", "category": "email", "base_url": "https://api.mailgun.net", "metadata": {"region": "eu"}})).await;
    let (status, html) = page(&app, &format!("/platforms/{}", p["id"].as_str().unwrap())).await;
    assert_eq!(status, 200);
    assert!(html.contains("<h1>Mailgun</h1>") && html.contains("https://api.mailgun.net"), "{html}");
    assert!(html.contains("region") && html.contains("Email"), "metadata and category are shown");
    let (status, html) = page(&app, "/platforms/0190a0a0-0000-7000-8000-000000000000").await;
    assert_eq!(status, 404);
    assert!(html.contains("Not found"));
    let (status, _) = page(&app, "/no/such/page").await;
    assert_eq!(status, 404);
}

async fn unknown_filter_in_the_url_is_explained(app: TestApp) {
    let (status, html) = page(&app, "/platforms?category=games").await;
    assert_eq!(status, 422);
    assert!(html.contains("unknown category"), "{html}");
    assert!(html.contains("Show all platforms"));
}

async fn form_post_without_js_creates_and_redirects_to_the_new_platform(app: TestApp) {
    let response = post_form(&app, CreatePlatform::PATH, "/platforms/new", &[
        ("form[name]", "Pinterest"), ("form[category]", "social"), ("form[auth_type]", "oauth2"),
        ("form[status]", "pending"), ("form[description]", ""), ("form[icon_url]", ""),
        ("form[base_url]", "https://api.pinterest.com"), ("form[metadata]", "{\"board\": \"b1\"}"),
    ])
    .await;
    assert_eq!(response.status(), 302);
    let to = location(&response);
    assert!(to.starts_with("/platforms/") && to.ends_with("?notice=created"), "{to}");
    let (status, html) = page(&app, &to).await;
    assert_eq!(status, 200);
    assert!(html.contains("Platform created.") && html.contains("<h1>Pinterest</h1>"));
    let (_, list) = app.get_json("/api/platforms").await;
    assert_eq!(list["platforms"][0]["status"], "pending");
    assert_eq!(list["platforms"][0]["metadata"], json!({"board": "b1"}));
}

async fn form_post_without_js_reports_field_errors_back_to_the_form(app: TestApp) {
    let response = post_form(&app, CreatePlatform::PATH, "/platforms/new", &[
        ("form[name]", ""), ("form[base_url]", "not a url"), ("form[metadata]", "{oops"),
    ])
    .await;
    assert_eq!(response.status(), 302);
    let back = location(&response);
    assert!(back.contains("/platforms/new?") && back.contains("__err="), "{back}");
    let path = back.trim_start_matches(&app.base);
    let (_, html) = page(&app, path).await;
    assert!(html.contains("Please correct the 3 highlighted fields."), "{html}");
    assert!(html.contains("is required") && html.contains("must start with https://") && html.contains("is not valid JSON"));
    assert!(html.contains("aria-invalid=\"true\""));
    let (_, list) = app.get_json("/api/platforms").await;
    assert_eq!(list["count"], 0);
}

async fn form_post_without_js_updates_and_deletes(app: TestApp) {
    let p = app.create_platform(json!({"name": "Reddit"})).await;
    let id = p["id"].as_str().unwrap();
    let response = post_form(&app, UpdatePlatform::PATH, &format!("/platforms/{id}/edit"), &[
        ("id", id), ("form[name]", "Reddit Ads"), ("form[category]", "analytics"), ("form[status]", "inactive"),
    ])
    .await;
    assert_eq!(location(&response), format!("/platforms/{id}?notice=saved"));
    let (_, got) = app.get_json(&format!("/api/platforms/{id}")).await;
    assert_eq!((got["platform"]["name"].as_str(), got["platform"]["category"].as_str()), (Some("Reddit Ads"), Some("analytics")));
    let response = post_form(&app, DeletePlatform::PATH, &format!("/platforms/{id}"), &[("id", id)]).await;
    assert_eq!(location(&response), "/platforms?notice=deleted");
    assert_eq!(app.get_json(&format!("/api/platforms/{id}")).await.0, 404);
    let (_, html) = page(&app, "/platforms?notice=deleted").await;
    assert!(html.contains("Platform deleted."));
}

/// A script (no HTML accepted) posting a body the function cannot read: 400 with the field
/// that is missing, never server_fn's 500, and nothing stored.
async fn malformed_server_function_bodies_answer_400_naming_the_field(app: TestApp) {
    let post = |path: &'static str, body: &'static str| {
        app.browser.post(app.url(path)).header("content-type", "application/x-www-form-urlencoded").body(body).send()
    };
    for (path, body, field) in [
        (CreatePlatform::PATH, "", "form"),
        (UpdatePlatform::PATH, "form%5Bname%5D=Renamed", "id"),
        (DeletePlatform::PATH, "not a form at all", "id"),
    ] {
        let (status, error) = common::json_of(post(path, body).await.unwrap()).await;
        assert_eq!(status, 400, "{path} {body:?}: {error}");
        assert_eq!(error["code"], "invalid", "{error}");
        assert_eq!(error["fields"][0]["field"], field, "{path} {body:?}: {error}");
    }
    let (_, list) = app.get_json("/api/platforms").await;
    assert_eq!(list["count"], 0, "nothing was stored");
}

/// Pages and JSON go gzip- or Brotli-compressed to a client that asks; an image does not
/// (it is compressed already), and a client that does not ask gets plain bytes.
async fn text_goes_compressed_and_images_as_they_are(app: TestApp) {
    for n in 0..30 {
        app.create_platform(json!({"name": format!("Platform {n}"), "category": "payment", "description": "A payment provider with a long enough description"})).await;
    }
    let get = |client: &reqwest::Client, path: &str, encoding: Option<&str>| {
        let mut request = client.get(app.url(path));
        if let Some(e) = encoding {
            request = request.header("accept-encoding", e);
        }
        request.send()
    };
    let plain = get(&app.browser, "/platforms", None).await.unwrap();
    assert_eq!(plain.headers().get("content-encoding"), None);
    let plain = plain.bytes().await.unwrap();
    let gzipped = get(&app.browser, "/platforms", Some("gzip")).await.unwrap();
    assert_eq!(gzipped.headers()["content-encoding"], "gzip");
    let gzipped = gzipped.bytes().await.unwrap();
    let mut html = String::new();
    std::io::Read::read_to_string(&mut flate2::read::GzDecoder::new(&gzipped[..]), &mut html).unwrap();
    assert!(html.contains("Platform 29") && html.contains("</html>"), "the whole page, decompressed");
    assert!(gzipped.len() * 3 < plain.len(), "{} bytes gzipped, {} plain", gzipped.len(), plain.len());
    // What a browser sends: gzip is chosen (Brotli costs more CPU than it saves here).
    let api = get(&app.client, "/api/platforms", Some("gzip, deflate, br, zstd")).await.unwrap();
    assert_eq!((api.status().as_u16(), api.headers()["content-encoding"].to_str().unwrap()), (200, "gzip"));

    let photo = crate::media::uploaded(&app, crate::media::PHOTO).await;
    let image = get(&app.client, &format!("/api/media/{}/content", photo["id"].as_str().unwrap()), Some("gzip, br")).await.unwrap();
    assert_eq!(image.status(), 200);
    assert_eq!(image.headers().get("content-encoding"), None, "a JPEG goes as it is");
}

/// cargo-leptos `hash-files`: the page names the hashed bundle, which goes with a year's
/// cache lifetime; without the hash file, the plain names, asked again each time.
async fn the_bundle_goes_by_hashed_names_kept_a_year(app: TestApp) {
    let site = tempfile::tempdir().unwrap();
    std::fs::create_dir(site.path().join("pkg")).unwrap();
    for name in ["keyport.Wh4sh.wasm", "keyport.wasm"] {
        std::fs::write(site.path().join("pkg").join(name), b"\0asm").unwrap();
    }
    let hash_file = site.path().join("hash.txt");
    std::fs::write(&hash_file, "js: Jh4sh\nwasm: Wh4sh\ncss: Ch4sh\n").unwrap();
    let root = site.path().to_str().unwrap();
    let get = |app: &TestApp, path: &str| app.browser.get(app.url(path)).send();

    let hashed = app.reopen(&[("ENCRYPTION_KEY", common::TEST_KEY), ("LEPTOS_SITE_ROOT", root), ("LEPTOS_HASH_FILE_NAME", hash_file.to_str().unwrap())]).await;
    let html = get(&hashed, "/platforms").await.unwrap().text().await.unwrap();
    for name in ["/pkg/keyport.Jh4sh.js", "/pkg/keyport.Wh4sh.wasm", "/pkg/keyport.Ch4sh.css"] {
        assert!(html.contains(name), "{name} in the page");
    }
    let wasm = get(&hashed, "/pkg/keyport.Wh4sh.wasm").await.unwrap();
    assert_eq!((wasm.status().as_u16(), wasm.headers()["cache-control"].to_str().unwrap()), (200, "public, max-age=31536000, immutable"));
    let missing = get(&hashed, "/pkg/keyport.0ld.wasm").await.unwrap();
    assert_eq!((missing.status().as_u16(), missing.headers()["cache-control"].to_str().unwrap()), (404, "no-cache"), "a miss is not kept");

    let plain = app.reopen(&[("ENCRYPTION_KEY", common::TEST_KEY), ("LEPTOS_SITE_ROOT", root)]).await;
    let html = get(&plain, "/platforms").await.unwrap().text().await.unwrap();
    assert!(html.contains("/pkg/keyport.js") && html.contains("/pkg/keyport.css") && !html.contains("h4sh"), "plain names without the hash file");
    let wasm = get(&plain, "/pkg/keyport.wasm").await.unwrap();
    assert_eq!((wasm.status().as_u16(), wasm.headers()["cache-control"].to_str().unwrap()), (200, "no-cache"));
}
