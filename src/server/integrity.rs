//! The integrity sweep: opens every secret once per period (`INTEGRITY_CHECK_HOURS`, a day
//! by default), at a bounded rate (`INTEGRITY_CHECKS_PER_SECOND`), and records whether it
//! opened. The platform list draws its badges from what is recorded, so "Decryption failed
//! (wrong key or tampered)" appears there without a list request decrypting anything. The
//! sweep keeps no cursor: each batch is the secrets checked longest ago (a write counts as
//! a check), so it resumes wherever it stopped, and two instances at most check a secret twice.

use super::{secrets, state::AppState, store::{secrets as store, StoreError}};
use chrono::Utc;
use std::time::Duration;

/// Secrets opened per batch.
const BATCH: i64 = 200;
/// The pause when nothing is due.
const IDLE: Duration = Duration::from_secs(60);

/// One batch: opens the secrets not checked within the period, longest unchecked first,
/// and records each answer. Returns how many were checked and how many did not open (a
/// secret whose key cannot be loaded just now is neither).
pub async fn sweep(state: &AppState) -> Result<(usize, usize), StoreError> {
    let period = chrono::Duration::from_std(state.config.integrity.period).unwrap_or(chrono::Duration::days(1));
    let due = store::due_for_check(&state.db, Utc::now() - period, BATCH).await?;
    let (mut checked, mut failing) = (0, 0);
    for sealed in &due {
        // Its key cannot be loaded just now: left due, not taken for a failure.
        let Some(opened) = secrets::opens(&state.db, &state.keyring, sealed).await else { continue };
        checked += 1;
        if !opened {
            failing += 1;
            tracing::warn!(platform.id = %sealed.platform_id, secret.owner = %sealed.owner_id, secret.field = %sealed.field, "integrity sweep: the secret does not decrypt (wrong key or tampered)");
        }
        store::record_check(&state.db, sealed, opened).await?;
    }
    Ok((checked, failing))
}

/// One round of the supervised loop: a batch, then a pause that keeps to the rate (or a
/// minute, when the batch found nothing more to do).
pub async fn round(state: AppState, beat: impl Fn()) {
    let pause = match sweep(&state).await {
        Ok((checked, _)) if checked as i64 == BATCH => Duration::from_secs_f64(BATCH as f64 / state.config.integrity.per_second as f64),
        Ok(_) => IDLE,
        Err(e) => {
            tracing::warn!(error = %e, "integrity sweep: cannot read the secrets");
            IDLE
        }
    };
    beat();
    tokio::time::sleep(pause).await;
}
