//! The JSON API for automation and QA, shaped like the Medusa plugin's:
//! `GET/POST /api/platforms`, `GET/PATCH/DELETE /api/platforms/{id}`, and the posts
//! (`posts`). Every failure is a
//! JSON body `{"error": {"code", "message", …}}`, never a bare 500.

mod imports;
mod keys;
mod media;
pub mod openapi;
mod posts;

use super::{auth::Caller, error::status_of, oauth, platforms, secrets, state::AppState, store::{self, StoreError}};
use crate::domain::{parse_id, Account, AppError, Credentials, FieldErrors, OauthSettings, OauthSettingsForm, OauthView, ListParams, Platform, PlatformDraft, PlatformQuery, Role, SecretField, User};
use uuid::Uuid;
use secrecy::SecretString;
use axum::{
    body::{to_bytes, Body},
    extract::{rejection::QueryRejection, FromRequestParts, Path, Query, State},
    http::request::Parts,
    http::{header, HeaderMap, StatusCode},
    response::{IntoResponse, Response},
    Json, Router,
};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, OpenApi, ToSchema};
use utoipa_axum::{router::OpenApiRouter, routes};
use serde_json::{Map, Value};

/// Largest request body accepted; a platform is a few KiB at most.
pub const BODY_LIMIT: usize = 64 * 1024;

/// The routes, behind the layer that resolves API tokens (they open these and nothing else).
/// Each is registered with its description (`routes!` reads the handler's
/// `#[utoipa::path]`), so the OpenAPI document lists exactly the routes that exist.
pub fn routes(state: &AppState) -> Router<AppState> {
    let (router, document) = OpenApiRouter::with_openapi(openapi::ApiDoc::openapi())
        .routes(routes!(list, create))
        .routes(routes!(show, update, remove))
        .routes(routes!(show_credentials))
        .routes(routes!(put_secret, delete_secret))
        .routes(routes!(show_oauth, put_oauth))
        .routes(routes!(list_accounts))
        .routes(routes!(disconnect_account))
        .routes(routes!(ensure_token))
        .merge(posts::routes())
        .merge(media::routes(state))
        .merge(imports::routes())
        .merge(keys::routes())
        .routes(routes!(openapi::document_json))
        .routes(routes!(openapi::document_page))
        .split_for_parts();
    router
        .route_layer(axum::middleware::from_fn_with_state(state.clone(), super::auth::middleware::api_token))
        .layer(axum::Extension(openapi::Document::new(document)))
        .fallback(|| async { ApiError::new(StatusCode::NOT_FOUND, AppError::not_found("API route")) })
}

/// An [`AppError`] with the HTTP status it is answered with.
pub struct ApiError {
    status: StatusCode,
    error: AppError,
}

impl ApiError {
    pub(crate) fn new(status: StatusCode, error: AppError) -> Self {
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
        (self.status, Json(openapi::ErrorBody::new(self.error))).into_response()
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

/// The list's filters (each one of its wire names; empty means any), search, order and page.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct ListQuery {
    #[param(schema_with = openapi::or_empty::<crate::domain::Category>)]
    category: Option<String>,
    #[param(schema_with = openapi::or_empty::<crate::domain::Status>)]
    status: Option<String>,
    #[param(schema_with = openapi::or_empty::<crate::domain::EncryptionState>)]
    encryption: Option<String>,
    /// Text the name or description contains, case-insensitive (at most 100 characters).
    q: Option<String>,
    /// The order: by name unless a search is given, then newest first (`added`).
    #[param(schema_with = openapi::or_empty::<crate::domain::PlatformSort>)]
    sort: Option<String>,
    /// A page's `next_cursor` or `prev_cursor`, as given; absent for the first page.
    cursor: Option<String>,
    /// Rows per page, 1 to 500 (default 50).
    limit: Option<String>,
}

/// One page of platforms: `count` on this page, `total` matching the filters and search
/// on all pages (a search counts up to 1,000: `total_capped` says there are more, an
/// answer a server keeps for 10 seconds), and the cursors of the pages on either side
/// (absent at either end).
#[derive(Serialize, ToSchema)]
struct PlatformList {
    platforms: Vec<Platform>,
    count: usize,
    total: i64,
    total_capped: bool,
    next_cursor: Option<String>,
    prev_cursor: Option<String>,
}

#[derive(Serialize, ToSchema)]
struct PlatformBody {
    platform: Platform,
}

/// Which secrets a platform holds and under which key: never a value.
#[derive(Serialize, ToSchema)]
struct CredentialsBody {
    credentials: Credentials,
}

#[derive(Serialize, ToSchema)]
struct OauthBody {
    oauth: OauthView,
}

#[derive(Serialize, ToSchema)]
struct SettingsBody {
    settings: OauthSettings,
}

#[derive(Serialize, ToSchema)]
struct AccountList {
    accounts: Vec<Account>,
}

/// The account after the check: `usable` is always true here (a token that cannot be made
/// usable is an error answer).
#[derive(Serialize, ToSchema)]
struct TokenCheck {
    usable: bool,
    account: Account,
}

/// A page of the platforms that match the filters and search, in the order asked for.
#[utoipa::path(get, operation_id = "list_platforms", path = "/platforms", tag = "platforms", params(ListQuery), responses((status = 200, description = "The platforms that match", body = PlatformList)))]
async fn list(_: Member, State(state): State<AppState>, query: Result<Query<ListQuery>, QueryRejection>) -> ApiResult<Json<PlatformList>> {
    let Query(q) = query.map_err(|e| ApiError::bad_request("query", e.body_text()))?;
    let params = ListParams { category: q.category, status: q.status, encryption: q.encryption, q: q.q, sort: q.sort, cursor: q.cursor, limit: q.limit };
    let query = PlatformQuery::parse(&params).map_err(|fields| ApiError::new(StatusCode::BAD_REQUEST, fields.into()))?;
    // A cursor is a query value: one the server cannot read is a bad request, like the rest.
    let list = platforms::list(&state, &query).await.map_err(|e| match e {
        e @ AppError::Invalid { .. } => ApiError::new(StatusCode::BAD_REQUEST, e),
        e => e.into(),
    })?;
    Ok(Json(PlatformList { count: list.platforms.len(), total: list.counts.matching, total_capped: list.counts.capped, platforms: list.platforms, next_cursor: list.next, prev_cursor: list.prev }))
}

/// Adds a platform (admins); every field but `name` has a default.
#[utoipa::path(post, operation_id = "create_platform", path = "/platforms", tag = "platforms", request_body = PlatformDraft, responses(
    (status = 201, description = "Created", body = PlatformBody, links(("show_platform" = (operation_id = "show_platform", parameters(("id" = "$response.body#/platform/id")))), ("update_platform" = (operation_id = "update_platform", parameters(("id" = "$response.body#/platform/id")))), ("delete_platform" = (operation_id = "delete_platform", parameters(("id" = "$response.body#/platform/id")))), ("show_credentials" = (operation_id = "show_credentials", parameters(("id" = "$response.body#/platform/id")))), ("show_oauth" = (operation_id = "show_oauth", parameters(("id" = "$response.body#/platform/id")))), ("set_oauth" = (operation_id = "set_oauth", parameters(("id" = "$response.body#/platform/id")))), ("list_accounts" = (operation_id = "list_accounts", parameters(("id" = "$response.body#/platform/id")))), ("set_secret" = (operation_id = "set_secret", parameters(("id" = "$response.body#/platform/id")))), ("delete_secret" = (operation_id = "delete_secret", parameters(("id" = "$response.body#/platform/id")))))),
    (status = 409, description = "A platform has this name already", body = openapi::ErrorBody),
))]
async fn create(Admin(_, caller): Admin, State(state): State<AppState>, headers: HeaderMap, body: Body) -> ApiResult<(StatusCode, Json<PlatformBody>)> {
    let object = read_json_object(&headers, body).await?;
    let draft: PlatformDraft = parse_body(object)?;
    let platform = platforms::create(&state.db, &caller, draft.validate()?).await?;
    Ok((StatusCode::CREATED, platform_json(platform)))
}

/// One platform.
#[utoipa::path(get, operation_id = "show_platform", path = "/platforms/{id}", tag = "platforms", params(("id" = Uuid, Path, description = "The platform's id")), responses((status = 200, description = "The platform", body = PlatformBody)))]
async fn show(_: Member, State(state): State<AppState>, Path(id): Path<String>) -> ApiResult<Json<PlatformBody>> {
    let id = platform_id(&id)?;
    Ok(platform_json(platforms::get(&state.db, &state.keyring, id).await?))
}

/// Applies the fields present in the body to the stored platform; `null` clears an optional
/// field. The merged result is checked by the same rules as a new platform.
#[utoipa::path(patch, operation_id = "update_platform", path = "/platforms/{id}", tag = "platforms", params(("id" = Uuid, Path, description = "The platform's id")), request_body = PlatformDraft, responses(
    (status = 200, description = "The platform as changed", body = PlatformBody),
    (status = 409, description = "Another platform has this name", body = openapi::ErrorBody),
))]
async fn update(
    Admin(_, caller): Admin,
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> ApiResult<Json<PlatformBody>> {
    let id = platform_id(&id)?;
    let patch = read_json_object(&headers, body).await?;
    let current = platforms::get(&state.db, &state.keyring, id).await?;
    let Value::Object(mut merged) = serde_json::to_value(PlatformDraft::from(&current)).map_err(|e| ApiError::from(super::error::internal(e)))? else {
        unreachable!("a struct serializes to an object")
    };
    merged.extend(patch);
    let draft: PlatformDraft = parse_body(merged)?;
    Ok(platform_json(platforms::update(&state.db, &state.keyring, &caller, id, draft.validate()?).await?))
}

/// Deletes a platform with its secrets and accounts (admins).
#[utoipa::path(delete, operation_id = "delete_platform", path = "/platforms/{id}", tag = "platforms", params(("id" = Uuid, Path, description = "The platform's id")), responses((status = 204, description = "Deleted")))]
async fn remove(Admin(_, caller): Admin, State(state): State<AppState>, Path(id): Path<String>) -> ApiResult<StatusCode> {
    let id = platform_id(&id)?;
    platforms::delete(&state, &caller, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Which secrets the platform holds, under which key version, and whether each decrypts
/// (admins). Never a value.
#[utoipa::path(get, operation_id = "show_credentials", path = "/platforms/{id}/credentials", tag = "secrets", params(("id" = Uuid, Path, description = "The platform's id")), responses((status = 200, description = "The credentials' status", body = CredentialsBody)))]
async fn show_credentials(_: Admin, State(state): State<AppState>, Path(id): Path<String>) -> ApiResult<Json<CredentialsBody>> {
    let id = platform_id(&id)?;
    platforms::get(&state.db, &state.keyring, id).await?;
    let credentials = secrets::credentials(&state.db, &state.keyring, id).await?;
    Ok(Json(CredentialsBody { credentials }))
}

/// A platform's OAuth settings, redirect URI and connection (never a token).
#[utoipa::path(get, operation_id = "show_oauth", path = "/platforms/{id}/oauth", tag = "oauth", params(("id" = Uuid, Path, description = "The platform's id")), responses(
    (status = 200, description = "Its OAuth settings and accounts", body = OauthBody),
    (status = 422, description = "The platform does not use OAuth 2.0 (field `auth_type`)", body = openapi::ErrorBody),
))]
async fn show_oauth(_: Member, State(state): State<AppState>, Path(id): Path<String>) -> ApiResult<Json<OauthBody>> {
    let id = platform_id(&id)?;
    let platform = platforms::get(&state.db, &state.keyring, id).await?;
    let oauth = oauth::view(&state, &platform).await?.ok_or_else(|| AppError::invalid("auth_type", "this platform does not use OAuth 2.0"))?;
    Ok(Json(OauthBody { oauth }))
}

/// Sets the platform's OAuth client settings (admins): the catalog provider and any
/// overrides. The client secret is a secret (`PUT …/secrets/client_secret`).
#[utoipa::path(put, operation_id = "set_oauth", path = "/platforms/{id}/oauth", tag = "oauth", params(("id" = Uuid, Path, description = "The platform's id")), request_body = OauthSettingsForm, responses((status = 200, description = "The settings as stored", body = SettingsBody)))]
async fn put_oauth(Admin(_, caller): Admin, State(state): State<AppState>, Path(id): Path<String>, headers: HeaderMap, body: Body) -> ApiResult<Json<SettingsBody>> {
    let id = platform_id(&id)?;
    let form: OauthSettingsForm = parse_body(read_json_object(&headers, body).await?)?;
    let platform = platforms::get(&state.db, &state.keyring, id).await?;
    let settings = oauth::save_settings(&state, &caller, &platform, form).await?;
    Ok(Json(SettingsBody { settings }))
}

/// The platform's connected accounts (never a token).
#[utoipa::path(get, operation_id = "list_accounts", path = "/platforms/{id}/accounts", tag = "accounts", params(("id" = Uuid, Path, description = "The platform's id")), responses((status = 200, description = "Its accounts", body = AccountList)))]
async fn list_accounts(_: Member, State(state): State<AppState>, Path(id): Path<String>) -> ApiResult<Json<AccountList>> {
    let id = platform_id(&id)?;
    platforms::get(&state.db, &state.keyring, id).await?;
    Ok(Json(AccountList { accounts: store::accounts::list(&state.db, id).await? }))
}

/// One account of the platform, 404 when it is not the platform's.
async fn account_of(state: &AppState, platform: Uuid, account: &str) -> ApiResult<Account> {
    let missing = || ApiError::from(AppError::not_found(format!("account {account} of platform {platform}")));
    let id: Uuid = account.parse().map_err(|_| missing())?;
    let row = store::accounts::get(&state.db, id).await?;
    row.map(|r| r.account).filter(|a| a.platform_id == platform).ok_or_else(missing)
}

/// Disconnects one account: revokes its grant at the provider where it can, then forgets
/// its tokens. The revocation's outcome is in the audit log.
#[utoipa::path(delete, operation_id = "disconnect_account", path = "/platforms/{id}/accounts/{account}", tag = "accounts", params(
    ("id" = Uuid, Path, description = "The platform's id"),
    ("account" = Uuid, Path, description = "The account's id"),
), responses((status = 204, description = "Disconnected")))]
async fn disconnect_account(Member(_, caller): Member, State(state): State<AppState>, Path((id, account)): Path<(String, String)>) -> ApiResult<StatusCode> {
    let id = platform_id(&id)?;
    let platform = platforms::get(&state.db, &state.keyring, id).await?;
    let account = account_of(&state, id, &account).await?;
    let _revoked = oauth::disconnect(&state, &caller, &platform, &account).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Makes sure the account has a usable access token, refreshing it if it expires soon —
/// what a publish does first (admins). Answers with the account, never the token.
#[utoipa::path(post, operation_id = "ensure_token", path = "/platforms/{id}/accounts/{account}/token", tag = "accounts", params(
    ("id" = Uuid, Path, description = "The platform's id"),
    ("account" = Uuid, Path, description = "The account's id"),
), responses(
    (status = 200, description = "The token is usable", body = TokenCheck),
    (status = 503, description = "No usable token: the account is not connected, or the provider refused or failed the refresh (the message says which)", body = openapi::ErrorBody),
))]
async fn ensure_token(_: Admin, State(state): State<AppState>, Path((id, account)): Path<(String, String)>) -> ApiResult<Json<TokenCheck>> {
    let id = platform_id(&id)?;
    platforms::get(&state.db, &state.keyring, id).await?;
    let account = account_of(&state, id, &account).await?;
    let result = oauth::tokens::access_token(&state, account.id).await;
    let account = account_of(&state, id, &account.id.to_string()).await?;
    match result {
        Ok(_) => Ok(Json(TokenCheck { usable: true, account })),
        Err(e) => Err(AppError::from(e).into()),
    }
}

/// The body of `PUT /api/platforms/{id}/secrets/{field}`. The value is wrapped at once and
/// never echoed back.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct SecretInput {
    #[schema(value_type = String, format = Password)]
    value: SecretString,
    /// The user name, for basic auth.
    username: Option<String>,
}

/// Sets or replaces one secret (admins); answers with the credentials' status, never the value.
#[utoipa::path(put, operation_id = "set_secret", path = "/platforms/{id}/secrets/{field}", tag = "secrets", params(
    ("id" = Uuid, Path, description = "The platform's id"),
    ("field" = SecretField, Path, description = "Which secret"),
), request_body = SecretInput, responses((status = 200, description = "Stored, encrypted", body = CredentialsBody)))]
async fn put_secret(
    Admin(_, caller): Admin,
    State(state): State<AppState>,
    Path((id, field)): Path<(String, String)>,
    headers: HeaderMap,
    body: Body,
) -> ApiResult<Json<CredentialsBody>> {
    let id = platform_id(&id)?;
    let field: SecretField = field.parse().map_err(|m: String| ApiError::bad_request("field", m))?;
    let input: SecretInput = parse_body(read_json_object(&headers, body).await?)?;
    let platform = platforms::get(&state.db, &state.keyring, id).await?;
    secrets::set_typed(&state.db, &state.keyring, &caller, &platform, field, &input.value, input.username.as_deref()).await?;
    let credentials = secrets::credentials(&state.db, &state.keyring, id).await?;
    Ok(Json(CredentialsBody { credentials }))
}

/// Deletes one secret (admins).
#[utoipa::path(delete, operation_id = "delete_secret", path = "/platforms/{id}/secrets/{field}", tag = "secrets", params(
    ("id" = Uuid, Path, description = "The platform's id"),
    ("field" = SecretField, Path, description = "Which secret"),
), responses((status = 204, description = "Deleted")))]
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

fn platform_json(platform: Platform) -> Json<PlatformBody> {
    Json(PlatformBody { platform })
}

/// A platform id from the path; a malformed one is a 400, an unknown one a 404 later.
fn platform_id(id: &str) -> ApiResult<Uuid> {
    parse_id(id, "platform").map_err(|error| ApiError::new(StatusCode::BAD_REQUEST, error))
}

/// 415 without a JSON content type (which also keeps plain cross-site form posts out).
fn require_json(headers: &HeaderMap) -> ApiResult<()> {
    let content_type = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or_default();
    let mime = content_type.split(';').next().unwrap_or_default().trim();
    match mime.eq_ignore_ascii_case("application/json") || mime.ends_with("+json") {
        true => Ok(()),
        false => Err(ApiError::new(StatusCode::UNSUPPORTED_MEDIA_TYPE, AppError::invalid("content-type", "must be application/json"))),
    }
}

/// Reads the body as a JSON object: 415 without a JSON content type (which also keeps plain
/// cross-site form posts out), 413 over [`BODY_LIMIT`], 400 when it is not a JSON object.
async fn read_json_object(headers: &HeaderMap, body: Body) -> ApiResult<Map<String, Value>> {
    require_json(headers)?;
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
