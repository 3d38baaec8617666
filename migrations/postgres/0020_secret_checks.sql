-- What is known about each secret without decrypting it now: when it was last opened to
-- check it (NULL: not since it was written, which counts as a check at updated_at), and
-- when it last failed to open. A failure older than updated_at belongs to a ciphertext
-- since replaced, so a write needs to touch neither column. The platform list draws its
-- badges from these facts; the integrity sweep (server/integrity.rs) keeps them fresh.
-- Mirrors migrations/sqlite/0020_secret_checks.sql.
ALTER TABLE secrets ADD COLUMN checked_at timestamptz;
ALTER TABLE secrets ADD COLUMN decrypt_failed_at timestamptz;
CREATE INDEX secrets_check_due ON secrets (coalesce(checked_at, updated_at));
