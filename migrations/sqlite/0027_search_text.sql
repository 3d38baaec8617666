-- PostgreSQL's stored search column (its 0027); SQLite's searches go through the FTS5
-- index of 0023. Nothing changes here: the file keeps both databases' migrations
-- numbered alike.
SELECT 1;
