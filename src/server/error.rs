//! Turning server-side failures into the [`AppError`] a user may see: one wording per
//! failure, and the cause of anything unexpected goes to the log once, under a reference
//! the user can quote.

use super::store::{StoreError, Unique};
use crate::domain::{AppError, FieldErrors};
use std::fmt::Display;

/// Logs `cause` with a fresh reference and returns the error the user sees.
pub fn internal(cause: impl Display) -> AppError {
    let reference = uuid::Uuid::now_v7().simple().to_string()[20..].to_owned();
    tracing::error!(%reference, error = %cause, "internal error");
    AppError::Internal { reference }
}

/// The HTTP status of `error`, as axum wants it.
pub fn status_of(error: &AppError) -> axum::http::StatusCode {
    axum::http::StatusCode::from_u16(error.status()).unwrap_or(axum::http::StatusCode::INTERNAL_SERVER_ERROR)
}

impl From<StoreError> for AppError {
    fn from(e: StoreError) -> Self {
        let conflict = |field: &str, message: &str| AppError::Conflict { fields: FieldErrors::single(field, message) };
        match e {
            StoreError::Duplicate(Unique::PlatformName) => conflict("name", "another platform already has this name (names are unique, ignoring case)"),
            StoreError::Duplicate(Unique::UserEmail) => conflict("email", "another user has this email"),
            StoreError::Duplicate(Unique::ActiveRotation) => conflict("job", "a re-encryption is already running or paused: resume or wait for it"),
            StoreError::Duplicate(Unique::InstanceClient) => conflict("instance", "an app was registered on this instance at the same moment: try again"),
            StoreError::Duplicate(Unique::ActiveKey) => conflict("key", "another rotation made a new key at the same moment: it is the active key now"),
            StoreError::LastAdmin => conflict("role", "this is the last active admin: make another user admin first"),
            StoreError::MissingPlatform => AppError::not_found("the platform"),
            StoreError::KeyExhausted { version } => AppError::Unavailable {
                message: format!(
                    "key version {version} has made 2^31 encryptions, the safe limit: rotate to a new data key \
                     (keys panel, Rotate now) before encrypting more secrets"
                ),
            },
            StoreError::KeyRetired { version } => AppError::Unavailable {
                message: format!("key version {version} was just retired and this server had not yet seen the new key: try again in a few seconds"),
            },
            StoreError::Corrupt(_) | StoreError::Database(_) => internal(e),
        }
    }
}

impl From<tower_sessions::session::Error> for AppError {
    fn from(e: tower_sessions::session::Error) -> Self {
        internal(format!("session store: {e}"))
    }
}
