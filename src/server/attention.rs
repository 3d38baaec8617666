//! The "needs attention" list: every platform a person must act on — in error, never
//! connected, an account that must be re-authenticated or expired without a way to
//! refresh (or about to, within a week), a secret that does not decrypt, or secrets that
//! came from a plaintext store —
//! with the one action that fixes it. Paged in name order: the database finds the
//! platforms (`store::oauth::health_page`), this module words the reasons.

use super::{
    paging::{paginate, Cursor},
    state::AppState,
    store::{
        accounts,
        oauth::{self as store, HealthRow},
    },
};
use crate::domain::{Account, AppError, AttentionAction, AttentionItem, AttentionPage, AuthType, Status};
use chrono::{DateTime, Utc};
use std::collections::HashMap;
use uuid::Uuid;

/// Platforms per page.
const PAGE_SIZE: usize = 50;

/// One page of the list in name order, from `cursor` (a page's `next` or `prev`).
pub async fn page(state: &AppState, cursor: Option<&str>) -> Result<AttentionPage, AppError> {
    let from = cursor.map(Cursor::<(String, Uuid)>::decode).transpose()?;
    let soon = super::clock::from_now(super::oauth::worker::EXPIRY_WARNING);
    let rows = store::health_page(&state.db, soon, from.as_ref().map(|c| (&c.key, c.before)), PAGE_SIZE as i64 + 1).await?;
    let page = paginate(rows, PAGE_SIZE, from.as_ref(), |r| (r.sort_key.clone(), r.platform_id));
    let ids: Vec<Uuid> = page.rows.iter().map(|r| r.platform_id).collect();
    let mut by_platform: HashMap<_, Vec<Account>> = HashMap::new();
    for account in accounts::of_platforms(&state.db, &ids).await? {
        by_platform.entry(account.platform_id).or_default().push(account);
    }
    let items = page
        .rows
        .into_iter()
        .filter_map(|row| {
            let accounts = by_platform.get(&row.platform_id).map(Vec::as_slice).unwrap_or_default();
            item(row, accounts, soon)
        })
        .collect();
    Ok(AttentionPage { items, next: page.next, prev: page.prev })
}

/// What a person must do about a platform and why; `None`: nothing.
fn item(row: HealthRow, accounts: &[Account], soon: DateTime<Utc>) -> Option<AttentionItem> {
    let oauth = row.auth_type == AuthType::Oauth2;
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
}
