-- An account whose token will expire without a refresh token to renew it (LinkedIn's
-- 60-day tokens, for one) is written to the audit log once, a week ahead: this is the
-- expiry that warning was for (a new connection brings a new expiry, warned again).
-- Mirrors migrations/postgres/0014_expiry_warnings.sql.
ALTER TABLE accounts ADD COLUMN expiry_warned_for TEXT;
