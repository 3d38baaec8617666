//! Argon2id password hashing (OWASP parameters: 19 MiB, 2 passes, 1 lane), run off the
//! async worker threads, a bounded number at a time.

use argon2::{
    password_hash::{rand_core::OsRng, PasswordHash, PasswordHasher, PasswordVerifier, SaltString},
    Algorithm, Argon2, Params, Version,
};
use crate::{domain::AppError, server::error::internal};
use secrecy::{ExposeSecret, SecretString};
use tokio::sync::Semaphore;

/// At most this many hashes at once: each takes 19 MiB, so a flood of sign-ins queues here
/// (8 × 19 MiB ≈ 152 MiB) instead of exhausting memory on the blocking pool's 512 threads.
pub const CONCURRENT_HASHES: usize = 8;
static HASHING: Semaphore = Semaphore::const_new(CONCURRENT_HASHES);

/// Runs `work` on the blocking pool once `limit` lets it.
async fn limited<T: Send + 'static>(limit: &Semaphore, work: impl FnOnce() -> T + Send + 'static) -> Result<T, tokio::task::JoinError> {
    let _permit = limit.acquire().await.expect("the semaphore is never closed");
    tokio::task::spawn_blocking(work).await
}

fn argon2() -> Argon2<'static> {
    Argon2::new(Algorithm::Argon2id, Version::V0x13, Params::new(19 * 1024, 2, 1, None).expect("valid Argon2 parameters"))
}

/// A PHC-format Argon2id hash of `password`.
pub async fn hash(password: SecretString) -> Result<String, AppError> {
    let hashed = limited(&HASHING, move || {
        let salt = SaltString::generate(&mut OsRng);
        argon2().hash_password(password.expose_secret().as_bytes(), &salt).map(|h| h.to_string())
    })
    .await
    .map_err(internal)?;
    hashed.map_err(internal)
}

/// Whether `password` matches `hash`. A malformed hash never matches.
pub async fn verify(password: SecretString, hash: String) -> bool {
    limited(&HASHING, move || {
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

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn no_more_hashes_run_at_once_than_the_limit() {
        use std::sync::{atomic::{AtomicUsize, Ordering}, Arc};
        let limit = Arc::new(Semaphore::new(2));
        let (running, most) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
        let mut tasks = tokio::task::JoinSet::new();
        for _ in 0..8 {
            let (limit, running, most) = (limit.clone(), running.clone(), most.clone());
            tasks.spawn(async move {
                limited(&limit, move || {
                    most.fetch_max(running.fetch_add(1, Ordering::SeqCst) + 1, Ordering::SeqCst);
                    std::thread::sleep(std::time::Duration::from_millis(30));
                    running.fetch_sub(1, Ordering::SeqCst);
                })
                .await
                .unwrap()
            });
        }
        tasks.join_all().await;
        assert_eq!(most.load(Ordering::SeqCst), 2, "eight hashes, two at a time");
    }
}
