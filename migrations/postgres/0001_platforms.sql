-- The platform registry. Mirrors migrations/sqlite/0001_platforms.sql with native types.
CREATE TABLE platforms (
    id          uuid PRIMARY KEY,
    name        text NOT NULL CHECK (length(btrim(name)) BETWEEN 1 AND 100),
    category    text NOT NULL DEFAULT 'social' CHECK (category IN
                  ('social', 'payment', 'shipping', 'email', 'sms', 'analytics', 'crm',
                   'storage', 'communication', 'authentication', 'other')),
    auth_type   text NOT NULL DEFAULT 'oauth2' CHECK (auth_type IN ('oauth2', 'oauth1', 'api_key', 'bearer', 'basic')),
    status      text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'inactive', 'error', 'pending')),
    description text CHECK (length(description) <= 2000),
    icon_url    text CHECK (length(icon_url) <= 2048),
    base_url    text CHECK (length(base_url) <= 2048),
    metadata    jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(metadata) = 'object'),
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now()
);

-- Names are unique regardless of case: "Stripe" and "stripe" would confuse everyone.
CREATE UNIQUE INDEX platforms_name_key ON platforms (lower(name));
CREATE INDEX platforms_category_status ON platforms (category, status);
