//! A root key held in a HashiCorp Vault or OpenBao transit engine: Keyport sends a data
//! key to `encrypt` and gets `vault:v{n}:…` back, sends that to `decrypt` to get the data
//! key again; the root key itself never leaves Vault. The wrapped key's version is bound
//! as associated data (transit's `associated_data`, Vault 1.13 and later, OpenBao), as the
//! local root binds it.
//!
//! API: https://developer.hashicorp.com/vault/api-docs/secret/transit#encrypt-data and
//! #decrypt-data (`POST /v1/{mount}/encrypt/{name}`, `…/decrypt/{name}`, `X-Vault-Token`,
//! errors as `{"errors": […]}`); AppRole login:
//! https://developer.hashicorp.com/vault/api-docs/auth/approle#login-with-approle
//! (`POST /v1/auth/{mount}/login`, answer `auth.client_token`, `auth.lease_duration`);
//! namespaces: https://developer.hashicorp.com/vault/docs/enterprise/namespaces
//! (`X-Vault-Namespace`). OpenBao keeps the same paths: https://openbao.org/api-docs/secret/transit/

use super::root::RootError;
use crate::server::config::{EncryptionKey, VaultAuth, VaultConfig};
use crate::server::oauth::client::read_capped;
use base64::{engine::general_purpose::STANDARD, Engine};
use secrecy::{ExposeSecret, SecretString};
use serde_json::{json, Value};
use std::time::{Duration, Instant};
use zeroize::Zeroizing;

/// A Vault answer slower than this is an outage, not a wait: start-up and rotation say so.
const TIMEOUT: Duration = Duration::from_secs(10);
/// An AppRole token is used for at most this long, whatever lease Vault gives.
const MAX_TOKEN_LIFE: Duration = Duration::from_secs(24 * 3600);

pub struct Transit {
    http: reqwest::Client,
    config: VaultConfig,
    /// The AppRole login's token and when to log in again.
    session: tokio::sync::Mutex<Option<(SecretString, Instant)>>,
}

impl Transit {
    pub fn new(config: VaultConfig) -> Result<Self, String> {
        let mut http = reqwest::Client::builder()
            .timeout(TIMEOUT)
            .connect_timeout(Duration::from_secs(5))
            // A token must not follow a redirect to another host.
            .redirect(reqwest::redirect::Policy::none());
        if let Some(path) = &config.ca_cert {
            let pem = std::fs::read(path).map_err(|e| format!("VAULT_CACERT names {}, which cannot be read ({e}).", path.display()))?;
            let ca = reqwest::Certificate::from_pem(&pem).map_err(|e| format!("VAULT_CACERT ({}) is not a PEM certificate ({e}).", path.display()))?;
            http = http.add_root_certificate(ca);
        }
        let http = http.build().map_err(|e| format!("cannot set up the HTTP client for Vault ({e})."))?;
        Ok(Self { http, config, session: tokio::sync::Mutex::new(None) })
    }

    /// What the keys panel shows: the server and the key, never a token.
    pub fn describe(&self) -> String {
        format!("Vault transit key {}/{} at {}", self.config.mount, self.config.key, self.config.addr)
    }

    pub async fn wrap(&self, key: &EncryptionKey, aad: &str) -> Result<Vec<u8>, RootError> {
        let body = json!({ "plaintext": STANDARD.encode(key.bytes()), "associated_data": STANDARD.encode(aad) });
        let answer = self.call("encrypt", &body).await.map_err(|f| f.into_root_error("encrypt"))?;
        let ciphertext = answer.pointer("/data/ciphertext").and_then(Value::as_str).filter(|c| c.starts_with("vault:v"));
        let ciphertext = ciphertext.ok_or_else(|| RootError::Unavailable("Vault's encrypt answer has no vault:v… ciphertext".into()))?;
        Ok(ciphertext.as_bytes().to_vec())
    }

    pub async fn unwrap(&self, version: u32, wrapped: &[u8], aad: &str) -> Result<EncryptionKey, RootError> {
        let refused = RootError::Refused { version };
        let Some(ciphertext) = std::str::from_utf8(wrapped).ok().filter(|c| c.starts_with("vault:v")) else { return Err(refused) };
        let body = json!({ "ciphertext": ciphertext, "associated_data": STANDARD.encode(aad) });
        let answer = match self.call("decrypt", &body).await {
            // Vault answers 400 to a ciphertext its key does not open (another key, changed
            // bytes, other associated data): the same refusal as the local root's.
            Err(Failure::Status(400, _)) => return Err(refused),
            other => other.map_err(|f| f.into_root_error("decrypt"))?,
        };
        let plaintext = answer.pointer("/data/plaintext").and_then(Value::as_str).unwrap_or_default();
        let bytes = Zeroizing::new(STANDARD.decode(plaintext).map_err(|_| refused.clone())?);
        let key: [u8; 32] = bytes.as_slice().try_into().map_err(|_| refused)?;
        Ok(EncryptionKey::from_bytes(key))
    }

    /// The transit key version that wrapped `wrapped` (`vault:v3:…` → 3).
    pub fn key_version(wrapped: &[u8]) -> Option<u32> {
        let text = std::str::from_utf8(wrapped).ok()?;
        text.strip_prefix("vault:v")?.split(':').next()?.parse().ok()
    }

    /// `POST {addr}/v1/{mount}/{operation}/{key}`; with AppRole, a refused token logs in
    /// again once.
    async fn call(&self, operation: &str, body: &Value) -> Result<Value, Failure> {
        let url = format!("{}/v1/{}/{operation}/{}", self.config.addr, self.config.mount, self.config.key);
        let token = self.token(false).await?;
        match self.post(&url, Some(&token), body).await {
            Err(Failure::Status(403, _)) if matches!(self.config.auth, VaultAuth::AppRole { .. }) => {
                let token = self.token(true).await?;
                self.post(&url, Some(&token), body).await
            }
            other => other,
        }
    }

    async fn token(&self, renew: bool) -> Result<SecretString, Failure> {
        let (mount, role_id, secret_id) = match &self.config.auth {
            VaultAuth::Token(token) => return Ok(token.clone()),
            VaultAuth::AppRole { mount, role_id, secret_id } => (mount, role_id, secret_id),
        };
        let mut session = self.session.lock().await;
        if let Some((token, _)) = session.as_ref().filter(|(_, until)| !renew && Instant::now() < *until) {
            return Ok(token.clone());
        }
        let url = format!("{}/v1/auth/{mount}/login", self.config.addr);
        let body = json!({ "role_id": role_id, "secret_id": secret_id.expose_secret() });
        let answer = self.post(&url, None, &body).await.map_err(Failure::login)?;
        let token = answer.pointer("/auth/client_token").and_then(Value::as_str).filter(|t| !t.is_empty());
        let token = SecretString::from(token.ok_or_else(|| Failure::Login("the answer has no auth.client_token".into()))?.to_owned());
        // Log in again at three quarters of the lease (0 means no expiry), a day at most.
        let lease = answer.pointer("/auth/lease_duration").and_then(Value::as_u64).unwrap_or(0);
        let life = if lease == 0 { MAX_TOKEN_LIFE } else { Duration::from_millis(lease.min(MAX_TOKEN_LIFE.as_secs()) * 750) };
        *session = Some((token.clone(), Instant::now() + life));
        Ok(token)
    }

    async fn post(&self, url: &str, token: Option<&SecretString>, body: &Value) -> Result<Value, Failure> {
        let mut request = self.http.post(url).json(body);
        if let Some(token) = token {
            // Marked sensitive: never shown by a header dump at any log level.
            let mut value = reqwest::header::HeaderValue::from_str(token.expose_secret()).map_err(|_| Failure::Token)?;
            value.set_sensitive(true);
            request = request.header("X-Vault-Token", value);
        }
        if let Some(namespace) = &self.config.namespace {
            request = request.header("X-Vault-Namespace", namespace);
        }
        let response = request.send().await.map_err(|e| Failure::Network(crate::server::oauth::client::describe(&e)))?;
        let status = response.status().as_u16();
        let bytes = read_capped(response).await.map_err(Failure::Network)?;
        let answer: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        if !(200..300).contains(&status) {
            let errors = answer.get("errors").and_then(Value::as_array).map(|e| e.iter().filter_map(Value::as_str).collect::<Vec<_>>().join("; "));
            // Shown in start-up errors and 503 answers: a sentence, not a page.
            let errors: String = errors.filter(|e| !e.is_empty()).unwrap_or_else(|| "no error message".into()).chars().take(300).collect();
            return Err(Failure::Status(status, errors));
        }
        Ok(answer)
    }
}

enum Failure {
    Network(String),
    Status(u16, String),
    /// The AppRole login failed (the role or secret ID is wrong, or Vault is away).
    Login(String),
    /// The token cannot be sent (a line break or another byte a header cannot hold).
    Token,
}

impl Failure {
    fn login(self) -> Self {
        match self {
            Failure::Network(why) => Failure::Login(format!("Vault cannot be reached ({why})")),
            Failure::Status(status, why) => Failure::Login(format!("Vault answered {status}: {why}")),
            login => login,
        }
    }

    fn into_root_error(self, operation: &str) -> RootError {
        match self {
            Failure::Network(why) => RootError::Unavailable(format!("Vault cannot be reached for {operation} ({why})")),
            Failure::Login(why) => RootError::Unavailable(format!("the AppRole login to Vault failed ({why}); check VAULT_ROLE_ID and VAULT_SECRET_ID")),
            Failure::Token => RootError::Unavailable("the Vault token is not a valid HTTP header value; check VAULT_TOKEN".into()),
            Failure::Status(403, why) => RootError::Unavailable(format!("Vault refused {operation}: permission denied ({why}); check the token's policy allows update on the transit key's {operation} path")),
            Failure::Status(status, why) => RootError::Unavailable(format!("Vault answered {status} to {operation} ({why})")),
        }
    }
}
