//! The background refresher: renews access tokens before they expire, so a connection
//! never silently lapses and publishing rarely waits for a refresh.

use super::tokens;
use crate::server::{
    audit::{self, Action, Outcome, Target, TargetKind},
    auth::Caller,
    clock,
    state::AppState,
    store::accounts as store,
    workers,
};
use std::time::Duration;
use tracing::Instrument;

/// How far ahead an expiry nothing can renew is warned about (LinkedIn's 60-day tokens).
pub const EXPIRY_WARNING: Duration = Duration::from_secs(7 * 24 * 3600);
/// How far ahead a long-lived token the provider renews is renewed (Instagram, Threads: 60
/// days, renewable once a day old): a week, so an outage of days does not lose it.
pub const RENEW_AHEAD: Duration = Duration::from_secs(7 * 24 * 3600);

/// One round of the supervised loop (`server::workers`): a sweep, then a pause of the
/// configured interval. `progress` is called after each account.
pub async fn round(state: AppState, progress: impl Fn()) {
    sweep(&state, progress).await;
    warn_expiring(&state).await;
    tokio::time::sleep(state.config.oauth.refresh_interval).await;
}

/// Writes to the audit log, once per expiry, each account whose token expires within
/// [`EXPIRY_WARNING`] with no refresh token: a person must re-authenticate it before
/// then (the Needs attention list shows it too). Returns how many were written.
pub async fn warn_expiring(state: &AppState) -> usize {
    let expiring = match store::expiring_unwarned(&state.db, clock::from_now(EXPIRY_WARNING)).await {
        Ok(expiring) => expiring,
        Err(e) => {
            tracing::warn!(error = %e, "token refresher cannot read expiring accounts");
            return 0;
        }
    };
    let caller = Caller::job("token refresh");
    let mut warned = 0;
    for (account_id, platform_id, name, expires_at) in expiring {
        match store::claim_expiry_warning(&state.db, account_id, expires_at).await {
            Ok(true) => {
                let detail = format!("{name}: the access token expires {} and the provider issues no refresh token: re-authenticate before then", expires_at.format("%Y-%m-%d %H:%M UTC"));
                audit::record(&state.db, &caller, Action::TokenExpiring, Some(Target::new(TargetKind::Platform, platform_id, "")), Outcome::Ok, Some(detail)).await;
                warned += 1;
            }
            Ok(false) => {}
            Err(e) => tracing::warn!(account.id = %account_id, error = %e, "cannot record an expiry warning"),
        }
    }
    warned
}

/// Refreshes every account whose token expires within the look-ahead; returns how many
/// were refreshed. Failures are recorded on each account by the resolver; a refresh that
/// panics is logged and its lease simply expires (releasing it here could release a lease
/// another instance has taken since).
pub async fn sweep(state: &AppState, progress: impl Fn()) -> usize {
    let ahead = state.config.oauth.refresh_ahead;
    let due = match store::due_for_refresh(&state.db, clock::from_now(ahead), clock::from_now(RENEW_AHEAD)).await {
        Ok(due) => due,
        Err(e) => {
            tracing::warn!(error = %e, "token refresher cannot read the accounts");
            return 0;
        }
    };
    let mut refreshed = 0;
    for (account_id, renews) in due {
        let span = tracing::info_span!("token_refresh", account.id = %account_id);
        let window = if renews { RENEW_AHEAD } else { ahead };
        match workers::survive(tokens::fresh(state, account_id, window).instrument(span)).await {
            Ok(Ok(_)) => refreshed += 1,
            Ok(Err(e)) => tracing::warn!(account.id = %account_id, error = %e, "background refresh did not succeed"),
            Err(cause) => tracing::error!(account.id = %account_id, %cause, "a token refresh panicked"),
        }
        progress();
    }
    refreshed
}
