-- OAuth: each platform's client settings (which catalog provider, which endpoints) and
-- the bookkeeping that keeps a connection fresh. Mirrors migrations/sqlite/0004_oauth.sql.

-- Non-secret settings; the client secret lives encrypted in `secrets`. Every URL here
-- overrides the catalog's (which is how tests and self-hosted providers are pointed).
CREATE TABLE oauth_settings (
    platform_id   uuid PRIMARY KEY REFERENCES platforms (id) ON DELETE CASCADE,
    provider      text NOT NULL CHECK (length(provider) BETWEEN 1 AND 50),
    client_id     text CHECK (length(client_id) <= 500),
    instance_url  text CHECK (length(instance_url) <= 2048),
    authorize_url text CHECK (length(authorize_url) <= 2048),
    token_url     text CHECK (length(token_url) <= 2048),
    revoke_url    text CHECK (length(revoke_url) <= 2048),
    userinfo_url  text CHECK (length(userinfo_url) <= 2048),
    api_base_url  text CHECK (length(api_base_url) <= 2048),
    scopes        text CHECK (length(scopes) <= 2000),
    updated_at    timestamptz NOT NULL
);

-- token_version: bumped by every token write, the compare-and-swap that keeps two
-- refreshers from both spending one refresh token. refresh_lease_until: who refreshes now.
ALTER TABLE credentials
    ADD COLUMN token_version bigint NOT NULL DEFAULT 0,
    ADD COLUMN refresh_lease_until timestamptz,
    ADD COLUMN refresh_failures integer NOT NULL DEFAULT 0,
    ADD COLUMN next_refresh_at timestamptz,
    ADD COLUMN last_error text;
