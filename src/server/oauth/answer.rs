//! What the OAuth routes answer: a way back to the platform page with a notice, a redirect
//! (to the provider, or to sign in), or — when a callback cannot go on — a small page that
//! says why and loads nothing from anywhere else. Handlers return `Result<Answer, Answer>`
//! so that every early exit is a `?`.

use crate::server::error::internal;
use axum::{
    http::StatusCode,
    response::{Html, IntoResponse, Redirect, Response},
};
use std::fmt::Display;
use uuid::Uuid;

pub enum Answer {
    /// Back to the platform page with a notice that says what happened.
    Back { platform_id: Uuid, notice: &'static str },
    /// Somewhere else: the provider's authorization page, or sign-in.
    Redirect(String),
    /// A page saying why the request cannot go on, with a link back.
    Page { status: StatusCode, title: &'static str, message: String, platform_id: Option<Uuid> },
}

pub type Answered = Result<Answer, Answer>;

impl Answer {
    pub fn back(platform_id: Uuid, notice: &'static str) -> Self {
        Self::Back { platform_id, notice }
    }

    pub fn page(status: StatusCode, title: &'static str, message: impl Into<String>, platform_id: Option<Uuid>) -> Self {
        Self::Page { status, title, message: message.into(), platform_id }
    }

    /// Something failed on our side: logged under a reference the page shows.
    pub fn internal(cause: impl Display, platform_id: Option<Uuid>) -> Self {
        Self::page(StatusCode::INTERNAL_SERVER_ERROR, "Something went wrong", internal(cause).to_string(), platform_id)
    }
}

impl IntoResponse for Answer {
    fn into_response(self) -> Response {
        match self {
            Self::Back { platform_id, notice } => Redirect::to(&format!("/platforms/{platform_id}?notice={notice}")).into_response(),
            Self::Redirect(to) => Redirect::to(&to).into_response(),
            Self::Page { status, title, message, platform_id } => {
                let back = platform_id.map_or_else(|| "/platforms".to_owned(), |id| format!("/platforms/{id}"));
                let html = format!(
                    "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{title} — Keyport</title>\
                     <meta name=\"viewport\" content=\"width=device-width\"><style>body{{font:16px system-ui,sans-serif;max-width:36rem;margin:4rem auto;padding:0 1rem;color:#1f2933}}\
                     a{{color:#2457c5}}</style></head><body><main><h1>{title}</h1><p>{message}</p>\
                     <p><a href=\"{back}\">Back to the platform</a></p></main></body></html>",
                    title = html_escape::encode_quoted_attribute(title),
                    message = html_escape::encode_quoted_attribute(&message),
                );
                (status, Html(html)).into_response()
            }
        }
    }
}
