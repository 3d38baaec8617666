-- Re-encryption jobs (key rotation) and the plaintext-import flag. Mirrors
-- migrations/sqlite/0005_rotation.sql.

-- One row per job; `active` is 1 while running or paused (UNIQUE: one such job at a time)
-- and NULL afterwards. The cursor is the last (platform_id, field) handled, so a job
-- resumes where it stopped; the lease says which instance works on it until when.
CREATE TABLE rotation_jobs (
    id              uuid PRIMARY KEY,
    state           text NOT NULL CHECK (state IN ('running', 'paused', 'done')),
    active          integer UNIQUE CHECK (active = 1),
    target_version  integer NOT NULL,
    total           bigint NOT NULL CHECK (total >= 0),
    done            bigint NOT NULL DEFAULT 0 CHECK (done >= 0),
    failed          bigint NOT NULL DEFAULT 0 CHECK (failed >= 0),
    cursor_platform uuid,
    cursor_field    text,
    lease_owner     uuid,
    lease_until     timestamptz,
    busy_seconds    double precision NOT NULL DEFAULT 0,
    started_by      text NOT NULL,
    started_at      timestamptz NOT NULL,
    updated_at      timestamptz NOT NULL,
    finished_at     timestamptz,
    last_error      text
);

-- Secrets that arrived in plaintext from an older store: usable, but their platform should
-- be re-authenticated so no copy that lay around in clear stays valid.
ALTER TABLE credentials ADD COLUMN imported_plaintext boolean NOT NULL DEFAULT false;
