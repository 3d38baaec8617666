//! Where the root key lives (`ROOT_KEY_SOURCE`): derived from `ENCRYPTION_KEY` here
//! (`local`, the default), or a key in a HashiCorp Vault / OpenBao transit engine
//! (`vault-transit`) or in AWS KMS (`aws-kms`), which wrap and unwrap the data keys
//! without the root key ever reaching Keyport.

use super::{keys::read_key_text, Reader};
use secrecy::SecretString;

#[derive(Debug)]
pub enum RootConfig {
    Local,
    VaultTransit(VaultConfig),
    AwsKms(KmsConfig),
}

/// A symmetric key in AWS KMS, with the variable names AWS's own SDKs read.
#[derive(Clone, Debug)]
pub struct KmsConfig {
    /// `AWS_KMS_KEY_ID`: the key's id, ARN, or alias (`alias/keyport`).
    pub key_id: String,
    /// `AWS_REGION` (or `AWS_DEFAULT_REGION`).
    pub region: String,
    /// `AWS_ENDPOINT_URL_KMS` (or `AWS_ENDPOINT_URL`): another endpoint (a VPC endpoint,
    /// a KMS-compatible server).
    pub endpoint: Option<String>,
    /// `AWS_ACCESS_KEY_ID`.
    pub access_key_id: String,
    /// `AWS_SECRET_ACCESS_KEY[_FILE]`.
    pub secret_access_key: SecretString,
    /// `AWS_SESSION_TOKEN`, for temporary credentials.
    pub session_token: Option<SecretString>,
}

/// A transit key in Vault or OpenBao, named by the variables Vault's own CLI reads where
/// one exists (`VAULT_ADDR`, `VAULT_TOKEN`, `VAULT_NAMESPACE`, `VAULT_CACERT`).
#[derive(Clone, Debug)]
pub struct VaultConfig {
    /// `VAULT_ADDR` without its trailing slash: https, or http to this machine only.
    pub addr: String,
    /// `VAULT_TRANSIT_MOUNT`: where the transit engine is mounted (`transit`).
    pub mount: String,
    /// `VAULT_TRANSIT_KEY`: the transit key's name (`keyport`).
    pub key: String,
    /// `VAULT_NAMESPACE` (Vault Enterprise, OpenBao namespaces).
    pub namespace: Option<String>,
    /// `VAULT_CACERT`: a PEM file with the CA that signed Vault's certificate.
    pub ca_cert: Option<std::path::PathBuf>,
    pub auth: VaultAuth,
}

#[derive(Clone, Debug)]
pub enum VaultAuth {
    /// `VAULT_TOKEN[_FILE]`.
    Token(SecretString),
    /// `VAULT_ROLE_ID` and `VAULT_SECRET_ID[_FILE]`, logged in at `auth/{mount}/login`
    /// (`VAULT_APPROLE_MOUNT`, `approle`); the token is renewed by logging in again.
    AppRole { mount: String, role_id: String, secret_id: SecretString },
}

impl Reader {
    pub(super) fn root(&mut self) -> RootConfig {
        match self.get("ROOT_KEY_SOURCE").as_deref() {
            None | Some("local") => RootConfig::Local,
            Some("vault-transit") => RootConfig::VaultTransit(self.vault()),
            Some("aws-kms") => RootConfig::AwsKms(self.kms()),
            Some(other) => {
                self.errors.push(format!("ROOT_KEY_SOURCE must be local, vault-transit or aws-kms (it is \"{other}\")."));
                RootConfig::Local
            }
        }
    }

    /// The same service with the key it used before (`VAULT_TRANSIT_KEY_PREVIOUS`,
    /// `AWS_KMS_KEY_ID_PREVIOUS`), to rewrap from one key to another.
    pub(super) fn previous_root(&mut self, root: &RootConfig) -> Option<RootConfig> {
        let (vault, kms) = (self.get("VAULT_TRANSIT_KEY_PREVIOUS"), self.get("AWS_KMS_KEY_ID_PREVIOUS"));
        match root {
            RootConfig::VaultTransit(config) if vault.is_some() => {
                let key = self.path_part("VAULT_TRANSIT_KEY_PREVIOUS", "");
                Some(RootConfig::VaultTransit(VaultConfig { key, ..config.clone() }))
            }
            RootConfig::AwsKms(config) if kms.is_some() => Some(RootConfig::AwsKms(KmsConfig { key_id: kms.unwrap_or_default(), ..config.clone() })),
            _ => {
                for (name, needs) in [("VAULT_TRANSIT_KEY_PREVIOUS", "vault-transit"), ("AWS_KMS_KEY_ID_PREVIOUS", "aws-kms")] {
                    if self.get(name).is_some() {
                        self.errors.push(format!("{name} is only read with ROOT_KEY_SOURCE={needs}: the key of the same service the data keys were wrapped with before."));
                    }
                }
                None
            }
        }
    }

    /// A path segment list of Vault's (`transit`, `kms/transit`), `default` when unset.
    fn path_part(&mut self, name: &str, default: &str) -> String {
        let value = self.get(name).unwrap_or_else(|| default.to_owned());
        let value = value.trim_matches('/').to_owned();
        if value.is_empty() || !value.split('/').all(|s| !s.is_empty() && !s.bytes().all(|b| b == b'.') && s.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b))) {
            self.errors.push(format!("{name} must be a Vault path of letters, digits, '-', '_' and '.', without . or .. parts (it is \"{value}\")."));
        }
        value
    }

    fn vault(&mut self) -> VaultConfig {
        let addr = match self.get("VAULT_ADDR") {
            None => {
                self.errors.push("VAULT_ADDR must be set when ROOT_KEY_SOURCE=vault-transit: the address of Vault or OpenBao, such as https://vault.internal:8200.".to_owned());
                String::new()
            }
            Some(addr) => {
                if let Err(why) = secure_or_loopback(&addr) {
                    self.errors.push(format!("VAULT_ADDR {why} (it is \"{addr}\")."));
                }
                addr.trim_end_matches('/').to_owned()
            }
        };
        let mount = self.path_part("VAULT_TRANSIT_MOUNT", "transit");
        let key = self.path_part("VAULT_TRANSIT_KEY", "keyport");
        let token = self.secret("VAULT_TOKEN");
        let auth = match (self.get("VAULT_ROLE_ID"), token) {
            (Some(_), Some(_)) => {
                self.errors.push("VAULT_TOKEN and VAULT_ROLE_ID are both set: keep the token, or the AppRole (VAULT_ROLE_ID and VAULT_SECRET_ID).".to_owned());
                VaultAuth::Token(SecretString::from(String::new()))
            }
            (None, Some(token)) => VaultAuth::Token(token),
            (Some(role_id), None) => {
                let mount = self.path_part("VAULT_APPROLE_MOUNT", "approle");
                let secret_id = self.secret("VAULT_SECRET_ID").unwrap_or_else(|| {
                    self.errors.push("VAULT_SECRET_ID (or VAULT_SECRET_ID_FILE) must be set with VAULT_ROLE_ID: the AppRole's secret ID.".to_owned());
                    SecretString::from(String::new())
                });
                VaultAuth::AppRole { mount, role_id, secret_id }
            }
            (None, None) => {
                self.errors.push("VAULT_TOKEN (or VAULT_TOKEN_FILE), or VAULT_ROLE_ID with VAULT_SECRET_ID, must be set when ROOT_KEY_SOURCE=vault-transit: how Keyport signs in to Vault.".to_owned());
                VaultAuth::Token(SecretString::from(String::new()))
            }
        };
        let namespace = self.get("VAULT_NAMESPACE");
        let ca_cert = self.get("VAULT_CACERT").map(Into::into);
        VaultConfig { addr, mount, key, namespace, ca_cert, auth }
    }

    fn kms(&mut self) -> KmsConfig {
        let required = |r: &mut Self, name: &str, what: &str| {
            r.get(name).unwrap_or_else(|| {
                r.errors.push(format!("{name} must be set when ROOT_KEY_SOURCE=aws-kms: {what}."));
                String::new()
            })
        };
        let key_id = required(self, "AWS_KMS_KEY_ID", "the KMS key's id, ARN or alias (alias/keyport)");
        let region = match self.get("AWS_REGION").or_else(|| self.get("AWS_DEFAULT_REGION")) {
            Some(region) => region,
            None => required(self, "AWS_REGION", "the key's region, such as eu-west-1"),
        };
        let endpoint = match self.get("AWS_ENDPOINT_URL_KMS") {
            Some(_) => self.http_url("AWS_ENDPOINT_URL_KMS", "the http:// or https:// address of KMS"),
            None => self.http_url("AWS_ENDPOINT_URL", "the http:// or https:// address of AWS"),
        };
        let access_key_id = required(self, "AWS_ACCESS_KEY_ID", "the access key Keyport signs its KMS calls with");
        let secret_access_key = self.secret("AWS_SECRET_ACCESS_KEY").unwrap_or_else(|| {
            self.errors.push("AWS_SECRET_ACCESS_KEY (or AWS_SECRET_ACCESS_KEY_FILE) must be set when ROOT_KEY_SOURCE=aws-kms: the secret of AWS_ACCESS_KEY_ID.".to_owned());
            SecretString::from(String::new())
        });
        let session_token = self.secret("AWS_SESSION_TOKEN");
        KmsConfig { key_id, region, endpoint, access_key_id, secret_access_key, session_token }
    }

    /// A credential from `NAME` or from the file `NAME_FILE` names.
    fn secret(&mut self, name: &str) -> Option<SecretString> {
        let text = read_key_text(&self.vars, name, &mut self.errors).ok()??;
        Some(SecretString::from(text.as_str().to_owned()))
    }
}

/// A token travels in a header: only over TLS, or to this machine (a local agent, tests).
fn secure_or_loopback(addr: &str) -> Result<(), &'static str> {
    let url = url::Url::parse(addr).map_err(|_| "is not a URL")?;
    match (url.scheme(), url.host()) {
        (_, None) => Err("has no host"),
        ("https", _) => Ok(()),
        ("http", Some(url::Host::Domain(d))) if d == "localhost" => Ok(()),
        ("http", Some(url::Host::Ipv4(ip))) if ip.is_loopback() => Ok(()),
        ("http", Some(url::Host::Ipv6(ip))) if ip.is_loopback() => Ok(()),
        ("http", _) => Err("must be https:// (plain http only to this machine)"),
        _ => Err("must be an https:// address"),
    }
}
