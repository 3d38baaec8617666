//! The keyring: one AES-256-GCM key per version, the current one for sealing and every
//! configured one for opening. Keys never leave it; `Debug` lists versions only.

use super::envelope::{self, ParseError, SecretSlot, HEADER_LEN, NONCE_LEN, TAG_LEN};
use super::root::RootKey;
use crate::server::config::EncryptionKey;
use aes_gcm::{
    aead::{array::Array, AeadInOut, KeyInit},
    Aes256Gcm,
};
use hmac::{Hmac, Mac};
use rand::RngCore;
use sha2::Sha256;
use arc_swap::ArcSwap;
use std::{collections::BTreeMap, fmt, sync::Arc};
use zeroize::Zeroizing;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CryptoError {
    #[error("the stored ciphertext is damaged (too short)")]
    Malformed,
    #[error("the stored ciphertext uses envelope format {0}, which this version of Keyport cannot read")]
    UnknownFormat(u8),
    #[error("the secret is encrypted with key version {0}, which is not available (retired, or from before data keys and never supplied: set ENCRYPTION_KEY_V{0})")]
    UnknownKeyVersion(u32),
    #[error("the secret does not decrypt: wrong key, or the ciphertext was altered or moved")]
    Rejected,
}

struct VersionKey {
    cipher: Aes256Gcm,
    check_value: String,
    /// Signs links lent to providers: derived from the key, so it is never the key itself.
    link_key: Zeroizing<[u8; 32]>,
}

/// The data keys this server can use: `current` seals, every one opens. Replaced whole
/// (`install`) when another key is rotated in; readers never wait for that.
pub struct Keyring {
    keys: ArcSwap<Keys>,
    /// Unwraps data keys another instance made (`server::keys`); `None` in unit tests.
    root: Option<RootKey>,
    /// Until when the root key (Vault, KMS) is taken to be away after it could not be
    /// reached, so opening secrets does not wait on it for every one.
    root_away_until: std::sync::Mutex<Option<std::time::Instant>>,
}

struct Keys {
    current: u32,
    by_version: BTreeMap<u32, VersionKey>,
}

impl fmt::Debug for Keyring {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let keys = self.keys.load();
        f.debug_struct("Keyring").field("current", &keys.current).field("versions", &keys.by_version.keys()).finish_non_exhaustive()
    }
}

/// A key's check value: the first 16 bytes of HMAC-SHA256(key, "keyport key check v1"),
/// hex. It identifies a key without revealing it.
pub fn check_value(key: &[u8; 32]) -> String {
    hex::encode(&hmac(key, b"keyport key check v1")[..16])
}

pub(super) fn hmac(key: &[u8], message: &[u8]) -> [u8; 32] {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(key).expect("HMAC takes any key length");
    mac.update(message);
    mac.finalize().into_bytes().into()
}

impl Keys {
    fn new(current: u32, keys: &BTreeMap<u32, EncryptionKey>) -> Self {
        assert!(keys.contains_key(&current), "the current key version must be available");
        let by_version = keys
            .iter()
            .map(|(&version, key)| {
                let cipher = Aes256Gcm::new_from_slice(key.bytes()).expect("32-byte key");
                let mut link_key = Zeroizing::new([0u8; 32]);
                link_key.copy_from_slice(&hmac(key.bytes(), b"keyport link signing v1"));
                (version, VersionKey { cipher, check_value: check_value(key.bytes()), link_key })
            })
            .collect();
        Self { current, by_version }
    }
}

/// A snapshot of the keyring's keys that seals with one version ([`Keyring::sealer`]).
pub struct Sealer(Arc<Keys>);

impl Sealer {
    pub fn version(&self) -> u32 {
        self.0.current
    }

    pub fn seal(&self, plaintext: &[u8], slot: &SecretSlot) -> Vec<u8> {
        let mut nonce = [0u8; NONCE_LEN];
        rand::rngs::OsRng.fill_bytes(&mut nonce);
        let keys = &self.0;
        let key = &keys.by_version[&keys.current];
        let mut out = envelope::layout(keys.current, &nonce, plaintext);
        let body_end = out.len() - TAG_LEN;
        let tag = key
            .cipher
            .encrypt_inout_detached(&Array::from(nonce), slot.aad(keys.current).as_bytes(), (&mut out[HEADER_LEN..body_end]).into())
            .expect("AES-GCM encrypts any plaintext under 64 GiB");
        out[body_end..].copy_from_slice(&tag);
        out
    }
}

impl Keyring {
    /// `keys` must contain `current`.
    pub fn new(current: u32, keys: &BTreeMap<u32, EncryptionKey>) -> Self {
        Self { keys: ArcSwap::from_pointee(Keys::new(current, keys)), root: None, root_away_until: Default::default() }
    }

    /// The server's keyring: its data keys, and the root key that unwraps new ones.
    pub fn with_root(root: RootKey, current: u32, keys: &BTreeMap<u32, EncryptionKey>) -> Self {
        Self { root: Some(root), ..Self::new(current, keys) }
    }

    pub fn root(&self) -> Option<&RootKey> {
        self.root.as_ref()
    }

    /// Replaces every key at once (a rotation seen, a key retired); `keys` must contain
    /// `current`. Seals and opens already under way finish with the keys they started with.
    pub fn install(&self, current: u32, keys: &BTreeMap<u32, EncryptionKey>) {
        self.keys.store(Arc::new(Keys::new(current, keys)));
    }

    pub fn current_version(&self) -> u32 {
        self.keys.load().current
    }

    /// Available versions with their check values, oldest first.
    pub fn versions(&self) -> Vec<(u32, String)> {
        self.keys.load().by_version.iter().map(|(v, k)| (*v, k.check_value.clone())).collect()
    }

    pub fn has(&self, version: u32) -> bool {
        self.keys.load().by_version.contains_key(&version)
    }

    /// Notes that the root key could not be reached, for `for_how_long`.
    pub fn mark_root_away(&self, for_how_long: std::time::Duration) {
        *self.root_away_until.lock().unwrap_or_else(|e| e.into_inner()) = Some(std::time::Instant::now() + for_how_long);
    }

    /// Whether the root key was found away within the time `mark_root_away` gave.
    pub fn root_away(&self) -> bool {
        self.root_away_until.lock().unwrap_or_else(|e| e.into_inner()).is_some_and(|until| std::time::Instant::now() < until)
    }

    /// Encrypts `plaintext` for `slot` with the current key and a fresh random nonce from
    /// the operating system.
    pub fn seal(&self, plaintext: &[u8], slot: &SecretSlot) -> Vec<u8> {
        self.sealer().seal(plaintext, slot)
    }

    /// The keys as they are now, for one write: the version it names (the row's
    /// `key_version`, the key counted) and the key it seals with agree even if another key
    /// is installed meanwhile.
    pub fn sealer(&self) -> Sealer {
        Sealer(self.keys.load_full())
    }

    /// Decrypts an envelope sealed for `slot`. Any change to its bytes, or opening it in
    /// another slot, fails with [`CryptoError::Rejected`]; plaintext is zeroed on drop.
    pub fn open(&self, sealed: &[u8], slot: &SecretSlot) -> Result<Zeroizing<Vec<u8>>, CryptoError> {
        let parsed = envelope::parse(sealed).map_err(|e| match e {
            ParseError::TooShort => CryptoError::Malformed,
            ParseError::UnknownFormat(f) => CryptoError::UnknownFormat(f),
        })?;
        let keys = self.keys.load();
        let key = keys.by_version.get(&parsed.key_version).ok_or(CryptoError::UnknownKeyVersion(parsed.key_version))?;
        let mut plaintext = Zeroizing::new(parsed.ciphertext.to_vec());
        key.cipher
            .decrypt_inout_detached(
                &Array::from(*parsed.nonce),
                slot.aad(parsed.key_version).as_bytes(),
                plaintext.as_mut_slice().into(),
                &Array::from(*parsed.tag),
            )
            .map_err(|_| CryptoError::Rejected)?;
        Ok(plaintext)
    }

    /// Signs a link Keyport lends out (a media file for a provider to fetch):
    /// `{version}.{HMAC-SHA256 in hex}` under the current key's link key.
    pub fn sign_link(&self, message: &str) -> String {
        let keys = self.keys.load();
        format!("{}.{}", keys.current, hex::encode(hmac(&keys.by_version[&keys.current].link_key[..], message.as_bytes())))
    }

    /// Whether `signature` is [`sign_link`](Self::sign_link)'s for `message` under any
    /// configured key version (so a link survives a rotation while the old key is kept),
    /// compared in constant time.
    pub fn verify_link(&self, message: &str, signature: &str) -> bool {
        let Some((version, tag)) = signature.split_once('.') else { return false };
        let (Ok(version), Ok(tag)) = (version.parse::<u32>(), hex::decode(tag)) else { return false };
        let keys = self.keys.load();
        let Some(key) = keys.by_version.get(&version) else { return false };
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&key.link_key[..]).expect("HMAC takes any key length");
        mac.update(message.as_bytes());
        mac.verify_slice(&tag).is_ok()
    }

    /// The key version an envelope says it was sealed with, without decrypting it.
    pub fn key_version_of(sealed: &[u8]) -> Option<u32> {
        envelope::parse(sealed).ok().map(|p| p.key_version)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::SecretField;
    use proptest::prelude::*;
    use uuid::Uuid;

    fn key(byte: u8) -> EncryptionKey {
        EncryptionKey::from_bytes([byte; 32])
    }

    fn ring(current: u32, versions: &[(u32, u8)]) -> Keyring {
        Keyring::new(current, &versions.iter().map(|&(v, b)| (v, key(b))).collect())
    }

    fn slot(field: SecretField) -> SecretSlot {
        SecretSlot::platform_secret(Uuid::from_u128(42), field)
    }

    const TOKEN: &[u8] = b"ya29.a0AfH6SMBx-planted-token-for-tests";

    #[test]
    fn a_signed_link_verifies_only_unchanged_and_under_a_configured_key() {
        let old = ring(1, &[(1, 1)]);
        let signature = old.sign_link("media/abc?expires=10");
        assert!(old.verify_link("media/abc?expires=10", &signature));
        assert!(!old.verify_link("media/abc?expires=11", &signature), "another message");
        assert!(!signature.contains(&hex::encode([1u8; 32])), "the key itself never shows");
        let rotated = ring(2, &[(1, 1), (2, 2)]);
        assert!(rotated.verify_link("media/abc?expires=10", &signature), "an old key still configured still verifies");
        assert!(!ring(2, &[(2, 2)]).verify_link("media/abc?expires=10", &signature), "a removed key no longer does");
        assert!(!ring(1, &[(1, 9)]).verify_link("media/abc?expires=10", &signature), "another key of the same version does not");
        for forged in ["", "1", "1.", "x.00", "1.zz", "99.00"] {
            assert!(!old.verify_link("media/abc?expires=10", forged), "{forged}");
        }
    }

    #[test]
    fn seals_and_opens() {
        let ring = ring(1, &[(1, 7)]);
        let s = slot(SecretField::AccessToken);
        let sealed = ring.seal(TOKEN, &s);
        assert_eq!(sealed.len(), HEADER_LEN + TOKEN.len() + TAG_LEN);
        assert_eq!(Keyring::key_version_of(&sealed), Some(1));
        assert!(!sealed.windows(TOKEN.len()).any(|w| w == TOKEN), "ciphertext must not contain the plaintext");
        assert_eq!(ring.open(&sealed, &s).unwrap().as_slice(), TOKEN);
    }

    #[test]
    fn a_sealer_keeps_the_version_it_was_taken_with() {
        let ring = ring(1, &[(1, 1)]);
        let s = slot(SecretField::ApiKey);
        let sealer = ring.sealer();
        ring.install(2, &[(1, key(1)), (2, key(2))].into_iter().collect());
        let sealed = sealer.seal(TOKEN, &s);
        assert_eq!((sealer.version(), Keyring::key_version_of(&sealed)), (1, Some(1)), "the row's version and the envelope's agree");
        assert_eq!(Keyring::key_version_of(&ring.seal(TOKEN, &s)), Some(2), "the keyring itself seals with the key installed");
        assert_eq!(ring.open(&sealed, &s).unwrap().as_slice(), TOKEN);
    }

    #[test]
    fn every_seal_uses_a_fresh_nonce() {
        let ring = ring(1, &[(1, 7)]);
        let s = slot(SecretField::ApiKey);
        let nonces: std::collections::HashSet<Vec<u8>> = (0..1000).map(|_| ring.seal(TOKEN, &s)[5..17].to_vec()).collect();
        assert_eq!(nonces.len(), 1000);
    }

    #[test]
    fn flipping_any_bit_is_rejected() {
        let ring = ring(1, &[(1, 7)]);
        let s = slot(SecretField::AccessToken);
        let sealed = ring.seal(b"short", &s);
        for byte in 0..sealed.len() {
            for bit in 0..8 {
                let mut bad = sealed.clone();
                bad[byte] ^= 1 << bit;
                let err = ring.open(&bad, &s).unwrap_err();
                match byte {
                    0 => assert!(matches!(err, CryptoError::UnknownFormat(_)), "format byte: {err:?}"),
                    1..=4 => assert!(matches!(err, CryptoError::UnknownKeyVersion(_)), "key version: {err:?}"),
                    _ => assert_eq!(err, CryptoError::Rejected, "byte {byte} bit {bit}"),
                }
            }
        }
        assert_eq!(ring.open(&sealed[..sealed.len() - 1], &s).unwrap_err(), CryptoError::Rejected);
        assert_eq!(ring.open(&sealed[..20], &s).unwrap_err(), CryptoError::Malformed);
    }

    #[test]
    fn a_ciphertext_moved_to_another_row_or_field_is_rejected() {
        let ring = ring(1, &[(1, 7)]);
        let sealed = ring.seal(TOKEN, &slot(SecretField::AccessToken));
        let other_field = slot(SecretField::RefreshToken);
        assert_eq!(ring.open(&sealed, &other_field).unwrap_err(), CryptoError::Rejected);
        let other_row = SecretSlot::platform_secret(Uuid::from_u128(43), SecretField::AccessToken);
        assert_eq!(ring.open(&sealed, &other_row).unwrap_err(), CryptoError::Rejected);
        let other_table = SecretSlot { table: "other", ..slot(SecretField::AccessToken) };
        assert_eq!(ring.open(&sealed, &other_table).unwrap_err(), CryptoError::Rejected);
    }

    #[test]
    fn relabelling_the_key_version_is_rejected_even_when_that_version_exists() {
        // Two versions holding the same bytes would let a relabelled header pick a working
        // key; the AAD's k{version} still catches it. (The configuration forbids this case.)
        let ring = ring(2, &[(1, 7), (2, 7)]);
        let s = slot(SecretField::AccessToken);
        let mut sealed = ring.seal(TOKEN, &s);
        sealed[1..5].copy_from_slice(&1u32.to_be_bytes());
        assert_eq!(ring.open(&sealed, &s).unwrap_err(), CryptoError::Rejected);
    }

    #[test]
    fn wrong_key_is_rejected_and_old_versions_still_open() {
        let old = ring(1, &[(1, 7)]);
        let s = slot(SecretField::Password);
        let sealed_v1 = old.seal(TOKEN, &s);
        let rotated = ring(2, &[(1, 7), (2, 8)]);
        assert_eq!(rotated.open(&sealed_v1, &s).unwrap().as_slice(), TOKEN, "v1 still opens after rotation");
        assert_eq!(Keyring::key_version_of(&rotated.seal(TOKEN, &s)), Some(2), "new seals use the current key");
        let wrong = ring(1, &[(1, 9)]);
        assert_eq!(wrong.open(&sealed_v1, &s).unwrap_err(), CryptoError::Rejected);
        let missing = ring(2, &[(2, 8)]);
        assert_eq!(missing.open(&sealed_v1, &s).unwrap_err(), CryptoError::UnknownKeyVersion(1));
    }

    #[test]
    fn check_values_identify_keys_without_revealing_them() {
        let a = check_value(&[7; 32]);
        assert_eq!(a.len(), 32);
        assert_eq!(a, check_value(&[7; 32]));
        assert_ne!(a, check_value(&[8; 32]));
        let debug = format!("{:?}", ring(1, &[(1, 7)]));
        assert_eq!(debug, "Keyring { current: 1, versions: [1], .. }");
    }

    /// Wycheproof's AES-GCM vectors (256-bit keys, 96-bit nonces, 128-bit tags) against
    /// the primitive the keyring uses.
    #[test]
    fn wycheproof_aes_256_gcm_vectors() {
        use wycheproof::{aead::TestName, TestResult};
        let set = wycheproof::aead::TestSet::load(TestName::AesGcm).unwrap();
        let (mut valid, mut invalid) = (0, 0);
        for group in set.test_groups.iter().filter(|g| g.key_size == 256 && g.nonce_size == 96 && g.tag_size == 128) {
            for t in &group.tests {
                let cipher = Aes256Gcm::new_from_slice(&t.key).unwrap();
                let nonce: [u8; 12] = t.nonce.as_slice().try_into().unwrap();
                let tag: [u8; 16] = t.tag.as_slice().try_into().unwrap();
                let mut buf = t.pt.to_vec();
                let sealed = cipher.encrypt_inout_detached(&Array::from(nonce), &t.aad, buf.as_mut_slice().into());
                let mut ct = t.ct.to_vec();
                let opened = cipher.decrypt_inout_detached(&Array::from(nonce), &t.aad, ct.as_mut_slice().into(), &Array::from(tag));
                match t.result {
                    TestResult::Valid => {
                        valid += 1;
                        assert_eq!(buf, t.ct.to_vec(), "tc {}", t.tc_id);
                        assert_eq!(sealed.unwrap().as_slice(), tag, "tc {}", t.tc_id);
                        assert!(opened.is_ok(), "tc {}", t.tc_id);
                        assert_eq!(ct, t.pt.to_vec(), "tc {}", t.tc_id);
                    }
                    TestResult::Invalid => {
                        invalid += 1;
                        assert!(opened.is_err(), "tc {} must be rejected: {}", t.tc_id, t.comment);
                    }
                    TestResult::Acceptable => {}
                }
            }
        }
        assert!(valid >= 30 && invalid >= 10, "too few vectors ran: {valid} valid, {invalid} invalid");
    }

    proptest! {
        #[test]
        fn round_trips_any_secret(plaintext in proptest::collection::vec(any::<u8>(), 0..2048), row in any::<u128>(), version in 1u32..1000) {
            let ring = ring(version, &[(version, 3)]);
            let s = SecretSlot::platform_secret(Uuid::from_u128(row), SecretField::ClientSecret);
            let sealed = ring.seal(&plaintext, &s);
            let opened = ring.open(&sealed, &s).unwrap();
            prop_assert_eq!(opened.as_slice(), plaintext.as_slice());
        }

        /// Whatever the database hands back, opening it answers an error, never a panic.
        #[test]
        fn any_bytes_open_to_an_error_not_a_panic(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
            let ring = ring(1, &[(1, 3)]);
            let s = SecretSlot::platform_secret(Uuid::nil(), SecretField::ApiKey);
            prop_assert!(ring.open(&bytes, &s).is_err());
        }
    }
}
