//! What may be shown about a platform's credentials: whether each secret is there, which
//! key protects it and whether it still decrypts — never the secret itself.

use super::{EncryptionState, SecretField};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// A platform's encryption badge.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct Encryption {
    pub state: EncryptionState,
    /// The key version of the secrets (the oldest one when they differ); `None` without secrets.
    pub key_version: Option<u32>,
}

impl Default for EncryptionState {
    fn default() -> Self {
        Self::NoSecret
    }
}

impl Encryption {
    /// The badge of a platform whose secrets have these statuses.
    pub fn of(secrets: &[SecretStatus], current_version: u32) -> Self {
        Self::of_facts(secrets.iter().map(|s| s.key_version).min(), secrets.iter().any(|s| !s.readable), current_version)
    }

    /// The badge from a platform's oldest key version (`None`: no secret) and whether any
    /// of its secrets fails to open.
    pub fn of_facts(oldest: Option<u32>, failing: bool, current_version: u32) -> Self {
        let state = if oldest.is_none() {
            EncryptionState::NoSecret
        } else if failing {
            EncryptionState::Failed
        } else if oldest != Some(current_version) {
            EncryptionState::OldKey
        } else {
            EncryptionState::Current
        };
        Self { state, key_version: oldest }
    }

    /// The badge text, for example "Encrypted (current key v2)".
    pub fn text(&self) -> String {
        let v = self.key_version.unwrap_or_default();
        match self.state {
            EncryptionState::Current => format!("Encrypted (current key v{v})"),
            EncryptionState::OldKey => format!("Encrypted with an old key (v{v} — re-encrypt)"),
            EncryptionState::NoSecret => "No secret".to_owned(),
            EncryptionState::Failed => "Decryption failed (wrong key or tampered)".to_owned(),
        }
    }
}

/// One stored secret, described without its value.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct SecretStatus {
    pub field: SecretField,
    pub key_version: u32,
    /// Whether it is encrypted with the current key.
    pub current_key: bool,
    /// Whether it decrypts with the configured keys (false: wrong key or tampered).
    pub readable: bool,
    pub updated_at: DateTime<Utc>,
}

/// Everything shown about a platform's credentials.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct Credentials {
    pub encryption: Encryption,
    pub secrets: Vec<SecretStatus>,
    /// The user name for basic auth (not a secret).
    pub username: Option<String>,
}

/// What a platform page shows: the platform and, for admins, its credentials' status.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PlatformDetails {
    pub platform: super::Platform,
    /// `None` for marketers: they see the badge only.
    pub credentials: Option<Credentials>,
    /// `None` unless the platform authenticates with OAuth 2.0.
    pub oauth: Option<super::OauthView>,
}

/// One data key as the keys view and `keyport keys status` show it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct KeyVersionStatus {
    pub version: u32,
    pub state: super::KeyState,
    /// Whether this server holds the key (unwrapped with the root key, or supplied by
    /// `ENCRYPTION_KEY_V{n}` for a version from before data keys).
    pub available: bool,
    /// Identifies the key without revealing it (docs/encryption.md).
    pub check_value: String,
    pub created_at: chrono::DateTime<chrono::Utc>,
    /// Stored secrets encrypted with this version.
    pub secrets: i64,
    /// Encryptions made with this version so far.
    pub encryptions: i64,
}

impl KeyVersionStatus {
    /// The key new secrets are sealed with.
    pub fn is_active(&self) -> bool {
        self.state == super::KeyState::Active
    }
}

/// A secret typed into a form, on its way to the server: `Debug` never shows it and its
/// memory is zeroed when dropped. The server turns it into a `SecretString` at once.
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct SecretText(String);

impl SecretText {
    pub fn new(text: impl Into<String>) -> Self {
        Self(text.into())
    }

    /// The text itself, for the one place that encrypts it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for SecretText {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretText([redacted])")
    }
}

impl Drop for SecretText {
    fn drop(&mut self) {
        zeroize::Zeroize::zeroize(&mut self.0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn status(field: SecretField, key_version: u32, readable: bool) -> SecretStatus {
        SecretStatus { field, key_version, current_key: key_version == 2, readable, updated_at: Utc::now() }
    }

    #[test]
    fn badge_follows_the_worst_secret() {
        use SecretField::*;
        assert_eq!(Encryption::of(&[], 2).state, EncryptionState::NoSecret);
        let current = Encryption::of(&[status(AccessToken, 2, true)], 2);
        assert_eq!((current.state, current.key_version), (EncryptionState::Current, Some(2)));
        assert_eq!(current.text(), "Encrypted (current key v2)");
        let old = Encryption::of(&[status(AccessToken, 2, true), status(RefreshToken, 1, true)], 2);
        assert_eq!((old.state, old.key_version), (EncryptionState::OldKey, Some(1)));
        assert!(old.text().contains("v1"));
        let failed = Encryption::of(&[status(AccessToken, 1, true), status(RefreshToken, 2, false)], 2);
        assert_eq!(failed.state, EncryptionState::Failed);
    }

    #[test]
    fn secret_text_hides_itself() {
        let s = SecretText::new("sk_live_123");
        assert_eq!(format!("{s:?}"), "SecretText([redacted])");
        assert_eq!(s.expose(), "sk_live_123");
    }
}
