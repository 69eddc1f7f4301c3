-- Share links: an album's owner opens a private or unlisted album to whoever holds a
-- link, for as long as they choose. Only the SHA-256 of the link's token is stored
-- (a copy of this table opens nothing); an optional password is an argon2id hash.
-- Revoking a link deletes its row, and an album's deletion deletes its links.
CREATE TABLE share_links (
    id             BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    album_id       BIGINT NOT NULL REFERENCES albums (id) ON DELETE CASCADE,
    token_hash     BYTEA NOT NULL UNIQUE,
    label          TEXT NOT NULL DEFAULT '',
    password_hash  TEXT,
    allow_download BOOLEAN NOT NULL DEFAULT FALSE,
    expires_at     TIMESTAMPTZ,
    created_by     BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at     TIMESTAMPTZ NOT NULL
);
CREATE INDEX share_links_album ON share_links (album_id, id DESC);
-- At most 50 links per album (SHARE_LINKS_PER_ALBUM in src/db/shares.rs). The insert
-- counts in its own statement, but two at once would both count 49 under READ
-- COMMITTED: this trigger takes the album's row lock first, and its count (a new
-- snapshot, after the lock) sees every link committed before; over the limit the row
-- is skipped and the insert returns nothing.
CREATE FUNCTION share_links_bounded() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM 1 FROM albums WHERE id = NEW.album_id FOR UPDATE;
    IF (SELECT count(*) FROM share_links WHERE album_id = NEW.album_id) >= 50 THEN
        RETURN NULL;
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER share_links_bounded BEFORE INSERT ON share_links
    FOR EACH ROW EXECUTE FUNCTION share_links_bounded();
