//! Text the database cannot hold is refused at the door. PostgreSQL's `text` has no NUL
//! character, so a value carrying one failed deep inside a query as a 500 (found by the
//! form fuzzer: `list_audit` with `actor=%00`). Every query string and every form or JSON
//! body is checked once, before any handler, and answered 400 with the field named, in
//! the shape the caller reads: a server function's error (or, for a plain form post, the
//! redirect back that leptos makes), or the JSON API's.

use super::json_api::ApiError;
use crate::domain::AppError;
use axum::{
    body::{to_bytes, Body},
    extract::Request,
    http::{header, request::Parts, HeaderValue, Method, StatusCode},
    middleware::Next,
    response::{IntoResponse, Response},
};
use leptos::server_fn::error::{FromServerFnError, ServerFnUrlError, SERVER_FN_ERROR_HEADER};
use serde_json::Value;
use std::{collections::HashSet, sync::OnceLock};

/// The largest body read for the check, larger ones are refused (413): no server function
/// takes more than a form of text, the JSON API no more than its extractors accept.
const MAX_BODY: usize = 2 * 1024 * 1024;

pub async fn refuse_nul(req: Request, next: Next) -> Response {
    let query_field = req.uri().query().and_then(|q| form_field_with_nul(q.as_bytes()));
    let kind = req.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).map(str::to_ascii_lowercase).unwrap_or_default();
    let has_body = matches!(*req.method(), Method::POST | Method::PUT | Method::PATCH | Method::DELETE);
    let (form, json) = (kind.starts_with("application/x-www-form-urlencoded"), kind.starts_with("application/json"));
    // An import is checked entry by entry (`server::import`), so one bad entry is a
    // problem in its report, and its file is not held twice in memory.
    let streamed = req.uri().path() == "/api/imports";
    if query_field.is_none() && !(has_body && (form || json) && !streamed) {
        return next.run(req).await;
    }
    let (parts, body) = req.into_parts();
    if let Some(field) = query_field {
        return refusal(&parts, &field);
    }
    let Ok(bytes) = to_bytes(body, MAX_BODY).await else {
        let message = format!("the body is larger than {} MiB", MAX_BODY / 1024 / 1024);
        return ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, AppError::invalid("body", message)).into_response();
    };
    let field = if form { form_field_with_nul(&bytes) } else { serde_json::from_slice::<Value>(&bytes).ok().and_then(|v| json_field_with_nul(&v, "")) };
    match field {
        Some(field) => refusal(&parts, &field),
        None => next.run(Request::from_parts(parts, Body::from(bytes))).await,
    }
}

/// The first form field whose name or value holds a NUL.
fn form_field_with_nul(form: &[u8]) -> Option<String> {
    url::form_urlencoded::parse(form).find(|(k, v)| k.contains('\0') || v.contains('\0')).map(|(k, _)| k.replace('\0', "\\0"))
}

/// The JSON Pointer of the first string (or key) holding a NUL.
pub(crate) fn json_field_with_nul(value: &Value, at: &str) -> Option<String> {
    match value {
        Value::String(s) if s.contains('\0') => Some(if at.is_empty() { "body".into() } else { at.trim_start_matches('/').to_owned() }),
        Value::Array(items) => items.iter().enumerate().find_map(|(i, v)| json_field_with_nul(v, &format!("{at}/{i}"))),
        Value::Object(map) => map.iter().find_map(|(k, v)| if k.contains('\0') { Some(k.replace('\0', "\\0")) } else { json_field_with_nul(v, &format!("{at}/{k}")) }),
        _ => None,
    }
}

fn server_fn_paths() -> &'static HashSet<&'static str> {
    static PATHS: OnceLock<HashSet<&'static str>> = OnceLock::new();
    PATHS.get_or_init(|| leptos::server_fn::axum::server_fn_paths().map(|(path, _)| path).collect())
}

fn refusal(parts: &Parts, field: &str) -> Response {
    let field: String = field.chars().take(64).collect();
    let error = AppError::invalid(&field, "contains a NUL character (\\0), which no text may hold");
    let path = parts.uri.path();
    if !server_fn_paths().contains(path) {
        return ApiError::from(error).into_response();
    }
    // A plain HTML form post: back to the page it came from, with the error where leptos
    // puts it (the page's ActionForm shows it as if the function had refused).
    let accepts_html = parts.headers.get(header::ACCEPT).and_then(|v| v.to_str().ok()).is_some_and(|a| a.contains("text/html"));
    let referer = parts.headers.get(header::REFERER).and_then(|v| v.to_str().ok());
    if let (true, Some(referer)) = (accepts_html, referer) {
        if let Ok(url) = ServerFnUrlError::new(path, error.clone()).to_url(referer) {
            if let Ok(location) = HeaderValue::from_str(url.as_str()) {
                return (StatusCode::FOUND, [(header::LOCATION, location)]).into_response();
            }
        }
    }
    let mut response = (StatusCode::BAD_REQUEST, error.ser()).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    if let Ok(path) = HeaderValue::from_str(path) {
        headers.insert(SERVER_FN_ERROR_HEADER, path);
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_field_holding_a_nul_is_named() {
        assert_eq!(form_field_with_nul(b"a=1&actor=x%00y"), Some("actor".into()));
        assert_eq!(form_field_with_nul(b"a=1&b=2"), None);
        assert_eq!(form_field_with_nul(b"%00=1"), Some("\\0".into()));
        let json = serde_json::json!({"name": "ok", "tags": ["a", "b\u{0}"]});
        assert_eq!(json_field_with_nul(&json, ""), Some("tags/1".into()));
        assert_eq!(json_field_with_nul(&serde_json::json!("\u{0}"), ""), Some("body".into()));
        assert_eq!(json_field_with_nul(&serde_json::json!({"a": [1, {"b": "c"}]}), ""), None);
    }
}
