//! The only place SQL lives. One file per table family; each query is written once and
//! compiled for both backends with [`on_db!`](crate::on_db).

pub mod audit;
pub mod keys;
pub mod oauth;
pub mod rotation;
pub mod platforms;
pub mod posts;
pub mod secrets;
pub mod sessions;
pub mod tokens;
pub mod users;

use chrono::{DateTime, SubsecRound, Utc};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A unique constraint refused the write.
    #[error("{field} already taken")]
    Duplicate { field: &'static str },
    /// A stored row no longer fits the domain rules (edited by hand, or a bug).
    #[error("stored row is invalid: {0}")]
    Corrupt(String),
    /// The row a write refers to (a platform) does not exist.
    #[error("the referenced row does not exist")]
    MissingParent,
    /// The change would leave no active admin.
    #[error("no active admin would remain")]
    LastAdmin,
    /// The key version has made as many encryptions as it may.
    #[error("key version {version} has reached its encryption limit")]
    KeyExhausted { version: u32 },
    #[error(transparent)]
    Database(#[from] sqlx::Error),
}

/// Now, at the precision both databases keep (microseconds), so what we write is what we read.
pub fn now() -> DateTime<Utc> {
    Utc::now().trunc_subsecs(6)
}

fn is_unique_violation(e: &sqlx::Error) -> bool {
    e.as_database_error().is_some_and(|d| d.is_unique_violation())
}
