//! Configuration, read once at start-up from the environment (and `.env`). Every problem is
//! reported together, one sentence each, naming the variable and the fix.

use base64::{engine::general_purpose::STANDARD, Engine};
use secrecy::{ExposeSecret, SecretBox};
use std::{fmt, net::SocketAddr};

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
    pub encryption_key: EncryptionKey,
    pub encryption_key_version: u32,
    /// The address people reach Keyport at, without a trailing slash.
    pub public_url: String,
    pub site_addr: SocketAddr,
    /// Where cargo-leptos put the compiled CSS, JS and WASM.
    pub site_root: String,
    pub rust_log: String,
}

impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Config")
            .field("database_url", &self.database_url_redacted())
            .field("backend", &self.backend)
            .field("encryption_key", &self.encryption_key)
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
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigErrors> {
        let get = |name: &str| get(name).map(|v| v.trim().to_owned()).filter(|v| !v.is_empty());
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

        let encryption_key = match get("ENCRYPTION_KEY") {
            None => {
                errors.push(
                    "ENCRYPTION_KEY is not set: generate one with `keyport keys generate` and put it in .env \
                     (`make run` creates .env with a fresh key)."
                        .to_owned(),
                );
                None
            }
            Some(text) => match parse_key(&text) {
                Ok(key) => Some(key),
                Err(problem) => {
                    errors.push(format!(
                        "ENCRYPTION_KEY {problem}: it must be the base64 encoding of exactly 32 random bytes; \
                         generate one with `keyport keys generate`."
                    ));
                    None
                }
            },
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

        match encryption_key {
            Some(encryption_key) if errors.is_empty() => Ok(Self {
                database_url,
                backend,
                encryption_key,
                encryption_key_version,
                public_url,
                site_addr,
                site_root: get("LEPTOS_SITE_ROOT").unwrap_or_else(|| "target/site".to_owned()),
                rust_log: get("RUST_LOG").unwrap_or_else(|| "info".to_owned()),
            }),
            _ => Err(ConfigErrors(errors)),
        }
    }

    /// The database URL with any password replaced, for messages and logs.
    pub fn database_url_redacted(&self) -> String {
        redact_url_password(&self.database_url)
    }
}

fn parse_key(text: &str) -> Result<EncryptionKey, &'static str> {
    let bytes = zeroize::Zeroizing::new(STANDARD.decode(text).map_err(|_| "is not valid base64")?);
    let key: [u8; 32] = bytes.as_slice().try_into().map_err(|_| "does not decode to 32 bytes")?;
    Ok(EncryptionKey(SecretBox::new(Box::new(key))))
}

/// A fresh random key, base64 encoded, for `keyport keys generate` and new `.env` files.
pub fn generate_key() -> String {
    use rand::RngCore;
    let mut key = zeroize::Zeroizing::new([0u8; 32]);
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
    use std::collections::HashMap;

    fn config(vars: &[(&str, &str)]) -> Result<Config, ConfigErrors> {
        let vars: HashMap<String, String> = vars.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        Config::from_lookup(|name| vars.get(name).cloned())
    }

    const KEY: &str = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";

    #[test]
    fn defaults_need_only_a_key() {
        let c = config(&[("ENCRYPTION_KEY", KEY)]).unwrap();
        assert_eq!(c.database_url, DEFAULT_DATABASE_URL);
        assert_eq!(c.backend, Backend::Sqlite);
        assert_eq!(c.encryption_key_version, 1);
        assert_eq!(c.public_url, "http://127.0.0.1:3000");
        assert_eq!(c.encryption_key.bytes()[31], 31);
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
        let names = ["DATABASE_URL", "ENCRYPTION_KEY ", "ENCRYPTION_KEY_VERSION", "LEPTOS_SITE_ADDR", "PUBLIC_URL"];
        assert_eq!(err.0.len(), names.len(), "{err}");
        for (line, name) in err.0.iter().zip(names) {
            assert!(line.starts_with(name), "{line}");
        }
        assert!(err.0[1].contains("32 bytes"));
    }

    #[test]
    fn missing_and_non_base64_keys_are_named() {
        assert!(config(&[]).unwrap_err().0[0].starts_with("ENCRYPTION_KEY is not set"));
        assert!(config(&[("ENCRYPTION_KEY", "%%%")]).unwrap_err().0[0].contains("is not valid base64"));
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
