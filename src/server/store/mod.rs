//! The only place SQL lives. One file per table family; each query is written once and
//! compiled for both backends with [`on_db!`](crate::on_db).

pub mod accounts;
pub mod audit;
pub mod import;
pub mod instances;
pub mod keys;
pub mod media;
pub mod oauth;
pub mod picks;
pub mod rotation;
pub mod platforms;
pub mod posts;
pub mod secrets;
pub mod sessions;
pub mod throttle;
pub mod tokens;
pub mod users;

use chrono::{DateTime, SubsecRound, Utc};

/// The unique rules a write can break, each with its own sentence for the user.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Unique {
    PlatformName,
    UserEmail,
    /// One re-encryption job at a time (running or paused).
    ActiveRotation,
    /// One registered app per platform and instance.
    InstanceClient,
    /// One active data key, each version once (two Rotate presses at one moment).
    ActiveKey,
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A unique constraint refused the write.
    #[error("unique rule broken: {0:?}")]
    Duplicate(Unique),
    /// A stored row no longer fits the domain rules (edited by hand, or a bug).
    #[error("stored row is invalid: {0}")]
    Corrupt(String),
    /// The platform a write refers to does not exist.
    #[error("the referenced platform does not exist")]
    MissingPlatform,
    /// The change would leave no active admin.
    #[error("no active admin would remain")]
    LastAdmin,
    /// The key version has made as many encryptions as it may.
    #[error("key version {version} has reached its encryption limit")]
    KeyExhausted { version: u32 },
    /// The key version was retired (erased) since this server last looked.
    #[error("key version {version} is retired")]
    KeyRetired { version: u32 },
    #[error(transparent)]
    Database(#[from] sqlx::Error),
}

impl StoreError {
    /// Reads a unique violation as `rule`, any other failure as itself.
    fn unique(rule: Unique) -> impl Fn(sqlx::Error) -> Self {
        move |e| match e.as_database_error() {
            Some(d) if d.is_unique_violation() => Self::Duplicate(rule),
            _ => e.into(),
        }
    }

    /// Reads a foreign-key violation as "no such platform".
    fn missing_platform(e: sqlx::Error) -> Self {
        match e.as_database_error() {
            Some(d) if d.is_foreign_key_violation() => Self::MissingPlatform,
            _ => e.into(),
        }
    }
}

/// Runs `$before … $after` (with the list of ids between them, as the only parameter)
/// once for all of `$ids`: an array on PostgreSQL (`= ANY($1)`), a JSON array of hex on
/// SQLite, where uuids are 16-byte blobs (`IN (SELECT unhex(value) FROM json_each($1))`,
/// its parameter from [`hex_json`]).
#[macro_export]
macro_rules! fetch_for_ids {
    ($db:expr, $ids:expr, $before:expr, $after:expr) => {{
        let ids: &[uuid::Uuid] = $ids;
        $crate::on_db!(
            $db,
            sqlite |pool| {
                let sql = format!("{} IN (SELECT unhex(value) FROM json_each($1)) {}", $before, $after);
                sqlx::query_as(&sql).bind($crate::server::store::hex_json(ids)).fetch_all(pool).await
            },
            postgres |pool| sqlx::query_as(&format!("{} = ANY($1) {}", $before, $after)).bind(ids).fetch_all(pool).await,
        )
    }};
}

/// `ids` as SQLite's side of an id list takes them: a JSON array of their hex (hex digits
/// need no escaping, so it is written directly).
pub fn hex_json(ids: &[uuid::Uuid]) -> String {
    let quoted: Vec<String> = ids.iter().map(|id| format!("\"{}\"", id.simple())).collect();
    format!("[{}]", quoted.join(","))
}

/// Now, at the precision both databases keep (microseconds), so what we write is what we read.
pub fn now() -> DateTime<Utc> {
    Utc::now().trunc_subsecs(6)
}

/// `text` cut to `max` characters, marked with an ellipsis when cut: what a schema's length
/// limit keeps of a text from outside.
pub fn cut(text: String, max: usize) -> String {
    match text.char_indices().nth(max.saturating_sub(1)) {
        Some((end, _)) if text.chars().count() > max => format!("{}…", &text[..end]),
        _ => text,
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn hex_json_is_the_json_array_of_the_ids_hex() {
        let ids = [uuid::Uuid::nil(), uuid::Uuid::max()];
        let parsed: Vec<String> = serde_json::from_str(&super::hex_json(&ids)).unwrap();
        assert_eq!(parsed, ids.map(|id| id.simple().to_string()));
        assert_eq!(super::hex_json(&[]), "[]");
    }
}
