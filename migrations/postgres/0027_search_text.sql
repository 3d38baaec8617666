-- A search reads one stored column instead of lowering name and description for every row
-- it looks at: `lower(name) || chr(1) || lower(description)` (chr(1) cannot be typed into
-- a search box, so a match never spans the two). Its trigram index replaces 0021's two,
-- and a name-ordered index that carries it lets a search's page in name order be an
-- index-only walk that stops at the page's end (server/store/platforms.rs, page). A word
-- in 15 % of 100,000 rows: the page 259 → 29 ms, its count 23 → 3 ms (docs/performance.md).
ALTER TABLE platforms ADD COLUMN search_text text
    GENERATED ALWAYS AS (lower(name) || chr(1) || lower(coalesce(description, ''))) STORED;
CREATE INDEX platforms_name_search ON platforms (lower(name)) INCLUDE (id, name, search_text);

DROP INDEX IF EXISTS platforms_name_trgm;
DROP INDEX IF EXISTS platforms_description_trgm;
DO $$
DECLARE
    trgm text;
BEGIN
    SELECT quote_ident(n.nspname) INTO trgm FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace WHERE e.extname = 'pg_trgm';
    IF trgm IS NOT NULL THEN
        EXECUTE format('CREATE INDEX platforms_search_trgm ON platforms USING gin (search_text %s.gin_trgm_ops)', trgm);
    END IF;
END $$;
