-- Sessions are now keyed by the SHA-256 of their id (server/store/sessions.rs). Rows keyed
-- by a plain id could be turned into a cookie by anyone who reads the database, and would
-- never be found again: they go, and everyone signs in once more.

DELETE FROM sessions;
