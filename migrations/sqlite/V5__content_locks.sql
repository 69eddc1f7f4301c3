-- Who is working on one content's blobs (an upload's bytes, by SHA-256) right now:
-- uploads that rely on them, counted, or one deletion (gc, an account's clean-up).
-- Each statement on a row is one upsert, so the two never overlap: an upload that
-- would skip writing a blob because it exists cannot have it deleted underneath,
-- and a deletion never starts while an upload holds the content. A holder that died
-- is forgotten after `expires_at` (milliseconds since the epoch).
CREATE TABLE content_locks (
    sha256     BLOB PRIMARY KEY,
    uploads    INTEGER NOT NULL DEFAULT 0,
    deleting   INTEGER NOT NULL DEFAULT 0,
    expires_at INTEGER NOT NULL
) STRICT;
