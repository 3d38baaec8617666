//! Random credentials (tokens, codes, client ids and secrets), the PKCE S256 check and
//! constant-time comparison.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use rand::RngCore;
use sha2::{Digest, Sha256};

/// Prefixes make a leaked value recognisable as a sandbox credential at a glance.
pub const ACCESS_TOKEN_PREFIX: &str = "sbx_at_";
pub const REFRESH_TOKEN_PREFIX: &str = "sbx_rt_";
pub const CODE_PREFIX: &str = "sbx_code_";
pub const PAGE_TOKEN_PREFIX: &str = "sbx_page_";

/// `prefix` followed by 32 random bytes, base64url without padding.
pub fn random_secret(prefix: &str) -> String {
    let mut bytes = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut bytes);
    format!("{prefix}{}", URL_SAFE_NO_PAD.encode(bytes))
}

pub fn new_client_id() -> String {
    let mut bytes = [0u8; 6];
    rand::thread_rng().fill_bytes(&mut bytes);
    format!("sbx_client_{}", hex::encode(bytes))
}

pub fn new_client_secret() -> String {
    random_secret("sbx_secret_")
}

/// RFC 7636 §4.6: BASE64URL-ENCODE(SHA256(ASCII(code_verifier))) == code_challenge.
pub fn pkce_s256_matches(verifier: &str, challenge: &str) -> bool {
    let computed = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
    constant_time_eq(computed.as_bytes(), challenge.as_bytes())
}

/// Compares secrets without an early exit, so response timing does not leak a prefix match.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    subtle::ConstantTimeEq::ct_eq(a, b).into()
}

/// A stable id per account name, so the same name always maps to the same remote account
/// (the client uses it to recognise a reconnect of the same account).
pub fn account_id(account_name: &str) -> String {
    let digest = Sha256::digest(account_name.as_bytes());
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&digest[..16]);
    format!("sbx-{}", uuid::Uuid::from_bytes(bytes).hyphenated())
}

/// A stable `did:plc:` per Bluesky handle (24 base32-like characters, as real ones have).
pub fn did(handle: &str) -> String {
    let digest = Sha256::digest(handle.as_bytes());
    let alphabet = b"abcdefghijklmnopqrstuvwxyz234567";
    let id: String = digest.iter().take(24).map(|b| char::from(alphabet[usize::from(b % 32)])).collect();
    format!("did:plc:{id}")
}

/// A stable numeric id per name, as Facebook's Page ids are.
pub fn numeric_id(name: &str) -> String {
    let digest = Sha256::digest(name.as_bytes());
    let mut bytes = [0u8; 8];
    bytes.copy_from_slice(&digest[..8]);
    (u64::from_be_bytes(bytes) % 1_000_000_000_000_000).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The example from RFC 7636 Appendix B.
    #[test]
    fn pkce_matches_the_rfc_7636_vector() {
        let verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
        let challenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
        assert!(pkce_s256_matches(verifier, challenge));
        assert!(!pkce_s256_matches("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXK", challenge));
        assert!(!pkce_s256_matches(verifier, verifier), "plain is not accepted");
    }

    #[test]
    fn secrets_have_prefix_and_length() {
        let token = random_secret(ACCESS_TOKEN_PREFIX);
        let body = token.strip_prefix(ACCESS_TOKEN_PREFIX).unwrap();
        assert_eq!(body.len(), 43, "32 bytes base64url without padding");
        assert_ne!(token, random_secret(ACCESS_TOKEN_PREFIX));
        let id = new_client_id();
        let hex = id.strip_prefix("sbx_client_").unwrap();
        assert_eq!(hex.len(), 12);
        assert!(hex.chars().all(|c| c.is_ascii_hexdigit()));
        assert!(new_client_secret().starts_with("sbx_secret_"));
    }

    #[test]
    fn account_ids_are_stable_per_name() {
        assert_eq!(account_id("Sandbox Marketing"), account_id("Sandbox Marketing"));
        assert_ne!(account_id("Sandbox Marketing"), account_id("Other"));
        assert!(account_id("x").starts_with("sbx-"));
    }

    #[test]
    fn constant_time_eq_compares_contents_and_length() {
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"abcd"));
    }
}
