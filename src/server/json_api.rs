//! The JSON API for automation and QA, shaped like the Medusa plugin's:
//! `GET/POST /api/platforms`, `GET/PATCH/DELETE /api/platforms/{id}`, and the posts
//! (`posts`). Every failure is a
//! JSON body `{"error": {"code", "message", …}}`, never a bare 500.

mod media;
mod posts;

use super::{auth::Caller, error::status_of, oauth, platforms, secrets, state::AppState, store::{self, StoreError}};
use crate::domain::{parse_id, AppError, FieldErrors, Platform, PlatformDraft, PlatformFilter, Role, SecretField, User};
use uuid::Uuid;
use secrecy::SecretString;
use axum::{
    body::{to_bytes, Body},
    extract::{rejection::QueryRejection, FromRequestParts, Path, Query, State},
    http::request::Parts,
    http::{header, HeaderMap, StatusCode},
    response::{IntoResponse, Response},
    routing::{get, post, put},
    Json, Router,
};
use serde::Deserialize;
use serde_json::{json, Map, Value};

/// Largest request body accepted; a platform is a few KiB at most.
pub const BODY_LIMIT: usize = 64 * 1024;

/// The routes, behind the layer that resolves API tokens (they open these and nothing else).
pub fn routes(state: &AppState) -> Router<AppState> {
    Router::new()
        .route("/platforms", get(list).post(create))
        .route("/platforms/{id}", get(show).patch(update).delete(remove))
        .route("/platforms/{id}/credentials", get(show_credentials))
        .route("/platforms/{id}/secrets/{field}", put(put_secret).delete(delete_secret))
        .route("/platforms/{id}/oauth", get(show_oauth).put(put_oauth))
        .route("/platforms/{id}/accounts", get(list_accounts))
        .route("/platforms/{id}/accounts/{account}", axum::routing::delete(disconnect_account))
        .route("/platforms/{id}/accounts/{account}/token", post(ensure_token))
        .merge(posts::routes())
        .merge(media::routes(state))
        .route_layer(axum::middleware::from_fn_with_state(state.clone(), super::auth::middleware::api_token))
        .fallback(|| async { ApiError::new(StatusCode::NOT_FOUND, AppError::not_found("API route")) })
}

/// An [`AppError`] with the HTTP status it is answered with.
pub struct ApiError {
    status: StatusCode,
    error: AppError,
}

impl ApiError {
    fn new(status: StatusCode, error: AppError) -> Self {
        Self { status, error }
    }

    /// A request that cannot be read at all (bad JSON, wrong types): 400.
    fn bad_request(field: &str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, AppError::invalid(field, message))
    }
}

impl From<AppError> for ApiError {
    fn from(error: AppError) -> Self {
        Self { status: status_of(&error), error }
    }
}

impl From<StoreError> for ApiError {
    fn from(error: StoreError) -> Self {
        AppError::from(error).into()
    }
}

impl From<FieldErrors> for ApiError {
    fn from(fields: FieldErrors) -> Self {
        AppError::from(fields).into()
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut body = serde_json::to_value(&self.error).unwrap_or_else(|_| json!({}));
        if let Value::Object(map) = &mut body {
            map.insert("message".into(), Value::String(self.error.to_string()));
        }
        (self.status, Json(json!({ "error": body }))).into_response()
    }
}

type ApiResult<T> = Result<T, ApiError>;

/// The caller, signed in with any role (401 otherwise).
pub struct Member(pub User, pub Caller);
/// The caller, signed in as an admin (401 or 403 otherwise).
pub struct Admin(pub User, pub Caller);

fn caller_of(parts: &Parts) -> Caller {
    parts.extensions.get::<Caller>().cloned().unwrap_or_default()
}

impl<S: Send + Sync> FromRequestParts<S> for Member {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        let caller = caller_of(parts);
        Ok(Member(caller.require(Role::Marketer)?, caller))
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Admin {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        let caller = caller_of(parts);
        Ok(Admin(caller.require(Role::Admin)?, caller))
    }
}

#[derive(Deserialize)]
struct ListQuery {
    category: Option<String>,
    status: Option<String>,
    encryption: Option<String>,
}

async fn list(_: Member, State(state): State<AppState>, query: Result<Query<ListQuery>, QueryRejection>) -> ApiResult<Json<Value>> {
    let Query(q) = query.map_err(|e| ApiError::bad_request("query", e.body_text()))?;
    let filter = PlatformFilter::parse(q.category.as_deref(), q.status.as_deref(), q.encryption.as_deref())
        .map_err(|fields| ApiError::new(StatusCode::BAD_REQUEST, fields.into()))?;
    let list = platforms::list(&state.db, &state.keyring, filter).await?;
    Ok(Json(json!({ "platforms": list.platforms, "count": list.platforms.len() })))
}

async fn create(Admin(_, caller): Admin, State(state): State<AppState>, headers: HeaderMap, body: Body) -> ApiResult<Response> {
    let object = read_json_object(&headers, body).await?;
    let draft: PlatformDraft = parse_body(object)?;
    let platform = platforms::create(&state.db, &caller, draft.validate()?).await?;
    Ok((StatusCode::CREATED, platform_json(&platform)).into_response())
}

async fn show(_: Member, State(state): State<AppState>, Path(id): Path<String>) -> ApiResult<Json<Value>> {
    let id = platform_id(&id)?;
    Ok(platform_json(&platforms::get(&state.db, &state.keyring, id).await?))
}

/// Applies the fields present in the body to the stored platform; `null` clears an optional
/// field. The merged result is checked by the same rules as a new platform.
async fn update(
    Admin(_, caller): Admin,
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> ApiResult<Json<Value>> {
    let id = platform_id(&id)?;
    let patch = read_json_object(&headers, body).await?;
    let current = platforms::get(&state.db, &state.keyring, id).await?;
    let Value::Object(mut merged) = serde_json::to_value(PlatformDraft::from(&current)).map_err(|e| ApiError::from(super::error::internal(e)))? else {
        unreachable!("a struct serializes to an object")
    };
    merged.extend(patch);
    let draft: PlatformDraft = parse_body(merged)?;
    Ok(platform_json(&platforms::update(&state.db, &state.keyring, &caller, id, draft.validate()?).await?))
}

async fn remove(Admin(_, caller): Admin, State(state): State<AppState>, Path(id): Path<String>) -> ApiResult<StatusCode> {
    let id = platform_id(&id)?;
    platforms::delete(&state, &caller, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn show_credentials(_: Admin, State(state): State<AppState>, Path(id): Path<String>) -> ApiResult<Json<Value>> {
    let id = platform_id(&id)?;
    platforms::get(&state.db, &state.keyring, id).await?;
    let credentials = secrets::credentials(&state.db, &state.keyring, id).await?;
    Ok(Json(json!({ "credentials": credentials })))
}

/// A platform's OAuth settings, redirect URI and connection (never a token).
async fn show_oauth(_: Member, State(state): State<AppState>, Path(id): Path<String>) -> ApiResult<Json<Value>> {
    let id = platform_id(&id)?;
    let platform = platforms::get(&state.db, &state.keyring, id).await?;
    let view = oauth::view(&state, &platform).await?.ok_or_else(|| AppError::invalid("auth_type", "this platform does not use OAuth 2.0"))?;
    Ok(Json(json!({ "oauth": view })))
}

async fn put_oauth(Admin(_, caller): Admin, State(state): State<AppState>, Path(id): Path<String>, headers: HeaderMap, body: Body) -> ApiResult<Json<Value>> {
    let id = platform_id(&id)?;
    let form: crate::domain::OauthSettingsForm = parse_body(read_json_object(&headers, body).await?)?;
    let platform = platforms::get(&state.db, &state.keyring, id).await?;
    let settings = oauth::save_settings(&state, &caller, &platform, form).await?;
    Ok(Json(json!({ "settings": settings })))
}

/// The platform's connected accounts (never a token).
async fn list_accounts(_: Member, State(state): State<AppState>, Path(id): Path<String>) -> ApiResult<Json<Value>> {
    let id = platform_id(&id)?;
    platforms::get(&state.db, &state.keyring, id).await?;
    Ok(Json(json!({ "accounts": store::accounts::list(&state.db, id).await? })))
}

/// One account of the platform, 404 when it is not the platform's.
async fn account_of(state: &AppState, platform: Uuid, account: &str) -> ApiResult<crate::domain::Account> {
    let missing = || ApiError::from(AppError::not_found(format!("account {account} of platform {platform}")));
    let id: Uuid = account.parse().map_err(|_| missing())?;
    let row = store::accounts::get(&state.db, id).await?;
    row.map(|r| r.account).filter(|a| a.platform_id == platform).ok_or_else(missing)
}

/// Disconnects one account: revokes its grant at the provider where it can, then forgets
/// its tokens. 204; the revocation's outcome is in the audit log.
async fn disconnect_account(Member(_, caller): Member, State(state): State<AppState>, Path((id, account)): Path<(String, String)>) -> ApiResult<StatusCode> {
    let id = platform_id(&id)?;
    let platform = platforms::get(&state.db, &state.keyring, id).await?;
    let account = account_of(&state, id, &account).await?;
    let _revoked = oauth::disconnect(&state, &caller, &platform, &account).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Makes sure the account has a usable access token, refreshing it if it expires soon —
/// what a publish does first. Answers with the account, never the token.
async fn ensure_token(_: Admin, State(state): State<AppState>, Path((id, account)): Path<(String, String)>) -> ApiResult<Json<Value>> {
    let id = platform_id(&id)?;
    platforms::get(&state.db, &state.keyring, id).await?;
    let account = account_of(&state, id, &account).await?;
    let result = oauth::tokens::access_token(&state, account.id).await;
    let account = account_of(&state, id, &account.id.to_string()).await?;
    match result {
        Ok(_) => Ok(Json(json!({ "usable": true, "account": account }))),
        Err(e) => Err(AppError::from(e).into()),
    }
}

/// The body of `PUT /api/platforms/{id}/secrets/{field}`. The value is wrapped at once and
/// never echoed back.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SecretInput {
    value: SecretString,
    username: Option<String>,
}

/// Sets or replaces one secret; answers with the credentials' status, never the value.
async fn put_secret(
    Admin(_, caller): Admin,
    State(state): State<AppState>,
    Path((id, field)): Path<(String, String)>,
    headers: HeaderMap,
    body: Body,
) -> ApiResult<Json<Value>> {
    let id = platform_id(&id)?;
    let field: SecretField = field.parse().map_err(|m: String| ApiError::bad_request("field", m))?;
    let input: SecretInput = parse_body(read_json_object(&headers, body).await?)?;
    let platform = platforms::get(&state.db, &state.keyring, id).await?;
    secrets::set_typed(&state.db, &state.keyring, &caller, &platform, field, &input.value, input.username.as_deref()).await?;
    let credentials = secrets::credentials(&state.db, &state.keyring, id).await?;
    Ok(Json(json!({ "credentials": credentials })))
}

async fn delete_secret(
    Admin(_, caller): Admin,
    State(state): State<AppState>,
    Path((id, field)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    let id = platform_id(&id)?;
    let field: SecretField = field.parse().map_err(|m: String| ApiError::bad_request("field", m))?;
    let platform = platforms::get(&state.db, &state.keyring, id).await?;
    secrets::remove_secret(&state.db, &caller, &platform, field).await?;
    Ok(StatusCode::NO_CONTENT)
}

fn platform_json(platform: &Platform) -> Json<Value> {
    Json(json!({ "platform": platform }))
}

/// A platform id from the path; a malformed one is a 400, an unknown one a 404 later.
fn platform_id(id: &str) -> ApiResult<Uuid> {
    parse_id(id, "platform").map_err(|error| ApiError::new(StatusCode::BAD_REQUEST, error))
}

/// Reads the body as a JSON object: 415 without a JSON content type (which also keeps plain
/// cross-site form posts out), 413 over [`BODY_LIMIT`], 400 when it is not a JSON object.
async fn read_json_object(headers: &HeaderMap, body: Body) -> ApiResult<Map<String, Value>> {
    let content_type = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or_default();
    let mime = content_type.split(';').next().unwrap_or_default().trim();
    if !(mime.eq_ignore_ascii_case("application/json") || mime.ends_with("+json")) {
        return Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            AppError::invalid("content-type", "must be application/json"),
        ));
    }
    let bytes = to_bytes(body, BODY_LIMIT).await.map_err(|_| {
        ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            AppError::invalid("body", format!("must be at most {} KiB", BODY_LIMIT / 1024)),
        )
    })?;
    match serde_json::from_slice::<Value>(&bytes) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err(ApiError::bad_request("body", "must be a JSON object")),
        Err(e) => Err(ApiError::bad_request("body", format!("is not valid JSON: {e}"))),
    }
}

/// Deserializes a request body, naming the field whose type is wrong, missing or unknown.
fn parse_body<T: serde::de::DeserializeOwned>(object: Map<String, Value>) -> ApiResult<T> {
    serde_path_to_error::deserialize(Value::Object(object)).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner().to_string();
        let field = match path.as_str() {
            "." | "" => quoted_field_name(&inner).unwrap_or("body").to_owned(),
            p => p.to_owned(),
        };
        let message = inner.split(" at line ").next().unwrap_or(&inner).to_owned();
        ApiError::new(StatusCode::BAD_REQUEST, AppError::Invalid { fields: FieldErrors::single(&field, message) })
    })
}

/// serde reports unknown and missing fields at the parent path; pull the name out of
/// its message ("unknown field `x`", "missing field `x`").
fn quoted_field_name(message: &str) -> Option<&str> {
    message.split_once('`')?.1.split('`').next()
}
