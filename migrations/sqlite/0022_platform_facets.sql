-- What the platform list needs to know of a platform's secrets, kept beside the platform
-- by triggers, so that a page, a filter by encryption state and the counts beside the
-- filters read no secret row (and decrypt nothing):
--   secret_key_min   the oldest key version of its secrets (NULL: no secret)
--   secrets_failing  how many of them failed to open when last tried (see 0020)
-- The badge's rule on these (server/store/platforms.rs, state_sql) compares the key
-- version with the current one at read time, so a rotation's new key needs no write here.
-- platform_facets counts the platforms of every (category, status, oldest key, failing)
-- combination, so the counts beside the filters are a read of a few dozen rows at any size.
-- Triggers keep both right whatever writes a secret or a platform (store, rotation,
-- integrity sweep, cascade deletes). Mirrors migrations/postgres/0022_platform_facets.sql.
ALTER TABLE platforms ADD COLUMN secret_key_min INTEGER;
ALTER TABLE platforms ADD COLUMN secrets_failing INTEGER NOT NULL DEFAULT 0;
UPDATE platforms SET
    secret_key_min = (SELECT MIN(key_version) FROM secrets s WHERE s.platform_id = platforms.id),
    secrets_failing = (SELECT COUNT(*) FROM secrets s WHERE s.platform_id = platforms.id AND s.decrypt_failed_at >= s.updated_at);

CREATE TABLE platform_facets (
    category TEXT NOT NULL,
    status   TEXT NOT NULL,
    key_min  INTEGER NOT NULL, -- secret_key_min, 0 for none
    failing  INTEGER NOT NULL, -- 1 when secrets_failing > 0
    n        INTEGER NOT NULL,
    PRIMARY KEY (category, status, key_min, failing)
) STRICT;
INSERT INTO platform_facets (category, status, key_min, failing, n)
SELECT category, status, coalesce(secret_key_min, 0), CASE WHEN secrets_failing > 0 THEN 1 ELSE 0 END, COUNT(*)
FROM platforms GROUP BY 1, 2, 3, 4;

CREATE TRIGGER secrets_facts_insert AFTER INSERT ON secrets BEGIN
    UPDATE platforms SET
        secret_key_min = (SELECT MIN(key_version) FROM secrets WHERE platform_id = NEW.platform_id),
        secrets_failing = (SELECT COUNT(*) FROM secrets WHERE platform_id = NEW.platform_id AND decrypt_failed_at >= updated_at)
    WHERE id = NEW.platform_id;
END;
CREATE TRIGGER secrets_facts_update AFTER UPDATE OF key_version, decrypt_failed_at, updated_at ON secrets
WHEN OLD.key_version IS NOT NEW.key_version OR OLD.decrypt_failed_at IS NOT NEW.decrypt_failed_at OR OLD.updated_at IS NOT NEW.updated_at
BEGIN
    UPDATE platforms SET
        secret_key_min = (SELECT MIN(key_version) FROM secrets WHERE platform_id = NEW.platform_id),
        secrets_failing = (SELECT COUNT(*) FROM secrets WHERE platform_id = NEW.platform_id AND decrypt_failed_at >= updated_at)
    WHERE id = NEW.platform_id;
END;
CREATE TRIGGER secrets_facts_delete AFTER DELETE ON secrets BEGIN
    UPDATE platforms SET
        secret_key_min = (SELECT MIN(key_version) FROM secrets WHERE platform_id = OLD.platform_id),
        secrets_failing = (SELECT COUNT(*) FROM secrets WHERE platform_id = OLD.platform_id AND decrypt_failed_at >= updated_at)
    WHERE id = OLD.platform_id;
END;

CREATE TRIGGER platforms_facets_insert AFTER INSERT ON platforms BEGIN
    INSERT INTO platform_facets (category, status, key_min, failing, n)
    VALUES (NEW.category, NEW.status, coalesce(NEW.secret_key_min, 0), CASE WHEN NEW.secrets_failing > 0 THEN 1 ELSE 0 END, 1)
    ON CONFLICT (category, status, key_min, failing) DO UPDATE SET n = n + 1;
END;
CREATE TRIGGER platforms_facets_delete AFTER DELETE ON platforms BEGIN
    UPDATE platform_facets SET n = n - 1
    WHERE category = OLD.category AND status = OLD.status AND key_min = coalesce(OLD.secret_key_min, 0)
      AND failing = CASE WHEN OLD.secrets_failing > 0 THEN 1 ELSE 0 END;
END;
CREATE TRIGGER platforms_facets_update AFTER UPDATE OF category, status, secret_key_min, secrets_failing ON platforms
WHEN OLD.category IS NOT NEW.category OR OLD.status IS NOT NEW.status OR OLD.secret_key_min IS NOT NEW.secret_key_min
  OR (OLD.secrets_failing > 0) IS NOT (NEW.secrets_failing > 0)
BEGIN
    UPDATE platform_facets SET n = n - 1
    WHERE category = OLD.category AND status = OLD.status AND key_min = coalesce(OLD.secret_key_min, 0)
      AND failing = CASE WHEN OLD.secrets_failing > 0 THEN 1 ELSE 0 END;
    INSERT INTO platform_facets (category, status, key_min, failing, n)
    VALUES (NEW.category, NEW.status, coalesce(NEW.secret_key_min, 0), CASE WHEN NEW.secrets_failing > 0 THEN 1 ELSE 0 END, 1)
    ON CONFLICT (category, status, key_min, failing) DO UPDATE SET n = n + 1;
END;

-- Filtering by the two rarest states walks only their platforms, in name order.
CREATE INDEX platforms_failing_name ON platforms (lower(name)) WHERE secrets_failing > 0;
CREATE INDEX platforms_no_secret_name ON platforms (lower(name)) WHERE secret_key_min IS NULL;
