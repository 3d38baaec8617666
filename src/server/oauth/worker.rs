//! The background refresher: renews access tokens before they expire, so a connection
//! never silently lapses and publishing rarely waits for a refresh.

use super::tokens;
use crate::server::{clock, state::AppState, store::accounts as store, workers};
use tracing::Instrument;

/// One round of the supervised loop (`server::workers`): a sweep, then a pause of the
/// configured interval. `progress` is called after each account.
pub async fn round(state: AppState, progress: impl Fn()) {
    sweep(&state, progress).await;
    tokio::time::sleep(state.config.oauth.refresh_interval).await;
}

/// Refreshes every account whose token expires within the look-ahead; returns how many
/// were refreshed. Failures are recorded on each account by the resolver; a refresh that
/// panics is logged and its lease simply expires (releasing it here could release a lease
/// another instance has taken since).
pub async fn sweep(state: &AppState, progress: impl Fn()) -> usize {
    let ahead = state.config.oauth.refresh_ahead;
    let horizon = clock::from_now(ahead);
    let due = match store::due_for_refresh(&state.db, horizon).await {
        Ok(due) => due,
        Err(e) => {
            tracing::warn!(error = %e, "token refresher cannot read the accounts");
            return 0;
        }
    };
    let mut refreshed = 0;
    for account_id in due {
        let span = tracing::info_span!("token_refresh", account.id = %account_id);
        match workers::survive(tokens::fresh(state, account_id, ahead).instrument(span)).await {
            Ok(Ok(_)) => refreshed += 1,
            Ok(Err(e)) => tracing::warn!(account.id = %account_id, error = %e, "background refresh did not succeed"),
            Err(cause) => tracing::error!(account.id = %account_id, %cause, "a token refresh panicked"),
        }
        progress();
    }
    refreshed
}
