//! The command line (argh). Each command that needs the configuration takes the same
//! setting flags, generated once by `setting_flags!` so they cannot drift apart.

use argh::FromArgs;

/// Pujo: a photo-sharing site for Durga Puja pandals, in one binary.
///
/// Settings come from flags, then PUJO_* environment variables (or files named by
/// PUJO_*_FILE), then defaults. `pujo config` prints the effective values.
#[derive(FromArgs, Debug)]
pub struct Cli {
    #[argh(subcommand)]
    pub command: Option<Command>,
}

#[derive(FromArgs, Debug)]
#[argh(subcommand)]
pub enum Command {
    Serve(Serve),
    Migrate(Migrate),
    Healthcheck(Healthcheck),
    Config(ShowConfig),
    Admin(Admin),
    Blobs(Blobs),
    Backup(Backup),
    Restore(Restore),
    Db(Db),
    Audit(Audit),
    Version(Version),
}

/// The setting flags; every field is an optional string, parsed by `config`.
macro_rules! setting_flags {
    ($( $(#[$meta:meta])* struct $name:ident { $($extra:tt)* } )*) => { $(
        #[derive(FromArgs, Debug)]
        $(#[$meta])*
        pub struct $name {
            $($extra)*
            /// public listener, host:port [PUJO_LISTEN; 127.0.0.1:8080]
            #[argh(option)]
            pub listen: Option<String>,
            /// admin listener for /metrics, or `off` [PUJO_ADMIN_LISTEN; 127.0.0.1:9090]
            #[argh(option)]
            pub admin_listen: Option<String>,
            /// plain-HTTP listener that redirects to HTTPS [PUJO_REDIRECT_LISTEN]
            #[argh(option)]
            pub redirect_listen: Option<String>,
            /// folder for local data [PUJO_DATA_DIR; ./data]
            #[argh(option)]
            pub data_dir: Option<String>,
            /// auto, off, files or self-signed [PUJO_TLS; auto]
            #[argh(option)]
            pub tls: Option<String>,
            /// PEM certificate chain [PUJO_TLS_CERT_PATH]
            #[argh(option)]
            pub tls_cert_path: Option<String>,
            /// PEM private key [PUJO_TLS_KEY_PATH]
            #[argh(option)]
            pub tls_key_path: Option<String>,
            /// certificate change check interval [PUJO_TLS_RELOAD_INTERVAL; 10s]
            #[argh(option)]
            pub tls_reload_interval: Option<String>,
            /// TLS handshake timeout [PUJO_TLS_HANDSHAKE_TIMEOUT; 10s]
            #[argh(option)]
            pub tls_handshake_timeout: Option<String>,
            /// HSTS max-age with TLS, 0s disables [PUJO_HSTS_MAX_AGE; 365d]
            #[argh(option)]
            pub hsts_max_age: Option<String>,
            /// time to receive request headers [PUJO_HEADER_READ_TIMEOUT; 10s]
            #[argh(option)]
            pub header_read_timeout: Option<String>,
            /// largest request head in bytes [PUJO_MAX_HEADER_BYTES; 16384]
            #[argh(option)]
            pub max_header_bytes: Option<String>,
            /// concurrent connections per listener [PUJO_MAX_CONNECTIONS; 10000]
            #[argh(option)]
            pub max_connections: Option<String>,
            /// new connections a second per client, 0 is off [PUJO_CONNECTION_RATE; 100]
            #[argh(option)]
            pub connection_rate: Option<String>,
            /// connections a client may open at once before pacing [PUJO_CONNECTION_BURST; 200]
            #[argh(option)]
            pub connection_burst: Option<String>,
            /// idle keep-alive limit [PUJO_KEEP_ALIVE_TIMEOUT; 75s]
            #[argh(option)]
            pub keep_alive_timeout: Option<String>,
            /// per-request time limit [PUJO_REQUEST_TIMEOUT; 30s]
            #[argh(option)]
            pub request_timeout: Option<String>,
            /// requests worked on at once; more wait their turn [PUJO_MAX_ACTIVE_REQUESTS; 64]
            #[argh(option)]
            pub max_active_requests: Option<String>,
            /// requests that may wait for a turn; more get 503 busy [PUJO_MAX_WAITING_REQUESTS; 2048]
            #[argh(option)]
            pub max_waiting_requests: Option<String>,
            /// how long a resumable upload may stay unfinished [PUJO_UPLOAD_EXPIRY; 24h]
            #[argh(option)]
            pub upload_expiry: Option<String>,
            /// how long the audit log keeps an event [PUJO_AUDIT_RETENTION; 365d]
            #[argh(option)]
            pub audit_retention: Option<String>,
            /// zero bits of the proof of work a new guest does [PUJO_GUEST_PROOF_BITS; 16]
            #[argh(option)]
            pub guest_proof_bits: Option<String>,
            /// zero bits of the proof of work a registration does [PUJO_REGISTER_PROOF_BITS; 16]
            #[argh(option)]
            pub register_proof_bits: Option<String>,
            /// time an upload request may take [PUJO_UPLOAD_TIMEOUT; 15m]
            #[argh(option)]
            pub upload_timeout: Option<String>,
            /// largest JSON body in bytes [PUJO_MAX_BODY_BYTES; 1048576]
            #[argh(option)]
            pub max_body_bytes: Option<String>,
            /// largest photo file accepted, in bytes [PUJO_MAX_UPLOAD_BYTES; 31457280]
            #[argh(option)]
            pub max_upload_bytes: Option<String>,
            /// largest photo accepted, in pixels [PUJO_MAX_PIXELS; 100000000]
            #[argh(option)]
            pub max_pixels: Option<String>,
            /// memory for hot derivatives, in bytes [PUJO_MEDIA_CACHE_BYTES; 268435456]
            #[argh(option)]
            pub media_cache_bytes: Option<String>,
            /// temp disk all uploads in progress may use [PUJO_UPLOAD_TEMP_BYTES; 2147483648]
            #[argh(option)]
            pub upload_temp_bytes: Option<String>,
            /// memory all photo decodes at once may take [PUJO_DECODE_MEMORY; 268435456]
            #[argh(option)]
            pub decode_memory: Option<String>,
            /// S3 bucket for photos [PUJO_S3_BUCKET; unset]
            #[argh(option)]
            pub s3_bucket: Option<String>,
            /// endpoint of an S3-compatible server [PUJO_S3_ENDPOINT; unset]
            #[argh(option)]
            pub s3_endpoint: Option<String>,
            /// S3 region [PUJO_S3_REGION; unset]
            #[argh(option)]
            pub s3_region: Option<String>,
            /// path-style bucket addressing, true or false [PUJO_S3_PATH_STYLE; false]
            #[argh(option)]
            pub s3_path_style: Option<String>,
            /// static S3 access key id [PUJO_S3_ACCESS_KEY_ID; unset]
            #[argh(option)]
            pub s3_access_key_id: Option<String>,
            /// static S3 secret access key [PUJO_S3_SECRET_ACCESS_KEY; unset]
            #[argh(option)]
            pub s3_secret_access_key: Option<String>,
            /// server-side encryption, AES256, aws:kms or off [PUJO_S3_SSE; AES256]
            #[argh(option)]
            pub s3_sse: Option<String>,
            /// KMS key id for aws:kms [PUJO_S3_KMS_KEY_ID; unset]
            #[argh(option)]
            pub s3_kms_key_id: Option<String>,
            /// time allowed for one S3 request attempt [PUJO_S3_TIMEOUT; 30s]
            #[argh(option)]
            pub s3_timeout: Option<String>,
            /// S3-compatible server for `pujo backup --to s3://` [PUJO_BACKUP_S3_ENDPOINT; unset]
            #[argh(option)]
            pub backup_s3_endpoint: Option<String>,
            /// path-style addressing of the backup bucket [PUJO_BACKUP_S3_PATH_STYLE; false]
            #[argh(option)]
            pub backup_s3_path_style: Option<String>,
            /// accept this long after SIGTERM [PUJO_SHUTDOWN_DELAY; 0s]
            #[argh(option)]
            pub shutdown_delay: Option<String>,
            /// time for in-flight requests at shutdown [PUJO_DRAIN_TIMEOUT; 25s]
            #[argh(option)]
            pub drain_timeout: Option<String>,
            /// postgres:// URL; unset = SQLite in the data dir [PUJO_DATABASE_URL]
            #[argh(option)]
            pub database_url: Option<String>,
            /// connections to PostgreSQL per process [PUJO_DB_POOL_SIZE; 16]
            #[argh(option)]
            pub db_pool_size: Option<String>,
            /// time to get a PostgreSQL connection [PUJO_DB_CONNECT_TIMEOUT; 5s]
            #[argh(option)]
            pub db_connect_timeout: Option<String>,
            /// statement timeout for PostgreSQL [PUJO_DB_STATEMENT_TIMEOUT; 5s]
            #[argh(option)]
            pub db_statement_timeout: Option<String>,
            /// CA certificates for PostgreSQL TLS [PUJO_DB_CA_FILE; unset]
            #[argh(option)]
            pub db_ca_file: Option<String>,
            /// apply migrations at start, true or false [PUJO_MIGRATE; false]
            #[argh(option)]
            pub migrate: Option<String>,
            /// log filter [PUJO_LOG; info]
            #[argh(option)]
            pub log: Option<String>,
            /// auto, json or text [PUJO_LOG_FORMAT; auto]
            #[argh(option)]
            pub log_format: Option<String>,
            /// log every request once [PUJO_ACCESS_LOG; true]
            #[argh(option)]
            pub access_log: Option<String>,
            /// redis:// or rediss:// URL of the shared cache [PUJO_REDIS_URL; unset]
            #[argh(option)]
            pub redis_url: Option<String>,
            /// the Redis AUTH token [PUJO_REDIS_PASSWORD; unset]
            #[argh(option)]
            pub redis_password: Option<String>,
            /// time allowed for one Redis operation [PUJO_REDIS_TIMEOUT; 50ms]
            #[argh(option)]
            pub redis_timeout: Option<String>,
            /// connections to Redis per process [PUJO_REDIS_POOL_SIZE; 64]
            #[argh(option)]
            pub redis_pool_size: Option<String>,
            /// time an answer or session stays in process [PUJO_CACHE_LOCAL_TTL; 5s]
            #[argh(option)]
            pub cache_local_ttl: Option<String>,
            /// memory for API answers in process [PUJO_CACHE_LOCAL_BYTES; 67108864]
            #[argh(option)]
            pub cache_local_bytes: Option<String>,
            /// the Redis TTL of one item's answer [PUJO_CACHE_RESPONSE_TTL; 5m]
            #[argh(option)]
            pub cache_response_ttl: Option<String>,
            /// the Redis TTL of lists and search results [PUJO_CACHE_QUERY_TTL; 10m]
            #[argh(option)]
            pub cache_query_ttl: Option<String>,
            /// how long a 404 is remembered [PUJO_CACHE_NEGATIVE_TTL; 10s]
            #[argh(option)]
            pub cache_negative_ttl: Option<String>,
            /// CIDRs of proxies whose X-Forwarded-For is believed [PUJO_TRUSTED_PROXIES; unset]
            #[argh(option)]
            pub trusted_proxies: Option<String>,
        }

        impl $name {
            /// The flags given, as `(setting key, value)` pairs for `Config`.
            pub fn settings(&self) -> Vec<(&'static str, String)> {
                let given = [
                    ("listen", &self.listen),
                    ("admin-listen", &self.admin_listen),
                    ("redirect-listen", &self.redirect_listen),
                    ("data-dir", &self.data_dir),
                    ("tls", &self.tls),
                    ("tls-cert-path", &self.tls_cert_path),
                    ("tls-key-path", &self.tls_key_path),
                    ("tls-reload-interval", &self.tls_reload_interval),
                    ("tls-handshake-timeout", &self.tls_handshake_timeout),
                    ("hsts-max-age", &self.hsts_max_age),
                    ("header-read-timeout", &self.header_read_timeout),
                    ("max-header-bytes", &self.max_header_bytes),
                    ("max-connections", &self.max_connections),
                    ("connection-rate", &self.connection_rate),
                    ("connection-burst", &self.connection_burst),
                    ("keep-alive-timeout", &self.keep_alive_timeout),
                    ("request-timeout", &self.request_timeout),
                    ("max-active-requests", &self.max_active_requests),
                    ("max-waiting-requests", &self.max_waiting_requests),
                    ("upload-timeout", &self.upload_timeout),
                    ("upload-expiry", &self.upload_expiry),
                    ("audit-retention", &self.audit_retention),
                    ("guest-proof-bits", &self.guest_proof_bits),
                    ("register-proof-bits", &self.register_proof_bits),
                    ("max-body-bytes", &self.max_body_bytes),
                    ("max-upload-bytes", &self.max_upload_bytes),
                    ("max-pixels", &self.max_pixels),
                    ("media-cache-bytes", &self.media_cache_bytes),
                    ("upload-temp-bytes", &self.upload_temp_bytes),
                    ("decode-memory", &self.decode_memory),
                    ("s3-bucket", &self.s3_bucket),
                    ("s3-endpoint", &self.s3_endpoint),
                    ("s3-region", &self.s3_region),
                    ("s3-path-style", &self.s3_path_style),
                    ("s3-access-key-id", &self.s3_access_key_id),
                    ("s3-secret-access-key", &self.s3_secret_access_key),
                    ("s3-sse", &self.s3_sse),
                    ("s3-kms-key-id", &self.s3_kms_key_id),
                    ("s3-timeout", &self.s3_timeout),
                    ("backup-s3-endpoint", &self.backup_s3_endpoint),
                    ("backup-s3-path-style", &self.backup_s3_path_style),
                    ("shutdown-delay", &self.shutdown_delay),
                    ("drain-timeout", &self.drain_timeout),
                    ("database-url", &self.database_url),
                    ("db-pool-size", &self.db_pool_size),
                    ("db-connect-timeout", &self.db_connect_timeout),
                    ("db-statement-timeout", &self.db_statement_timeout),
                    ("db-ca-file", &self.db_ca_file),
                    ("migrate", &self.migrate),
                    ("log", &self.log),
                    ("log-format", &self.log_format),
                    ("access-log", &self.access_log),
                    ("redis-url", &self.redis_url),
                    ("redis-password", &self.redis_password),
                    ("redis-timeout", &self.redis_timeout),
                    ("redis-pool-size", &self.redis_pool_size),
                    ("cache-local-ttl", &self.cache_local_ttl),
                    ("cache-local-bytes", &self.cache_local_bytes),
                    ("cache-response-ttl", &self.cache_response_ttl),
                    ("cache-query-ttl", &self.cache_query_ttl),
                    ("cache-negative-ttl", &self.cache_negative_ttl),
                    ("trusted-proxies", &self.trusted_proxies),
                ];
                given.into_iter().filter_map(|(k, v)| v.clone().map(|v| (k, v))).collect()
            }
        }
    )* };
}

setting_flags! {
    /// run the server (what a bare `pujo` does)
    #[argh(subcommand, name = "serve")]
    struct Serve {}

    /// apply database migrations and exit
    #[argh(subcommand, name = "migrate")]
    struct Migrate {}

    /// print the effective configuration, secrets masked
    #[argh(subcommand, name = "config")]
    struct ShowConfig {}

    /// administer people and pandals from the command line
    #[argh(subcommand, name = "admin")]
    struct Admin {
        #[argh(subcommand)]
        pub action: AdminAction,
    }

    /// move photo blobs between stores, or collect the ones no photo uses
    #[argh(subcommand, name = "blobs")]
    struct Blobs {
        #[argh(subcommand)]
        pub action: BlobsAction,
    }

    /// back up the database and every photo to a folder or an S3 bucket (a consistent
    /// copy of a running server; later backups copy only new photos), or check one
    #[argh(subcommand, name = "backup")]
    struct Backup {
        /// where: a folder, or s3://bucket/prefix
        #[argh(option)]
        pub to: Option<String>,
        /// how many complete backups to keep; older ones, and blobs only they held, go
        /// [default 7]
        #[argh(option, default = "7")]
        pub keep: usize,
        #[argh(subcommand)]
        pub action: Option<BackupAction>,
    }

    /// restore the newest complete backup into an empty data folder (or an empty
    /// database and photo store), then migrate it forward; safe to run again if stopped
    #[argh(subcommand, name = "restore")]
    struct Restore {
        /// the folder or s3://bucket/prefix the backups were written to
        #[argh(option)]
        pub from: String,
        /// which backup (its folder's name under backups/) [default: the newest complete]
        #[argh(option)]
        pub backup: Option<String>,
    }

    /// read the audit log (log-ins, role changes, removals, command-line actions)
    #[argh(subcommand, name = "audit")]
    struct Audit {
        #[argh(subcommand)]
        pub action: AuditAction,
    }

    /// move the embedded database's rows into PostgreSQL (when an install outgrows one
    /// machine)
    #[argh(subcommand, name = "db")]
    struct Db {
        #[argh(subcommand)]
        pub action: DbAction,
    }
}

#[derive(FromArgs, Debug)]
#[argh(subcommand)]
pub enum AuditAction {
    Export(AuditExport),
}

/// write every audit event as JSON lines to standard output, oldest first
#[derive(FromArgs, Debug)]
#[argh(subcommand, name = "export")]
pub struct AuditExport {
    /// only events with an id above this one (the last id of a previous export) [default 0]
    #[argh(option, default = "0")]
    pub after: i64,
}

#[derive(FromArgs, Debug)]
#[argh(subcommand)]
pub enum DbAction {
    Migrate(DbMigrate),
}

/// copy every row of the data folder's SQLite database into the empty PostgreSQL
/// database of --database-url (PUJO_DATABASE_URL), then compare both table by table;
/// stop Pujo first, and move the photos with `pujo blobs migrate`
#[derive(FromArgs, Debug)]
#[argh(subcommand, name = "migrate")]
pub struct DbMigrate {
    /// sqlite (the only source)
    #[argh(option)]
    pub from: String,
    /// postgres (the only target)
    #[argh(option)]
    pub to: String,
    /// leave sessions behind: everyone logs in again after the move
    #[argh(switch)]
    pub without_sessions: bool,
}

#[derive(FromArgs, Debug)]
#[argh(subcommand)]
pub enum BackupAction {
    Verify(BackupVerify),
}

/// check the newest complete backup: every file present with its size and SHA-256, the
/// database readable and of a schema this Pujo knows
#[derive(FromArgs, Debug)]
#[argh(subcommand, name = "verify")]
pub struct BackupVerify {
    /// the folder or s3://bucket/prefix the backups were written to
    #[argh(positional)]
    pub target: String,
    /// which backup (its folder's name under backups/) [default: the newest complete]
    #[argh(option)]
    pub backup: Option<String>,
    /// every complete backup, newest first
    #[argh(switch)]
    pub all: bool,
}

#[derive(FromArgs, Debug)]
#[argh(subcommand)]
pub enum BlobsAction {
    Migrate(BlobsMigrate),
    Gc(BlobsGc),
}

/// copy every blob from one store to the other, verifying each by SHA-256; safe to
/// interrupt and run again (what is already there is skipped)
#[derive(FromArgs, Debug)]
#[argh(subcommand, name = "migrate")]
pub struct BlobsMigrate {
    /// fs (the data folder) or s3 (the configured bucket)
    #[argh(option)]
    pub from: String,
    /// fs or s3
    #[argh(option)]
    pub to: String,
}

/// delete blobs that no photo refers to and that are older than the grace period
#[derive(FromArgs, Debug)]
#[argh(subcommand, name = "gc")]
pub struct BlobsGc {
    /// how old an unreferenced blob must be before it goes (an upload in progress has
    /// blobs but no row yet) [default 24h]
    #[argh(option, default = "String::from(\"24h\")")]
    pub grace: String,
    /// list what would be deleted, delete nothing
    #[argh(switch)]
    pub dry_run: bool,
}

#[derive(FromArgs, Debug)]
#[argh(subcommand)]
pub enum AdminAction {
    GrantAdmin(GrantAdmin),
    RevokeAdmin(RevokeAdmin),
    CreatePandal(CreatePandal),
}

/// make a person an admin (they may then keep pandals and remove any photo or comment)
#[derive(FromArgs, Debug)]
#[argh(subcommand, name = "grant-admin")]
pub struct GrantAdmin {
    /// the person's username
    #[argh(positional)]
    pub username: String,
}

/// make an admin an ordinary user again
#[derive(FromArgs, Debug)]
#[argh(subcommand, name = "revoke-admin")]
pub struct RevokeAdmin {
    /// the person's username
    #[argh(positional)]
    pub username: String,
}

/// add a pandal (name, city and year identify it)
#[derive(FromArgs, Debug)]
#[argh(subcommand, name = "create-pandal")]
pub struct CreatePandal {
    /// the pandal's name, e.g. "Bagbazar Sarbojanin"
    #[argh(option)]
    pub name: String,
    /// its para or locality
    #[argh(option, default = "String::new()")]
    pub para: String,
    /// its city
    #[argh(option)]
    pub city: String,
    /// the Puja year
    #[argh(option)]
    pub year: i64,
    /// latitude, -90 to 90
    #[argh(option)]
    pub lat: Option<f64>,
    /// longitude, -180 to 180
    #[argh(option)]
    pub lon: Option<f64>,
}

/// exit 0 when the URL answers 2xx, 1 otherwise (for images with no shell or curl)
#[derive(FromArgs, Debug)]
#[argh(subcommand, name = "healthcheck")]
pub struct Healthcheck {
    /// URL to check [default http://127.0.0.1:8080/health]
    #[argh(option, default = "String::from(\"http://127.0.0.1:8080/health\")")]
    pub url: String,
    /// seconds to wait for an answer
    #[argh(option, default = "5")]
    pub timeout: u64,
    /// accept any certificate (for --tls self-signed)
    #[argh(switch)]
    pub insecure: bool,
}

/// print the version and the commit it was built from
#[derive(FromArgs, Debug)]
#[argh(subcommand, name = "version")]
pub struct Version {}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::SETTINGS;

    #[test]
    fn every_setting_has_a_flag_and_every_flag_a_setting() {
        // Give every flag a value and check that each maps to a known setting once.
        let mut args: Vec<String> = vec!["serve".into()];
        for s in SETTINGS {
            args.push(format!("--{}", s.key));
            args.push(format!("v-{}", s.key));
        }
        let refs: Vec<&str> = args.iter().map(String::as_str).collect();
        let cli = Cli::from_args(&["pujo"], &refs).expect("all setting flags parse");
        let Some(Command::Serve(serve)) = cli.command else { panic!("serve expected") };
        let given = serve.settings();
        assert_eq!(given.len(), SETTINGS.len());
        for s in SETTINGS {
            let v = given.iter().find(|(k, _)| *k == s.key).map(|(_, v)| v.as_str());
            assert_eq!(v, Some(format!("v-{}", s.key).as_str()));
        }
    }
}
