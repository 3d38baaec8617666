//! The one entry of every server function: who may call it, then its body with the state
//! and the caller. A failure answers with its own status (422, 404, …) instead of
//! server_fn's blanket 500; plain HTML form posts are left to the redirect that carries the
//! error back to the form.

use crate::{
    domain::{AppError, Role, User},
    server::{
        auth::Caller,
        error::{internal, status_of},
        state::AppState,
    },
};
use axum::http::{header::ACCEPT, request::Parts};
use leptos::prelude::use_context;
use std::future::Future;

/// Who may call a server function.
#[derive(Clone, Copy, Debug)]
pub enum Access {
    /// Signing in, first-run set-up: no session needed.
    Anyone,
    /// A signed-in, enabled user with at least this role (admins may do everything).
    Role(Role),
}

impl From<Role> for Access {
    fn from(role: Role) -> Self {
        Self::Role(role)
    }
}

/// What a server function's body works with.
pub struct Cx {
    pub state: AppState,
    pub caller: Caller,
}

impl Cx {
    /// The signed-in user (every role-guarded function has one).
    pub fn user(&self) -> Result<&User, AppError> {
        self.caller.user.as_ref().ok_or(AppError::Unauthorized)
    }

    /// The request's session, for signing in and out.
    pub async fn session(&self) -> Result<tower_sessions::Session, AppError> {
        leptos_axum::extract().await.map_err(internal)
    }
}

/// Checks `access`, then runs `body`; see the module docs for what a failure answers.
pub async fn guarded<T, Fut>(access: impl Into<Access>, body: impl FnOnce(Cx) -> Fut) -> Result<T, AppError>
where
    Fut: Future<Output = Result<T, AppError>>,
{
    let parts = use_context::<Parts>();
    let caller = parts.as_ref().and_then(|p| p.extensions.get::<Caller>().cloned()).unwrap_or_default();
    let result = async {
        if let Access::Role(role) = access.into() {
            caller.require(role)?;
        }
        let state = use_context::<AppState>().ok_or_else(|| internal("AppState missing from the server function context"))?;
        body(Cx { state, caller }).await
    }
    .await;
    if let (Err(error), Some(parts), Some(response)) = (&result, &parts, use_context::<leptos_axum::ResponseOptions>()) {
        let accepts_html = parts.headers.get(ACCEPT).and_then(|v| v.to_str().ok()).is_some_and(|v| v.contains("text/html"));
        if !accepts_html {
            response.set_status(status_of(error));
        }
    }
    result
}
