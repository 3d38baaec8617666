//! The caller of a request, as the authentication middleware found it, and the role checks
//! every server function and API route starts with.

use crate::domain::{AppError, Role, User};

/// Who made the request: a signed-in user (by session or API token) or nobody.
#[derive(Clone, Debug, Default)]
pub struct Caller {
    pub user: Option<User>,
    pub client_addr: Option<String>,
    /// Authenticated with `Authorization: Bearer`, not a cookie.
    pub via_token: bool,
    /// A background job acting on its own (the audit log names it).
    pub job: Option<&'static str>,
}

impl Caller {
    /// A background job, for the audit log ("token refresh", …).
    pub fn job(name: &'static str) -> Self {
        Self { job: Some(name), ..Self::default() }
    }

    /// Requires a signed-in, enabled user with at least `role` (admins may do everything).
    pub fn require(&self, role: Role) -> Result<User, AppError> {
        let user = self.user.clone().ok_or(AppError::Unauthorized)?;
        if role == Role::Admin && !user.is_admin() {
            return Err(AppError::Forbidden { message: "this needs an admin; ask one to do it or to change your role".into() });
        }
        Ok(user)
    }

    /// The name the audit log records for this caller.
    pub fn actor(&self) -> String {
        match (&self.user, self.job) {
            (Some(user), _) => user.email.clone(),
            (None, Some(job)) => format!("system: {job}"),
            (None, None) => "anonymous".to_owned(),
        }
    }
}

/// The caller of the current server function.
pub fn caller() -> Caller {
    leptos::prelude::use_context::<axum::http::request::Parts>()
        .and_then(|parts| parts.extensions.get::<Caller>().cloned())
        .unwrap_or_default()
}

/// Guard for server functions: the signed-in user with at least `role`.
pub fn require(role: Role) -> Result<User, AppError> {
    caller().require(role)
}

/// The session of the current server function's request (for signing in and out).
pub async fn session() -> Result<tower_sessions::Session, AppError> {
    leptos_axum::extract().await.map_err(crate::server::error::internal)
}
