//! The Vault personality: the parts of HashiCorp Vault's transit secrets engine and AppRole
//! login that Keyport's root key uses, at Vault's paths under `/vault` (so `VAULT_ADDR` is
//! `{sandbox}/vault`), in Vault's shapes. No Vault or OpenBao server can be installed from
//! the package registries this project builds from, so this is what Keyport's transit
//! client is tested against: request and answer shapes follow
//! https://developer.hashicorp.com/vault/api-docs/secret/transit (encrypt, decrypt, rotate,
//! key config) and https://developer.hashicorp.com/vault/api-docs/auth/approle#login-with-approle.
//! Transit keys are aes256-gcm96, ciphertexts `vault:v{n}:base64(nonce ‖ ciphertext ‖ tag)`
//! as Vault writes them, created on first encrypt (Vault's upsert); errors are
//! `{"errors": […]}` with Vault's status codes (403 for a missing or unknown token, 400 for
//! a ciphertext the key does not open).

use crate::faults::Endpoint;
use crate::state::AppState;
use aes_gcm::aead::{array::Array, AeadInOut, KeyInit};
use aes_gcm::Aes256Gcm;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use base64::{engine::general_purpose::STANDARD, Engine};
use rand::RngCore;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::time::{Duration, Instant};

/// The dev server's root token (Vault's `-dev-root-token-id`), allowed everything.
pub const ROOT_TOKEN: &str = "sandbox-vault-root-token";
/// The one AppRole: its role and secret IDs.
pub const ROLE_ID: &str = "keyport-sandbox-role";
pub const SECRET_ID: &str = "keyport-sandbox-secret";
/// The transit engine's mount.
const MOUNT: &str = "transit";

#[derive(Default)]
pub struct Vault {
    /// Transit keys by name: every version's key (v1 first) and the oldest that decrypts.
    keys: HashMap<String, TransitKey>,
    /// AppRole tokens and when each expires.
    tokens: HashMap<String, Instant>,
    /// The lease an AppRole login grants (`--vault-token-ttl`).
    pub token_ttl: Duration,
    /// Encrypt and decrypt calls answered, for tests.
    pub calls: u64,
}

impl std::fmt::Debug for Vault {
    /// Names and counts only: no key material, no token.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Vault").field("keys", &self.keys.keys().collect::<Vec<_>>()).field("tokens", &self.tokens.len()).field("calls", &self.calls).finish()
    }
}

struct TransitKey {
    /// Every version's cipher, v1 first; never empty.
    versions: Vec<Aes256Gcm>,
    min_decryption_version: usize,
}

impl Vault {
    pub fn revoke_tokens(&mut self) {
        self.tokens.clear();
    }

    fn authorized(&mut self, headers: &HeaderMap) -> bool {
        let Some(token) = headers.get("x-vault-token").and_then(|v| v.to_str().ok()) else { return false };
        let now = Instant::now();
        self.tokens.retain(|_, until| *until > now);
        token == ROOT_TOKEN || self.tokens.contains_key(token)
    }
}

fn errors(status: StatusCode, message: &str) -> Response {
    (status, axum::Json(json!({ "errors": [message] }))).into_response()
}

/// Vault's response envelope around `data` or `auth`.
fn answer(data: Value, auth: Value) -> Response {
    let body = json!({
        "request_id": uuid::Uuid::now_v7().to_string(), "lease_id": "", "renewable": false, "lease_duration": 0,
        "data": data, "wrap_info": null, "warnings": null, "auth": auth,
    });
    (StatusCode::OK, axum::Json(body)).into_response()
}

fn body(bytes: &[u8]) -> Result<Value, Response> {
    serde_json::from_slice::<Value>(bytes).ok().filter(Value::is_object).ok_or_else(|| errors(StatusCode::BAD_REQUEST, "failed to parse JSON input"))
}

fn b64_field(body: &Value, name: &str) -> Result<Vec<u8>, Response> {
    let text = body.get(name).and_then(Value::as_str).unwrap_or_default();
    STANDARD.decode(text).map_err(|_| errors(StatusCode::BAD_REQUEST, &format!("failed to base64-decode {name}")))
}

/// `POST /vault/v1/auth/approle/login`.
pub async fn login(State(app): State<AppState>, bytes: Bytes) -> Response {
    let body = match body(&bytes) {
        Ok(body) => body,
        Err(e) => return e,
    };
    let role = body.get("role_id").and_then(Value::as_str).unwrap_or_default();
    let secret = body.get("secret_id").and_then(Value::as_str).unwrap_or_default();
    if role != ROLE_ID || secret != SECRET_ID {
        return errors(StatusCode::BAD_REQUEST, "invalid role or secret ID");
    }
    let token = crate::secrets::random_secret("hvs.");
    let mut store = app.store();
    let ttl = store.vault.token_ttl;
    store.vault.tokens.insert(token.clone(), Instant::now() + ttl);
    let auth = json!({ "client_token": token, "accessor": crate::secrets::random_secret(""), "policies": ["default", "keyport"], "lease_duration": ttl.as_secs(), "renewable": true });
    answer(Value::Null, auth)
}

/// `POST /vault/v1/{mount}/{operation}/{name}`: `encrypt` or `decrypt`.
pub async fn operate(State(app): State<AppState>, Path((mount, operation, name)): Path<(String, String, String)>, headers: HeaderMap, bytes: Bytes) -> Response {
    if let Some(failure) = app.injected_fault(Endpoint::Vault).await {
        return failure;
    }
    let mut store = app.store();
    let vault = &mut store.vault;
    if !vault.authorized(&headers) {
        return errors(StatusCode::FORBIDDEN, "permission denied");
    }
    if mount != MOUNT {
        return errors(StatusCode::NOT_FOUND, &format!("no handler for route \"{mount}/{operation}/{name}\". route entry not found."));
    }
    let body = match body(&bytes) {
        Ok(body) => body,
        Err(e) => return e,
    };
    let associated = match b64_field(&body, "associated_data") {
        Ok(ad) => ad,
        Err(e) => return e,
    };
    vault.calls += 1;
    match operation.as_str() {
        "encrypt" => {
            let plaintext = match b64_field(&body, "plaintext") {
                Ok(p) => p,
                Err(e) => return e,
            };
            let key = vault.keys.entry(name).or_insert_with(|| TransitKey { versions: vec![random_cipher()], min_decryption_version: 1 });
            let (version, Some(cipher)) = (key.versions.len(), key.versions.last()) else {
                return errors(StatusCode::INTERNAL_SERVER_ERROR, "the key has no version");
            };
            let mut nonce = [0u8; 12];
            rand::rngs::OsRng.fill_bytes(&mut nonce);
            let mut sealed = plaintext;
            let Ok(tag) = cipher.encrypt_inout_detached(&Array::from(nonce), &associated, sealed.as_mut_slice().into()) else {
                return errors(StatusCode::BAD_REQUEST, "plaintext too large");
            };
            let blob = [&nonce[..], &sealed[..], &tag[..]].concat();
            answer(json!({ "ciphertext": format!("vault:v{version}:{}", STANDARD.encode(blob)), "key_version": version }), Value::Null)
        }
        "decrypt" => {
            let Some(key) = vault.keys.get(&name) else { return errors(StatusCode::BAD_REQUEST, "encryption key not found") };
            let ciphertext = body.get("ciphertext").and_then(Value::as_str).unwrap_or_default();
            let Some((version, blob)) = ciphertext.strip_prefix("vault:v").and_then(|rest| rest.split_once(':')) else {
                return errors(StatusCode::BAD_REQUEST, "invalid ciphertext: no prefix");
            };
            let Some((version, cipher)) = version.parse::<usize>().ok().and_then(|v| Some((v, key.versions.get(v.checked_sub(1)?)?))) else {
                return errors(StatusCode::BAD_REQUEST, "invalid ciphertext: version is too new");
            };
            if version < key.min_decryption_version {
                return errors(StatusCode::BAD_REQUEST, "ciphertext or signature version is disallowed by policy (too old)");
            }
            let blob = STANDARD.decode(blob).unwrap_or_default();
            let Some((nonce, tag, sealed)) = blob.split_first_chunk::<12>().and_then(|(nonce, rest)| rest.split_last_chunk::<16>().map(|(sealed, tag)| (nonce, tag, sealed))) else {
                return errors(StatusCode::BAD_REQUEST, "invalid ciphertext: could not decode");
            };
            let mut plaintext = sealed.to_vec();
            if cipher.decrypt_inout_detached(&Array::from(*nonce), &associated, plaintext.as_mut_slice().into(), &Array::from(*tag)).is_err() {
                return errors(StatusCode::BAD_REQUEST, "cipher: message authentication failed");
            }
            answer(json!({ "plaintext": STANDARD.encode(plaintext) }), Value::Null)
        }
        other => errors(StatusCode::NOT_FOUND, &format!("no handler for route \"{mount}/{other}/{name}\". route entry not found.")),
    }
}

/// `POST /vault/v1/{mount}/keys/{name}/{action}`: `rotate` (a new key version) or
/// `config` (`min_decryption_version`), as an operator would in Vault.
pub async fn manage(State(app): State<AppState>, Path((mount, name, action)): Path<(String, String, String)>, headers: HeaderMap, bytes: Bytes) -> Response {
    let mut store = app.store();
    let vault = &mut store.vault;
    if !vault.authorized(&headers) {
        return errors(StatusCode::FORBIDDEN, "permission denied");
    }
    let Some(key) = vault.keys.get_mut(&name).filter(|_| mount == MOUNT) else { return errors(StatusCode::NOT_FOUND, "key not found") };
    match action.as_str() {
        "rotate" => key.versions.push(random_cipher()),
        "config" => {
            let body = match body(&bytes) {
                Ok(body) => body,
                Err(e) => return e,
            };
            if let Some(min) = body.get("min_decryption_version").and_then(Value::as_u64) {
                let min = usize::try_from(min).unwrap_or(usize::MAX);
                if min < 1 || min > key.versions.len() {
                    return errors(StatusCode::BAD_REQUEST, "cannot set min decryption version outside of the key versions");
                }
                key.min_decryption_version = min;
            }
        }
        _ => return errors(StatusCode::NOT_FOUND, "unsupported path"),
    }
    answer(json!({ "name": name, "type": "aes256-gcm96", "latest_version": key.versions.len(), "min_decryption_version": key.min_decryption_version }), Value::Null)
}

fn random_cipher() -> Aes256Gcm {
    let mut key = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut key);
    Aes256Gcm::new(&Array::from(key))
}
