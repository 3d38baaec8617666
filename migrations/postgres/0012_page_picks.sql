-- Page picks: a Facebook connection half-way, between the provider's answer and the
-- person's choice of Pages. The Pages offered (ids, names and each Page's own access
-- token) are one sealed JSON document (slot `page_picks`, bound to this row); nothing
-- here is an account until the person picks. A pick lives 10 minutes, is used once and
-- belongs to the person who started it. Mirrors migrations/sqlite/0012_page_picks.sql.
CREATE TABLE page_picks (
    id          uuid PRIMARY KEY,
    platform_id uuid NOT NULL REFERENCES platforms (id) ON DELETE CASCADE,
    user_id     uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    ciphertext  bytea NOT NULL CHECK (length(ciphertext) <= 1048576),
    key_version integer NOT NULL,
    created_at  timestamptz NOT NULL,
    expires_at  timestamptz NOT NULL
);

CREATE INDEX page_picks_expiry ON page_picks (expires_at);
