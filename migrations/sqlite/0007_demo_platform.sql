-- The platform the demo set-up (SANDBOX_URL) made, by id: it repairs only that one, never
-- a platform an admin happens to have named "Sandbox". Mirrors migrations/postgres/0007_demo_platform.sql.

CREATE TABLE demo_platform (
    platform_id BLOB PRIMARY KEY NOT NULL REFERENCES platforms (id) ON DELETE CASCADE
) STRICT;

-- Adopt the platform an earlier demo set-up created, as its audit entry shows.
INSERT INTO demo_platform (platform_id)
SELECT p.id FROM platforms p
WHERE lower(p.name) = 'sandbox'
  AND EXISTS (SELECT 1 FROM audit_events a WHERE a.action = 'platform_created' AND a.actor = 'system: demo set-up'
              AND replace(a.target_id, '-', '') = lower(hex(p.id)));
