//! Guest uploads: an album's upload links, what each guest sent through one, and the
//! review queue (`pending_photos`). A guest's photo waits in its own table, which no
//! read of `photos` touches, until the album's owner approves it (it moves into
//! `photos`, keeping who sent it) or rejects it (its row goes; its blobs are
//! collected like any unreferenced content).

use time::OffsetDateTime;

use super::content::{before, fetch_limit, paged};
use super::query::{Row, Sql, params};
use super::{Database, DbError, Page, PageRequest, text};

/// An upload link as its album's owner sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct UploadLink {
    pub id: i64,
    pub album_id: i64,
    pub token: String,
    pub label: String,
    pub needs_review: bool,
    /// Photos one guest may send through it, if capped.
    pub per_guest: Option<i64>,
    /// Photos it takes in all, if capped.
    pub total: Option<i64>,
    /// Photos taken through it so far.
    pub taken: i64,
    pub expires_at: Option<OffsetDateTime>,
    pub created_by: i64,
    pub created_at: OffsetDateTime,
    /// Whether guests' photos keep where they were taken (the album owner's choice).
    pub keep_location: bool,
}

impl UploadLink {
    pub fn expired(&self, now: OffsetDateTime) -> bool {
        self.expires_at.is_some_and(|at| at <= now)
    }
}

/// A link about to be made.
#[derive(Debug, Clone)]
pub struct NewUploadLink {
    pub album_id: i64,
    pub token: String,
    pub label: String,
    pub needs_review: bool,
    pub per_guest: Option<i64>,
    pub total: Option<i64>,
    pub expires_at: Option<OffsetDateTime>,
    pub created_by: i64,
    pub keep_location: bool,
}

/// A guest's photo, taken in (decoded, its blobs stored), about to wait for review.
#[derive(Debug, Clone)]
pub struct NewPendingPhoto {
    pub album_id: i64,
    /// The album's owner, who owns the photo once it is approved.
    pub owner_id: i64,
    pub upload_link_id: i64,
    pub guest_name: String,
    pub caption: String,
    pub width: i64,
    pub height: i64,
    pub taken_at: Option<OffsetDateTime>,
    pub exif: serde_json::Value,
    pub sha256: Vec<u8>,
    pub content_type: String,
    pub byte_size: i64,
    pub thumbhash: Option<Vec<u8>>,
    /// Where it was taken, kept only when the link says so.
    pub lat: Option<f64>,
    pub lon: Option<f64>,
}

/// A photo waiting for review, as its reviewers see it.
#[derive(Debug, Clone, PartialEq)]
pub struct PendingPhoto {
    pub id: i64,
    pub album_id: i64,
    pub owner_id: i64,
    pub upload_link_id: Option<i64>,
    /// The label of the link it came through, while the link exists.
    pub link_label: Option<String>,
    pub guest_name: String,
    pub caption: String,
    pub width: i64,
    pub height: i64,
    pub sha256: Vec<u8>,
    pub content_type: String,
    pub thumbhash: Option<Vec<u8>>,
    pub created_at: OffsetDateTime,
    /// The title of the album it waits in.
    pub album_title: String,
}

/// The most upload links one album may have at once.
pub const UPLOAD_LINKS_PER_ALBUM: i64 = 50;

macro_rules! link_select {
    ($tail:literal) => {
        Sql::same(concat!(
            "SELECT id, album_id, token, label, needs_review, per_guest, total, taken, expires_at, created_by, \
             created_at, keep_location FROM upload_links ",
            $tail
        ))
    };
}

/// Inserted only while the album has fewer than its limit (PostgreSQL types the
/// parameters of a SELECT list by their casts; SQLite, with one writer, needs none).
const INSERT_LINK: Sql = Sql {
    pg: "INSERT INTO upload_links (album_id, token, label, needs_review, per_guest, total, expires_at, created_by, \
         created_at, keep_location) SELECT CAST($1 AS BIGINT), CAST($2 AS TEXT), CAST($3 AS TEXT), \
         CAST($4 AS BOOLEAN), CAST($5 AS BIGINT), CAST($6 AS BIGINT), CAST($7 AS TIMESTAMPTZ), CAST($8 AS BIGINT), \
         CAST($9 AS TIMESTAMPTZ), CAST($11 AS BOOLEAN) \
         WHERE (SELECT count(*) FROM upload_links WHERE album_id = $1) < $10 RETURNING id",
    lite: "INSERT INTO upload_links (album_id, token, label, needs_review, per_guest, total, expires_at, created_by, \
           created_at, keep_location) SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9, $11 \
           WHERE (SELECT count(*) FROM upload_links WHERE album_id = $1) < $10 RETURNING id",
};
const LINK_BY_ID: Sql = link_select!("WHERE id = $1");
const LINK_BY_TOKEN: Sql = link_select!("WHERE token = $1");
const LINKS_OF_ALBUM: Sql = link_select!("WHERE album_id = $1 ORDER BY id DESC");
const DELETE_LINK: Sql = Sql::same("DELETE FROM upload_links WHERE id = $1 AND album_id = $2");
/// One more photo through the link, if its total allows: one statement, so guests at
/// once cannot pass the cap between a count and an insert.
const TAKE_ON_LINK: Sql = Sql::same(
    "UPDATE upload_links SET taken = taken + 1 WHERE id = $1 AND (total IS NULL OR taken < total) RETURNING taken",
);
const GIVE_BACK_ON_LINK: Sql = Sql::same("UPDATE upload_links SET taken = taken - 1 WHERE id = $1 AND taken > 0");
/// One more photo from this guest, if the link's cap per guest allows ($3, NULL for none).
const TAKE_FOR_GUEST: Sql = Sql {
    pg: "INSERT INTO upload_link_guests (link_id, guest, taken) \
         SELECT CAST($1 AS BIGINT), CAST($2 AS BYTEA), 1 WHERE CAST($3 AS BIGINT) IS NULL OR $3 > 0 \
         ON CONFLICT (link_id, guest) DO UPDATE SET taken = upload_link_guests.taken + 1 \
         WHERE $3 IS NULL OR upload_link_guests.taken < $3 RETURNING taken",
    lite: "INSERT INTO upload_link_guests (link_id, guest, taken) SELECT $1, $2, 1 WHERE $3 IS NULL OR $3 > 0 \
           ON CONFLICT (link_id, guest) DO UPDATE SET taken = upload_link_guests.taken + 1 \
           WHERE $3 IS NULL OR upload_link_guests.taken < $3 RETURNING taken",
};
const GUEST_TAKEN: Sql = Sql::same("SELECT taken FROM upload_link_guests WHERE link_id = $1 AND guest = $2");
const GIVE_BACK_FOR_GUEST: Sql =
    Sql::same("UPDATE upload_link_guests SET taken = taken - 1 WHERE link_id = $1 AND guest = $2 AND taken > 0");

const INSERT_PENDING: Sql = Sql::same(
    "INSERT INTO pending_photos (album_id, owner_id, upload_link_id, guest_name, caption, width, height, taken_at, \
     exif, sha256, content_type, byte_size, thumbhash, search_text, created_at, lat, lon) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17) \
     ON CONFLICT (album_id, sha256) DO NOTHING",
);
macro_rules! pending_select {
    ($tail:literal) => {
        Sql::same(concat!(
            "SELECT q.id, q.album_id, q.owner_id, q.upload_link_id, l.label, q.guest_name, q.caption, q.width, \
             q.height, q.sha256, q.content_type, q.thumbhash, q.created_at, a.title \
             FROM pending_photos q JOIN albums a ON a.id = q.album_id \
             LEFT JOIN upload_links l ON l.id = q.upload_link_id ",
            $tail
        ))
    };
}
const PENDING_BY_CONTENT: Sql = pending_select!("WHERE q.album_id = $1 AND q.sha256 = $2");
const PENDING_BY_ID: Sql = pending_select!("WHERE q.id = $1");
const PENDING_OF_ALBUM: Sql = pending_select!(
    "WHERE q.album_id = $1 AND q.id < $2 AND (q.decided IS NULL OR q.decided = 'approved') \
     ORDER BY q.id DESC LIMIT $3"
);
/// A pandal's review queue: what waits in its albums that are not private (a
/// moderator's reach), newest first.
const PENDING_OF_PANDAL: Sql = pending_select!(
    "WHERE a.pandal_id = $1 AND a.visibility <> 'private' AND q.id < $2 \
     AND (q.decided IS NULL OR q.decided = 'approved') ORDER BY q.id DESC LIMIT $3"
);
/// The decision, taken before anything else: only one reviewer's wins.
const DECIDE_APPROVE: Sql = Sql::same(
    "UPDATE pending_photos SET decided = 'approved' WHERE id = $1 AND album_id = $2 \
     AND (decided IS NULL OR decided = 'approved')",
);
const DECIDE_REJECT: Sql =
    Sql::same("UPDATE pending_photos SET decided = 'rejected' WHERE id = $1 AND album_id = $2 AND decided IS NULL");
/// Approval: the waiting row becomes a photo of its album (the owner's location
/// setting; no location unless its link kept one, whatever the file said), then goes. A photo of the
/// same bytes already in the album is kept as it is.
const APPROVE: Sql = Sql::same(
    "INSERT INTO photos (owner_id, album_id, caption, width, height, taken_at, exif, sha256, content_type, \
     byte_size, thumbhash, gps_privacy, lat, lon, created_at, updated_at, search_text, guest_name, upload_link_id) \
     SELECT q.owner_id, q.album_id, q.caption, q.width, q.height, q.taken_at, q.exif, q.sha256, q.content_type, \
     q.byte_size, q.thumbhash, u.gps_privacy, q.lat, q.lon, $3, $3, q.search_text, q.guest_name, q.upload_link_id \
     FROM pending_photos q JOIN users u ON u.id = q.owner_id WHERE q.id = $1 AND q.album_id = $2 \
     AND q.decided = 'approved' ON CONFLICT (album_id, sha256) DO NOTHING",
);
const APPROVED_ID: Sql = Sql::same(
    "SELECT p.id FROM photos p JOIN pending_photos q ON q.album_id = p.album_id AND q.sha256 = p.sha256 \
     WHERE q.id = $1 AND q.album_id = $2",
);
const DELETE_PENDING: Sql = Sql::same("DELETE FROM pending_photos WHERE id = $1 AND album_id = $2");

fn link_from(r: &dyn Row) -> Result<UploadLink, DbError> {
    Ok(UploadLink {
        id: r.int(0)?,
        album_id: r.int(1)?,
        token: r.text(2)?,
        label: r.text(3)?,
        needs_review: r.bool(4)?,
        per_guest: r.opt_int(5)?,
        total: r.opt_int(6)?,
        taken: r.int(7)?,
        expires_at: r.opt_time(8)?,
        created_by: r.int(9)?,
        created_at: r.time(10)?,
        keep_location: r.bool(11)?,
    })
}

fn pending_from(r: &dyn Row) -> Result<PendingPhoto, DbError> {
    Ok(PendingPhoto {
        id: r.int(0)?,
        album_id: r.int(1)?,
        owner_id: r.int(2)?,
        upload_link_id: r.opt_int(3)?,
        link_label: r.opt_text(4)?,
        guest_name: r.text(5)?,
        caption: r.text(6)?,
        width: r.int(7)?,
        height: r.int(8)?,
        sha256: r.bytes(9)?,
        content_type: r.text(10)?,
        thumbhash: r.opt_bytes(11)?,
        created_at: r.time(12)?,
        album_title: r.text(13)?,
    })
}

fn int_from(r: &dyn Row) -> Result<i64, DbError> {
    r.int(0)
}

impl Database {
    /// Makes a link; `None` when the album already has `UPLOAD_LINKS_PER_ALBUM`.
    pub async fn create_upload_link(&self, new: &NewUploadLink) -> Result<Option<UploadLink>, DbError> {
        let params = params![
            new.album_id,
            new.token.as_str(),
            new.label.as_str(),
            new.needs_review,
            new.per_guest,
            new.total,
            new.expires_at,
            new.created_by,
            OffsetDateTime::now_utc(),
            UPLOAD_LINKS_PER_ALBUM,
            new.keep_location
        ];
        match self.query_opt(INSERT_LINK, params, int_from).await? {
            Some(id) => self.query_opt(LINK_BY_ID, params![id], link_from).await,
            None => Ok(None),
        }
    }

    pub async fn upload_link(&self, id: i64) -> Result<Option<UploadLink>, DbError> {
        self.query_opt(LINK_BY_ID, params![id], link_from).await
    }

    pub async fn upload_link_by_token(&self, token: &str) -> Result<Option<UploadLink>, DbError> {
        self.query_opt(LINK_BY_TOKEN, params![token], link_from).await
    }

    /// An album's links, newest first.
    pub async fn upload_links(&self, album_id: i64) -> Result<Vec<UploadLink>, DbError> {
        self.query(LINKS_OF_ALBUM, params![album_id], link_from).await
    }

    /// Revokes a link of the album; whether there was one.
    pub async fn delete_upload_link(&self, album_id: i64, id: i64) -> Result<bool, DbError> {
        Ok(self.execute(DELETE_LINK, params![id, album_id]).await? == 1)
    }

    /// Counts one photo against the link's total and the guest's own cap, both or
    /// neither: `Err(which)` names the cap that is full ("total" or "per_guest").
    pub async fn take_upload_slot(
        &self,
        link: &UploadLink,
        guest: &[u8; 32],
    ) -> Result<Result<(), &'static str>, DbError> {
        if self.query_opt(TAKE_ON_LINK, params![link.id], int_from).await?.is_none() {
            return Ok(Err("total"));
        }
        let taken = self.query_opt(TAKE_FOR_GUEST, params![link.id, guest.to_vec(), link.per_guest], int_from).await;
        match taken {
            Ok(Some(_)) => Ok(Ok(())),
            Ok(None) => {
                self.execute(GIVE_BACK_ON_LINK, params![link.id]).await?;
                Ok(Err("per_guest"))
            }
            Err(e) => {
                let _ = self.execute(GIVE_BACK_ON_LINK, params![link.id]).await;
                Err(e)
            }
        }
    }

    /// Photos this guest sent through the link so far.
    pub async fn guest_taken(&self, link_id: i64, guest: &[u8; 32]) -> Result<i64, DbError> {
        Ok(self.query_opt(GUEST_TAKEN, params![link_id, guest.to_vec()], int_from).await?.unwrap_or(0))
    }

    /// Gives back a slot taken for a photo that was not taken in after all.
    pub async fn give_back_upload_slot(&self, link_id: i64, guest: &[u8; 32]) -> Result<(), DbError> {
        self.execute(GIVE_BACK_ON_LINK, params![link_id]).await?;
        self.execute(GIVE_BACK_FOR_GUEST, params![link_id, guest.to_vec()]).await?;
        Ok(())
    }

    /// Puts a guest's photo in the review queue; the same bytes already waiting in the
    /// album give that row back.
    pub async fn create_pending_photo(&self, new: &NewPendingPhoto) -> Result<PendingPhoto, DbError> {
        let search = text::search_text(&[&new.caption, &new.guest_name]);
        self.execute(
            INSERT_PENDING,
            params![
                new.album_id,
                new.owner_id,
                new.upload_link_id,
                new.guest_name.as_str(),
                new.caption.as_str(),
                new.width,
                new.height,
                new.taken_at,
                new.exif.clone(),
                new.sha256.clone(),
                new.content_type.as_str(),
                new.byte_size,
                new.thumbhash.clone(),
                search,
                OffsetDateTime::now_utc(),
                new.lat,
                new.lon
            ],
        )
        .await?;
        self.query_opt(PENDING_BY_CONTENT, params![new.album_id, new.sha256.clone()], pending_from)
            .await?
            .ok_or_else(|| DbError::Other("a pending photo vanished after insert".into()))
    }

    /// What waits in album `album_id` with these bytes, if anything.
    pub async fn pending_photo_by_content(
        &self,
        album_id: i64,
        sha256: &[u8],
    ) -> Result<Option<PendingPhoto>, DbError> {
        self.query_opt(PENDING_BY_CONTENT, params![album_id, sha256.to_vec()], pending_from).await
    }

    pub async fn pending_photo(&self, id: i64) -> Result<Option<PendingPhoto>, DbError> {
        self.query_opt(PENDING_BY_ID, params![id], pending_from).await
    }

    /// An album's review queue, newest first.
    pub async fn pending_photos(&self, album_id: i64, page: PageRequest) -> Result<Page<PendingPhoto>, DbError> {
        let params = params![album_id, before(page), fetch_limit(page)];
        let items = self.query(PENDING_OF_ALBUM, params, pending_from).await?;
        Ok(paged(items, page, |p| p.id))
    }

    /// A pandal's review queue (its albums that are not private), newest first.
    pub async fn pending_photos_of_pandal(
        &self,
        pandal_id: i64,
        page: PageRequest,
    ) -> Result<Page<PendingPhoto>, DbError> {
        let params = params![pandal_id, before(page), fetch_limit(page)];
        let items = self.query(PENDING_OF_PANDAL, params, pending_from).await?;
        Ok(paged(items, page, |p| p.id))
    }

    /// Approves a waiting photo of the album: the id of the photo it became (or the
    /// photo of the same bytes already there), `None` when nothing waits by that id.
    pub async fn approve_pending_photo(&self, album_id: i64, id: i64) -> Result<Option<i64>, DbError> {
        // Decided first: a rejection at the same moment either wins (nothing is
        // published) or finds the photo approved.
        if self.execute(DECIDE_APPROVE, params![id, album_id]).await? == 0 {
            return Ok(None);
        }
        self.execute(APPROVE, params![id, album_id, OffsetDateTime::now_utc()]).await?;
        let photo = self.query_opt(APPROVED_ID, params![id, album_id], int_from).await?;
        if photo.is_some() {
            self.execute(DELETE_PENDING, params![id, album_id]).await?;
        }
        Ok(photo)
    }

    /// Rejects a waiting photo of the album; whether one waited by that id (and was
    /// not approved by someone else first).
    pub async fn reject_pending_photo(&self, album_id: i64, id: i64) -> Result<bool, DbError> {
        if self.execute(DECIDE_REJECT, params![id, album_id]).await? == 0 {
            return Ok(false);
        }
        self.execute(DELETE_PENDING, params![id, album_id]).await?;
        Ok(true)
    }
}
