//! Sign-in throttling. Per client address, failures block: after [`ADDR_ATTEMPTS`] in a
//! minute the address waits out the minute. Per account, failures only slow down: each
//! attempt beyond [`ACCOUNT_FREE_ATTEMPTS`] waits twice as long as the one before (at
//! most [`ACCOUNT_MAX_DELAY`]) and is then checked like any other, so a stranger who
//! guesses at a named admin's password cannot lock the admin out. Counts are taken
//! atomically (`store::throttle`); throttled attempts are counted there, and only the
//! first in a window is written to the audit log.

use super::Caller;
use crate::{
    domain::AppError,
    server::{
        audit::{self, Action, Outcome, Target, TargetKind},
        db::Db,
        store::throttle as store,
    },
};
use chrono::Utc;
use std::time::Duration;

/// Failed sign-ins one client address may make in [`ADDR_WINDOW_SECONDS`].
pub const ADDR_ATTEMPTS: i64 = 5;
pub const ADDR_WINDOW_SECONDS: i64 = 60;
/// Failed sign-ins to one account, in [`ACCOUNT_WINDOW_SECONDS`], before each attempt waits.
pub const ACCOUNT_FREE_ATTEMPTS: i64 = 5;
pub const ACCOUNT_WINDOW_SECONDS: i64 = 15 * 60;
/// The longest any sign-in waits, however many strangers guess at the account.
pub const ACCOUNT_MAX_DELAY: Duration = Duration::from_secs(16);

/// How long the `attempts`-th attempt in an account's window waits before it is checked:
/// nothing for the free ones, then 1 s, 2 s, 4 s … up to [`ACCOUNT_MAX_DELAY`].
pub fn account_delay(attempts: i64) -> Duration {
    let beyond = attempts.saturating_sub(ACCOUNT_FREE_ATTEMPTS);
    if beyond <= 0 {
        return Duration::ZERO;
    }
    let seconds = 1u64.checked_shl((beyond - 1).min(63) as u32).unwrap_or(u64::MAX);
    Duration::from_secs(seconds).min(ACCOUNT_MAX_DELAY)
}

/// A sign-in attempt that passed the throttle (after its delay, if any).
pub struct Attempt {
    addr_key: String,
    account_key: String,
}

/// Counts the attempt; refuses it when its address is blocked, waits when its account is
/// being slowed down. Call [`Attempt::succeeded`] when the password was right.
pub async fn admit(db: &Db, caller: &Caller, email: &str) -> Result<Attempt, AppError> {
    let now = Utc::now().timestamp();
    let addr_key = format!("addr:{}", caller.client_addr.as_deref().unwrap_or_default());
    let by_addr = store::count_attempt(db, &addr_key, now, now - ADDR_WINDOW_SECONDS).await?;
    if by_addr > ADDR_ATTEMPTS {
        if by_addr == ADDR_ATTEMPTS + 1 {
            let detail = "too many failures from this address: its attempts are refused for a minute and counted, not logged";
            audit::record(db, caller, Action::LoginThrottled, Some(Target::new(TargetKind::User, "", email)), Outcome::Denied, Some(detail.into())).await;
        }
        return Err(AppError::TooManyRequests { message: "Too many failed sign-in attempts from this address. Wait a minute, then try again.".into() });
    }
    let account_key = format!("account:{email}");
    let by_account = store::count_attempt(db, &account_key, now, now - ACCOUNT_WINDOW_SECONDS).await?;
    let delay = account_delay(by_account);
    if !delay.is_zero() {
        if by_account == ACCOUNT_FREE_ATTEMPTS + 1 {
            let detail = "many failed sign-ins to this account: each further attempt waits (up to 16 s) before it is checked";
            audit::record(db, caller, Action::LoginThrottled, Some(Target::new(TargetKind::User, "", email)), Outcome::Denied, Some(detail.into())).await;
        }
        tokio::time::sleep(delay).await;
    }
    Ok(Attempt { addr_key, account_key })
}

impl Attempt {
    /// The password was right: the account starts afresh, and this attempt no longer
    /// counts against its address.
    pub async fn succeeded(self, db: &Db) -> Result<(), AppError> {
        store::clear(db, &self.account_key).await?;
        store::forgive(db, &self.addr_key).await?;
        Ok(())
    }
}

/// Deletes windows nobody can be in any more (the session sweeper calls this).
pub async fn sweep(db: &Db) -> Result<u64, AppError> {
    Ok(store::sweep(db, Utc::now().timestamp() - ACCOUNT_WINDOW_SECONDS.max(ADDR_WINDOW_SECONDS)).await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_account_is_slowed_down_never_blocked() {
        assert_eq!(account_delay(1), Duration::ZERO);
        assert_eq!(account_delay(ACCOUNT_FREE_ATTEMPTS), Duration::ZERO);
        assert_eq!(account_delay(ACCOUNT_FREE_ATTEMPTS + 1), Duration::from_secs(1));
        assert_eq!(account_delay(ACCOUNT_FREE_ATTEMPTS + 3), Duration::from_secs(4));
        assert_eq!(account_delay(ACCOUNT_FREE_ATTEMPTS + 10), ACCOUNT_MAX_DELAY);
        assert_eq!(account_delay(i64::MAX), ACCOUNT_MAX_DELAY, "no overflow however many attempts");
    }
}
