-- Where an account's posts go when its provider asks (a Reddit account's subreddit, or
-- `u_{name}`, its profile). NULL: the provider's default (a Reddit account posts to its
-- own profile). Mirrors migrations/postgres/0015_account_destination.sql.
ALTER TABLE accounts ADD COLUMN destination TEXT CHECK (destination IS NULL OR length(destination) BETWEEN 1 AND 100);
