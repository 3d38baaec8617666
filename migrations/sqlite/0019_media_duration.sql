-- A video's length in milliseconds, read from its MP4 header (moov/mvhd) when stored, so
-- each provider's longest video is checked; NULL for images and unreadable headers.
-- Mirrors migrations/postgres/0019_media_duration.sql.
ALTER TABLE media ADD COLUMN duration_ms INTEGER CHECK (duration_ms IS NULL OR duration_ms >= 0);
