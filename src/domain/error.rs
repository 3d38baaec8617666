//! The one error type a user may see, from a server function or the JSON API. Each
//! variant is safe to show: internal causes stay in the server log under `reference`.

use leptos::server_fn::{
    codec::JsonEncoding,
    error::{FromServerFnError, ServerFnErrorErr},
};
use serde::{Deserialize, Serialize};
use std::fmt;

/// A problem with one input field, named as the API and forms name it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

/// Every problem found in one input, so a form can show them all at once.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(transparent)]
pub struct FieldErrors(pub Vec<FieldError>);

impl FieldErrors {
    pub fn single(field: &str, message: impl Into<String>) -> Self {
        let mut errors = Self::default();
        errors.add(field, message);
        errors
    }

    pub fn add(&mut self, field: &str, message: impl Into<String>) {
        self.0.push(FieldError { field: field.to_owned(), message: message.into() });
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The message for `field`, if it has one.
    pub fn get(&self, field: &str) -> Option<&str> {
        self.0.iter().find(|e| e.field == field).map(|e| e.message.as_str())
    }

    /// `Ok(value)` when no problem was recorded.
    pub fn into_result<T>(self, value: T) -> Result<T, Self> {
        if self.is_empty() {
            Ok(value)
        } else {
            Err(self)
        }
    }
}

impl fmt::Display for FieldErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, e) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str("; ")?;
            }
            write!(f, "{}: {}", e.field, e.message)?;
        }
        Ok(())
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(tag = "code", rename_all = "snake_case")]
pub enum AppError {
    /// The input breaks a rule; each field says which.
    #[error("{fields}")]
    Invalid { fields: FieldErrors },
    /// The input is valid but clashes with what is stored (for example a duplicate name).
    #[error("{fields}")]
    Conflict { fields: FieldErrors },
    #[error("{what} was not found")]
    NotFound { what: String },
    #[error("please sign in")]
    Unauthorized,
    #[error("{message}")]
    Forbidden { message: String },
    #[error("{message}")]
    Unavailable { message: String },
    /// What the request names existed once and is no longer usable (an expired or used link).
    #[error("{message}")]
    Gone { message: String },
    /// Too many attempts from this caller (sign-in throttling): wait, then try again.
    #[error("{message}")]
    TooManyRequests { message: String },
    /// Something failed on the server; the log has the details under this reference.
    #[error("something went wrong on the server (reference {reference})")]
    Internal { reference: String },
    /// The request never reached the server function or its answer could not be read.
    #[error("the request failed: {message}")]
    Transport { message: String },
}

impl AppError {
    pub fn invalid(field: &str, message: impl Into<String>) -> Self {
        Self::Invalid { fields: FieldErrors::single(field, message) }
    }

    pub fn not_found(what: impl Into<String>) -> Self {
        Self::NotFound { what: what.into() }
    }

    /// The HTTP status that answers this error, for the JSON API, server functions and
    /// server-rendered pages alike.
    pub fn status(&self) -> u16 {
        match self {
            Self::Invalid { .. } => 422,
            Self::Conflict { .. } => 409,
            Self::NotFound { .. } => 404,
            Self::Unauthorized => 401,
            Self::Forbidden { .. } => 403,
            Self::Unavailable { .. } => 503,
            Self::Gone { .. } => 410,
            Self::TooManyRequests { .. } => 429,
            Self::Internal { .. } => 500,
            Self::Transport { .. } => 502,
        }
    }

    /// The field errors carried by this error, if any, for showing next to form inputs.
    pub fn fields(&self) -> Option<&FieldErrors> {
        match self {
            Self::Invalid { fields } | Self::Conflict { fields } => Some(fields),
            _ => None,
        }
    }
}

impl From<FieldErrors> for AppError {
    fn from(fields: FieldErrors) -> Self {
        Self::Invalid { fields }
    }
}

/// What an undecodable request's error keeps of serde's field name and message.
const ARGS_FIELD_MAX: usize = 64;
const ARGS_MESSAGE_MAX: usize = 300;

impl FromServerFnError for AppError {
    type Encoder = JsonEncoding;

    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        match value {
            // Arguments that do not decode are the caller's mistake, not ours; serde names
            // the field it missed or could not read between backticks. Its message may quote
            // the input: cut, so a 70 KB value is not echoed back (leptos also carries the
            // error in a response header, which a long one would break into a bare 500).
            ServerFnErrorErr::Args(message) => {
                let field: String = message.split('`').nth(1).filter(|f| !f.is_empty()).unwrap_or("request").chars().take(ARGS_FIELD_MAX).collect();
                Self::invalid(&field, message.chars().take(ARGS_MESSAGE_MAX).collect::<String>())
            }
            other => Self::Transport { message: other.to_string() },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_undecodable_request_is_named_without_echoing_it_whole() {
        let long = format!("could not convert Sequence([Flat(\"{}\")])", "x".repeat(70_000));
        let AppError::Invalid { fields } = AppError::from_server_fn_error(ServerFnErrorErr::Args(long)) else { panic!("not a 400") };
        assert!(fields.get("request").is_some_and(|m| m.chars().count() == ARGS_MESSAGE_MAX), "{fields}");
    }

    #[test]
    fn field_errors_display_every_field() {
        let mut e = FieldErrors::default();
        e.add("name", "must not be empty");
        e.add("category", "unknown category");
        assert_eq!(e.to_string(), "name: must not be empty; category: unknown category");
        assert_eq!(e.get("category"), Some("unknown category"));
        assert_eq!(e.get("status"), None);
    }

    #[test]
    fn app_error_serializes_with_a_code() {
        let e = AppError::invalid("name", "must not be empty");
        let json = serde_json::to_value(&e).unwrap();
        assert_eq!(json["code"], "invalid");
        assert_eq!(json["fields"][0]["field"], "name");
        let back: AppError = serde_json::from_value(json).unwrap();
        assert_eq!(back, e);
    }
}
