-- Share links: an album's owner opens a private or unlisted album to whoever holds a
-- link, for as long as they choose. Only the SHA-256 of the link's token is stored
-- (a copy of this table opens nothing); an optional password is an argon2id hash.
-- Revoking a link deletes its row, and an album's deletion deletes its links.
CREATE TABLE share_links (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    album_id       INTEGER NOT NULL REFERENCES albums (id) ON DELETE CASCADE,
    token_hash     BLOB NOT NULL UNIQUE,
    label          TEXT NOT NULL DEFAULT '',
    password_hash  TEXT,
    allow_download INTEGER NOT NULL DEFAULT 0 CHECK (allow_download IN (0, 1)),
    expires_at     INTEGER,
    created_by     INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at     INTEGER NOT NULL
);
CREATE INDEX share_links_album ON share_links (album_id, id DESC);
