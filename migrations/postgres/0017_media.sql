-- Images and video attached to posts. Mirrors migrations/sqlite/0017_media.sql.

-- One row per distinct file, named in storage by the SHA-256 of the bytes kept (after
-- metadata is stripped): the same picture uploaded twice is stored once.
CREATE TABLE media (
    id          uuid PRIMARY KEY,
    sha256      text NOT NULL UNIQUE CHECK (length(sha256) = 64),
    media_type  text NOT NULL CHECK (media_type IN ('image/jpeg', 'image/png', 'image/gif', 'image/webp', 'video/mp4')),
    bytes       bigint NOT NULL CHECK (bytes > 0),
    width       bigint CHECK (width > 0),
    height      bigint CHECK (height > 0),
    created_by  uuid REFERENCES users (id) ON DELETE SET NULL,
    created_at  timestamptz NOT NULL
);

-- A post's files, in order, each with its description for people who cannot see it.
CREATE TABLE post_media (
    post_id   uuid NOT NULL REFERENCES posts (id) ON DELETE CASCADE,
    position  integer NOT NULL CHECK (position BETWEEN 0 AND 19),
    media_id  uuid NOT NULL REFERENCES media (id),
    alt       text NOT NULL CHECK (length(alt) <= 1000),
    PRIMARY KEY (post_id, position)
);
CREATE INDEX post_media_media ON post_media (media_id);

-- What a provider already holds of a delivery's files (its media id, blob or URN), so a
-- retry after a later step failed does not upload them again.
CREATE TABLE delivery_media (
    delivery_id  uuid NOT NULL REFERENCES deliveries (id) ON DELETE CASCADE,
    media_id     uuid NOT NULL REFERENCES media (id),
    provider_ref text NOT NULL CHECK (length(provider_ref) <= 4096),
    created_at   timestamptz NOT NULL,
    PRIMARY KEY (delivery_id, media_id)
);
