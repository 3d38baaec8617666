-- A delivery's own text, when the composer gave its account one ("text per network");
-- NULL: the post's text. Mirrors migrations/sqlite/0016_delivery_text.sql.
ALTER TABLE deliveries ADD COLUMN text TEXT CHECK (text IS NULL OR length(text) BETWEEN 1 AND 5000);
