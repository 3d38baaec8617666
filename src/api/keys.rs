//! Server functions of the keys panel (admins only): key versions, the re-encryption job.

use crate::domain::{AppError, KeyPanel, RotationJob};
use leptos::prelude::*;

#[server]
pub async fn get_key_panel() -> Result<KeyPanel, AppError> {
    use crate::{domain::Role, server::{auth::require, error::respond, rotation, state::app_state}};
    respond(async {
        require(Role::Admin)?;
        rotation::panel(&app_state()?).await
    })
    .await
}

/// Starts re-encrypting every secret to the current key (a background job).
#[server]
pub async fn start_rotation() -> Result<RotationJob, AppError> {
    use crate::{domain::Role, server::{auth::{caller, require}, error::respond, rotation, state::app_state}};
    respond(async {
        require(Role::Admin)?;
        rotation::start(&app_state()?, &caller()).await
    })
    .await
}

/// Pauses (`paused = true`) or resumes the job.
#[server]
pub async fn pause_rotation(paused: bool) -> Result<RotationJob, AppError> {
    use crate::{domain::Role, server::{auth::{caller, require}, error::respond, rotation, state::app_state}};
    respond(async {
        require(Role::Admin)?;
        rotation::set_paused(&app_state()?, &caller(), paused).await
    })
    .await
}

/// Re-encrypts one platform's secrets to the current key, now. Returns how many.
#[server]
pub async fn reencrypt_platform(id: String) -> Result<u64, AppError> {
    use crate::{domain::Role, server::{auth::{caller, require}, error::respond, platforms, rotation, state::app_state}};
    respond(async {
        require(Role::Admin)?;
        let state = app_state()?;
        let platform = platforms::get(&state.db, &state.keyring, platforms::parse_id(&id)?).await?;
        let (written, failed) = rotation::reencrypt_platform(&state, &caller(), &platform).await?;
        if failed > 0 {
            return Err(AppError::Unavailable {
                message: format!("{written} re-encrypted; {failed} could not be decrypted (missing key or tampered): set those secrets again"),
            });
        }
        Ok(written)
    })
    .await
}
