//! Personal API tokens: `kp_` + 32 random bytes (base64url), shown once, stored as SHA-256.
//! A token has a scope (read-only or read-write) and an optional expiry, and opens the
//! JSON API only (`middleware::api_token`): not pages, not server functions, so a token
//! cannot mint tokens, change passwords or manage users.

use super::Caller;
use crate::{
    domain::{parse_token_expiry, ApiToken, AppError, FieldErrors, NewApiToken, SecretText, TokenScope, User},
    server::{
        audit::{self, Action, Outcome, Target, TargetKind},
        db::Db,
        store::{now as store_now, tokens as store, users},
    },
};
use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine};
use rand::RngCore;
use sha2::{Digest, Sha256};
use uuid::Uuid;

pub const PREFIX: &str = "kp_";

fn digest(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// A new token for the calling user with `scope`, expiring after `expires` (`never` or a
/// number of days); its value is in the answer only.
pub async fn create(db: &Db, caller: &Caller, name: &str, scope: &str, expires: &str) -> Result<NewApiToken, AppError> {
    let user = caller.user.as_ref().ok_or(AppError::Unauthorized)?;
    let name = name.trim();
    let mut errors = FieldErrors::default();
    if name.is_empty() || name.chars().count() > 100 {
        errors.add("name", "must be 1 to 100 characters, like \"QA scripts\"");
    }
    // On a bad scope the stand-in is never used: the field errors return first.
    let scope = scope.parse::<TokenScope>().unwrap_or_else(|e| {
        errors.add("scope", e);
        TokenScope::Read
    });
    let expires_at = parse_token_expiry(&mut errors, "expires", expires, store_now());
    errors.into_result(())?;
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    let value = SecretText::new(format!("{PREFIX}{}", URL_SAFE_NO_PAD.encode(bytes)));
    let shown = value.expose()[..PREFIX.len() + 6].to_owned();
    let token = store::insert(db, user.id, name, &digest(value.expose()), &shown, scope, expires_at).await?;
    let lifetime = expires_at.map_or_else(|| "never expires".to_owned(), |at| format!("expires {}", at.format("%Y-%m-%d")));
    let detail = format!("{}, {lifetime}", scope.label());
    audit::record(db, caller, Action::ApiTokenCreated, Some(Target::new(TargetKind::ApiToken, token.id, &token.name)), Outcome::Ok, Some(detail)).await;
    Ok(NewApiToken { token, value })
}

pub async fn list(db: &Db, user: &User) -> Result<Vec<ApiToken>, AppError> {
    Ok(store::for_user(db, user.id).await?)
}

/// Revokes one of the calling user's tokens.
pub async fn revoke(db: &Db, caller: &Caller, id: Uuid) -> Result<(), AppError> {
    let user = caller.user.as_ref().ok_or(AppError::Unauthorized)?;
    let name = store::revoke(db, user.id, id).await?.ok_or_else(|| AppError::not_found("that API token"))?;
    audit::record(db, caller, Action::ApiTokenRevoked, Some(Target::new(TargetKind::ApiToken, id, &name)), Outcome::Ok, None).await;
    Ok(())
}

/// The enabled user a bearer token belongs to and the token's scope, if it is a live
/// (unrevoked, unexpired) token.
pub async fn authenticate(db: &Db, token: &str) -> Result<Option<(User, TokenScope)>, AppError> {
    if !token.starts_with(PREFIX) {
        return Ok(None);
    }
    let Some((user_id, scope)) = store::use_token(db, &digest(token)).await? else { return Ok(None) };
    Ok(users::get(db, user_id).await?.filter(|u| !u.disabled).map(|u| (u, scope)))
}
