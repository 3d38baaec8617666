//! The encryption keys in the configuration: `ENCRYPTION_KEY` (the current version),
//! `ENCRYPTION_KEY_V{n}` (older ones) and `LEGACY_ENCRYPTION_KEY_V{n}` (the older store's),
//! each from its variable or from the file its `_FILE` twin names.

use base64::{engine::general_purpose::STANDARD, Engine};
use secrecy::{ExposeSecret, SecretBox};
use std::{
    collections::{BTreeMap, HashMap},
    fmt,
};
use zeroize::Zeroizing;

/// A 256-bit key. Zeroed on drop; `Debug` never shows it.
pub struct EncryptionKey(SecretBox<[u8; 32]>);

impl EncryptionKey {
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(SecretBox::new(Box::new(bytes)))
    }

    pub fn bytes(&self) -> &[u8; 32] {
        self.0.expose_secret()
    }

    /// A fresh key from the operating system's random source.
    pub fn random() -> Self {
        use rand::RngCore;
        let mut bytes = Zeroizing::new([0u8; 32]);
        rand::rngs::OsRng.fill_bytes(bytes.as_mut());
        Self::from_bytes(*bytes)
    }
}

impl fmt::Debug for EncryptionKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("EncryptionKey([redacted])")
    }
}

/// Reads `ENCRYPTION_KEY` (the current version) and `ENCRYPTION_KEY_V{n}` (older ones), each
/// from the variable or from the file its `_FILE` twin names. `None` when any key is
/// unusable, or the current key is missing and `required` (it seeds the local root key);
/// the reasons go to `errors`.
pub(super) fn read_keys(vars: &HashMap<String, String>, current: u32, required: bool, errors: &mut Vec<String>) -> Option<BTreeMap<u32, EncryptionKey>> {
    let before = errors.len();
    // (version, variable): the current key first within its version.
    let mut names: Vec<(u32, String)> = vec![(current, "ENCRYPTION_KEY".to_owned())];
    for name in vars.keys() {
        let base = name.strip_suffix("_FILE").unwrap_or(name);
        // ENCRYPTION_KEY_V{digits}; ENCRYPTION_KEY_VERSION is something else.
        if let Some(n) = base.strip_prefix("ENCRYPTION_KEY_V").filter(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit())) {
            match n.parse::<u32>() {
                Ok(v) if v >= 1 => names.push((v, base.to_owned())),
                _ => errors.push(format!(
                    "{name} is not a key variable: older keys are named ENCRYPTION_KEY_V1, ENCRYPTION_KEY_V2, …"
                )),
            }
        }
    }
    names.sort_by(|a, b| (a.0, a.1 != "ENCRYPTION_KEY", &a.1).cmp(&(b.0, b.1 != "ENCRYPTION_KEY", &b.1)));
    names.dedup();

    let mut keys: BTreeMap<u32, (String, EncryptionKey)> = BTreeMap::new();
    for (version, name) in names {
        let Ok(text) = read_key_text(vars, &name, errors) else { continue };
        let Some(text) = text else {
            if name == "ENCRYPTION_KEY" && required {
                errors.push(
                    "ENCRYPTION_KEY is not set: generate one with `keyport keys generate` and put it in .env, or name a \
                     file holding it in ENCRYPTION_KEY_FILE (`make run` creates .env with a fresh key)."
                        .to_owned(),
                );
            }
            continue;
        };
        let key = match parse_key(&text) {
            Ok(key) => key,
            Err(problem) => {
                errors.push(format!(
                    "{name} {problem}: it must be the base64 encoding of exactly 32 random bytes; \
                     generate one with `keyport keys generate`."
                ));
                continue;
            }
        };
        if let Some((other, existing)) = keys.get(&version) {
            if existing.bytes() != key.bytes() {
                errors.push(format!(
                    "{name} differs from {other}, which is version {version} (ENCRYPTION_KEY_VERSION): \
                     remove {name} or correct ENCRYPTION_KEY_VERSION."
                ));
            }
            continue;
        }
        if let Some((other, _)) = keys.values().find(|(_, k)| k.bytes() == key.bytes()) {
            errors.push(format!("{name} holds the same key as {other}: every key version needs its own key."));
            continue;
        }
        keys.insert(version, (name, key));
    }
    (errors.len() == before && (keys.contains_key(&current) || !required)).then(|| keys.into_iter().map(|(v, (_, k))| (v, k)).collect())
}

/// `ENCRYPTION_KEY_PREVIOUS[_FILE]`: the root key's former `ENCRYPTION_KEY`, for rewrapping.
pub(super) fn read_previous_key(vars: &HashMap<String, String>, errors: &mut Vec<String>) -> Option<EncryptionKey> {
    let text = read_key_text(vars, "ENCRYPTION_KEY_PREVIOUS", errors).ok()??;
    parse_key(&text)
        .map_err(|problem| {
            errors.push(format!("ENCRYPTION_KEY_PREVIOUS {problem}: it must be the base64 key ENCRYPTION_KEY held before (32 bytes)."))
        })
        .ok()
}

/// `LEGACY_ENCRYPTION_KEY_V{n}[_FILE]`: the older store's keys, base64 or 64 hex digits
/// (Node apps often keep AES keys as hex).
pub(super) fn read_legacy_keys(vars: &HashMap<String, String>, errors: &mut Vec<String>) -> BTreeMap<u32, EncryptionKey> {
    let mut keys = BTreeMap::new();
    let mut names: Vec<&String> = vars.keys().collect();
    names.sort();
    for name in names {
        let base = name.strip_suffix("_FILE").unwrap_or(name);
        let Some(n) = base.strip_prefix("LEGACY_ENCRYPTION_KEY_V") else { continue };
        let Ok(version) = n.parse::<u32>() else {
            errors.push(format!("{name} is not a legacy key variable: they are named LEGACY_ENCRYPTION_KEY_V1, …_V2, …"));
            continue;
        };
        if keys.contains_key(&version) {
            continue;
        }
        let Ok(Some(text)) = read_key_text(vars, base, errors) else { continue };
        let mut bytes = Zeroizing::new([0u8; 32]);
        let hex = hex::decode_to_slice(text.as_str(), bytes.as_mut()).is_ok().then(|| EncryptionKey::from_bytes(*bytes));
        match hex.map(Ok).unwrap_or_else(|| parse_key(&text)) {
            Ok(key) => {
                keys.insert(version, key);
            }
            Err(problem) => errors.push(format!("{base} {problem}: it must be 32 bytes, as base64 or as 64 hex digits.")),
        }
    }
    keys
}

/// The key text from `NAME`, or from the file `NAME_FILE` points at (not both); `Ok(None)`
/// when neither is set, `Err` when the problem is already in `errors`.
pub(super) fn read_key_text(vars: &HashMap<String, String>, name: &str, errors: &mut Vec<String>) -> Result<Option<Zeroizing<String>>, ()> {
    let value = vars.get(name).map(|v| v.trim()).filter(|v| !v.is_empty());
    let file_var = format!("{name}_FILE");
    let file = vars.get(&file_var).map(|v| v.trim()).filter(|v| !v.is_empty());
    match (value, file) {
        (Some(_), Some(_)) => {
            errors.push(format!("{name} and {file_var} are both set: keep only one."));
            Err(())
        }
        (Some(v), None) => Ok(Some(Zeroizing::new(v.to_owned()))),
        (None, Some(path)) => match std::fs::read_to_string(path) {
            Ok(text) => Ok(Some(Zeroizing::new(text.trim().to_owned()))),
            Err(e) => {
                errors.push(format!(
                    "{file_var} names {path}, which cannot be read ({e}); check the path and its permissions."
                ));
                Err(())
            }
        },
        (None, None) => Ok(None),
    }
}

pub(super) fn parse_key(text: &str) -> Result<EncryptionKey, &'static str> {
    let bytes = Zeroizing::new(STANDARD.decode(text).map_err(|_| "is not valid base64")?);
    let key: [u8; 32] = bytes.as_slice().try_into().map_err(|_| "does not decode to 32 bytes")?;
    Ok(EncryptionKey::from_bytes(key))
}

/// A fresh random key, base64 encoded, for `keyport keys generate` and new `.env` files.
pub fn generate_key() -> String {
    use rand::RngCore;
    let mut key = Zeroizing::new([0u8; 32]);
    rand::rngs::OsRng.fill_bytes(key.as_mut());
    STANDARD.encode(key.as_ref())
}

