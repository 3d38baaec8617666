-- The list's "Newest first" order (domain PlatformSort::Added), which a search's matches
-- take by default: the number each platform was added as, the column SQLite has had since
-- 0023 (there its FTS5 key, whose matches come in this order). A search's page then walks
-- this index newest first and stops at the page's end, however common the word; in name
-- order it reads every match. Existing platforms are numbered in the order they were
-- created; the index carries what a search reads, so the walk is index-only (as 0027's).
ALTER TABLE platforms ADD COLUMN search_key bigint;
UPDATE platforms p SET search_key = o.n
FROM (SELECT id, row_number() OVER (ORDER BY created_at, id) AS n FROM platforms) o
WHERE p.id = o.id;
CREATE SEQUENCE platforms_search_key_seq OWNED BY platforms.search_key;
SELECT setval('platforms_search_key_seq', coalesce(max(search_key), 0) + 1, false) FROM platforms;
ALTER TABLE platforms
    ALTER COLUMN search_key SET DEFAULT nextval('platforms_search_key_seq'),
    ALTER COLUMN search_key SET NOT NULL;
CREATE UNIQUE INDEX platforms_added ON platforms (search_key) INCLUDE (id, search_text);
