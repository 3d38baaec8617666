-- Encrypted secrets, their keys' check values and counters, and the non-secret facts
-- about each platform's credentials. Mirrors migrations/postgres/0002_secrets.sql.

-- One row per key version ever used: its check value (to refuse a wrong key at start-up)
-- and how many encryptions it has made (random-nonce GCM is capped per key).
CREATE TABLE encryption_keys (
    version     INTEGER PRIMARY KEY NOT NULL CHECK (version >= 1),
    check_value TEXT NOT NULL CHECK (length(check_value) = 32),
    encryptions INTEGER NOT NULL DEFAULT 0 CHECK (encryptions >= 0),
    created_at  TEXT NOT NULL
) STRICT;

-- Ciphertext only (envelope format in docs/encryption.md). key_version repeats the
-- envelope's header so rotation and `keys status` can count without decrypting.
CREATE TABLE secrets (
    platform_id BLOB NOT NULL REFERENCES platforms (id) ON DELETE CASCADE,
    field       TEXT NOT NULL CHECK (field IN ('access_token', 'refresh_token', 'client_secret', 'api_key', 'password')),
    ciphertext  BLOB NOT NULL CHECK (length(ciphertext) >= 33),
    key_version INTEGER NOT NULL REFERENCES encryption_keys (version),
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL,
    PRIMARY KEY (platform_id, field)
) STRICT;
CREATE INDEX secrets_key_version ON secrets (key_version);

-- What may be known without decrypting anything.
CREATE TABLE credentials (
    platform_id       BLOB PRIMARY KEY NOT NULL REFERENCES platforms (id) ON DELETE CASCADE,
    username          TEXT CHECK (length(username) <= 200),
    token_type        TEXT,
    scopes            TEXT,
    expires_at        TEXT,
    account_id        TEXT,
    account_name      TEXT,
    connected_at      TEXT,
    last_refreshed_at TEXT,
    updated_at        TEXT NOT NULL
) STRICT;
