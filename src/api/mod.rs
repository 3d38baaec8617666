//! Server functions: the whole surface the pages call. Each one checks its input, calls a
//! service in `server/`, and returns a DTO or an [`AppError`](crate::domain::AppError).

pub mod attention;
pub mod audit;
pub mod auth;
pub mod credentials;
pub mod import;
pub mod keys;
pub mod oauth;
pub mod platforms;
pub mod posts;
pub mod profile;
pub mod users;
