-- The provider API version a platform's requests name (LinkedIn-Version: YYYYMM), when
-- the admin overrides the catalog's. NULL: the catalog's. Mirrors
-- migrations/postgres/0013_api_version.sql.
ALTER TABLE oauth_settings ADD COLUMN api_version TEXT CHECK (api_version IS NULL OR length(api_version) = 6);
