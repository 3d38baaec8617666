"""An independent implementation of docs/encryption.md: decrypts an envelope that Keyport
stored, using only Python's standard library and `cryptography`. Called by
tests/it/format_spec.rs with the envelope, the wrapped data key its header names (from
`encryption_keys`), ENCRYPTION_KEY, the owner id, the field and (optionally) the table —
"secrets" for a platform's own secret (the owner is the platform), "accounts" for an
account's token; prints the plaintext."""
import base64
import hashlib
import hmac
import struct
import sys
import uuid

from cryptography.hazmat.primitives.ciphers.aead import AESGCM


def root_key(encryption_key_b64: str) -> bytes:
    return hmac.new(base64.b64decode(encryption_key_b64), b"keyport root key v1", hashlib.sha256).digest()


def unwrap(wrapped: bytes, root: bytes, version: int) -> bytes:
    return AESGCM(root).decrypt(wrapped[:12], wrapped[12:], f"keyport data key v{version}".encode())


def decrypt(envelope: bytes, wrapped: bytes, encryption_key_b64: str, owner_id: str, field: str, table: str = "secrets") -> str:
    assert envelope[0] == 1, "unknown envelope format"
    (key_version,) = struct.unpack(">I", envelope[1:5])
    key = unwrap(wrapped, root_key(encryption_key_b64), key_version)
    nonce, sealed = envelope[5:17], envelope[17:]
    aad = f"keyport:v1|{table}|{field}|{uuid.UUID(owner_id)}|k{key_version}".encode()
    return AESGCM(key).decrypt(nonce, sealed, aad).decode()


if __name__ == "__main__":
    envelope_hex, wrapped_hex, key_b64, owner_id, field = sys.argv[1:6]
    table = sys.argv[6] if len(sys.argv) > 6 else "secrets"
    print(decrypt(bytes.fromhex(envelope_hex), bytes.fromhex(wrapped_hex), key_b64, owner_id, field, table), end="")
