//! Pandals, albums, photos, comments, likes and search: every statement is written once
//! (see [`super::query`]) and decoded once.
//!
//! Visibility is decided here, in SQL, so no caller can forget it. `$1` is always the
//! viewer's user id (0 for nobody):
//! - *visible* (by id): the album is public, or the viewer owns it, or it is unlisted
//!   and the viewer gave its link key (ids are sequential: an id alone never opens an
//!   unlisted album);
//! - *listed* (lists and search): the album is public, or the viewer owns it.

use time::OffsetDateTime;

use super::accounts::{USER_BY_USERNAME, user_from};
use super::query::{Decode, Row, Sql, Value, params};
use super::text;
use super::{
    Album, AlbumPatch, Announced, Comment, Cover, Database, DbError, GpsPrivacy, NewAlbum, NewPandal, NewPhoto,
    OwnAlbum, OwnComment, OwnLike, OwnPhoto, Page, PageRequest, Pandal, PandalFacets, PandalPatch, PandalRef,
    PersonalData, Photo, PhotoPatch, ProfilePatch, SearchHits, User, UserRef, Visibility,
};

/// The viewer id of somebody who is not logged in (no user has it).
pub const NOBODY: i64 = 0;

/// Search looks first among the photos and albums whose ids are this close to the highest
/// (`Database::search_newest_first`): about 4 ms to walk when a word is rare.
pub const SEARCH_NEWEST: i64 = 10_000;

macro_rules! photo_select {
    ($liked:expr) => {
        concat!(
            "SELECT p.id, p.album_id, p.owner_id, u.username, u.display_name, p.caption, p.width, p.height, \
             p.taken_at, p.exif, p.sha256, p.content_type, p.byte_size, p.thumbhash, p.gps_privacy, p.lat, p.lon, \
             p.allow_original, a.visibility, p.like_count, p.comment_count, ",
            $liked,
            ", p.created_at, p.updated_at, a.link_key, p.guest_name, p.upload_link_id \
             FROM photos p JOIN albums a ON a.id = p.album_id JOIN users u ON u.id = p.owner_id "
        )
    };
}

/// Whether the viewer likes each photo. Nobody likes nothing, so their spelling skips
/// the lookup per row; it still names `$1`, so both spellings take the same parameters.
macro_rules! liked {
    (viewer) => {
        "EXISTS (SELECT 1 FROM likes l WHERE l.photo_id = p.id AND l.user_id = $1)"
    };
    (nobody) => {
        "(CAST($1 AS BIGINT) < 0)"
    };
}

/// A photo statement in two spellings: for a logged-in viewer and for nobody.
struct PhotoSql {
    viewer: Sql,
    nobody: Sql,
}

impl PhotoSql {
    fn for_viewer(&self, viewer: i64) -> Sql {
        if viewer == NOBODY { self.nobody } else { self.viewer }
    }
}

macro_rules! photo_sql {
    ($tail:expr) => {
        PhotoSql {
            viewer: Sql::same(concat!(photo_select!(liked!(viewer)), $tail)),
            nobody: Sql::same(concat!(photo_select!(liked!(nobody)), $tail)),
        }
    };
    (pg: $pg:expr, lite: $lite:expr) => {
        PhotoSql {
            viewer: Sql {
                pg: concat!(photo_select!(liked!(viewer)), $pg),
                lite: concat!(photo_select!(liked!(viewer)), $lite),
            },
            nobody: Sql {
                pg: concat!(photo_select!(liked!(nobody)), $pg),
                lite: concat!(photo_select!(liked!(nobody)), $lite),
            },
        }
    };
}

macro_rules! album_select {
    () => {
        "SELECT a.id, a.owner_id, u.username, u.display_name, a.title, a.description, a.visibility, \
         pd.id, pd.name, pd.para, pd.city, pd.year, cp.id, cp.width, cp.height, cp.thumbhash, \
         a.photo_count, a.created_at, a.updated_at, a.link_key \
         FROM albums a JOIN users u ON u.id = a.owner_id \
         LEFT JOIN pandals pd ON pd.id = a.pandal_id \
         LEFT JOIN photos cp ON cp.album_id = a.id AND cp.id = COALESCE( \
             (SELECT c.id FROM photos c WHERE c.id = a.cover_photo_id AND c.album_id = a.id), \
             (SELECT max(y.id) FROM photos y WHERE y.album_id = a.id)) "
    };
}

macro_rules! pandal_select {
    () => {
        "SELECT pd.id, pd.name, pd.para, pd.city, pd.year, pd.lat, pd.lon, \
         (SELECT count(*) FROM albums a WHERE a.pandal_id = pd.id AND a.visibility = 'public'), pd.created_at \
         FROM pandals pd "
    };
}

/// What `comment_from` decodes, from comments as `c` and their authors as `u`.
macro_rules! comment_columns {
    () => {
        "c.id, c.photo_id, c.author_id, u.username, u.display_name, c.body, c.created_at"
    };
}

macro_rules! comment_select {
    () => {
        concat!("SELECT ", comment_columns!(), " FROM comments c JOIN users u ON u.id = c.author_id ")
    };
}

/// The *visible* rule, with the link key the viewer gave as `$key` (empty for none:
/// no album has an empty key).
macro_rules! visible {
    ($key:literal) => {
        concat!(
            "(a.visibility = 'public' OR a.owner_id = $1 OR (a.visibility = 'unlisted' AND a.link_key = ",
            $key,
            "))"
        )
    };
}

const PHOTO_BY_ID: PhotoSql = photo_sql!(concat!("WHERE p.id = $2 AND ", visible!("$3")));
/// Without the visibility rule: only for the media cache, which applies the same rule
/// to the row itself (`Visibility::visible_to`).
const PHOTO_ANY: PhotoSql = photo_sql!("WHERE p.id = $2");
/// A photo and at most `$3` - 1 before it in its album, newest first, whatever the
/// album's visibility (`Database::photo_and_older_unchecked`).
const PHOTO_AND_OLDER_ANY: PhotoSql = photo_sql!(
    "WHERE p.album_id = (SELECT q.album_id FROM photos q WHERE q.id = $2) AND p.id <= $2 ORDER BY p.id DESC LIMIT $3"
);
const PHOTO_OF_OWNER_BY_CONTENT: PhotoSql = photo_sql!("WHERE p.owner_id = $1 AND p.sha256 = $2 ORDER BY p.id LIMIT 1");
const ALBUM_PHOTOS: PhotoSql =
    photo_sql!(concat!("WHERE p.album_id = $2 AND p.id < $3 AND ", visible!("$5"), " ORDER BY p.id DESC LIMIT $4"));
/// What a share link shows: its album and the album's photos, whatever the album's
/// visibility, found by the link's id (the caller checked the link's expiry and
/// password), so a revoked link (its row gone) shows nothing.
const SHARED_PHOTOS: PhotoSql = photo_sql!(
    "WHERE p.album_id = (SELECT s.album_id FROM share_links s WHERE s.id = $2) AND p.id < $3 \
     ORDER BY p.id DESC LIMIT $4"
);
const FEED: PhotoSql = photo_sql!("WHERE a.visibility = 'public' AND p.id < $2 ORDER BY p.id DESC LIMIT $3");
/// A pandal's newest photos. PostgreSQL takes the newest few of each of its albums
/// (an index range of `photos_album` each), then the newest of those, instead of
/// joining every photo of the pandal and sorting them: a tenth of the rows on the
/// festival's data. SQLite's planner already walks the albums' indexes.
const FEED_OF_PANDAL: PhotoSql = photo_sql!(
    pg: "WHERE p.id IN (SELECT x.id FROM albums b CROSS JOIN LATERAL \
           (SELECT y.id FROM photos y WHERE y.album_id = b.id AND y.id < $2 ORDER BY y.id DESC LIMIT $3) x \
           WHERE b.pandal_id = $4 AND (b.visibility = 'public' OR b.owner_id = $1) ORDER BY x.id DESC LIMIT $3) \
         AND a.pandal_id = $4 AND (a.visibility = 'public' OR a.owner_id = $1) ORDER BY p.id DESC LIMIT $3",
    lite: "WHERE a.pandal_id = $4 AND (a.visibility = 'public' OR a.owner_id = $1) AND p.id < $2 \
           ORDER BY p.id DESC LIMIT $3"
);
/// Search among the newest photos only (ids above the highest less `$4`), walking ids
/// down: a common word fills a page within a few hundred rows. `IS TRUE` keeps the
/// word index out of it: PostgreSQL guesses too few matches for words that go together
/// ("college square") and would fetch and sort every one of them.
const SEARCH_NEWEST_PHOTOS: PhotoSql = photo_sql!(
    pg: "WHERE (p.search @@ CAST(CAST($2 AS TEXT) AS tsquery)) IS TRUE \
         AND (a.visibility = 'public' OR a.owner_id = $1) \
         AND p.id > (SELECT max(m.id) FROM photos m) - $4 ORDER BY p.id DESC LIMIT $3",
    lite: "WHERE p.id IN (SELECT rowid FROM photos_fts WHERE photos_fts MATCH $2) \
           AND (a.visibility = 'public' OR a.owner_id = $1) AND p.id > (SELECT max(m.id) FROM photos m) - $4 \
           ORDER BY p.id DESC LIMIT $3"
);
/// Search among all photos, through the word index (`p.id + 0` keeps PostgreSQL from
/// walking every id down instead: a rare word, or none, would cost the whole table).
const SEARCH_PHOTOS: PhotoSql = photo_sql!(
    pg: "WHERE p.search @@ CAST(CAST($2 AS TEXT) AS tsquery) AND (a.visibility = 'public' OR a.owner_id = $1) \
         ORDER BY p.id + 0 DESC LIMIT $3",
    lite: "WHERE p.id IN (SELECT rowid FROM photos_fts WHERE photos_fts MATCH $2) \
           AND (a.visibility = 'public' OR a.owner_id = $1) ORDER BY p.id DESC LIMIT $3"
);
/// A logged-in viewer's own photos that match in their private and unlisted albums
/// (`Database::search_own`): found through those albums, never the word index (`IS
/// TRUE`), so words that never meet cost a walk of the viewer's unlisted and private
/// photos, not the index's lists for the whole site (`p.id + 0`: nor a walk of every
/// id down).
const SEARCH_OWN_PHOTOS: Sql = Sql {
    pg: concat!(
        photo_select!(liked!(viewer)),
        "WHERE p.album_id IN (SELECT b.id FROM albums b WHERE b.owner_id = $1 AND b.visibility <> 'public') \
         AND (p.search @@ CAST(CAST($2 AS TEXT) AS tsquery)) IS TRUE ORDER BY p.id + 0 DESC LIMIT $3"
    ),
    lite: concat!(
        photo_select!(liked!(viewer)),
        "WHERE a.owner_id = $1 AND a.visibility <> 'public' \
         AND p.id IN (SELECT rowid FROM photos_fts WHERE photos_fts MATCH $2) ORDER BY p.id DESC LIMIT $3"
    ),
};
const INSERT_PHOTO: Sql = Sql::same(
    "INSERT INTO photos (owner_id, album_id, caption, width, height, taken_at, exif, sha256, content_type, \
     byte_size, thumbhash, gps_privacy, lat, lon, created_at, updated_at, search_text) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $15, $16) \
     ON CONFLICT (album_id, sha256) DO NOTHING",
);
const PHOTO_ID_BY_CONTENT: Sql = Sql::same("SELECT id FROM photos WHERE album_id = $1 AND sha256 = $2");
const UPDATE_PHOTO: Sql = Sql::same(
    "UPDATE photos SET caption = $2, gps_privacy = $3, allow_original = $4, album_id = $5, search_text = $6, \
     updated_at = $7 WHERE id = $1",
);
const DELETE_PHOTO: Sql = Sql::same("DELETE FROM photos WHERE id = $1");

const ALBUM_BY_ID: Sql = Sql::same(concat!(album_select!(), "WHERE a.id = $2 AND ", visible!("$3")));
/// An album as its pandal's moderators may see it: any but a private one (a person's
/// private album is theirs alone, pandal or not).
const ALBUM_NOT_PRIVATE: Sql = Sql::same(concat!(album_select!(), "WHERE a.id = $1 AND a.visibility <> 'private'"));
const SHARED_ALBUM: Sql =
    Sql::same(concat!(album_select!(), "WHERE a.id = (SELECT s.album_id FROM share_links s WHERE s.id = $1)"));
const ALBUMS: Sql = Sql::same(concat!(
    album_select!(),
    "WHERE (a.visibility = 'public' OR a.owner_id = $1) AND a.id < $2 ORDER BY a.id DESC LIMIT $3"
));
const ALBUMS_OF_OWNER: Sql = Sql::same(concat!(
    album_select!(),
    "WHERE a.owner_id = $4 AND (a.visibility = 'public' OR a.owner_id = $1) AND a.id < $2 \
     ORDER BY a.id DESC LIMIT $3"
));
const ALBUMS_OF_PANDAL: Sql = Sql::same(concat!(
    album_select!(),
    "WHERE a.pandal_id = $4 AND (a.visibility = 'public' OR a.owner_id = $1) AND a.id < $2 \
     ORDER BY a.id DESC LIMIT $3"
));
/// Albums are searched as photos are (`SEARCH_NEWEST_PHOTOS`, `SEARCH_PHOTOS`), and
/// the page's ids are found before their covers, owners and pandals are joined:
/// joined first, a common two-word name ("college square", 2,500 albums) cost every
/// match's cover lookups (12-100 ms) for twenty albums.
const SEARCH_NEWEST_ALBUMS: Sql = Sql {
    pg: concat!(
        album_select!(),
        "WHERE a.id IN (SELECT b.id FROM albums b WHERE (b.search @@ CAST(CAST($2 AS TEXT) AS tsquery)) IS TRUE \
         AND (b.visibility = 'public' OR b.owner_id = $1) AND b.id > (SELECT max(m.id) FROM albums m) - $4 \
         ORDER BY b.id DESC LIMIT $3) ORDER BY a.id DESC LIMIT $3"
    ),
    lite: concat!(
        album_select!(),
        "WHERE a.id IN (SELECT rowid FROM albums_fts WHERE albums_fts MATCH $2) \
         AND (a.visibility = 'public' OR a.owner_id = $1) AND a.id > (SELECT max(m.id) FROM albums m) - $4 \
         ORDER BY a.id DESC LIMIT $3"
    ),
};
const SEARCH_ALBUMS: Sql = Sql {
    pg: concat!(
        album_select!(),
        "WHERE a.id IN (SELECT b.id FROM albums b WHERE b.search @@ CAST(CAST($2 AS TEXT) AS tsquery) \
         AND (b.visibility = 'public' OR b.owner_id = $1) ORDER BY b.id + 0 DESC LIMIT $3) \
         ORDER BY a.id DESC LIMIT $3"
    ),
    lite: concat!(
        album_select!(),
        "WHERE a.id IN (SELECT rowid FROM albums_fts WHERE albums_fts MATCH $2) \
         AND (a.visibility = 'public' OR a.owner_id = $1) ORDER BY a.id DESC LIMIT $3"
    ),
};
/// A logged-in viewer's own private and unlisted albums on a pandal's page
/// (`Database::pandal_own`), and their photos, newest first.
const OWN_ALBUMS_OF_PANDAL: Sql = Sql::same(concat!(
    album_select!(),
    "WHERE a.owner_id = $1 AND a.pandal_id = $2 AND a.visibility <> 'public' ORDER BY a.id DESC LIMIT $3"
));
/// PostgreSQL takes the newest few of each of those albums first, as `FEED_OF_PANDAL`
/// does, so a large private album costs a page, not all of its photos.
const OWN_FEED_OF_PANDAL: Sql = Sql {
    pg: concat!(
        photo_select!(liked!(viewer)),
        "WHERE p.id IN (SELECT x.id FROM albums b CROSS JOIN LATERAL \
           (SELECT y.id FROM photos y WHERE y.album_id = b.id ORDER BY y.id DESC LIMIT $3) x \
           WHERE b.owner_id = $1 AND b.pandal_id = $2 AND b.visibility <> 'public' ORDER BY x.id DESC LIMIT $3) \
         ORDER BY p.id DESC LIMIT $3"
    ),
    lite: concat!(
        photo_select!(liked!(viewer)),
        "WHERE p.album_id IN (SELECT b.id FROM albums b WHERE b.owner_id = $1 AND b.pandal_id = $2 \
         AND b.visibility <> 'public') ORDER BY p.id DESC LIMIT $3"
    ),
};
/// A logged-in viewer's own private and unlisted albums that match.
const SEARCH_OWN_ALBUMS: Sql = Sql {
    pg: concat!(
        album_select!(),
        "WHERE a.owner_id = $1 AND a.visibility <> 'public' \
         AND (a.search @@ CAST(CAST($2 AS TEXT) AS tsquery)) IS TRUE ORDER BY a.id + 0 DESC LIMIT $3"
    ),
    lite: concat!(
        album_select!(),
        "WHERE a.owner_id = $1 AND a.visibility <> 'public' \
         AND a.id IN (SELECT rowid FROM albums_fts WHERE albums_fts MATCH $2) ORDER BY a.id DESC LIMIT $3"
    ),
};
/// The ids in parameter `$n`, a JSON array: one statement whatever their number
/// (`Database::among`).
macro_rules! ids_in {
    (pg: $n:literal) => {
        concat!("(SELECT CAST(x AS BIGINT) FROM jsonb_array_elements_text(CAST(CAST(", $n, " AS TEXT) AS jsonb)) x)")
    };
    (lite: $n:literal) => {
        concat!("(SELECT value FROM json_each(", $n, "))")
    };
}
/// Which of the photos named in `$2` `$1` likes.
const LIKED_AMONG: Sql = Sql {
    pg: concat!("SELECT l.photo_id FROM likes l WHERE l.user_id = $1 AND l.photo_id IN ", ids_in!(pg: "$2")),
    lite: concat!("SELECT l.photo_id FROM likes l WHERE l.user_id = $1 AND l.photo_id IN ", ids_in!(lite: "$2")),
};
/// The counts of likes and comments of the photos named in `$1`.
const COUNTS_AMONG: Sql = Sql {
    pg: concat!("SELECT p.id, p.like_count, p.comment_count FROM photos p WHERE p.id IN ", ids_in!(pg: "$1")),
    lite: concat!("SELECT p.id, p.like_count, p.comment_count FROM photos p WHERE p.id IN ", ids_in!(lite: "$1")),
};
/// Where `$1`'s own photos among those named in `$2` were taken.
const OWN_LOCATIONS: Sql = Sql {
    pg: concat!("SELECT p.id, p.lat, p.lon FROM photos p WHERE p.owner_id = $1 AND p.id IN ", ids_in!(pg: "$2")),
    lite: concat!("SELECT p.id, p.lat, p.lon FROM photos p WHERE p.owner_id = $1 AND p.id IN ", ids_in!(lite: "$2")),
};
const INSERT_ALBUM: Sql = Sql::same(
    "INSERT INTO albums (owner_id, title, description, visibility, pandal_id, created_at, updated_at, search_text, \
     link_key) VALUES ($1, $2, $3, $4, $5, $6, $6, $7, $8) RETURNING id",
);
/// The cover must be a photo of the album itself; anything else clears it.
const UPDATE_ALBUM: Sql = Sql::same(
    "UPDATE albums SET title = $2, description = $3, visibility = $4, pandal_id = $5, \
     cover_photo_id = (SELECT id FROM photos WHERE id = $6 AND album_id = $1), search_text = $7, updated_at = $8 \
     WHERE id = $1",
);
const DELETE_ALBUM: Sql = Sql::same("DELETE FROM albums WHERE id = $1");
const SET_ALBUM_LINK: Sql = Sql::same("UPDATE albums SET link_key = $2, updated_at = $3 WHERE id = $1");

const PANDAL_BY_ID: Sql = Sql::same(concat!(pandal_select!(), "WHERE pd.id = $1"));
const PANDALS: Sql = Sql::same(concat!(
    pandal_select!(),
    "WHERE (CAST($3 AS TEXT) IS NULL OR lower(pd.city) = lower(CAST($3 AS TEXT))) \
     AND (CAST($4 AS BIGINT) IS NULL OR pd.year = CAST($4 AS BIGINT)) AND pd.id < $1 \
     ORDER BY pd.id DESC LIMIT $2"
));
/// As for albums: the page's ids first, then each one's count of albums.
const SEARCH_PANDALS: Sql = Sql {
    pg: concat!(
        pandal_select!(),
        "WHERE pd.id IN (SELECT q.id FROM pandals q WHERE q.search @@ CAST(CAST($1 AS TEXT) AS tsquery) \
         ORDER BY q.id DESC LIMIT $2) ORDER BY pd.id DESC LIMIT $2"
    ),
    lite: concat!(
        pandal_select!(),
        "WHERE pd.id IN (SELECT rowid FROM pandals_fts WHERE pandals_fts MATCH $1) ORDER BY pd.id DESC LIMIT $2"
    ),
};
const INSERT_PANDAL: Sql = Sql::same(
    "INSERT INTO pandals (name, para, city, year, lat, lon, created_by, created_at, search_text) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id",
);
const UPDATE_PANDAL: Sql = Sql::same(
    "UPDATE pandals SET name = $2, para = $3, city = $4, year = $5, lat = $6, lon = $7, search_text = $8 \
     WHERE id = $1",
);
const CITY_FACETS: Sql =
    Sql::same("SELECT min(city), count(*) FROM pandals GROUP BY lower(city) ORDER BY 2 DESC, 1 LIMIT 200");
const YEAR_FACETS: Sql = Sql::same("SELECT year, count(*) FROM pandals GROUP BY year ORDER BY year DESC LIMIT 200");

const COMMENTS: Sql =
    Sql::same(concat!(comment_select!(), "WHERE c.photo_id = $1 AND c.id < $2 ORDER BY c.id DESC LIMIT $3"));
const COMMENT_BY_ID: Sql = Sql::same(concat!(comment_select!(), "WHERE c.id = $1"));
const INSERT_COMMENT: Sql =
    Sql::same("INSERT INTO comments (photo_id, author_id, body, created_at) VALUES ($1, $2, $3, $4) RETURNING id");
/// PostgreSQL adds a comment and reads it back, with its author, in one statement.
const INSERT_COMMENT_RETURNING: &str = concat!(
    "WITH c AS (INSERT INTO comments (photo_id, author_id, body, created_at) VALUES ($1, $2, $3, $4) \
     RETURNING id, photo_id, author_id, body, created_at) SELECT ",
    comment_columns!(),
    " FROM c JOIN users u ON u.id = c.author_id"
);
const DELETE_COMMENT: Sql = Sql::same("DELETE FROM comments WHERE id = $1");

const LIKE: Sql = Sql::same(
    "INSERT INTO likes (photo_id, user_id, created_at) VALUES ($1, $2, $3) ON CONFLICT (photo_id, user_id) DO NOTHING",
);
const UNLIKE: Sql = Sql::same("DELETE FROM likes WHERE photo_id = $1 AND user_id = $2");
const LIKE_STATE: Sql = Sql::same(
    "SELECT p.like_count, EXISTS (SELECT 1 FROM likes l WHERE l.photo_id = $1 AND l.user_id = $2) \
     FROM photos p WHERE p.id = $1",
);
// PostgreSQL makes a like and reads its state in one statement. The count is read as the
// statement began, before the trigger counted this like (V3__counts.sql), so the
// statement adds what it changed itself. Others' likes committed meanwhile are not in
// the answer (as with any read just after a write); the stored count, kept by the
// trigger under the photo's row lock, is exact. No row: the photo is gone.
const LIKE_RETURNING_STATE: &str = "WITH changed AS (INSERT INTO likes (photo_id, user_id, created_at) \
     VALUES ($1, $2, $3) ON CONFLICT (photo_id, user_id) DO NOTHING RETURNING 1) \
     SELECT p.like_count + (SELECT count(*) FROM changed), true FROM photos p WHERE p.id = $1";
const UNLIKE_RETURNING_STATE: &str = "WITH changed AS (DELETE FROM likes WHERE photo_id = $1 AND user_id = $2 \
     RETURNING 1) SELECT p.like_count - (SELECT count(*) FROM changed), false FROM photos p WHERE p.id = $1";

const UPDATE_PROFILE: Sql =
    Sql::same("UPDATE users SET display_name = $2, bio = $3, gps_privacy = $4, updated_at = $5 WHERE id = $1");
const PASSWORD_HASH: Sql = Sql::same("SELECT password_hash FROM users WHERE id = $1");
const SET_PASSWORD_HASH: Sql = Sql::same("UPDATE users SET password_hash = $2, updated_at = $3 WHERE id = $1");
const SET_ROLE: Sql = Sql::same("UPDATE users SET role = $2, updated_at = $3 WHERE lower(username) = lower($1)");
/// Everything a person owns goes with them (foreign keys cascade): sessions, albums,
/// photos, comments and likes.
const DELETE_USER: Sql = Sql::same("DELETE FROM users WHERE id = $1");
/// The content hashes of a person's photos, for the blob store.
/// Photos and photos waiting for review both hold their blobs.
const PHOTO_HASHES_OF: Sql = Sql::same(
    "SELECT sha256 FROM photos WHERE owner_id = $1 UNION SELECT sha256 FROM pending_photos WHERE owner_id = $1",
);
const CONTENT_IN_USE: Sql = Sql::same(
    "SELECT 1 WHERE EXISTS (SELECT 1 FROM photos WHERE sha256 = $1) \
     OR EXISTS (SELECT 1 FROM pending_photos WHERE sha256 = $1)",
);
/// An upload takes a hold on a content unless a deletion of it is under way (or the
/// deletion's holder died). One upsert: it and `BEGIN_CONTENT_DELETION` on the same
/// row are serialised by the row, so neither can miss the other.
const CLAIM_CONTENT: Sql = Sql::same(
    "INSERT INTO content_locks (sha256, uploads, deleting, expires_at) VALUES ($1, 1, 0, $3) \
     ON CONFLICT (sha256) DO UPDATE SET \
       uploads = CASE WHEN content_locks.expires_at < $2 THEN 1 ELSE content_locks.uploads + 1 END, \
       deleting = 0, expires_at = $3 \
     WHERE content_locks.deleting = 0 OR content_locks.expires_at < $2",
);
const RELEASE_CONTENT: Sql =
    Sql::same("UPDATE content_locks SET uploads = uploads - 1 WHERE sha256 = $1 AND uploads > 0 AND deleting = 0");
const FORGET_IDLE_CONTENT_LOCK: Sql =
    Sql::same("DELETE FROM content_locks WHERE sha256 = $1 AND uploads = 0 AND deleting = 0");
/// A deletion starts only when no upload holds the content (or every holder died).
const BEGIN_CONTENT_DELETION: Sql = Sql::same(
    "INSERT INTO content_locks (sha256, uploads, deleting, expires_at) VALUES ($1, 0, 1, $3) \
     ON CONFLICT (sha256) DO UPDATE SET uploads = 0, deleting = 1, expires_at = $3 \
     WHERE (content_locks.uploads = 0 AND content_locks.deleting = 0) OR content_locks.expires_at < $2",
);
const END_CONTENT_DELETION: Sql = Sql::same("DELETE FROM content_locks WHERE sha256 = $1 AND deleting = 1");
/// Every content hash any photo refers to, for `pujo blobs gc`.
const ALL_PHOTO_HASHES: Sql = Sql::same("SELECT sha256 FROM photos UNION SELECT sha256 FROM pending_photos");

/// How long a content lock outlives a holder that stopped refreshing it (a process
/// that died mid-upload or mid-deletion): longer than any upload may take.
const CONTENT_LOCK_TTL_MS: i64 = 60 * 60 * 1000;

fn unix_ms(t: OffsetDateTime) -> i64 {
    i64::try_from(t.unix_timestamp_nanos() / 1_000_000).unwrap_or(i64::MAX)
}

fn user_ref(r: &dyn Row, at: usize) -> Result<UserRef, DbError> {
    Ok(UserRef { id: r.int(at)?, username: r.text(at + 1)?, display_name: r.text(at + 2)? })
}

fn photo_from(r: &dyn Row) -> Result<Photo, DbError> {
    Ok(Photo {
        id: r.int(0)?,
        album_id: r.int(1)?,
        owner: user_ref(r, 2)?,
        caption: r.text(5)?,
        width: r.int(6)?,
        height: r.int(7)?,
        taken_at: r.opt_time(8)?,
        exif: r.json(9)?,
        sha256: r.bytes(10)?,
        content_type: r.text(11)?,
        byte_size: r.int(12)?,
        thumbhash: r.opt_bytes(13)?,
        gps_privacy: GpsPrivacy::parse(&r.text(14)?),
        lat: r.opt_float(15)?,
        lon: r.opt_float(16)?,
        allow_original: r.bool(17)?,
        visibility: Visibility::parse(&r.text(18)?),
        like_count: r.int(19)?,
        comment_count: r.int(20)?,
        liked_by_me: r.bool(21)?,
        created_at: r.time(22)?,
        updated_at: r.time(23)?,
        link_key: r.opt_text(24)?.unwrap_or_default(),
        guest_name: r.opt_text(25)?,
        upload_link_id: r.opt_int(26)?,
    })
}

fn album_from(r: &dyn Row) -> Result<Album, DbError> {
    let pandal = match r.opt_int(7)? {
        Some(id) => Some(PandalRef { id, name: r.text(8)?, para: r.text(9)?, city: r.text(10)?, year: r.int(11)? }),
        None => None,
    };
    let cover = match r.opt_int(12)? {
        Some(id) => Some(Cover { id, width: r.int(13)?, height: r.int(14)?, thumbhash: r.opt_bytes(15)? }),
        None => None,
    };
    Ok(Album {
        id: r.int(0)?,
        owner: user_ref(r, 1)?,
        title: r.text(4)?,
        description: r.text(5)?,
        visibility: Visibility::parse(&r.text(6)?),
        pandal,
        cover,
        photo_count: r.int(16)?,
        created_at: r.time(17)?,
        updated_at: r.time(18)?,
        link_key: r.opt_text(19)?.unwrap_or_default(),
    })
}

fn pandal_from(r: &dyn Row) -> Result<Pandal, DbError> {
    Ok(Pandal {
        id: r.int(0)?,
        name: r.text(1)?,
        para: r.text(2)?,
        city: r.text(3)?,
        year: r.int(4)?,
        lat: r.opt_float(5)?,
        lon: r.opt_float(6)?,
        album_count: r.int(7)?,
        created_at: r.time(8)?,
    })
}

fn comment_from(r: &dyn Row) -> Result<Comment, DbError> {
    Ok(Comment {
        id: r.int(0)?,
        photo_id: r.int(1)?,
        author: user_ref(r, 2)?,
        body: r.text(5)?,
        created_at: r.time(6)?,
    })
}

/// A page's size as a statement's `LIMIT`.
fn sql_limit(n: usize) -> i64 {
    i64::try_from(n).unwrap_or(100)
}

fn id_from(r: &dyn Row) -> Result<i64, DbError> {
    r.int(0)
}

fn city_count(r: &dyn Row) -> Result<(String, i64), DbError> {
    Ok((r.text(0)?, r.int(1)?))
}

fn year_count(r: &dyn Row) -> Result<(i64, i64), DbError> {
    Ok((r.int(0)?, r.int(1)?))
}

fn like_state(r: &dyn Row) -> Result<(i64, bool), DbError> {
    Ok((r.int(0)?, r.bool(1)?))
}

fn password_hash(r: &dyn Row) -> Result<String, DbError> {
    r.text(0)
}

const OWN_ALBUMS: Sql = Sql::same(
    "SELECT id, title, description, visibility, created_at, updated_at FROM albums WHERE owner_id = $1 ORDER BY id",
);
const OWN_PHOTOS: Sql = Sql::same(
    "SELECT id, album_id, caption, width, height, taken_at, exif, sha256, content_type, byte_size, gps_privacy, \
     lat, lon, allow_original, created_at, updated_at, guest_name IS NOT NULL FROM photos WHERE owner_id = $1 \
     ORDER BY id",
);
const OWN_COMMENTS: Sql =
    Sql::same("SELECT id, photo_id, body, created_at FROM comments WHERE author_id = $1 ORDER BY id");
const OWN_LIKES: Sql = Sql::same("SELECT photo_id, created_at FROM likes WHERE user_id = $1 ORDER BY photo_id");

fn own_album_from(r: &dyn Row) -> Result<OwnAlbum, DbError> {
    Ok(OwnAlbum {
        id: r.int(0)?,
        title: r.text(1)?,
        description: r.text(2)?,
        visibility: r.text(3)?,
        created_at: r.time(4)?,
        updated_at: r.time(5)?,
    })
}

fn own_photo_from(r: &dyn Row) -> Result<OwnPhoto, DbError> {
    Ok(OwnPhoto {
        id: r.int(0)?,
        album_id: r.int(1)?,
        caption: r.text(2)?,
        width: r.int(3)?,
        height: r.int(4)?,
        taken_at: r.opt_time(5)?,
        exif: r.json(6)?,
        sha256: r.bytes(7)?,
        content_type: r.text(8)?,
        byte_size: r.int(9)?,
        gps_privacy: r.text(10)?,
        lat: r.opt_float(11)?,
        lon: r.opt_float(12)?,
        allow_original: r.bool(13)?,
        created_at: r.time(14)?,
        updated_at: r.time(15)?,
        from_guest: r.bool(16)?,
    })
}

fn own_comment_from(r: &dyn Row) -> Result<OwnComment, DbError> {
    Ok(OwnComment { id: r.int(0)?, photo_id: r.int(1)?, body: r.text(2)?, created_at: r.time(3)? })
}

fn own_like_from(r: &dyn Row) -> Result<OwnLike, DbError> {
    Ok(OwnLike { photo_id: r.int(0)?, created_at: r.time(1)? })
}

fn hash_from(r: &dyn Row) -> Result<Vec<u8>, DbError> {
    r.bytes(0)
}

/// Asks for one more row than the page holds, to learn whether another page follows.
pub(super) fn fetch_limit(page: PageRequest) -> i64 {
    i64::try_from(page.limit).unwrap_or(100) + 1
}

pub(super) fn before(page: PageRequest) -> i64 {
    page.before.unwrap_or(i64::MAX)
}

pub(super) fn paged<T>(mut items: Vec<T>, page: PageRequest, id: fn(&T) -> i64) -> Page<T> {
    let next = if items.len() > page.limit {
        items.truncate(page.limit);
        items.last().map(id)
    } else {
        None
    };
    Page { items, next }
}

impl Database {
    /// Runs one statement and decodes every row.
    pub(crate) async fn query<T: Send + 'static>(
        &self,
        sql: Sql,
        params: Vec<Value>,
        decode: Decode<T>,
    ) -> Result<Vec<T>, DbError> {
        match self {
            Database::Postgres(db) => db.query(sql.pg, &params, decode).await,
            Database::Sqlite(db) => db.query(sql.lite, params, decode).await,
        }
    }

    /// Runs one statement and decodes its first row, if any.
    pub(crate) async fn query_opt<T: Send + 'static>(
        &self,
        sql: Sql,
        params: Vec<Value>,
        decode: Decode<T>,
    ) -> Result<Option<T>, DbError> {
        Ok(self.query(sql, params, decode).await?.into_iter().next())
    }

    pub(super) async fn query_one<T: Send + 'static>(
        &self,
        sql: Sql,
        params: Vec<Value>,
        decode: Decode<T>,
    ) -> Result<T, DbError> {
        self.query_opt(sql, params, decode).await?.ok_or_else(|| DbError::Other("statement returned no row".into()))
    }

    /// Runs one statement and returns how many rows it changed.
    pub(crate) async fn execute(&self, sql: Sql, params: Vec<Value>) -> Result<u64, DbError> {
        match self {
            Database::Postgres(db) => db.execute(sql.pg, &params).await,
            Database::Sqlite(db) => db.execute(sql.lite, params).await,
        }
    }

    // ------------------------------------------------------------------ people

    /// The stored hashes of a person's live sessions, for dropping their cached copies
    /// (`pujo admin`, which cannot reach a running server's memory).
    pub async fn session_hashes_of(&self, user_id: i64) -> Result<Vec<Vec<u8>>, DbError> {
        const HASHES: Sql = Sql::same("SELECT token_hash FROM sessions WHERE user_id = $1");
        fn hash(r: &dyn Row) -> Result<Vec<u8>, DbError> {
            r.bytes(0)
        }
        self.query(HASHES, params![user_id], hash).await
    }

    pub async fn user_by_username(&self, username: &str) -> Result<Option<User>, DbError> {
        self.query_opt(USER_BY_USERNAME, params![username], user_from).await
    }

    /// Applies a profile change and returns the person as they are now.
    pub async fn update_profile(&self, user: &User, patch: ProfilePatch) -> Result<User, DbError> {
        let display_name = patch.display_name.unwrap_or_else(|| user.display_name.clone());
        let bio = patch.bio.unwrap_or_else(|| user.bio.clone());
        let gps = patch.gps_privacy.unwrap_or(user.gps_privacy);
        let now = OffsetDateTime::now_utc();
        self.execute(UPDATE_PROFILE, params![user.id, display_name, bio, gps.as_str(), now]).await?;
        self.user_by_id(user.id).await?.ok_or_else(|| DbError::Other("user vanished during update".into()))
    }

    pub async fn password_hash(&self, user_id: i64) -> Result<Option<String>, DbError> {
        self.query_opt(PASSWORD_HASH, params![user_id], password_hash).await
    }

    pub async fn set_password_hash(&self, user_id: i64, hash: &str) -> Result<(), DbError> {
        self.execute(SET_PASSWORD_HASH, params![user_id, hash, OffsetDateTime::now_utc()]).await?;
        Ok(())
    }

    /// Gives a role to the person with this username; false when there is nobody by it.
    pub async fn set_role(&self, username: &str, role: super::Role) -> Result<bool, DbError> {
        Ok(self.execute(SET_ROLE, params![username, role.as_str(), OffsetDateTime::now_utc()]).await? == 1)
    }

    /// Deletes a person and everything they own; returns the content hashes their
    /// photos had, so the caller can let the blob store collect what no one else uses.
    pub async fn delete_user(&self, user_id: i64) -> Result<Vec<Vec<u8>>, DbError> {
        let hashes = self.query(PHOTO_HASHES_OF, params![user_id], hash_from).await?;
        self.execute(DELETE_USER, params![user_id]).await?;
        Ok(hashes)
    }

    /// Whether any photo still has these bytes.
    pub async fn content_in_use(&self, sha256: &[u8]) -> Result<bool, DbError> {
        fn one(_: &dyn Row) -> Result<(), DbError> {
            Ok(())
        }
        Ok(self.query_opt(CONTENT_IN_USE, params![sha256.to_vec()], one).await?.is_some())
    }

    /// Holds a content for an upload that relies on its blobs (writing them, or
    /// skipping a write because they exist) until its photo row is in: no deletion
    /// starts meanwhile. `false` while a deletion of it is under way; try again when
    /// it has ended. Released by [`Database::release_content`].
    pub async fn claim_content(&self, sha256: &[u8]) -> Result<bool, DbError> {
        let now = unix_ms(OffsetDateTime::now_utc());
        let expires = now + CONTENT_LOCK_TTL_MS;
        Ok(self.execute(CLAIM_CONTENT, params![sha256.to_vec(), now, expires]).await? == 1)
    }

    pub async fn release_content(&self, sha256: &[u8]) -> Result<(), DbError> {
        self.execute(RELEASE_CONTENT, params![sha256.to_vec()]).await?;
        self.execute(FORGET_IDLE_CONTENT_LOCK, params![sha256.to_vec()]).await?;
        Ok(())
    }

    /// Starts deleting a content's blobs if nothing needs them: no upload holds it and
    /// no photo row refers to it. `true` means the caller may delete them, and must
    /// then call [`Database::end_content_deletion`]; uploads of it wait until then.
    pub async fn begin_content_deletion(&self, sha256: &[u8]) -> Result<bool, DbError> {
        let now = unix_ms(OffsetDateTime::now_utc());
        let expires = now + CONTENT_LOCK_TTL_MS;
        if self.execute(BEGIN_CONTENT_DELETION, params![sha256.to_vec(), now, expires]).await? != 1 {
            return Ok(false);
        }
        // Rows committed before any upload let go are visible now, and no new upload
        // can start: this answer holds until the deletion ends.
        match self.content_in_use(sha256).await {
            Ok(false) => Ok(true),
            Ok(true) => {
                self.end_content_deletion(sha256).await?;
                Ok(false)
            }
            Err(e) => {
                let _ = self.end_content_deletion(sha256).await;
                Err(e)
            }
        }
    }

    pub async fn end_content_deletion(&self, sha256: &[u8]) -> Result<(), DbError> {
        self.execute(END_CONTENT_DELETION, params![sha256.to_vec()]).await?;
        Ok(())
    }

    /// Every content hash a photo row refers to (what the blob store must keep).
    /// Everything `user` made, oldest first: albums, photos, the comments they wrote
    /// and the likes they gave.
    pub async fn personal_data(&self, user: i64) -> Result<PersonalData, DbError> {
        Ok(PersonalData {
            albums: self.query(OWN_ALBUMS, params![user], own_album_from).await?,
            photos: self.query(OWN_PHOTOS, params![user], own_photo_from).await?,
            comments: self.query(OWN_COMMENTS, params![user], own_comment_from).await?,
            likes: self.query(OWN_LIKES, params![user], own_like_from).await?,
        })
    }

    pub async fn photo_hashes(&self) -> Result<std::collections::HashSet<Vec<u8>>, DbError> {
        Ok(self.query(ALL_PHOTO_HASHES, vec![], hash_from).await?.into_iter().collect())
    }

    // ------------------------------------------------------------------ pandals

    pub async fn create_pandal(&self, new: &NewPandal) -> Result<Pandal, DbError> {
        let search = text::search_text(&[&new.name, &new.para, &new.city, &new.year.to_string()]);
        let id = self
            .query_one(
                INSERT_PANDAL,
                params![
                    new.name.as_str(),
                    new.para.as_str(),
                    new.city.as_str(),
                    new.year,
                    new.lat,
                    new.lon,
                    new.created_by,
                    OffsetDateTime::now_utc(),
                    search
                ],
                id_from,
            )
            .await?;
        self.pandal(id).await?.ok_or_else(|| DbError::Other("pandal vanished after insert".into()))
    }

    pub async fn pandal(&self, id: i64) -> Result<Option<Pandal>, DbError> {
        self.query_opt(PANDAL_BY_ID, params![id], pandal_from).await
    }

    pub async fn update_pandal(&self, current: &Pandal, patch: PandalPatch) -> Result<Pandal, DbError> {
        let name = patch.name.unwrap_or_else(|| current.name.clone());
        let para = patch.para.unwrap_or_else(|| current.para.clone());
        let city = patch.city.unwrap_or_else(|| current.city.clone());
        let year = patch.year.unwrap_or(current.year);
        let lat = patch.lat.unwrap_or(current.lat);
        let lon = patch.lon.unwrap_or(current.lon);
        let search = text::search_text(&[&name, &para, &city, &year.to_string()]);
        self.execute(UPDATE_PANDAL, params![current.id, name, para, city, year, lat, lon, search]).await?;
        self.pandal(current.id).await?.ok_or_else(|| DbError::Other("pandal vanished during update".into()))
    }

    /// Pandals, newest first, optionally of one city and/or year.
    pub async fn pandals(
        &self,
        city: Option<&str>,
        year: Option<i64>,
        page: PageRequest,
    ) -> Result<Page<Pandal>, DbError> {
        let items = self.query(PANDALS, params![before(page), fetch_limit(page), city, year], pandal_from).await?;
        Ok(paged(items, page, |p| p.id))
    }

    pub async fn pandal_facets(&self) -> Result<PandalFacets, DbError> {
        Ok(PandalFacets {
            cities: self.query(CITY_FACETS, vec![], city_count).await?,
            years: self.query(YEAR_FACETS, vec![], year_count).await?,
        })
    }

    // ------------------------------------------------------------------ albums

    pub async fn create_album(&self, new: &NewAlbum) -> Result<Album, DbError> {
        let search = text::search_text(&[&new.title, &new.description]);
        let id = self
            .query_one(
                INSERT_ALBUM,
                params![
                    new.owner_id,
                    new.title.as_str(),
                    new.description.as_str(),
                    new.visibility.as_str(),
                    new.pandal_id,
                    OffsetDateTime::now_utc(),
                    search,
                    new.link_key.as_str()
                ],
                id_from,
            )
            .await?;
        self.album(id, new.owner_id, None).await?.ok_or_else(|| DbError::Other("album vanished after insert".into()))
    }

    /// The album if `viewer` may see it (with the album's link `key`, if they gave one).
    pub async fn album(&self, id: i64, viewer: i64, key: Option<&str>) -> Result<Option<Album>, DbError> {
        self.query_opt(ALBUM_BY_ID, params![viewer, id, key.unwrap_or("")], album_from).await
    }

    /// Gives the album a new link key: the old link opens it no more.
    pub async fn set_album_link(&self, id: i64, key: &str) -> Result<(), DbError> {
        self.execute(SET_ALBUM_LINK, params![id, key, OffsetDateTime::now_utc()]).await?;
        Ok(())
    }

    /// Albums `viewer` may see in lists: everyone's public ones and their own.
    pub async fn albums(
        &self,
        viewer: i64,
        owner: Option<i64>,
        pandal: Option<i64>,
        page: PageRequest,
    ) -> Result<Page<Album>, DbError> {
        let (sql, extra) = match (owner, pandal) {
            (Some(owner), _) => (ALBUMS_OF_OWNER, Some(owner)),
            (None, Some(pandal)) => (ALBUMS_OF_PANDAL, Some(pandal)),
            (None, None) => (ALBUMS, None),
        };
        let mut params = params![viewer, before(page), fetch_limit(page)];
        params.extend(extra.map(Value::from));
        let items = self.query(sql, params, album_from).await?;
        Ok(paged(items, page, |a| a.id))
    }

    /// Applies a change to an album (its owner checked by the caller).
    pub async fn update_album(&self, current: &Album, patch: AlbumPatch) -> Result<Album, DbError> {
        let title = patch.title.unwrap_or_else(|| current.title.clone());
        let description = patch.description.unwrap_or_else(|| current.description.clone());
        let visibility = patch.visibility.unwrap_or(current.visibility);
        let pandal = patch.pandal_id.unwrap_or(current.pandal.as_ref().map(|p| p.id));
        // Without a change, keep the cover only if it was chosen (not the newest photo).
        let cover = match patch.cover_photo_id {
            Some(cover) => cover,
            None => self.chosen_cover(current.id).await?,
        };
        let search = text::search_text(&[&title, &description]);
        let now = OffsetDateTime::now_utc();
        self.execute(
            UPDATE_ALBUM,
            params![current.id, title, description, visibility.as_str(), pandal, cover, search, now],
        )
        .await?;
        self.album(current.id, current.owner.id, None)
            .await?
            .ok_or_else(|| DbError::Other("album vanished during update".into()))
    }

    async fn chosen_cover(&self, album_id: i64) -> Result<Option<i64>, DbError> {
        const COVER: Sql = Sql::same("SELECT cover_photo_id FROM albums WHERE id = $1");
        fn cover(r: &dyn Row) -> Result<Option<i64>, DbError> {
            r.opt_int(0)
        }
        Ok(self.query_opt(COVER, params![album_id], cover).await?.flatten())
    }

    /// Deletes an album with its photos, their comments and likes.
    pub async fn delete_album(&self, id: i64) -> Result<bool, DbError> {
        Ok(self.execute(DELETE_ALBUM, params![id]).await? == 1)
    }

    // ------------------------------------------------------------------ photos

    /// Adds a photo to an album; the same content added twice to one album gives the
    /// first photo back.
    pub async fn create_photo(&self, new: &NewPhoto) -> Result<Photo, DbError> {
        let search = text::search_text(&[&new.caption]);
        let now = OffsetDateTime::now_utc();
        self.execute(
            INSERT_PHOTO,
            params![
                new.owner_id,
                new.album_id,
                new.caption.as_str(),
                new.width,
                new.height,
                new.taken_at,
                new.exif.clone(),
                new.sha256.clone(),
                new.content_type.as_str(),
                new.byte_size,
                new.thumbhash.clone(),
                new.gps_privacy.as_str(),
                new.lat,
                new.lon,
                now,
                search
            ],
        )
        .await?;
        let id = self.query_one(PHOTO_ID_BY_CONTENT, params![new.album_id, new.sha256.clone()], id_from).await?;
        self.photo(id, new.owner_id, None).await?.ok_or_else(|| DbError::Other("photo vanished after insert".into()))
    }

    /// The photo if `viewer` may see its album (with the album's link `key`, if given).
    pub async fn photo(&self, id: i64, viewer: i64, key: Option<&str>) -> Result<Option<Photo>, DbError> {
        self.query_opt(PHOTO_BY_ID.for_viewer(viewer), params![viewer, id, key.unwrap_or("")], photo_from).await
    }

    /// The person's earliest photo with exactly these bytes, if they uploaded them before.
    pub async fn photo_of_owner_by_content(&self, owner: i64, sha256: &[u8]) -> Result<Option<Photo>, DbError> {
        self.query_opt(PHOTO_OF_OWNER_BY_CONTENT.for_viewer(owner), params![owner, sha256.to_vec()], photo_from).await
    }

    /// A photo whatever its album's visibility; the caller decides who may see it.
    pub async fn photo_unchecked(&self, id: i64) -> Result<Option<Photo>, DbError> {
        self.query_opt(PHOTO_ANY.for_viewer(NOBODY), params![NOBODY, id], photo_from).await
    }

    /// Photo `id` and at most `limit` - 1 of the photos before it in its album, newest
    /// first, whatever the album's visibility (the caller decides who may see them):
    /// an album's page is shown newest first, so a media request that misses a
    /// photo's row reads the rows its page's next thumbnails will ask for.
    pub async fn photo_and_older_unchecked(&self, id: i64, limit: usize) -> Result<Vec<Photo>, DbError> {
        let sql = PHOTO_AND_OLDER_ANY.for_viewer(NOBODY);
        self.query(sql, params![NOBODY, id, sql_limit(limit)], photo_from).await
    }

    /// Photos of an album (whose visibility the query checks again), newest first.
    pub async fn album_photos(
        &self,
        album_id: i64,
        viewer: i64,
        key: Option<&str>,
        page: PageRequest,
    ) -> Result<Page<Photo>, DbError> {
        let items = self
            .query(
                ALBUM_PHOTOS.for_viewer(viewer),
                params![viewer, album_id, before(page), fetch_limit(page), key.unwrap_or("")],
                photo_from,
            )
            .await?;
        Ok(paged(items, page, |p| p.id))
    }

    /// The album unless it is private, whoever asks (for moderators; the caller
    /// checks that they moderate its pandal).
    pub async fn album_not_private(&self, id: i64) -> Result<Option<Album>, DbError> {
        self.query_opt(ALBUM_NOT_PRIVATE, params![id], album_from).await
    }

    /// The album a share link opens, while the link exists.
    pub async fn shared_album(&self, link_id: i64) -> Result<Option<Album>, DbError> {
        self.query_opt(SHARED_ALBUM, params![link_id], album_from).await
    }

    /// The photos of the album a share link opens, newest first, as nobody sees them
    /// (no likes of their own).
    pub async fn shared_photos(&self, link_id: i64, page: PageRequest) -> Result<Page<Photo>, DbError> {
        let params = params![NOBODY, link_id, before(page), fetch_limit(page)];
        let items = self.query(SHARED_PHOTOS.for_viewer(NOBODY), params, photo_from).await?;
        Ok(paged(items, page, |p| p.id))
    }

    /// The newest public photos (of one pandal's albums, when given).
    pub async fn photo_feed(
        &self,
        viewer: i64,
        pandal: Option<i64>,
        page: PageRequest,
    ) -> Result<Page<Photo>, DbError> {
        let items = match pandal {
            Some(pandal) => {
                self.query(
                    FEED_OF_PANDAL.for_viewer(viewer),
                    params![viewer, before(page), fetch_limit(page), pandal],
                    photo_from,
                )
                .await?
            }
            None => {
                self.query(FEED.for_viewer(viewer), params![viewer, before(page), fetch_limit(page)], photo_from)
                    .await?
            }
        };
        Ok(paged(items, page, |p| p.id))
    }

    /// Applies a change to a photo (its owner, and the target album's, checked by the caller).
    pub async fn update_photo(&self, current: &Photo, patch: PhotoPatch) -> Result<Photo, DbError> {
        let caption = patch.caption.unwrap_or_else(|| current.caption.clone());
        let gps = patch.gps_privacy.unwrap_or(current.gps_privacy);
        let allow_original = patch.allow_original.unwrap_or(current.allow_original);
        let album = patch.album_id.unwrap_or(current.album_id);
        let search = text::search_text(&[&caption]);
        let now = OffsetDateTime::now_utc();
        self.execute(UPDATE_PHOTO, params![current.id, caption, gps.as_str(), allow_original, album, search, now])
            .await?;
        self.photo(current.id, current.owner.id, None)
            .await?
            .ok_or_else(|| DbError::Other("photo vanished during update".into()))
    }

    pub async fn delete_photo(&self, id: i64) -> Result<bool, DbError> {
        Ok(self.execute(DELETE_PHOTO, params![id]).await? == 1)
    }

    // ------------------------------------------------------------------ comments, likes

    pub async fn comments(&self, photo_id: i64, page: PageRequest) -> Result<Page<Comment>, DbError> {
        let items = self.query(COMMENTS, params![photo_id, before(page), fetch_limit(page)], comment_from).await?;
        Ok(paged(items, page, |c| c.id))
    }

    pub async fn comment(&self, id: i64) -> Result<Option<Comment>, DbError> {
        self.query_opt(COMMENT_BY_ID, params![id], comment_from).await
    }

    /// Adds a comment and announces `tags` on the cache bus once it has committed
    /// (`Pg::query_announcing`: one round trip with PostgreSQL). `Err` when nothing was
    /// written.
    pub async fn create_comment(
        &self,
        photo_id: i64,
        author_id: i64,
        body: &str,
        tags: &str,
    ) -> Result<Announced<Comment>, DbError> {
        let now = OffsetDateTime::now_utc();
        match self {
            Database::Postgres(db) => {
                let params = params![photo_id, author_id, body, now];
                let done = db.query_announcing(INSERT_COMMENT_RETURNING, &params, tags, comment_from).await?;
                Ok(done.first_row())
            }
            Database::Sqlite(_) => {
                let write = async {
                    let id = self.query_one(INSERT_COMMENT, params![photo_id, author_id, body, now], id_from).await?;
                    self.comment(id).await?.ok_or_else(|| DbError::Other("comment vanished after insert".into()))
                };
                Ok(Announced::local(write.await))
            }
        }
    }

    pub async fn delete_comment(&self, id: i64) -> Result<bool, DbError> {
        Ok(self.execute(DELETE_COMMENT, params![id]).await? == 1)
    }

    /// Likes or unlikes a photo (idempotent) and announces `tags` on the cache bus once
    /// that has committed (with PostgreSQL, one statement and one round trip:
    /// `Pg::query_announcing`). The write's outcome is the like count and whether the
    /// user likes it now (`Gone` when the photo was deleted meanwhile). `Err` when
    /// nothing was written.
    pub async fn set_like(
        &self,
        photo_id: i64,
        user_id: i64,
        liked: bool,
        tags: &str,
    ) -> Result<Announced<(i64, bool)>, DbError> {
        match self {
            Database::Postgres(db) => {
                let (sql, params) = if liked {
                    (LIKE_RETURNING_STATE, params![photo_id, user_id, OffsetDateTime::now_utc()])
                } else {
                    (UNLIKE_RETURNING_STATE, params![photo_id, user_id])
                };
                let done = db.query_announcing(sql, &params, tags, like_state).await?;
                Ok(done.first_row())
            }
            Database::Sqlite(_) => {
                let write = async {
                    if liked {
                        self.execute(LIKE, params![photo_id, user_id, OffsetDateTime::now_utc()]).await?;
                    } else {
                        self.execute(UNLIKE, params![photo_id, user_id]).await?;
                    }
                    self.query_opt(LIKE_STATE, params![photo_id, user_id], like_state).await?.ok_or(DbError::Gone)
                };
                Ok(Announced::local(write.await))
            }
        }
    }

    // ------------------------------------------------------------------ search

    /// Photos, albums and pandals matching every word of `q` (as word prefixes) that
    /// `viewer` may see in lists, newest first, at most `limit` of each.
    pub async fn search(&self, viewer: i64, q: &str, limit: usize) -> Result<SearchHits, DbError> {
        // The newest-first pass is for PostgreSQL's planner; SQLite's word index answers
        // the same either way, and a pass that fell short would read it twice.
        let newest = matches!(self, Database::Postgres(_)).then_some(SEARCH_NEWEST);
        self.search_within(viewer, q, limit, newest).await
    }

    /// What `search` would add for `viewer` to what it finds for nobody: the viewer's
    /// own photos and albums that match in their private and unlisted albums
    /// (everything else a viewer may see in lists is public), at most `limit` of each,
    /// newest first. Pandals are the same for everyone, so none.
    pub async fn search_own(&self, viewer: i64, q: &str, limit: usize) -> Result<SearchHits, DbError> {
        let Some(query) = self.text_query(q) else { return Ok(SearchHits::default()) };
        let page = sql_limit(limit);
        Ok(SearchHits {
            photos: self.query(SEARCH_OWN_PHOTOS, params![viewer, query.as_str(), page], photo_from).await?,
            albums: self.query(SEARCH_OWN_ALBUMS, params![viewer, query.as_str(), page], album_from).await?,
            pandals: Vec::new(),
        })
    }

    /// `q` as this database's word index reads it; `None` when it has no words.
    fn text_query(&self, q: &str) -> Option<String> {
        match self {
            Database::Postgres(_) => text::pg_query(q),
            Database::Sqlite(_) => text::fts5_query(q),
        }
    }

    /// What a pandal's page shows `viewer` beyond what it shows nobody: their own
    /// private and unlisted albums on it and those albums' photos, at most `albums` and
    /// `photos` of the newest.
    pub async fn pandal_own(
        &self,
        viewer: i64,
        pandal: i64,
        albums: usize,
        photos: usize,
    ) -> Result<SearchHits, DbError> {
        Ok(SearchHits {
            photos: self.query(OWN_FEED_OF_PANDAL, params![viewer, pandal, sql_limit(photos)], photo_from).await?,
            albums: self.query(OWN_ALBUMS_OF_PANDAL, params![viewer, pandal, sql_limit(albums)], album_from).await?,
            pandals: Vec::new(),
        })
    }

    /// Which of `photos` `viewer` likes.
    pub async fn liked_among(&self, viewer: i64, photos: &[i64]) -> Result<Vec<i64>, DbError> {
        self.among(LIKED_AMONG, params![viewer], photos, id_from).await
    }

    /// Where `owner`'s own photos among `photos` were taken: (id, lat, lon).
    pub async fn own_locations(
        &self,
        owner: i64,
        photos: &[i64],
    ) -> Result<Vec<(i64, Option<f64>, Option<f64>)>, DbError> {
        self.among(OWN_LOCATIONS, params![owner], photos, |r| Ok((r.int(0)?, r.opt_float(1)?, r.opt_float(2)?))).await
    }

    /// The counts of likes and comments of `photos`: (id, likes, comments) of those
    /// that still exist.
    pub async fn photo_counts(&self, photos: &[i64]) -> Result<Vec<(i64, i64, i64)>, DbError> {
        self.among(COUNTS_AMONG, params![], photos, |r| Ok((r.int(0)?, r.int(1)?, r.int(2)?))).await
    }

    /// `sql` with `params`, then `ids` as its last parameter (`ids_in!`); nothing for none.
    async fn among<T: Send + 'static>(
        &self,
        sql: Sql,
        mut params: Vec<Value>,
        ids: &[i64],
        decode: Decode<T>,
    ) -> Result<Vec<T>, DbError> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        params.push(Value::from(serde_json::to_string(ids).map_err(|e| DbError::Other(e.to_string()))?));
        self.query(sql, params, decode).await
    }

    /// `search`, looking first among the photos (and albums) whose ids are within
    /// `newest` of the highest, and through the word index only when they do not fill
    /// the page: the answer is the same, but a common word costs a short walk down the
    /// ids and a rare one an index lookup, where either plan alone costs one of them the
    /// whole table.
    pub async fn search_newest_first(
        &self,
        viewer: i64,
        q: &str,
        limit: usize,
        newest: i64,
    ) -> Result<SearchHits, DbError> {
        self.search_within(viewer, q, limit, Some(newest)).await
    }

    async fn search_within(
        &self,
        viewer: i64,
        q: &str,
        limit: usize,
        newest: Option<i64>,
    ) -> Result<SearchHits, DbError> {
        let Some(query) = self.text_query(q) else { return Ok(SearchHits::default()) };
        let query = query.as_str();
        let photos = (SEARCH_NEWEST_PHOTOS.for_viewer(viewer), SEARCH_PHOTOS.for_viewer(viewer));
        let albums = (SEARCH_NEWEST_ALBUMS, SEARCH_ALBUMS);
        Ok(SearchHits {
            photos: self.newest_then_all(photos, newest, viewer, query, limit, photo_from).await?,
            albums: self.newest_then_all(albums, newest, viewer, query, limit, album_from).await?,
            pandals: self.query(SEARCH_PANDALS, params![query, sql_limit(limit)], pandal_from).await?,
        })
    }

    /// `first` (among the ids within `newest` of the highest), then `all` when that does
    /// not fill a page of `limit`; `all` alone without `newest`.
    async fn newest_then_all<T: Send + 'static>(
        &self,
        (first, all): (Sql, Sql),
        newest: Option<i64>,
        viewer: i64,
        query: &str,
        limit: usize,
        decode: Decode<T>,
    ) -> Result<Vec<T>, DbError> {
        let page = sql_limit(limit);
        if let Some(newest) = newest {
            let found = self.query(first, params![viewer, query, page, newest], decode).await?;
            if found.len() >= limit {
                return Ok(found);
            }
        }
        self.query(all, params![viewer, query, page], decode).await
    }
}
