//! The JSON API's OpenAPI 3.1 document. Each route is registered together with its
//! description (`utoipa_axum::routes!` reads the handler's `#[utoipa::path]`), so the
//! document lists exactly the routes that exist; the schemas are the types the handlers
//! read and write. [`complete`] adds what every operation shares — the `/api` prefix, the
//! token, and the answers of the guards in front of each handler — and the document is
//! served as JSON (`/api/openapi.json`) and as a page of our own (`/api/docs`: no assets
//! fetched from anywhere).

use crate::domain::AppError;
use axum::{response::Html, Extension, Json};
use serde::Serialize;
use serde_json::Value;
use std::{fmt::Write, sync::Arc};
use utoipa::{
    openapi::{
        path::Operation,
        schema::{KnownFormat, ObjectBuilder, OneOfBuilder, Schema, SchemaFormat, Type},
        security::{HttpAuthScheme, HttpBuilder, SecurityRequirement, SecurityScheme},
        ContentBuilder, OpenApi as Spec, Ref, RefOr, ResponseBuilder,
    },
    OpenApi, ToSchema,
};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Keyport API",
        description = "Platforms, their encrypted secrets and OAuth connections, posts and media. \
            Send a personal API token (profile page) as `Authorization: Bearer kp_…`; it acts with its \
            user's role, and a read-only token may only read. Secrets go in and never come out. \
            Every failure is `{\"error\": {\"code\", \"message\", …}}`.",
    ),
    tags(
        (name = "platforms", description = "Integrations: what they are, their status and encryption badge"),
        (name = "secrets", description = "A platform's secrets: set, replace or delete them; see which key protects each (never a value)"),
        (name = "oauth", description = "A platform's OAuth client settings and its connection"),
        (name = "accounts", description = "The accounts connected under a platform"),
        (name = "posts", description = "Posts and their deliveries, as the composer makes them"),
        (name = "media", description = "Images and video for posts"),
        (name = "import", description = "Platforms exported from the older Medusa-style store"),
        (name = "keys", description = "Data keys (admins): rotate to a new one, retire one nothing uses; a key is never shown"),
        (name = "documentation", description = "This document"),
    ),
)]
pub struct ApiDoc;

/// Every failure's body.
#[derive(Serialize, ToSchema)]
pub struct ErrorBody {
    error: ErrorDetail,
}

/// A failure: `code` says which kind (its other fields follow from it), `message` says it
/// in words a person can act on.
#[derive(Serialize, ToSchema)]
pub struct ErrorDetail {
    #[serde(flatten)]
    error: AppError,
    message: String,
}

impl ErrorBody {
    pub fn new(error: AppError) -> Self {
        Self { error: ErrorDetail { message: error.to_string(), error } }
    }
}

/// The finished document, shared by its two routes.
#[derive(Clone)]
pub struct Document(Arc<(Value, String)>);

impl Document {
    pub fn new(document: Spec) -> Self {
        let mut json = serde_json::to_value(complete(document)).unwrap_or_default();
        camel_case_links(&mut json);
        let page = page(&json);
        Self(Arc::new((json, page)))
    }
}

/// This document.
#[utoipa::path(get, operation_id = "openapi_document", path = "/openapi.json", tag = "documentation", security(()), responses((status = 200, description = "The OpenAPI 3.1 document", content_type = "application/json", body = Object)))]
pub async fn document_json(Extension(document): Extension<Document>) -> Json<Value> {
    Json(document.0 .0.clone())
}

/// This document as a page to read.
#[utoipa::path(get, operation_id = "api_reference", path = "/docs", tag = "documentation", security(()), responses((status = 200, description = "The API's reference", content_type = "text/html", body = String)))]
pub async fn document_page(Extension(document): Extension<Document>) -> Html<String> {
    Html(document.0 .1.clone())
}

/// utoipa 5.5 writes a Link's fields in snake case (`operation_id`); OpenAPI names them
/// `operationId`, `operationRef` and `requestBody`, and tools ignore a link without them.
fn camel_case_links(value: &mut Value) {
    match value {
        Value::Object(map) => {
            if let Some(Value::Object(links)) = map.get_mut("links") {
                for link in links.values_mut().filter_map(Value::as_object_mut) {
                    for (snake, camel) in [("operation_id", "operationId"), ("operation_ref", "operationRef"), ("request_body", "requestBody")] {
                        if let Some(v) = link.remove(snake) {
                            link.insert(camel.to_owned(), v);
                        }
                    }
                }
            }
            map.values_mut().for_each(camel_case_links);
        }
        Value::Array(items) => items.iter_mut().for_each(camel_case_links),
        _ => {}
    }
}

/// A query value as filter forms send it: what `T` allows, or empty for "no filter".
pub fn or_empty<T: utoipa::PartialSchema>() -> Schema {
    or_empty_schema(T::schema())
}

pub fn uuid_or_empty() -> Schema {
    or_empty_schema(ObjectBuilder::new().schema_type(Type::String).format(Some(SchemaFormat::KnownFormat(KnownFormat::Uuid))))
}

pub fn time_or_empty() -> Schema {
    or_empty_schema(ObjectBuilder::new().schema_type(Type::String).format(Some(SchemaFormat::KnownFormat(KnownFormat::DateTime))))
}

pub fn or_empty_schema(schema: impl Into<RefOr<Schema>>) -> Schema {
    OneOfBuilder::new().item(schema).item(ObjectBuilder::new().schema_type(Type::String).max_length(Some(0))).into()
}

/// The answers a guard gives before the handler runs, as shared responses. Which operation
/// has which is decided by rule in [`complete`].
const SHARED: &[(&str, &str, &str)] = &[
    ("400", "BadRequest", "The request cannot be read: a malformed id, query or body (`invalid`, the field named)"),
    ("401", "Unauthorized", "No API token or session, or the token is unknown, revoked or expired (`unauthorized`)"),
    ("403", "Forbidden", "The token's user may not do this (a marketer on an admin route), or the token is read-only (`forbidden`)"),
    ("404", "NotFound", "Nothing has this id (`not_found`)"),
    ("413", "TooLarge", "The body is larger than this route takes (`invalid`, field `body`)"),
    ("415", "NotJson", "The body is not `application/json` (`invalid`, field `content-type`)"),
    ("422", "Invalid", "The input breaks a rule, or a text holds a NUL character; `fields` names each field and its problem (`invalid`)"),
    ("503", "Unavailable", "The database or a provider is unavailable; try again (`unavailable`)"),
];

/// Adds to the collected paths what every operation shares: the `/api` prefix, the bearer
/// token (except where an operation names its own security: the public ones), and the
/// guards' answers — 401 and 403 where a token is needed, 400 and 404 where the path holds
/// an id, 400, 413 and 415 where a body is read, 422 wherever text is read, 503 everywhere
/// a database is.
pub fn complete(mut document: Spec) -> Spec {
    document.paths.paths = std::mem::take(&mut document.paths.paths).into_iter().map(|(path, item)| (format!("/api{path}"), item)).collect();
    for item in document.paths.paths.values_mut() {
        for operation in [&mut item.get, &mut item.put, &mut item.post, &mut item.delete, &mut item.patch].into_iter().flatten() {
            let public = operation.security.is_some();
            let has_id = operation.parameters.as_ref().is_some_and(|p| p.iter().any(|p| p.parameter_in == utoipa::openapi::path::ParameterIn::Path));
            let json_body = operation.request_body.as_ref().is_some_and(|b| b.content.contains_key("application/json"));
            let any_body = operation.request_body.is_some();
            let wanted = [
                ("400", has_id || any_body || operation.parameters.is_some()),
                ("401", !public),
                ("403", !public),
                ("404", has_id),
                ("413", any_body),
                ("415", json_body),
                // Also a NUL in any text read (server::text_input), query or body.
                ("422", any_body || operation.parameters.is_some()),
                ("503", operation.tags.as_ref().is_none_or(|t| !t.iter().any(|t| t == "documentation"))),
            ];
            for (status, name, _) in SHARED {
                if wanted.iter().any(|(s, want)| s == status && *want) {
                    add(operation, status, name);
                }
            }
        }
    }
    let components = document.components.get_or_insert_with(Default::default);
    components.add_security_scheme(
        "token",
        SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).bearer_format("kp_…").description(Some("A personal API token, from the profile page")).build()),
    );
    for (_, name, description) in SHARED {
        let body = ContentBuilder::new().schema(Some(Ref::from_schema_name("ErrorBody"))).build();
        components.responses.insert((*name).to_owned(), RefOr::T(ResponseBuilder::new().description(*description).content("application/json", body).build()));
    }
    document.security = Some(vec![SecurityRequirement::new("token", Vec::<String>::new())]);
    document
}

/// The operation's own description of a status wins over the shared one.
fn add(operation: &mut Operation, status: &str, name: &str) {
    operation.responses.responses.entry(status.to_owned()).or_insert_with(|| RefOr::Ref(Ref::from_response_name(name)));
}

fn esc(text: &str) -> std::borrow::Cow<'_, str> {
    html_escape::encode_quoted_attribute(text)
}

/// The document as one self-contained page: each operation with its parameters, body and
/// answers, then each schema with its fields; types link to their schema.
fn page(doc: &Value) -> String {
    let mut html = String::new();
    let title = doc["info"]["title"].as_str().unwrap_or("API");
    let _ = write!(
        html,
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{t}</title><style>{STYLE}</style></head><body><main><h1>{t} <small>{v}</small></h1><p>{d}</p>\
         <p><a href=\"/api/openapi.json\">The OpenAPI 3.1 document</a> · <a href=\"/platforms\">Back to Keyport</a></p>",
        t = esc(title),
        v = esc(doc["info"]["version"].as_str().unwrap_or_default()),
        d = esc(doc["info"]["description"].as_str().unwrap_or_default()),
    );
    let operations = operations(doc);
    html.push_str("<nav aria-label=\"Operations\">");
    for (i, (tag, method, path, op)) in operations.iter().enumerate() {
        if i == 0 || operations[i - 1].0 != *tag {
            let _ = write!(html, "{}<h2 class=\"tag\">{}</h2><ul>", if i == 0 { "" } else { "</ul>" }, esc(tag));
        }
        let _ = write!(html, "<li><a href=\"#{id}\"><code class=\"m {m}\">{M}</code> <code>{p}</code></a> {s}</li>", id = esc(op_id(op)), m = method, M = method.to_uppercase(), p = esc(path), s = esc(op["summary"].as_str().unwrap_or_default()));
    }
    html.push_str("</ul></nav>");
    for (i, (tag, method, path, op)) in operations.iter().enumerate() {
        if i == 0 || operations[i - 1].0 != *tag {
            let about = doc["tags"].as_array().into_iter().flatten().find(|t| t["name"] == *tag).and_then(|t| t["description"].as_str()).unwrap_or_default();
            let _ = write!(html, "<h2 class=\"tag\">{}</h2><p>{}</p>", esc(tag), esc(about));
        }
        let _ = write!(html, "<section id=\"{id}\"><h3><code class=\"m {method}\">{M}</code> <code>{p}</code></h3>", id = esc(op_id(op)), M = method.to_uppercase(), p = esc(path));
        for key in ["summary", "description"] {
            if let Some(text) = op[key].as_str() {
                let _ = write!(html, "<p>{}</p>", esc(text));
            }
        }
        if op["security"].is_array() {
            html.push_str("<p><em>Public: no token needed.</em></p>");
        }
        if let Some(params) = op["parameters"].as_array() {
            html.push_str("<h4>Parameters</h4><table><tr><th>Name</th><th>In</th><th>Type</th><th>Description</th></tr>");
            for p in params {
                let required = if p["required"].as_bool() == Some(true) { " <em>required</em>" } else { "" };
                let _ = write!(html, "<tr><td><code>{}</code>{required}</td><td>{}</td><td>{}</td><td>{}</td></tr>", esc(p["name"].as_str().unwrap_or_default()), esc(p["in"].as_str().unwrap_or_default()), type_of(&p["schema"]), esc(p["description"].as_str().unwrap_or_default()));
            }
            html.push_str("</table>");
        }
        if let Some(content) = op["requestBody"]["content"].as_object() {
            html.push_str("<h4>Body</h4><ul>");
            for (media, body) in content {
                let _ = write!(html, "<li><code>{}</code>: {}</li>", esc(media), type_of(&body["schema"]));
            }
            html.push_str("</ul>");
        }
        html.push_str("<h4>Answers</h4><table><tr><th>Status</th><th>Meaning</th><th>Body</th></tr>");
        for (status, response) in op["responses"].as_object().into_iter().flatten() {
            let response = resolve(doc, response);
            let bodies: Vec<String> = response["content"].as_object().into_iter().flatten().map(|(media, body)| format!("<code>{}</code> {}", esc(media), type_of(&body["schema"]))).collect();
            let _ = write!(html, "<tr><td>{}</td><td>{}</td><td>{}</td></tr>", esc(status), esc(response["description"].as_str().unwrap_or_default()), bodies.join("<br>"));
        }
        html.push_str("</table></section>");
    }
    html.push_str("<h2 class=\"tag\">Schemas</h2>");
    for (name, schema) in doc["components"]["schemas"].as_object().into_iter().flatten() {
        let _ = write!(html, "<section id=\"schema-{n}\"><h3>{n}</h3>", n = esc(name));
        if let Some(text) = schema["description"].as_str() {
            let _ = write!(html, "<p>{}</p>", esc(text));
        }
        match schema["properties"].as_object() {
            Some(properties) => {
                let required: Vec<&str> = schema["required"].as_array().into_iter().flatten().filter_map(Value::as_str).collect();
                html.push_str("<table><tr><th>Field</th><th>Type</th><th>Description</th></tr>");
                for (field, property) in properties {
                    let mark = if required.contains(&field.as_str()) { " <em>required</em>" } else { "" };
                    let _ = write!(html, "<tr><td><code>{}</code>{mark}</td><td>{}</td><td>{}</td></tr>", esc(field), type_of(property), esc(property["description"].as_str().unwrap_or_default()));
                }
                html.push_str("</table>");
            }
            None => {
                let _ = write!(html, "<p>{}</p>", type_of(schema));
            }
        }
        html.push_str("</section>");
    }
    html.push_str("</main></body></html>");
    html
}

/// Every operation with its tag and method, grouped by tag in the document's order, in
/// path order within a tag.
fn operations(doc: &Value) -> Vec<(&str, &'static str, &str, &Value)> {
    let mut all = Vec::new();
    for tag in doc["tags"].as_array().into_iter().flatten().filter_map(|t| t["name"].as_str()) {
        for (path, item) in doc["paths"].as_object().into_iter().flatten() {
            for method in ["get", "post", "put", "patch", "delete"] {
                let op = &item[method];
                if op["tags"].as_array().is_some_and(|t| t.first().and_then(Value::as_str) == Some(tag)) {
                    all.push((tag, method, path.as_str(), op));
                }
            }
        }
    }
    all
}

fn op_id(op: &Value) -> &str {
    op["operationId"].as_str().unwrap_or_default()
}

/// A shared response in place of its reference.
fn resolve<'a>(doc: &'a Value, response: &'a Value) -> &'a Value {
    match response["$ref"].as_str().and_then(|r| r.strip_prefix("#/components/responses/")) {
        Some(name) => &doc["components"]["responses"][name],
        None => response,
    }
}

/// A schema in a few words: a link to a named schema, `array of …`, a list of values, or
/// the JSON type (with its format).
fn type_of(schema: &Value) -> String {
    if let Some(name) = schema["$ref"].as_str().and_then(|r| r.rsplit('/').next()) {
        return format!("<a href=\"#schema-{n}\">{n}</a>", n = esc(name));
    }
    for combinator in ["oneOf", "anyOf", "allOf"] {
        if let Some(options) = schema[combinator].as_array() {
            let joiner = if combinator == "allOf" { " and " } else { " or " };
            return options.iter().map(type_of).collect::<Vec<_>>().join(joiner);
        }
    }
    if let Some(values) = schema["enum"].as_array() {
        return values.iter().map(|v| format!("<code>{}</code>", esc(&v.to_string()))).collect::<Vec<_>>().join(" | ");
    }
    let types: Vec<&str> = match &schema["type"] {
        Value::String(t) => vec![t.as_str()],
        Value::Array(ts) => ts.iter().filter_map(Value::as_str).collect(),
        _ => vec![],
    };
    let mut words: Vec<String> = types
        .iter()
        .map(|t| match *t {
            "array" => format!("array of {}", type_of(&schema["items"])),
            "null" => "null".to_owned(),
            t => match schema["format"].as_str() {
                Some(format) => format!("{} ({})", esc(t), esc(format)),
                None => esc(t).into_owned(),
            },
        })
        .collect();
    if words.is_empty() {
        words.push("any".into());
    }
    words.join(" or ")
}

const STYLE: &str = "body{font:15px/1.5 system-ui,sans-serif;color:#1f2933;margin:0;background:#f7f8fa}\
main{max-width:960px;margin:0 auto;padding:1.5rem}section{background:#fff;border:1px solid #dde1e6;border-radius:8px;padding:0.5rem 1rem;margin:1rem 0}\
table{border-collapse:collapse;width:100%}th,td{text-align:left;vertical-align:top;padding:0.3rem 0.5rem;border-bottom:1px solid #eceef1}\
code{font-family:ui-monospace,monospace;font-size:0.92em}.m{font-weight:700;text-transform:uppercase}.get{color:#0b6e4f}.post{color:#1d4ed8}\
.put,.patch{color:#9a5b00}.delete{color:#b42318}nav ul{list-style:none;padding:0}h2.tag{margin-top:2rem;text-transform:capitalize}a{color:#1d4ed8}small{color:#52606d;font-weight:400}";
