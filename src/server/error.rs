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

/// Runs a server function body and, when it fails, answers with the error's own status
/// (422, 404, …) instead of server_fn's blanket 500. Plain HTML form posts are left alone:
/// they are answered with a redirect that carries the error back to the form.
pub async fn respond<T>(body: impl std::future::Future<Output = Result<T, AppError>>) -> Result<T, AppError> {
    use leptos::prelude::use_context;
    let result = body.await;
    if let (Err(error), Some(parts), Some(response)) = (
        &result,
        use_context::<axum::http::request::Parts>(),
        use_context::<leptos_axum::ResponseOptions>(),
    ) {
        let accepts_html = parts
            .headers
            .get(axum::http::header::ACCEPT)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.contains("text/html"));
        if !accepts_html {
            response.set_status(status_of(error));
        }
    }
    result
}
