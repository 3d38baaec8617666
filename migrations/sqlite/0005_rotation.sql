-- Re-encryption jobs (key rotation) and the plaintext-import flag. Mirrors
-- migrations/postgres/0005_rotation.sql.

-- One row per job; `active` is 1 while running or paused (UNIQUE: one such job at a time)
-- and NULL afterwards. The cursor is the last (platform_id, field) handled, so a job
-- resumes where it stopped; the lease says which instance works on it until when.
CREATE TABLE rotation_jobs (
    id              BLOB PRIMARY KEY NOT NULL CHECK (length(id) = 16),
    state           TEXT NOT NULL CHECK (state IN ('running', 'paused', 'done')),
    active          INTEGER UNIQUE CHECK (active = 1),
    target_version  INTEGER NOT NULL,
    total           INTEGER NOT NULL CHECK (total >= 0),
    done            INTEGER NOT NULL DEFAULT 0 CHECK (done >= 0),
    failed          INTEGER NOT NULL DEFAULT 0 CHECK (failed >= 0),
    cursor_platform BLOB,
    cursor_field    TEXT,
    lease_owner     BLOB,
    lease_until     TEXT,
    busy_seconds    REAL NOT NULL DEFAULT 0,
    started_by      TEXT NOT NULL,
    started_at      TEXT NOT NULL,
    updated_at      TEXT NOT NULL,
    finished_at     TEXT,
    last_error      TEXT
) STRICT;

-- Secrets that arrived in plaintext from an older store: usable, but their platform should
-- be re-authenticated so no copy that lay around in clear stays valid.
ALTER TABLE credentials ADD COLUMN imported_plaintext INTEGER NOT NULL DEFAULT 0 CHECK (imported_plaintext IN (0, 1));
