//! Argon2id password hashing (OWASP parameters: 19 MiB, 2 passes, 1 lane), run off the
//! async worker threads.

use argon2::{
    password_hash::{rand_core::OsRng, PasswordHash, PasswordHasher, PasswordVerifier, SaltString},
    Algorithm, Argon2, Params, Version,
};
use crate::{domain::AppError, server::error::internal};
use secrecy::{ExposeSecret, SecretString};

fn argon2() -> Argon2<'static> {
    Argon2::new(Algorithm::Argon2id, Version::V0x13, Params::new(19 * 1024, 2, 1, None).expect("valid Argon2 parameters"))
}

/// A PHC-format Argon2id hash of `password`.
pub async fn hash(password: SecretString) -> Result<String, AppError> {
    let hashed = tokio::task::spawn_blocking(move || {
        let salt = SaltString::generate(&mut OsRng);
        argon2().hash_password(password.expose_secret().as_bytes(), &salt).map(|h| h.to_string())
    })
    .await
    .map_err(internal)?;
    hashed.map_err(internal)
}

/// Whether `password` matches `hash`. A malformed hash never matches.
pub async fn verify(password: SecretString, hash: String) -> bool {
    tokio::task::spawn_blocking(move || {
        PasswordHash::new(&hash).is_ok_and(|parsed| argon2().verify_password(password.expose_secret().as_bytes(), &parsed).is_ok())
    })
    .await
    .unwrap_or(false)
}

/// A hash of a well-formed password nobody has, so that a sign-in for an unknown email
/// spends the same time as one for a known email (no user enumeration by timing).
pub const DECOY_HASH: &str =
    "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$5bFJ0aOQZ+0k5Wd+YyVy3mEYx3nqj0n2x0Qm1c3V0kQ";

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn hashes_verify_and_use_argon2id_with_owasp_parameters() {
        let h = hash(SecretString::from("correct horse battery")).await.unwrap();
        assert!(h.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{h}");
        assert!(verify(SecretString::from("correct horse battery"), h.clone()).await);
        assert!(!verify(SecretString::from("wrong horse battery"), h).await);
        assert!(!verify(SecretString::from("x"), "not a hash".into()).await);
        assert!(!verify(SecretString::from("anything at all"), DECOY_HASH.into()).await);
    }
}
