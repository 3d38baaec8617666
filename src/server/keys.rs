//! Data keys (docs/encryption.md, "Keys"): random AES-256 keys stored in the database
//! wrapped by the root key, unwrapped into each server's keyring. Start-up brings them in
//! (and a database from before data keys over), `refresh` picks up what another instance
//! did, `rotate` makes a new active key and re-encrypts to it, `retire` erases a key
//! nothing uses, and the loop in `round` refreshes and rotates on a schedule.

use super::{
    audit::{self, Action, Outcome, Target, TargetKind},
    auth::Caller,
    config::{EncryptionKey, KeyConfig},
    crypto::{check_value, Keyring, RootError, RootKey},
    db::Db,
    rotation,
    state::AppState,
    store::{keys as store, keys::Retired, StoreError, Unique},
};
use crate::domain::{AppError, FieldErrors, KeyState, RotationJob};
use std::collections::BTreeMap;

/// The keyring at start-up, with the root key `ROOT_KEY_SOURCE` names (local, Vault, KMS).
/// A new database gets a random data key v1 (`ENCRYPTION_KEY` only seeds a local root);
/// one from before data keys has the keys of its `ENCRYPTION_KEY*` variables wrapped, the
/// current one active; a key that no longer unwraps is refused with the sentence that says
/// what to set, unless `ENCRYPTION_KEY_PREVIOUS` unwraps it, in which case it is rewrapped
/// under the new root. A key in Vault under an older Vault key version is rewrapped too.
pub async fn open(db: &Db, config: &KeyConfig) -> Result<Keyring, String> {
    let root = RootKey::from_config(&config.root, config.by_version.get(&config.current))?;
    // The roots the data keys may still be wrapped with: the former ENCRYPTION_KEY, and
    // the external key the configured one replaced.
    let mut previous: Vec<RootKey> = config.previous.iter().map(RootKey::local).collect();
    if let Some(former) = &config.previous_root {
        previous.push(RootKey::from_config(former, None)?);
    }
    let db_error = |e: StoreError| format!("DATABASE_URL: cannot read or write the data keys ({e}).");
    let root_error = |e: RootError| format!("the root key ({}) cannot be used: {e}.", root.describe());

    let mut rows = store::rows(db).await.map_err(db_error)?;
    if rows.is_empty() {
        let key = EncryptionKey::random();
        let wrapped = root.wrap(config.current, &key).await.map_err(root_error)?;
        store::insert(db, config.current, KeyState::Active, &check_value(key.bytes()), &wrapped).await.map_err(db_error)?;
        rows = store::rows(db).await.map_err(db_error)?;
    }
    let bringing_over = !rows.iter().any(|r| r.state == KeyState::Active);
    if bringing_over {
        for (&version, key) in config.by_version.iter().filter(|(v, _)| !rows.iter().any(|r| r.version == **v)) {
            let wrapped = root.wrap(version, key).await.map_err(root_error)?;
            store::insert(db, version, KeyState::DecryptOnly, &check_value(key.bytes()), &wrapped).await.map_err(db_error)?;
        }
        rows = store::rows(db).await.map_err(db_error)?;
    }

    let mut keys = BTreeMap::new();
    let mut rewrapped = Vec::new();
    let mut used_previous = false;
    for row in rows.iter().filter(|r| r.state != KeyState::Retired) {
        let key = match &row.wrapped {
            Some(wrapped) => match root.unwrap(row.version, wrapped).await {
                Ok(key) => {
                    if let Some(fresh) = root.rewrapped_if_older(row.version, &key, wrapped).await.map_err(root_error)? {
                        rewrapped.push((row.version, Some(wrapped.clone()), fresh));
                    }
                    key
                }
                // Not the root's: the previous root's, to be rewrapped (a KMS may call a
                // blob it never made malformed rather than refused, so any error counts).
                Err(e) => {
                    let mut unwrapped = None;
                    for former in &previous {
                        if let Ok(key) = former.unwrap(row.version, wrapped).await {
                            unwrapped = Some(key);
                            break;
                        }
                    }
                    let Some(key) = unwrapped else {
                        return Err(match e {
                            RootError::Refused { .. } => wrong_root(row.version, !previous.is_empty(), &root),
                            e => root_error(e),
                        });
                    };
                    used_previous = true;
                    rewrapped.push((row.version, Some(wrapped.clone()), root.wrap(row.version, &key).await.map_err(root_error)?));
                    key
                }
            },
            // From before data keys: its variable supplies it, once.
            None => match config.by_version.get(&row.version) {
                Some(key) => {
                    rewrapped.push((row.version, None, root.wrap(row.version, key).await.map_err(root_error)?));
                    EncryptionKey::from_bytes(*key.bytes())
                }
                None => continue, // lost before it was wrapped: its secrets say "not available"
            },
        };
        if check_value(key.bytes()) != row.check_value {
            return Err(mismatch(row.version, row.wrapped.is_some(), row.version == config.current));
        }
        keys.insert(row.version, key);
    }
    store::rewrap(db, &rewrapped).await.map_err(db_error)?;
    if bringing_over {
        store::activate_if_none(db, config.current).await.map_err(db_error)?;
    }
    if !previous.is_empty() && !used_previous {
        tracing::warn!("a previous root key is set (ENCRYPTION_KEY_PREVIOUS, VAULT_TRANSIT_KEY_PREVIOUS or AWS_KMS_KEY_ID_PREVIOUS), but every data key unwraps with the root key: remove it");
    }
    for version in config.by_version.keys().filter(|v| **v != config.current && rows.iter().any(|r| r.version == **v && r.wrapped.is_some())) {
        tracing::warn!("ENCRYPTION_KEY_V{version} is no longer read (data key v{version} is wrapped in the database): remove it");
    }
    let rows = store::rows(db).await.map_err(db_error)?;
    let active = rows.iter().find(|r| r.state == KeyState::Active).map(|r| r.version).unwrap_or(config.current);
    if !keys.contains_key(&active) {
        return Err(format!(
            "the active data key v{active} is not available: it predates data keys and its key is not configured; \
             set it as ENCRYPTION_KEY with ENCRYPTION_KEY_VERSION={active}."
        ));
    }
    if !rewrapped.is_empty() {
        tracing::info!(keys = rewrapped.len(), root = %root.describe(), "data keys wrapped under the root key");
    }
    Ok(Keyring::with_root(root, active, &keys))
}

fn wrong_root(version: u32, had_previous: bool, root: &RootKey) -> String {
    if !matches!(root, RootKey::Local { .. }) {
        return format!(
            "the root key ({}) does not unwrap data key v{version}: it is not the key the data keys were wrapped with. \
             Name the key that wrapped them for one start so they are rewrapped: ENCRYPTION_KEY_PREVIOUS if it was \
             ENCRYPTION_KEY, VAULT_TRANSIT_KEY_PREVIOUS or AWS_KMS_KEY_ID_PREVIOUS if it was another key of the same \
             service (docs/encryption.md, \"A root key in Vault or AWS KMS\").",
            root.describe()
        );
    }
    if had_previous {
        format!(
            "neither ENCRYPTION_KEY nor ENCRYPTION_KEY_PREVIOUS unwraps data key v{version}: one of them must be the key \
             the data keys were last wrapped with (docs/encryption.md, \"Changing the root key\")."
        )
    } else {
        format!(
            "ENCRYPTION_KEY does not unwrap data key v{version}: it is not the root key the data keys were wrapped with. \
             Put back the key it replaced, or keep the new one and set the one it replaced as ENCRYPTION_KEY_PREVIOUS so \
             the data keys are rewrapped (docs/encryption.md, \"Changing the root key\")."
        )
    }
}

fn mismatch(version: u32, wrapped: bool, current: bool) -> String {
    match (wrapped, current) {
        (true, _) => format!("data key v{version} does not match its check value: its row in encryption_keys was changed."),
        (false, true) => format!(
            "ENCRYPTION_KEY for version {version} does not match the key that encrypted existing data; put back the key \
             used for version {version}, or give the new key a new version number (ENCRYPTION_KEY_VERSION)."
        ),
        (false, false) => format!(
            "ENCRYPTION_KEY_V{version} does not match the key that encrypted existing data; put back the key used for \
             version {version}."
        ),
    }
}

/// How long a root key that could not be reached is left alone before it is tried again
/// for a secret (the loop's round tries every `KEY_REFRESH_SECONDS` regardless).
const ROOT_AWAY_FOR: std::time::Duration = std::time::Duration::from_secs(5);

/// Brings the keyring in line with the database: a key another instance rotated in
/// becomes the active one here, a retired key goes. Returns whether anything changed.
pub async fn refresh(db: &Db, keyring: &Keyring) -> Result<bool, StoreError> {
    let Some(root) = keyring.root() else { return Ok(false) };
    let rows = store::rows(db).await?;
    let Some(active) = rows.iter().find(|r| r.state == KeyState::Active).map(|r| r.version) else { return Ok(false) };
    let live: Vec<_> = rows.iter().filter(|r| r.state != KeyState::Retired && r.wrapped.is_some()).collect();
    let held = keyring.versions();
    let unchanged = active == keyring.current_version()
        && held.len() == live.len()
        && live.iter().zip(&held).all(|(row, (version, check))| row.version == *version && row.check_value == *check);
    if unchanged {
        return Ok(false);
    }
    let mut keys = BTreeMap::new();
    for row in live {
        match root.unwrap(row.version, row.wrapped.as_deref().unwrap_or_default()).await {
            Ok(key) if check_value(key.bytes()) == row.check_value => {
                keys.insert(row.version, key);
            }
            // Installing without it would make its secrets unreadable here: keep the keys
            // held, try again next round.
            Err(RootError::Unavailable(why)) => {
                tracing::warn!(key.version = row.version, %why, "cannot unwrap a data key just now; the keys held stay in use");
                keyring.mark_root_away(ROOT_AWAY_FOR);
                return Ok(false);
            }
            _ => tracing::error!(key.version = row.version, "data key does not unwrap with this server's root key: its secrets cannot be opened here"),
        }
    }
    if !keys.contains_key(&active) {
        return Ok(false);
    }
    keyring.install(active, &keys);
    tracing::info!(key.version = active, versions = keys.len(), "data keys changed in the database: loaded");
    Ok(true)
}

/// Whether a secret under a data key version can be opened here.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Availability {
    Held,
    /// No such key, or retired, or the root key refuses it: its secrets do not open.
    Missing,
    /// The key exists but cannot be loaded just now (the root key in Vault or KMS, or the
    /// database, cannot be reached): say nothing about its secrets until it can.
    Away,
}

/// Loads the keys another instance made when `version` is not held here, so a server
/// that has not looked yet never fails to open a secret sealed with a new key, and never
/// takes an unreachable root key for a secret that does not decrypt.
pub async fn ensure(db: &Db, keyring: &Keyring, version: u32) -> Availability {
    if keyring.has(version) {
        return Availability::Held;
    }
    if keyring.root_away() {
        return Availability::Away;
    }
    if let Err(e) = refresh(db, keyring).await {
        tracing::warn!(error = %e, key.version = version, "cannot read the data keys");
        return Availability::Away;
    }
    match (keyring.has(version), keyring.root_away()) {
        (true, _) => Availability::Held,
        (false, true) => Availability::Away,
        (false, false) => Availability::Missing,
    }
}

impl Availability {
    /// The refusal a request gets while the key cannot be loaded.
    pub fn away_error(version: u32) -> AppError {
        AppError::Unavailable { message: format!("data key v{version} cannot be loaded just now (the root key or the database cannot be reached); try again shortly") }
    }
}

/// Makes a new random data key the active one (`from`, when given, must be the active
/// key: a second press of a button that showed it changes nothing), then re-encrypts
/// every secret to it; a re-encryption still under way is superseded by the new one.
pub async fn rotate(state: &AppState, caller: &Caller, from: Option<u32>) -> Result<RotationJob, AppError> {
    let (db, keyring) = (&state.db, &state.keyring);
    refresh(db, keyring).await?;
    let active = keyring.current_version();
    if let Some(from) = from.filter(|f| *f != active) {
        let message = format!("v{from} is no longer the active key (v{active} is): the keys changed meanwhile; nothing was rotated");
        return Err(AppError::Conflict { fields: FieldErrors::single("from", message) });
    }
    let root = keyring.root().ok_or_else(|| AppError::Unavailable { message: "this keyring has no root key".into() })?;
    let rows = store::rows(db).await?;
    let version = rows.iter().map(|r| r.version).max().unwrap_or(0).checked_add(1).ok_or_else(|| AppError::Unavailable { message: "no key version is left".into() })?;
    let key = EncryptionKey::random();
    let wrapped = root.wrap(version, &key).await.map_err(|e| AppError::Unavailable { message: format!("the root key ({}) cannot wrap a new data key: {e}", root.describe()) })?;
    if !store::rotate(db, active, version, &check_value(key.bytes()), &wrapped).await? {
        refresh(db, keyring).await?;
        return Err(StoreError::Duplicate(Unique::ActiveKey).into());
    }
    refresh(db, keyring).await?;
    tracing::info!(key.version = version, previous = active, "data key rotated");
    let detail = format!("v{active} → v{version}");
    audit::record(db, caller, Action::KeyRotated, Some(Target::new(TargetKind::Key, version, "")), Outcome::Ok, Some(detail)).await;
    rotation::supersede(state, version).await?;
    rotation::start(state, caller).await
}

/// Retires a decrypt-only key that no secret uses: its wrapped copy is erased.
pub async fn retire(state: &AppState, caller: &Caller, version: u32) -> Result<(), AppError> {
    let conflict = |message: String| AppError::Conflict { fields: FieldErrors::single("version", message) };
    match store::retire(&state.db, version).await? {
        Retired::Done => {}
        Retired::Unknown => return Err(AppError::not_found(format!("data key v{version} (it may be retired already)"))),
        Retired::Active => return Err(conflict(format!("v{version} is the active key: rotate to a new key first"))),
        Retired::InUse(n) => {
            let secrets = if n == 1 { "1 secret still uses" } else { &format!("{n} secrets still use") };
            return Err(conflict(format!("{secrets} v{version}: re-encrypt them to the active key first")));
        }
    }
    tracing::info!(key.version = version, "data key retired");
    audit::record(&state.db, caller, Action::KeyRetired, Some(Target::new(TargetKind::Key, version, "")), Outcome::Ok, None).await;
    refresh(&state.db, &state.keyring).await?;
    Ok(())
}

/// One round of the supervised loop: picks up what other instances did, rotates when the
/// active key is older than `KEY_ROTATION_DAYS`, then waits `KEY_REFRESH_SECONDS`.
pub async fn round(state: AppState) {
    if let Err(e) = refresh(&state.db, &state.keyring).await {
        tracing::warn!(error = %e, "cannot read the data keys");
    }
    if let Some(every) = state.config.keys.rotate_every {
        if let Err(e) = rotate_when_due(&state, every).await {
            tracing::warn!(error = %e, "scheduled key rotation did not happen");
        }
    }
    tokio::time::sleep(state.config.keys.refresh_interval).await;
}

async fn rotate_when_due(state: &AppState, every: std::time::Duration) -> Result<(), AppError> {
    let active = state.keyring.current_version();
    let rows = store::rows(&state.db).await?;
    let Some(row) = rows.iter().find(|r| r.version == active && r.state == KeyState::Active) else { return Ok(()) };
    let age = (chrono::Utc::now() - row.created_at).to_std().unwrap_or_default();
    if age >= every {
        // Several instances may try at once: one rotates, the others find `from` moved.
        match rotate(state, &Caller::job("scheduled key rotation"), Some(active)).await {
            Err(AppError::Conflict { .. }) => {}
            other => {
                other?;
            }
        }
    }
    Ok(())
}
