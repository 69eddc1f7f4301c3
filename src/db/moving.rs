//! `pujo db migrate --from sqlite --to postgres`: every row of the embedded database,
//! copied into an empty PostgreSQL database when an install outgrows one machine.
//!
//! The PostgreSQL schema is made at the SQLite file's version (both folders of
//! migrations have the same numbers), then each of its tables is filled from the
//! SQLite table of the same name, column by column, each value converted by the
//! PostgreSQL column's type (SQLite keeps times as milliseconds and booleans as 0
//! and 1). The rows go in through the same loader as a restore (`dump.rs`), so
//! foreign keys are checked once at the end and the count triggers do not count
//! twice. Afterwards every table is read back from both and compared: its row count
//! and a checksum of its rows' values in one canonical form, independent of order.

use std::path::Path;

use rusqlite::types::ValueRef;
use sha2::Digest;

use super::dump::{DumpedTable, PgDump, ident};
use super::{Database, DbError};

/// One table, as both databases hold it after the move.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct MovedTable {
    pub name: String,
    pub rows: u64,
    /// sha256 (hex) of the sorted hashes of every row's canonical values.
    pub checksum: String,
}

/// A column of the PostgreSQL schema: its name and type (`udt_name`).
#[derive(Debug, Clone)]
struct Column {
    name: String,
    kind: String,
}

impl Database {
    /// PostgreSQL only: copies every row of the SQLite file `from` (sessions too when
    /// `sessions`) into this database, which must be empty (see
    /// [`Database::postgres_is_empty`]), using `work` for the tables' files; then
    /// compares both, table by table. The caller migrates forward after.
    pub async fn copy_from_sqlite(&self, from: &Path, sessions: bool, work: &Path) -> Result<Vec<MovedTable>, DbError> {
        let Database::Postgres(pg) = self else {
            return Err(DbError::Other("the target of a move must be PostgreSQL".into()));
        };
        let version = super::dump::read_sqlite_file(from, false).await?.schema_version;
        pg.migrate_to(Some(version)).await?;
        let tables = pg.tables_to_move(sessions).await?;
        let (from_owned, work_owned, plan) = (from.to_owned(), work.to_owned(), tables.clone());
        let (dumped, source_sums, issued) =
            tokio::task::spawn_blocking(move || write_csv_from_sqlite(&from_owned, &plan, &work_owned))
                .await
                .map_err(|e| DbError::Other(e.to_string()))??;
        let dump = PgDump { schema_version: version, tables: dumped, sequences: Vec::new() };
        pg.restore(work, &dump).await?;
        pg.reset_identities(&dump.tables, &issued).await?;
        let mut moved = Vec::new();
        for ((name, columns), (rows, source)) in tables.iter().zip(source_sums) {
            let (pg_rows, target) = pg.checksum(name, columns).await?;
            if pg_rows != rows || target != source {
                return Err(DbError::Other(format!(
                    "{name}: {rows} rows in SQLite, {pg_rows} in PostgreSQL; checksums {source} and {target}"
                )));
            }
            moved.push(MovedTable { name: name.clone(), rows, checksum: source });
        }
        Ok(moved)
    }
}

impl super::postgres::Pg {
    /// Pujo's tables and their stored (not generated) columns, in the catalog's order.
    async fn tables_to_move(&self, sessions: bool) -> Result<Vec<(String, Vec<Column>)>, DbError> {
        use super::postgres::classify;
        let client = self.client().await?;
        let rows = client
            .query(
                "SELECT c.table_name::text, c.column_name::text, c.udt_name::text FROM information_schema.columns c \
                 JOIN information_schema.tables t ON t.table_schema = c.table_schema AND t.table_name = c.table_name \
                 WHERE c.table_schema = current_schema() AND t.table_type = 'BASE TABLE' AND c.is_generated = 'NEVER' \
                 ORDER BY c.table_name, c.ordinal_position",
                &[],
            )
            .await
            .map_err(classify)?;
        let mut tables: Vec<(String, Vec<Column>)> = Vec::new();
        for row in rows {
            let (table, name, kind): (String, String, String) = (row.get(0), row.get(1), row.get(2));
            // As a backup: no migration history, uploads in progress or content locks.
            let skipped = super::dump::NOT_DUMPED.contains(&table.as_str()) || (!sessions && table == "sessions");
            if skipped {
                continue;
            }
            match tables.last_mut() {
                Some((last, columns)) if *last == table => columns.push(Column { name, kind }),
                _ => tables.push((table, vec![Column { name, kind }])),
            }
        }
        Ok(tables)
    }

    /// Sets each identity sequence past the largest id the rows brought and the largest
    /// SQLite ever gave (`issued`, from `sqlite_sequence`: ids of deleted rows are not
    /// given again, so an old link never opens a new photo).
    async fn reset_identities(
        &self,
        tables: &[DumpedTable],
        issued: &std::collections::HashMap<String, i64>,
    ) -> Result<(), DbError> {
        use super::postgres::classify;
        let client = self.client().await?;
        for table in tables {
            let identity = client
                .query_opt(
                    "SELECT column_name::text FROM information_schema.columns \
                     WHERE table_schema = current_schema() AND table_name = $1 AND is_identity = 'YES'",
                    &[&table.name],
                )
                .await
                .map_err(classify)?;
            let Some(row) = identity else { continue };
            let column: String = row.get(0);
            let (t, c) = (ident(&table.name)?, ident(&column)?);
            let floor = issued.get(&table.name).copied().unwrap_or(0);
            client
                .execute(
                    &format!(
                        "SELECT setval(pg_get_serial_sequence($1, $2), \
                         greatest(coalesce((SELECT max({c}) FROM {t}), 0), $3) + 1, false)"
                    ),
                    &[&t, &column, &floor],
                )
                .await
                .map_err(classify)?;
        }
        Ok(())
    }

    /// A table's row count and checksum, read back.
    async fn checksum(&self, table: &str, columns: &[Column]) -> Result<(u64, String), DbError> {
        use super::postgres::classify;
        let mut object = self.client().await?;
        let client: &mut tokio_postgres::Client = &mut object;
        let tx = client.transaction().await.map_err(classify)?;
        // A million rows take longer than a request may.
        tx.batch_execute("SET LOCAL statement_timeout = 0").await.map_err(classify)?;
        let list = columns.iter().map(|c| ident(&c.name)).collect::<Result<Vec<_>, _>>()?.join(", ");
        // Streamed: a million photos' rows are hashed as they come, never held.
        let rows = tx
            .query_raw(&format!("SELECT {list} FROM {}", ident(table)?), std::iter::empty::<i32>())
            .await
            .map_err(classify)?;
        let mut rows = std::pin::pin!(rows);
        let mut sums = Vec::new();
        let mut values = Vec::with_capacity(columns.len());
        while let Some(row) = futures_util::StreamExt::next(&mut rows).await {
            let row = row.map_err(classify)?;
            values.clear();
            for (i, column) in columns.iter().enumerate() {
                values.push(pg_canonical(&row, i, &column.kind)?);
            }
            sums.push(row_hash(&values));
        }
        tx.commit().await.map_err(classify)?;
        Ok((sums.len() as u64, table_sum(sums)))
    }
}

/// One value as both sides spell it for the checksum; `None` for NULL.
fn pg_canonical(row: &tokio_postgres::Row, i: usize, kind: &str) -> Result<Option<String>, DbError> {
    let bad = |e: tokio_postgres::Error| DbError::Other(format!("reading back column {i}: {e}"));
    Ok(match kind {
        "int8" => row.try_get::<_, Option<i64>>(i).map_err(bad)?.map(|v| v.to_string()),
        "int4" => row.try_get::<_, Option<i32>>(i).map_err(bad)?.map(|v| v.to_string()),
        "int2" => row.try_get::<_, Option<i16>>(i).map_err(bad)?.map(|v| v.to_string()),
        "bool" => row.try_get::<_, Option<bool>>(i).map_err(bad)?.map(|v| u8::from(v).to_string()),
        "float8" => row.try_get::<_, Option<f64>>(i).map_err(bad)?.map(|v| v.to_string()),
        "float4" => row.try_get::<_, Option<f32>>(i).map_err(bad)?.map(|v| f64::from(v).to_string()),
        "text" | "varchar" => row.try_get::<_, Option<String>>(i).map_err(bad)?,
        "bytea" => row.try_get::<_, Option<Vec<u8>>>(i).map_err(bad)?.map(|v| crate::util::hex(&v)),
        "timestamptz" => row
            .try_get::<_, Option<time::OffsetDateTime>>(i)
            .map_err(bad)?
            .map(|t| (t.unix_timestamp_nanos() / 1_000_000).to_string()),
        "json" | "jsonb" => row.try_get::<_, Option<serde_json::Value>>(i).map_err(bad)?.map(|v| canonical_json(&v)),
        other => return Err(DbError::Other(format!("column {i} has type {other}, which a move does not know"))),
    })
}

/// JSON with every object's keys in order and no spaces, however it was spelled.
fn canonical_json(value: &serde_json::Value) -> String {
    use serde_json::Value;
    match value {
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            let fields: Vec<String> =
                keys.iter().map(|k| format!("{}:{}", Value::String((*k).clone()), canonical_json(&map[*k]))).collect();
            format!("{{{}}}", fields.join(","))
        }
        Value::Array(items) => format!("[{}]", items.iter().map(canonical_json).collect::<Vec<_>>().join(",")),
        other => other.to_string(),
    }
}

fn row_hash(values: &[Option<String>]) -> [u8; 32] {
    let mut hasher = sha2::Sha256::new();
    for value in values {
        match value {
            None => hasher.update([0u8]),
            Some(v) => {
                hasher.update([1u8]);
                hasher.update((v.len() as u64).to_le_bytes());
                hasher.update(v.as_bytes());
            }
        }
    }
    hasher.finalize().into()
}

fn table_sum(mut rows: Vec<[u8; 32]>) -> String {
    rows.sort_unstable();
    let mut hasher = sha2::Sha256::new();
    for row in &rows {
        hasher.update(row);
    }
    crate::util::hex(&hasher.finalize())
}

/// Writes `<work>/<table>.csv` for every table from the SQLite file, values converted
/// to the PostgreSQL column's type; the tables as a dump lists them, each one's row
/// count and checksum, and the largest id SQLite ever gave in each table.
#[allow(clippy::type_complexity)]
fn write_csv_from_sqlite(
    from: &Path,
    tables: &[(String, Vec<Column>)],
    work: &Path,
) -> Result<(Vec<DumpedTable>, Vec<(u64, String)>, std::collections::HashMap<String, i64>), DbError> {
    use std::io::Write;
    let conn = super::sqlite::open_read_only(from)?;
    let lite = |e: rusqlite::Error| DbError::Other(format!("reading the SQLite file: {e}"));
    let io = |e: std::io::Error| DbError::Other(format!("writing a table file: {e}"));
    let (mut dumped, mut sums) = (Vec::new(), Vec::new());
    for (table, columns) in tables {
        let list = columns.iter().map(|c| ident(&c.name)).collect::<Result<Vec<_>, _>>()?.join(", ");
        let mut statement = conn
            .prepare(&format!("SELECT {list} FROM {}", ident(table)?))
            .map_err(|e| DbError::Other(format!("{table} in the SQLite file: {e}")))?;
        let file = std::fs::File::create(work.join(format!("{table}.csv"))).map_err(io)?;
        let mut out = std::io::BufWriter::with_capacity(256 * 1024, file);
        let mut rows = statement.query([]).map_err(lite)?;
        let (mut count, mut hashes) = (0u64, Vec::new());
        let (mut line, mut values) = (String::new(), Vec::with_capacity(columns.len()));
        while let Some(row) = rows.next().map_err(lite)? {
            line.clear();
            values.clear();
            for (i, column) in columns.iter().enumerate() {
                let value = row.get_ref(i).map_err(lite)?;
                let (csv, canonical) = convert(value, &column.kind)
                    .map_err(|e| DbError::Other(format!("{table}.{}: {e}", column.name)))?;
                if i > 0 {
                    line.push(',');
                }
                line.push_str(&csv);
                values.push(canonical);
            }
            line.push('\n');
            out.write_all(line.as_bytes()).map_err(io)?;
            hashes.push(row_hash(&values));
            count += 1;
        }
        out.into_inner().map_err(|e| io(e.into_error()))?.sync_all().map_err(io)?;
        dumped.push(DumpedTable {
            name: table.clone(),
            columns: columns.iter().map(|c| c.name.clone()).collect(),
            rows: count,
        });
        sums.push((count, table_sum(hashes)));
    }
    let mut issued = std::collections::HashMap::new();
    let mut statement = conn.prepare("SELECT name, seq FROM sqlite_sequence").map_err(lite)?;
    let mut rows = statement.query([]).map_err(lite)?;
    while let Some(row) = rows.next().map_err(lite)? {
        issued.insert(row.get::<_, String>(0).map_err(lite)?, row.get::<_, i64>(1).map_err(lite)?);
    }
    Ok((dumped, sums, issued))
}

/// A SQLite value as a CSV field for a PostgreSQL column of type `kind`, and as the
/// checksum's canonical form (`None` for NULL).
fn convert(value: ValueRef<'_>, kind: &str) -> Result<(String, Option<String>), String> {
    let quoted = |s: &str| format!("\"{}\"", s.replace('"', "\"\""));
    let text = |bytes: &[u8]| String::from_utf8(bytes.to_vec()).map_err(|_| "text that is not UTF-8".to_owned());
    Ok(match (value, kind) {
        (ValueRef::Null, _) => (String::new(), None),
        (ValueRef::Integer(v), "int8" | "int4" | "int2") => (v.to_string(), Some(v.to_string())),
        (ValueRef::Integer(v), "bool") => {
            let b = v != 0;
            ((if b { "t" } else { "f" }).to_owned(), Some(u8::from(b).to_string()))
        }
        (ValueRef::Integer(ms), "timestamptz") => {
            let t = time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
                .map_err(|e| format!("time {ms} out of range: {e}"))?;
            let spelled = t.format(&time::format_description::well_known::Rfc3339).map_err(|e| e.to_string())?;
            (spelled, Some(ms.to_string()))
        }
        (ValueRef::Real(v), "float8" | "float4") => (format!("{v:?}"), Some(v.to_string())),
        // A REAL column may hold a whole number as an integer.
        #[allow(clippy::cast_precision_loss)]
        (ValueRef::Integer(v), "float8" | "float4") => {
            let f = v as f64;
            (format!("{f:?}"), Some(f.to_string()))
        }
        (ValueRef::Text(t), "text" | "varchar") => {
            let s = text(t)?;
            (quoted(&s), Some(s))
        }
        (ValueRef::Text(t), "json" | "jsonb") => {
            let s = text(t)?;
            let parsed: serde_json::Value =
                serde_json::from_str(&s).map_err(|e| format!("JSON that does not parse: {e}"))?;
            (quoted(&s), Some(canonical_json(&parsed)))
        }
        (ValueRef::Blob(b), "bytea") => (format!("\\x{}", crate::util::hex(b)), Some(crate::util::hex(b))),
        (value, kind) => return Err(format!("a {:?} value for a column of type {kind}", value.data_type())),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_take_the_postgres_column_s_spelling_and_one_canonical_form() {
        assert_eq!(convert(ValueRef::Integer(7), "int8").unwrap(), ("7".into(), Some("7".into())));
        assert_eq!(convert(ValueRef::Integer(1), "bool").unwrap(), ("t".into(), Some("1".into())));
        assert_eq!(convert(ValueRef::Null, "text").unwrap(), (String::new(), None));
        assert_eq!(
            convert(ValueRef::Text(b""), "text").unwrap(),
            ("\"\"".into(), Some(String::new())),
            "empty is not NULL"
        );
        assert_eq!(convert(ValueRef::Text(b"a\"b,\nc"), "text").unwrap().0, "\"a\"\"b,\nc\"");
        assert_eq!(
            convert(ValueRef::Integer(1_791_921_600_123), "timestamptz").unwrap(),
            ("2026-10-13T20:00:00.123Z".into(), Some("1791921600123".into()))
        );
        assert_eq!(convert(ValueRef::Blob(&[0xab, 0x01]), "bytea").unwrap(), ("\\xab01".into(), Some("ab01".into())));
        assert_eq!(convert(ValueRef::Real(22.5726), "float8").unwrap(), ("22.5726".into(), Some("22.5726".into())));
        assert_eq!(
            convert(ValueRef::Text(br#"{"b": 1, "a": [true]}"#), "jsonb").unwrap().1,
            Some(r#"{"a":[true],"b":1}"#.into()),
            "JSON compared by value, not spelling"
        );
        assert!(convert(ValueRef::Text(b"x"), "int8").is_err());
        assert!(convert(ValueRef::Integer(1), "inet").is_err());
    }
}
