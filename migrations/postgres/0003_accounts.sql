-- Accounts, sessions, personal API tokens and the audit log. Mirrors
-- migrations/sqlite/0003_accounts.sql.

CREATE TABLE users (
    id            uuid PRIMARY KEY,
    email         text NOT NULL CHECK (length(email) BETWEEN 3 AND 254),
    password_hash text NOT NULL,
    role          text NOT NULL CHECK (role IN ('admin', 'marketer')),
    disabled      boolean NOT NULL DEFAULT false,
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX users_email_key ON users (lower(email));

-- tower-sessions records, shared by every instance on this database.
CREATE TABLE sessions (
    id         text PRIMARY KEY,
    data       text NOT NULL,
    expires_at bigint NOT NULL
);
CREATE INDEX sessions_expires_at ON sessions (expires_at);

-- Personal API tokens: only a SHA-256 hash of the token is kept.
CREATE TABLE api_tokens (
    id           uuid PRIMARY KEY,
    user_id      uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name         text NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    token_hash   text NOT NULL UNIQUE CHECK (length(token_hash) = 64),
    prefix       text NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    last_used_at timestamptz,
    revoked_at   timestamptz
);

-- Append-only: nothing updates or deletes these rows. Never a secret.
CREATE TABLE audit_events (
    id           uuid PRIMARY KEY,
    at           timestamptz NOT NULL DEFAULT now(),
    actor_id     uuid,
    actor        text NOT NULL,
    action       text NOT NULL,
    target_type  text,
    target_id    text,
    target_label text,
    outcome      text NOT NULL CHECK (outcome IN ('ok', 'denied', 'failed')),
    client_addr  text,
    detail       text
);
CREATE INDEX audit_events_at ON audit_events (at);
CREATE INDEX audit_events_action_at ON audit_events (action, at);
