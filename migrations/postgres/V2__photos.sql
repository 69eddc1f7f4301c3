-- Pandals, albums, photos, comments and likes.
--
-- `search_text` columns hold the words Pujo's tokenizer found (NFKC, lower case, one
-- space between words; written by the application). Postgres indexes them as they are,
-- with no stemming, so Bengali and English match the same way on both backends.

CREATE TABLE pandals (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name        TEXT NOT NULL,
    para        TEXT NOT NULL DEFAULT '',
    city        TEXT NOT NULL,
    year        BIGINT NOT NULL CHECK (year BETWEEN 1800 AND 2200),
    lat         DOUBLE PRECISION CHECK (lat BETWEEN -90 AND 90),
    lon         DOUBLE PRECISION CHECK (lon BETWEEN -180 AND 180),
    created_by  BIGINT REFERENCES users (id) ON DELETE SET NULL,
    created_at  TIMESTAMPTZ NOT NULL,
    search_text TEXT NOT NULL DEFAULT '',
    search      TSVECTOR GENERATED ALWAYS AS (array_to_tsvector(string_to_array(search_text, ' '))) STORED
);
CREATE UNIQUE INDEX pandals_identity_key ON pandals (lower(name), lower(city), year);
CREATE INDEX pandals_city_year ON pandals (lower(city), year, id);
CREATE INDEX pandals_year ON pandals (year, id);
CREATE INDEX pandals_search ON pandals USING GIN (search);

CREATE TABLE albums (
    id             BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    owner_id       BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    title          TEXT NOT NULL,
    description    TEXT NOT NULL DEFAULT '',
    visibility     TEXT NOT NULL DEFAULT 'public' CHECK (visibility IN ('public', 'unlisted', 'private')),
    pandal_id      BIGINT REFERENCES pandals (id) ON DELETE SET NULL,
    cover_photo_id BIGINT,
    created_at     TIMESTAMPTZ NOT NULL,
    updated_at     TIMESTAMPTZ NOT NULL,
    search_text    TEXT NOT NULL DEFAULT '',
    search         TSVECTOR GENERATED ALWAYS AS (array_to_tsvector(string_to_array(search_text, ' '))) STORED
);
CREATE INDEX albums_owner ON albums (owner_id, id DESC);
CREATE INDEX albums_public ON albums (id DESC) WHERE visibility = 'public';
CREATE INDEX albums_pandal ON albums (pandal_id, id DESC);
CREATE INDEX albums_search ON albums USING GIN (search);

CREATE TABLE photos (
    id             BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    owner_id       BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    album_id       BIGINT NOT NULL REFERENCES albums (id) ON DELETE CASCADE,
    caption        TEXT NOT NULL DEFAULT '',
    width          BIGINT NOT NULL CHECK (width > 0),
    height         BIGINT NOT NULL CHECK (height > 0),
    taken_at       TIMESTAMPTZ,
    exif           JSONB NOT NULL DEFAULT '{}',
    sha256         BYTEA NOT NULL,
    content_type   TEXT NOT NULL,
    byte_size      BIGINT NOT NULL,
    thumbhash      BYTEA,
    gps_privacy    TEXT NOT NULL DEFAULT 'hidden' CHECK (gps_privacy IN ('hidden', 'coarse', 'exact')),
    lat            DOUBLE PRECISION,
    lon            DOUBLE PRECISION,
    allow_original BOOLEAN NOT NULL DEFAULT FALSE,
    created_at     TIMESTAMPTZ NOT NULL,
    updated_at     TIMESTAMPTZ NOT NULL,
    search_text    TEXT NOT NULL DEFAULT '',
    search         TSVECTOR GENERATED ALWAYS AS (array_to_tsvector(string_to_array(search_text, ' '))) STORED
);
-- One photo per content per album: two identical uploads racing give one row.
CREATE UNIQUE INDEX photos_album_sha256_key ON photos (album_id, sha256);
CREATE INDEX photos_album ON photos (album_id, id DESC);
CREATE INDEX photos_owner ON photos (owner_id, id DESC);
CREATE INDEX photos_sha256 ON photos (sha256);
CREATE INDEX photos_search ON photos USING GIN (search);

ALTER TABLE albums ADD CONSTRAINT albums_cover_photo_fkey
    FOREIGN KEY (cover_photo_id) REFERENCES photos (id) ON DELETE SET NULL;

CREATE TABLE comments (
    id         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    photo_id   BIGINT NOT NULL REFERENCES photos (id) ON DELETE CASCADE,
    author_id  BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    body       TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX comments_photo ON comments (photo_id, id DESC);
CREATE INDEX comments_author ON comments (author_id);

CREATE TABLE likes (
    photo_id   BIGINT NOT NULL REFERENCES photos (id) ON DELETE CASCADE,
    user_id    BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (photo_id, user_id)
);
CREATE INDEX likes_user ON likes (user_id);
