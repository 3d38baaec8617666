-- The platform list is read a page at a time in one of three orders (domain PlatformSort),
-- with a category or status filter or none; each order has an index that yields it, so a
-- page is a short index walk at any depth (server/paging.rs). Name order is the existing
-- unique index on lower(name). Mirrors migrations/postgres/0021_platform_list.sql.
-- The search's index comes in 0023.
CREATE INDEX platforms_updated ON platforms (updated_at, id);
CREATE INDEX platforms_status_name ON platforms (status, lower(name));
CREATE INDEX platforms_category_name ON platforms (category, lower(name));
