-- Accounts (connections): one platform (the app an admin configures) holds any number of
-- connected accounts, each with its own tokens and facts. Mirrors
-- migrations/postgres/0011_accounts.sql. docs/encryption.md has the binding of the tokens.

-- Apps Keyport registered by itself on an instance of a federated provider (Mastodon's
-- POST /api/v1/apps), one per platform and instance origin, reused by every account on
-- that instance. The client secret is in `secrets` (owner: this row).
CREATE TABLE instance_clients (
    id            BLOB PRIMARY KEY NOT NULL CHECK (length(id) = 16),
    platform_id   BLOB NOT NULL REFERENCES platforms (id) ON DELETE CASCADE,
    origin        TEXT NOT NULL CHECK (length(origin) <= 300),
    client_id     TEXT NOT NULL CHECK (length(client_id) BETWEEN 1 AND 500),
    scopes        TEXT NOT NULL CHECK (length(scopes) <= 2000),
    registered_at TEXT NOT NULL,
    UNIQUE (platform_id, origin)
) STRICT;

-- external_id: the provider's id of the account ('' when the provider does not say), the
-- key a new connection of the same account replaces. Texts from providers are cut to
-- these limits before they are written (server/store/accounts.rs).
CREATE TABLE accounts (
    id                  BLOB PRIMARY KEY NOT NULL CHECK (length(id) = 16),
    platform_id         BLOB NOT NULL REFERENCES platforms (id) ON DELETE CASCADE,
    -- The instance the account lives on, when Keyport registered the app there.
    instance_id         BLOB REFERENCES instance_clients (id) ON DELETE CASCADE,
    external_id         TEXT NOT NULL DEFAULT '' CHECK (length(external_id) <= 200),
    name                TEXT CHECK (length(name) <= 300),
    avatar_url          TEXT CHECK (length(avatar_url) <= 2048),
    token_type          TEXT CHECK (length(token_type) <= 100),
    scopes              TEXT CHECK (length(scopes) <= 4000),
    expires_at          TEXT,
    connected_at        TEXT NOT NULL,
    last_refreshed_at   TEXT,
    token_version       INTEGER NOT NULL DEFAULT 0,
    refresh_lease_until TEXT,
    refresh_failures    INTEGER NOT NULL DEFAULT 0,
    next_refresh_at     TEXT,
    last_error          TEXT CHECK (length(last_error) <= 2000),
    needs_attention     INTEGER NOT NULL DEFAULT 0 CHECK (needs_attention IN (0, 1)),
    updated_at          TEXT NOT NULL,
    UNIQUE (platform_id, external_id)
) STRICT;
CREATE INDEX accounts_expires_at ON accounts (expires_at);

-- Today's one connection per OAuth platform becomes its first account, with the
-- platform's id as its own (its tokens keep their row; start-up re-binds them, below).
INSERT INTO accounts (id, platform_id, external_id, name, token_type, scopes, expires_at, connected_at, last_refreshed_at,
                      token_version, refresh_failures, next_refresh_at, last_error, needs_attention, updated_at)
SELECT p.id, p.id, substr(coalesce(c.account_id, ''), 1, 200), substr(c.account_name, 1, 300), substr(c.token_type, 1, 100),
       substr(c.scopes, 1, 4000), c.expires_at, coalesce(c.connected_at, c.updated_at, p.updated_at), c.last_refreshed_at,
       coalesce(c.token_version, 0), coalesce(c.refresh_failures, 0), c.next_refresh_at, substr(c.last_error, 1, 2000),
       CASE WHEN p.status = 'error' THEN 1 ELSE 0 END, coalesce(c.updated_at, p.updated_at)
FROM platforms p LEFT JOIN credentials c ON c.platform_id = p.id
WHERE p.auth_type = 'oauth2' AND EXISTS (SELECT 1 FROM secrets s WHERE s.platform_id = p.id AND s.field = 'access_token');

-- Secrets are owned by a platform (its client secret, API key, password, bearer token), by
-- an account (its access and refresh tokens) or by an instance client (its client
-- secret). The key is the owner's id: rotation walks one key space. account_id NULL on an OAuth platform's token marks one sealed before
-- accounts existed: server/secrets.rs re-binds it to its account at start-up (decrypted in
-- memory only, sealed again for the account's slot).
CREATE TABLE secrets_owned (
    owner_id    BLOB NOT NULL,
    field       TEXT NOT NULL CHECK (field IN ('access_token', 'refresh_token', 'client_secret', 'api_key', 'password')),
    platform_id BLOB NOT NULL REFERENCES platforms (id) ON DELETE CASCADE,
    account_id  BLOB REFERENCES accounts (id) ON DELETE CASCADE,
    instance_id BLOB REFERENCES instance_clients (id) ON DELETE CASCADE,
    ciphertext  BLOB NOT NULL CHECK (length(ciphertext) >= 33),
    key_version INTEGER NOT NULL REFERENCES encryption_keys (version),
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL,
    PRIMARY KEY (owner_id, field),
    CHECK (owner_id = coalesce(account_id, instance_id, platform_id)),
    CHECK (account_id IS NULL OR instance_id IS NULL)
) STRICT;
INSERT INTO secrets_owned (owner_id, field, platform_id, account_id, ciphertext, key_version, created_at, updated_at)
SELECT platform_id, field, platform_id, NULL, ciphertext, key_version, created_at, updated_at FROM secrets;
DROP TABLE secrets;
ALTER TABLE secrets_owned RENAME TO secrets;
CREATE INDEX secrets_key_version ON secrets (key_version);
CREATE INDEX secrets_platform ON secrets (platform_id);
CREATE INDEX secrets_account ON secrets (account_id);
CREATE INDEX secrets_instance ON secrets (instance_id);
ALTER TABLE rotation_jobs RENAME COLUMN cursor_platform TO cursor_owner;

-- The connection facts moved to accounts; credentials keeps what belongs to the platform.
ALTER TABLE credentials DROP COLUMN token_type;
ALTER TABLE credentials DROP COLUMN scopes;
ALTER TABLE credentials DROP COLUMN expires_at;
ALTER TABLE credentials DROP COLUMN account_id;
ALTER TABLE credentials DROP COLUMN account_name;
ALTER TABLE credentials DROP COLUMN connected_at;
ALTER TABLE credentials DROP COLUMN last_refreshed_at;
ALTER TABLE credentials DROP COLUMN token_version;
ALTER TABLE credentials DROP COLUMN refresh_lease_until;
ALTER TABLE credentials DROP COLUMN refresh_failures;
ALTER TABLE credentials DROP COLUMN next_refresh_at;
ALTER TABLE credentials DROP COLUMN last_error;

-- A delivery goes to an account. A disconnected account leaves its deliveries with no
-- account (they fail with a message that says so); the platform stays for the list.
CREATE TABLE deliveries_to_accounts (
    id                 BLOB PRIMARY KEY NOT NULL CHECK (length(id) = 16),
    post_id            BLOB NOT NULL REFERENCES posts (id) ON DELETE CASCADE,
    platform_id        BLOB NOT NULL REFERENCES platforms (id) ON DELETE CASCADE,
    account_id         BLOB REFERENCES accounts (id) ON DELETE SET NULL,
    status             TEXT NOT NULL CHECK (status IN ('waiting', 'queued', 'publishing', 'published', 'failed', 'unconfirmed', 'cancelled')),
    due_at             TEXT NOT NULL,
    attempts           INTEGER NOT NULL DEFAULT 0,
    lease_until        TEXT,
    attempt_started_at TEXT,
    idempotency_key    TEXT NOT NULL UNIQUE,
    provider_post_id   TEXT,
    provider_url       TEXT,
    error              TEXT,
    updated_at         TEXT NOT NULL,
    UNIQUE (post_id, account_id)
) STRICT;
INSERT INTO deliveries_to_accounts (id, post_id, platform_id, account_id, status, due_at, attempts, lease_until, attempt_started_at,
                                    idempotency_key, provider_post_id, provider_url, error, updated_at)
SELECT d.id, d.post_id, d.platform_id, (SELECT a.id FROM accounts a WHERE a.id = d.platform_id), d.status, d.due_at, d.attempts,
       d.lease_until, d.attempt_started_at, d.idempotency_key, d.provider_post_id, d.provider_url, d.error, d.updated_at
FROM deliveries d;
DROP TABLE deliveries;
ALTER TABLE deliveries_to_accounts RENAME TO deliveries;
CREATE INDEX deliveries_due ON deliveries (status, due_at);
CREATE INDEX deliveries_post ON deliveries (post_id);
CREATE INDEX deliveries_account ON deliveries (account_id);
