-- Page picks: a Facebook connection half-way, between the provider's answer and the
-- person's choice of Pages. The Pages offered (ids, names and each Page's own access
-- token) are one sealed JSON document (slot `page_picks`, bound to this row); nothing
-- here is an account until the person picks. A pick lives 10 minutes, is used once and
-- belongs to the person who started it. Mirrors migrations/postgres/0012_page_picks.sql.
CREATE TABLE page_picks (
    id          BLOB PRIMARY KEY NOT NULL CHECK (length(id) = 16),
    platform_id BLOB NOT NULL REFERENCES platforms (id) ON DELETE CASCADE,
    user_id     BLOB NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    ciphertext  BLOB NOT NULL CHECK (length(ciphertext) <= 1048576),
    key_version INTEGER NOT NULL,
    created_at  TEXT NOT NULL,
    expires_at  TEXT NOT NULL
) STRICT;

CREATE INDEX page_picks_expiry ON page_picks (expires_at);
