//! The credential store: the only way from a secret to the database ([`store_secret`]) and
//! from the database to a usable secret ([`resolve`]). Everything else sees statuses.

use super::{
    audit::{self, Action, Outcome, Target},
    auth::Caller,
    crypto::{CryptoError, Keyring, SecretSlot, ENCRYPTIONS_HARD_CAP, ENCRYPTIONS_REFUSE_AT},
    db::Db,
    error::internal,
    keys::Availability,
    store::{accounts, instances::{self, InstanceClient}, keys, secrets as store},
};
use crate::domain::{AppError, Credentials, Encryption, KeyVersionStatus, Platform, SecretField, SecretStatus};
use secrecy::{ExposeSecret, SecretString};
use uuid::Uuid;

/// Largest secret accepted: tokens and keys are a few KiB at most.
pub const SECRET_MAX_BYTES: usize = 16 * 1024;

/// Why a usable secret could not be had.
#[derive(Debug, thiserror::Error)]
pub enum SecretError {
    #[error("no {} is stored for this platform", .0.noun())]
    Missing(SecretField),
    #[error("the stored {} cannot be used: {cause}", field.noun())]
    Undecryptable { field: SecretField, cause: CryptoError },
}

impl From<SecretError> for AppError {
    fn from(e: SecretError) -> Self {
        AppError::Unavailable { message: e.to_string() }
    }
}

/// Encrypts `value` with the current key and stores it as `field` of the platform,
/// replacing any earlier value.
pub async fn store_secret(
    db: &Db,
    keyring: &Keyring,
    caller: &Caller,
    platform: &Platform,
    field: SecretField,
    value: &SecretString,
) -> Result<(), AppError> {
    let platform_id = platform.id;
    let plaintext = value.expose_secret().as_bytes();
    check_size(plaintext)?;
    let slot = SecretSlot::platform_secret(platform_id, field);
    let sealer = keyring.sealer();
    let version = sealer.version();
    store::put(db, platform_id, field, version, ENCRYPTIONS_REFUSE_AT, || sealer.seal(plaintext, &slot)).await?;
    tracing::info!(platform.id = %platform_id, secret.field = %field, key.version = version, "secret stored");
    audit::record(db, caller, Action::SecretSet, Some(Target::platform(platform)), Outcome::Ok, Some(format!("{field}, key v{version}"))).await;
    Ok(())
}

/// A secret's value must hold something and fit the limit.
pub fn check_size(plaintext: &[u8]) -> Result<(), AppError> {
    if plaintext.is_empty() {
        return Err(AppError::invalid("value", "must not be empty"));
    }
    if plaintext.len() > SECRET_MAX_BYTES {
        return Err(AppError::invalid("value", format!("must be at most {} KiB", SECRET_MAX_BYTES / 1024)));
    }
    Ok(())
}

/// Stores a token set from a provider in one transaction (see [`accounts::save_tokens`]),
/// sealed for the account's slots. Returns the account, `None` when a refresh's grant is
/// gone. A new connection's refresh token replaces the old one or, if the provider sent
/// none, deletes it; a refresh without one keeps it.
pub async fn store_tokens(
    db: &Db,
    keyring: &Keyring,
    platform_id: Uuid,
    access: &SecretString,
    refresh: Option<&SecretString>,
    facts: &accounts::TokenFacts,
    grant: &accounts::Grant,
) -> Result<Option<Uuid>, AppError> {
    // Any token the capped read of the provider's answer let through is stored: refusing
    // one now, after the provider has rotated the refresh token, would lose the grant.
    for value in std::iter::once(access).chain(refresh) {
        let len = value.expose_secret().len();
        if len == 0 || len > crate::server::oauth::client::MAX_ANSWER_BYTES {
            return Err(internal(format!("provider sent a token of {len} bytes")));
        }
    }
    let refreshing = matches!(grant, accounts::Grant::Refreshed { .. });
    let write = match (refresh, refreshing) {
        (Some(_), _) => accounts::RefreshWrite::Replace,
        (None, true) => accounts::RefreshWrite::Keep,
        (None, false) => accounts::RefreshWrite::Delete,
    };
    let limit = if refreshing { ENCRYPTIONS_HARD_CAP } else { ENCRYPTIONS_REFUSE_AT };
    let sealer = keyring.sealer();
    let version = sealer.version();
    let seal = |account_id: Uuid, field: SecretField| {
        let value = if field == SecretField::RefreshToken { refresh.unwrap_or(access) } else { access };
        sealer.seal(value.expose_secret().as_bytes(), &SecretSlot::account_token(account_id, field))
    };
    let saved = accounts::save_tokens(db, platform_id, version, limit, write, facts, grant, seal).await?;
    if let Some(account_id) = saved {
        tracing::info!(platform.id = %platform_id, account.id = %account_id, key.version = version, rotated = refresh.is_some(), "tokens stored");
    }
    Ok(saved)
}

/// Stores the client secret of an app Keyport registered on an instance, sealed for the
/// instance client's slot, with the registration (one transaction). `Conflict`: another
/// request registered on this instance first.
pub async fn store_instance_client(db: &Db, keyring: &Keyring, client: &InstanceClient, secret: &SecretString) -> Result<(), AppError> {
    let sealer = keyring.sealer();
    let version = sealer.version();
    let seal = |id| sealer.seal(secret.expose_secret().as_bytes(), &SecretSlot::instance_client(id, SecretField::ClientSecret));
    instances::insert(db, client, version, ENCRYPTIONS_REFUSE_AT, seal).await?;
    Ok(())
}

/// Re-binds OAuth tokens sealed before accounts existed (bound to their platform) to the
/// account the migration made of each connection: decrypted in memory, sealed for the
/// account's slot, written only if unchanged. Run at start-up; a token that does not
/// decrypt stays as it is (its account shows as needing a reconnect). Returns how many.
pub async fn bind_legacy_tokens(db: &Db, keyring: &Keyring) -> Result<usize, String> {
    let unbound = store::unbound_tokens(db).await.map_err(|e| format!("cannot read the tokens to re-bind to accounts: {e}"))?;
    let sealer = keyring.sealer();
    let version = sealer.version();
    let mut bound = 0;
    for sealed in &unbound {
        super::keys::ensure(db, keyring, sealed.key_version).await;
        let plaintext = match keyring.open(&sealed.ciphertext, &sealed.slot()) {
            Ok(plaintext) => plaintext,
            Err(e) => {
                tracing::warn!(platform.id = %sealed.platform_id, secret.field = %sealed.field, error = %e, "token left unbound: it does not decrypt");
                continue;
            }
        };
        let ciphertext = sealer.seal(&plaintext, &SecretSlot::account_token(sealed.owner_id, sealed.field));
        match store::bind_to_account(db, sealed, version, ENCRYPTIONS_REFUSE_AT, ciphertext).await {
            Ok(true) => bound += 1,
            Ok(false) => {}
            Err(e) => return Err(format!("cannot re-bind a token to its account: {e}")),
        }
    }
    if bound > 0 {
        tracing::info!(tokens = bound, key.version = version, "re-bound OAuth tokens to their accounts");
    }
    Ok(bound)
}

/// Refuses, before a refresh token is spent, when the current key could not store what a
/// refresh brings back (two encryptions).
pub async fn ensure_room_for_refresh(db: &Db, keyring: &Keyring) -> Result<(), AppError> {
    let version = keyring.current_version();
    if crate::server::store::keys::encryptions(db, version).await? + 2 > ENCRYPTIONS_REFUSE_AT {
        return Err(crate::server::store::StoreError::KeyExhausted { version }.into());
    }
    Ok(())
}

/// Longest basic-auth user name.
pub const USERNAME_MAX: usize = 200;

/// Sets one of the secrets an admin types in (API key, bearer token, client secret, or a
/// basic-auth password with its user name — required until one is stored).
#[allow(clippy::too_many_arguments)]
pub async fn set_typed(
    db: &Db,
    keyring: &Keyring,
    caller: &Caller,
    platform: &Platform,
    field: SecretField,
    value: &SecretString,
    username: Option<&str>,
) -> Result<(), AppError> {
    let allowed = platform.auth_type.secret_fields();
    if !allowed.contains(&field) {
        let names: Vec<_> = allowed.iter().map(|f| f.as_str()).collect();
        let message = format!("a {} platform holds no {field}; it holds {}", platform.auth_type.label(), names.join(", "));
        return Err(AppError::invalid("field", message));
    }
    let username = username.map(str::trim).filter(|u| !u.is_empty());
    match (field, username) {
        (SecretField::Password, Some(u)) if u.chars().count() > USERNAME_MAX => {
            return Err(AppError::invalid("username", format!("must be at most {USERNAME_MAX} characters")))
        }
        (SecretField::Password, None) if store::username(db, platform.id).await?.is_none() => {
            return Err(AppError::invalid("username", "is required for basic auth"))
        }
        (SecretField::Password, _) | (_, None) => {}
        (_, Some(_)) => return Err(AppError::invalid("username", "only goes with a password")),
    }
    store_secret(db, keyring, caller, platform, field, value).await?;
    if username.is_some() {
        store::set_username(db, platform.id, username).await?;
    }
    Ok(())
}

pub async fn remove_secret(db: &Db, caller: &Caller, platform: &Platform, field: SecretField) -> Result<(), AppError> {
    if !store::delete(db, platform.id, field).await? {
        return Err(AppError::not_found(format!("the {} of platform {}", field.noun(), platform.id)));
    }
    tracing::info!(platform.id = %platform.id, secret.field = %field, "secret removed");
    audit::record(db, caller, Action::SecretRemoved, Some(Target::platform(platform)), Outcome::Ok, Some(field.to_string())).await;
    Ok(())
}

/// The usable secret: decrypted, bound to its owner (a platform, or one of its accounts)
/// and field, or a typed reason why not. There is no plaintext fallback: there is no
/// plaintext column.
pub async fn resolve(db: &Db, keyring: &Keyring, owner_id: Uuid, field: SecretField) -> Result<SecretString, AppError> {
    resolve_optional(db, keyring, owner_id, field).await?.ok_or_else(|| SecretError::Missing(field).into())
}

/// Like [`resolve`], for secrets a platform may do without (a public client's secret).
pub async fn resolve_optional(db: &Db, keyring: &Keyring, owner_id: Uuid, field: SecretField) -> Result<Option<SecretString>, AppError> {
    let Some(sealed) = store::one(db, owner_id, field).await? else {
        return Ok(None);
    };
    if super::keys::ensure(db, keyring, sealed.key_version).await == Availability::Away {
        return Err(Availability::away_error(sealed.key_version));
    }
    let opened = keyring.open(&sealed.ciphertext, &sealed.slot());
    record(db, &sealed, opened.is_ok()).await?;
    let plaintext = opened.map_err(|e| {
        tracing::warn!(platform.id = %sealed.platform_id, secret.owner = %owner_id, secret.field = %field, error = %e, "secret does not decrypt");
        SecretError::Undecryptable { field, cause: e }
    })?;
    let text = String::from_utf8(plaintext.to_vec()).map_err(|_| internal("stored secret is not UTF-8"))?;
    Ok(Some(SecretString::from(text)))
}

/// What the platform page shows about its credentials.
pub async fn credentials(db: &Db, keyring: &Keyring, platform_id: Uuid) -> Result<Credentials, AppError> {
    let (secrets, username) = tokio::try_join!(statuses(db, keyring, platform_id, true), async { Ok(store::username(db, platform_id).await?) })?;
    Ok(Credentials { encryption: Encryption::of(&secrets, keyring.current_version()), secrets, username })
}

/// The encryption badge of one platform: its own secrets and its accounts' tokens.
pub async fn encryption(db: &Db, keyring: &Keyring, platform_id: Uuid) -> Result<Encryption, AppError> {
    Ok(Encryption::of(&statuses(db, keyring, platform_id, false).await?, keyring.current_version()))
}

/// The platform's own secrets (`own`), or those and its accounts' tokens.
async fn statuses(db: &Db, keyring: &Keyring, platform_id: Uuid, own: bool) -> Result<Vec<SecretStatus>, AppError> {
    let mut statuses = Vec::new();
    for sealed in store::for_platform(db, platform_id, own).await? {
        statuses.push(status(db, keyring, &sealed).await?);
    }
    Ok(statuses)
}

/// Describes a sealed secret, opening it to learn whether it opens, and records the answer
/// when it changed what is known (or, when its key cannot be loaded just now, what was).
async fn status(db: &Db, keyring: &Keyring, sealed: &store::SealedSecret) -> Result<SecretStatus, AppError> {
    let readable = match opens(db, keyring, sealed).await {
        Some(readable) => {
            record(db, sealed, readable).await?;
            readable
        }
        // Its key cannot be loaded just now: what was last known.
        None => !sealed.failing,
    };
    Ok(SecretStatus {
        field: sealed.field,
        key_version: sealed.key_version,
        current_key: sealed.key_version == keyring.current_version(),
        readable,
        updated_at: sealed.updated_at,
    })
}

/// Whether the secret opens with the data keys (its header naming the version it is stored
/// under, and the ciphertext bound to its slot); a key another instance made is loaded first.
/// `None` when its key cannot be loaded just now: nothing can be said.
pub async fn opens(db: &Db, keyring: &Keyring, sealed: &store::SealedSecret) -> Option<bool> {
    if super::keys::ensure(db, keyring, sealed.key_version).await == Availability::Away {
        return None;
    }
    Some(Keyring::key_version_of(&sealed.ciphertext) == Some(sealed.key_version) && keyring.open(&sealed.ciphertext, &sealed.slot()).is_ok())
}

/// Records whether the secret opened, when that differs from what was known (so a secret
/// used often costs no write).
pub async fn record(db: &Db, sealed: &store::SealedSecret, opened: bool) -> Result<(), super::store::StoreError> {
    if sealed.failing == opened {
        store::record_check(db, sealed, opened).await?;
    }
    Ok(())
}

/// Every data key, with what it protects and whether this server holds it, oldest first.
pub async fn key_versions(db: &Db, keyring: &Keyring) -> Result<Vec<KeyVersionStatus>, AppError> {
    let (rows, usage) = tokio::try_join!(keys::rows(db), keys::usage(db))?;
    let held = keyring.versions();
    Ok(rows
        .into_iter()
        .map(|row| {
            let used = usage.iter().find(|u| u.version == row.version);
            KeyVersionStatus {
                version: row.version,
                state: row.state,
                available: held.iter().any(|(v, _)| *v == row.version),
                check_value: row.check_value,
                created_at: row.created_at,
                secrets: used.map_or(0, |u| u.secrets),
                encryptions: used.map_or(0, |u| u.encryptions),
            }
        })
        .collect())
}
