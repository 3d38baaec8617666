//! `keyport import FILE` and the admin import form: platforms exported from the older
//! Medusa-style store, whose `api_config` holds tokens in plaintext and/or as
//! `{encrypted, iv, authTag, keyVersion}` objects. Everything lands encrypted in Keyport's
//! own format through the credential store; plaintext never reaches the database or a log.

use super::{
    audit::{self, Action, Outcome},
    auth::Caller,
    crypto::legacy,
    platforms, secrets,
    state::AppState,
    store::{accounts, secrets as store},
};
use crate::domain::{AppError, AuthType, ImportProblem, ImportReport, PlatformDraft, SecretField};
use base64::{engine::general_purpose::STANDARD, Engine};
use secrecy::SecretString;
use serde_json::{Map, Value};
use zeroize::Zeroizing;

/// Largest file accepted: an export of a few thousand platforms.
pub const IMPORT_MAX_BYTES: usize = 10 * 1024 * 1024;

/// Imports every platform of `file`; what could not be imported is in the report, not an
/// error. An error means nothing could be read at all (or the database failed).
pub async fn run(state: &AppState, caller: &Caller, file: &[u8]) -> Result<ImportReport, AppError> {
    let mut report = ImportReport::default();
    let file_problem = |reason: String| ImportReport {
        problems: vec![ImportProblem { platform: "(the file)".into(), field: None, reason }],
        ..Default::default()
    };
    if file.len() > IMPORT_MAX_BYTES {
        return Ok(file_problem(format!("the file is larger than {} MiB", IMPORT_MAX_BYTES / 1024 / 1024)));
    }
    let entries = match serde_json::from_slice::<Value>(file) {
        Ok(Value::Array(entries)) => entries,
        Ok(_) => return Ok(file_problem("the file must be a JSON array of platforms".into())),
        // The position only: serde's message could quote the file's content.
        Err(e) => return Ok(file_problem(format!("the file is not valid JSON (line {}, column {})", e.line(), e.column()))),
    };
    for (index, entry) in entries.into_iter().enumerate() {
        import_one(state, caller, index, entry, &mut report).await?;
    }
    tracing::info!(summary = %report.summary(), "import finished");
    let outcome = if report.problems.is_empty() { Outcome::Ok } else { Outcome::Failed };
    audit::record(&state.db, caller, Action::Import, None, outcome, Some(report.summary())).await;
    Ok(report)
}

/// A secret found in an entry, still to be stored.
struct Found {
    field: SecretField,
    value: Zeroizing<String>,
    from_plaintext: bool,
}

async fn import_one(state: &AppState, caller: &Caller, index: usize, entry: Value, report: &mut ImportReport) -> Result<(), AppError> {
    let Value::Object(mut entry) = entry else {
        report.problems.push(ImportProblem { platform: format!("entry {}", index + 1), field: None, reason: "is not a JSON object".into() });
        return Ok(());
    };
    let name = entry.get("name").and_then(Value::as_str).map(str::to_owned);
    let label = name.clone().unwrap_or_else(|| format!("entry {}", index + 1));
    let problem = |field: Option<&str>, reason: String| ImportProblem { platform: label.clone(), field: field.map(str::to_owned), reason };
    let config = match entry.remove("api_config") {
        None | Some(Value::Null) => Map::new(),
        Some(Value::Object(config)) => config,
        Some(_) => {
            report.problems.push(problem(Some("api_config"), "is not a JSON object: platform skipped".into()));
            return Ok(());
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
        if let Some((value, from_plaintext)) = value {
            found.push(Found { field: *field, value, from_plaintext });
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
    let valid = match draft.validate() {
        Ok(valid) => valid,
        Err(fields) => {
            report.problems.push(problem(None, format!("platform skipped: {fields}")));
            return Ok(());
        }
    };
    let platform = match platforms::create(&state.db, caller, valid).await {
        Ok(p) => p,
        Err(AppError::Conflict { .. }) => {
            report.problems.push(problem(None, "a platform with this name already exists: skipped (nothing changed)".into()));
            return Ok(());
        }
        Err(e) => return Err(e),
    };
    report.platforms_created += 1;
    // An OAuth platform's tokens belong to an account: the imported connection becomes its first.
    let is_token = |f: &Found| platform.auth_type == AuthType::Oauth2 && matches!(f.field, SecretField::AccessToken | SecretField::RefreshToken);
    let (tokens, own): (Vec<Found>, Vec<Found>) = found.into_iter().partition(is_token);
    for f in own {
        let secret = SecretString::from(f.value.as_str().to_owned());
        match secrets::store_secret(&state.db, &state.keyring, caller, &platform, f.field, &secret).await {
            Ok(()) if f.from_plaintext => report.from_plaintext += 1,
            Ok(()) => report.from_ciphertext += 1,
            Err(e) => report.problems.push(problem(Some(f.field.as_str()), format!("not imported: {e}"))),
        }
    }
    let token = |field| tokens.iter().find(|f| f.field == field);
    match (token(SecretField::AccessToken), token(SecretField::RefreshToken)) {
        (None, None) => {}
        (None, Some(_)) => report.problems.push(problem(Some("refresh_token"), "not imported: a refresh token without its access token makes no account; connect the account instead".into())),
        (Some(access), refresh) => {
            let secret = |f: &Found| SecretString::from(f.value.as_str().to_owned());
            let facts = accounts::TokenFacts { token_type: Some("bearer".into()), scopes: None, expires_at: None };
            let grant = accounts::Grant::New(accounts::Identity::default(), None);
            match secrets::store_tokens(&state.db, &state.keyring, platform.id, &secret(access), refresh.map(secret).as_ref(), &facts, &grant).await {
                Ok(_) => {
                    for f in std::iter::once(access).chain(refresh) {
                        if f.from_plaintext { report.from_plaintext += 1 } else { report.from_ciphertext += 1 }
                    }
                }
                Err(e) => report.problems.push(problem(Some("access_token"), format!("not imported: {e}"))),
            }
        }
    }
    if plaintext_seen {
        store::flag_imported_plaintext(&state.db, platform.id).await?;
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
