-- The list filtered by category and status, in name order (the default): 0021's index on
-- (category, lower(name)) found the category's rows in order but read each to test its
-- status, and when the first names of a category all have other statuses that is
-- thousands of rows for a page of 51 (the bench seed, payment + error: 1,820 rows, 0.65
-- ms; 0.10 ms with this index on SQLite). 0001's (category, status) index is a prefix of
-- this one, so it goes.
-- Mirrors migrations/sqlite/0030_category_status_order.sql.
DROP INDEX platforms_category_status;
CREATE INDEX platforms_category_status_name ON platforms (category, status, lower(name));
