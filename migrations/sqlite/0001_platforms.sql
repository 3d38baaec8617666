-- The platform registry. Mirrors migrations/postgres/0001_platforms.sql; SQLite has no
-- enum, uuid, jsonb or timestamptz types, so TEXT/BLOB with CHECK constraints stand in.
CREATE TABLE platforms (
    id          BLOB PRIMARY KEY NOT NULL CHECK (length(id) = 16),
    name        TEXT NOT NULL CHECK (length(trim(name)) BETWEEN 1 AND 100),
    category    TEXT NOT NULL DEFAULT 'social' CHECK (category IN
                  ('social', 'payment', 'shipping', 'email', 'sms', 'analytics', 'crm',
                   'storage', 'communication', 'authentication', 'other')),
    auth_type   TEXT NOT NULL DEFAULT 'oauth2' CHECK (auth_type IN ('oauth2', 'oauth1', 'api_key', 'bearer', 'basic')),
    status      TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'inactive', 'error', 'pending')),
    description TEXT CHECK (length(description) <= 2000),
    icon_url    TEXT CHECK (length(icon_url) <= 2048),
    base_url    TEXT CHECK (length(base_url) <= 2048),
    metadata    TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(metadata) AND json_type(metadata) = 'object'),
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL
) STRICT;

-- Names are unique regardless of case: "Stripe" and "stripe" would confuse everyone.
CREATE UNIQUE INDEX platforms_name_key ON platforms (lower(name));
CREATE INDEX platforms_category_status ON platforms (category, status);
