//! The database: PostgreSQL in production, SQLite inside the binary by default.
//!
//! Every SQL statement lives under this module, once per dialect (`postgres.rs`,
//! `sqlite.rs`); the rest of Pujo calls the methods of [`Database`] and never sees SQL,
//! rows or drivers. Both backends pass the same conformance tests
//! (`tests/it/db_conformance.rs`).

mod accounts;
mod audit;
mod content;
pub mod dump;
mod guests;
mod model;
mod moderation;
mod moving;
mod postgres;
pub(crate) mod query;
mod shares;
mod sqlite;
mod text;
mod uploads;

pub use audit::{Actor, AuditEvent, AuditFilter, NewAuditEvent};
pub use content::{NOBODY, SEARCH_NEWEST};
pub use guests::{NewPendingPhoto, NewUploadLink, PendingPhoto, UPLOAD_LINKS_PER_ALBUM, UploadLink};
pub use model::*;
pub use moderation::{NewReport, Report};
pub use moving::MovedTable;
pub use postgres::Listener;
pub use shares::{NewShareLink, SHARE_LINKS_PER_ALBUM, ShareLink};
pub use text::{query_group, word_groups};
pub use uploads::{Ack, GuestSender, Upload};

use std::time::Duration;

use time::OffsetDateTime;

/// A database failure, by what the caller can do about it.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    /// The database cannot be reached or timed out; the request may be retried.
    #[error("database unavailable: {0}")]
    Unavailable(String),
    /// A unique value is taken; `field` names it (`username`, `email`).
    #[error("{field} is already taken")]
    Conflict { field: &'static str },
    /// A row the change refers to is gone (deleted meanwhile): a foreign key failed.
    #[error("a row this change refers to no longer exists")]
    Gone,
    /// The schema is older than this binary; `pujo migrate` brings it up to date.
    #[error("the database schema is behind this binary ({applied} of {known} migrations applied); run `pujo migrate`")]
    SchemaBehind { applied: u32, known: u32 },
    #[error("database migration failed: {0}")]
    Migration(String),
    #[error("database error: {0}")]
    Other(String),
}

/// Which backend, chosen by `PUJO_DATABASE_URL`.
pub enum Database {
    Postgres(postgres::Pg),
    Sqlite(sqlite::Lite),
}

impl std::fmt::Debug for Database {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.backend())
    }
}

/// A write made together with its announcement on the cache bus
/// (`postgres::Pg::query_announcing`): the write's outcome, and the announcement's as
/// `Database::announce` gives it.
pub struct Announced<T> {
    pub write: Result<T, DbError>,
    pub note: Result<Option<u64>, DbError>,
}

impl<T> Announced<T> {
    /// A write with SQLite: one process, nothing to announce beyond it.
    pub(crate) fn local(write: Result<T, DbError>) -> Announced<T> {
        Announced { write, note: Ok(None) }
    }
}

impl<T> Announced<Vec<T>> {
    /// The write's first row; `Gone` when it returned none (its subject was deleted).
    pub(crate) fn first_row(self) -> Announced<T> {
        Announced { write: self.write.and_then(|rows| rows.into_iter().next().ok_or(DbError::Gone)), note: self.note }
    }
}

/// What `migrate` did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Migrated {
    pub applied_now: Vec<String>,
    pub version: u32,
}

impl Database {
    /// Opens the configured database (creating the SQLite file if needed) without
    /// migrating it; see [`Database::is_embedded`] for who migrates when.
    pub async fn open(settings: &DbSettings, data_dir: &std::path::Path) -> Result<Database, DbError> {
        match &settings.url {
            Some(url) => Ok(Database::Postgres(postgres::Pg::connect(url, settings).await?)),
            None => Ok(Database::Sqlite(sqlite::Lite::open(&data_dir.join("pujo.db")).await?)),
        }
    }

    /// The embedded SQLite file belongs to this one process, so `pujo serve` migrates it
    /// at start; Postgres is shared by replicas and migrates only as a deploy step
    /// (`pujo migrate` or `pujo serve --migrate`).
    pub fn is_embedded(&self) -> bool {
        matches!(self, Database::Sqlite(_))
    }

    pub fn backend(&self) -> &'static str {
        match self {
            Database::Postgres(_) => "postgres",
            Database::Sqlite(_) => "sqlite",
        }
    }

    /// Applies pending migrations. On Postgres an advisory lock makes replicas that
    /// start together take turns; the second finds nothing left to do.
    pub async fn migrate(&self) -> Result<Migrated, DbError> {
        match self {
            Database::Postgres(db) => db.migrate().await,
            Database::Sqlite(db) => db.migrate().await,
        }
    }

    /// Errors with `SchemaBehind` when migrations this binary knows are not applied.
    pub async fn check_schema(&self) -> Result<(), DbError> {
        match self {
            Database::Postgres(db) => db.check_schema().await,
            Database::Sqlite(db) => db.check_schema().await,
        }
    }

    /// A round trip to the database, for `/ready`.
    pub async fn ping(&self) -> Result<(), DbError> {
        match self {
            Database::Postgres(db) => db.ping().await,
            Database::Sqlite(db) => db.ping().await,
        }
    }

    /// Deletes up to `batch` expired sessions; how many went.
    pub async fn purge_sessions(&self, batch: i64) -> Result<u64, DbError> {
        self.execute(query::PURGE_SESSIONS, query::params![OffsetDateTime::now_utc(), batch]).await
    }

    /// Counts every database call (one pooled connection each: one statement or one
    /// transaction) in `counter`, the `db_queries_total` metric.
    pub fn count_queries_in(&mut self, counter: prometheus::IntCounter) {
        match self {
            Database::Postgres(db) => db.count_queries_in(counter),
            Database::Sqlite(db) => db.count_queries_in(counter),
        }
    }

    /// Pooled connections idle and in use, and the pool's maximum (SQLite has one).
    pub fn pool_state(&self) -> (usize, usize, usize) {
        match self {
            Database::Postgres(db) => db.pool_state(),
            Database::Sqlite(_) => (1, 0, 1),
        }
    }

    /// Announces a write on the cache bus (`src/cache/bus.rs`): its number from
    /// PostgreSQL, or `None` with SQLite, where this process is the only one.
    pub async fn announce(&self, tags: &str) -> Result<Option<u64>, DbError> {
        match self {
            Database::Postgres(db) => db.announce(tags).await.map(Some),
            Database::Sqlite(_) => Ok(None),
        }
    }

    /// A connection listening to the cache bus (PostgreSQL only).
    pub async fn listen(&self) -> Result<Listener, DbError> {
        match self {
            Database::Postgres(db) => db.listen().await,
            Database::Sqlite(_) => {
                Err(DbError::Other("SQLite has no listener; the process hears its own writes".into()))
            }
        }
    }
}

/// A counter no registry reads, until `count_queries_in` replaces it.
fn detached_counter() -> prometheus::IntCounter {
    prometheus::IntCounter::new("db_queries_total", "unregistered").expect("valid metric")
}

/// Which database, and pool and timeout settings for PostgreSQL.
#[derive(Debug, Clone)]
pub struct DbSettings {
    /// PostgreSQL URL; `None` selects SQLite in the data folder.
    pub url: Option<String>,
    pub pool_size: usize,
    pub connect_timeout: Duration,
    pub statement_timeout: Duration,
    /// CA certificates for TLS to PostgreSQL; `None` trusts the system's roots.
    pub ca_file: Option<std::path::PathBuf>,
}

/// A unique violation, by the exact name of the index it broke, as the field a person
/// would recognise. The names are the migrations'; any other index (one nobody can
/// run into by choosing a value, such as an album's random link key) is a fault, not a
/// guess at a field.
fn conflict(index: &str) -> DbError {
    let field = match index {
        "users_username_key" => "username",
        "users_email_key" => "email",
        "pandals_identity_key" => "name",
        // The same bytes twice in one album: only a move (PATCH album_id) gets here,
        // since uploads answer with the photo already there.
        "photos_album_sha256_key" => "album_id",
        _ => return DbError::Other(format!("unique index {index} violated")),
    };
    DbError::Conflict { field }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unique_violations_name_their_field_by_the_exact_index_and_nothing_else() {
        assert!(matches!(conflict("users_username_key"), DbError::Conflict { field: "username" }));
        assert!(matches!(conflict("users_email_key"), DbError::Conflict { field: "email" }));
        assert!(matches!(conflict("pandals_identity_key"), DbError::Conflict { field: "name" }));
        assert!(matches!(conflict("photos_album_sha256_key"), DbError::Conflict { field: "album_id" }));
        assert!(matches!(conflict("albums_link_key"), DbError::Other(_)), "not a guess of `username`");
        assert!(matches!(conflict(""), DbError::Other(_)));
    }
}
