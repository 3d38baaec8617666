//! The "needs attention" list: every platform a person must act on — in error, never
//! connected, an account that must be re-authenticated or expired without a way to
//! refresh (or about to, within a week), a secret that does not decrypt, or secrets that
//! came from a plaintext store —
//! with the one action that fixes it.

use super::{
    state::AppState,
    store::{accounts, oauth as store},
};
use crate::domain::{Account, AppError, AttentionAction, AttentionItem, AuthType, Status};
use std::collections::HashMap;

pub async fn list(state: &AppState) -> Result<Vec<AttentionItem>, AppError> {
    let (rows, all) = tokio::try_join!(store::health(&state.db), accounts::all(&state.db))?;
    let soon = super::clock::from_now(super::oauth::worker::EXPIRY_WARNING);
    let mut by_platform: HashMap<_, Vec<Account>> = HashMap::new();
    for account in all {
        by_platform.entry(account.platform_id).or_default().push(account);
    }
    Ok(rows
        .into_iter()
        .filter_map(|row| {
            let oauth = row.auth_type == AuthType::Oauth2;
            let accounts = by_platform.get(&row.platform_id).map(Vec::as_slice).unwrap_or_default();
            let mut reasons = Vec::new();
            let mut action = if oauth { AttentionAction::Reauthenticate } else { AttentionAction::SetSecret };
            for a in accounts {
                if a.needs_attention || !a.connected {
                    let why = a.last_error.clone().unwrap_or_else(|| "its tokens are gone or cannot be used".into());
                    reasons.push(format!("{}: {why}", a.label()));
                } else if a.expired {
                    reasons.push(format!("{}: the access token expired and the provider issues no refresh token", a.label()));
                } else if let Some(at) = a.expires_at.filter(|at| !a.has_refresh_token && !a.renews && *at <= soon) {
                    reasons.push(format!("{}: the access token expires {} and the provider issues no refresh token: re-authenticate before then", a.label(), at.format("%Y-%m-%d")));
                }
            }
            if row.status == Status::Error && reasons.is_empty() {
                reasons.push("the platform's status is Error".into());
            }
            if row.secret_failing {
                reasons.push("a stored secret cannot be decrypted (wrong or missing key, or tampered)".into());
            }
            if oauth && accounts.is_empty() {
                reasons.push("no account connected yet".into());
                if reasons.len() == 1 {
                    action = AttentionAction::Connect;
                }
            }
            if row.imported_plaintext {
                reasons.push("its secrets were imported from a plaintext store: renew them so no copy that lay in clear stays valid".into());
            }
            (!reasons.is_empty()).then(|| AttentionItem { platform_id: row.platform_id, name: row.name, reasons, action })
        })
        .collect())
}
