//! `/api/keys` (admins): the data keys, Rotate and Retire, as the keys panel has them.

use super::{openapi::ErrorBody, parse_body, read_json_object, Admin, ApiError, ApiResult};
use crate::{
    domain::{parse_key_version, AppError, KeyPanel, RotationJob},
    server::{keys, rotation, state::AppState},
};
use axum::{
    body::Body,
    extract::{Path, State},
    http::{header, HeaderMap, StatusCode},
    Json,
};
use serde::Deserialize;
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(show_keys)).routes(routes!(rotate_key)).routes(routes!(retire_key))
}

/// The data keys (never a key), the root key's source, the latest re-encryption and the next step.
#[utoipa::path(get, operation_id = "show_keys", path = "/keys", tag = "keys", responses((status = 200, description = "The keys panel", body = KeyPanel)))]
async fn show_keys(_: Admin, State(state): State<AppState>) -> ApiResult<Json<KeyPanel>> {
    Ok(Json(rotation::panel(&state).await?))
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct RotateInput {
    /// The active version the caller saw: when another rotation happened since, nothing
    /// is rotated (409), so a repeated request makes one key, not two.
    #[schema(minimum = 1)]
    from: Option<u32>,
}

/// Makes a new random data key the active one (every instance uses it within seconds, no
/// restart) and starts re-encrypting every secret to it. The body is optional.
#[utoipa::path(post, operation_id = "rotate_key", path = "/keys/rotate", tag = "keys", request_body = Option<RotateInput>, responses(
    (status = 201, description = "Rotated: the re-encryption job to the new key", body = RotationJob),
    (status = 409, description = "`from` is no longer the active key, or another rotation made a key at the same moment", body = ErrorBody),
))]
async fn rotate_key(Admin(_, caller): Admin, State(state): State<AppState>, headers: HeaderMap, body: Body) -> ApiResult<(StatusCode, Json<RotationJob>)> {
    let input: RotateInput = match headers.contains_key(header::CONTENT_TYPE) {
        true => parse_body(read_json_object(&headers, body).await?)?,
        false => RotateInput::default(),
    };
    Ok((StatusCode::CREATED, Json(keys::rotate(&state, &caller, input.from).await?)))
}

/// Erases a decrypt-only data key that no secret uses (its row stays, its version is never reused).
#[utoipa::path(post, operation_id = "retire_key", path = "/keys/{version}/retire", tag = "keys",
    params(("version" = u32, Path, description = "The key version (`keys status` shows `v2` for 2)", minimum = 1)),
    responses(
        (status = 204, description = "Retired"),
        (status = 400, description = "The version is not a whole number", body = ErrorBody),
        (status = 404, description = "No such key, or retired already", body = ErrorBody),
        (status = 409, description = "It is the active key, or secrets still use it", body = ErrorBody),
    ))]
async fn retire_key(Admin(_, caller): Admin, State(state): State<AppState>, Path(version): Path<String>) -> ApiResult<StatusCode> {
    let version = parse_key_version(&version).ok_or_else(|| ApiError::new(StatusCode::BAD_REQUEST, AppError::invalid("version", "must be a key version such as 2")))?;
    keys::retire(&state, &caller, version).await?;
    Ok(StatusCode::NO_CONTENT)
}
