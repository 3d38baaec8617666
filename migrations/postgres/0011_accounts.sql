-- Accounts (connections): one platform (the app an admin configures) holds any number of
-- connected accounts, each with its own tokens and facts. Mirrors
-- migrations/sqlite/0011_accounts.sql. docs/encryption.md has the binding of the tokens.

-- Apps Keyport registered by itself on an instance of a federated provider (Mastodon's
-- POST /api/v1/apps), one per platform and instance origin, reused by every account on
-- that instance. The client secret is in `secrets` (owner: this row).
CREATE TABLE instance_clients (
    id            uuid PRIMARY KEY,
    platform_id   uuid NOT NULL REFERENCES platforms (id) ON DELETE CASCADE,
    origin        text NOT NULL CHECK (length(origin) <= 300),
    client_id     text NOT NULL CHECK (length(client_id) BETWEEN 1 AND 500),
    scopes        text NOT NULL CHECK (length(scopes) <= 2000),
    registered_at timestamptz NOT NULL,
    UNIQUE (platform_id, origin)
);

-- external_id: the provider's id of the account ('' when the provider does not say), the
-- key a new connection of the same account replaces. Texts from providers are cut to
-- these limits before they are written (server/store/accounts.rs).
CREATE TABLE accounts (
    id                  uuid PRIMARY KEY,
    platform_id         uuid NOT NULL REFERENCES platforms (id) ON DELETE CASCADE,
    -- The instance the account lives on, when Keyport registered the app there.
    instance_id         uuid REFERENCES instance_clients (id) ON DELETE CASCADE,
    external_id         text NOT NULL DEFAULT '' CHECK (length(external_id) <= 200),
    name                text CHECK (length(name) <= 300),
    avatar_url          text CHECK (length(avatar_url) <= 2048),
    token_type          text CHECK (length(token_type) <= 100),
    scopes              text CHECK (length(scopes) <= 4000),
    expires_at          timestamptz,
    connected_at        timestamptz NOT NULL,
    last_refreshed_at   timestamptz,
    token_version       bigint NOT NULL DEFAULT 0,
    refresh_lease_until timestamptz,
    refresh_failures    integer NOT NULL DEFAULT 0,
    next_refresh_at     timestamptz,
    last_error          text CHECK (length(last_error) <= 2000),
    needs_attention     boolean NOT NULL DEFAULT false,
    updated_at          timestamptz NOT NULL,
    UNIQUE (platform_id, external_id)
);
CREATE INDEX accounts_expires_at ON accounts (expires_at);

-- Today's one connection per OAuth platform becomes its first account, with the
-- platform's id as its own (its tokens keep their row; start-up re-binds them, below).
INSERT INTO accounts (id, platform_id, external_id, name, token_type, scopes, expires_at, connected_at, last_refreshed_at,
                      token_version, refresh_failures, next_refresh_at, last_error, needs_attention, updated_at)
SELECT p.id, p.id, left(coalesce(c.account_id, ''), 200), left(c.account_name, 300), left(c.token_type, 100),
       left(c.scopes, 4000), c.expires_at, coalesce(c.connected_at, c.updated_at, p.updated_at), c.last_refreshed_at,
       coalesce(c.token_version, 0), coalesce(c.refresh_failures, 0), c.next_refresh_at, left(c.last_error, 2000),
       p.status = 'error', coalesce(c.updated_at, p.updated_at)
FROM platforms p LEFT JOIN credentials c ON c.platform_id = p.id
WHERE p.auth_type = 'oauth2' AND EXISTS (SELECT 1 FROM secrets s WHERE s.platform_id = p.id AND s.field = 'access_token');

-- Secrets are owned by a platform (its client secret, API key, password, bearer token), by
-- an account (its access and refresh tokens) or by an instance client (its client
-- secret). The key is the owner's id: rotation walks one key space. account_id NULL on an OAuth platform's token marks one sealed before
-- accounts existed: server/secrets.rs re-binds it to its account at start-up (decrypted in
-- memory only, sealed again for the account's slot).
ALTER TABLE secrets ADD COLUMN owner_id uuid, ADD COLUMN account_id uuid REFERENCES accounts (id) ON DELETE CASCADE,
    ADD COLUMN instance_id uuid REFERENCES instance_clients (id) ON DELETE CASCADE;
UPDATE secrets SET owner_id = platform_id;
ALTER TABLE secrets ALTER COLUMN owner_id SET NOT NULL,
    DROP CONSTRAINT secrets_pkey,
    ADD PRIMARY KEY (owner_id, field),
    ADD CHECK (owner_id = coalesce(account_id, instance_id, platform_id)),
    ADD CHECK (account_id IS NULL OR instance_id IS NULL);
CREATE INDEX secrets_platform ON secrets (platform_id);
CREATE INDEX secrets_account ON secrets (account_id);
CREATE INDEX secrets_instance ON secrets (instance_id);
ALTER TABLE rotation_jobs RENAME COLUMN cursor_platform TO cursor_owner;

-- The connection facts moved to accounts; credentials keeps what belongs to the platform.
ALTER TABLE credentials
    DROP COLUMN token_type, DROP COLUMN scopes, DROP COLUMN expires_at, DROP COLUMN account_id, DROP COLUMN account_name,
    DROP COLUMN connected_at, DROP COLUMN last_refreshed_at, DROP COLUMN token_version, DROP COLUMN refresh_lease_until,
    DROP COLUMN refresh_failures, DROP COLUMN next_refresh_at, DROP COLUMN last_error;

-- A delivery goes to an account. A disconnected account leaves its deliveries with no
-- account (they fail with a message that says so); the platform stays for the list.
ALTER TABLE deliveries ADD COLUMN account_id uuid REFERENCES accounts (id) ON DELETE SET NULL;
UPDATE deliveries d SET account_id = a.id FROM accounts a WHERE a.id = d.platform_id;
ALTER TABLE deliveries DROP CONSTRAINT deliveries_post_id_platform_id_key, ADD UNIQUE (post_id, account_id);
CREATE INDEX deliveries_post ON deliveries (post_id);
CREATE INDEX deliveries_account ON deliveries (account_id);
