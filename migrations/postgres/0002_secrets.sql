-- Encrypted secrets, their keys' check values and counters, and the non-secret facts
-- about each platform's credentials. Mirrors migrations/sqlite/0002_secrets.sql.

-- One row per key version ever used: its check value (to refuse a wrong key at start-up)
-- and how many encryptions it has made (random-nonce GCM is capped per key).
CREATE TABLE encryption_keys (
    version     integer PRIMARY KEY CHECK (version >= 1),
    check_value text NOT NULL CHECK (length(check_value) = 32),
    encryptions bigint NOT NULL DEFAULT 0 CHECK (encryptions >= 0),
    created_at  timestamptz NOT NULL DEFAULT now()
);

-- Ciphertext only (envelope format in docs/encryption.md). key_version repeats the
-- envelope's header so rotation and `keys status` can count without decrypting.
CREATE TABLE secrets (
    platform_id uuid NOT NULL REFERENCES platforms (id) ON DELETE CASCADE,
    field       text NOT NULL CHECK (field IN ('access_token', 'refresh_token', 'client_secret', 'api_key', 'password')),
    ciphertext  bytea NOT NULL CHECK (length(ciphertext) >= 33),
    key_version integer NOT NULL REFERENCES encryption_keys (version),
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (platform_id, field)
);
CREATE INDEX secrets_key_version ON secrets (key_version);

-- What may be known without decrypting anything.
CREATE TABLE credentials (
    platform_id       uuid PRIMARY KEY REFERENCES platforms (id) ON DELETE CASCADE,
    username          text CHECK (length(username) <= 200),
    token_type        text,
    scopes            text,
    expires_at        timestamptz,
    account_id        text,
    account_name      text,
    connected_at      timestamptz,
    last_refreshed_at timestamptz,
    updated_at        timestamptz NOT NULL DEFAULT now()
);
