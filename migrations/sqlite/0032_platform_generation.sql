-- A number that moves whenever a platform is added or removed, or changes in what the
-- list filters, searches or sorts on: a search's whole order of matches, kept in memory
-- for its pages (server/search_orders.rs), is good while this number has not moved. It
-- moves in the writing transaction, so a reader sees it move with the change itself.
-- Mirrors migrations/postgres/0032_platform_generation.sql (there by statement).
CREATE TABLE platform_generation (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    n  INTEGER NOT NULL
) STRICT;
INSERT INTO platform_generation (id, n) VALUES (1, 0);

CREATE TRIGGER platforms_generation_insert AFTER INSERT ON platforms BEGIN
    UPDATE platform_generation SET n = n + 1;
END;
CREATE TRIGGER platforms_generation_delete AFTER DELETE ON platforms BEGIN
    UPDATE platform_generation SET n = n + 1;
END;
CREATE TRIGGER platforms_generation_update AFTER UPDATE ON platforms
WHEN OLD.name IS NOT NEW.name OR OLD.description IS NOT NEW.description OR OLD.category IS NOT NEW.category
  OR OLD.status IS NOT NEW.status OR OLD.secret_key_min IS NOT NEW.secret_key_min OR OLD.secrets_failing IS NOT NEW.secrets_failing
BEGIN
    UPDATE platform_generation SET n = n + 1;
END;
