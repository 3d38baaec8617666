-- A secret added to a platform changes the platform's facts (0022) only when its key is
-- older than the platform's oldest, the platform had none, or it is marked failing;
-- otherwise MIN(key_version) and the failing count stay as they were, and rewriting the
-- platform's row (its indexes, and the facets' and generation's triggers) is skipped. The
-- bulk import inserts each platform with the facts its secrets will give it, as on
-- PostgreSQL, so its secrets rewrite nothing.
DROP TRIGGER secrets_facts_insert;
CREATE TRIGGER secrets_facts_insert AFTER INSERT ON secrets
WHEN NEW.decrypt_failed_at IS NOT NULL
  OR NOT EXISTS (SELECT 1 FROM platforms WHERE id = NEW.platform_id AND secret_key_min <= NEW.key_version)
BEGIN
    UPDATE platforms SET
        secret_key_min = (SELECT MIN(key_version) FROM secrets WHERE platform_id = NEW.platform_id),
        secrets_failing = (SELECT COUNT(*) FROM secrets WHERE platform_id = NEW.platform_id AND decrypt_failed_at >= updated_at)
    WHERE id = NEW.platform_id;
END;
