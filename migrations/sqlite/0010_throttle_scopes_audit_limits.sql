-- Sign-in throttling, API token scopes and expiry, and length limits on the audit log.
-- Mirrors migrations/postgres/0010_throttle_scopes_audit_limits.sql.

-- Attempts per account ('account:<email>') and per client address ('addr:<ip>') in the
-- current window, counted with one atomic upsert (server/store/throttle.rs): concurrent
-- attempts cannot all read the same count and pass.
CREATE TABLE login_throttle (
    key          TEXT PRIMARY KEY NOT NULL CHECK (length(key) <= 300),
    window_start INTEGER NOT NULL,
    attempts     INTEGER NOT NULL CHECK (attempts >= 0)
) STRICT;

-- Tokens made before scopes existed keep working as read-write JSON API tokens.
ALTER TABLE api_tokens ADD COLUMN scope TEXT NOT NULL DEFAULT 'read_write' CHECK (scope IN ('read', 'read_write'));
ALTER TABLE api_tokens ADD COLUMN expires_at TEXT;

-- SQLite cannot add a CHECK to a table: the audit log is copied into one that has them
-- (longer texts, if any, are cut to the limit; server/audit.rs cuts them before writing).
CREATE TABLE audit_events_limited (
    id           BLOB PRIMARY KEY NOT NULL CHECK (length(id) = 16),
    at           TEXT NOT NULL,
    actor_id     BLOB,
    actor        TEXT NOT NULL CHECK (length(actor) <= 300),
    action       TEXT NOT NULL CHECK (length(action) <= 64),
    target_type  TEXT CHECK (length(target_type) <= 32),
    target_id    TEXT CHECK (length(target_id) <= 100),
    target_label TEXT CHECK (length(target_label) <= 300),
    outcome      TEXT NOT NULL CHECK (outcome IN ('ok', 'denied', 'failed')),
    client_addr  TEXT CHECK (length(client_addr) <= 64),
    detail       TEXT CHECK (length(detail) <= 2000)
) STRICT;
INSERT INTO audit_events_limited
SELECT id, at, actor_id, substr(actor, 1, 300), substr(action, 1, 64), substr(target_type, 1, 32), substr(target_id, 1, 100),
       substr(target_label, 1, 300), outcome, substr(client_addr, 1, 64), substr(detail, 1, 2000)
FROM audit_events;
DROP TABLE audit_events;
ALTER TABLE audit_events_limited RENAME TO audit_events;
CREATE INDEX audit_events_at ON audit_events (at);
CREATE INDEX audit_events_action_at ON audit_events (action, at);
