//! The background refresher: renews access tokens before they expire, so a connection
//! never silently lapses and publishing rarely waits for a refresh.

use super::tokens;
use crate::server::{state::AppState, store::oauth as store};
use chrono::Utc;
use tracing::Instrument;

/// Runs forever: one sweep per configured interval.
pub async fn run(state: AppState) {
    let mut every = tokio::time::interval(state.config.oauth.refresh_interval);
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        every.tick().await;
        sweep(&state).await;
    }
}

/// Refreshes every platform whose token expires within the look-ahead; returns how many
/// were refreshed. Failures are recorded on each platform by the resolver.
pub async fn sweep(state: &AppState) -> usize {
    let ahead = state.config.oauth.refresh_ahead;
    let horizon = Utc::now() + chrono::Duration::from_std(ahead).unwrap_or_default();
    let due = match store::due_for_refresh(&state.db, horizon).await {
        Ok(due) => due,
        Err(e) => {
            tracing::warn!(error = %e, "token refresher cannot read the connections");
            return 0;
        }
    };
    let mut refreshed = 0;
    for platform_id in due {
        let span = tracing::info_span!("token_refresh", platform.id = %platform_id);
        match tokens::fresh(state, platform_id, ahead).instrument(span).await {
            Ok(_) => refreshed += 1,
            Err(e) => tracing::warn!(platform.id = %platform_id, error = %e, "background refresh did not succeed"),
        }
    }
    refreshed
}
