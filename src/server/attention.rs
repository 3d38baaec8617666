//! The "needs attention" list: every platform a person must act on — in error, never
//! connected, expired without a way to refresh, a secret that does not decrypt, or secrets
//! that came from a plaintext store — with the one action that fixes it.

use super::{secrets, state::AppState, store::oauth as store};
use crate::domain::{AppError, AttentionAction, AttentionItem, AuthType, EncryptionState, Status};

pub async fn list(state: &AppState) -> Result<Vec<AttentionItem>, AppError> {
    let (rows, badges) = tokio::try_join!(async { Ok(store::health(&state.db).await?) }, secrets::badges(&state.db, &state.keyring))?;
    let now = chrono::Utc::now();
    Ok(rows
        .into_iter()
        .filter_map(|row| {
            let oauth = row.auth_type == AuthType::Oauth2;
            let fix = if oauth { AttentionAction::Reauthenticate } else { AttentionAction::SetSecret };
            let mut reasons = Vec::new();
            let mut action = fix;
            if row.status == Status::Error {
                reasons.push(row.last_error.clone().unwrap_or_else(|| "the platform's status is Error".into()));
            }
            if badges.get(&row.platform_id).is_some_and(|b| b.state == EncryptionState::Failed) {
                reasons.push("a stored secret cannot be decrypted (wrong or missing key, or tampered)".into());
            }
            if oauth && !row.has_access_token {
                reasons.push("not connected yet".into());
                if reasons.len() == 1 {
                    action = AttentionAction::Connect;
                }
            } else if oauth && !row.has_refresh_token && row.expires_at.is_some_and(|at| at <= now) {
                reasons.push("the access token expired and the provider issues no refresh token".into());
            }
            if row.imported_plaintext {
                reasons.push("its secrets were imported from a plaintext store: renew them so no copy that lay in clear stays valid".into());
            }
            (!reasons.is_empty()).then(|| AttentionItem { platform_id: row.platform_id, name: row.name, reasons, action })
        })
        .collect())
}
