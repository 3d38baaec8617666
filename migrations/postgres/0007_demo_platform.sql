-- The platform the demo set-up (SANDBOX_URL) made, by id: it repairs only that one, never
-- a platform an admin happens to have named "Sandbox". Mirrors migrations/sqlite/0007_demo_platform.sql.

CREATE TABLE demo_platform (
    platform_id uuid PRIMARY KEY REFERENCES platforms (id) ON DELETE CASCADE
);

-- Adopt the platform an earlier demo set-up created, as its audit entry shows.
INSERT INTO demo_platform (platform_id)
SELECT p.id FROM platforms p
WHERE lower(p.name) = 'sandbox'
  AND EXISTS (SELECT 1 FROM audit_events a WHERE a.action = 'platform_created' AND a.actor = 'system: demo set-up'
              AND a.target_id = p.id::text);
