//! Pandal moderators and reports. A moderator acts in the albums of the pandals they
//! were granted (those albums not private); a report names a photo or a comment and
//! the album it is in, and is seen by that album's owner, its pandal's moderators and
//! admins until one of them acts on it.

use time::OffsetDateTime;

use super::content::{before, fetch_limit, paged};
use super::query::{Row, Sql, params};
use super::{Database, DbError, Page, PageRequest, UserRef};

/// A report as those who act on it see it.
#[derive(Debug, Clone, PartialEq)]
pub struct Report {
    pub id: i64,
    /// `photo` or `comment`.
    pub target_kind: String,
    pub target_id: i64,
    pub album_id: i64,
    pub reason: String,
    pub note: String,
    /// Whether a logged-in person made it (never who, to those who act on it).
    pub by_member: bool,
    pub status: String,
    pub created_at: OffsetDateTime,
}

#[derive(Debug, Clone)]
pub struct NewReport {
    pub target_kind: &'static str,
    pub target_id: i64,
    pub album_id: i64,
    pub reason: String,
    pub note: String,
    pub reporter_id: Option<i64>,
    /// Who reported, for one open report each: `u<id>`, or the client's network.
    pub reporter: String,
}

const GRANT: Sql = Sql::same(
    "INSERT INTO pandal_moderators (pandal_id, user_id, granted_by, granted_at) VALUES ($1, $2, $3, $4) \
     ON CONFLICT (pandal_id, user_id) DO NOTHING",
);
const REVOKE: Sql = Sql::same("DELETE FROM pandal_moderators WHERE pandal_id = $1 AND user_id = $2");
/// The upload links a moderator made in the pandal's albums (not their own albums):
/// they go with the role.
const DROP_MODERATOR_LINKS: Sql = Sql::same(
    "DELETE FROM upload_links WHERE created_by = $2 AND album_id IN \
     (SELECT id FROM albums WHERE pandal_id = $1 AND owner_id <> $2)",
);
const MODERATORS: Sql = Sql::same(
    "SELECT u.id, u.username, u.display_name FROM pandal_moderators m JOIN users u ON u.id = m.user_id \
     WHERE m.pandal_id = $1 ORDER BY u.username",
);
const IS_MODERATOR: Sql = Sql::same("SELECT 1 FROM pandal_moderators WHERE pandal_id = $1 AND user_id = $2");
const MODERATED_BY: Sql =
    Sql::same("SELECT pandal_id FROM pandal_moderators WHERE user_id = $1 ORDER BY pandal_id LIMIT 1000");
const INSERT_REPORT: Sql = Sql::same(
    "INSERT INTO reports (target_kind, target_id, album_id, reason, note, reporter_id, reporter, created_at) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (target_kind, target_id, reporter) WHERE status = 'open' \
     DO NOTHING",
);
macro_rules! report_select {
    ($tail:literal) => {
        Sql::same(concat!(
            "SELECT r.id, r.target_kind, r.target_id, r.album_id, r.reason, r.note, r.reporter_id IS NOT NULL, \
             r.status, r.created_at FROM reports r ",
            $tail
        ))
    };
}
const REPORT_BY_ID: Sql = report_select!("WHERE r.id = $1");
/// Open reports for an admin: all of them but those on private albums (a person's
/// private album is theirs alone; an admin cannot act there either).
const OPEN_ALL: Sql = report_select!(
    "JOIN albums a ON a.id = r.album_id WHERE r.status = 'open' AND a.visibility <> 'private' AND r.id < $1 \
     ORDER BY r.id DESC LIMIT $2"
);
/// Open reports for anybody else: on their own albums, and on the albums (not
/// private) of the pandals they moderate.
const OPEN_FOR: Sql = report_select!(
    "JOIN albums a ON a.id = r.album_id WHERE r.status = 'open' AND r.id < $2 AND (a.owner_id = $1 OR \
     (a.visibility <> 'private' AND a.pandal_id IN (SELECT pandal_id FROM pandal_moderators WHERE user_id = $1))) \
     ORDER BY r.id DESC LIMIT $3"
);
/// Closed reports past their keeping time, a batch at a time.
const PURGE_CLOSED: Sql = Sql::same(
    "DELETE FROM reports WHERE id IN (SELECT id FROM reports WHERE status <> 'open' AND resolved_at < $1 LIMIT $2)",
);
const CLOSE: Sql = Sql::same(
    "UPDATE reports SET status = $3, resolved_by = $4, resolved_at = $5 \
     WHERE target_kind = $1 AND target_id = $2 AND status = 'open'",
);

fn report_from(r: &dyn Row) -> Result<Report, DbError> {
    Ok(Report {
        id: r.int(0)?,
        target_kind: r.text(1)?,
        target_id: r.int(2)?,
        album_id: r.int(3)?,
        reason: r.text(4)?,
        note: r.text(5)?,
        by_member: r.bool(6)?,
        status: r.text(7)?,
        created_at: r.time(8)?,
    })
}

fn user_ref_from(r: &dyn Row) -> Result<UserRef, DbError> {
    Ok(UserRef { id: r.int(0)?, username: r.text(1)?, display_name: r.text(2)? })
}

fn one(_: &dyn Row) -> Result<(), DbError> {
    Ok(())
}

impl Database {
    /// Makes `user_id` a moderator of the pandal; whether they were not one already.
    pub async fn grant_moderator(&self, pandal_id: i64, user_id: i64, by: i64) -> Result<bool, DbError> {
        let params = params![pandal_id, user_id, by, OffsetDateTime::now_utc()];
        Ok(self.execute(GRANT, params).await? == 1)
    }

    /// Ends the role, and the upload links it made in the pandal's albums.
    pub async fn revoke_moderator(&self, pandal_id: i64, user_id: i64) -> Result<bool, DbError> {
        let revoked = self.execute(REVOKE, params![pandal_id, user_id]).await? == 1;
        self.execute(DROP_MODERATOR_LINKS, params![pandal_id, user_id]).await?;
        Ok(revoked)
    }

    pub async fn moderators(&self, pandal_id: i64) -> Result<Vec<UserRef>, DbError> {
        self.query(MODERATORS, params![pandal_id], user_ref_from).await
    }

    /// The pandals `user_id` moderates (at most a thousand).
    pub async fn moderated_by(&self, user_id: i64) -> Result<Vec<i64>, DbError> {
        self.query(MODERATED_BY, params![user_id], |r| r.int(0)).await
    }

    pub async fn is_moderator(&self, pandal_id: i64, user_id: i64) -> Result<bool, DbError> {
        Ok(self.query_opt(IS_MODERATOR, params![pandal_id, user_id], one).await?.is_some())
    }

    /// Files a report; `false` when the same reporter's report of it is still open.
    pub async fn create_report(&self, new: &NewReport) -> Result<bool, DbError> {
        let params = params![
            new.target_kind,
            new.target_id,
            new.album_id,
            new.reason.as_str(),
            new.note.as_str(),
            new.reporter_id,
            new.reporter.as_str(),
            OffsetDateTime::now_utc()
        ];
        Ok(self.execute(INSERT_REPORT, params).await? == 1)
    }

    pub async fn report(&self, id: i64) -> Result<Option<Report>, DbError> {
        self.query_opt(REPORT_BY_ID, params![id], report_from).await
    }

    /// Open reports `viewer` may act on (every one for an admin), newest first.
    pub async fn open_reports(&self, viewer: i64, admin: bool, page: PageRequest) -> Result<Page<Report>, DbError> {
        let (before, limit) = (before(page), fetch_limit(page));
        let items = if admin {
            self.query(OPEN_ALL, params![before, limit], report_from).await?
        } else {
            self.query(OPEN_FOR, params![viewer, before, limit], report_from).await?
        };
        Ok(paged(items, page, |r| r.id))
    }

    /// Deletes up to `batch` reports closed before `before`.
    pub async fn purge_closed_reports(&self, before: OffsetDateTime, batch: i64) -> Result<u64, DbError> {
        self.execute(PURGE_CLOSED, params![before, batch]).await
    }

    /// Closes every open report of a target as `status` (`removed` or `dismissed`).
    pub async fn close_reports(&self, kind: &str, target_id: i64, status: &str, by: i64) -> Result<u64, DbError> {
        self.execute(CLOSE, params![kind, target_id, status, by, OffsetDateTime::now_utc()]).await
    }
}
