-- Data keys wrapped by a root key (docs/encryption.md, "Keys"). Each key version is now a
-- data key stored here wrapped (sealed) by the root key: nonce || AES-256-GCM(root, data
-- key, "keyport data key v{version}") || tag. NULL while the key is only in the
-- environment (versions from before this migration, wrapped at the next start) and once
-- it is retired. One key is active (seals); the others decrypt only, until retired.
-- Mirrors migrations/postgres/0028_data_keys.sql.
ALTER TABLE encryption_keys ADD COLUMN wrapped BLOB CHECK (wrapped IS NULL OR length(wrapped) BETWEEN 60 AND 4096);
ALTER TABLE encryption_keys ADD COLUMN state TEXT NOT NULL DEFAULT 'decrypt_only' CHECK (state IN ('active', 'decrypt_only', 'retired'));
CREATE UNIQUE INDEX encryption_keys_one_active ON encryption_keys (state) WHERE state = 'active';
