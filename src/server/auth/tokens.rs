//! Personal API tokens: `kp_` + 32 random bytes (base64url), shown once, stored as SHA-256.

use super::Caller;
use crate::{
    domain::{ApiToken, AppError, NewApiToken, SecretText, User},
    server::{
        audit::{self, Action, Outcome, Target, TargetKind},
        db::Db,
        store::{tokens as store, users},
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

/// A new token for the calling user; its value is in the answer only.
pub async fn create(db: &Db, caller: &Caller, name: &str) -> Result<NewApiToken, AppError> {
    let user = caller.user.as_ref().ok_or(AppError::Unauthorized)?;
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 100 {
        return Err(AppError::invalid("name", "must be 1 to 100 characters, like \"QA scripts\""));
    }
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    let value = SecretText::new(format!("{PREFIX}{}", URL_SAFE_NO_PAD.encode(bytes)));
    let shown = value.expose()[..PREFIX.len() + 6].to_owned();
    let token = store::insert(db, user.id, name, &digest(value.expose()), &shown).await?;
    audit::record(db, caller, Action::ApiTokenCreated, Some(Target::new(TargetKind::ApiToken, token.id, &token.name)), Outcome::Ok, None).await;
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

/// The enabled user a bearer token belongs to, if it is a live token.
pub async fn authenticate(db: &Db, token: &str) -> Result<Option<User>, AppError> {
    if !token.starts_with(PREFIX) {
        return Ok(None);
    }
    let Some(user_id) = store::use_token(db, &digest(token)).await? else { return Ok(None) };
    Ok(users::get(db, user_id).await?.filter(|u| !u.disabled))
}
