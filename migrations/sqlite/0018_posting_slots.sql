-- An account's posting slots ("Add to queue" puts a post in the next free one): JSON
-- {"zone": "Europe/Paris", "days": ["Mon", …], "times": ["09:00:00", …]}; NULL: none.
-- Mirrors migrations/postgres/0018_posting_slots.sql.
ALTER TABLE accounts ADD COLUMN posting_slots TEXT CHECK (posting_slots IS NULL OR length(posting_slots) <= 4096);
