-- PostgreSQL keeps the facts and counts of 0022 by statement from here on; SQLite has no
-- statement triggers and keeps its row triggers. Nothing changes here: the file keeps
-- both databases' migrations numbered alike.
SELECT 1;
