//! The platform registry's operations, shared by the server functions and the JSON API:
//! validated input in, stored platforms (with their encryption badge) or a user-facing
//! [`AppError`] out.

use super::{
    audit::{self, Action, Outcome, Target, TargetKind},
    auth::Caller,
    crypto::Keyring,
    db::Db,
    oauth, secrets,
    state::AppState,
    store::platforms as store,
};
use crate::domain::{
    AppError, AuthType, FacetCounts, OauthSettingsForm, Platform, PlatformFilter, PlatformForm, PlatformList, ValidPlatform,
};
use uuid::Uuid;

fn missing(id: Uuid) -> AppError {
    AppError::not_found(format!("platform {id}"))
}

/// The platforms matching `filter`, each with its badge (from stored facts: nothing is
/// decrypted), and the counts for every filter choice (one grouped query). Category and
/// status filter in SQL; the encryption state applies here.
pub async fn list(db: &Db, keyring: &Keyring, filter: PlatformFilter) -> Result<PlatformList, AppError> {
    let sql_filter = PlatformFilter { encryption: None, ..filter };
    let (platforms, facets) = tokio::try_join!(store::list(db, &sql_filter), store::facets(db, keyring.current_version()))?;
    let badges = secrets::badges(db, keyring).await?;
    let platforms = platforms
        .into_iter()
        .map(|p| Platform { encryption: badges.get(&p.id).copied().unwrap_or_default(), ..p })
        .filter(|p| filter.encryption.is_none_or(|e| e == p.encryption.state))
        .collect();
    Ok(PlatformList { platforms, counts: FacetCounts::new(&facets, &filter) })
}

pub async fn get(db: &Db, keyring: &Keyring, id: Uuid) -> Result<Platform, AppError> {
    let platform = store::get(db, id).await?.ok_or_else(|| missing(id))?;
    with_badge(db, keyring, platform).await
}

async fn with_badge(db: &Db, keyring: &Keyring, platform: Platform) -> Result<Platform, AppError> {
    let encryption = secrets::encryption(db, keyring, platform.id).await?;
    Ok(Platform { encryption, ..platform })
}

pub async fn create(db: &Db, caller: &Caller, input: ValidPlatform) -> Result<Platform, AppError> {
    let platform = store::insert(db, &input).await?;
    tracing::info!(platform.id = %platform.id, platform.name = %platform.name, "platform created");
    audit::record(db, caller, Action::PlatformCreated, Some(Target::platform(&platform)), Outcome::Ok, None).await;
    Ok(platform)
}

pub async fn update(db: &Db, keyring: &Keyring, caller: &Caller, id: Uuid, input: ValidPlatform) -> Result<Platform, AppError> {
    let platform = store::update(db, id, &input).await?.ok_or_else(|| missing(id))?;
    tracing::info!(platform.id = %platform.id, "platform updated");
    audit::record(db, caller, Action::PlatformUpdated, Some(Target::platform(&platform)), Outcome::Ok, None).await;
    with_badge(db, keyring, platform).await
}

/// Creates a platform from the HTML form; an OAuth platform started from a catalog provider
/// gets that provider's settings.
pub async fn create_from_form(state: &AppState, caller: &Caller, form: PlatformForm) -> Result<Platform, AppError> {
    let provider = form.provider.trim().to_owned();
    let platform = create(&state.db, caller, form.validate()?).await?;
    if !provider.is_empty() && platform.auth_type == AuthType::Oauth2 {
        oauth::save_settings(state, caller, &platform, OauthSettingsForm { provider, ..Default::default() }).await?;
    }
    Ok(platform)
}

/// Deletes the platform; its secrets and credentials go with it (ON DELETE CASCADE). A
/// connected OAuth grant is revoked at the provider first (where it supports revocation),
/// so deleting does not leave a live grant behind.
pub async fn delete(state: &AppState, caller: &Caller, id: Uuid) -> Result<(), AppError> {
    let db = &state.db;
    let platform = store::get(db, id).await?.ok_or_else(|| missing(id))?;
    let revoked = match platform.auth_type {
        AuthType::Oauth2 => match oauth::revoke_all(state, &platform).await {
            Ok(true) => Some("the accounts' OAuth grants were revoked at the provider"),
            Ok(false) => None,
            Err(why) => {
                tracing::warn!(platform.id = %id, error = %why, "could not revoke the grant of a deleted platform");
                Some("the provider did not confirm revoking the OAuth grant: revoke it there")
            }
        },
        _ => None,
    };
    if !store::delete(db, id).await? {
        return Err(missing(id));
    }
    tracing::info!(platform.id = %id, "platform deleted");
    audit::record(db, caller, Action::PlatformDeleted, Some(Target::new(TargetKind::Platform, id, &platform.name)), Outcome::Ok, revoked.map(str::to_owned)).await;
    Ok(())
}
