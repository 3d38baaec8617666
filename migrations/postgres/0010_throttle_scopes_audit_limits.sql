-- Sign-in throttling, API token scopes and expiry, and length limits on the audit log.
-- Mirrors migrations/sqlite/0010_throttle_scopes_audit_limits.sql.

-- Attempts per account ('account:<email>') and per client address ('addr:<ip>') in the
-- current window, counted with one atomic upsert (server/store/throttle.rs): concurrent
-- attempts cannot all read the same count and pass.
CREATE TABLE login_throttle (
    key          text PRIMARY KEY CHECK (length(key) <= 300),
    window_start bigint NOT NULL,
    attempts     bigint NOT NULL CHECK (attempts >= 0)
);

-- Tokens made before scopes existed keep working as read-write JSON API tokens.
ALTER TABLE api_tokens ADD COLUMN scope text NOT NULL DEFAULT 'read_write' CHECK (scope IN ('read', 'read_write'));
ALTER TABLE api_tokens ADD COLUMN expires_at timestamptz;

-- Longer texts, if any, are cut to the limit; server/audit.rs cuts them before writing.
UPDATE audit_events SET actor = left(actor, 300), action = left(action, 64), target_type = left(target_type, 32),
    target_id = left(target_id, 100), target_label = left(target_label, 300), client_addr = left(client_addr, 64),
    detail = left(detail, 2000)
WHERE length(actor) > 300 OR length(action) > 64 OR length(target_type) > 32 OR length(target_id) > 100
   OR length(target_label) > 300 OR length(client_addr) > 64 OR length(detail) > 2000;
ALTER TABLE audit_events
    ADD CONSTRAINT audit_events_actor_len CHECK (length(actor) <= 300),
    ADD CONSTRAINT audit_events_action_len CHECK (length(action) <= 64),
    ADD CONSTRAINT audit_events_target_type_len CHECK (length(target_type) <= 32),
    ADD CONSTRAINT audit_events_target_id_len CHECK (length(target_id) <= 100),
    ADD CONSTRAINT audit_events_target_label_len CHECK (length(target_label) <= 300),
    ADD CONSTRAINT audit_events_client_addr_len CHECK (length(client_addr) <= 64),
    ADD CONSTRAINT audit_events_detail_len CHECK (length(detail) <= 2000);
