-- The facts and counts of 0022, kept by statement instead of by row: a statement that
-- writes many rows (an import batch, a rotation batch, a sweep) runs each trigger once,
-- on the rows it changed (its transition tables), instead of once per row. The rules are
-- those of 0022; SQLite has no statement triggers and keeps its row triggers.
DROP TRIGGER secrets_facts_insert_delete ON secrets;
DROP TRIGGER secrets_facts_update ON secrets;
DROP TRIGGER platforms_facets_insert_delete ON platforms;
DROP TRIGGER platforms_facets_update ON platforms;
DROP FUNCTION platform_secret_facts();
DROP FUNCTION platform_facets_count();

-- The facts of each platform whose secrets the statement touched (`changed`: its new
-- rows, or its old ones for a delete; no statement moves a secret to another platform),
-- written only where they changed.
CREATE FUNCTION platform_secret_facts() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE platforms p SET secret_key_min = f.key_min, secrets_failing = f.failing
    FROM (SELECT t.id, MIN(s.key_version) AS key_min, COUNT(s.owner_id) FILTER (WHERE s.decrypt_failed_at >= s.updated_at) AS failing
          FROM (SELECT DISTINCT platform_id AS id FROM changed) t LEFT JOIN secrets s ON s.platform_id = t.id
          GROUP BY t.id) f
    WHERE p.id = f.id AND (p.secret_key_min IS DISTINCT FROM f.key_min OR p.secrets_failing <> f.failing);
    RETURN NULL;
END $$;
CREATE TRIGGER secrets_facts_insert AFTER INSERT ON secrets REFERENCING NEW TABLE AS changed
    FOR EACH STATEMENT EXECUTE FUNCTION platform_secret_facts();
CREATE TRIGGER secrets_facts_update AFTER UPDATE ON secrets REFERENCING NEW TABLE AS changed
    FOR EACH STATEMENT EXECUTE FUNCTION platform_secret_facts();
CREATE TRIGGER secrets_facts_delete AFTER DELETE ON secrets REFERENCING OLD TABLE AS changed
    FOR EACH STATEMENT EXECUTE FUNCTION platform_secret_facts();

-- The counts: every platform the statement removed takes one from its combination, every
-- one it added gives one to its own; an updated platform does both, which cancel out when
-- its combination did not change.
CREATE FUNCTION platform_facets_count() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO platform_facets (category, status, key_min, failing, n)
        SELECT category, status, coalesce(secret_key_min, 0), (secrets_failing > 0)::int, COUNT(*) FROM added GROUP BY 1, 2, 3, 4
        ON CONFLICT (category, status, key_min, failing) DO UPDATE SET n = platform_facets.n + excluded.n;
    ELSIF TG_OP = 'DELETE' THEN
        UPDATE platform_facets f SET n = f.n - gone.n
        FROM (SELECT category, status, coalesce(secret_key_min, 0) AS key_min, (secrets_failing > 0)::int AS failing, COUNT(*) AS n
              FROM removed GROUP BY 1, 2, 3, 4) gone
        WHERE (f.category, f.status, f.key_min, f.failing) = (gone.category, gone.status, gone.key_min, gone.failing);
    ELSE
        INSERT INTO platform_facets (category, status, key_min, failing, n)
        SELECT d.category, d.status, d.key_min, d.failing, SUM(d.delta)
        FROM removed o JOIN added a ON a.id = o.id,
             LATERAL (VALUES (o.category, o.status, coalesce(o.secret_key_min, 0), (o.secrets_failing > 0)::int, -1),
                             (a.category, a.status, coalesce(a.secret_key_min, 0), (a.secrets_failing > 0)::int, 1))
                 AS d(category, status, key_min, failing, delta)
        GROUP BY 1, 2, 3, 4 HAVING SUM(d.delta) <> 0
        ON CONFLICT (category, status, key_min, failing) DO UPDATE SET n = platform_facets.n + excluded.n;
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER platforms_facets_insert AFTER INSERT ON platforms REFERENCING NEW TABLE AS added
    FOR EACH STATEMENT EXECUTE FUNCTION platform_facets_count();
CREATE TRIGGER platforms_facets_update AFTER UPDATE ON platforms REFERENCING OLD TABLE AS removed NEW TABLE AS added
    FOR EACH STATEMENT EXECUTE FUNCTION platform_facets_count();
CREATE TRIGGER platforms_facets_delete AFTER DELETE ON platforms REFERENCING OLD TABLE AS removed
    FOR EACH STATEMENT EXECUTE FUNCTION platform_facets_count();
