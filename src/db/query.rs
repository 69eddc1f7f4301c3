//! One statement, two drivers: parameters and rows that both backends understand, so a
//! query whose SQL is the same on Postgres and SQLite is written (and decoded) once.
//!
//! SQL is written with Postgres placeholders (`$1`, `$2`, ...); SQLite runs the same text
//! with `?1`, `?2`, ..., which bind by number just the same. Where the dialects differ
//! (full-text search), a [`Sql`] carries one text per backend.

use time::OffsetDateTime;

use super::DbError;

/// Expired sessions, a batch at a time (the expiry is indexed).
pub const PURGE_SESSIONS: Sql = Sql {
    pg: "DELETE FROM sessions WHERE ctid IN (SELECT ctid FROM sessions WHERE expires_at <= $1 LIMIT $2)",
    lite: "DELETE FROM sessions WHERE rowid IN (SELECT rowid FROM sessions WHERE expires_at <= $1 LIMIT $2)",
};

/// The text of one statement, per backend.
#[derive(Debug, Clone, Copy)]
pub struct Sql {
    pub pg: &'static str,
    pub lite: &'static str,
}

impl Sql {
    /// A statement both dialects read the same way.
    pub const fn same(text: &'static str) -> Sql {
        Sql { pg: text, lite: text }
    }
}

/// SQLite's spelling of a statement written with `$n` placeholders. Statements are
/// `&'static str`, a few dozen in all: each is spelled once and kept.
pub fn lite_placeholders(sql: &'static str) -> &'static str {
    use std::collections::HashMap;
    use std::sync::{LazyLock, RwLock};
    static SPELLED: LazyLock<RwLock<HashMap<(usize, usize), &'static str>>> = LazyLock::new(RwLock::default);
    if !sql.contains('$') {
        return sql;
    }
    // Keyed by address and length: the same text at two addresses is spelled twice, harmlessly.
    let key = (sql.as_ptr() as usize, sql.len());
    if let Some(spelled) = SPELLED.read().unwrap_or_else(std::sync::PoisonError::into_inner).get(&key) {
        return spelled;
    }
    let spelled: &'static str = Box::leak(sql.replace('$', "?").into_boxed_str());
    SPELLED.write().unwrap_or_else(std::sync::PoisonError::into_inner).insert(key, spelled);
    spelled
}

/// A parameter value. Integers are 64-bit on both sides (`BIGINT` columns on Postgres),
/// times are `TIMESTAMPTZ` on Postgres and milliseconds since the epoch on SQLite.
#[derive(Debug, Clone)]
pub enum Value {
    Int(Option<i64>),
    Float(Option<f64>),
    Text(Option<String>),
    Bytes(Option<Vec<u8>>),
    Bool(Option<bool>),
    Time(Option<OffsetDateTime>),
    Json(serde_json::Value),
}

macro_rules! value_from {
    ($($t:ty => $variant:ident),* $(,)?) => {$(
        impl From<$t> for Value {
            fn from(v: $t) -> Value { Value::$variant(Some(v.into())) }
        }
        impl From<Option<$t>> for Value {
            fn from(v: Option<$t>) -> Value { Value::$variant(v.map(Into::into)) }
        }
    )*};
}
value_from!(
    i64 => Int,
    f64 => Float,
    String => Text,
    &str => Text,
    Vec<u8> => Bytes,
    bool => Bool,
    OffsetDateTime => Time,
);

impl From<serde_json::Value> for Value {
    fn from(v: serde_json::Value) -> Value {
        Value::Json(v)
    }
}

/// Builds a `Vec<Value>` from anything that converts.
macro_rules! params {
    ($($v:expr),* $(,)?) => { vec![$($crate::db::query::Value::from($v)),*] };
}
pub(crate) use params;

impl Value {
    pub fn as_pg(&self) -> &(dyn tokio_postgres::types::ToSql + Sync) {
        match self {
            Value::Int(v) => v,
            Value::Float(v) => v,
            Value::Text(v) => v,
            Value::Bytes(v) => v,
            Value::Bool(v) => v,
            Value::Time(v) => v,
            Value::Json(v) => v,
        }
    }

    pub fn to_lite(&self) -> rusqlite::types::Value {
        use rusqlite::types::Value as L;
        match self {
            Value::Int(v) => v.map_or(L::Null, L::Integer),
            Value::Float(v) => v.map_or(L::Null, L::Real),
            Value::Text(v) => v.clone().map_or(L::Null, L::Text),
            Value::Bytes(v) => v.clone().map_or(L::Null, L::Blob),
            Value::Bool(v) => v.map_or(L::Null, |b| L::Integer(i64::from(b))),
            Value::Time(v) => v.map_or(L::Null, |t| L::Integer(millis(t))),
            Value::Json(v) => L::Text(v.to_string()),
        }
    }
}

pub fn millis(t: OffsetDateTime) -> i64 {
    i64::try_from(t.unix_timestamp_nanos() / 1_000_000).unwrap_or(i64::MAX)
}

pub fn from_millis(ms: i64) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000).unwrap_or(OffsetDateTime::UNIX_EPOCH)
}

/// A result row of either driver, read by column position.
pub trait Row {
    fn int(&self, i: usize) -> Result<i64, DbError>;
    fn opt_int(&self, i: usize) -> Result<Option<i64>, DbError>;
    fn text(&self, i: usize) -> Result<String, DbError>;
    fn opt_text(&self, i: usize) -> Result<Option<String>, DbError>;
    fn opt_float(&self, i: usize) -> Result<Option<f64>, DbError>;
    fn opt_bytes(&self, i: usize) -> Result<Option<Vec<u8>>, DbError>;
    fn bool(&self, i: usize) -> Result<bool, DbError>;
    fn time(&self, i: usize) -> Result<OffsetDateTime, DbError>;
    fn opt_time(&self, i: usize) -> Result<Option<OffsetDateTime>, DbError>;
    fn json(&self, i: usize) -> Result<serde_json::Value, DbError>;

    fn bytes(&self, i: usize) -> Result<Vec<u8>, DbError> {
        self.opt_bytes(i).map(Option::unwrap_or_default)
    }
}

/// Turns a row into a value; the same function serves both backends.
pub type Decode<T> = fn(&dyn Row) -> Result<T, DbError>;

fn decode_error(e: impl std::fmt::Display) -> DbError {
    DbError::Other(format!("unexpected column type: {e}"))
}

impl Row for tokio_postgres::Row {
    fn int(&self, i: usize) -> Result<i64, DbError> {
        self.try_get(i).map_err(decode_error)
    }
    fn opt_int(&self, i: usize) -> Result<Option<i64>, DbError> {
        self.try_get(i).map_err(decode_error)
    }
    fn text(&self, i: usize) -> Result<String, DbError> {
        self.try_get(i).map_err(decode_error)
    }
    fn opt_text(&self, i: usize) -> Result<Option<String>, DbError> {
        self.try_get(i).map_err(decode_error)
    }
    fn opt_float(&self, i: usize) -> Result<Option<f64>, DbError> {
        self.try_get(i).map_err(decode_error)
    }
    fn opt_bytes(&self, i: usize) -> Result<Option<Vec<u8>>, DbError> {
        self.try_get(i).map_err(decode_error)
    }
    fn bool(&self, i: usize) -> Result<bool, DbError> {
        self.try_get(i).map_err(decode_error)
    }
    fn time(&self, i: usize) -> Result<OffsetDateTime, DbError> {
        self.try_get(i).map_err(decode_error)
    }
    fn opt_time(&self, i: usize) -> Result<Option<OffsetDateTime>, DbError> {
        self.try_get(i).map_err(decode_error)
    }
    fn json(&self, i: usize) -> Result<serde_json::Value, DbError> {
        self.try_get(i).map_err(decode_error)
    }
}

impl Row for rusqlite::Row<'_> {
    fn int(&self, i: usize) -> Result<i64, DbError> {
        self.get(i).map_err(decode_error)
    }
    fn opt_int(&self, i: usize) -> Result<Option<i64>, DbError> {
        self.get(i).map_err(decode_error)
    }
    fn text(&self, i: usize) -> Result<String, DbError> {
        self.get(i).map_err(decode_error)
    }
    fn opt_text(&self, i: usize) -> Result<Option<String>, DbError> {
        self.get(i).map_err(decode_error)
    }
    fn opt_float(&self, i: usize) -> Result<Option<f64>, DbError> {
        self.get(i).map_err(decode_error)
    }
    fn opt_bytes(&self, i: usize) -> Result<Option<Vec<u8>>, DbError> {
        self.get(i).map_err(decode_error)
    }
    fn bool(&self, i: usize) -> Result<bool, DbError> {
        self.get::<_, i64>(i).map(|v| v != 0).map_err(decode_error)
    }
    fn time(&self, i: usize) -> Result<OffsetDateTime, DbError> {
        self.get::<_, i64>(i).map(from_millis).map_err(decode_error)
    }
    fn opt_time(&self, i: usize) -> Result<Option<OffsetDateTime>, DbError> {
        self.get::<_, Option<i64>>(i).map(|v| v.map(from_millis)).map_err(decode_error)
    }
    fn json(&self, i: usize) -> Result<serde_json::Value, DbError> {
        let text: String = self.get(i).map_err(decode_error)?;
        serde_json::from_str(&text).map_err(decode_error)
    }
}
