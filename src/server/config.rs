//! Configuration, read once at start-up from the environment (and `.env`). Every problem is
//! reported together, one sentence each, naming the variable and the fix.

use base64::{engine::general_purpose::STANDARD, Engine};
use secrecy::{ExposeSecret, SecretBox};
use std::{
    collections::{BTreeMap, HashMap},
    fmt,
    net::SocketAddr,
    time::Duration,
};
use zeroize::Zeroizing;

pub const DEFAULT_DATABASE_URL: &str = "sqlite://data/keyport.db";
pub const DEFAULT_SITE_ADDR: &str = "127.0.0.1:3000";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// A 256-bit key. Zeroed on drop; `Debug` never shows it.
pub struct EncryptionKey(SecretBox<[u8; 32]>);

impl EncryptionKey {
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(SecretBox::new(Box::new(bytes)))
    }

    pub fn bytes(&self) -> &[u8; 32] {
        self.0.expose_secret()
    }
}

impl fmt::Debug for EncryptionKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("EncryptionKey([redacted])")
    }
}

pub struct Config {
    pub database_url: String,
    pub backend: Backend,
    /// Every configured key by version; the current one is `encryption_key_version`.
    pub encryption_keys: BTreeMap<u32, EncryptionKey>,
    pub encryption_key_version: u32,
    /// The address people reach Keyport at, without a trailing slash.
    pub public_url: String,
    pub site_addr: SocketAddr,
    /// Where cargo-leptos put the compiled CSS, JS and WASM.
    pub site_root: String,
    pub rust_log: String,
    /// A session ends after this long without a request.
    pub session_idle: Duration,
    /// A session ends this long after sign-in, however active.
    pub session_max_age: Duration,
    /// The offline OAuth provider the demo seeds a platform for (`keyport-sandbox`).
    pub sandbox_url: Option<String>,
    /// A token that expires within this is refreshed before it is used.
    pub token_refresh_window: Duration,
    /// The background refresher renews tokens that expire within this.
    pub token_refresh_ahead: Duration,
    /// How often the background refresher looks.
    pub token_refresh_interval: Duration,
    /// Longest wait for a provider's token, revocation or userinfo endpoint.
    pub oauth_http_timeout: Duration,
    /// Keys of the older Medusa-style store, by its `keyVersion`, for `keyport import`.
    pub legacy_keys: BTreeMap<u32, EncryptionKey>,
    /// How often the delivery worker looks for due deliveries.
    pub publish_poll_interval: Duration,
    /// Attempts per delivery before it is marked failed.
    pub publish_max_attempts: i32,
    /// The first retry waits about this long; each further one twice as long.
    pub publish_retry_base: Duration,
}

impl Config {
    /// Whether people reach Keyport over https (then cookies are `Secure` and `__Host-`).
    pub fn https(&self) -> bool {
        self.public_url.starts_with("https://")
    }
}

impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Config")
            .field("database_url", &self.database_url_redacted())
            .field("backend", &self.backend)
            .field("encryption_keys", &self.encryption_keys)
            .field("encryption_key_version", &self.encryption_key_version)
            .field("public_url", &self.public_url)
            .field("site_addr", &self.site_addr)
            .field("site_root", &self.site_root)
            .finish_non_exhaustive()
    }
}

/// Every configuration problem found, one sentence each.
#[derive(Debug)]
pub struct ConfigErrors(pub Vec<String>);

impl fmt::Display for ConfigErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0.join("\n"))
    }
}

impl std::error::Error for ConfigErrors {}

impl Config {
    /// Reads the process environment, after loading `.env` from the working directory if
    /// there is one (variables already set win).
    pub fn from_env() -> Result<Self, ConfigErrors> {
        let _ = dotenvy::dotenv();
        Self::from_vars(std::env::vars())
    }

    pub fn from_vars<K: Into<String>, V: Into<String>>(vars: impl IntoIterator<Item = (K, V)>) -> Result<Self, ConfigErrors> {
        let vars: HashMap<String, String> = vars.into_iter().map(|(k, v)| (k.into(), v.into())).collect();
        let get = |name: &str| vars.get(name).map(|v| v.trim().to_owned()).filter(|v| !v.is_empty());
        let mut errors = Vec::new();

        let database_url = get("DATABASE_URL").unwrap_or_else(|| DEFAULT_DATABASE_URL.to_owned());
        let backend = match database_url.split_once("://").map(|(scheme, _)| scheme) {
            Some("sqlite") => Backend::Sqlite,
            Some("postgres" | "postgresql") => Backend::Postgres,
            _ => {
                errors.push(format!(
                    "DATABASE_URL must start with sqlite:// or postgres:// (it starts with \"{}\"); \
                     for example {DEFAULT_DATABASE_URL}.",
                    database_url.split(':').next().unwrap_or_default()
                ));
                Backend::Sqlite
            }
        };

        let encryption_key_version = match get("ENCRYPTION_KEY_VERSION") {
            None => 1,
            Some(v) => match v.parse::<u32>() {
                Ok(n) if n >= 1 => n,
                _ => {
                    errors.push(format!(
                        "ENCRYPTION_KEY_VERSION must be a whole number of at least 1 (it is \"{v}\")."
                    ));
                    1
                }
            },
        };
        let encryption_keys = read_keys(&vars, encryption_key_version, &mut errors);
        let legacy_keys = read_legacy_keys(&vars, &mut errors);

        let site_addr_text = get("LEPTOS_SITE_ADDR").unwrap_or_else(|| DEFAULT_SITE_ADDR.to_owned());
        let site_addr = site_addr_text.parse::<SocketAddr>().unwrap_or_else(|_| {
            errors.push(format!(
                "LEPTOS_SITE_ADDR must be an IP address and port such as {DEFAULT_SITE_ADDR} (it is \"{site_addr_text}\")."
            ));
            DEFAULT_SITE_ADDR.parse().expect("default address parses")
        });

        let public_url = match get("PUBLIC_URL") {
            None => format!("http://{site_addr}"),
            Some(url) if url.starts_with("http://") || url.starts_with("https://") => {
                url.trim_end_matches('/').to_owned()
            }
            Some(url) => {
                errors.push(format!(
                    "PUBLIC_URL must be the http:// or https:// address people open Keyport at (it is \"{url}\")."
                ));
                String::new()
            }
        };

        let mut duration = |name: &str, default: u64, unit: u64, unit_name: &str| match get(name) {
            None => Duration::from_secs(default * unit),
            Some(v) => match v.parse::<u64>() {
                Ok(n) if n >= 1 => Duration::from_secs(n * unit),
                _ => {
                    errors.push(format!("{name} must be a whole number of {unit_name}, at least 1 (it is \"{v}\")."));
                    Duration::from_secs(default * unit)
                }
            },
        };
        let session_idle = duration("SESSION_IDLE_MINUTES", 60, 60, "minutes");
        let session_max_age = duration("SESSION_MAX_HOURS", 12, 3600, "hours");
        let token_refresh_window = duration("TOKEN_REFRESH_WINDOW_SECONDS", 300, 1, "seconds");
        let token_refresh_ahead = duration("TOKEN_REFRESH_AHEAD_SECONDS", 900, 1, "seconds");
        let token_refresh_interval = duration("TOKEN_REFRESH_INTERVAL_SECONDS", 60, 1, "seconds");
        let oauth_http_timeout = duration("OAUTH_HTTP_TIMEOUT_SECONDS", 15, 1, "seconds");
        let publish_poll_interval = duration("PUBLISH_POLL_MILLISECONDS", 1000, 1, "milliseconds") / 1000;
        let publish_retry_base = duration("PUBLISH_RETRY_BASE_SECONDS", 10, 1, "seconds");
        let publish_max_attempts = duration("PUBLISH_MAX_ATTEMPTS", 5, 1, "attempts").as_secs().min(100) as i32;
        let sandbox_url = match get("SANDBOX_URL") {
            Some(url) if url.starts_with("http://") || url.starts_with("https://") => Some(url.trim_end_matches('/').to_owned()),
            Some(url) => {
                errors.push(format!("SANDBOX_URL must be the http:// address keyport-sandbox listens on (it is \"{url}\")."));
                None
            }
            None => None,
        };

        match encryption_keys {
            Some(encryption_keys) if errors.is_empty() => Ok(Self {
                database_url,
                backend,
                encryption_keys,
                encryption_key_version,
                public_url,
                site_addr,
                site_root: get("LEPTOS_SITE_ROOT").unwrap_or_else(|| "target/site".to_owned()),
                rust_log: get("RUST_LOG").unwrap_or_else(|| "info".to_owned()),
                session_idle,
                session_max_age,
                sandbox_url,
                token_refresh_window,
                token_refresh_ahead,
                token_refresh_interval,
                oauth_http_timeout,
                legacy_keys,
                publish_poll_interval,
                publish_max_attempts,
                publish_retry_base,
            }),
            _ => Err(ConfigErrors(errors)),
        }
    }

    /// The database URL with any password replaced, for messages and logs.
    pub fn database_url_redacted(&self) -> String {
        redact_url_password(&self.database_url)
    }
}

/// Reads `ENCRYPTION_KEY` (the current version) and `ENCRYPTION_KEY_V{n}` (older ones), each
/// from the variable or from the file its `_FILE` twin names. `None` when the current key is
/// missing or any key is unusable; the reasons go to `errors`.
fn read_keys(vars: &HashMap<String, String>, current: u32, errors: &mut Vec<String>) -> Option<BTreeMap<u32, EncryptionKey>> {
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
            if name == "ENCRYPTION_KEY" {
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
    (errors.len() == before && keys.contains_key(&current)).then(|| keys.into_iter().map(|(v, (_, k))| (v, k)).collect())
}

/// `LEGACY_ENCRYPTION_KEY_V{n}[_FILE]`: the older store's keys, base64 or 64 hex digits
/// (Node apps often keep AES keys as hex).
fn read_legacy_keys(vars: &HashMap<String, String>, errors: &mut Vec<String>) -> BTreeMap<u32, EncryptionKey> {
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
        let hex = (text.len() == 64 && text.bytes().all(|b| b.is_ascii_hexdigit())).then(|| {
            let mut bytes = [0u8; 32];
            for (i, byte) in bytes.iter_mut().enumerate() {
                *byte = u8::from_str_radix(&text[2 * i..2 * i + 2], 16).expect("hex digits");
            }
            EncryptionKey::from_bytes(bytes)
        });
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
fn read_key_text(vars: &HashMap<String, String>, name: &str, errors: &mut Vec<String>) -> Result<Option<Zeroizing<String>>, ()> {
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

fn parse_key(text: &str) -> Result<EncryptionKey, &'static str> {
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

fn redact_url_password(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else { return url.to_owned() };
    let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    match authority.rsplit_once('@') {
        Some((userinfo, host)) => {
            let user = userinfo.split(':').next().unwrap_or_default();
            format!("{scheme}://{user}:***@{host}{path}")
        }
        None => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(vars: &[(&str, &str)]) -> Result<Config, ConfigErrors> {
        Config::from_vars(vars.iter().copied())
    }

    const KEY: &str = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";

    #[test]
    fn defaults_need_only_a_key() {
        let c = config(&[("ENCRYPTION_KEY", KEY)]).unwrap();
        assert_eq!(c.database_url, DEFAULT_DATABASE_URL);
        assert_eq!(c.backend, Backend::Sqlite);
        assert_eq!(c.encryption_key_version, 1);
        assert_eq!(c.public_url, "http://127.0.0.1:3000");
        assert_eq!(c.encryption_keys[&1].bytes()[31], 31);
    }

    #[test]
    fn every_problem_is_reported_with_its_variable() {
        let err = config(&[
            ("DATABASE_URL", "mysql://x"),
            ("ENCRYPTION_KEY", "bm90IDMyIGJ5dGVz"),
            ("ENCRYPTION_KEY_VERSION", "0"),
            ("LEPTOS_SITE_ADDR", "localhost"),
            ("PUBLIC_URL", "example.com"),
        ])
        .unwrap_err();
        let names = ["DATABASE_URL", "ENCRYPTION_KEY_VERSION", "ENCRYPTION_KEY ", "LEPTOS_SITE_ADDR", "PUBLIC_URL"];
        assert_eq!(err.0.len(), names.len(), "{err}");
        for (line, name) in err.0.iter().zip(names) {
            assert!(line.starts_with(name), "{line}");
        }
        assert!(err.0[2].contains("32 bytes"));
    }

    #[test]
    fn missing_and_non_base64_keys_are_named() {
        assert!(config(&[]).unwrap_err().0[0].starts_with("ENCRYPTION_KEY is not set"));
        assert!(config(&[("ENCRYPTION_KEY", "%%%")]).unwrap_err().0[0].contains("is not valid base64"));
    }

    const KEY2: &str = "ICEiIyQlJicoKSorLC0uLzAxMjM0NTY3ODk6Ozw9Pj8=";
    const KEY3: &str = "QEFCQ0RFRkdISUpLTE1OT1BRUlNUVVZXWFlaW1xdXl8=";

    #[test]
    fn older_keys_come_from_numbered_variables() {
        let c = config(&[("ENCRYPTION_KEY", KEY3), ("ENCRYPTION_KEY_VERSION", "3"), ("ENCRYPTION_KEY_V1", KEY), ("ENCRYPTION_KEY_V2", KEY2)]).unwrap();
        assert_eq!(c.encryption_keys.keys().copied().collect::<Vec<_>>(), [1, 2, 3]);
        assert_eq!(c.encryption_key_version, 3);
        assert_eq!(c.encryption_keys[&2].bytes()[0], 0x20);
        let same = config(&[("ENCRYPTION_KEY", KEY2), ("ENCRYPTION_KEY_VERSION", "2"), ("ENCRYPTION_KEY_V2", KEY2)]);
        assert!(same.is_ok(), "repeating the current key under its own version is harmless");
    }

    #[test]
    fn refuses_two_versions_with_one_key_and_a_conflicting_current_version() {
        let err = config(&[("ENCRYPTION_KEY", KEY2), ("ENCRYPTION_KEY_VERSION", "2"), ("ENCRYPTION_KEY_V1", KEY2)]).unwrap_err();
        assert_eq!(err.0, ["ENCRYPTION_KEY holds the same key as ENCRYPTION_KEY_V1: every key version needs its own key."]);
        let err = config(&[("ENCRYPTION_KEY", KEY2), ("ENCRYPTION_KEY_VERSION", "2"), ("ENCRYPTION_KEY_V2", KEY)]).unwrap_err();
        assert!(err.0[0].starts_with("ENCRYPTION_KEY_V2 differs from ENCRYPTION_KEY, which is version 2"), "{err}");
        let err = config(&[("ENCRYPTION_KEY", KEY), ("ENCRYPTION_KEY_V0", KEY2)]).unwrap_err();
        assert!(err.0[0].starts_with("ENCRYPTION_KEY_V0 is not a key variable"), "{err}");
    }

    #[test]
    fn keys_can_come_from_files() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("key");
        std::fs::write(&path, format!("{KEY2}\n")).unwrap();
        let path = path.to_str().unwrap();
        let c = config(&[("ENCRYPTION_KEY_FILE", path), ("ENCRYPTION_KEY_V1", KEY), ("ENCRYPTION_KEY_VERSION", "2")]).unwrap();
        assert_eq!(c.encryption_keys[&2].bytes()[0], 0x20);
        let err = config(&[("ENCRYPTION_KEY_FILE", "/nonexistent/key")]).unwrap_err();
        assert!(err.0[0].starts_with("ENCRYPTION_KEY_FILE names /nonexistent/key, which cannot be read"), "{err}");
        let err = config(&[("ENCRYPTION_KEY_FILE", path), ("ENCRYPTION_KEY", KEY)]).unwrap_err();
        assert_eq!(err.0[0], "ENCRYPTION_KEY and ENCRYPTION_KEY_FILE are both set: keep only one.");
    }

    #[test]
    fn key_never_shows_in_debug() {
        let c = config(&[("ENCRYPTION_KEY", KEY)]).unwrap();
        let debug = format!("{c:?}");
        assert!(debug.contains("[redacted]") && !debug.contains(KEY), "{debug}");
        let c = config(&[("ENCRYPTION_KEY", KEY), ("DATABASE_URL", "postgres://u:hunter2@h/db")]).unwrap();
        assert!(!format!("{c:?}").contains("hunter2"));
    }

    #[test]
    fn generated_keys_are_valid_and_distinct() {
        let (a, b) = (generate_key(), generate_key());
        assert_ne!(a, b);
        assert!(parse_key(&a).is_ok());
    }

    #[test]
    fn database_passwords_are_redacted() {
        assert_eq!(redact_url_password("postgres://u:secret@h:5432/db"), "postgres://u:***@h:5432/db");
        assert_eq!(redact_url_password("sqlite://data/k.db"), "sqlite://data/k.db");
    }
}
