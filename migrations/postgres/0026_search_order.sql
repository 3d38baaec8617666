-- SQLite's search index for a page in name order (its 0026); PostgreSQL's searches go
-- through the trigram indexes of 0021. Nothing changes here: the file keeps both
-- databases' migrations numbered alike.
SELECT 1;
