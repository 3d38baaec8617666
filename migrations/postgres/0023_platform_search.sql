-- SQLite's migration 0023 gives the search an FTS5 trigram index. PostgreSQL searches
-- through the trigram indexes of 0021 and needs nothing more; this file keeps the two
-- migration lists the same length. Mirrors migrations/sqlite/0023_platform_search.sql.
SELECT 1;
