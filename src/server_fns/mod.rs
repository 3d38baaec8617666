//! Server functions: the whole surface the pages call. Each one is `guarded` (who may call
//! it), calls a service in `server/`, and returns a DTO or an
//! [`AppError`](crate::domain::AppError). The JSON API for scripts is `server::json_api`.

pub mod attention;
pub mod audit;
pub mod auth;
pub mod credentials;
pub mod keys;
pub mod oauth;
pub mod platforms;
pub mod posts;
pub mod profile;
pub mod users;

#[cfg(feature = "ssr")]
mod guard;

/// What the server-side bodies of the functions use.
#[cfg(feature = "ssr")]
mod prelude {
    pub use super::guard::{guarded, Access::Anyone};
    pub use crate::{
        domain::{parse_id, Role},
        server::{attention, audit, auth::tokens, keys, oauth, platforms, publish, rotation, secrets, users},
    };
}
