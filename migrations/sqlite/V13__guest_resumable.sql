-- Guests send photos through an upload link by the same resumable uploads (tus) as
-- everyone else. A guest's upload belongs to the guest (the SHA-256 of their guest
-- cookie) and to the link it came through, and is counted against the album owner's
-- account only for its lifetime (owner_id is the album's owner, so deleting the
-- account takes it). Revoking the link ends it.
ALTER TABLE uploads ADD COLUMN upload_link_id INTEGER REFERENCES upload_links (id) ON DELETE CASCADE;
ALTER TABLE uploads ADD COLUMN guest BLOB;
ALTER TABLE uploads ADD COLUMN guest_name TEXT NOT NULL DEFAULT '';
-- The photo waiting for review that a guest's upload became (photo_id when the link
-- needs no review and it was approved at once).
ALTER TABLE uploads ADD COLUMN pending_id INTEGER;
CREATE INDEX uploads_guest ON uploads (guest) WHERE guest IS NOT NULL;
-- A link's unfinished uploads are counted when one begins, and go with the link.
CREATE INDEX uploads_link ON uploads (upload_link_id) WHERE upload_link_id IS NOT NULL;
-- Guests' photos keep no location unless the album's owner chose, per upload link,
-- to keep where they were taken (for a pandal's own map); it waits with the photo.
ALTER TABLE upload_links ADD COLUMN keep_location INTEGER NOT NULL DEFAULT 0 CHECK (keep_location IN (0, 1));
ALTER TABLE pending_photos ADD COLUMN lat REAL;
ALTER TABLE pending_photos ADD COLUMN lon REAL;
