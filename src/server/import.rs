//! `keyport import FILE` and the admin import form: platforms exported from the older
//! Medusa-style store, whose `api_config` holds tokens in plaintext and/or as
//! `{encrypted, iv, authTag, keyVersion}` objects. Everything lands encrypted in Keyport's
//! own format through the credential store; plaintext never reaches the database or a log.

use super::{
    audit::{self, Action, Outcome},
    auth::Caller,
    crypto::{legacy, SecretSlot, ENCRYPTIONS_REFUSE_AT},
    secrets,
    state::AppState,
    text_input,
    store::{accounts, import::{self as import_store, NewPlatform}, secrets as store},
};
use crate::domain::{AppError, AuthType, ImportProblem, ImportReport, PlatformDraft, SecretField, ValidPlatform, NAME_MAX};
use std::collections::HashSet;
use uuid::Uuid;
use base64::{engine::general_purpose::STANDARD, Engine};
use secrecy::SecretString;
use serde_json::{value::RawValue, Map, Value};
use zeroize::Zeroizing;

/// Largest file `POST /api/imports` (and so the import form) accepts, about 200,000
/// platforms with two secrets each; `keyport import` reads any size.
pub const UPLOAD_MAX_BYTES: usize = 64 * 1024 * 1024;
/// Platforms written per transaction: a batch lands whole or not at all, with one commit.
pub const BATCH: usize = 500;

/// Imports every platform of `file`, a batch at a time, calling `progress(done, total)`
/// after each; what could not be imported is in the report, not an error. Should the
/// database fail halfway, the batches before stay imported and the report says where it
/// stopped: importing the same file again skips the names already there and imports the
/// rest. An error means nothing could be read at all.
pub async fn run(state: &AppState, caller: &Caller, file: &[u8], progress: impl FnMut(usize, usize)) -> Result<ImportReport, AppError> {
    match entries_of(file) {
        Ok(entries) => run_entries(state, caller, entries, progress).await,
        Err(reason) => Ok(ImportReport { problems: vec![ImportProblem { platform: "(the file)".into(), field: None, reason }], ..Default::default() }),
    }
}

/// The file's entries, each still unread (a few bytes of bookkeeping each beside the
/// file), or why the file is not a list of platforms.
pub fn entries_of(file: &[u8]) -> Result<Vec<&RawValue>, String> {
    serde_json::from_slice::<Vec<&RawValue>>(file).map_err(|e| match e.classify() {
        serde_json::error::Category::Data => "the file must be a JSON array of platforms".to_owned(),
        // The position only: serde's message could quote the file's content.
        _ => format!("the file is not valid JSON (line {}, column {})", e.line(), e.column()),
    })
}

/// [`run`], for entries already found.
pub async fn run_entries(state: &AppState, caller: &Caller, entries: Vec<&RawValue>, mut progress: impl FnMut(usize, usize)) -> Result<ImportReport, AppError> {
    let mut report = ImportReport::default();
    let total = entries.len();
    let mut batch = Vec::with_capacity(BATCH);
    let mut written_through = 0;
    for (index, entry) in entries.into_iter().enumerate() {
        batch.extend(read_entry(state, index, entry, &mut report));
        if batch.len() == BATCH || index + 1 == total {
            // A last batch can be empty: every entry in it was skipped.
            let written = match batch.is_empty() {
                true => Ok(()),
                false => write_batch(state, std::mem::take(&mut batch), &mut report).await,
            };
            if let Err(e) = written {
                tracing::error!(error = %e, after = written_through, "import stopped: a batch could not be written");
                stopped_after(&mut report, written_through, &format!("the next batch could not be written ({e})"));
                break;
            }
            written_through = index + 1;
            progress(written_through, total);
            if state.stopping.is_cancelled() && written_through < total {
                tracing::warn!(after = written_through, "import stopped: the server is shutting down");
                stopped_after(&mut report, written_through, "the server was shutting down");
                break;
            }
        }
    }
    if report.platforms_created > 0 {
        if let Err(e) = import_store::settle(&state.db).await {
            tracing::warn!(error = %e, "could not settle the tables (statistics, search index) after the import");
        }
    }
    tracing::info!(summary = %report.summary(), "import finished");
    let outcome = if report.problems.is_empty() { Outcome::Ok } else { Outcome::Failed };
    audit::record(&state.db, caller, Action::Import, None, outcome, Some(report.summary())).await;
    Ok(report)
}

/// Ends the report with where the import stopped, why, and how to go on.
fn stopped_after(report: &mut ImportReport, written_through: usize, why: &str) {
    report.problems.push(ImportProblem {
        platform: "(the file)".into(),
        field: None,
        reason: format!(
            "stopped after entry {written_through}: {why}. The platforms of entries 1 to {written_through} are imported; importing the same file again skips them and imports the rest"
        ),
    });
}

/// A secret found in an entry, still to be stored.
struct Found {
    field: SecretField,
    value: Zeroizing<String>,
    from_plaintext: bool,
}

/// An entry that passed every rule, still to be written.
struct Entry {
    label: String,
    fields: ValidPlatform,
    found: Vec<Found>,
    plaintext_seen: bool,
}

/// Reads one entry of the file: its platform and the secrets it carries (legacy
/// ciphertext opened with the legacy keys), or the problems that skip it.
fn read_entry(state: &AppState, index: usize, entry: &RawValue, report: &mut ImportReport) -> Option<Entry> {
    // It parsed once already, as part of the file.
    let entry = serde_json::from_str::<Value>(entry.get()).unwrap_or_default();
    let name = entry.get("name").and_then(Value::as_str).filter(|n| !n.contains('\0')).map(str::to_owned);
    // A name too long to keep is shown cut, not as the file has it.
    let label = match &name {
        Some(name) if name.chars().count() > NAME_MAX => format!("{}…", name.chars().take(NAME_MAX).collect::<String>()),
        Some(name) => name.clone(),
        None => format!("entry {}", index + 1),
    };
    let problem = |field: Option<&str>, reason: String| ImportProblem { platform: label.clone(), field: field.map(str::to_owned), reason };
    // No text in the database may hold a NUL (PostgreSQL's cannot): the entry is skipped
    // here, rather than its whole batch refused by the database.
    if let Some(field) = text_input::json_field_with_nul(&entry, "") {
        report.problems.push(problem(Some(&field), "holds a NUL character, which Keyport cannot store: platform skipped".into()));
        return None;
    }
    let Value::Object(mut entry) = entry else {
        report.problems.push(problem(None, "is not a JSON object".into()));
        return None;
    };
    let config = match entry.remove("api_config") {
        None | Some(Value::Null) => Map::new(),
        Some(Value::Object(config)) => config,
        Some(_) => {
            report.problems.push(problem(Some("api_config"), "is not a JSON object: platform skipped".into()));
            return None;
        }
    };
    let mut found = Vec::new();
    let mut plaintext_seen = false;
    for field in SecretField::ALL {
        let plain = config.get(field.as_str()).and_then(Value::as_str).filter(|v| !v.is_empty());
        plaintext_seen |= plain.is_some();
        let sealed = config.get(&format!("{}_encrypted", field.as_str())).filter(|v| !v.is_null());
        let value = match (sealed, plain) {
            (Some(sealed), plain) => match open_legacy(state, sealed) {
                Ok(value) => {
                    if plain.is_some_and(|p| p != value.as_str()) {
                        report.problems.push(problem(Some(field.as_str()), "the plaintext and encrypted copies differ: the encrypted one was imported".into()));
                    }
                    Some((value, false))
                }
                Err(reason) => {
                    report.problems.push(problem(Some(field.as_str()), format!("not imported: {reason}")));
                    None
                }
            },
            (None, Some(plain)) => Some((Zeroizing::new(plain.to_owned()), true)),
            (None, None) => None,
        };
        match value.map(|(value, from_plaintext)| (secrets::check_size(value.as_bytes()).map(|()| value), from_plaintext)) {
            Some((Ok(value), from_plaintext)) => found.push(Found { field: *field, value, from_plaintext }),
            Some((Err(e), _)) => report.problems.push(problem(Some(field.as_str()), format!("not imported: {e}"))),
            None => {}
        }
    }

    let text = |key: &str| entry.get(key).and_then(Value::as_str).map(str::to_owned);
    let has_tokens = found.iter().any(|f| matches!(f.field, SecretField::AccessToken | SecretField::RefreshToken));
    let draft = PlatformDraft {
        name,
        category: text("category"),
        auth_type: text("auth_type").or_else(|| has_tokens.then(|| "oauth2".to_owned())),
        status: text("status"),
        description: text("description"),
        icon_url: text("icon_url"),
        base_url: text("base_url"),
        metadata: None,
    };
    match draft.validate() {
        Ok(fields) => Some(Entry { label, fields, found, plaintext_seen }),
        Err(fields) => {
            report.problems.push(problem(None, format!("platform skipped: {fields}")));
            None
        }
    }
}

/// Writes a batch: the platforms and their own secrets, sealed for them, in one
/// transaction; then the OAuth tokens of the new ones, each through the account store.
async fn write_batch(state: &AppState, entries: Vec<Entry>, report: &mut ImportReport) -> Result<(), AppError> {
    let mut batch = Vec::with_capacity(entries.len());
    let mut rest = Vec::with_capacity(entries.len());
    let sealer = state.keyring.sealer();
    for entry in entries {
        let id = Uuid::now_v7();
        // An OAuth platform's tokens belong to an account: the imported connection becomes its first.
        let oauth = entry.fields.auth_type == AuthType::Oauth2;
        let (tokens, own): (Vec<Found>, Vec<Found>) =
            entry.found.into_iter().partition(|f| oauth && matches!(f.field, SecretField::AccessToken | SecretField::RefreshToken));
        let secrets = own.iter().map(|f| (f.field, sealer.seal(f.value.as_bytes(), &SecretSlot::platform_secret(id, f.field)))).collect();
        batch.push(NewPlatform { id, fields: entry.fields, secrets, imported_plaintext: entry.plaintext_seen });
        rest.push((entry.label, own, tokens));
    }
    let version = sealer.version();
    let inserted: HashSet<Uuid> = import_store::insert_batch(&state.db, &batch, version, ENCRYPTIONS_REFUSE_AT).await?.into_iter().collect();
    for (new, (label, own, tokens)) in batch.iter().zip(rest) {
        let problem = |field: Option<&str>, reason: String| ImportProblem { platform: label.clone(), field: field.map(str::to_owned), reason };
        if !inserted.contains(&new.id) {
            report.problems.push(problem(None, "a platform with this name already exists: skipped (nothing changed)".into()));
            continue;
        }
        report.platforms_created += 1;
        let mut count = |f: &Found| if f.from_plaintext { report.from_plaintext += 1 } else { report.from_ciphertext += 1 };
        own.iter().for_each(&mut count);
        let token = |field| tokens.iter().find(|f| f.field == field);
        match (token(SecretField::AccessToken), token(SecretField::RefreshToken)) {
            (None, None) => {}
            (None, Some(_)) => report.problems.push(problem(Some("refresh_token"), "not imported: a refresh token without its access token makes no account; connect the account instead".into())),
            (Some(access), refresh) => {
                let secret = |f: &Found| SecretString::from(f.value.as_str().to_owned());
                let facts = accounts::TokenFacts { token_type: Some("bearer".into()), scopes: None, expires_at: None };
                let grant = accounts::Grant::New(accounts::Identity::default(), None);
                match secrets::store_tokens(&state.db, &state.keyring, new.id, &secret(access), refresh.map(secret).as_ref(), &facts, &grant).await {
                    Ok(_) => std::iter::once(access).chain(refresh).for_each(&mut count),
                    Err(e) => report.problems.push(problem(Some("access_token"), format!("not imported: {e}"))),
                }
                // Storing tokens counts as a fresh value: the platform stays flagged.
                if new.imported_plaintext {
                    store::flag_imported_plaintext(&state.db, new.id).await?;
                }
            }
        }
    }
    Ok(())
}

/// Decrypts one `{encrypted, iv, authTag, keyVersion}` object with the legacy keys.
fn open_legacy(state: &AppState, sealed: &Value) -> Result<Zeroizing<String>, String> {
    let Value::Object(o) = sealed else { return Err("malformed: must be an object with encrypted, iv, authTag and keyVersion".into()) };
    let part = |name: &str| -> Result<Vec<u8>, String> {
        let text = o.get(name).and_then(Value::as_str).ok_or_else(|| format!("malformed: {name} is missing"))?;
        STANDARD.decode(text).map_err(|_| format!("malformed: {name} is not base64"))
    };
    let version = match o.get("keyVersion") {
        None | Some(Value::Null) => 1,
        Some(Value::Number(n)) => n.as_u64().and_then(|n| u32::try_from(n).ok()).ok_or("malformed: keyVersion is not a whole number")?,
        Some(Value::String(s)) => s.parse().map_err(|_| "malformed: keyVersion is not a whole number")?,
        Some(_) => return Err("malformed: keyVersion is not a whole number".into()),
    };
    let key = state.config.keys.legacy.get(&version).ok_or_else(|| format!("unknown key version {version}: set LEGACY_ENCRYPTION_KEY_V{version}"))?;
    let plaintext = legacy::open(key.bytes(), &part("iv")?, &part("encrypted")?, &part("authTag")?).map_err(|e| e.to_string())?;
    let text = std::str::from_utf8(&plaintext).map_err(|_| "decrypted, but it is not text".to_owned())?;
    Ok(Zeroizing::new(text.to_owned()))
}
