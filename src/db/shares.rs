//! Share links: what opens a private or unlisted album to whoever holds a link. The
//! link's token is stored as its SHA-256 only; what a link shows is read in
//! `content.rs` (`shared_album`, `shared_photos`), by the link's id, so a revoked
//! link (its row deleted) shows nothing from the next statement on.

use time::OffsetDateTime;

use super::query::{Row, Sql, params};
use super::{Database, DbError};

/// One share link as its album's owner sees it (the token itself is never stored).
#[derive(Debug, Clone, PartialEq)]
pub struct ShareLink {
    pub id: i64,
    pub album_id: i64,
    pub label: String,
    /// The argon2id hash of the link's password, if it has one.
    pub password_hash: Option<String>,
    pub allow_download: bool,
    pub expires_at: Option<OffsetDateTime>,
    pub created_by: i64,
    pub created_at: OffsetDateTime,
}

impl ShareLink {
    /// Whether the link still opens its album at `now`.
    pub fn expired(&self, now: OffsetDateTime) -> bool {
        self.expires_at.is_some_and(|at| at <= now)
    }
}

/// A link about to be made.
#[derive(Debug, Clone)]
pub struct NewShareLink {
    pub album_id: i64,
    pub token_hash: [u8; 32],
    pub label: String,
    pub password_hash: Option<String>,
    pub allow_download: bool,
    pub expires_at: Option<OffsetDateTime>,
    pub created_by: i64,
}

/// The most links one album may have at once.
pub const SHARE_LINKS_PER_ALBUM: i64 = 50;

macro_rules! share_select {
    ($tail:literal) => {
        Sql::same(concat!(
            "SELECT id, album_id, label, password_hash, allow_download, expires_at, created_by, created_at \
             FROM share_links ",
            $tail
        ))
    };
}

/// Inserted only while the album has fewer than its limit of links: one statement, so
/// two requests at once cannot both pass a count taken before either inserted.
/// (PostgreSQL types the parameters of a SELECT list by their casts; SQLite needs none.)
const INSERT: Sql = Sql {
    pg: "INSERT INTO share_links (album_id, token_hash, label, password_hash, allow_download, expires_at, \
         created_by, created_at) SELECT CAST($1 AS BIGINT), CAST($2 AS BYTEA), CAST($3 AS TEXT), CAST($4 AS TEXT), \
         CAST($5 AS BOOLEAN), CAST($6 AS TIMESTAMPTZ), CAST($7 AS BIGINT), CAST($8 AS TIMESTAMPTZ) \
         WHERE (SELECT count(*) FROM share_links WHERE album_id = $1) < $9 RETURNING id",
    lite: "INSERT INTO share_links (album_id, token_hash, label, password_hash, allow_download, expires_at, \
           created_by, created_at) SELECT $1, $2, $3, $4, $5, $6, $7, $8 \
           WHERE (SELECT count(*) FROM share_links WHERE album_id = $1) < $9 RETURNING id",
};
const BY_TOKEN: Sql = share_select!("WHERE token_hash = $1");
const BY_ID: Sql = share_select!("WHERE id = $1");
const OF_ALBUM: Sql = share_select!("WHERE album_id = $1 ORDER BY id DESC");
const DELETE: Sql = Sql::same("DELETE FROM share_links WHERE id = $1 AND album_id = $2");
const PURGE_EXPIRED: Sql = Sql::same("DELETE FROM share_links WHERE expires_at < $1");

fn link_from(r: &dyn Row) -> Result<ShareLink, DbError> {
    Ok(ShareLink {
        id: r.int(0)?,
        album_id: r.int(1)?,
        label: r.text(2)?,
        password_hash: r.opt_text(3)?,
        allow_download: r.bool(4)?,
        expires_at: r.opt_time(5)?,
        created_by: r.int(6)?,
        created_at: r.time(7)?,
    })
}

fn id_from(r: &dyn Row) -> Result<i64, DbError> {
    r.int(0)
}

impl Database {
    /// Makes a link; `None` when the album already has `SHARE_LINKS_PER_ALBUM`.
    pub async fn create_share_link(&self, new: &NewShareLink) -> Result<Option<ShareLink>, DbError> {
        let id = self
            .query_opt(
                INSERT,
                params![
                    new.album_id,
                    new.token_hash.to_vec(),
                    new.label.as_str(),
                    new.password_hash.clone(),
                    new.allow_download,
                    new.expires_at,
                    new.created_by,
                    OffsetDateTime::now_utc(),
                    SHARE_LINKS_PER_ALBUM
                ],
                id_from,
            )
            .await?;
        match id {
            Some(id) => self.query_opt(BY_ID, params![id], link_from).await,
            None => Ok(None),
        }
    }

    /// The link whose token hashes to `token_hash`, expired or not.
    pub async fn share_link_by_token(&self, token_hash: &[u8; 32]) -> Result<Option<ShareLink>, DbError> {
        self.query_opt(BY_TOKEN, params![token_hash.to_vec()], link_from).await
    }

    /// An album's links, newest first (at most `SHARE_LINKS_PER_ALBUM`).
    pub async fn share_links(&self, album_id: i64) -> Result<Vec<ShareLink>, DbError> {
        self.query(OF_ALBUM, params![album_id], link_from).await
    }

    /// Revokes a link of the album; whether there was one.
    pub async fn delete_share_link(&self, album_id: i64, id: i64) -> Result<bool, DbError> {
        Ok(self.execute(DELETE, params![id, album_id]).await? == 1)
    }

    /// Removes links that expired before `before` (kept a while after, so that whoever
    /// opens one learns it expired rather than that it never was).
    pub async fn purge_expired_share_links(&self, before: OffsetDateTime) -> Result<u64, DbError> {
        self.execute(PURGE_EXPIRED, params![before]).await
    }
}
