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
-- integrity sweep, cascade deletes). Mirrors migrations/sqlite/0022_platform_facets.sql.
ALTER TABLE platforms ADD COLUMN secret_key_min integer;
ALTER TABLE platforms ADD COLUMN secrets_failing integer NOT NULL DEFAULT 0;
UPDATE platforms SET
    secret_key_min = (SELECT MIN(key_version) FROM secrets s WHERE s.platform_id = platforms.id),
    secrets_failing = (SELECT COUNT(*) FROM secrets s WHERE s.platform_id = platforms.id AND s.decrypt_failed_at >= s.updated_at);

CREATE TABLE platform_facets (
    category text NOT NULL,
    status   text NOT NULL,
    key_min  integer NOT NULL, -- secret_key_min, 0 for none
    failing  integer NOT NULL, -- 1 when secrets_failing > 0
    n        integer NOT NULL,
    PRIMARY KEY (category, status, key_min, failing)
);
INSERT INTO platform_facets (category, status, key_min, failing, n)
SELECT category, status, coalesce(secret_key_min, 0), CASE WHEN secrets_failing > 0 THEN 1 ELSE 0 END, COUNT(*)
FROM platforms GROUP BY 1, 2, 3, 4;

-- A secret written, re-encrypted, checked or deleted: its platform's facts again. The
-- platform row is written only when they changed (a check that changes nothing costs no
-- row version).
CREATE FUNCTION platform_secret_facts() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    pid uuid := CASE WHEN TG_OP = 'DELETE' THEN OLD.platform_id ELSE NEW.platform_id END;
    key_min integer;
    failing integer;
BEGIN
    SELECT MIN(key_version), COUNT(*) FILTER (WHERE decrypt_failed_at >= updated_at)
      INTO key_min, failing FROM secrets WHERE platform_id = pid;
    UPDATE platforms SET secret_key_min = key_min, secrets_failing = failing
    WHERE id = pid AND (secret_key_min IS DISTINCT FROM key_min OR secrets_failing <> failing);
    RETURN NULL;
END $$;
CREATE TRIGGER secrets_facts_insert_delete AFTER INSERT OR DELETE ON secrets
    FOR EACH ROW EXECUTE FUNCTION platform_secret_facts();
CREATE TRIGGER secrets_facts_update AFTER UPDATE OF key_version, decrypt_failed_at, updated_at ON secrets
    FOR EACH ROW
    WHEN (OLD.key_version IS DISTINCT FROM NEW.key_version OR OLD.decrypt_failed_at IS DISTINCT FROM NEW.decrypt_failed_at
          OR OLD.updated_at IS DISTINCT FROM NEW.updated_at)
    EXECUTE FUNCTION platform_secret_facts();

-- A platform added, deleted or moved to another combination: the counts follow.
CREATE FUNCTION platform_facets_count() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        UPDATE platform_facets SET n = n - 1
        WHERE category = OLD.category AND status = OLD.status AND key_min = coalesce(OLD.secret_key_min, 0)
          AND failing = CASE WHEN OLD.secrets_failing > 0 THEN 1 ELSE 0 END;
    END IF;
    IF TG_OP IN ('UPDATE', 'INSERT') THEN
        INSERT INTO platform_facets (category, status, key_min, failing, n)
        VALUES (NEW.category, NEW.status, coalesce(NEW.secret_key_min, 0), CASE WHEN NEW.secrets_failing > 0 THEN 1 ELSE 0 END, 1)
        ON CONFLICT (category, status, key_min, failing) DO UPDATE SET n = platform_facets.n + 1;
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER platforms_facets_insert_delete AFTER INSERT OR DELETE ON platforms
    FOR EACH ROW EXECUTE FUNCTION platform_facets_count();
CREATE TRIGGER platforms_facets_update AFTER UPDATE OF category, status, secret_key_min, secrets_failing ON platforms
    FOR EACH ROW
    WHEN (OLD.category IS DISTINCT FROM NEW.category OR OLD.status IS DISTINCT FROM NEW.status
          OR OLD.secret_key_min IS DISTINCT FROM NEW.secret_key_min OR (OLD.secrets_failing > 0) <> (NEW.secrets_failing > 0))
    EXECUTE FUNCTION platform_facets_count();

-- Filtering by the two rarest states walks only their platforms, in name order.
CREATE INDEX platforms_failing_name ON platforms (lower(name)) WHERE secrets_failing > 0;
CREATE INDEX platforms_no_secret_name ON platforms (lower(name)) WHERE secret_key_min IS NULL;
