"""An independent implementation of docs/encryption.md: decrypts an envelope that Keyport
stored, using only Python's `cryptography`. Called by tests/format_spec.rs with the
envelope, key, owner id, field and (optionally) table — "secrets" for a platform's own
secret (the owner is the platform), "accounts" for an account's token; prints the plaintext."""
import base64
import struct
import sys
import uuid

from cryptography.hazmat.primitives.ciphers.aead import AESGCM


def decrypt(envelope: bytes, key_b64: str, owner_id: str, field: str, table: str = "secrets") -> str:
    assert envelope[0] == 1, "unknown envelope format"
    (key_version,) = struct.unpack(">I", envelope[1:5])
    nonce, sealed = envelope[5:17], envelope[17:]
    aad = f"keyport:v1|{table}|{field}|{uuid.UUID(owner_id)}|k{key_version}".encode()
    return AESGCM(base64.b64decode(key_b64)).decrypt(nonce, sealed, aad).decode()


if __name__ == "__main__":
    envelope_hex, key_b64, owner_id, field = sys.argv[1:5]
    table = sys.argv[5] if len(sys.argv) > 5 else "secrets"
    print(decrypt(bytes.fromhex(envelope_hex), key_b64, owner_id, field, table), end="")
