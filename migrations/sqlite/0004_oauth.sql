-- OAuth: each platform's client settings (which catalog provider, which endpoints) and
-- the bookkeeping that keeps a connection fresh. Mirrors migrations/postgres/0004_oauth.sql.

-- Non-secret settings; the client secret lives encrypted in `secrets`. Every URL here
-- overrides the catalog's (which is how tests and self-hosted providers are pointed).
CREATE TABLE oauth_settings (
    platform_id   BLOB PRIMARY KEY NOT NULL REFERENCES platforms (id) ON DELETE CASCADE,
    provider      TEXT NOT NULL CHECK (length(provider) BETWEEN 1 AND 50),
    client_id     TEXT CHECK (length(client_id) <= 500),
    instance_url  TEXT CHECK (length(instance_url) <= 2048),
    authorize_url TEXT CHECK (length(authorize_url) <= 2048),
    token_url     TEXT CHECK (length(token_url) <= 2048),
    revoke_url    TEXT CHECK (length(revoke_url) <= 2048),
    userinfo_url  TEXT CHECK (length(userinfo_url) <= 2048),
    api_base_url  TEXT CHECK (length(api_base_url) <= 2048),
    scopes        TEXT CHECK (length(scopes) <= 2000),
    updated_at    TEXT NOT NULL
) STRICT;

-- token_version: bumped by every token write, the compare-and-swap that keeps two
-- refreshers from both spending one refresh token. refresh_lease_until: who refreshes now.
ALTER TABLE credentials ADD COLUMN token_version INTEGER NOT NULL DEFAULT 0;
ALTER TABLE credentials ADD COLUMN refresh_lease_until TEXT;
ALTER TABLE credentials ADD COLUMN refresh_failures INTEGER NOT NULL DEFAULT 0;
ALTER TABLE credentials ADD COLUMN next_refresh_at TEXT;
ALTER TABLE credentials ADD COLUMN last_error TEXT;
