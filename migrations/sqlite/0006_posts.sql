-- Posts and the durable delivery queue: one delivery per post × platform. Mirrors
-- migrations/postgres/0006_posts.sql.

CREATE TABLE posts (
    id           BLOB PRIMARY KEY NOT NULL CHECK (length(id) = 16),
    text         TEXT NOT NULL CHECK (length(text) BETWEEN 1 AND 5000),
    link         TEXT CHECK (length(link) <= 2048),
    state        TEXT NOT NULL CHECK (state IN ('draft', 'scheduled', 'sent', 'cancelled')),
    scheduled_at TEXT,
    created_by   TEXT NOT NULL,
    created_at   TEXT NOT NULL,
    updated_at   TEXT NOT NULL
) STRICT;
CREATE INDEX posts_created_at ON posts (created_at);

-- The queue. A worker claims due rows (status 'queued', due_at passed) by setting
-- 'publishing' with a lease; a row still 'publishing' after its lease was abandoned by a
-- crashed worker. attempt_started_at is written before each provider call, so a crash
-- between the provider's success and our write is detected, not silently repeated.
CREATE TABLE deliveries (
    id                 BLOB PRIMARY KEY NOT NULL CHECK (length(id) = 16),
    post_id            BLOB NOT NULL REFERENCES posts (id) ON DELETE CASCADE,
    platform_id        BLOB NOT NULL REFERENCES platforms (id) ON DELETE CASCADE,
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
    UNIQUE (post_id, platform_id)
) STRICT;
CREATE INDEX deliveries_due ON deliveries (status, due_at);
