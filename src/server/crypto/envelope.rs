//! Envelope format 1: `format (1) ‖ key_version (4, big-endian) ‖ nonce (12) ‖ ciphertext ‖ tag (16)`,
//! AES-256-GCM with associated data that names where the secret belongs.

use crate::domain::SecretField;
use uuid::Uuid;

pub const FORMAT_V1: u8 = 1;
pub const NONCE_LEN: usize = 12;
pub const TAG_LEN: usize = 16;
/// Bytes before the ciphertext: format, key version, nonce.
pub const HEADER_LEN: usize = 1 + 4 + NONCE_LEN;

/// Where a secret belongs: a ciphertext only decrypts in the slot it was sealed for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SecretSlot {
    pub table: &'static str,
    pub field: SecretField,
    pub row: Uuid,
}

impl SecretSlot {
    /// A platform's own secret: its client secret, API key, password or bearer token.
    pub fn platform_secret(platform_id: Uuid, field: SecretField) -> Self {
        Self { table: "secrets", field, row: platform_id }
    }

    /// A connected account's token (access or refresh).
    pub fn account_token(account_id: Uuid, field: SecretField) -> Self {
        Self { table: "accounts", field, row: account_id }
    }

    /// The client secret of an app Keyport registered on an instance (Mastodon).
    pub fn instance_client(instance_id: Uuid, field: SecretField) -> Self {
        Self { table: "instance_clients", field, row: instance_id }
    }

    /// The Pages offered by a Facebook connection half-way (one sealed document per pick).
    pub fn page_pick(pick_id: Uuid) -> Self {
        Self { table: "page_picks", field: SecretField::AccessToken, row: pick_id }
    }

    /// The associated data: `keyport:v1|{table}|{field}|{row}|k{key_version}`.
    pub fn aad(&self, key_version: u32) -> String {
        format!("keyport:v{FORMAT_V1}|{}|{}|{}|k{key_version}", self.table, self.field, self.row.hyphenated())
    }
}

/// The parts of an envelope, borrowed from its bytes.
pub struct Parsed<'a> {
    pub key_version: u32,
    pub nonce: &'a [u8; NONCE_LEN],
    pub ciphertext: &'a [u8],
    pub tag: &'a [u8; TAG_LEN],
}

pub enum ParseError {
    TooShort,
    UnknownFormat(u8),
}

pub fn parse(envelope: &[u8]) -> Result<Parsed<'_>, ParseError> {
    if envelope.len() < HEADER_LEN + TAG_LEN {
        return Err(ParseError::TooShort);
    }
    if envelope[0] != FORMAT_V1 {
        return Err(ParseError::UnknownFormat(envelope[0]));
    }
    let (header, rest) = envelope.split_at(HEADER_LEN);
    let (ciphertext, tag) = rest.split_at(rest.len() - TAG_LEN);
    Ok(Parsed {
        key_version: u32::from_be_bytes(header[1..5].try_into().expect("4 bytes")),
        nonce: header[5..].try_into().expect("12 bytes"),
        ciphertext,
        tag: tag.try_into().expect("16 bytes"),
    })
}

/// Lays out an envelope around `plaintext` (still to be encrypted in place at
/// `HEADER_LEN..len - TAG_LEN`).
pub fn layout(key_version: u32, nonce: &[u8; NONCE_LEN], plaintext: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(HEADER_LEN + plaintext.len() + TAG_LEN);
    out.push(FORMAT_V1);
    out.extend_from_slice(&key_version.to_be_bytes());
    out.extend_from_slice(nonce);
    out.extend_from_slice(plaintext);
    out.extend_from_slice(&[0; TAG_LEN]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aad_names_table_field_row_and_key_version() {
        let row = Uuid::parse_str("0190a0a0-0000-7000-8000-00000000002a").unwrap();
        let slot = SecretSlot::platform_secret(row, SecretField::AccessToken);
        assert_eq!(slot.aad(2), "keyport:v1|secrets|access_token|0190a0a0-0000-7000-8000-00000000002a|k2");
        let account = SecretSlot::account_token(row, SecretField::AccessToken);
        assert_eq!(account.aad(2), "keyport:v1|accounts|access_token|0190a0a0-0000-7000-8000-00000000002a|k2");
    }

    #[test]
    fn a_200_byte_token_takes_233_bytes() {
        assert_eq!(layout(7, &[0; 12], &[0; 200]).len(), 233);
    }

    #[test]
    fn parse_reads_what_layout_wrote() {
        let env = layout(0x01020304, &[9; 12], b"abc");
        let p = parse(&env).ok().unwrap();
        assert_eq!((p.key_version, p.nonce, p.ciphertext, p.tag), (0x01020304, &[9; 12], &b"abc"[..], &[0; 16]));
        assert!(matches!(parse(&env[..32]), Err(ParseError::TooShort)));
        let mut v2 = env.clone();
        v2[0] = 2;
        assert!(matches!(parse(&v2), Err(ParseError::UnknownFormat(2))));
    }
}
