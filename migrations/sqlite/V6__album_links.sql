-- An unlisted album opens only through its link: `link_key` is 128 random bits (32 hex
-- digits), made by Pujo for every new album and replaced when the owner rotates the
-- link. Album ids are sequential, so an id alone must never open an unlisted album.
-- Existing albums get a key from SQLite's randomness source.
ALTER TABLE albums ADD COLUMN link_key TEXT;
UPDATE albums SET link_key = lower(hex(randomblob(16))) WHERE link_key IS NULL;
CREATE UNIQUE INDEX albums_link_key ON albums (link_key);
