//! The root key (key-encryption key): it only ever wraps and unwraps data keys, a handful
//! of rows, so changing it is O(keys), not O(secrets). The local root is derived from
//! `ENCRYPTION_KEY` rather than being it: a database upgraded from before data keys still
//! uses that key as data key v1, and one key should not serve two purposes.

use super::keyring::{check_value, hmac};
use crate::server::config::EncryptionKey;
use aes_gcm::{
    aead::{array::Array, AeadInOut, KeyInit},
    Aes256Gcm,
};
use rand::RngCore;
use std::fmt;
use zeroize::Zeroizing;

/// Where the root key lives, as the keys panel names it (never the key).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RootSource {
    /// Derived from `ENCRYPTION_KEY` (or `ENCRYPTION_KEY_FILE`).
    Local,
}

/// The wrapped form of a data key is `nonce (12) || AES-256-GCM ciphertext (32) || tag
/// (16)`, with associated data naming the version, so a wrapped key copied into another
/// version's row does not unwrap.
pub const WRAPPED_LEN: usize = 12 + 32 + 16;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the root key does not unwrap data key v{version}")]
pub struct UnwrapError {
    pub version: u32,
}

pub struct RootKey {
    cipher: Aes256Gcm,
    check_value: String,
}

impl fmt::Debug for RootKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RootKey").field("source", &self.source()).field("check_value", &self.check_value).finish()
    }
}

impl RootKey {
    /// The local root: HMAC-SHA256(`ENCRYPTION_KEY`, "keyport root key v1").
    pub fn local(configured: &EncryptionKey) -> Self {
        let root = Zeroizing::new(hmac(configured.bytes(), b"keyport root key v1"));
        Self { cipher: Aes256Gcm::new_from_slice(&root[..]).expect("32-byte key"), check_value: check_value(&root) }
    }

    pub fn source(&self) -> RootSource {
        RootSource::Local
    }

    /// Identifies the root key without revealing it (same rule as a data key's).
    pub fn check_value(&self) -> &str {
        &self.check_value
    }

    pub fn wrap(&self, version: u32, key: &EncryptionKey) -> Vec<u8> {
        let mut nonce = [0u8; 12];
        rand::rngs::OsRng.fill_bytes(&mut nonce);
        let mut body = Zeroizing::new(*key.bytes());
        let tag = self
            .cipher
            .encrypt_inout_detached(&Array::from(nonce), aad(version).as_bytes(), (&mut body[..]).into())
            .expect("AES-GCM encrypts 32 bytes");
        [&nonce[..], &body[..], &tag[..]].concat()
    }

    pub fn unwrap(&self, version: u32, wrapped: &[u8]) -> Result<EncryptionKey, UnwrapError> {
        let refused = UnwrapError { version };
        if wrapped.len() != WRAPPED_LEN {
            return Err(refused);
        }
        let Some((nonce, rest)) = wrapped.split_first_chunk::<12>() else { return Err(refused) };
        let Some((body_bytes, tag)) = rest.split_last_chunk::<16>() else { return Err(refused) };
        let mut body = Zeroizing::new([0u8; 32]);
        body.copy_from_slice(body_bytes);
        self.cipher
            .decrypt_inout_detached(&Array::from(*nonce), aad(version).as_bytes(), (&mut body[..]).into(), &Array::from(*tag))
            .map_err(|_| refused)?;
        Ok(EncryptionKey::from_bytes(*body))
    }
}

fn aad(version: u32) -> String {
    format!("keyport data key v{version}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_wrapped_key_unwraps_only_with_its_root_and_its_version() {
        let root = RootKey::local(&EncryptionKey::from_bytes([1; 32]));
        let data = EncryptionKey::random();
        let wrapped = root.wrap(2, &data);
        assert_eq!(wrapped.len(), WRAPPED_LEN);
        assert!(!wrapped.windows(32).any(|w| w == data.bytes()), "the data key never shows");
        assert_eq!(root.unwrap(2, &wrapped).unwrap().bytes(), data.bytes());
        assert_eq!(root.unwrap(3, &wrapped).err(), Some(UnwrapError { version: 3 }), "another version's row");
        let other = RootKey::local(&EncryptionKey::from_bytes([2; 32]));
        assert!(other.unwrap(2, &wrapped).is_err(), "another root");
        let mut flipped = wrapped.clone();
        flipped[20] ^= 1;
        assert!(root.unwrap(2, &flipped).is_err(), "a changed byte");
        assert!(root.unwrap(2, &wrapped[..59]).is_err(), "a short one");
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
