//! Configuration, read once at start-up from the environment (and `.env`). Every problem is
//! reported together, one sentence each, naming the variable and the fix. Grouped by
//! concern; the keys are read in `keys`.

mod keys;
mod root;

pub use keys::{generate_key, EncryptionKey};
pub use root::{KmsConfig, RootConfig, VaultAuth, VaultConfig};
use keys::{read_keys, read_legacy_keys, read_previous_key};
use std::{
    collections::{BTreeMap, HashMap},
    fmt,
    net::SocketAddr,
    time::Duration,
};

pub const DEFAULT_DATABASE_URL: &str = "sqlite://data/keyport.db";
pub const DEFAULT_SITE_ADDR: &str = "127.0.0.1:3000";
/// Set to `off` to ignore `.env` (the test servers do).
pub const DOTENV_SWITCH: &str = "KEYPORT_DOTENV";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

#[derive(Debug)]
pub struct Config {
    pub database: DatabaseConfig,
    pub keys: KeyConfig,
    pub web: WebConfig,
    pub sessions: SessionConfig,
    pub oauth: OauthConfig,
    pub publishing: PublishConfig,
    pub integrity: IntegrityConfig,
    pub media: MediaConfig,
    /// What to log, as a tracing filter.
    pub rust_log: String,
}

pub struct DatabaseConfig {
    pub url: String,
    pub backend: Backend,
}

impl DatabaseConfig {
    /// The URL with any password replaced, for messages and logs.
    pub fn url_redacted(&self) -> String {
        redact_url_password(&self.url)
    }
}

impl fmt::Debug for DatabaseConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DatabaseConfig").field("url", &self.url_redacted()).field("backend", &self.backend).finish()
    }
}

#[derive(Debug)]
pub struct KeyConfig {
    /// `ENCRYPTION_KEY_VERSION`: before data keys were wrapped in the database, the version
    /// new secrets were sealed with; now read once, to bring such a database over.
    pub current: u32,
    /// Every configured key by version, `current` (`ENCRYPTION_KEY`, from which the local
    /// root key is derived) among them. The others only supply keys a database from before
    /// data keys has not wrapped yet. Empty only with a root key in Vault.
    pub by_version: BTreeMap<u32, EncryptionKey>,
    /// `ENCRYPTION_KEY_PREVIOUS`: the key `ENCRYPTION_KEY` replaced, while the data keys are
    /// rewrapped under the new root (a root key rotation, or the move to Vault).
    pub previous: Option<EncryptionKey>,
    /// `ROOT_KEY_SOURCE`: where the root key lives.
    pub root: RootConfig,
    /// `VAULT_TRANSIT_KEY_PREVIOUS` or `AWS_KMS_KEY_ID_PREVIOUS`: the external key `root`
    /// replaced, while the data keys are rewrapped under it.
    pub previous_root: Option<RootConfig>,
    /// `KEY_ROTATION_DAYS`: a new data key this often (off when unset).
    pub rotate_every: Option<Duration>,
    /// How often an instance looks for a data key another instance made.
    pub refresh_interval: Duration,
    /// Keys of the older Medusa-style store, by its `keyVersion`, for `keyport import`.
    pub legacy: BTreeMap<u32, EncryptionKey>,
}

#[derive(Debug)]
pub struct WebConfig {
    /// The address people reach Keyport at, without a trailing slash.
    pub public_url: String,
    pub site_addr: SocketAddr,
    /// Where cargo-leptos put the compiled CSS, JS and WASM.
    pub site_root: String,
    /// The hashes cargo-leptos added to those files' names (`hash-files`), which it writes
    /// beside the server binary: `LEPTOS_HASH_FILE_NAME`, relative to the binary's folder.
    pub hash_file: String,
    /// Reverse proxies whose `X-Forwarded-For` / `Forwarded` headers name the client.
    pub trusted_proxies: Vec<ipnet::IpNet>,
}

impl WebConfig {
    /// Whether people reach Keyport over https (then cookies are `Secure` and `__Host-`).
    pub fn https(&self) -> bool {
        self.public_url.starts_with("https://")
    }

    /// Whether a provider on the internet can reach `public_url`: not a loopback, private or
    /// link-local address, nor `localhost` or a name without a dot. Providers that fetch
    /// media by URL (Threads) need it; the composer warns otherwise.
    pub fn reachable_from_internet(&self) -> bool {
        let Some(host) = url::Url::parse(&self.public_url).ok().and_then(|u| u.host().map(|h| h.to_owned())) else {
            return false;
        };
        match host {
            url::Host::Domain(name) => name.contains('.') && !name.eq_ignore_ascii_case("localhost") && !name.ends_with(".localhost") && !name.ends_with(".local") && !name.ends_with(".internal"),
            url::Host::Ipv4(ip) => crate::server::egress::Policy::default().permits(ip.into()),
            url::Host::Ipv6(ip) => crate::server::egress::Policy::default().permits(ip.into()),
        }
    }
}

#[derive(Debug)]
pub struct SessionConfig {
    /// A session ends after this long without a request...
    pub idle: Duration,
    /// ...and this long after sign-in, however active.
    pub max_age: Duration,
}

#[derive(Debug)]
pub struct OauthConfig {
    /// A token that expires within this is refreshed before it is used.
    pub refresh_window: Duration,
    /// The background refresher renews tokens that expire within this...
    pub refresh_ahead: Duration,
    /// ...and looks this often.
    pub refresh_interval: Duration,
    /// Longest wait for a provider's token, revocation, userinfo or publishing endpoint.
    pub http_timeout: Duration,
    /// The offline OAuth provider the demo seeds a platform for (`keyport-sandbox`).
    pub sandbox_url: Option<String>,
    /// Where secrets may be sent (https only, no private addresses, unless allowed).
    pub egress: crate::server::egress::Policy,
}

#[derive(Debug)]
pub struct PublishConfig {
    /// How often the delivery worker looks for due deliveries.
    pub poll_interval: Duration,
    /// Attempts per delivery before it is marked failed.
    pub max_attempts: i32,
    /// The first retry waits about this long; each further one twice as long.
    pub retry_base: Duration,
}

/// The integrity sweep (`server::integrity`): every secret is opened once per `period`, at
/// most `per_second` a second, so a tampered or unreadable one shows on the list's badges.
#[derive(Debug)]
pub struct IntegrityConfig {
    pub period: Duration,
    pub per_second: u64,
}

#[derive(Debug)]
pub struct MediaConfig {
    pub storage: MediaStorage,
    /// The largest file an upload may be (images are capped lower: `server::media::IMAGE_MAX`).
    pub upload_max: u64,
}

/// Where uploaded images and video are kept.
#[derive(Debug)]
pub enum MediaStorage {
    /// A folder on this machine (the default, `data/media`).
    Directory(std::path::PathBuf),
    /// An S3-compatible bucket (AWS, MinIO, Ceph, moto…).
    S3 { bucket: String, endpoint: Option<String>, region: String, access_key_id: String, secret_access_key: secrecy::SecretString },
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

/// Reads the variables one by one, collecting every problem.
struct Reader {
    vars: HashMap<String, String>,
    errors: Vec<String>,
}

impl Reader {
    fn get(&self, name: &str) -> Option<String> {
        self.vars.get(name).map(|v| v.trim().to_owned()).filter(|v| !v.is_empty())
    }

    /// A whole number of at least 1 and at most `max`, or `default` when unset.
    fn count(&mut self, name: &str, default: u64, max: u64, unit: &str) -> u64 {
        match self.get(name) {
            None => default,
            Some(v) => match v.parse::<u64>() {
                Ok(n) if (1..=max).contains(&n) => n,
                _ => {
                    self.errors.push(format!("{name} must be a whole number of {unit} from 1 to {max} (it is \"{v}\")."));
                    default
                }
            },
        }
    }

    /// A duration given as a count of `unit_seconds` (a day at most, a year for sessions).
    fn seconds(&mut self, name: &str, default: u64, unit_seconds: u64, unit: &str) -> Duration {
        let max = 366 * 86_400 / unit_seconds;
        Duration::from_secs(self.count(name, default, max, unit) * unit_seconds)
    }

    /// `1`/`true`/`yes`/`on` or `0`/`false`/`no`/`off`; unset is off.
    fn switch(&mut self, name: &str) -> bool {
        match self.get(name).map(|v| v.to_ascii_lowercase()).as_deref() {
            None | Some("0" | "false" | "no" | "off") => false,
            Some("1" | "true" | "yes" | "on") => true,
            Some(other) => {
                self.errors.push(format!("{name} must be 1 or 0 (it is \"{other}\")."));
                false
            }
        }
    }

    /// A comma-separated list of IP addresses and networks (`10.0.0.0/8, 127.0.0.1`).
    fn networks(&mut self, name: &str) -> Vec<ipnet::IpNet> {
        let Some(list) = self.get(name) else { return Vec::new() };
        let mut networks = Vec::new();
        for item in list.split(',').map(str::trim).filter(|i| !i.is_empty()) {
            match item.parse::<ipnet::IpNet>().or_else(|_| item.parse::<std::net::IpAddr>().map(ipnet::IpNet::from)) {
                Ok(net) => networks.push(net),
                Err(_) => self.errors.push(format!("{name} must list IP addresses or networks separated by commas, such as 10.0.0.0/8, 127.0.0.1 (\"{item}\" is neither).")),
            }
        }
        networks
    }

    /// An http(s) URL without its trailing slash.
    fn http_url(&mut self, name: &str, what: &str) -> Option<String> {
        let url = self.get(name)?;
        if url.starts_with("http://") || url.starts_with("https://") {
            Some(url.trim_end_matches('/').to_owned())
        } else {
            self.errors.push(format!("{name} must be {what} (it is \"{url}\")."));
            None
        }
    }
}

impl Reader {
    /// `MEDIA_S3_BUCKET` chooses S3 (with its endpoint, region and key); else `MEDIA_DIR`.
    fn media(&mut self) -> MediaConfig {
        let upload_max = self.count("MEDIA_UPLOAD_MAX_MB", 1024, 16 * 1024, "megabytes") * 1024 * 1024;
        let storage = match self.get("MEDIA_S3_BUCKET") {
            None => MediaStorage::Directory(self.get("MEDIA_DIR").unwrap_or_else(|| "data/media".to_owned()).into()),
            Some(bucket) => {
                let mut required = |name: &str| {
                    self.get(name).unwrap_or_else(|| {
                        self.errors.push(format!("{name} must be set when MEDIA_S3_BUCKET is (the S3 credentials Keyport stores media with)."));
                        String::new()
                    })
                };
                let access_key_id = required("MEDIA_S3_ACCESS_KEY_ID");
                let secret_access_key = required("MEDIA_S3_SECRET_ACCESS_KEY").into();
                MediaStorage::S3 {
                    bucket,
                    endpoint: self.http_url("MEDIA_S3_ENDPOINT", "the http:// or https:// address of an S3-compatible service"),
                    region: self.get("MEDIA_S3_REGION").unwrap_or_else(|| "us-east-1".to_owned()),
                    access_key_id,
                    secret_access_key,
                }
            }
        };
        MediaConfig { storage, upload_max }
    }
}

impl Config {
    /// Reads the process environment, after loading `.env` from the working directory if
    /// there is one (variables already set win). `KEYPORT_DOTENV=off` skips `.env`: test
    /// servers get every variable they need and must not pick up a person's `.env`.
    pub fn from_env() -> Result<Self, ConfigErrors> {
        if std::env::var(DOTENV_SWITCH).as_deref() != Ok("off") {
            let _ = dotenvy::dotenv();
        }
        Self::from_vars(std::env::vars())
    }

    pub fn from_vars<K: Into<String>, V: Into<String>>(vars: impl IntoIterator<Item = (K, V)>) -> Result<Self, ConfigErrors> {
        let mut r = Reader { vars: vars.into_iter().map(|(k, v)| (k.into(), v.into())).collect(), errors: Vec::new() };

        let url = r.get("DATABASE_URL").unwrap_or_else(|| DEFAULT_DATABASE_URL.to_owned());
        let backend = match url.split_once("://").map(|(scheme, _)| scheme) {
            Some("sqlite") => Backend::Sqlite,
            Some("postgres" | "postgresql") => Backend::Postgres,
            _ => {
                r.errors.push(format!(
                    "DATABASE_URL must start with sqlite:// or postgres:// (it starts with \"{}\"); \
                     for example {DEFAULT_DATABASE_URL}.",
                    url.split(':').next().unwrap_or_default()
                ));
                Backend::Sqlite
            }
        };
        let database = DatabaseConfig { url, backend };

        let current = match r.get("ENCRYPTION_KEY_VERSION") {
            None => 1,
            Some(v) => match v.parse::<u32>() {
                Ok(n) if n >= 1 => n,
                _ => {
                    r.errors.push(format!("ENCRYPTION_KEY_VERSION must be a whole number of at least 1 (it is \"{v}\")."));
                    1
                }
            },
        };
        let root = r.root();
        let previous_root = r.previous_root(&root);
        let by_version = read_keys(&r.vars, current, matches!(root, RootConfig::Local), &mut r.errors);
        let previous = read_previous_key(&r.vars, &mut r.errors);
        let rotate_every = r.get("KEY_ROTATION_DAYS").is_some().then(|| r.seconds("KEY_ROTATION_DAYS", 90, 86_400, "days"));
        let refresh_interval = r.seconds("KEY_REFRESH_SECONDS", 2, 1, "seconds");
        let legacy = read_legacy_keys(&r.vars, &mut r.errors);

        let site_addr_text = r.get("LEPTOS_SITE_ADDR").unwrap_or_else(|| DEFAULT_SITE_ADDR.to_owned());
        let site_addr = site_addr_text.parse::<SocketAddr>().unwrap_or_else(|_| {
            r.errors.push(format!("LEPTOS_SITE_ADDR must be an IP address and port such as {DEFAULT_SITE_ADDR} (it is \"{site_addr_text}\")."));
            DEFAULT_SITE_ADDR.parse().expect("default address parses")
        });
        let public_url = match r.get("PUBLIC_URL") {
            None => format!("http://{site_addr}"),
            Some(_) => r.http_url("PUBLIC_URL", "the http:// or https:// address people open Keyport at").unwrap_or_default(),
        };
        let trusted_proxies = r.networks("TRUSTED_PROXIES");
        let site_root = r.get("LEPTOS_SITE_ROOT").unwrap_or_else(|| "target/site".to_owned());
        let hash_file = r.get("LEPTOS_HASH_FILE_NAME").unwrap_or_else(|| "hash.txt".to_owned());
        let web = WebConfig { public_url, site_addr, site_root, hash_file, trusted_proxies };

        let sessions = SessionConfig {
            idle: r.seconds("SESSION_IDLE_MINUTES", 60, 60, "minutes"),
            max_age: r.seconds("SESSION_MAX_HOURS", 12, 3600, "hours"),
        };
        let oauth = OauthConfig {
            refresh_window: r.seconds("TOKEN_REFRESH_WINDOW_SECONDS", 300, 1, "seconds"),
            refresh_ahead: r.seconds("TOKEN_REFRESH_AHEAD_SECONDS", 900, 1, "seconds"),
            refresh_interval: r.seconds("TOKEN_REFRESH_INTERVAL_SECONDS", 60, 1, "seconds"),
            http_timeout: r.seconds("OAUTH_HTTP_TIMEOUT_SECONDS", 15, 1, "seconds"),
            sandbox_url: r.http_url("SANDBOX_URL", "the http:// address keyport-sandbox listens on"),
            egress: crate::server::egress::Policy { allow_insecure_loopback: r.switch("ALLOW_INSECURE_PROVIDERS"), allowed: r.networks("EGRESS_ALLOWED_NETWORKS") },
        };
        let publishing = PublishConfig {
            poll_interval: Duration::from_millis(r.count("PUBLISH_POLL_MILLISECONDS", 1000, 3_600_000, "milliseconds")),
            max_attempts: r.count("PUBLISH_MAX_ATTEMPTS", 5, 100, "attempts") as i32,
            retry_base: r.seconds("PUBLISH_RETRY_BASE_SECONDS", 10, 1, "seconds"),
        };
        let integrity = IntegrityConfig {
            period: r.seconds("INTEGRITY_CHECK_HOURS", 24, 3600, "hours"),
            per_second: r.count("INTEGRITY_CHECKS_PER_SECOND", 200, 100_000, "secrets a second").max(1),
        };
        let media = r.media();
        let rust_log = r.get("RUST_LOG").unwrap_or_else(|| "info".to_owned());

        match by_version {
            Some(by_version) if r.errors.is_empty() => {
                Ok(Self { database, keys: KeyConfig { current, by_version, previous, root, previous_root, rotate_every, refresh_interval, legacy }, web, sessions, oauth, publishing, integrity, media, rust_log })
            }
            _ => Err(ConfigErrors(r.errors)),
        }
    }
}

/// `url` with its password replaced. A URL that does not parse may hold a password anywhere
/// (an unescaped `/` in it, say): then only its scheme is shown.
fn redact_url_password(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(parsed) if parsed.password().is_none() => url.to_owned(),
        Ok(mut parsed) => {
            let _ = parsed.set_password(Some("***"));
            parsed.into()
        }
        Err(_) => format!("{}://*** (not a valid URL)", url.split("://").next().unwrap_or_default()),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_public_url_is_reachable_only_when_the_internet_can_reach_it() {
        let reachable = |url: &str| WebConfig { public_url: url.into(), site_addr: DEFAULT_SITE_ADDR.parse().unwrap(), site_root: String::new(), hash_file: String::new(), trusted_proxies: Vec::new() }.reachable_from_internet();
        for yes in ["https://keyport.example.com", "http://203.0.113.7:3000", "https://[2001:4860::1]"] {
            assert!(reachable(yes), "{yes}");
        }
        for no in ["http://127.0.0.1:3000", "http://localhost:3000", "http://keyport:3000", "http://10.0.0.5", "http://192.168.1.2", "http://169.254.169.254", "http://printer.local", "http://[::1]:3000", "not a url"] {
            assert!(!reachable(no), "{no}");
        }
    }

    use super::*;
    use keys::parse_key;

    fn config(vars: &[(&str, &str)]) -> Result<Config, ConfigErrors> {
        Config::from_vars(vars.iter().copied())
    }

    const KEY: &str = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";

    #[test]
    fn defaults_need_only_a_key() {
        let c = config(&[("ENCRYPTION_KEY", KEY)]).unwrap();
        assert_eq!(c.database.url, DEFAULT_DATABASE_URL);
        assert_eq!(c.database.backend, Backend::Sqlite);
        assert_eq!(c.keys.current, 1);
        assert_eq!(c.web.public_url, "http://127.0.0.1:3000");
        assert_eq!(c.keys.by_version[&1].bytes()[31], 31);
    }

    #[test]
    fn a_root_key_in_vault_needs_an_address_and_a_way_in_but_no_encryption_key() {
        let c = config(&[("ROOT_KEY_SOURCE", "vault-transit"), ("VAULT_ADDR", "https://vault.internal:8200/"), ("VAULT_TOKEN", "hvs.x")]).unwrap();
        assert!(c.keys.by_version.is_empty());
        let RootConfig::VaultTransit(vault) = &c.keys.root else { panic!("{:?}", c.keys.root) };
        assert_eq!((vault.addr.as_str(), vault.mount.as_str(), vault.key.as_str()), ("https://vault.internal:8200", "transit", "keyport"));
        assert!(!format!("{c:?}").contains("hvs.x"), "the token is redacted");
        let c = config(&[("ROOT_KEY_SOURCE", "vault-transit"), ("VAULT_ADDR", "http://127.0.0.1:8200"), ("VAULT_ROLE_ID", "r"), ("VAULT_SECRET_ID", "s"), ("VAULT_TRANSIT_MOUNT", "kms/transit")]).unwrap();
        let RootConfig::VaultTransit(vault) = &c.keys.root else { panic!() };
        assert!(matches!(&vault.auth, VaultAuth::AppRole { mount, role_id, .. } if mount == "approle" && role_id == "r"));
        assert_eq!(vault.mount, "kms/transit");

        let problems = |vars: &[(&str, &str)]| config(vars).unwrap_err().0;
        assert!(problems(&[("ROOT_KEY_SOURCE", "kms")])[0].starts_with("ROOT_KEY_SOURCE must be local, vault-transit or aws-kms"));
        let missing = problems(&[("ROOT_KEY_SOURCE", "vault-transit")]);
        assert!(missing[0].starts_with("VAULT_ADDR must be set") && missing[1].starts_with("VAULT_TOKEN (or VAULT_TOKEN_FILE)"), "{missing:?}");
        let plain = problems(&[("ROOT_KEY_SOURCE", "vault-transit"), ("VAULT_ADDR", "http://vault.internal:8200"), ("VAULT_TOKEN", "t")]);
        assert_eq!(plain, ["VAULT_ADDR must be https:// (plain http only to this machine) (it is \"http://vault.internal:8200\")."]);
        let both = problems(&[("ROOT_KEY_SOURCE", "vault-transit"), ("VAULT_ADDR", "https://v"), ("VAULT_TOKEN", "t"), ("VAULT_ROLE_ID", "r")]);
        assert!(both[0].starts_with("VAULT_TOKEN and VAULT_ROLE_ID are both set"), "{both:?}");
        let half = problems(&[("ROOT_KEY_SOURCE", "vault-transit"), ("VAULT_ADDR", "https://v"), ("VAULT_ROLE_ID", "r"), ("VAULT_TRANSIT_KEY", "../sys")]);
        assert!(half.iter().any(|p| p.starts_with("VAULT_TRANSIT_KEY must be a Vault path")) && half.iter().any(|p| p.starts_with("VAULT_SECRET_ID")), "{half:?}");
        assert!(problems(&[])[0].starts_with("ENCRYPTION_KEY is not set"), "a local root still needs its key");
        assert!(problems(&[("ENCRYPTION_KEY", KEY), ("AWS_KMS_KEY_ID_PREVIOUS", "k")])[0].starts_with("AWS_KMS_KEY_ID_PREVIOUS is only read with ROOT_KEY_SOURCE=aws-kms"));
        let c = config(&[("ROOT_KEY_SOURCE", "vault-transit"), ("VAULT_ADDR", "https://v"), ("VAULT_TOKEN", "t"), ("VAULT_TRANSIT_KEY_PREVIOUS", "old")]).unwrap();
        assert!(matches!(&c.keys.previous_root, Some(RootConfig::VaultTransit(v)) if v.key == "old" && v.addr == "https://v"));
    }

    #[test]
    fn a_root_key_in_aws_kms_names_its_key_region_and_credentials() {
        let c = config(&[("ROOT_KEY_SOURCE", "aws-kms"), ("AWS_KMS_KEY_ID", "alias/keyport"), ("AWS_DEFAULT_REGION", "eu-west-1"), ("AWS_ACCESS_KEY_ID", "AKIA1"), ("AWS_SECRET_ACCESS_KEY", "s3cr3t")]).unwrap();
        let RootConfig::AwsKms(kms) = &c.keys.root else { panic!("{:?}", c.keys.root) };
        assert_eq!((kms.key_id.as_str(), kms.region.as_str(), kms.endpoint.as_deref()), ("alias/keyport", "eu-west-1", None));
        assert!(!format!("{c:?}").contains("s3cr3t"));
        let problems = config(&[("ROOT_KEY_SOURCE", "aws-kms"), ("AWS_ENDPOINT_URL_KMS", "kms.local")]).unwrap_err().0;
        for name in ["AWS_KMS_KEY_ID", "AWS_REGION", "AWS_ENDPOINT_URL_KMS", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"] {
            assert!(problems.iter().any(|p| p.starts_with(name)), "{name}: {problems:?}");
        }
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
        assert_eq!(c.keys.by_version.keys().copied().collect::<Vec<_>>(), [1, 2, 3]);
        assert_eq!(c.keys.current, 3);
        assert_eq!(c.keys.by_version[&2].bytes()[0], 0x20);
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
        assert_eq!(c.keys.by_version[&2].bytes()[0], 0x20);
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
        // An unescaped "/" in the password makes the URL invalid; the password still must not show.
        let redacted = redact_url_password("postgres://u:pa/ss@h/db");
        assert!(!redacted.contains("pa") && !redacted.contains("ss@"), "{redacted}");
    }
}
