//! Who is asking and what they may do: passwords, sessions, personal API tokens, roles,
//! and the HTTP guards around every request (CSRF, page gate, security headers).

pub mod caller;
pub mod client_addr;
pub mod middleware;
pub mod passwords;
pub mod throttle;
pub mod tokens;

pub use caller::Caller;
