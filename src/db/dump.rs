//! Whole-database copies, for `pujo backup` and `pujo restore` (`src/backup.rs`).
//!
//! - SQLite: one consistent file made by `VACUUM INTO` while the server keeps
//!   writing (WAL lets both go on); never a copy of the live file, which may be
//!   mid-checkpoint.
//! - PostgreSQL: every table of Pujo's schema as CSV (`COPY ... TO STDOUT`, the
//!   format PostgreSQL documents; no `pg_dump` binary needed), all read in one
//!   `REPEATABLE READ` transaction so the tables agree with each other, plus where
//!   each sequence stands. Restoring recreates the schema at the backup's version,
//!   loads every table in one transaction (foreign keys dropped and added back, so
//!   they are checked once, at the end), sets the sequences, then migrates forward.

use std::path::Path;

use futures_util::{SinkExt, StreamExt};
use serde::{Deserialize, Serialize};
use tokio::io::AsyncWriteExt;

use super::{Database, DbError};

/// One table of a PostgreSQL dump: its file holds `columns` (the stored ones, in
/// order; generated columns are computed again on load) as CSV without a header.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct DumpedTable {
    pub name: String,
    pub columns: Vec<String>,
    pub rows: u64,
}

/// A sequence and where it stood (`is_called` false: `nextval` gives `value` itself).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct DumpedSequence {
    pub name: String,
    pub value: i64,
    pub is_called: bool,
}

/// What a PostgreSQL dump holds besides the tables' files.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct PgDump {
    pub schema_version: u32,
    pub tables: Vec<DumpedTable>,
    pub sequences: Vec<DumpedSequence>,
}

/// A PostgreSQL dump and, read in the same snapshot, the contents (sha256) of every
/// photo (the originals a backup must hold) and the counts.
#[derive(Debug)]
pub struct Snapshot {
    pub dump: PgDump,
    pub originals: Vec<Vec<u8>>,
    pub summary: Summary,
}

/// How much a database holds, for the end of a backup or a restore.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, Default)]
pub struct Summary {
    pub users: u64,
    pub albums: u64,
    pub photos: u64,
    pub comments: u64,
}

const SUMMARY: &str = "SELECT (SELECT count(*) FROM users), (SELECT count(*) FROM albums), \
                       (SELECT count(*) FROM photos), (SELECT count(*) FROM comments)";

/// The originals a backup must hold: photos', and those of guests' photos waiting
/// for review (approved after a restore, they must find their blobs).
pub(super) const PHOTO_CONTENTS: &str = "SELECT sha256 FROM photos UNION SELECT sha256 FROM pending_photos";

/// Tables not dumped: the migration tool's bookkeeping (the schema is recreated by
/// migrating, so its history is too), resumable uploads in progress (their bytes are
/// in the data folder's partial files or the bucket's `partial/`, which a backup does
/// not keep) and content locks (held only while a request runs).
pub(super) const NOT_DUMPED: [&str; 3] = ["refinery_schema_history", "uploads", "content_locks"];

/// What a dump and a load set for their own transaction, as pg_dump does: text that
/// reads back the same whatever the server's or database's defaults.
const STABLE_TEXT: &str = "SET LOCAL statement_timeout = 0; SET LOCAL datestyle = 'ISO, YMD'; \
                           SET LOCAL timezone = 'UTC'; SET LOCAL extra_float_digits = 3; \
                           SET LOCAL intervalstyle = 'postgres'";

/// How many migrations this binary knows (both dialects have the same list).
pub fn known_schema_version() -> u32 {
    super::sqlite::known_version()
}

/// What a SQLite file made by [`Database::snapshot_sqlite`] holds.
#[derive(Debug)]
pub struct SqliteFile {
    pub schema_version: u32,
    pub summary: Summary,
    /// The contents (sha256) of every photo, when asked for: the originals a backup
    /// must hold.
    pub originals: Vec<Vec<u8>>,
}

/// Reads a SQLite file made by [`Database::snapshot_sqlite`], read-only (nothing in it
/// changes), after SQLite's own consistency check.
pub async fn read_sqlite_file(path: &Path, originals: bool) -> Result<SqliteFile, DbError> {
    let path = path.to_owned();
    let (schema_version, counts, originals) =
        tokio::task::spawn_blocking(move || super::sqlite::file_facts(&path, SUMMARY, originals))
            .await
            .map_err(|e| DbError::Other(e.to_string()))??;
    let [users, albums, photos, comments] = counts.map(|v| u64::try_from(v).unwrap_or(0));
    Ok(SqliteFile { schema_version, summary: Summary { users, albums, photos, comments }, originals })
}

impl Database {
    /// SQLite only: a consistent copy of the whole database in the file `to` (which
    /// must not exist).
    pub async fn snapshot_sqlite(&self, to: &Path) -> Result<(), DbError> {
        match self {
            Database::Sqlite(db) => db.snapshot(to).await,
            Database::Postgres(_) => Err(DbError::Other("a PostgreSQL database is dumped, not copied".into())),
        }
    }

    /// Counts of what people made, for summaries.
    pub async fn summary(&self) -> Result<Summary, DbError> {
        let decode: super::query::Decode<Summary> = |row| {
            let n = |i: usize| row.int(i).map(|v| u64::try_from(v).unwrap_or(0));
            Ok(Summary { users: n(0)?, albums: n(1)?, photos: n(2)?, comments: n(3)? })
        };
        let rows = match self {
            Database::Postgres(db) => db.query(SUMMARY, &[], decode).await?,
            Database::Sqlite(db) => db.query(SUMMARY, Vec::new(), decode).await?,
        };
        Ok(rows.into_iter().next().unwrap_or_default())
    }

    /// PostgreSQL only: every table as `<dir>/<table>.csv`, from one snapshot, with
    /// what else the backup needs to know of that snapshot.
    pub async fn dump_postgres(&self, dir: &Path) -> Result<Snapshot, DbError> {
        match self {
            Database::Postgres(db) => db.dump(dir).await,
            Database::Sqlite(_) => Err(DbError::Other("a SQLite database is copied, not dumped".into())),
        }
    }

    /// PostgreSQL only: whether nothing of Pujo's is in the database yet: no schema, or
    /// a schema no row has been written to (what an interrupted restore leaves).
    pub async fn postgres_is_empty(&self) -> Result<bool, DbError> {
        match self {
            Database::Postgres(db) => db.is_empty().await,
            Database::Sqlite(_) => Err(DbError::Other("not a PostgreSQL database".into())),
        }
    }

    /// PostgreSQL only: loads a dump made by [`Database::dump_postgres`] into an empty
    /// database (see [`Database::postgres_is_empty`]), at the dump's schema version;
    /// the caller migrates forward after.
    pub async fn restore_postgres(&self, dir: &Path, dump: &PgDump) -> Result<(), DbError> {
        match self {
            Database::Postgres(db) => db.restore(dir, dump).await,
            Database::Sqlite(_) => Err(DbError::Other("not a PostgreSQL database".into())),
        }
    }
}

/// A name as an SQL identifier, quoted. Names come from the catalog or a manifest;
/// only plain ones are accepted, so nothing odd reaches a statement.
pub(super) fn ident(name: &str) -> Result<String, DbError> {
    let plain = !name.is_empty()
        && name.len() <= 63
        && name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
        && !name.as_bytes()[0].is_ascii_digit();
    if plain { Ok(format!("\"{name}\"")) } else { Err(DbError::Other(format!("unexpected name {name:?} in a dump"))) }
}

/// Pujo's tables in the current schema that a dump holds, by name.
async fn dumped_tables(client: &impl tokio_postgres::GenericClient) -> Result<Vec<String>, DbError> {
    let rows = client
        .query(
            "SELECT table_name::text FROM information_schema.tables \
             WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' ORDER BY table_name",
            &[],
        )
        .await
        .map_err(super::postgres::classify)?;
    Ok(rows.iter().map(|r| r.get::<_, String>(0)).filter(|n| !NOT_DUMPED.contains(&n.as_str())).collect())
}

fn columns_sql(columns: &[String]) -> Result<String, DbError> {
    Ok(columns.iter().map(|c| ident(c)).collect::<Result<Vec<_>, _>>()?.join(", "))
}

fn io(e: std::io::Error) -> DbError {
    DbError::Other(format!("dump file: {e}"))
}

impl super::postgres::Pg {
    async fn dump(&self, dir: &Path) -> Result<Snapshot, DbError> {
        use super::postgres::classify;
        let mut object = self.client().await?;
        let client: &mut tokio_postgres::Client = &mut object;
        let tx = client
            .build_transaction()
            .isolation_level(tokio_postgres::IsolationLevel::RepeatableRead)
            .read_only(true)
            .start()
            .await
            .map_err(classify)?;
        // A large table takes longer than a request may.
        tx.batch_execute(STABLE_TEXT).await.map_err(classify)?;
        let schema_version: i32 = tx
            .query_one("SELECT coalesce(max(version), 0) FROM refinery_schema_history", &[])
            .await
            .map_err(classify)?
            .get(0);
        let names = dumped_tables(&tx).await?;
        let mut tables = Vec::new();
        for name in names {
            let columns: Vec<String> = tx
                .query(
                    "SELECT column_name::text FROM information_schema.columns \
                     WHERE table_schema = current_schema() AND table_name = $1 AND is_generated = 'NEVER' \
                     ORDER BY ordinal_position",
                    &[&name],
                )
                .await
                .map_err(classify)?
                .iter()
                .map(|r| r.get(0))
                .collect();
            let (table, cols) = (ident(&name)?, columns_sql(&columns)?);
            let rows: i64 = tx.query_one(&format!("SELECT count(*) FROM {table}"), &[]).await.map_err(classify)?.get(0);
            let stream =
                tx.copy_out(&format!("COPY {table} ({cols}) TO STDOUT (FORMAT csv)")).await.map_err(classify)?;
            let mut stream = std::pin::pin!(stream);
            let mut file = tokio::fs::File::create(dir.join(format!("{name}.csv"))).await.map_err(io)?;
            while let Some(chunk) = stream.next().await {
                file.write_all(&chunk.map_err(classify)?).await.map_err(io)?;
            }
            file.sync_all().await.map_err(io)?;
            tables.push(DumpedTable { name, columns, rows: u64::try_from(rows).unwrap_or(0) });
        }
        let sequences = tx
            .query(
                "SELECT c.relname::text, s.last_value, s.is_called FROM pg_class c \
                 JOIN pg_namespace n ON n.oid = c.relnamespace, LATERAL pg_sequence_last_value(c.oid) v(x), \
                 LATERAL (SELECT coalesce(v.x, q.seqstart) AS last_value, v.x IS NOT NULL AS is_called \
                          FROM pg_sequence q WHERE q.seqrelid = c.oid) s \
                 WHERE c.relkind = 'S' AND n.nspname = current_schema() ORDER BY 1",
                &[],
            )
            .await
            .map_err(classify)?
            .iter()
            .map(|r| DumpedSequence { name: r.get(0), value: r.get(1), is_called: r.get(2) })
            .collect();
        let counts = tx.query_one(SUMMARY, &[]).await.map_err(classify)?;
        let n = |i: usize| u64::try_from(counts.get::<_, i64>(i)).unwrap_or(0);
        let summary = Summary { users: n(0), albums: n(1), photos: n(2), comments: n(3) };
        let originals =
            tx.query(PHOTO_CONTENTS, &[]).await.map_err(classify)?.iter().map(|r| r.get::<_, Vec<u8>>(0)).collect();
        tx.commit().await.map_err(classify)?;
        let dump = PgDump { schema_version: u32::try_from(schema_version).unwrap_or(0), tables, sequences };
        Ok(Snapshot { dump, originals, summary })
    }

    /// The schema version applied, 0 when nothing was.
    async fn schema_version(&self) -> Result<u32, DbError> {
        use super::postgres::classify;
        let client = self.client().await?;
        let exists: bool = client
            .query_one("SELECT to_regclass('refinery_schema_history') IS NOT NULL", &[])
            .await
            .map_err(classify)?
            .get(0);
        if !exists {
            return Ok(0);
        }
        let version: i32 = client
            .query_one("SELECT coalesce(max(version), 0) FROM refinery_schema_history", &[])
            .await
            .map_err(classify)?
            .get(0);
        Ok(u32::try_from(version).unwrap_or(0))
    }

    async fn is_empty(&self) -> Result<bool, DbError> {
        use super::postgres::classify;
        let client = self.client().await?;
        let names = dumped_tables(&**client).await?;
        for name in names {
            let any: bool = client
                .query_one(&format!("SELECT EXISTS (SELECT 1 FROM {})", ident(&name)?), &[])
                .await
                .map_err(classify)?
                .get(0);
            if any {
                return Ok(false);
            }
        }
        Ok(true)
    }

    pub(super) async fn restore(&self, dir: &Path, dump: &PgDump) -> Result<(), DbError> {
        use super::postgres::classify;
        // Rows of an older schema loaded into a newer one would miss what the
        // migrations in between do to existing rows (fill a new column, count).
        let ahead = self.schema_version().await?;
        if ahead > dump.schema_version {
            return Err(DbError::Other(format!(
                "the database is already at schema version {ahead}, past the backup's {}; restore into a database \
                 nothing has migrated yet",
                dump.schema_version
            )));
        }
        self.migrate_to(Some(dump.schema_version)).await?;
        let mut object = self.client().await?;
        let client: &mut tokio_postgres::Client = &mut object;
        let tx = client.transaction().await.map_err(classify)?;
        tx.batch_execute(STABLE_TEXT).await.map_err(classify)?;
        // Foreign keys are checked once, when added back, rather than row by row in an
        // order the cycles (an album's cover is a photo of the album) would forbid.
        let keys: Vec<(String, String, String)> = tx
            .query(
                "SELECT c.conrelid::regclass::text, c.conname::text, pg_get_constraintdef(c.oid) FROM pg_constraint c \
                 JOIN pg_namespace n ON n.oid = c.connamespace \
                 WHERE c.contype = 'f' AND n.nspname = current_schema() ORDER BY 1, 2",
                &[],
            )
            .await
            .map_err(classify)?
            .iter()
            .map(|r| (r.get(0), r.get(1), r.get(2)))
            .collect();
        for (table, name, _) in &keys {
            tx.batch_execute(&format!("ALTER TABLE {} DROP CONSTRAINT {}", ident(table)?, ident(name)?))
                .await
                .map_err(classify)?;
        }
        for table in &dump.tables {
            let (name, cols) = (ident(&table.name)?, columns_sql(&table.columns)?);
            // A migration may have written rows of its own; the dump has them too. The
            // rows come back as they were, counts included: the triggers that keep
            // counts and search text as rows arrive would count them twice.
            tx.batch_execute(&format!("DELETE FROM {name}; ALTER TABLE {name} DISABLE TRIGGER USER"))
                .await
                .map_err(classify)?;
            let sink = tx.copy_in(&format!("COPY {name} ({cols}) FROM STDIN (FORMAT csv)")).await.map_err(classify)?;
            let mut sink = std::pin::pin!(sink);
            let file = tokio::fs::File::open(dir.join(format!("{}.csv", table.name))).await.map_err(io)?;
            let mut chunks = tokio_util::io::ReaderStream::with_capacity(file, 256 * 1024);
            while let Some(chunk) = chunks.next().await {
                sink.send(chunk.map_err(io)?).await.map_err(classify)?;
            }
            let loaded = sink.as_mut().finish().await.map_err(classify)?;
            if loaded != table.rows {
                return Err(DbError::Other(format!(
                    "{} holds {loaded} rows, the manifest says {}",
                    table.name, table.rows
                )));
            }
            tx.batch_execute(&format!("ALTER TABLE {name} ENABLE TRIGGER USER")).await.map_err(classify)?;
        }
        for (table, name, definition) in &keys {
            tx.batch_execute(&format!("ALTER TABLE {} ADD CONSTRAINT {} {definition}", ident(table)?, ident(name)?))
                .await
                .map_err(classify)?;
        }
        for sequence in &dump.sequences {
            tx.execute(
                "SELECT setval($1::text::regclass, $2, $3)",
                &[&ident(&sequence.name)?, &sequence.value, &sequence.is_called],
            )
            .await
            .map_err(classify)?;
        }
        tx.commit().await.map_err(classify)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_plain_names_become_identifiers() {
        assert_eq!(ident("photos").unwrap(), "\"photos\"");
        assert_eq!(ident("album_links_2").unwrap(), "\"album_links_2\"");
        for odd in ["", "Photos", "a\"b", "x; DROP TABLE users", "2fa", &"a".repeat(64)] {
            assert!(ident(odd).is_err(), "{odd:?}");
        }
    }
}
