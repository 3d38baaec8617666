//! Key rotation: the re-encryption job. Batches of secrets not on the current key are
//! decrypted with their own version's key and sealed with the current one, written back
//! with compare-and-swap on the key version, and the job's cursor moves in the same
//! transaction — so a job survives pauses, crashes and restarts, and runs safely beside
//! refreshes, publishes and other instances (one instance works on it at a time: a lease).

use super::{
    audit::{self, Action, Outcome, Target, TargetKind},
    auth::Caller,
    clock,
    crypto::{Sealer, ENCRYPTIONS_REFUSE_AT},
    secrets,
    state::AppState,
    store::rotation::{self as store, Cursor, Progress, Resealed},
};
use crate::domain::{AppError, FieldErrors, JobState, KeyPanel, Platform, RotationJob};
use std::time::{Duration, Instant};
use uuid::Uuid;

/// Secrets per transaction: large enough to amortize the commit, small enough that a
/// pause or a crash loses little and the progress bar moves.
pub const BATCH: i64 = 1000;
/// How long an instance may work on a job before another may take it over.
const LEASE: Duration = Duration::from_secs(30);

/// What the keys panel shows.
pub async fn panel(state: &AppState) -> Result<KeyPanel, AppError> {
    super::keys::refresh(&state.db, &state.keyring).await?;
    let versions = secrets::key_versions(&state.db, &state.keyring).await?;
    let job = store::latest(&state.db).await?.map(|(job, _)| job);
    let current_version = state.keyring.current_version();
    let root = state.keyring.root();
    Ok(KeyPanel {
        next_steps: KeyPanel::advise(current_version, &versions),
        current_version,
        versions,
        root_source: root.map(|r| r.describe()).unwrap_or_else(|| "ENCRYPTION_KEY (local)".to_owned()),
        root_check_value: root.map(|r| r.check_value().to_owned()).unwrap_or_default(),
        rotate_every_days: state.config.keys.rotate_every.map(|d| d.as_secs() / 86_400),
        job,
    })
}

/// Starts re-encrypting every secret not on the current key. Refuses when a job is
/// already running or paused (resume that one instead).
pub async fn start(state: &AppState, caller: &Caller) -> Result<RotationJob, AppError> {
    let version = state.keyring.current_version();
    let total = store::count_not_on(&state.db, version).await?;
    let job = store::create(&state.db, version, total, &caller.actor()).await?;
    tracing::info!(job.id = %job.id, key.version = version, total, "re-encryption started");
    audit::record(&state.db, caller, Action::RotationStarted, Some(Target::new(TargetKind::Key, version, "")), Outcome::Ok, Some(format!("{total} secrets to v{version}"))).await;
    Ok(job)
}

/// Ends a job that re-encrypts to an older key than `version`, which a rotation just made.
pub async fn supersede(state: &AppState, version: u32) -> Result<(), AppError> {
    if store::supersede(&state.db, version).await? {
        tracing::info!(key.version = version, "the re-encryption under way was superseded by a newer key");
    }
    Ok(())
}

/// Pauses the running job, or resumes the paused one.
pub async fn set_paused(state: &AppState, caller: &Caller, paused: bool) -> Result<RotationJob, AppError> {
    let (job, _) = store::latest(&state.db).await?.ok_or_else(|| AppError::not_found("a re-encryption job"))?;
    let (from, to, action) = if paused {
        (JobState::Running, JobState::Paused, Action::RotationPaused)
    } else {
        (JobState::Paused, JobState::Running, Action::RotationResumed)
    };
    if !store::set_state(&state.db, job.id, from, to).await? {
        let now = if paused { "is not running" } else { "is not paused" };
        return Err(AppError::Conflict { fields: FieldErrors::single("job", format!("the re-encryption {now}")) });
    }
    audit::record(&state.db, caller, action, None, Outcome::Ok, Some(format!("{} of {} done", job.handled(), job.total))).await;
    Ok(store::latest(&state.db).await?.map(|(j, _)| j).unwrap_or(job))
}

/// One platform's secrets, now (the "Re-encrypt now" button). Returns (re-encrypted, failed).
pub async fn reencrypt_platform(state: &AppState, caller: &Caller, platform: &Platform) -> Result<(u64, i64), AppError> {
    let sealer = state.keyring.sealer();
    let (batch, failed, _) = reseal_next(state, &sealer, &None, Some(platform.id)).await?;
    let written = store::apply(&state.db, sealer.version(), ENCRYPTIONS_REFUSE_AT, &batch, None).await?.unwrap_or(0);
    let detail = format!("{written} re-encrypted to v{}, {failed} could not be decrypted", sealer.version());
    audit::record(&state.db, caller, Action::PlatformReencrypted, Some(Target::platform(platform)), Outcome::Ok, Some(detail)).await;
    Ok((written, failed))
}

/// Reads the next batch after `cursor` not on `sealer`'s key and re-seals what decrypts
/// with it. Returns the re-sealed secrets, how many could not be decrypted, and the new
/// cursor (`None`: nothing left).
async fn reseal_next(state: &AppState, sealer: &Sealer, cursor: &Cursor, platform: Option<Uuid>) -> Result<(Vec<Resealed>, i64, Cursor), AppError> {
    let version = sealer.version();
    let sealed = store::next_batch(&state.db, version, cursor, platform, BATCH).await?;
    let next = sealed.last().map(|s| (s.owner_id, s.field.as_str().to_owned()));
    let mut failed = 0;
    let mut batch = Vec::with_capacity(sealed.len());
    // A key another instance made is loaded once per batch, not looked up per secret.
    let mut versions: Vec<u32> = sealed.iter().map(|s| s.key_version).collect();
    versions.sort_unstable();
    versions.dedup();
    for version in versions {
        // Not counted as failures: the batch waits for the key (the job retries next round).
        if super::keys::ensure(&state.db, &state.keyring, version).await == super::keys::Availability::Away {
            return Err(super::keys::Availability::away_error(version));
        }
    }
    for s in &sealed {
        let slot = s.slot();
        match state.keyring.open(&s.ciphertext, &slot) {
            Ok(plaintext) => batch.push(Resealed {
                owner_id: s.owner_id,
                field: s.field,
                old_version: s.key_version,
                ciphertext: sealer.seal(&plaintext, &slot),
            }),
            Err(e) => {
                failed += 1;
                tracing::warn!(platform.id = %s.platform_id, secret.owner = %s.owner_id, secret.field = %s.field, error = %e, "secret left as it is: it does not decrypt");
                super::secrets::record(&state.db, s, false).await?;
            }
        }
    }
    Ok((batch, failed, next))
}

/// Works on the running job until it is done, paused, or taken over; calls `progress`
/// after each batch. Returns the job as it was left, or `None` if there was nothing to do.
pub async fn work(state: &AppState, owner: Uuid, mut progress: impl FnMut(&RotationJob)) -> Result<Option<RotationJob>, AppError> {
    loop {
        let Some((job, cursor)) = store::latest(&state.db).await? else {
            return Ok(None);
        };
        if job.state != JobState::Running {
            return Ok(Some(job));
        }
        let until = clock::from_now(LEASE);
        if !store::claim(&state.db, job.id, owner, until).await? {
            return Ok(Some(job)); // another instance works on it
        }
        let started = Instant::now();
        if job.target_version != state.keyring.current_version() {
            // Another instance may have rotated a moment ago: look before giving up.
            super::keys::refresh(&state.db, &state.keyring).await?;
        }
        let sealer = state.keyring.sealer();
        if job.target_version != sealer.version() {
            // The key changed under the job: stop; the rotation that changed it started a new one.
            return Err(AppError::Conflict {
                fields: FieldErrors::single("job", format!("the job re-encrypts to v{}, but the active key is now v{}: pause it and start a new one", job.target_version, sealer.version())),
            });
        }
        let (batch, failed, next) = reseal_next(state, &sealer, &cursor, None).await?;
        let Some(next) = next else {
            if store::finish(&state.db, job.id, owner).await? {
                let finished = store::latest(&state.db).await?.map(|(j, _)| j).unwrap_or(job);
                tracing::info!(job.id = %finished.id, done = finished.done, failed = finished.failed, "re-encryption finished");
                let detail = format!("{} re-encrypted to v{}, {} could not be decrypted", finished.done, finished.target_version, finished.failed);
                let outcome = if finished.failed == 0 { Outcome::Ok } else { Outcome::Failed };
                audit::record(&state.db, &Caller::job("key rotation"), Action::RotationFinished, None, outcome, Some(detail)).await;
                progress(&finished);
                return Ok(Some(finished));
            }
            continue;
        };
        let p = Progress { job: job.id, owner, failed, cursor: &next, busy_seconds: started.elapsed().as_secs_f64() };
        if store::apply(&state.db, job.target_version, ENCRYPTIONS_REFUSE_AT, &batch, Some(p)).await?.is_none() {
            continue; // paused or taken over meanwhile: look again
        }
        if let Some((job, _)) = store::latest(&state.db).await? {
            progress(&job);
        }
    }
}

/// One round of the supervised loop (`server::workers`): works on the running job, if
/// any, as `owner` (the same for every round of this server, so a round after a panic
/// takes its own lease back at once), then pauses a second. `progress` is called per batch.
pub async fn round(state: AppState, owner: Uuid, progress: impl Fn()) {
    if let Err(e) = work(&state, owner, |_| progress()).await {
        tracing::warn!(error = %e, "re-encryption stopped");
        tokio::time::sleep(AFTER_ERROR).await;
    }
    tokio::time::sleep(PAUSE).await;
}

const PAUSE: Duration = Duration::from_secs(1);
const AFTER_ERROR: Duration = Duration::from_secs(10);
/// The longest a round waits besides its work: the loop's period for `/readyz`.
pub const ROUND_WAIT: Duration = Duration::from_secs(PAUSE.as_secs() + AFTER_ERROR.as_secs());
