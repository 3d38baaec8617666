-- The worker claims each account's first due delivery, one per account at a time, and
-- counts each account's recent attempts against its provider's posting limits
-- (server/publish/pacing.rs): all read deliveries by account — the queued in due order,
-- those in flight, the attempts by time. The attempts index's prefix serves every lookup
-- the old index did.
CREATE INDEX deliveries_account_attempts ON deliveries (account_id, attempt_started_at);
CREATE INDEX deliveries_account_queued ON deliveries (account_id, due_at) WHERE status = 'queued';
CREATE INDEX deliveries_account_publishing ON deliveries (account_id) WHERE status = 'publishing';
DROP INDEX deliveries_account;
