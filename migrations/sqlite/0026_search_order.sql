-- A search's page in name order (server/store/platforms.rs, page): the FTS5 index gives
-- the matching search keys, this index gives each one's name without reading its row,
-- and only the page's rows are then read.
CREATE INDEX platforms_search_name ON platforms (search_key, lower(name));
