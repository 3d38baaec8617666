//! Timestamps computed from durations, some of which come from outside (a provider's
//! `Retry-After` or `expires_in`): clamped first, then added with checked arithmetic, so
//! no answer can overflow a timestamp and panic a worker.

use chrono::{DateTime, Utc};
use std::time::Duration;

/// The longest `Retry-After` honoured: a day. A provider asking for more is tried again
/// after a day (retrying early is harmless; waiting for a century is not).
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(24 * 3600);

/// The longest token lifetime believed: a year. Refreshing before the real expiry is harmless.
pub const MAX_TOKEN_LIFETIME: Duration = Duration::from_secs(365 * 24 * 3600);

/// The longest wait any timestamp is computed for: well inside every database's range.
const MAX_WAIT: Duration = Duration::from_secs(100 * 365 * 24 * 3600);

/// `now + wait`, with `wait` clamped to a century: never panics, never leaves the range
/// the databases store.
pub fn after(now: DateTime<Utc>, wait: Duration) -> DateTime<Utc> {
    let wait = chrono::Duration::from_std(wait.min(MAX_WAIT)).expect("a century fits in a chrono duration");
    now.checked_add_signed(wait).unwrap_or(DateTime::<Utc>::MAX_UTC)
}

/// `after(Utc::now(), wait)`.
pub fn from_now(wait: Duration) -> DateTime<Utc> {
    after(Utc::now(), wait)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn huge_waits_are_clamped_instead_of_overflowing() {
        let now = Utc::now();
        let far = after(now, Duration::from_secs(100_000_000_000_000));
        assert!(far > now + chrono::Duration::days(36_000) && far < now + chrono::Duration::days(36_600), "{far}");
        assert_eq!(after(DateTime::<Utc>::MAX_UTC, Duration::from_secs(1)), DateTime::<Utc>::MAX_UTC);
        assert_eq!(after(now, Duration::from_secs(90)), now + chrono::Duration::seconds(90));
    }
}
