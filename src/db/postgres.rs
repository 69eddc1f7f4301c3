//! PostgreSQL through tokio-postgres and a deadpool pool.

use std::str::FromStr;

use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod, Runtime};
use tokio_postgres::error::SqlState;

use super::query::{Decode, Value};
use super::{DbError, DbSettings, Migrated, conflict};

mod embedded {
    refinery::embed_migrations!("migrations/postgres");
}

/// Draws a write's number from the bus's sequence and announces it with its tags.
const ANNOUNCE: &str =
    "SELECT n, pg_notify('pujo_cache', n::text || ' ' || $1) FROM (SELECT nextval('pujo_cache_seq') AS n) s";

fn announced_number(row: &tokio_postgres::Row) -> u64 {
    u64::try_from(row.get::<_, i64>(0)).unwrap_or(0)
}

/// Key of the advisory lock that serialises migrations across replicas ("pujo" in ASCII).
const MIGRATION_LOCK: i64 = 0x70_75_6a_6f;

pub struct Pg {
    pool: Pool,
    /// For the one connection outside the pool: the cache bus listener.
    listen_with: Box<(tokio_postgres::Config, tokio_postgres_rustls::MakeRustlsConnect)>,
    queries: prometheus::IntCounter,
}

/// A connection that LISTENs on the cache bus channel.
pub struct Listener {
    client: tokio_postgres::Client,
    notes: tokio::sync::mpsc::UnboundedReceiver<String>,
    beat: tokio::time::Interval,
    /// The sequence's value once listening began.
    pub current: u64,
}

impl Listener {
    /// The next notification's payload. Fails when the connection is lost, or when a
    /// check every few seconds goes unanswered (a connection can go silent).
    pub async fn next(&mut self) -> Result<String, DbError> {
        loop {
            tokio::select! {
                note = self.notes.recv() => {
                    return note.ok_or_else(|| DbError::Unavailable("the listening connection closed".into()));
                }
                _ = self.beat.tick() => {
                    let check = self.client.simple_query("SELECT 1");
                    match tokio::time::timeout(std::time::Duration::from_secs(3), check).await {
                        Ok(Ok(_)) => {}
                        Ok(Err(e)) => return Err(classify(e)),
                        Err(_) => return Err(DbError::Unavailable("the listening connection went silent".into())),
                    }
                }
            }
        }
    }
}

/// Sorts driver errors into what callers act on: lost connections and timeouts are
/// `Unavailable`, unique violations `Conflict`.
pub(super) fn classify(e: tokio_postgres::Error) -> DbError {
    if let Some(db) = e.as_db_error() {
        if *db.code() == SqlState::UNIQUE_VIOLATION {
            return conflict(db.constraint().unwrap_or(""));
        }
        if *db.code() == SqlState::FOREIGN_KEY_VIOLATION {
            return DbError::Gone;
        }
        if *db.code() == SqlState::QUERY_CANCELED
            || db.code().code().starts_with("08")
            || db.code().code().starts_with("57P")
        {
            return DbError::Unavailable(db.message().to_owned());
        }
        return DbError::Other(format!("{}: {}", db.code().code(), db.message()));
    }
    // No server answer at all: refused, reset, timed out or closed connections.
    let io = std::error::Error::source(&e).is_some_and(|s| s.is::<std::io::Error>());
    // The driver's own text is generic ("error performing TLS handshake"); the causes say why.
    let mut text = e.to_string();
    let mut source = std::error::Error::source(&e);
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    if io || e.is_closed() || text.contains("connect") || text.contains("timeout") || text.contains("closed") {
        return DbError::Unavailable(text);
    }
    DbError::Other(text)
}

fn pool_error(e: deadpool_postgres::PoolError) -> DbError {
    match e {
        deadpool_postgres::PoolError::Backend(e) => classify(e),
        other => DbError::Unavailable(other.to_string()),
    }
}

/// TLS for connections whose URL asks for it (`sslmode=require`; the default `prefer`
/// uses it when the server offers it). Unlike libpq's `require`, the certificate chain
/// and the host name are always verified: against `PUJO_DB_CA_FILE` (the RDS bundle)
/// when set, else the system's roots.
fn tls_connector(ca_file: Option<&std::path::Path>) -> Result<tokio_postgres_rustls::MakeRustlsConnect, DbError> {
    use rustls_pki_types::CertificateDer;
    use rustls_pki_types::pem::PemObject;
    let mut roots = rustls::RootCertStore::empty();
    match ca_file {
        Some(path) => {
            let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(path)
                .and_then(|certs| certs.collect::<Result<_, _>>())
                .map_err(|e| DbError::Other(format!("PUJO_DB_CA_FILE {}: {e}", path.display())))?;
            let (added, _) = roots.add_parsable_certificates(certs);
            if added == 0 {
                return Err(DbError::Other(format!("PUJO_DB_CA_FILE {} holds no CA certificate", path.display())));
            }
        }
        None => {
            roots.add_parsable_certificates(rustls_native_certs::load_native_certs().certs);
        }
    }
    let provider = std::sync::Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| DbError::Other(e.to_string()))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(tokio_postgres_rustls::MakeRustlsConnect::new(config))
}

impl Pg {
    pub async fn connect(url: &str, settings: &DbSettings) -> Result<Pg, DbError> {
        let mut config = tokio_postgres::Config::from_str(url)
            .map_err(|e| DbError::Other(format!("PUJO_DATABASE_URL is not a valid Postgres URL: {e}")))?;
        config.connect_timeout(settings.connect_timeout);
        config.application_name("pujo");
        config.options(format!("-c statement_timeout={}", settings.statement_timeout.as_millis()));
        let tls = tls_connector(settings.ca_file.as_deref())?;
        let manager = Manager::from_config(
            config.clone(),
            tls.clone(),
            ManagerConfig { recycling_method: RecyclingMethod::Fast },
        );
        let pool = Pool::builder(manager)
            .max_size(settings.pool_size)
            .runtime(Runtime::Tokio1)
            .wait_timeout(Some(settings.connect_timeout))
            .create_timeout(Some(settings.connect_timeout))
            .recycle_timeout(Some(settings.connect_timeout))
            .build()
            .map_err(|e| DbError::Other(e.to_string()))?;
        Ok(Pg { pool, listen_with: Box::new((config, tls)), queries: super::detached_counter() })
    }

    pub fn count_queries_in(&mut self, counter: prometheus::IntCounter) {
        self.queries = counter;
    }

    /// Connections idle and in use, and the most the pool opens.
    pub fn pool_state(&self) -> (usize, usize, usize) {
        let status = self.pool.status();
        (status.available, status.size.saturating_sub(status.available), status.max_size)
    }

    pub(super) async fn client(&self) -> Result<deadpool_postgres::Object, DbError> {
        self.queries.inc();
        self.pool.get().await.map_err(pool_error)
    }

    /// Announces a write on the cache bus; returns its number.
    pub async fn announce(&self, tags: &str) -> Result<u64, DbError> {
        let row = self.client().await?.query_one(ANNOUNCE, &[&tags]).await.map_err(classify)?;
        Ok(announced_number(&row))
    }

    /// Runs one write and announces it on the cache bus on the same connection, the
    /// announcement sent behind the write without waiting for its answer (pipelined: one
    /// round trip for both, where a busy process pays for each). Each is its own
    /// transaction, run in the order sent, so the write has committed before its number
    /// is drawn, as `announce` requires. A write that fails is announced all the same,
    /// which only retires a few cached answers early. `Err` when neither was sent.
    pub async fn query_announcing<T>(
        &self,
        sql: &str,
        params: &[Value],
        tags: &str,
        decode: Decode<T>,
    ) -> Result<super::Announced<Vec<T>>, DbError> {
        let client = self.client().await?;
        let (statement, announce) =
            tokio::try_join!(client.prepare_cached(sql), client.prepare_cached(ANNOUNCE)).map_err(classify)?;
        let params: Vec<_> = params.iter().map(Value::as_pg).collect();
        let note_params: [&(dyn tokio_postgres::types::ToSql + Sync); 1] = [&tags];
        // Biased: the write is polled, and so sent, first; each query goes out with its
        // own Sync, so PostgreSQL runs them as two transactions in that order.
        let (rows, note) =
            tokio::join!(biased; client.query(&statement, &params), client.query_one(&announce, &note_params));
        Ok(super::Announced {
            write: rows.map_err(classify).and_then(|rows| rows.iter().map(|row| decode(row)).collect()),
            note: note.map(|row| Some(announced_number(&row))).map_err(classify),
        })
    }

    /// Opens the cache bus listener: LISTEN first, then read where the sequence stands,
    /// so that no write after that number goes unheard.
    pub async fn listen(&self) -> Result<Listener, DbError> {
        use futures_util::StreamExt;
        let (config, tls) = &*self.listen_with;
        let (client, mut connection) = config.connect(tls.clone()).await.map_err(classify)?;
        let (sender, notes) = tokio::sync::mpsc::unbounded_channel();
        tokio::spawn(async move {
            let mut messages = futures_util::stream::poll_fn(move |cx| connection.poll_message(cx));
            while let Some(Ok(message)) = messages.next().await {
                if let tokio_postgres::AsyncMessage::Notification(note) = message
                    && sender.send(note.payload().to_owned()).is_err()
                {
                    break;
                }
            }
        });
        client.batch_execute("LISTEN pujo_cache").await.map_err(classify)?;
        let current: i64 = client
            .query_one("SELECT CASE WHEN is_called THEN last_value ELSE 0 END FROM pujo_cache_seq", &[])
            .await
            .map_err(classify)?
            .get(0);
        let mut beat = tokio::time::interval(std::time::Duration::from_secs(5));
        beat.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        beat.reset();
        Ok(Listener { client, notes, beat, current: u64::try_from(current).unwrap_or(0) })
    }

    pub async fn migrate(&self) -> Result<Migrated, DbError> {
        self.migrate_to(None).await
    }

    /// Applies pending migrations up to `version` (all of them when `None`).
    pub(super) async fn migrate_to(&self, version: Option<u32>) -> Result<Migrated, DbError> {
        let mut object = self.client().await?;
        let client: &mut tokio_postgres::Client = &mut object;
        client.execute("SELECT pg_advisory_lock($1)", &[&MIGRATION_LOCK]).await.map_err(classify)?;
        let target =
            version.map_or(refinery::Target::Latest, |v| refinery::Target::Version(v.try_into().unwrap_or(i32::MAX)));
        let result = embedded::migrations::runner()
            .set_target(target)
            .set_abort_divergent(true)
            // A newer schema than this binary (rolling back a release) is fine: migrations
            // only add, so an older binary keeps working on it.
            .set_abort_missing(false)
            .run_async(client)
            .await;
        let unlocked = client.execute("SELECT pg_advisory_unlock($1)", &[&MIGRATION_LOCK]).await;
        let report = result.map_err(|e| DbError::Migration(e.to_string()))?;
        unlocked.map_err(classify)?;
        let last = client
            .query_opt("SELECT max(version) FROM refinery_schema_history", &[])
            .await
            .map_err(classify)?
            .and_then(|r| r.get::<_, Option<i32>>(0))
            .unwrap_or(0);
        Ok(Migrated {
            applied_now: report.applied_migrations().iter().map(ToString::to_string).collect(),
            version: u32::try_from(last).unwrap_or(0),
        })
    }

    pub async fn check_schema(&self) -> Result<(), DbError> {
        let known = u32::try_from(embedded::migrations::runner().get_migrations().len()).unwrap_or(u32::MAX);
        let client = self.client().await?;
        let exists: bool = client
            .query_one("SELECT to_regclass('refinery_schema_history') IS NOT NULL", &[])
            .await
            .map_err(classify)?
            .get(0);
        let applied: i64 = if exists {
            client.query_one("SELECT count(*) FROM refinery_schema_history", &[]).await.map_err(classify)?.get(0)
        } else {
            0
        };
        let applied = u32::try_from(applied).unwrap_or(0);
        if applied < known {
            return Err(DbError::SchemaBehind { applied, known });
        }
        Ok(())
    }

    pub async fn ping(&self) -> Result<(), DbError> {
        self.client().await?.simple_query("SELECT 1").await.map_err(classify)?;
        Ok(())
    }

    /// Runs one statement and decodes its rows (statements are prepared once per connection).
    pub async fn query<T>(&self, sql: &str, params: &[Value], decode: Decode<T>) -> Result<Vec<T>, DbError> {
        let client = self.client().await?;
        let statement = client.prepare_cached(sql).await.map_err(classify)?;
        let params: Vec<_> = params.iter().map(Value::as_pg).collect();
        let rows = client.query(&statement, &params).await.map_err(classify)?;
        rows.iter().map(|row| decode(row)).collect()
    }

    /// Runs one statement and returns how many rows it changed.
    pub async fn execute(&self, sql: &str, params: &[Value]) -> Result<u64, DbError> {
        let client = self.client().await?;
        let statement = client.prepare_cached(sql).await.map_err(classify)?;
        let params: Vec<_> = params.iter().map(Value::as_pg).collect();
        client.execute(&statement, &params).await.map_err(classify)
    }
}
