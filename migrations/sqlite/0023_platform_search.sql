-- The list's search (name or description contains the text, any case) through an FTS5
-- trigram index: a search of three characters or more reads the index, not every row.
-- FTS5 keys its rows by an integer. The platform's rowid would do until a VACUUM
-- renumbers it (the key is a uuid), so each platform gets its own number, search_key,
-- given once from the largest so far and never changed. The index stores no copy of the
-- text (contentless, with deletes). Triggers keep it right on every write; a search of
-- one or two characters falls back to LIKE (server/store/platforms.rs, search_sql).
-- PostgreSQL has trigram indexes on the columns themselves instead (0021).
ALTER TABLE platforms ADD COLUMN search_key INTEGER;
UPDATE platforms SET search_key = rowid;
CREATE UNIQUE INDEX platforms_search_key ON platforms (search_key);
CREATE VIRTUAL TABLE platform_search USING fts5(name, description, content = '', contentless_delete = 1, tokenize = 'trigram');
INSERT INTO platform_search (rowid, name, description) SELECT search_key, name, coalesce(description, '') FROM platforms;

CREATE TRIGGER platforms_search_insert AFTER INSERT ON platforms BEGIN
    UPDATE platforms SET search_key = (SELECT coalesce(MAX(search_key), 0) + 1 FROM platforms) WHERE id = NEW.id;
    INSERT INTO platform_search (rowid, name, description)
    SELECT search_key, NEW.name, coalesce(NEW.description, '') FROM platforms WHERE id = NEW.id;
END;
CREATE TRIGGER platforms_search_update AFTER UPDATE OF name, description ON platforms BEGIN
    DELETE FROM platform_search WHERE rowid = OLD.search_key;
    INSERT INTO platform_search (rowid, name, description) VALUES (NEW.search_key, NEW.name, coalesce(NEW.description, ''));
END;
CREATE TRIGGER platforms_search_delete AFTER DELETE ON platforms BEGIN
    DELETE FROM platform_search WHERE rowid = OLD.search_key;
END;
