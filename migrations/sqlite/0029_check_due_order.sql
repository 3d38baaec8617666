-- The integrity sweep's batch is the secrets checked longest ago, in the order
-- (coalesce(checked_at, updated_at), owner_id, field). 0020's index held only the first
-- part, so every secret sharing a timestamp with the batch's edge (an import writes a
-- thousand at once) was read and sorted before the batch could be cut. With the whole
-- order in the index, a batch reads its own rows and no more.
-- Mirrors migrations/postgres/0029_check_due_order.sql.
DROP INDEX secrets_check_due;
CREATE INDEX secrets_check_due ON secrets (coalesce(checked_at, updated_at), owner_id, field);
