-- Resumable uploads (tus 1.0): what a client has sent so far of one photo, so an
-- upload survives a dropped connection and a restart of Pujo. The bytes are in a
-- partial file named by `id` (128 random bits, 32 hex digits); `received` is what
-- Pujo acknowledged, written after those bytes were synced. `photo_id` is set when
-- the last byte arrived and the photo was made.
CREATE TABLE uploads (
    id TEXT PRIMARY KEY,
    owner_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    album_id BIGINT NOT NULL REFERENCES albums (id) ON DELETE CASCADE,
    filename TEXT NOT NULL,
    caption TEXT NOT NULL,
    length BIGINT NOT NULL,
    received BIGINT NOT NULL DEFAULT 0,
    photo_id BIGINT,
    created_at TIMESTAMPTZ NOT NULL,
    expires_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX uploads_owner ON uploads (owner_id);
CREATE INDEX uploads_expires ON uploads (expires_at);
