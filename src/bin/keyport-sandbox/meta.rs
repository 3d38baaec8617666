//! The Meta personality: Facebook Login and the Graph API's Page paths and shapes under
//! `/meta/{version}/…`, so a Facebook Pages platform whose endpoints point here connects
//! and publishes exactly as against graph.facebook.com.
//!
//! - `GET|POST /meta/{v}/dialog/oauth`: the login dialog (comma-separated permissions, no
//!   PKCE; the user names their Pages and may decline permissions)
//!   https://developers.facebook.com/docs/facebook-login/guides/advanced/manual-flow
//! - `GET|POST /meta/{v}/oauth/access_token`: the code exchange, and
//!   `grant_type=fb_exchange_token` for a long-lived (about 60 days) user token
//!   https://developers.facebook.com/docs/facebook-login/guides/access-tokens/get-long-lived
//! - `GET /meta/{v}/me`, `/me/permissions` (granted and declined),
//!   https://developers.facebook.com/docs/graph-api/reference/user/permissions/
//! - `GET /meta/{v}/me/accounts`: the Pages the user manages with their Page access
//!   tokens, paged with `limit` / `after` cursors and `paging.next`
//!   https://developers.facebook.com/docs/graph-api/reference/user/accounts/
//! - `GET /meta/{v}/me/businesses` (needs `business_management`), `/{business}/owned_pages`
//!   and `/{business}/client_pages`: Pages held through a business portfolio, listed
//!   without tokens; `GET /{page}?fields=access_token` gives a Page's token
//!   https://developers.facebook.com/docs/graph-api/reference/business/owned_pages/
//! - `POST /meta/{v}/{page}/feed` with the Page's token: `{"id": "{page}_{post}"}`;
//!   `attached_media` `[{"media_fbid"}]` names unpublished photos of the Page
//! - `POST /meta/{v}/{page}/photos` `url`, `message` with the Page's token: the photo
//!   fetched from the URL, a post → `{"id", "post_id"}`; with `published=false` the photo
//!   alone → `{"id"}`, for a feed post to attach; `alt_text_custom` is the photo's alt text
//!   https://developers.facebook.com/docs/pages-api/posts,
//!   https://developers.facebook.com/docs/graph-api/reference/page/photos/
//! - `POST /meta/{v}/{page}/videos` `file_url`, `description`: the video fetched from the
//!   URL, a post that is the video → `{"id"}`
//!   https://developers.facebook.com/docs/graph-api/reference/page/videos/
//!
//! Errors are Meta's: `{"error": {"message", "type": "OAuthException", "code",
//! "error_subcode", "fbtrace_id"}}` (190: invalid token; 200: permissions; 100: parameter).
//! https://developers.facebook.com/docs/graph-api/guides/error-handling

use crate::authorize::{consent_page, decision, Dialect};
use crate::faults::Endpoint;
use crate::oauth::parse_form;
use crate::posts::{validate_text, PostOutcome};
use crate::reply::bearer_token;
use crate::state::AppState;
use crate::store::{MetaPage, TokenError, UserView};
use crate::urlenc::{parse_params, Params};
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{header, HeaderMap, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};
use std::time::Instant;

/// The most Pages one page of a list holds (Graph API edges cap `limit` too).
const MAX_LIMIT: usize = 100;
const DEFAULT_LIMIT: usize = 25;
/// The most photos one feed post attaches here (Meta's pages state no number; the
/// catalog's Facebook limit is the same).
const ATTACHED_MAX: usize = 10;

pub fn graph_error(status: StatusCode, code: u32, subcode: Option<u32>, message: &str) -> Response {
    let mut error = json!({ "message": message, "type": "OAuthException", "code": code, "fbtrace_id": uuid::Uuid::now_v7().simple().to_string() });
    if let Some(subcode) = subcode {
        error["error_subcode"] = subcode.into();
    }
    (status, Json(json!({ "error": error }))).into_response()
}

fn invalid_token() -> Response {
    graph_error(StatusCode::BAD_REQUEST, 190, None, "Invalid OAuth 2.0 Access Token")
}

fn permission_error(message: &str) -> Response {
    graph_error(StatusCode::FORBIDDEN, 200, None, &format!("(#200) {message}"))
}

fn unknown_object(id: &str) -> Response {
    let message = format!("Unsupported get request. Object with ID '{id}' does not exist, cannot be loaded due to missing permissions, or does not support this operation");
    graph_error(StatusCode::BAD_REQUEST, 100, Some(33), &message)
}

/// A Graph API version segment: `v` and two numbers (`v25.0`).
fn is_version(version: &str) -> bool {
    version.strip_prefix('v').and_then(|v| v.split_once('.')).is_some_and(|(a, b)| {
        !a.is_empty() && !b.is_empty() && a.bytes().chain(b.bytes()).all(|c| c.is_ascii_digit())
    })
}

/// The access token of a Graph request: `Authorization: Bearer|OAuth …` or `access_token`.
pub fn token_of<'a>(headers: &'a HeaderMap, query: &'a Params) -> Option<&'a str> {
    let oauth = headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()).and_then(|v| v.strip_prefix("OAuth ")).map(str::trim);
    bearer_token(headers).or(oauth).or_else(|| query.get("access_token"))
}

/// A GET's query and the user behind its token, or Meta's refusal.
fn user_of(app: &AppState, headers: &HeaderMap, query: Option<&str>) -> Result<(Params, UserView), Response> {
    let query = parse_params(query.unwrap_or_default()).map_err(|_| graph_error(StatusCode::BAD_REQUEST, 100, None, "(#100) Malformed query string"))?;
    let user = token_of(headers, &query).and_then(|t| app.store().user_for_access_token(t, Instant::now())).ok_or_else(invalid_token)?;
    Ok((query, user))
}

fn fields_of(query: &Params) -> Vec<String> {
    query.get("fields").unwrap_or("id,name").split(',').map(|f| f.trim().to_owned()).collect()
}

/// `/meta/{version}/{node}`.
pub async fn node(State(app): State<AppState>, Path((version, node)): Path<(String, String)>, RawQuery(query): RawQuery, headers: HeaderMap) -> Response {
    if !is_version(&version) {
        return unknown_object(&version);
    }
    let (query, user) = match user_of(&app, &headers, query.as_deref()) {
        Ok(found) => found,
        Err(refusal) => return refusal,
    };
    if node == "me" {
        return Json(json!({ "id": user.account.id, "name": user.account.name })).into_response();
    }
    // A Page the user manages, read with the user's token: its own token on request.
    let Some(page) = user.meta.pages.iter().find(|p| p.account.id == node) else {
        return unknown_object(&node);
    };
    Json(page_node(&app, &version, page, &fields_of(&query))).into_response()
}

/// `/meta/{version}/{node}/{edge}`, every method.
pub async fn edge(
    State(app): State<AppState>,
    Path((version, node, edge)): Path<(String, String, String)>,
    method: Method,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if !is_version(&version) {
        return unknown_object(&version);
    }
    match (method, node.as_str(), edge.as_str()) {
        (Method::GET, "dialog", "oauth") => consent_page(&app, query.as_deref(), Dialect::Meta, &format!("/meta/{version}/dialog/oauth")).await,
        (Method::POST, "dialog", "oauth") => decision(&app, &body, Dialect::Meta).await,
        (Method::GET, "oauth", "access_token") => access_token(&app, query.as_deref().unwrap_or_default().as_bytes()).await,
        (Method::POST, "oauth", "access_token") => access_token(&app, &body).await,
        (Method::POST, page, "feed") => feed(&app, page, &headers, query.as_deref(), &body).await,
        (Method::POST, page, "photos") => photos(&app, page, &headers, query.as_deref(), &body).await,
        (Method::POST, page, "videos") => videos(&app, page, &headers, query.as_deref(), &body).await,
        (Method::GET, _, _) => match user_of(&app, &headers, query.as_deref()) {
            Ok((query, user)) => read_edge(&app, &version, &node, &edge, &user, &query),
            Err(refusal) => refusal,
        },
        _ => unknown_object(&node),
    }
}

fn read_edge(app: &AppState, version: &str, node: &str, edge: &str, user: &UserView, query: &Params) -> Response {
    let granted = |p: &str| user.scope.split_ascii_whitespace().any(|s| s == p);
    let business = &user.meta.business;
    match (node, edge) {
        ("me", "permissions") => {
            let requested = user.scope.split_ascii_whitespace().map(|p| (p, "granted")).chain(user.meta.declined.iter().map(|p| (p.as_str(), "declined")));
            let data: Vec<Value> = requested.map(|(permission, status)| json!({ "permission": permission, "status": status })).collect();
            Json(json!({ "data": data })).into_response()
        }
        ("me", "accounts") if !granted("pages_show_list") => permission_error("Requires pages_show_list permission"),
        ("me", "accounts") => {
            let pages: Vec<&MetaPage> = user.meta.pages.iter().filter(|p| !p.business).collect();
            paged(app, version, "me/accounts", &pages, query, true)
        }
        ("me", "businesses") if !granted("business_management") => permission_error("Requires business_management permission to manage the object"),
        ("me", "businesses") => {
            let has_pages = user.meta.pages.iter().any(|p| p.business);
            let data: Vec<Value> = has_pages.then(|| json!({ "id": business.id, "name": business.name })).into_iter().collect();
            Json(json!({ "data": data })).into_response()
        }
        (id, "owned_pages" | "client_pages") if id == business.id && granted("business_management") => {
            let pages: Vec<&MetaPage> = if edge == "owned_pages" { user.meta.pages.iter().filter(|p| p.business).collect() } else { Vec::new() };
            paged(app, version, &format!("{id}/{edge}"), &pages, query, false)
        }
        _ => unknown_object(node),
    }
}

/// One page of a list of Pages, Meta's way: `data`, `paging.cursors` and `paging.next`
/// while more remain. `tokens`: whether the list may carry Page access tokens.
fn paged(app: &AppState, version: &str, path: &str, pages: &[&MetaPage], query: &Params, tokens: bool) -> Response {
    let limit = query.get("limit").and_then(|l| l.parse::<usize>().ok()).unwrap_or(DEFAULT_LIMIT).clamp(1, MAX_LIMIT);
    let start = query.get("after").and_then(|c| c.strip_prefix('c')).and_then(|c| c.parse::<usize>().ok()).unwrap_or(0).min(pages.len());
    let end = start.saturating_add(limit).min(pages.len());
    let mut fields = fields_of(query);
    if !tokens {
        fields.retain(|f| f != "access_token");
    }
    let data: Vec<Value> = pages.get(start..end).unwrap_or_default().iter().map(|p| page_node(app, version, p, &fields)).collect();
    let mut paging = json!({ "cursors": { "before": format!("c{start}"), "after": format!("c{end}") } });
    if end < pages.len() {
        let fields = query.get("fields").unwrap_or("id,name");
        paging["next"] = crate::urlenc::append_query(&format!("{}/meta/{version}/{path}", app.base_url), &[("fields", fields), ("limit", &limit.to_string()), ("after", &format!("c{end}"))]).into();
    }
    Json(json!({ "data": data, "paging": paging })).into_response()
}

fn page_node(app: &AppState, version: &str, page: &MetaPage, fields: &[String]) -> Value {
    let mut node = json!({ "id": page.account.id });
    for field in fields {
        match field.as_str() {
            "name" => node["name"] = page.account.name.clone().into(),
            "access_token" => node["access_token"] = page.token.clone().into(),
            "category" => node["category"] = "Local business".into(),
            "tasks" => node["tasks"] = json!(["ADVERTISE", "ANALYZE", "CREATE_CONTENT", "MESSAGING", "MODERATE", "MANAGE"]),
            f if f.starts_with("picture") => {
                node["picture"] = json!({ "data": { "url": format!("{}/meta/{version}/{}/picture", app.base_url, page.account.id), "is_silhouette": false } });
            }
            _ => {}
        }
    }
    node
}

/// `oauth/access_token`: the code exchange, or `fb_exchange_token`. The client
/// authenticates with `client_id` and `client_secret` as parameters, as Meta documents.
async fn access_token(app: &AppState, params: &[u8]) -> Response {
    if let Some(response) = app.injected_fault(Endpoint::Token).await {
        return response;
    }
    app.store().counters.token_requests += 1;
    let params = match parse_form(params) {
        Ok(params) => params,
        Err(_) => return graph_error(StatusCode::BAD_REQUEST, 100, None, "(#100) Malformed parameters"),
    };
    let (Some(client_id), Some(secret)) = (params.get("client_id"), params.get("client_secret")) else {
        return graph_error(StatusCode::BAD_REQUEST, 101, None, "Missing client_id parameter.");
    };
    let mut store = app.store();
    if !store.authenticate_client(client_id, secret) {
        return graph_error(StatusCode::BAD_REQUEST, 1, None, "Error validating client secret.");
    }
    let now = Instant::now();
    let result = match params.get("grant_type") {
        Some("fb_exchange_token") => match params.get("fb_exchange_token") {
            Some(token) => store.exchange_long_lived(client_id, token, now),
            None => return graph_error(StatusCode::BAD_REQUEST, 100, None, "Missing fb_exchange_token parameter."),
        },
        None | Some("authorization_code") => match (params.get("code"), params.get("redirect_uri")) {
            (Some(code), Some(redirect_uri)) => store.exchange_code(client_id, code, redirect_uri, params.get("code_verifier"), now),
            _ => return graph_error(StatusCode::BAD_REQUEST, 100, None, "Missing code or redirect_uri parameter."),
        },
        Some(_) => return graph_error(StatusCode::BAD_REQUEST, 100, None, "Unsupported grant_type."),
    };
    drop(store);
    match result {
        Ok(tokens) => Json(json!({ "access_token": tokens.access_token, "token_type": "bearer", "expires_in": tokens.expires_in })).into_response(),
        Err(TokenError::InvalidGrant(reason) | TokenError::InvalidScope(reason)) => {
            tracing::info!(%client_id, reason, "Meta token request refused");
            graph_error(StatusCode::BAD_REQUEST, 100, Some(36007), &format!("Error validating verification code: {reason}"))
        }
    }
}

/// `POST /{page}/feed`: a post on the Page whose token it is.
async fn feed(app: &AppState, page_id: &str, headers: &HeaderMap, query: Option<&str>, body: &[u8]) -> Response {
    if let Some(response) = app.injected_fault(Endpoint::Posts).await {
        return response;
    }
    let query = parse_params(query.unwrap_or_default()).unwrap_or_default();
    let Some(token) = token_of(headers, &query).map(str::to_owned) else { return invalid_token() };
    let json = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).is_some_and(|v| v.starts_with("application/json"));
    // `attached_media` is a JSON array in a JSON body, its JSON text in a form.
    let (message, link, attached) = if json {
        let value: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
        let text = |k: &str| value.get(k).and_then(Value::as_str).map(str::to_owned);
        (text("message"), text("link"), value.get("attached_media").cloned())
    } else {
        match parse_form(body) {
            Ok(params) => {
                let attached = params.get("attached_media").map(|a| serde_json::from_str(a).unwrap_or(Value::Null));
                (params.get("message").map(str::to_owned), params.get("link").map(str::to_owned), attached)
            }
            Err(_) => return graph_error(StatusCode::BAD_REQUEST, 100, None, "(#100) Malformed body"),
        }
    };
    let mut store = app.store();
    let Some(page) = store.page_for_token(&token).cloned() else {
        // A user token is not a Page token: Meta answers with a permissions error.
        return match store.user_for_access_token(&token, Instant::now()) {
            Some(_) => permission_error("If posting to a page, requires both pages_read_engagement and pages_manage_posts as an admin with sufficient administrative permission"),
            None => invalid_token(),
        };
    };
    if page.id != page_id {
        return permission_error("The Page access token is for another Page");
    }
    let text = message.unwrap_or_default();
    let media = match attached.map(|a| attached_photos(&mut store, &page, &a)).transpose() {
        Ok(media) => media.unwrap_or_default(),
        Err(refusal) => return refusal,
    };
    if text.trim().is_empty() && link.is_none() && media.is_empty() {
        return graph_error(StatusCode::BAD_REQUEST, 100, None, "(#100) Missing message or link parameter");
    }
    // Photos may go without words.
    if media.is_empty() || !text.is_empty() {
        if let Err(why) = validate_text(&text) {
            return graph_error(StatusCode::BAD_REQUEST, 100, None, &format!("(#100) {why}"));
        }
    }
    let id = match store.posts.create(&page, text, link, None, media) {
        PostOutcome::Created(id) | PostOutcome::Replayed(id) => id,
    };
    Json(json!({ "id": format!("{page_id}_{id}") })).into_response()
}

/// `POST /{page}/photos` with `url` (fetched, as Meta does: a JPEG or PNG) and `message`: a
/// published photo post on the Page whose token it is → `{"id", "post_id"}`; with
/// `published=false`, the photo alone → `{"id"}`
/// (https://developers.facebook.com/docs/pages-api/posts, "Publish a Photo").
async fn photos(app: &AppState, page_id: &str, headers: &HeaderMap, query: Option<&str>, body: &[u8]) -> Response {
    let Ok(params) = parse_form(body) else {
        return graph_error(StatusCode::BAD_REQUEST, 100, None, "(#100) Malformed body");
    };
    let unpublished = params.get("published") == Some("false");
    if let Some(response) = app.injected_fault(if unpublished { Endpoint::Media } else { Endpoint::Posts }).await {
        return response;
    }
    let page = match page_of(app, page_id, headers, query) {
        Ok(page) => page,
        Err(refusal) => return refusal,
    };
    let Some(url) = params.get("url") else {
        return graph_error(StatusCode::BAD_REQUEST, 100, None, "(#100) Requires a url or a file to upload");
    };
    let (mime, bytes) = match crate::threads_media::fetch(url, true).await {
        Ok(file) => file,
        Err(why) => return graph_error(StatusCode::BAD_REQUEST, 324, None, &format!("(#324) Requires upload file: {why}")),
    };
    let text = params.get("message").unwrap_or_default().to_owned();
    if let (false, Err(why)) = (unpublished, validate_text(&text)) {
        return graph_error(StatusCode::BAD_REQUEST, 100, None, &format!("(#100) {why}"));
    }
    let mut store = app.store();
    let alt = params.get("alt_text_custom").unwrap_or_default().to_owned();
    let photo = store.media.keep(&page.id, mime.to_owned(), bytes, alt.clone(), std::time::Duration::ZERO);
    // Unpublished: held for a feed post's `attached_media`, no post of its own.
    if unpublished {
        return Json(json!({ "id": photo })).into_response();
    }
    let media = vec![crate::media::Attachment { id: photo.clone(), mime: mime.to_owned(), description: alt }];
    let id = match store.posts.create(&page, text, None, None, media) {
        PostOutcome::Created(id) | PostOutcome::Replayed(id) => id,
    };
    Json(json!({ "id": photo, "post_id": format!("{page_id}_{id}") })).into_response()
}

/// The Page `page_id` whose Page access token the request carries (header or query), or
/// Meta's refusal.
fn page_of(app: &AppState, page_id: &str, headers: &HeaderMap, query: Option<&str>) -> Result<crate::account::Account, Response> {
    let query = parse_params(query.unwrap_or_default()).unwrap_or_default();
    let token = token_of(headers, &query).ok_or_else(invalid_token)?;
    match app.store().page_for_token(token).cloned() {
        Some(page) if page.id == page_id => Ok(page),
        Some(_) => Err(permission_error("The Page access token is for another Page")),
        None => Err(invalid_token()),
    }
}

/// The photos a feed post's `attached_media` names (`[{"media_fbid": id}, …]`), each an
/// unpublished photo of this Page.
fn attached_photos(store: &mut crate::store::Store, page: &crate::account::Account, attached: &Value) -> Result<Vec<crate::media::Attachment>, Response> {
    let malformed = || graph_error(StatusCode::BAD_REQUEST, 100, None, "(#100) param attached_media must be an array of objects with media_fbid");
    let ids: Vec<String> = attached
        .as_array()
        .ok_or_else(malformed)?
        .iter()
        .map(|a| a.get("media_fbid").and_then(Value::as_str).map(str::to_owned).ok_or_else(malformed))
        .collect::<Result<_, _>>()?;
    store.media.attach(page, &ids, ATTACHED_MAX).map_err(|why| graph_error(StatusCode::BAD_REQUEST, 100, None, &format!("(#100) attached_media: {why}")))
}

/// `POST /{page}/videos` with `file_url` (fetched, as Meta does: an MP4) and `description`:
/// a video post on the Page whose token it is → `{"id"}`, the video's id.
async fn videos(app: &AppState, page_id: &str, headers: &HeaderMap, query: Option<&str>, body: &[u8]) -> Response {
    if let Some(response) = app.injected_fault(Endpoint::Posts).await {
        return response;
    }
    let page = match page_of(app, page_id, headers, query) {
        Ok(page) => page,
        Err(refusal) => return refusal,
    };
    let Ok(params) = parse_form(body) else {
        return graph_error(StatusCode::BAD_REQUEST, 100, None, "(#100) Malformed body");
    };
    let Some(url) = params.get("file_url") else {
        return graph_error(StatusCode::BAD_REQUEST, 100, None, "(#100) Requires a file_url or a file to upload");
    };
    let (mime, bytes) = match crate::threads_media::fetch(url, false).await {
        Ok(file) => file,
        Err(why) => return graph_error(StatusCode::BAD_REQUEST, 351, None, &format!("(#351) Sorry, there was a problem with your video file: {why}")),
    };
    let text = params.get("description").unwrap_or_default().to_owned();
    if let Err(why) = validate_text(&text) {
        return graph_error(StatusCode::BAD_REQUEST, 100, None, &format!("(#100) {why}"));
    }
    let mut store = app.store();
    let video = store.media.keep(&page.id, mime.to_owned(), bytes, String::new(), std::time::Duration::ZERO);
    let media = vec![crate::media::Attachment { id: video.clone(), mime: mime.to_owned(), description: String::new() }];
    store.posts.create_as(&video, &page, text, media);
    Json(json!({ "id": video })).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_look_like_metas() {
        assert!(is_version("v25.0"));
        assert!(is_version("v3.10"));
        for bad in ["25.0", "v25", "v.0", "vx.0", "v25.0.1", ""] {
            assert!(!is_version(bad), "{bad}");
        }
    }
}
