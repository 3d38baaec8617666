//! A Pinterest account's boards, read from Pinterest with the account's token, so the
//! platform page can offer them as the place its Pins go.

use super::publishers;
use crate::{
    domain::{AppError, Board, ProviderKey, SecretField},
    server::{
        audit::{self, Action, Outcome, Target, TargetKind},
        auth::Caller,
        oauth::{self, tokens::TokenError},
        state::AppState,
        store,
    },
};
use uuid::Uuid;

pub async fn list(state: &AppState, caller: &Caller, platform_id: Uuid, account_id: Uuid) -> Result<Vec<Board>, AppError> {
    let missing = || AppError::NotFound { what: "The account".into() };
    let account = store::accounts::get(&state.db, account_id).await?.filter(|a| a.account.platform_id == platform_id).ok_or_else(missing)?.account;
    let (endpoints, _) = oauth::tokens::endpoints_and_secret(state, platform_id, account.instance_id).await.map_err(unavailable)?;
    if endpoints.provider.key != ProviderKey::Pinterest {
        return Err(missing());
    }
    let base = endpoints.api_base_url.clone().ok_or_else(|| AppError::Unavailable { message: "the platform has no API base URL: an admin must set it".into() })?;
    state.config.oauth.egress.check_url(&base).map_err(|why| AppError::Unavailable { message: why.to_string() })?;
    let token = oauth::tokens::access_token(state, account_id).await.map_err(unavailable)?;
    let target = Target::new(TargetKind::Platform, platform_id, "");
    audit::record(&state.db, caller, Action::SecretUsed, Some(target), Outcome::Ok, Some(format!("{} to list the boards of {}", SecretField::AccessToken.noun(), account.label()))).await;
    publishers::pinterest::boards(&state.http, base.trim_end_matches('/'), &token).await.map_err(|e| AppError::Unavailable { message: format!("Pinterest did not list the boards: {e}") })
}

fn unavailable(e: TokenError) -> AppError {
    AppError::Unavailable { message: format!("the account's token could not be used ({e}): re-authenticate the account") }
}
