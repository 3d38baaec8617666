-- Posts and the durable delivery queue: one delivery per post × platform. Mirrors
-- migrations/sqlite/0006_posts.sql.

CREATE TABLE posts (
    id           uuid PRIMARY KEY,
    text         text NOT NULL CHECK (length(text) BETWEEN 1 AND 5000),
    link         text CHECK (length(link) <= 2048),
    state        text NOT NULL CHECK (state IN ('draft', 'scheduled', 'sent', 'cancelled')),
    scheduled_at timestamptz,
    created_by   text NOT NULL,
    created_at   timestamptz NOT NULL,
    updated_at   timestamptz NOT NULL
);
CREATE INDEX posts_created_at ON posts (created_at);

-- The queue. A worker claims due rows (status 'queued', due_at passed) by setting
-- 'publishing' with a lease (FOR UPDATE SKIP LOCKED); a row still 'publishing' after its
-- lease was abandoned by a crashed worker. attempt_started_at is written before each
-- provider call, so a crash between the provider's success and our write is detected.
CREATE TABLE deliveries (
    id                 uuid PRIMARY KEY,
    post_id            uuid NOT NULL REFERENCES posts (id) ON DELETE CASCADE,
    platform_id        uuid NOT NULL REFERENCES platforms (id) ON DELETE CASCADE,
    status             text NOT NULL CHECK (status IN ('waiting', 'queued', 'publishing', 'published', 'failed', 'unconfirmed', 'cancelled')),
    due_at             timestamptz NOT NULL,
    attempts           integer NOT NULL DEFAULT 0,
    lease_until        timestamptz,
    attempt_started_at timestamptz,
    idempotency_key    text NOT NULL UNIQUE,
    provider_post_id   text,
    provider_url       text,
    error              text,
    updated_at         timestamptz NOT NULL,
    UNIQUE (post_id, platform_id)
);
CREATE INDEX deliveries_due ON deliveries (status, due_at);
