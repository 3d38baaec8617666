//! Encryption of stored secrets: the versioned keyring and the envelope format (written
//! down byte by byte in docs/encryption.md). Only the secrets service calls this.

mod envelope;
pub mod legacy;
mod keyring;
mod kms;
mod root;
mod transit;

pub use envelope::{SecretSlot, FORMAT_V1, HEADER_LEN, TAG_LEN};
pub use keyring::{check_value, CryptoError, Keyring, Sealer};
pub use root::{RootError, RootKey};

/// Encryptions with one key after which the keys view warns (NIST SP 800-38D caps
/// random-nonce GCM at 2^32 per key; we stop well before).
pub const ENCRYPTIONS_WARN_AT: i64 = 1 << 30;
/// Encryptions with one key after which Keyport refuses to encrypt with it.
pub const ENCRYPTIONS_REFUSE_AT: i64 = 1 << 31;
/// The count a refresh's tokens may still be written up to: a refresh token the provider
/// has just rotated is stored past [`ENCRYPTIONS_REFUSE_AT`] rather than lost (a refresh
/// only starts below it, `oauth::tokens`), and this stays far below the 2^32 limit.
pub const ENCRYPTIONS_HARD_CAP: i64 = (1 << 31) + (1 << 30);
