//! SQLite inside the binary: one file in the data folder, WAL with `synchronous=FULL`,
//! every call on the blocking pool so the async threads never wait on disk.

use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use rusqlite::{Connection, ErrorCode};

use super::query::{Decode, Value, lite_placeholders};
use super::{DbError, Migrated, conflict};

mod embedded {
    refinery::embed_migrations!("migrations/sqlite");
}

pub struct Lite {
    /// The one connection that writes (and runs migrations).
    conn: Arc<Mutex<Connection>>,
    /// Read-only connections for the shared statements that only read: WAL lets them
    /// read while the writer writes, so a slow write no longer queues every page view.
    readers: Arc<Vec<Mutex<Connection>>>,
    next_reader: AtomicUsize,
    queries: prometheus::IntCounter,
}

/// Whether a statement only reads: SQLite has no data-modifying `WITH`, so a statement
/// that starts with SELECT or WITH cannot write. (A write sent to a reader would fail
/// loudly: readers are opened read-only.)
fn reads_only(sql: &str) -> bool {
    let head = sql.trim_start().get(..6).unwrap_or("");
    head.eq_ignore_ascii_case("select") || head.get(..4).is_some_and(|h| h.eq_ignore_ascii_case("with"))
}

fn classify(e: rusqlite::Error) -> DbError {
    if let rusqlite::Error::SqliteFailure(failure, message) = &e {
        let message = message.as_deref().unwrap_or("");
        match failure.code {
            ErrorCode::ConstraintViolation if message.contains("UNIQUE") => {
                return conflict(&unique_index(message));
            }
            ErrorCode::ConstraintViolation if message.contains("FOREIGN KEY") => return DbError::Gone,
            ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked => return DbError::Unavailable(e.to_string()),
            _ => {}
        }
    }
    DbError::Other(e.to_string())
}

/// The index a SQLite unique violation names: "UNIQUE constraint failed: index
/// 'users_email_key'" for an index on expressions, "UNIQUE constraint failed:
/// photos.album_id, photos.sha256" for one on columns (named here as PostgreSQL names
/// the same index).
fn unique_index(message: &str) -> String {
    if let Some((_, name)) = message.split_once("index '") {
        return name.trim_end_matches('\'').to_owned();
    }
    match message.rsplit_once(": ").map_or(message, |(_, columns)| columns) {
        "photos.album_id, photos.sha256" => "photos_album_sha256_key".to_owned(),
        columns => columns.to_owned(),
    }
}

/// How many migrations this binary knows.
pub(super) fn known_version() -> u32 {
    u32::try_from(embedded::migrations::runner().get_migrations().len()).unwrap_or(u32::MAX)
}

/// A database file opened read-only (a backup's copy: nothing in it changes).
pub(super) fn open_read_only(path: &Path) -> Result<Connection, DbError> {
    let flags = rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX;
    Connection::open_with_flags(path, flags).map_err(|e| DbError::Other(format!("cannot open {}: {e}", path.display())))
}

/// A database file's schema version, counts and photo contents.
pub(super) type FileFacts = (u32, [i64; 4], Vec<Vec<u8>>);

/// What a backup's database file holds, read in one opening (read-only) after
/// `PRAGMA quick_check`: its schema version, the four counts `counts` reads, and with
/// `originals` the `sha256` of every photo.
pub(super) fn file_facts(path: &Path, counts: &str, originals: bool) -> Result<FileFacts, DbError> {
    let conn = open_read_only(path)?;
    let check: String = conn.query_row("PRAGMA quick_check", [], |r| r.get(0)).map_err(classify)?;
    if check != "ok" {
        return Err(DbError::Other(format!("{} is damaged: {check}", path.display())));
    }
    let version: i64 = conn
        .query_row("SELECT coalesce(max(version), 0) FROM refinery_schema_history", [], |r| r.get(0))
        .map_err(classify)?;
    let counted = conn.query_row(counts, [], |r| Ok([r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?])).map_err(classify)?;
    let mut hashes = Vec::new();
    if originals {
        let mut statement = conn.prepare(super::dump::PHOTO_CONTENTS).map_err(classify)?;
        let rows = statement.query_map([], |r| r.get::<_, Vec<u8>>(0)).map_err(classify)?;
        hashes = rows.collect::<Result<_, _>>().map_err(classify)?;
    }
    Ok((u32::try_from(version).unwrap_or(0), counted, hashes))
}

impl Lite {
    /// A consistent copy of the whole database into the new file `to` (`VACUUM INTO`:
    /// one read transaction, so writers go on meanwhile).
    pub async fn snapshot(&self, to: &Path) -> Result<(), DbError> {
        let target = to.to_str().ok_or_else(|| DbError::Other(format!("{} is not UTF-8", to.display())))?.to_owned();
        self.with_reader(move |conn| {
            conn.execute("VACUUM INTO ?1", [&target]).map_err(classify)?;
            Ok(())
        })
        .await?;
        let to = to.to_owned();
        tokio::task::spawn_blocking(move || {
            // Resumable uploads in progress and content locks are not kept (their bytes
            // and holders are not in a backup); see `dump::NOT_DUMPED`.
            let conn =
                Connection::open(&to).map_err(|e| DbError::Other(format!("cannot open {}: {e}", to.display())))?;
            conn.execute_batch("DELETE FROM uploads; DELETE FROM content_locks; VACUUM").map_err(classify)
        })
        .await
        .map_err(|e| DbError::Other(e.to_string()))?
    }

    pub async fn open(path: &Path) -> Result<Lite, DbError> {
        let path = path.to_owned();
        let writer_path = path.clone();
        let conn = tokio::task::spawn_blocking(move || -> rusqlite::Result<Connection> {
            let conn = Connection::open(&writer_path)?;
            conn.pragma_update(None, "journal_mode", "WAL")?;
            conn.pragma_update(None, "synchronous", "FULL")?;
            conn.pragma_update(None, "foreign_keys", "ON")?;
            conn.busy_timeout(std::time::Duration::from_secs(5))?;
            Ok(conn)
        })
        .await
        .map_err(|e| DbError::Other(e.to_string()))?
        .map_err(|e| DbError::Unavailable(format!("cannot open the database file: {e}")))?;
        let count = std::thread::available_parallelism().map_or(2, std::num::NonZero::get).clamp(2, 8);
        let readers = tokio::task::spawn_blocking(move || -> rusqlite::Result<Vec<Mutex<Connection>>> {
            (0..count)
                .map(|_| {
                    let flags = rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX;
                    let reader = Connection::open_with_flags(&path, flags)?;
                    reader.busy_timeout(std::time::Duration::from_secs(5))?;
                    Ok(Mutex::new(reader))
                })
                .collect()
        })
        .await
        .map_err(|e| DbError::Other(e.to_string()))?
        .map_err(|e| DbError::Unavailable(format!("cannot open the database file for reading: {e}")))?;
        Ok(Lite {
            conn: Arc::new(Mutex::new(conn)),
            readers: Arc::new(readers),
            next_reader: AtomicUsize::new(0),
            queries: super::detached_counter(),
        })
    }

    pub fn count_queries_in(&mut self, counter: prometheus::IntCounter) {
        self.queries = counter;
    }

    /// Runs `f` with the connection on the blocking pool.
    async fn with<T, F>(&self, f: F) -> Result<T, DbError>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection) -> Result<T, DbError> + Send + 'static,
    {
        self.queries.inc();
        let conn = self.conn.clone();
        tokio::task::spawn_blocking(move || {
            let mut conn = conn.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            f(&mut conn)
        })
        .await
        .map_err(|e| DbError::Other(format!("database task failed: {e}")))?
    }

    /// Runs `f` with a read-only connection on the blocking pool: the first one free,
    /// starting from the next in turn, else the next in turn when it frees up.
    async fn with_reader<T, F>(&self, f: F) -> Result<T, DbError>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection) -> Result<T, DbError> + Send + 'static,
    {
        self.queries.inc();
        let readers = self.readers.clone();
        let start = self.next_reader.fetch_add(1, Ordering::Relaxed);
        tokio::task::spawn_blocking(move || {
            let n = readers.len();
            for i in 0..n {
                if let Ok(mut conn) = readers[(start + i) % n].try_lock() {
                    return f(&mut conn);
                }
            }
            let mut conn = readers[start % n].lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            f(&mut conn)
        })
        .await
        .map_err(|e| DbError::Other(format!("database task failed: {e}")))?
    }

    pub async fn migrate(&self) -> Result<Migrated, DbError> {
        self.with(|conn| {
            let report = embedded::migrations::runner()
                .set_abort_divergent(true)
                // A newer schema than this binary (rolling back a release) is fine: migrations
                // only add, so an older binary keeps working on it.
                .set_abort_missing(false)
                .run(conn)
                .map_err(|e| DbError::Migration(e.to_string()))?;
            let version: i64 = conn
                .query_row("SELECT coalesce(max(version), 0) FROM refinery_schema_history", [], |r| r.get(0))
                .map_err(classify)?;
            Ok(Migrated {
                applied_now: report.applied_migrations().iter().map(ToString::to_string).collect(),
                version: u32::try_from(version).unwrap_or(0),
            })
        })
        .await
    }

    pub async fn check_schema(&self) -> Result<(), DbError> {
        let known = known_version();
        let applied = self
            .with(|conn| {
                conn.query_row("SELECT count(*) FROM refinery_schema_history", [], |r| r.get::<_, i64>(0))
                    .map_err(classify)
            })
            .await?;
        let applied = u32::try_from(applied).unwrap_or(0);
        if applied < known {
            return Err(DbError::SchemaBehind { applied, known });
        }
        Ok(())
    }

    pub async fn ping(&self) -> Result<(), DbError> {
        self.with(|conn| conn.query_row("SELECT 1", [], |_| Ok(())).map_err(classify)).await
    }

    /// Runs one statement (written with `$n` placeholders) and decodes its rows.
    pub async fn query<T: Send + 'static>(
        &self,
        sql: &'static str,
        params: Vec<Value>,
        decode: Decode<T>,
    ) -> Result<Vec<T>, DbError> {
        let run = move |conn: &mut Connection| {
            let mut statement = conn.prepare_cached(lite_placeholders(sql)).map_err(classify)?;
            let mut rows =
                statement.query(rusqlite::params_from_iter(params.iter().map(Value::to_lite))).map_err(classify)?;
            let mut out = Vec::new();
            while let Some(row) = rows.next().map_err(classify)? {
                out.push(decode(row)?);
            }
            Ok(out)
        };
        if reads_only(sql) { self.with_reader(run).await } else { self.with(run).await }
    }

    /// Runs one statement and returns how many rows it changed.
    pub async fn execute(&self, sql: &'static str, params: Vec<Value>) -> Result<u64, DbError> {
        self.with(move |conn| {
            let mut statement = conn.prepare_cached(lite_placeholders(sql)).map_err(classify)?;
            let n =
                statement.execute(rusqlite::params_from_iter(params.iter().map(Value::to_lite))).map_err(classify)?;
            Ok(n as u64)
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unique_violations_name_the_index_as_postgres_does() {
        assert_eq!(unique_index("UNIQUE constraint failed: index 'users_email_key'"), "users_email_key");
        assert_eq!(unique_index("UNIQUE constraint failed: photos.album_id, photos.sha256"), "photos_album_sha256_key");
        assert_eq!(unique_index("UNIQUE constraint failed: albums.link_key"), "albums.link_key");
    }

    #[test]
    fn only_selects_and_withs_go_to_the_readers() {
        assert!(reads_only("SELECT 1"));
        assert!(reads_only("\n  select id FROM photos"));
        assert!(reads_only("WITH page AS (SELECT 1) SELECT * FROM page"));
        assert!(!reads_only("INSERT INTO albums (title) VALUES ($1) RETURNING id"));
        assert!(!reads_only("UPDATE photos SET caption = $1"));
        assert!(!reads_only("DELETE FROM likes"));
        assert!(!reads_only("SEL"));
    }

    #[test]
    fn statements_are_spelled_for_sqlite_once() {
        static SQL: &str = "SELECT id FROM photos WHERE album_id = $1 AND id < $2";
        let first = lite_placeholders(SQL);
        assert_eq!(first, "SELECT id FROM photos WHERE album_id = ?1 AND id < ?2");
        assert!(std::ptr::eq(first, lite_placeholders(SQL)), "kept, not spelled again");
        assert_eq!(lite_placeholders("SELECT 1"), "SELECT 1", "nothing to spell");
    }
}
