-- Pandals, albums, photos, comments and likes.
--
-- `search_text` columns hold the words Pujo's tokenizer found (NFKC, lower case, one
-- space between words; written by the application). The FTS5 tables split only on
-- spaces (every letter, mark, number, punctuation and symbol is a token character), so
-- Bengali vowel signs and viramas stay inside their words, as on Postgres.

CREATE TABLE pandals (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    name        TEXT NOT NULL,
    para        TEXT NOT NULL DEFAULT '',
    city        TEXT NOT NULL,
    year        INTEGER NOT NULL CHECK (year BETWEEN 1800 AND 2200),
    lat         REAL CHECK (lat BETWEEN -90 AND 90),
    lon         REAL CHECK (lon BETWEEN -180 AND 180),
    created_by  INTEGER REFERENCES users (id) ON DELETE SET NULL,
    created_at  INTEGER NOT NULL,
    search_text TEXT NOT NULL DEFAULT ''
) STRICT;
CREATE UNIQUE INDEX pandals_identity_key ON pandals (lower(name), lower(city), year);
CREATE INDEX pandals_city_year ON pandals (lower(city), year, id);
CREATE INDEX pandals_year ON pandals (year, id);

CREATE TABLE albums (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    owner_id       INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    title          TEXT NOT NULL,
    description    TEXT NOT NULL DEFAULT '',
    visibility     TEXT NOT NULL DEFAULT 'public' CHECK (visibility IN ('public', 'unlisted', 'private')),
    pandal_id      INTEGER REFERENCES pandals (id) ON DELETE SET NULL,
    cover_photo_id INTEGER REFERENCES photos (id) ON DELETE SET NULL,
    created_at     INTEGER NOT NULL,
    updated_at     INTEGER NOT NULL,
    search_text    TEXT NOT NULL DEFAULT ''
) STRICT;
CREATE INDEX albums_owner ON albums (owner_id, id DESC);
CREATE INDEX albums_public ON albums (id DESC) WHERE visibility = 'public';
CREATE INDEX albums_pandal ON albums (pandal_id, id DESC);
CREATE INDEX albums_cover ON albums (cover_photo_id);

CREATE TABLE photos (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    owner_id       INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    album_id       INTEGER NOT NULL REFERENCES albums (id) ON DELETE CASCADE,
    caption        TEXT NOT NULL DEFAULT '',
    width          INTEGER NOT NULL CHECK (width > 0),
    height         INTEGER NOT NULL CHECK (height > 0),
    taken_at       INTEGER,
    exif           TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(exif)),
    sha256         BLOB NOT NULL,
    content_type   TEXT NOT NULL,
    byte_size      INTEGER NOT NULL,
    thumbhash      BLOB,
    gps_privacy    TEXT NOT NULL DEFAULT 'hidden' CHECK (gps_privacy IN ('hidden', 'coarse', 'exact')),
    lat            REAL,
    lon            REAL,
    allow_original INTEGER NOT NULL DEFAULT 0 CHECK (allow_original IN (0, 1)),
    created_at     INTEGER NOT NULL,
    updated_at     INTEGER NOT NULL,
    search_text    TEXT NOT NULL DEFAULT ''
) STRICT;
-- One photo per content per album: two identical uploads racing give one row.
CREATE UNIQUE INDEX photos_album_sha256_key ON photos (album_id, sha256);
CREATE INDEX photos_album ON photos (album_id, id DESC);
CREATE INDEX photos_owner ON photos (owner_id, id DESC);
CREATE INDEX photos_sha256 ON photos (sha256);

CREATE TABLE comments (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    photo_id   INTEGER NOT NULL REFERENCES photos (id) ON DELETE CASCADE,
    author_id  INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    body       TEXT NOT NULL,
    created_at INTEGER NOT NULL
) STRICT;
CREATE INDEX comments_photo ON comments (photo_id, id DESC);
CREATE INDEX comments_author ON comments (author_id);

CREATE TABLE likes (
    photo_id   INTEGER NOT NULL REFERENCES photos (id) ON DELETE CASCADE,
    user_id    INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (photo_id, user_id)
) STRICT, WITHOUT ROWID;
CREATE INDEX likes_user ON likes (user_id);

-- Full-text indexes over search_text, kept in step by triggers.
CREATE VIRTUAL TABLE pandals_fts USING fts5(search_text, content='pandals', content_rowid='id',
    tokenize = "unicode61 remove_diacritics 0 categories 'L* M* N* P* S* Co Cn'");
CREATE VIRTUAL TABLE albums_fts USING fts5(search_text, content='albums', content_rowid='id',
    tokenize = "unicode61 remove_diacritics 0 categories 'L* M* N* P* S* Co Cn'");
CREATE VIRTUAL TABLE photos_fts USING fts5(search_text, content='photos', content_rowid='id',
    tokenize = "unicode61 remove_diacritics 0 categories 'L* M* N* P* S* Co Cn'");

CREATE TRIGGER pandals_fts_insert AFTER INSERT ON pandals BEGIN
    INSERT INTO pandals_fts (rowid, search_text) VALUES (new.id, new.search_text);
END;
CREATE TRIGGER pandals_fts_delete AFTER DELETE ON pandals BEGIN
    INSERT INTO pandals_fts (pandals_fts, rowid, search_text) VALUES ('delete', old.id, old.search_text);
END;
CREATE TRIGGER pandals_fts_update AFTER UPDATE OF search_text ON pandals BEGIN
    INSERT INTO pandals_fts (pandals_fts, rowid, search_text) VALUES ('delete', old.id, old.search_text);
    INSERT INTO pandals_fts (rowid, search_text) VALUES (new.id, new.search_text);
END;
CREATE TRIGGER albums_fts_insert AFTER INSERT ON albums BEGIN
    INSERT INTO albums_fts (rowid, search_text) VALUES (new.id, new.search_text);
END;
CREATE TRIGGER albums_fts_delete AFTER DELETE ON albums BEGIN
    INSERT INTO albums_fts (albums_fts, rowid, search_text) VALUES ('delete', old.id, old.search_text);
END;
CREATE TRIGGER albums_fts_update AFTER UPDATE OF search_text ON albums BEGIN
    INSERT INTO albums_fts (albums_fts, rowid, search_text) VALUES ('delete', old.id, old.search_text);
    INSERT INTO albums_fts (rowid, search_text) VALUES (new.id, new.search_text);
END;
CREATE TRIGGER photos_fts_insert AFTER INSERT ON photos BEGIN
    INSERT INTO photos_fts (rowid, search_text) VALUES (new.id, new.search_text);
END;
CREATE TRIGGER photos_fts_delete AFTER DELETE ON photos BEGIN
    INSERT INTO photos_fts (photos_fts, rowid, search_text) VALUES ('delete', old.id, old.search_text);
END;
CREATE TRIGGER photos_fts_update AFTER UPDATE OF search_text ON photos BEGIN
    INSERT INTO photos_fts (photos_fts, rowid, search_text) VALUES ('delete', old.id, old.search_text);
    INSERT INTO photos_fts (rowid, search_text) VALUES (new.id, new.search_text);
END;
