-- An unlisted album opens only through its link: `link_key` is 128 random bits (32 hex
-- digits), made by Pujo for every new album and replaced when the owner rotates the
-- link. Album ids are sequential, so an id alone must never open an unlisted album.
-- Existing albums get a key from SQLite's randomness source.
ALTER TABLE albums ADD COLUMN link_key TEXT;
UPDATE albums SET link_key = lower(hex(randomblob(16))) WHERE link_key IS NULL;
CREATE UNIQUE INDEX albums_link_key ON albums (link_key);
-- An album inserted without a key (a replica still on the previous release during a
-- rolling deploy, a hand-written seed) gets one at once: none stays without.
CREATE TRIGGER albums_link_key_fill AFTER INSERT ON albums WHEN new.link_key IS NULL BEGIN
    UPDATE albums SET link_key = lower(hex(randomblob(16))) WHERE id = new.id;
END;
