-- Accounts, sessions, personal API tokens and the audit log. Mirrors
-- migrations/postgres/0003_accounts.sql.

CREATE TABLE users (
    id            BLOB PRIMARY KEY NOT NULL CHECK (length(id) = 16),
    email         TEXT NOT NULL CHECK (length(email) BETWEEN 3 AND 254),
    password_hash TEXT NOT NULL,
    role          TEXT NOT NULL CHECK (role IN ('admin', 'marketer')),
    disabled      INTEGER NOT NULL DEFAULT 0 CHECK (disabled IN (0, 1)),
    created_at    TEXT NOT NULL,
    updated_at    TEXT NOT NULL
) STRICT;
CREATE UNIQUE INDEX users_email_key ON users (lower(email));

-- tower-sessions records, shared by every instance on this database.
CREATE TABLE sessions (
    id         TEXT PRIMARY KEY NOT NULL,
    data       TEXT NOT NULL,
    expires_at INTEGER NOT NULL
) STRICT;
CREATE INDEX sessions_expires_at ON sessions (expires_at);

-- Personal API tokens: only a SHA-256 hash of the token is kept.
CREATE TABLE api_tokens (
    id           BLOB PRIMARY KEY NOT NULL CHECK (length(id) = 16),
    user_id      BLOB NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name         TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    token_hash   TEXT NOT NULL UNIQUE CHECK (length(token_hash) = 64),
    prefix       TEXT NOT NULL,
    created_at   TEXT NOT NULL,
    last_used_at TEXT,
    revoked_at   TEXT
) STRICT;

-- Append-only: nothing updates or deletes these rows. Never a secret.
CREATE TABLE audit_events (
    id           BLOB PRIMARY KEY NOT NULL CHECK (length(id) = 16),
    at           TEXT NOT NULL,
    actor_id     BLOB,
    actor        TEXT NOT NULL,
    action       TEXT NOT NULL,
    target_type  TEXT,
    target_id    TEXT,
    target_label TEXT,
    outcome      TEXT NOT NULL CHECK (outcome IN ('ok', 'denied', 'failed')),
    client_addr  TEXT,
    detail       TEXT
) STRICT;
CREATE INDEX audit_events_at ON audit_events (at);
CREATE INDEX audit_events_action_at ON audit_events (action, at);
