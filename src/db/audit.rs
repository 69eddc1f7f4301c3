//! The audit log: security and moderation events, appended as they happen (log-ins
//! and failed log-ins, password changes, account deletions, role grants, link
//! rotations, removals by moderators, command-line actions), read by admins a page
//! at a time, exported whole, and dropped past the retention. Nothing updates a row
//! (the migrations make an UPDATE fail).

use time::OffsetDateTime;

use super::query::{Row, Sql, params};
use super::{Database, DbError, Page, PageRequest};

/// Who did it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Actor {
    /// A person logged in (their id and username at the time).
    User { id: i64, name: String },
    /// Somebody not logged in (a failed log-in names what was typed, nothing more).
    Anonymous { name: String },
    /// `pujo admin ...` on the server.
    Cli,
}

/// One event as it is written.
#[derive(Debug, Clone)]
pub struct NewAuditEvent {
    pub actor: Actor,
    /// Dotted, past tense: `auth.login`, `auth.login_failed`, `account.password_changed`, ...
    pub action: &'static str,
    pub object_kind: &'static str,
    pub object_id: String,
    /// Truncated: IPv4 /24, IPv6 /48.
    pub client: String,
    pub request_id: String,
}

/// One event as it is read.
#[derive(Debug, Clone, PartialEq)]
pub struct AuditEvent {
    pub id: i64,
    pub at: OffsetDateTime,
    pub actor_kind: String,
    pub actor_id: Option<i64>,
    pub actor_name: String,
    pub action: String,
    pub object_kind: String,
    pub object_id: String,
    pub client: String,
    pub request_id: String,
}

/// What an admin filters the log by.
#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    pub action: Option<String>,
    pub actor_id: Option<i64>,
}

const INSERT: Sql = Sql::same(
    "INSERT INTO audit_events (at, actor_kind, actor_id, actor_name, action, object_kind, object_id, client, request_id) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
);
/// One statement per filter, so each can use its index (an `OR` of "no filter" and
/// "this value" cannot).
macro_rules! page_sql {
    ($where:literal) => {
        Sql::same(concat!(
            "SELECT id, at, actor_kind, actor_id, actor_name, action, object_kind, object_id, client, request_id \
             FROM audit_events WHERE id < $1",
            $where,
            " ORDER BY id DESC LIMIT $2"
        ))
    };
}
const PAGE_ALL: Sql = page_sql!("");
const PAGE_ACTION: Sql = page_sql!(" AND action = $3");
const PAGE_ACTOR: Sql = page_sql!(" AND actor_id = $3");
const PAGE_ACTION_ACTOR: Sql = page_sql!(" AND action = $3 AND actor_id = $4");
const SINCE: Sql = Sql::same(
    "SELECT id, at, actor_kind, actor_id, actor_name, action, object_kind, object_id, client, request_id \
     FROM audit_events WHERE id > $1 ORDER BY id LIMIT $2",
);
/// The oldest first, by the index on `at`.
const PURGE_OLD: Sql =
    Sql::same("DELETE FROM audit_events WHERE id IN (SELECT id FROM audit_events WHERE at < $1 ORDER BY at LIMIT $2)");
/// What is past the newest `$1` events, a batch at a time.
const PURGE_OVER: Sql = Sql::same(
    "DELETE FROM audit_events WHERE id IN (SELECT id FROM audit_events WHERE id <= \
     (SELECT id FROM audit_events ORDER BY id DESC LIMIT 1 OFFSET $1) ORDER BY id LIMIT $2)",
);

fn event_from(r: &dyn Row) -> Result<AuditEvent, DbError> {
    Ok(AuditEvent {
        id: r.int(0)?,
        at: r.time(1)?,
        actor_kind: r.text(2)?,
        actor_id: r.opt_int(3)?,
        actor_name: r.text(4)?,
        action: r.text(5)?,
        object_kind: r.text(6)?,
        object_id: r.text(7)?,
        client: r.text(8)?,
        request_id: r.text(9)?,
    })
}

impl Database {
    /// Appends one event, stamped now.
    pub async fn record_audit(&self, event: &NewAuditEvent) -> Result<(), DbError> {
        let (kind, id, name) = match &event.actor {
            Actor::User { id, name } => ("user", Some(*id), name.clone()),
            Actor::Anonymous { name } => ("anonymous", None, name.clone()),
            Actor::Cli => ("cli", None, String::new()),
        };
        self.execute(
            INSERT,
            params![
                OffsetDateTime::now_utc(),
                kind,
                id,
                name,
                event.action,
                event.object_kind,
                event.object_id.clone(),
                event.client.clone(),
                event.request_id.clone(),
            ],
        )
        .await?;
        Ok(())
    }

    /// A page of the log, newest first.
    pub async fn audit_page(&self, filter: &AuditFilter, page: PageRequest) -> Result<Page<AuditEvent>, DbError> {
        let limit = i64::try_from(page.limit).unwrap_or(100) + 1;
        let before = page.before.unwrap_or(i64::MAX);
        let mut items = match (filter.action.clone(), filter.actor_id) {
            (None, None) => self.query(PAGE_ALL, params![before, limit], event_from).await?,
            (Some(action), None) => self.query(PAGE_ACTION, params![before, limit, action], event_from).await?,
            (None, Some(actor)) => self.query(PAGE_ACTOR, params![before, limit, actor], event_from).await?,
            (Some(action), Some(actor)) => {
                self.query(PAGE_ACTION_ACTOR, params![before, limit, action, actor], event_from).await?
            }
        };
        let next = (items.len() > page.limit).then(|| {
            items.truncate(page.limit);
            items.last().map_or(0, |e| e.id)
        });
        Ok(Page { items, next })
    }

    /// Up to `limit` events after id `after`, oldest first (for the export).
    pub async fn audit_after(&self, after: i64, limit: i64) -> Result<Vec<AuditEvent>, DbError> {
        self.query(SINCE, params![after, limit], event_from).await
    }

    /// Deletes up to `batch` events older than `before`; how many went.
    pub async fn purge_audit(&self, before: OffsetDateTime, batch: i64) -> Result<u64, DbError> {
        self.execute(PURGE_OLD, params![before, batch]).await
    }

    /// Deletes up to `batch` of the events past the newest `keep`; how many went.
    pub async fn trim_audit(&self, keep: i64, batch: i64) -> Result<u64, DbError> {
        self.execute(PURGE_OVER, params![keep, batch]).await
    }
}
