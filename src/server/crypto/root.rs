//! The root key (key-encryption key): it only ever wraps and unwraps data keys, a handful
//! of rows, so changing it is O(keys), not O(secrets). The local root is derived from
//! `ENCRYPTION_KEY` rather than being it: a database upgraded from before data keys still
//! uses that key as data key v1, and one key should not serve two purposes. A root key in
//! Vault's transit engine (`transit`) or in AWS KMS (`kms`) wraps over HTTP and never
//! reaches this process.

use super::keyring::{check_value, hmac};
use super::kms::Kms;
use super::transit::Transit;
use crate::server::config::{EncryptionKey, RootConfig};
use aes_gcm::{
    aead::{array::Array, AeadInOut, KeyInit},
    Aes256Gcm,
};
use rand::RngCore;
use std::fmt;
use zeroize::Zeroizing;

/// The local root's wrapped form of a data key is `nonce (12) || AES-256-GCM ciphertext
/// (32) || tag (16)`, with associated data naming the version, so a wrapped key copied into
/// another version's row does not unwrap. Vault's is its `vault:v{n}:…` text.
pub const WRAPPED_LEN: usize = 12 + 32 + 16;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RootError {
    /// The root key does not open this wrapped key: another root, or changed bytes.
    #[error("the root key does not unwrap data key v{version}")]
    Refused { version: u32 },
    /// The root key cannot be used just now (Vault unreachable, token refused…).
    #[error("{0}")]
    Unavailable(String),
}

pub enum RootKey {
    Local { cipher: Aes256Gcm, check_value: String },
    Transit(Transit),
    Kms(Kms),
}

impl fmt::Debug for RootKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RootKey").field("source", &self.describe()).field("check_value", &self.check_value()).finish()
    }
}

impl RootKey {
    /// The configured root: local (derived from `seed`, `ENCRYPTION_KEY`), in Vault or in KMS.
    pub fn from_config(config: &RootConfig, seed: Option<&EncryptionKey>) -> Result<Self, String> {
        match config {
            RootConfig::Local => seed.map(Self::local).ok_or_else(|| "ENCRYPTION_KEY is not set.".to_owned()),
            RootConfig::VaultTransit(vault) => Transit::new(vault.clone()).map(Self::Transit),
            RootConfig::AwsKms(kms) => Ok(Self::Kms(Kms::new(kms.clone()))),
        }
    }

    /// The local root: HMAC-SHA256(`ENCRYPTION_KEY`, "keyport root key v1").
    pub fn local(configured: &EncryptionKey) -> Self {
        let root = Zeroizing::new(hmac(configured.bytes(), b"keyport root key v1"));
        Self::Local { cipher: Aes256Gcm::new_from_slice(&root[..]).expect("32-byte key"), check_value: check_value(&root) }
    }

    /// Where the root key lives, as the keys panel names it (never a key or a token).
    pub fn describe(&self) -> String {
        match self {
            Self::Local { .. } => "ENCRYPTION_KEY (local)".to_owned(),
            Self::Transit(transit) => transit.describe(),
            Self::Kms(kms) => kms.describe(),
        }
    }

    /// Identifies a local root key without revealing it (same rule as a data key's);
    /// empty for a key in Vault or KMS, which `describe` names.
    pub fn check_value(&self) -> &str {
        match self {
            Self::Local { check_value, .. } => check_value,
            Self::Transit(_) | Self::Kms(_) => "",
        }
    }

    pub async fn wrap(&self, version: u32, key: &EncryptionKey) -> Result<Vec<u8>, RootError> {
        match self {
            Self::Local { cipher, .. } => Ok(wrap_local(cipher, version, key)),
            Self::Transit(transit) => transit.wrap(key, &aad(version)).await,
            // Boxed: the SDK's futures are deep, and every caller's future would nest them.
            Self::Kms(kms) => Box::pin(kms.wrap(version, key)).await,
        }
    }

    pub async fn unwrap(&self, version: u32, wrapped: &[u8]) -> Result<EncryptionKey, RootError> {
        match self {
            Self::Local { cipher, .. } => unwrap_local(cipher, version, wrapped),
            Self::Transit(transit) => transit.unwrap(version, wrapped, &aad(version)).await,
            Self::Kms(kms) => Box::pin(kms.unwrap(version, wrapped)).await,
        }
    }

    /// `key` wrapped anew when its wrapped form `wrapped` is under an older version of the
    /// root key (Vault rotated its transit key), so the older version can be retired there.
    pub async fn rewrapped_if_older(&self, version: u32, key: &EncryptionKey, wrapped: &[u8]) -> Result<Option<Vec<u8>>, RootError> {
        match self {
            // KMS keeps every version of its key material behind one key id.
            Self::Local { .. } | Self::Kms(_) => Ok(None),
            Self::Transit(transit) => {
                let fresh = transit.wrap(key, &aad(version)).await?;
                Ok((Transit::key_version(&fresh) > Transit::key_version(wrapped)).then_some(fresh))
            }
        }
    }
}

fn wrap_local(cipher: &Aes256Gcm, version: u32, key: &EncryptionKey) -> Vec<u8> {
    let mut nonce = [0u8; 12];
    rand::rngs::OsRng.fill_bytes(&mut nonce);
    let mut body = Zeroizing::new(*key.bytes());
    let tag = cipher
        .encrypt_inout_detached(&Array::from(nonce), aad(version).as_bytes(), (&mut body[..]).into())
        .expect("AES-GCM encrypts 32 bytes");
    [&nonce[..], &body[..], &tag[..]].concat()
}

fn unwrap_local(cipher: &Aes256Gcm, version: u32, wrapped: &[u8]) -> Result<EncryptionKey, RootError> {
    let refused = RootError::Refused { version };
    if wrapped.len() != WRAPPED_LEN {
        return Err(refused);
    }
    let Some((nonce, rest)) = wrapped.split_first_chunk::<12>() else { return Err(refused) };
    let Some((body_bytes, tag)) = rest.split_last_chunk::<16>() else { return Err(refused) };
    let mut body = Zeroizing::new([0u8; 32]);
    body.copy_from_slice(body_bytes);
    cipher
        .decrypt_inout_detached(&Array::from(*nonce), aad(version).as_bytes(), (&mut body[..]).into(), &Array::from(*tag))
        .map_err(|_| refused)?;
    Ok(EncryptionKey::from_bytes(*body))
}

fn aad(version: u32) -> String {
    format!("keyport data key v{version}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_wrapped_key_unwraps_only_with_its_root_and_its_version() {
        let root = RootKey::local(&EncryptionKey::from_bytes([1; 32]));
        let data = EncryptionKey::random();
        let wrapped = root.wrap(2, &data).await.unwrap();
        assert_eq!(wrapped.len(), WRAPPED_LEN);
        assert!(!wrapped.windows(32).any(|w| w == data.bytes()), "the data key never shows");
        assert_eq!(root.unwrap(2, &wrapped).await.unwrap().bytes(), data.bytes());
        assert_eq!(root.unwrap(3, &wrapped).await.err(), Some(RootError::Refused { version: 3 }), "another version's row");
        let other = RootKey::local(&EncryptionKey::from_bytes([2; 32]));
        assert!(other.unwrap(2, &wrapped).await.is_err(), "another root");
        let mut flipped = wrapped.clone();
        flipped[20] ^= 1;
        assert!(root.unwrap(2, &flipped).await.is_err(), "a changed byte");
        assert!(root.unwrap(2, &wrapped[..59]).await.is_err(), "a short one");
        assert_eq!(root.rewrapped_if_older(2, &data, &wrapped).await, Ok(None), "a local root has one version");
    }

    #[test]
    fn the_transit_key_version_is_read_from_the_wrapped_text() {
        assert_eq!(Transit::key_version(b"vault:v3:abc="), Some(3));
        assert_eq!(Transit::key_version(b"vault:v12:x"), Some(12));
        assert_eq!(Transit::key_version(b"vault:vX:x"), None);
        assert_eq!(Transit::key_version(&[0u8; 60]), None);
    }

    #[test]
    fn the_root_is_derived_not_the_configured_key_itself() {
        let configured = EncryptionKey::from_bytes([7; 32]);
        let root = RootKey::local(&configured);
        assert_ne!(root.check_value(), check_value(configured.bytes()));
        assert_eq!(root.check_value(), RootKey::local(&EncryptionKey::from_bytes([7; 32])).check_value(), "the same key, the same root");
        assert!(!format!("{root:?}").contains(&hex::encode([7u8; 32])));
    }
}
