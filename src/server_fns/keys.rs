//! Server functions of the keys panel (admins only): data keys, rotation, retirement and
//! the re-encryption job.

#[cfg(feature = "ssr")]
use super::prelude::*;
use crate::domain::{AppError, KeyPanel, RotationJob};
use leptos::prelude::*;

#[server]
pub async fn get_key_panel() -> Result<KeyPanel, AppError> {
    guarded(Role::Admin, |cx| async move { rotation::panel(&cx.state).await }).await
}

/// Makes a new data key the active one on every instance and re-encrypts to it. `from` is
/// the active version the page showed: a second press (or two admins) rotates once.
#[server]
pub async fn rotate_key(from: u32) -> Result<RotationJob, AppError> {
    guarded(Role::Admin, |cx| async move { keys::rotate(&cx.state, &cx.caller, Some(from)).await }).await
}

/// Erases a decrypt-only data key that no secret uses.
#[server]
pub async fn retire_key(version: u32) -> Result<(), AppError> {
    guarded(Role::Admin, |cx| async move { keys::retire(&cx.state, &cx.caller, version).await }).await
}

/// Starts re-encrypting every secret to the current key (a background job).
#[server]
pub async fn start_rotation() -> Result<RotationJob, AppError> {
    guarded(Role::Admin, |cx| async move { rotation::start(&cx.state, &cx.caller).await }).await
}

/// Pauses (`paused = true`) or resumes the job.
#[server]
pub async fn pause_rotation(paused: bool) -> Result<RotationJob, AppError> {
    guarded(Role::Admin, |cx| async move { rotation::set_paused(&cx.state, &cx.caller, paused).await }).await
}

/// Re-encrypts one platform's secrets to the current key, now. Returns how many.
#[server]
pub async fn reencrypt_platform(id: String) -> Result<u64, AppError> {
    guarded(Role::Admin, |cx| async move {
        let state = &cx.state;
        let platform = platforms::get(&state.db, &state.keyring, parse_id(&id, "platform")?).await?;
        let (written, failed) = rotation::reencrypt_platform(state, &cx.caller, &platform).await?;
        if failed > 0 {
            return Err(AppError::Unavailable {
                message: format!("{written} re-encrypted; {failed} could not be decrypted (missing key or tampered): set those secrets again"),
            });
        }
        Ok(written)
    })
    .await
}
