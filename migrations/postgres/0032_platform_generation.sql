-- A number that moves whenever a platform is added or removed, or changes in what the
-- list filters, searches or sorts on: a search's whole order of matches, kept in memory
-- for its pages (server/search_orders.rs), is good while this number has not moved. It
-- moves in the writing transaction, so a reader sees it move with the change itself, and
-- once per statement (an import's batch of 500 moves it once).
-- Mirrors migrations/sqlite/0032_platform_generation.sql.
CREATE TABLE platform_generation (
    id integer PRIMARY KEY CHECK (id = 1),
    n  bigint NOT NULL
);
INSERT INTO platform_generation (id, n) VALUES (1, 0);

CREATE FUNCTION platform_generation_move() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    -- An update that leaves all of these alone (a base URL, a timestamp) keeps the orders.
    -- Nested: the transition tables exist for updates only, and the query naming them is
    -- planned when it first runs.
    IF TG_OP = 'UPDATE' THEN
        IF NOT EXISTS (
            SELECT 1 FROM removed o JOIN added a ON a.id = o.id
            WHERE (o.name, o.description, o.category, o.status, o.secret_key_min, o.secrets_failing)
                  IS DISTINCT FROM (a.name, a.description, a.category, a.status, a.secret_key_min, a.secrets_failing)
        ) THEN
            RETURN NULL;
        END IF;
    END IF;
    UPDATE platform_generation SET n = n + 1;
    RETURN NULL;
END $$;
CREATE TRIGGER platforms_generation_insert AFTER INSERT ON platforms
    FOR EACH STATEMENT EXECUTE FUNCTION platform_generation_move();
CREATE TRIGGER platforms_generation_update AFTER UPDATE ON platforms REFERENCING OLD TABLE AS removed NEW TABLE AS added
    FOR EACH STATEMENT EXECUTE FUNCTION platform_generation_move();
CREATE TRIGGER platforms_generation_delete AFTER DELETE ON platforms
    FOR EACH STATEMENT EXECUTE FUNCTION platform_generation_move();
