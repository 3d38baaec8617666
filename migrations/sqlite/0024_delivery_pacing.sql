-- The worker sends one delivery per account at a time and counts each account's recent
-- attempts against its provider's posting limit (server/publish/pacing.rs): both read
-- deliveries by account, the first only those in flight. The new index's prefix serves
-- every lookup the old one did.
CREATE INDEX deliveries_account_attempts ON deliveries (account_id, attempt_started_at);
CREATE INDEX deliveries_account_publishing ON deliveries (account_id) WHERE status = 'publishing';
DROP INDEX deliveries_account;
