//! Turning server-side failures into the [`AppError`] a user may see: the cause goes to the
//! log once, under a reference the user can quote.

use crate::domain::AppError;
use std::fmt::Display;

/// Logs `cause` with a fresh reference and returns the error the user sees.
pub fn internal(cause: impl Display) -> AppError {
    let reference = uuid::Uuid::now_v7().simple().to_string()[20..].to_owned();
    tracing::error!(%reference, error = %cause, "internal error");
    AppError::Internal { reference }
}

/// The HTTP status that answers `error`, for the JSON API and server-rendered pages alike.
pub fn status_of(error: &AppError) -> axum::http::StatusCode {
    use axum::http::StatusCode;
    match error {
        AppError::Invalid { .. } => StatusCode::UNPROCESSABLE_ENTITY,
        AppError::Conflict { .. } => StatusCode::CONFLICT,
        AppError::NotFound { .. } => StatusCode::NOT_FOUND,
        AppError::Unauthorized => StatusCode::UNAUTHORIZED,
        AppError::Forbidden { .. } => StatusCode::FORBIDDEN,
        AppError::Unavailable { .. } => StatusCode::SERVICE_UNAVAILABLE,
        AppError::Internal { .. } => StatusCode::INTERNAL_SERVER_ERROR,
        AppError::Transport { .. } => StatusCode::BAD_GATEWAY,
    }
}
