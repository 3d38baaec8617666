-- The platform list is read a page at a time in one of three orders (domain PlatformSort),
-- with a category or status filter or none; each order has an index that yields it, so a
-- page is a short index walk at any depth (server/paging.rs). Name order is the existing
-- unique index on lower(name). Mirrors migrations/sqlite/0021_platform_list.sql.
CREATE INDEX platforms_updated ON platforms (updated_at, id);
CREATE INDEX platforms_status_name ON platforms (status, lower(name));
CREATE INDEX platforms_category_name ON platforms (category, lower(name));

-- The search (name or description contains, any case: `lower(x) LIKE lower('%…%')`) is
-- served by trigram indexes when the pg_trgm extension can be had (it ships with
-- PostgreSQL and is trusted, so a database owner may create it). Without it, searches
-- scan, and nothing else changes: the migration does not fail for want of a privilege.
-- The extension goes to schema public (or stays wherever it already is), and the
-- operator class is named with its schema, so a search_path without it still works.
DO $$
DECLARE
    trgm text;
BEGIN
    BEGIN
        CREATE EXTENSION IF NOT EXISTS pg_trgm SCHEMA public;
    EXCEPTION WHEN insufficient_privilege OR undefined_file OR unique_violation OR invalid_schema_name THEN
        RAISE NOTICE 'pg_trgm is not available: platform searches will scan';
    END;
    SELECT quote_ident(n.nspname) INTO trgm FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace WHERE e.extname = 'pg_trgm';
    IF trgm IS NOT NULL THEN
        EXECUTE format('CREATE INDEX platforms_name_trgm ON platforms USING gin (lower(name) %s.gin_trgm_ops)', trgm);
        EXECUTE format('CREATE INDEX platforms_description_trgm ON platforms USING gin (lower(description) %s.gin_trgm_ops)', trgm);
    END IF;
END $$;
