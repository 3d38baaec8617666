//! The platform registry through the JSON API, on SQLite and PostgreSQL.

use crate::common;

use common::TestApp;
use reqwest::Method;
use serde_json::json;

on_both_backends!(
    creates_with_defaults,
    creates_with_every_field,
    lists_by_name_and_filters_alone_and_combined,
    rejects_unknown_filter_values,
    pages_through_every_platform_in_each_order_and_back,
    a_platform_added_between_pages_is_not_shown_twice,
    searches_names_and_descriptions_ignoring_case,
    a_search_counts_up_to_a_thousand,
    a_search_in_name_or_status_order_follows_every_change,
    rejects_bad_paging_values_naming_them,
    updates_only_the_fields_sent,
    patch_with_null_clears_optional_fields,
    deletes_and_then_answers_404,
    unknown_and_malformed_ids,
    rejects_every_invalid_field_naming_it,
    rejects_malformed_json_wrong_types_and_unknown_fields,
    rejects_oversized_bodies_and_non_json_content,
    names_are_unique_ignoring_case,
    readiness_checks_the_database,
);

async fn creates_with_defaults(app: TestApp) {
    let p = app.create_platform(json!({"name": "X"})).await;
    assert_eq!(p["name"], "X");
    assert_eq!(p["category"], "social");
    assert_eq!(p["auth_type"], "oauth2");
    assert_eq!(p["status"], "active");
    assert_eq!(p["metadata"], json!({}));
    assert!(p["description"].is_null());
    assert_eq!(p["created_at"], p["updated_at"]);
    let (status, got) = app.get_json(&format!("/api/platforms/{}", p["id"].as_str().unwrap())).await;
    assert_eq!(status, 200);
    assert_eq!(got["platform"], p, "what was stored is what was returned");
}

async fn creates_with_every_field(app: TestApp) {
    let input = json!({
        "name": "Stripe", "category": "payment", "auth_type": "api_key", "status": "pending",
        "description": "Card payments", "icon_url": "https://stripe.com/icon.png",
        "base_url": "https://api.stripe.com", "metadata": {"account": "acct_1", "live": false, "n": [1, 2]}
    });
    let p = app.create_platform(input.clone()).await;
    for field in ["name", "category", "auth_type", "status", "description", "icon_url", "base_url", "metadata"] {
        assert_eq!(p[field], input[field], "{field}");
    }
}

async fn lists_by_name_and_filters_alone_and_combined(app: TestApp) {
    for (name, category, status) in [
        ("mastodon", "social", "active"),
        ("Stripe", "payment", "active"),
        ("LinkedIn", "social", "error"),
        ("Mailgun", "email", "inactive"),
    ] {
        app.create_platform(json!({"name": name, "category": category, "status": status})).await;
    }
    let (status, all) = app.get_json("/api/platforms").await;
    assert_eq!(status, 200);
    assert_eq!(names(&all), ["LinkedIn", "Mailgun", "mastodon", "Stripe"], "sorted by name ignoring case");
    assert_eq!(all["count"], 4);
    let (_, social) = app.get_json("/api/platforms?category=social").await;
    assert_eq!(names(&social), ["LinkedIn", "mastodon"]);
    let (_, active) = app.get_json("/api/platforms?status=active").await;
    assert_eq!(names(&active), ["mastodon", "Stripe"]);
    let (_, both) = app.get_json("/api/platforms?category=social&status=active").await;
    assert_eq!(names(&both), ["mastodon"]);
    let (_, none) = app.get_json("/api/platforms?category=crm").await;
    assert_eq!(none["platforms"], json!([]));
    let (_, blank) = app.get_json("/api/platforms?category=&status=").await;
    assert_eq!(blank["count"], 4, "empty filter values mean any");
}

async fn rejects_unknown_filter_values(app: TestApp) {
    let (status, body) = app.get_json("/api/platforms?category=games&status=active").await;
    assert_eq!(status, 400);
    assert_eq!(body["error"]["code"], "invalid");
    assert_eq!(body["error"]["fields"][0]["field"], "category");
    assert!(body["error"]["message"].as_str().unwrap().contains("expected one of social"));
}

fn names(json: &serde_json::Value) -> Vec<String> {
    json["platforms"].as_array().unwrap().iter().map(|p| p["name"].as_str().unwrap().to_owned()).collect()
}

/// Follows `next_cursor` from `first` to the last page, then `prev_cursor` back to the
/// first, returning the names in the order met each way.
async fn walk(app: &TestApp, first: &str) -> (Vec<String>, Vec<String>) {
    let join = |url: &str, cursor: &str| format!("{url}&cursor={cursor}");
    let (status, mut page) = app.get_json(first).await;
    assert_eq!(status, 200, "{page}");
    assert!(page["prev_cursor"].is_null(), "the first page has no previous page");
    let mut forward = names(&page);
    while let Some(next) = page["next_cursor"].as_str().map(str::to_owned) {
        page = app.get_json(&join(first, &next)).await.1;
        assert!(page["count"].as_u64().unwrap() > 0, "a next cursor leads to rows");
        forward.extend(names(&page));
    }
    let mut backward = names(&page);
    while let Some(prev) = page["prev_cursor"].as_str().map(str::to_owned) {
        page = app.get_json(&join(first, &prev)).await.1;
        backward.splice(0..0, names(&page));
    }
    (forward, backward)
}

async fn pages_through_every_platform_in_each_order_and_back(app: TestApp) {
    // Created oldest first: "updated" order is the reverse of this list.
    let made = [("delta", "active"), ("Alpha", "error"), ("echo", "active"), ("Charlie", "pending"), ("bravo", "error"), ("Foxtrot", "active"), ("golf", "inactive")];
    for (name, status) in made {
        app.create_platform(json!({"name": name, "status": status})).await;
    }
    let by_name = ["Alpha", "bravo", "Charlie", "delta", "echo", "Foxtrot", "golf"];
    let by_updated: Vec<&str> = made.iter().rev().map(|m| m.0).collect();
    let by_status = ["delta", "echo", "Foxtrot", "Alpha", "bravo", "golf", "Charlie"];
    let by_added = by_updated.clone();
    for (sort, expected) in [("name", by_name.to_vec()), ("updated", by_updated), ("added", by_added), ("status", by_status.to_vec())] {
        let (forward, backward) = walk(&app, &format!("/api/platforms?limit=3&sort={sort}")).await;
        assert_eq!(forward, expected, "sort={sort}, next");
        assert_eq!(backward, expected, "sort={sort}, prev");
    }
    let (_, first) = app.get_json("/api/platforms?limit=3").await;
    assert_eq!((first["count"].as_u64(), first["total"].as_i64()), (Some(3), Some(7)), "count on the page, total on all pages");
    let (_, filtered) = walk(&app, "/api/platforms?limit=2&status=error&sort=updated").await;
    assert_eq!(filtered, ["bravo", "Alpha"], "filters and order combine");
    let (_, whole) = app.get_json("/api/platforms").await;
    assert_eq!((whole["count"].as_u64(), whole["next_cursor"].clone()), (Some(7), json!(null)), "a page of 50 by default");
}

async fn a_platform_added_between_pages_is_not_shown_twice(app: TestApp) {
    for name in ["b1", "b2", "b3", "b4"] {
        app.create_platform(json!({"name": name})).await;
    }
    let (_, first) = app.get_json("/api/platforms?limit=2").await;
    assert_eq!(names(&first), ["b1", "b2"]);
    // An offset would now repeat b2; the cursor starts after it.
    app.create_platform(json!({"name": "a0"})).await;
    let next = first["next_cursor"].as_str().unwrap();
    let (_, second) = app.get_json(&format!("/api/platforms?limit=2&cursor={next}")).await;
    assert_eq!(names(&second), ["b3", "b4"]);
}

async fn searches_names_and_descriptions_ignoring_case(app: TestApp) {
    app.create_platform(json!({"name": "PayPal", "category": "payment"})).await;
    app.create_platform(json!({"name": "Stripe", "category": "payment", "description": "Card PAYments"})).await;
    app.create_platform(json!({"name": "Mailgun", "category": "email", "description": "100% delivery_rate"})).await;
    app.create_platform(json!({"name": "Mastodon"})).await;
    let (status, pay) = app.get_json("/api/platforms?q=pay").await;
    assert_eq!(status, 200);
    assert_eq!((names(&pay), pay["total"].as_i64()), (vec!["Stripe".to_owned(), "PayPal".to_owned()], Some(2)), "newest first");
    assert_eq!(names(&app.get_json("/api/platforms?q=pay&sort=name").await.1), ["PayPal", "Stripe"], "or in the order asked for");
    let (_, trimmed) = app.get_json("/api/platforms?q=%20%20MAIL%20").await;
    assert_eq!(names(&trimmed), ["Mailgun"], "trimmed, any case");
    let (_, literal) = app.get_json("/api/platforms?q=0%25%20d").await;
    assert_eq!(names(&literal), ["Mailgun"], "% is a character, not a wildcard");
    let (_, underscore) = app.get_json("/api/platforms?q=y_r").await;
    assert_eq!(names(&underscore), ["Mailgun"], "_ is a character, not a wildcard");
    let (_, none) = app.get_json("/api/platforms?q=a_r").await;
    assert_eq!(none["count"], 0);
    let (_, combined) = app.get_json("/api/platforms?q=ma&category=email").await;
    assert_eq!(names(&combined), ["Mailgun"], "search and filters combine");
    let (_, combined) = app.get_json("/api/platforms?q=pay&category=email").await;
    assert_eq!(combined["count"], 0, "search and filters combine, newest first too");
    let (_, combined) = app.get_json("/api/platforms?q=ayp&category=payment").await;
    assert_eq!(names(&combined), ["PayPal"]);
    let (_, blank) = app.get_json("/api/platforms?q=%20").await;
    assert_eq!(blank["count"], 4, "a blank search is no search");
    let (_, short) = app.get_json("/api/platforms?q=ST").await;
    assert_eq!(names(&short), ["Mastodon", "Stripe"], "one or two characters search too");
    let (_, quoted) = app.get_json("/api/platforms?q=%22pay").await;
    assert_eq!(quoted["count"], 0, "a quote is a character, not syntax");

    // The search follows every write: a rename, a new description, a deletion.
    let mastodon = id_of(&app, "Mastodon").await;
    app.send_json(Method::PATCH, &format!("/api/platforms/{mastodon}"), json!({"name": "Fediverse", "description": "toots"})).await;
    let (_, renamed) = app.get_json("/api/platforms?q=fedi").await;
    assert_eq!(names(&renamed), ["Fediverse"]);
    assert_eq!(app.get_json("/api/platforms?q=mastodon").await.1["count"], 0, "the old name is not found");
    assert_eq!(names(&app.get_json("/api/platforms?q=toot").await.1), ["Fediverse"]);
    app.send_json(Method::DELETE, &format!("/api/platforms/{mastodon}"), json!(null)).await;
    assert_eq!(app.get_json("/api/platforms?q=fedi").await.1["count"], 0, "a deleted platform is not found");
}

async fn id_of(app: &TestApp, name: &str) -> String {
    let (_, list) = app.get_json(&format!("/api/platforms?q={name}")).await;
    list["platforms"][0]["id"].as_str().unwrap().to_owned()
}

async fn a_search_counts_up_to_a_thousand(app: TestApp) {
    let category = |i: usize| if i % 3 == 0 { "payment" } else { "other" };
    let entries: Vec<serde_json::Value> = (0..1001).map(|i| json!({"name": format!("Many {i:04}"), "auth_type": "api_key", "category": category(i)})).collect();
    let export = serde_json::to_vec(&entries).unwrap();
    let report = keyport::server::import::run(&app.state, &keyport::server::auth::Caller::default(), &export, |_, _| {}).await.unwrap();
    assert_eq!(report.platforms_created, 1001);
    let (_, many) = app.get_json("/api/platforms?q=many&limit=10").await;
    assert_eq!((many["count"].as_u64(), many["total"].as_i64(), many["total_capped"].as_bool()), (Some(10), Some(1000), Some(true)));
    let (_, some) = app.get_json("/api/platforms?q=many%2009&limit=5").await;
    assert_eq!((some["count"].as_u64(), some["total"].as_i64(), some["total_capped"].as_bool()), (Some(5), Some(100), Some(false)), "0900 to 0999");
    // A filter beside the search: counted on the platforms' own columns, not the index alone.
    let (_, paid) = app.get_json("/api/platforms?q=many&category=payment&limit=10").await;
    assert_eq!((paid["count"].as_u64(), paid["total"].as_i64(), paid["total_capped"].as_bool()), (Some(10), Some(334), Some(false)));
    // Newest first, page after page and back, through a common word's thousand matches.
    let newest_first: Vec<String> = (0..1001).rev().map(|i| format!("Many {i:04}")).collect();
    let (forward, backward) = walk(&app, "/api/platforms?q=many&limit=400").await;
    assert_eq!((forward.len(), &forward, &backward), (1001, &newest_first, &newest_first));
    let html = app.page("/platforms?q=many").await.text().await.unwrap();
    assert!(html.contains("Showing 50 of 1,000+ platforms matching “many”"), "{html}");
    let (_, unsearched) = app.get_json("/api/platforms?limit=1").await;
    assert_eq!((unsearched["total"].as_i64(), unsearched["total_capped"].as_bool()), (Some(1001), Some(false)), "without a search, an exact count");
    // "More than 1,000" stands a few seconds (server::search_counts): one match fewer is
    // not counted again at once, though the page itself is read afresh.
    let (_, newest) = app.get_json("/api/platforms?q=many&limit=1").await;
    let gone = newest["platforms"][0]["id"].as_str().unwrap();
    let (status, _) = app.send_json(reqwest::Method::DELETE, &format!("/api/platforms/{gone}"), serde_json::Value::Null).await;
    assert!(status < 300);
    let (_, after) = app.get_json("/api/platforms?q=many&limit=1").await;
    assert_eq!((after["platforms"][0]["name"].as_str(), after["total"].as_i64(), after["total_capped"].as_bool()), (Some("Many 0999"), Some(1000), Some(true)));
    let (_, exact) = app.get_json("/api/platforms?q=many&category=other&limit=1").await;
    assert_eq!((exact["total"].as_i64(), exact["total_capped"].as_bool()), (Some(666), Some(false)), "a search that was never over the cap is counted every time");
}

/// A search in name or status order is cut from its whole order of matches, kept while no
/// platform changes (server::search_orders): each change below must show at once.
async fn a_search_in_name_or_status_order_follows_every_change(app: TestApp) {
    let entries: Vec<serde_json::Value> = (0..12)
        .map(|i| {
            let status = ["active", "error", "pending"][i % 3];
            let secret = if i % 4 == 0 { json!({}) } else { json!({"api_key": format!("key {i}")}) };
            json!({"name": format!("Word {:02}", 11 - i), "status": status, "auth_type": "api_key", "api_config": secret})
        })
        .chain([json!({"name": "Other", "description": "no match"})])
        .collect();
    let report = keyport::server::import::run(&app.state, &keyport::server::auth::Caller::default(), &serde_json::to_vec(&entries).unwrap(), |_, _| {}).await.unwrap();
    assert_eq!(report.platforms_created, 13);
    let by_name: Vec<String> = (0..12).map(|i| format!("Word {i:02}")).collect();
    let (forward, backward) = walk(&app, "/api/platforms?q=word&sort=name&limit=5").await;
    assert_eq!((&forward, &backward), (&by_name, &by_name));
    // Status order: active (11, 08, 05, 02), error, pending; then name.
    let by_status: Vec<String> = [[2, 5, 8, 11], [1, 4, 7, 10], [0, 3, 6, 9]].iter().flatten().map(|i| format!("Word {i:02}")).collect();
    let (forward, backward) = walk(&app, "/api/platforms?q=word&sort=status&limit=5").await;
    assert_eq!((&forward, &backward), (&by_status, &by_status));
    let (_, counted) = both_ways(&app, "/api/platforms?q=word&sort=name&limit=5").await;
    assert_eq!((counted["total"].as_i64(), counted["total_capped"].as_bool()), (Some(12), Some(false)), "counted from the order");

    let first_names = |list: &serde_json::Value| names(list).into_iter().take(3).collect::<Vec<_>>();
    // A rename moves a row; a platform changed in nothing the list uses keeps the order.
    let generation = keyport::server::store::platforms::generation(&app.state.db).await.unwrap();
    let word_05 = id_of(&app, "Word 05").await;
    app.send_json(Method::PATCH, &format!("/api/platforms/{word_05}"), json!({"base_url": "https://api.example"})).await;
    assert_eq!(keyport::server::store::platforms::generation(&app.state.db).await.unwrap(), generation, "a base URL moves no order");
    app.send_json(Method::PATCH, &format!("/api/platforms/{word_05}"), json!({"name": "Word 00a"})).await;
    let (_, renamed) = both_ways(&app, "/api/platforms?q=word&sort=name&limit=5").await;
    assert_eq!(first_names(&renamed), ["Word 00", "Word 00a", "Word 01"]);
    // A new match, a match that no longer matches, a deletion, a new status.
    app.create_platform(json!({"name": "A word too"})).await;
    let word_00 = id_of(&app, "Word 00").await;
    app.send_json(Method::PATCH, &format!("/api/platforms/{word_00}"), json!({"name": "Nothing"})).await;
    let word_01 = id_of(&app, "Word 01").await;
    app.send_json(Method::DELETE, &format!("/api/platforms/{word_01}"), json!(null)).await;
    let (_, changed) = both_ways(&app, "/api/platforms?q=word&sort=name&limit=5").await;
    assert_eq!((first_names(&changed), changed["total"].as_i64()), (vec!["A word too".to_owned(), "Word 00a".into(), "Word 02".into()], Some(11)));
    let word_09 = id_of(&app, "Word 09").await;
    app.send_json(Method::PATCH, &format!("/api/platforms/{word_09}"), json!({"status": "active"})).await;
    let (_, restatused) = both_ways(&app, "/api/platforms?q=word&sort=status&limit=6").await;
    assert_eq!(names(&restatused), ["A word too", "Word 00a", "Word 02", "Word 08", "Word 09", "Word 11"], "09 joins the active ones, after 08");
    // A secret written moves the encryption filter's answer (the facts kept on the row).
    let (_, without) = both_ways(&app, "/api/platforms?q=word&sort=name&encryption=none").await;
    assert_eq!(names(&without), ["A word too", "Word 03", "Word 07", "Word 11"], "imported with no secret, or created without one");
    let word_03 = id_of(&app, "Word 03").await;
    let (status, body) = app.send_json(Method::PUT, &format!("/api/platforms/{word_03}/secrets/api_key"), json!({"value": "new key"})).await;
    assert!(status < 300, "{body}");
    let (_, without) = both_ways(&app, "/api/platforms?q=word&sort=name&encryption=none").await;
    assert_eq!(names(&without), ["A word too", "Word 07", "Word 11"]);
    // A cursor whose row was renamed since: the page still starts after where it was.
    let (_, page) = both_ways(&app, "/api/platforms?q=word&sort=name&limit=2").await;
    assert_eq!(names(&page), ["A word too", "Word 00a"]);
    let cursor = page["next_cursor"].as_str().unwrap().to_owned();
    app.send_json(Method::PATCH, &format!("/api/platforms/{word_05}"), json!({"name": "Word 99"})).await;
    let (_, next) = both_ways(&app, &format!("/api/platforms?q=word&sort=name&limit=2&cursor={cursor}")).await;
    assert_eq!(names(&next), ["Word 02", "Word 03"]);
}

/// `path` answered twice: once as it comes (the database's own page when no order is kept
/// yet) and again once the server has read the search's whole order in the background
/// (then cut from that order). Both must agree.
async fn both_ways(app: &TestApp, path: &str) -> (u16, serde_json::Value) {
    let (_, first) = app.get_json(path).await;
    for _ in 0..1000 {
        if app.state.search_orders.reading() == 0 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    let (status, second) = app.get_json(path).await;
    assert_eq!((names(&first), &first["total"]), (names(&second), &second["total"]), "{path}: the database and the kept order agree");
    (status, second)
}

async fn rejects_bad_paging_values_naming_them(app: TestApp) {
    for name in ["x1", "x2"] {
        app.create_platform(json!({"name": name})).await;
    }
    let long = "q".repeat(101);
    for (query, field) in [
        ("limit=0", "limit"),
        ("limit=501", "limit"),
        ("limit=ten", "limit"),
        ("sort=price", "sort"),
        ("cursor=not-a-cursor", "cursor"),
        ("cursor=eyJrIjp7Im4iOjF9fQ", "cursor"),
        (&format!("q={long}") as &str, "q"),
    ] {
        let (status, body) = app.get_json(&format!("/api/platforms?{query}")).await;
        assert_eq!(status, 400, "{query}: {body}");
        assert_eq!(body["error"]["fields"][0]["field"], field, "{query}: {body}");
    }
    let (_, page) = app.get_json("/api/platforms?limit=1").await;
    let cursor = page["next_cursor"].as_str().unwrap();
    let (status, body) = app.get_json(&format!("/api/platforms?limit=1&sort=updated&cursor={cursor}")).await;
    assert_eq!((status, body["error"]["fields"][0]["field"].as_str()), (400, Some("cursor")), "a cursor of another order: {body}");
    let (status, _) = app.get_json("/api/platforms?limit=500").await;
    assert_eq!(status, 200, "500 is allowed");
}

async fn updates_only_the_fields_sent(app: TestApp) {
    let p = app.create_platform(json!({"name": "Shopify", "category": "other", "description": "Shop"})).await;
    let path = format!("/api/platforms/{}", p["id"].as_str().unwrap());
    let (status, body) = app.send_json(Method::PATCH, &path, json!({"status": "inactive", "metadata": {"a": 1}})).await;
    assert_eq!(status, 200, "{body}");
    let q = &body["platform"];
    assert_eq!(q["status"], "inactive");
    assert_eq!(q["metadata"], json!({"a": 1}));
    assert_eq!(q["category"], "other");
    assert_eq!(q["description"], "Shop");
    assert_eq!(q["created_at"], p["created_at"]);
    assert_ne!(q["updated_at"], p["updated_at"], "an update moves updated_at");
    let (_, stored) = app.get_json(&path).await;
    assert_eq!(&stored["platform"], q);
}

async fn patch_with_null_clears_optional_fields(app: TestApp) {
    let p = app.create_platform(json!({"name": "A", "description": "d", "base_url": "https://a.example"})).await;
    let path = format!("/api/platforms/{}", p["id"].as_str().unwrap());
    let (status, body) = app.send_json(Method::PATCH, &path, json!({"description": null, "base_url": null})).await;
    assert_eq!(status, 200, "{body}");
    assert!(body["platform"]["description"].is_null());
    assert!(body["platform"]["base_url"].is_null());
    let (status, body) = app.send_json(Method::PATCH, &path, json!({"name": null})).await;
    assert_eq!(status, 422);
    assert_eq!(body["error"]["fields"][0], json!({"field": "name", "message": "is required"}));
}

async fn deletes_and_then_answers_404(app: TestApp) {
    let p = app.create_platform(json!({"name": "Temp"})).await;
    let path = format!("/api/platforms/{}", p["id"].as_str().unwrap());
    let response = app.client.delete(app.url(&path)).send().await.unwrap();
    assert_eq!(response.status(), 204);
    let (status, body) = app.get_json(&path).await;
    assert_eq!(status, 404);
    assert_eq!(body["error"]["code"], "not_found");
    let (status, _) = common::json_of(app.client.delete(app.url(&path)).send().await.unwrap()).await;
    assert_eq!(status, 404, "deleting twice");
    let (_, list) = app.get_json("/api/platforms").await;
    assert_eq!(list["count"], 0);
}

async fn unknown_and_malformed_ids(app: TestApp) {
    let unknown = "/api/platforms/0190a0a0-0000-7000-8000-000000000000";
    assert_eq!(app.get_json(unknown).await.0, 404);
    assert_eq!(app.send_json(Method::PATCH, unknown, json!({"name": "x"})).await.0, 404);
    let (status, body) = app.get_json("/api/platforms/not-a-uuid").await;
    assert_eq!(status, 400);
    assert_eq!(body["error"]["fields"][0]["field"], "id");
    let (status, body) = app.get_json("/api/nothing-here").await;
    assert_eq!(status, 404);
    assert_eq!(body["error"]["code"], "not_found");
}

async fn rejects_every_invalid_field_naming_it(app: TestApp) {
    let cases = [
        (json!({}), "name", "is required"),
        (json!({"name": "   "}), "name", "is required"),
        (json!({"name": "n".repeat(101)}), "name", "at most 100"),
        (json!({"name": "a", "category": "games"}), "category", "unknown category"),
        (json!({"name": "a", "auth_type": "magic"}), "auth_type", "unknown auth type"),
        (json!({"name": "a", "status": "on"}), "status", "unknown status"),
        (json!({"name": "a", "description": "d".repeat(2001)}), "description", "at most 2000"),
        (json!({"name": "a", "icon_url": "javascript:alert(1)"}), "icon_url", "https://"),
        (json!({"name": "a", "base_url": "https://exa mple.com"}), "base_url", "spaces"),
        (json!({"name": "a", "metadata": [1, 2]}), "metadata", "JSON object"),
        (json!({"name": "a", "metadata": {"x": "y".repeat(17 * 1024)}}), "metadata", "16 KiB"),
    ];
    for (input, field, message) in cases {
        let (status, body) = app.post_json("/api/platforms", input.clone()).await;
        assert_eq!(status, 422, "{input}: {body}");
        let error = &body["error"]["fields"][0];
        assert_eq!(error["field"], field, "{input}: {body}");
        assert!(error["message"].as_str().unwrap().contains(message), "{input}: {body}");
    }
    let (_, list) = app.get_json("/api/platforms").await;
    assert_eq!(list["count"], 0, "nothing invalid was stored");
}

async fn rejects_malformed_json_wrong_types_and_unknown_fields(app: TestApp) {
    let raw = |body: &'static str| {
        app.client.post(app.url("/api/platforms")).header("content-type", "application/json").body(body).send()
    };
    let (status, body) = common::json_of(raw("{\"name\": ").await.unwrap()).await;
    assert_eq!(status, 400);
    assert_eq!(body["error"]["fields"][0]["field"], "body");
    let (status, body) = common::json_of(raw("[1]").await.unwrap()).await;
    assert_eq!((status, body["error"]["fields"][0]["message"].as_str()), (400, Some("must be a JSON object")));
    let (status, body) = app.post_json("/api/platforms", json!({"name": 5})).await;
    assert_eq!(status, 400);
    assert_eq!(body["error"]["fields"][0]["field"], "name");
    assert!(body["error"]["fields"][0]["message"].as_str().unwrap().contains("expected a string"), "{body}");
    let (status, body) = app.post_json("/api/platforms", json!({"name": "a", "metadata": "x", "colour": "red"})).await;
    assert_eq!(status, 400);
    assert_eq!(body["error"]["fields"][0]["field"], "colour");
}

async fn rejects_oversized_bodies_and_non_json_content(app: TestApp) {
    let big = json!({"name": "a", "description": "x".repeat(100 * 1024)});
    let (status, body) = app.post_json("/api/platforms", big).await;
    assert_eq!(status, 413);
    assert_eq!(body["error"]["fields"][0]["field"], "body");
    let response = app.client.post(app.url("/api/platforms")).body("name=a").header("content-type", "application/x-www-form-urlencoded").send().await.unwrap();
    let (status, body) = common::json_of(response).await;
    assert_eq!(status, 415);
    assert_eq!(body["error"]["fields"][0]["field"], "content-type");
}

async fn names_are_unique_ignoring_case(app: TestApp) {
    let first = app.create_platform(json!({"name": "Stripe"})).await;
    let (status, body) = app.post_json("/api/platforms", json!({"name": "stripe"})).await;
    assert_eq!(status, 409);
    assert_eq!(body["error"]["code"], "conflict");
    assert_eq!(body["error"]["fields"][0]["field"], "name");
    let other = app.create_platform(json!({"name": "PayPal"})).await;
    let path = format!("/api/platforms/{}", other["id"].as_str().unwrap());
    let (status, _) = app.send_json(Method::PATCH, &path, json!({"name": "STRIPE"})).await;
    assert_eq!(status, 409);
    let path = format!("/api/platforms/{}", first["id"].as_str().unwrap());
    let (status, _) = app.send_json(Method::PATCH, &path, json!({"name": "stripe"})).await;
    assert_eq!(status, 200, "renaming a platform to a different case of its own name");
}

async fn readiness_checks_the_database(app: TestApp) {
    assert_eq!(app.get("/healthz").await.status(), 200);
    assert_eq!(app.get("/readyz").await.status(), 200);
    app.db.close().await;
    assert_eq!(app.get("/readyz").await.status(), 503);
    assert_eq!(app.get("/healthz").await.status(), 200, "the process is still up");
}
