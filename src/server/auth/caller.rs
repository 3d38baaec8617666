//! The caller of a request, as the authentication middleware found it, and the role check
//! every server function and API route starts with.

use crate::domain::{AppError, Role, TokenScope, User};

/// Who made the request: a signed-in user (by session or API token) or nobody.
#[derive(Clone, Debug, Default)]
pub struct Caller {
    pub user: Option<User>,
    pub client_addr: Option<String>,
    /// Sent `Authorization: Bearer`: no session is looked at, and only the JSON API
    /// resolves the token (then `user` and `token_scope` are set).
    pub via_token: bool,
    pub token_scope: Option<TokenScope>,
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
