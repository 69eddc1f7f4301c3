-- Guest uploads: an album's owner hands out upload links (often as a QR code on a
-- poster at the pandal); anyone with one sends photos without an account. The token
-- is kept as it is, so that its poster can be printed again: it opens nothing but the
-- upload form of its album, and the owner can revoke it at once (the row goes).
CREATE TABLE upload_links (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    album_id     INTEGER NOT NULL REFERENCES albums (id) ON DELETE CASCADE,
    token        TEXT NOT NULL UNIQUE,
    label        TEXT NOT NULL DEFAULT '',
    needs_review INTEGER NOT NULL DEFAULT 1 CHECK (needs_review IN (0, 1)),
    per_guest    INTEGER CHECK (per_guest > 0),
    total        INTEGER CHECK (total > 0),
    taken        INTEGER NOT NULL DEFAULT 0,
    expires_at   INTEGER,
    created_by   INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at   INTEGER NOT NULL
);
CREATE INDEX upload_links_album ON upload_links (album_id, id DESC);
-- What each guest (a browser, by the SHA-256 of its guest cookie) sent through a link.
CREATE TABLE upload_link_guests (
    link_id INTEGER NOT NULL REFERENCES upload_links (id) ON DELETE CASCADE,
    guest   BLOB NOT NULL,
    taken   INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (link_id, guest)
);
-- Guests' photos wait here, invisible to everyone but the album's owner, until they
-- are approved (moved into `photos`, keeping who sent them) or rejected (deleted).
-- Being a table of their own, no read of `photos` can show one by mistake.
CREATE TABLE pending_photos (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    album_id       INTEGER NOT NULL REFERENCES albums (id) ON DELETE CASCADE,
    owner_id       INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    upload_link_id INTEGER REFERENCES upload_links (id) ON DELETE SET NULL,
    guest_name     TEXT NOT NULL DEFAULT '',
    caption        TEXT NOT NULL DEFAULT '',
    width          INTEGER NOT NULL CHECK (width > 0),
    height         INTEGER NOT NULL CHECK (height > 0),
    taken_at       INTEGER,
    exif           TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(exif)),
    sha256         BLOB NOT NULL,
    content_type   TEXT NOT NULL,
    byte_size      INTEGER NOT NULL,
    thumbhash      BLOB,
    search_text    TEXT NOT NULL DEFAULT '',
    created_at     INTEGER NOT NULL,
    -- Set by the review that decided it, before anything else is done: one decision
    -- wins however many reviewers act at once, and an approval stopped half way is
    -- finished by approving again (the row stays in the queue until it is a photo).
    decided        TEXT CHECK (decided IN ('approved', 'rejected'))
) STRICT;
CREATE UNIQUE INDEX pending_photos_album_sha256_key ON pending_photos (album_id, sha256);
CREATE INDEX pending_photos_sha256 ON pending_photos (sha256);
CREATE INDEX pending_photos_owner ON pending_photos (owner_id);
-- Who sent an approved guest photo (NULL for the owner's own).
ALTER TABLE photos ADD COLUMN guest_name TEXT;
ALTER TABLE photos ADD COLUMN upload_link_id INTEGER REFERENCES upload_links (id) ON DELETE SET NULL;
