//! Reading the older Medusa-style store's ciphertext: AES-256-GCM with no associated data,
//! stored as base64 `encrypted`, `iv` (12 bytes, or the 16 Node code often uses) and
//! `authTag` (16 bytes). Only `keyport import` uses this; nothing is ever sealed this way.

use aes_gcm::{
    aead::{array::Array, AeadInOut, KeyInit},
    aes::{cipher::consts::{U12, U16}, Aes256},
    AesGcm,
};
use zeroize::Zeroizing;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LegacyError {
    #[error("the iv must be 12 or 16 bytes (it is {0})")]
    BadIv(usize),
    #[error("the authTag must be 16 bytes (it is {0})")]
    BadTag(usize),
    #[error("does not decrypt: tampered, or encrypted with another key")]
    Rejected,
}

pub fn open(key: &[u8; 32], iv: &[u8], ciphertext: &[u8], tag: &[u8]) -> Result<Zeroizing<Vec<u8>>, LegacyError> {
    let tag: [u8; 16] = tag.try_into().map_err(|_| LegacyError::BadTag(tag.len()))?;
    let mut plaintext = Zeroizing::new(ciphertext.to_vec());
    let buffer = plaintext.as_mut_slice().into();
    let result = match iv.len() {
        12 => AesGcm::<Aes256, U12>::new_from_slice(key)
            .expect("32-byte key")
            .decrypt_inout_detached(&Array::try_from(iv).expect("12 bytes"), b"", buffer, &Array::from(tag)),
        16 => AesGcm::<Aes256, U16>::new_from_slice(key)
            .expect("32-byte key")
            .decrypt_inout_detached(&Array::try_from(iv).expect("16 bytes"), b"", buffer, &Array::from(tag)),
        n => return Err(LegacyError::BadIv(n)),
    };
    result.map_err(|_| LegacyError::Rejected)?;
    Ok(plaintext)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Seals the way the Node plugin did (createCipheriv('aes-256-gcm', key, iv)).
    fn node_seal(key: &[u8; 32], iv: &[u8], plaintext: &[u8]) -> (Vec<u8>, Vec<u8>) {
        let mut buf = plaintext.to_vec();
        let tag = match iv.len() {
            12 => AesGcm::<Aes256, U12>::new_from_slice(key).unwrap().encrypt_inout_detached(&Array::try_from(iv).unwrap(), b"", buf.as_mut_slice().into()).unwrap(),
            _ => AesGcm::<Aes256, U16>::new_from_slice(key).unwrap().encrypt_inout_detached(&Array::try_from(iv).unwrap(), b"", buf.as_mut_slice().into()).unwrap(),
        };
        (buf, tag.to_vec())
    }

    #[test]
    fn opens_both_iv_sizes_and_refuses_tampering() {
        let key = [7u8; 32];
        for iv in [&[1u8; 12][..], &[2u8; 16][..]] {
            let (ct, tag) = node_seal(&key, iv, b"EAAG-token");
            assert_eq!(&open(&key, iv, &ct, &tag).unwrap()[..], b"EAAG-token");
            let mut bad = ct.clone();
            bad[0] ^= 1;
            assert_eq!(open(&key, iv, &bad, &tag), Err(LegacyError::Rejected));
            assert_eq!(open(&[8u8; 32], iv, &ct, &tag), Err(LegacyError::Rejected));
        }
        assert_eq!(open(&key, &[0; 8], b"x", &[0; 16]), Err(LegacyError::BadIv(8)));
        assert_eq!(open(&key, &[0; 12], b"x", &[0; 4]), Err(LegacyError::BadTag(4)));
    }

    /// A vector produced by Node's crypto module (aes-256-gcm, 12-byte iv), so the format
    /// is checked against the real thing, not only against ourselves.
    #[test]
    fn opens_what_node_encrypted() {
        let key: [u8; 32] = core::array::from_fn(|i| i as u8);
        let b64 = |s: &str| base64::Engine::decode(&base64::engine::general_purpose::STANDARD, s).unwrap();
        let plain = open(&key, &b64(NODE_IV), &b64(NODE_CT), &b64(NODE_TAG)).unwrap();
        assert_eq!(&plain[..], b"legacy-access-token");
    }
    const NODE_IV: &str = "AAECAwQFBgcICQoL";
    const NODE_CT: &str = "K2exeqac73ruIvL4wsQMAuiz6Q==";
    const NODE_TAG: &str = "WQUjIJSLGfmEt/ytxSOqbA==";
}
