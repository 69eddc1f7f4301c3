//! Resumable uploads (tus 1.0): the state of each, so that an acknowledged offset
//! survives a restart and is the same on every replica. Written once on the shared
//! statement layer.

use time::OffsetDateTime;

use super::query::{Row, Sql, params};
use super::{Database, DbError};

/// A resumable upload as it is stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Upload {
    /// 32 hex digits: 128 random bits.
    pub id: String,
    pub owner_id: i64,
    pub album_id: i64,
    pub filename: String,
    pub caption: String,
    /// The whole file's bytes, as the client declared at creation.
    pub length: i64,
    /// The bytes Pujo has acknowledged (synced to the partial file).
    pub received: i64,
    /// The photo made when the last byte arrived.
    pub photo_id: Option<i64>,
    pub expires_at: OffsetDateTime,
    /// On S3: the bytes already in parts of the upload's multipart upload (or, once
    /// joined, in one object); the rest up to `received` wait as small objects.
    pub parted: i64,
    /// On S3: the ETag of each part, in order.
    pub part_tags: Vec<String>,
    /// On S3: the multipart upload's id while it takes parts.
    pub multipart: Option<String>,
    /// A guest's upload through an upload link: who sent it. `None` for a person's.
    pub guest: Option<GuestSender>,
    /// The photo waiting for review a guest's upload became.
    pub pending_id: Option<i64>,
}

/// A chunk's acknowledgment: the offset moves from `from` to `to` under the claim
/// `claim`, which is then let go (the chunk is done), and a guest's upload lives until
/// `guest_until` (it lives while its bytes keep coming; a person's keeps its expiry).
#[derive(Debug, Clone, Copy)]
pub struct Ack<'a> {
    pub from: i64,
    pub to: i64,
    pub claim: &'a str,
    pub guest_until: OffsetDateTime,
}

/// The guest a resumable upload belongs to: the link it came through, the guest (the
/// SHA-256 of their guest cookie) and the name they gave.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GuestSender {
    pub link_id: i64,
    pub guest: [u8; 32],
    pub name: String,
}

impl Upload {
    /// Whether the parts were joined into one object (the last byte arrived once).
    pub fn joined(&self) -> bool {
        self.multipart.is_none() && self.parted > 0
    }

    /// Whether the last byte arrived and became a photo (or a photo waiting for review).
    pub fn finished(&self) -> bool {
        self.photo_id.is_some() || self.pending_id.is_some()
    }
}

macro_rules! upload_columns {
    () => {
        "id, owner_id, album_id, filename, caption, length, received, photo_id, expires_at, parted, part_tags, multipart, \
         upload_link_id, guest, guest_name, pending_id"
    };
}

/// What every chunk's acknowledgment also does ([`Ack`]): the claim goes, and a guest's
/// upload lives until the parameter named.
macro_rules! acknowledged {
    ($guest_until:literal) => {
        concat!(
            "claim = NULL, claimed_until = NULL, expires_at = CASE WHEN guest IS NULL THEN expires_at ELSE ",
            $guest_until,
            " END"
        )
    };
}

const CREATE: Sql = Sql::same(
    "INSERT INTO uploads (id, owner_id, album_id, filename, caption, length, received, created_at, expires_at, \
     upload_link_id, guest, guest_name) VALUES ($1, $2, $3, $4, $5, $6, 0, $7, $8, $9, $10, $11)",
);
/// A person's upload: never a guest's, even one sent to their album.
const BY_ID: Sql =
    Sql::same(concat!("SELECT ", upload_columns!(), " FROM uploads WHERE id = $1 AND owner_id = $2 AND guest IS NULL"));
const BY_GUEST: Sql = Sql::same(concat!("SELECT ", upload_columns!(), " FROM uploads WHERE id = $1 AND guest = $2"));
/// Moves the acknowledged offset from `$2` to `$3`, only if it still is `$2` and the
/// request still holds the claim (`$4`): a writer whose claim lapsed and went to
/// another replica acknowledges nothing. The claim goes with it (the chunk is done),
/// and a guest's upload lives until `$5` (it lives while its bytes keep coming): one
/// write where there were three.
const ADVANCE: Sql = Sql::same(concat!(
    "UPDATE uploads SET received = $3, ",
    acknowledged!("$5"),
    " WHERE id = $1 AND received = $2 AND claim = $4"
));
/// The last byte became photo `$2`: the offset moves from `$3` to the whole length
/// only now, once, so a failure before it leaves the last chunk to be sent again.
const FINISH: Sql = Sql::same(
    "UPDATE uploads SET photo_id = $2, received = length \
     WHERE id = $1 AND photo_id IS NULL AND pending_id IS NULL AND received = $3 AND claim = $4",
);
/// The same for a guest's upload: the photo waiting for review `$2` it became (and the
/// photo `$5`, when its link needs no review).
const FINISH_GUEST: Sql = Sql::same(
    "UPDATE uploads SET pending_id = $2, photo_id = $5, received = length \
     WHERE id = $1 AND photo_id IS NULL AND pending_id IS NULL AND received = $3 AND claim = $4",
);
/// Acknowledges bytes that made a part, as `ADVANCE` (`$7` for `$5`): `received` moves
/// from `$2` to `$3`, and the parts grow to `$3` bytes with ETags `$4` in multipart
/// upload `$5`.
const ADVANCE_PARTS: Sql = Sql::same(concat!(
    "UPDATE uploads SET received = $3, parted = $3, part_tags = $4, multipart = $5, ",
    acknowledged!("$7"),
    " WHERE id = $1 AND received = $2 AND claim = $6"
));
/// The parts were joined into one object: no multipart upload any more.
const JOINED: Sql = Sql::same("UPDATE uploads SET multipart = NULL WHERE id = $1 AND multipart = $2 AND claim = $3");
/// Takes the right to append (token `$2` until `$3`) if nobody holds it at `$4`.
const CLAIM: Sql = Sql::same(
    "UPDATE uploads SET claim = $2, claimed_until = $3 WHERE id = $1 \
     AND (claim IS NULL OR claim = $2 OR claimed_until < $4)",
);
/// Keeps the right to append (token `$2`) until `$3`; nothing if another took it.
const RENEW: Sql = Sql::same("UPDATE uploads SET claimed_until = $3 WHERE id = $1 AND claim = $2");
/// Every claim of one process, at its shutdown.
const RELEASE_ALL: Sql = Sql::same("UPDATE uploads SET claim = NULL, claimed_until = NULL WHERE claim = $1");
/// `CLAIM` of an upload that is person `$5`'s (not a guest's) or guest `$6`'s, reading
/// it under the claim: a chunk's way in, in one round trip.
const CLAIM_OWN: Sql = Sql::same(concat!(
    "UPDATE uploads SET claim = $2, claimed_until = $3 WHERE id = $1 \
     AND (claim IS NULL OR claim = $2 OR claimed_until < $4) AND ((owner_id = $5 AND guest IS NULL) OR guest = $6) \
     RETURNING ",
    upload_columns!()
));
const RELEASE: Sql = Sql::same("UPDATE uploads SET claim = NULL, claimed_until = NULL WHERE id = $1 AND claim = $2");
const DELETE: Sql = Sql::same("DELETE FROM uploads WHERE id = $1 AND owner_id = $2 AND guest IS NULL");
const DELETE_GUEST: Sql = Sql::same("DELETE FROM uploads WHERE id = $1 AND guest = $2");
const DELETE_ANY: Sql = Sql::same("DELETE FROM uploads WHERE id = $1");
const EXPIRED: Sql = Sql::same("SELECT id, multipart FROM uploads WHERE expires_at <= $1 ORDER BY expires_at LIMIT $2");
/// A person's own unfinished uploads (guests' uploads to their albums are the guests').
const OPEN_OF: Sql = Sql::same(
    "SELECT count(*), CAST(COALESCE(SUM(length), 0) AS BIGINT) FROM uploads \
     WHERE owner_id = $1 AND guest IS NULL AND photo_id IS NULL AND pending_id IS NULL",
);
const OPEN_OF_GUEST: Sql = Sql::same(
    "SELECT count(*), CAST(COALESCE(SUM(length), 0) AS BIGINT) FROM uploads \
     WHERE guest = $1 AND photo_id IS NULL AND pending_id IS NULL",
);
/// How many of a link's unfinished uploads are guest `$2`'s, and the bytes they all declared.
const OPEN_OF_LINK: Sql = Sql::same(
    "SELECT CAST(COALESCE(SUM(CASE WHEN guest = $2 THEN 1 ELSE 0 END), 0) AS BIGINT), \
     CAST(COALESCE(SUM(length), 0) AS BIGINT) FROM uploads \
     WHERE upload_link_id = $1 AND photo_id IS NULL AND pending_id IS NULL",
);
/// The bytes every guest's unfinished upload declared.
const OPEN_GUEST_BYTES: Sql = Sql::same(
    "SELECT CAST(COALESCE(SUM(length), 0) AS BIGINT) FROM uploads \
     WHERE guest IS NOT NULL AND photo_id IS NULL AND pending_id IS NULL",
);
/// The bytes every unfinished upload declared.
const OPEN_BYTES: Sql = Sql::same(
    "SELECT CAST(COALESCE(SUM(length), 0) AS BIGINT) FROM uploads WHERE photo_id IS NULL AND pending_id IS NULL",
);
const ALL_IDS: Sql = Sql::same("SELECT id FROM uploads");

fn upload_from(r: &dyn Row) -> Result<Upload, DbError> {
    Ok(Upload {
        id: r.text(0)?,
        owner_id: r.int(1)?,
        album_id: r.int(2)?,
        filename: r.text(3)?,
        caption: r.text(4)?,
        length: r.int(5)?,
        received: r.int(6)?,
        photo_id: r.opt_int(7)?,
        expires_at: r.time(8)?,
        parted: r.int(9)?,
        part_tags: r.text(10)?.lines().map(str::to_owned).collect(),
        multipart: r.opt_text(11)?,
        guest: match (r.opt_int(12)?, r.opt_bytes(13)?) {
            (Some(link_id), Some(guest)) => Some(GuestSender {
                link_id,
                guest: guest.try_into().map_err(|_| DbError::Other("a guest's key is not 32 bytes".into()))?,
                name: r.text(14)?,
            }),
            _ => None,
        },
        pending_id: r.opt_int(15)?,
    })
}

fn count_and_bytes(r: &dyn Row) -> Result<(i64, i64), DbError> {
    Ok((r.int(0)?, r.int(1)?))
}

fn text_from(r: &dyn Row) -> Result<String, DbError> {
    r.text(0)
}

fn int_from(r: &dyn Row) -> Result<i64, DbError> {
    r.int(0)
}

impl Database {
    pub async fn create_upload(&self, upload: &Upload) -> Result<(), DbError> {
        let u = upload.clone();
        let now = OffsetDateTime::now_utc();
        let (link, guest, name) = match u.guest {
            Some(g) => (Some(g.link_id), Some(g.guest.to_vec()), g.name),
            None => (None, None, String::new()),
        };
        self.execute(
            CREATE,
            params![
                u.id,
                u.owner_id,
                u.album_id,
                u.filename,
                u.caption,
                u.length,
                now,
                u.expires_at,
                link,
                guest,
                name
            ],
        )
        .await?;
        Ok(())
    }

    /// The upload `id` of `owner` (another person's is `None`, as a missing one is).
    pub async fn upload(&self, id: &str, owner: i64) -> Result<Option<Upload>, DbError> {
        self.query_opt(BY_ID, params![id, owner], upload_from).await
    }

    /// The upload `id` of the guest `guest` (anyone else's is `None`).
    pub async fn guest_upload(&self, id: &str, guest: &[u8; 32]) -> Result<Option<Upload>, DbError> {
        self.query_opt(BY_GUEST, params![id, guest.to_vec()], upload_from).await
    }

    /// Acknowledges a chunk's bytes of upload `id` (see [`Ack`]); `false` when
    /// another request moved the offset first, or took the claim.
    pub async fn advance_upload(&self, id: &str, ack: Ack<'_>) -> Result<bool, DbError> {
        Ok(self.execute(ADVANCE, params![id, ack.from, ack.to, ack.claim.to_owned(), ack.guest_until]).await? == 1)
    }

    /// [`Database::advance_upload`] of bytes that made a new part of multipart upload
    /// `multipart`, whose parts' ETags are now `part_tags`: `parted` moves to `to` too.
    pub async fn advance_upload_parts(
        &self,
        id: &str,
        ack: Ack<'_>,
        part_tags: &[String],
        multipart: &str,
    ) -> Result<bool, DbError> {
        let tags = part_tags.join("\n");
        let Ack { from, to, claim, guest_until } = ack;
        let params = params![id, from, to, tags, multipart.to_owned(), claim.to_owned(), guest_until];
        Ok(self.execute(ADVANCE_PARTS, params).await? == 1)
    }

    /// Records that multipart upload `multipart` of upload `id` was joined into one object.
    pub async fn upload_parts_joined(&self, id: &str, multipart: &str, claim: &str) -> Result<(), DbError> {
        self.execute(JOINED, params![id, multipart.to_owned(), claim.to_owned()]).await?;
        Ok(())
    }

    /// Keeps the right to append to upload `id` for another `hold`; `false` when
    /// another request (on another replica) took it meanwhile.
    pub async fn renew_upload_claim(&self, id: &str, token: &str, hold: std::time::Duration) -> Result<bool, DbError> {
        let until = OffsetDateTime::now_utc() + hold;
        Ok(self.execute(RENEW, params![id, token.to_owned(), until]).await? == 1)
    }

    /// Lets go of every claim `token` holds (a process shutting down).
    pub async fn release_upload_claims(&self, token: &str) -> Result<u64, DbError> {
        self.execute(RELEASE_ALL, params![token.to_owned()]).await
    }

    /// Takes the right to append to upload `id` for `hold`, as `token`; `false` while
    /// another request (on any replica) holds it. Holding it already renews it.
    pub async fn claim_upload(&self, id: &str, token: &str, hold: std::time::Duration) -> Result<bool, DbError> {
        let now = OffsetDateTime::now_utc();
        Ok(self.execute(CLAIM, params![id, token.to_owned(), now + hold, now]).await? == 1)
    }

    /// `claim_upload` of an upload that is `owner`'s (not a guest's) or `guest`'s, and
    /// the upload as it is under the claim; `None` when it is neither's, is not there,
    /// or another request holds it (`upload` and `guest_upload` tell which).
    pub async fn claim_own_upload(
        &self,
        id: &str,
        owner: Option<i64>,
        guest: Option<&[u8; 32]>,
        token: &str,
        hold: std::time::Duration,
    ) -> Result<Option<Upload>, DbError> {
        let now = OffsetDateTime::now_utc();
        let guest = guest.map(|g| g.to_vec());
        self.query_opt(CLAIM_OWN, params![id, token.to_owned(), now + hold, now, owner, guest], upload_from).await
    }

    pub async fn release_upload(&self, id: &str, token: &str) -> Result<(), DbError> {
        self.execute(RELEASE, params![id, token.to_owned()]).await?;
        Ok(())
    }

    /// Records the photo the upload became, moving its offset from `from` to its
    /// length; `false` when another request finished or moved it first.
    pub async fn finish_upload(&self, id: &str, photo_id: i64, from: i64, claim: &str) -> Result<bool, DbError> {
        Ok(self.execute(FINISH, params![id, photo_id, from, claim.to_owned()]).await? == 1)
    }

    /// Records what a guest's upload became: photo `pending_id` waiting for review, and
    /// `photo_id` when it was approved at once; as [`Database::finish_upload`].
    pub async fn finish_guest_upload(
        &self,
        id: &str,
        pending_id: i64,
        photo_id: Option<i64>,
        from: i64,
        claim: &str,
    ) -> Result<bool, DbError> {
        Ok(self.execute(FINISH_GUEST, params![id, pending_id, from, claim.to_owned(), photo_id]).await? == 1)
    }

    /// Deletes the guest `guest`'s upload `id`; `false` when there was none.
    pub async fn delete_guest_upload(&self, id: &str, guest: &[u8; 32]) -> Result<bool, DbError> {
        Ok(self.execute(DELETE_GUEST, params![id, guest.to_vec()]).await? == 1)
    }

    /// Deletes `owner`'s upload `id`; `false` when there was none.
    pub async fn delete_upload(&self, id: &str, owner: i64) -> Result<bool, DbError> {
        Ok(self.execute(DELETE, params![id, owner]).await? == 1)
    }

    /// Up to `batch` uploads past their expiry, oldest first: each id, and its
    /// multipart upload's on S3.
    pub async fn expired_uploads(&self, batch: i64) -> Result<Vec<(String, Option<String>)>, DbError> {
        fn id_and_multipart(r: &dyn Row) -> Result<(String, Option<String>), DbError> {
            Ok((r.text(0)?, r.opt_text(1)?))
        }
        self.query(EXPIRED, params![OffsetDateTime::now_utc(), batch], id_and_multipart).await
    }

    pub async fn forget_upload(&self, id: &str) -> Result<(), DbError> {
        self.execute(DELETE_ANY, params![id]).await?;
        Ok(())
    }

    /// How many of `owner`'s uploads are still waiting for bytes, and the bytes they
    /// declared.
    pub async fn open_uploads_of(&self, owner: i64) -> Result<(i64, i64), DbError> {
        self.query_one(OPEN_OF, params![owner], count_and_bytes).await
    }

    /// How many of the guest `guest`'s uploads are still waiting for bytes, and the
    /// bytes they declared.
    pub async fn open_uploads_of_guest(&self, guest: &[u8; 32]) -> Result<(i64, i64), DbError> {
        self.query_one(OPEN_OF_GUEST, params![guest.to_vec()], count_and_bytes).await
    }

    /// Link `link_id`'s unfinished uploads: how many are the guest `guest`'s, and the
    /// bytes they all declared.
    pub async fn open_uploads_of_link(&self, link_id: i64, guest: &[u8; 32]) -> Result<(i64, i64), DbError> {
        self.query_one(OPEN_OF_LINK, params![link_id, guest.to_vec()], count_and_bytes).await
    }

    /// The bytes every guest's unfinished upload declared.
    pub async fn open_guest_upload_bytes(&self) -> Result<i64, DbError> {
        self.query_one(OPEN_GUEST_BYTES, params![], int_from).await
    }

    /// The bytes every unfinished upload declared: what their partial files may grow to.
    pub async fn open_upload_bytes(&self) -> Result<i64, DbError> {
        self.query_one(OPEN_BYTES, params![], int_from).await
    }

    /// Every upload's id, for finding partial files with no row.
    pub async fn upload_ids(&self) -> Result<Vec<String>, DbError> {
        self.query(ALL_IDS, params![], text_from).await
    }
}
