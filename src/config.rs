//! Settings: command-line flags first, then `PUJO_*` environment variables (or the file
//! named by `PUJO_*_FILE`), then defaults.
//!
//! This is the only module that reads the process environment. Everything else receives a
//! [`Config`] value. A bad value is refused with one line that names the setting.

use std::collections::BTreeMap;
use std::fmt;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

/// One setting as documented in the README's configuration table.
#[derive(Debug, Clone, Copy)]
pub struct Setting {
    /// Flag name without dashes; the environment name is derived from it.
    pub key: &'static str,
    pub default: Option<&'static str>,
    /// Secrets are masked by `pujo config` and never logged.
    pub secret: bool,
    pub help: &'static str,
}

impl Setting {
    pub fn env_name(&self) -> String {
        format!("PUJO_{}", self.key.to_ascii_uppercase().replace('-', "_"))
    }
}

const fn setting(key: &'static str, default: Option<&'static str>, help: &'static str) -> Setting {
    Setting { key, default, secret: false, help }
}

const fn secret(key: &'static str, help: &'static str) -> Setting {
    Setting { key, default: None, secret: true, help }
}

/// Every setting Pujo knows. Unknown `PUJO_*` variables are refused, so typos surface.
pub const SETTINGS: &[Setting] = &[
    setting("listen", Some("127.0.0.1:8080"), "public listener (site, API, probes), host:port"),
    setting("admin-listen", Some("127.0.0.1:9090"), "admin listener for /metrics, /health, /ready; `off` disables it"),
    setting("redirect-listen", None, "optional plain-HTTP listener that redirects to HTTPS (with TLS only)"),
    setting(
        "data-dir",
        Some("./data"),
        "folder for local data: embedded database, blobs, temp files, self-signed cert",
    ),
    setting(
        "tls",
        Some("auto"),
        "`off`, `files` (PEM cert and key), `self-signed`, or `auto` (files when both paths are set)",
    ),
    setting("tls-cert-path", None, "PEM certificate chain; reloaded when it changes"),
    setting("tls-key-path", None, "PEM private key; reloaded when it changes"),
    setting("tls-reload-interval", Some("10s"), "how often the certificate files are checked for changes"),
    setting("tls-handshake-timeout", Some("10s"), "time allowed for a TLS handshake"),
    setting("hsts-max-age", Some("365d"), "Strict-Transport-Security max-age when serving TLS; 0s disables"),
    setting(
        "header-read-timeout",
        Some("10s"),
        "time allowed to receive a request's headers (slow clients are cut off)",
    ),
    setting("max-header-bytes", Some("16384"), "largest request head accepted, in bytes (at least 8192)"),
    setting("max-connections", Some("10000"), "concurrent connections per listener; more wait in the kernel backlog"),
    setting(
        "connection-rate",
        Some("100"),
        "new connections a second from one client address (IPv6 /64), after a burst; more wait their turn; 0 turns pacing off",
    ),
    setting("connection-burst", Some("200"), "new connections one client address may open at once before pacing"),
    setting("keep-alive-timeout", Some("75s"), "idle keep-alive connections are closed after this"),
    setting("request-timeout", Some("30s"), "a request still running after this gets 408"),
    setting(
        "max-active-requests",
        Some("64"),
        "requests a process works on at once; more wait their turn in order (uploads and probes are not counted)",
    ),
    setting(
        "max-waiting-requests",
        Some("2048"),
        "requests that may wait for a turn; more are answered 503 busy with Retry-After: 1",
    ),
    setting("upload-timeout", Some("15m"), "time an upload request may take (a silent one is cut after 60s)"),
    setting("max-body-bytes", Some("1048576"), "largest JSON request body, in bytes"),
    setting(
        "upload-expiry",
        Some("24h"),
        "a resumable upload not finished this long after it began is removed, with its bytes",
    ),
    setting("max-upload-bytes", Some("31457280"), "largest photo file accepted, in bytes (30 MiB)"),
    setting(
        "max-pixels",
        Some("100000000"),
        "largest photo accepted, in pixels (read from the header before decoding)",
    ),
    setting("media-cache-bytes", Some("268435456"), "memory for hot thumbnails and display images, in bytes"),
    setting(
        "upload-temp-bytes",
        Some("2147483648"),
        "temporary disk all uploads in progress may use, in bytes (each file counts twice: it and its copy without GPS)",
    ),
    setting(
        "decode-memory",
        Some("268435456"),
        "memory all photo decodes at once may take, in bytes; a photo that alone needs more is refused",
    ),
    setting(
        "guest-proof-bits",
        Some("16"),
        "work a new guest's browser does before its first upload through an upload link: leading zero bits of a SHA-256 (each one doubles it; 0 turns it off)",
    ),
    setting(
        "register-proof-bits",
        Some("16"),
        "work a browser does before it makes an account: leading zero bits of a SHA-256 (each one doubles it; 0 turns it off)",
    ),
    setting(
        "audit-retention",
        Some("365d"),
        "how long the audit log keeps an event (log-ins, role changes, removals) before it is deleted",
    ),
    setting("s3-bucket", None, "S3 bucket for photos; unset keeps them under the data folder"),
    setting("s3-endpoint", None, "endpoint URL of an S3-compatible server (MinIO, Garage, R2); unset uses AWS"),
    setting("s3-region", None, "S3 region; unset takes the AWS default chain's (us-east-1 if none)"),
    setting("s3-path-style", Some("false"), "address the bucket in the path, as most S3-compatible servers need"),
    setting(
        "s3-access-key-id",
        None,
        "static S3 access key id (with s3-secret-access-key); unset uses the AWS default chain",
    ),
    secret("s3-secret-access-key", "static S3 secret access key"),
    setting("s3-sse", Some("AES256"), "server-side encryption of every put: AES256, aws:kms, or off"),
    setting("s3-kms-key-id", None, "KMS key for s3-sse=aws:kms; unset lets AWS use the account's aws/s3 key"),
    setting("s3-timeout", Some("30s"), "time allowed for one S3 request attempt"),
    setting(
        "backup-s3-endpoint",
        None,
        "endpoint URL of the S3-compatible server `pujo backup --to s3://...` writes to; unset: the photo bucket's, or AWS",
    ),
    setting("backup-s3-path-style", Some("false"), "address the backup bucket in the path (with backup-s3-endpoint)"),
    setting(
        "shutdown-delay",
        Some("0s"),
        "after SIGTERM, keep accepting this long (readiness already 503) so load balancers deregister",
    ),
    setting("drain-timeout", Some("25s"), "after the listener closes, in-flight requests get this long to finish"),
    secret(
        "database-url",
        "postgres://user:password@host:5432/db selects PostgreSQL; unset uses SQLite in the data folder",
    ),
    setting("db-pool-size", Some("16"), "PostgreSQL connections per process"),
    setting("db-connect-timeout", Some("5s"), "time to get or open a PostgreSQL connection"),
    setting("db-statement-timeout", Some("5s"), "PostgreSQL statement_timeout for every query"),
    setting(
        "db-ca-file",
        None,
        "PEM file of CA certificates that sign the PostgreSQL server's certificate (e.g. the RDS bundle); unset trusts the system's roots",
    ),
    setting("migrate", Some("false"), "apply database migrations at start (SQLite always does)"),
    setting("log", Some("info"), "log filter, e.g. `info` or `pujo=debug,info`"),
    setting("log-format", Some("auto"), "`json`, `text`, or `auto` (text on a terminal, JSON otherwise)"),
    setting("access-log", Some("true"), "log every request once (method, route, status, duration, request id)"),
    secret(
        "redis-url",
        "redis:// or rediss:// (TLS) URL of the cache tier shared by replicas; unset caches in process only",
    ),
    secret("redis-password", "Redis AUTH token, used when the URL carries none"),
    setting(
        "redis-timeout",
        Some("50ms"),
        "time allowed for one Redis operation; past it the request goes on without Redis",
    ),
    setting("redis-pool-size", Some("64"), "Redis connections per process (each multiplexed)"),
    setting("cache-local-ttl", Some("5s"), "how long an API answer or a session stays in process"),
    setting(
        "cache-local-bytes",
        Some("67108864"),
        "memory for API answers in process, in bytes; 0 turns the in-process tier off",
    ),
    setting("cache-response-ttl", Some("5m"), "Redis TTL of one item's API answer (an album, a photo, its comments)"),
    setting("cache-query-ttl", Some("10m"), "Redis TTL of lists and search results"),
    setting("cache-negative-ttl", Some("10s"), "how long a 404 is remembered"),
    setting(
        "trusted-proxies",
        None,
        "comma-separated CIDRs of proxies whose X-Forwarded-For is believed (the load balancer's subnets)",
    ),
];

/// Build-time variables that may be present in a developer's shell; not settings.
const NOT_SETTINGS: &[&str] = &["PUJO_WEB_DIST", "PUJO_GIT_SHA"];

/// A setting that could not be used; the message is one line naming it.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ConfigError {
    #[error("invalid {name}: {value:?} {problem}")]
    Invalid { name: String, value: String, problem: String },
    #[error("unknown setting {0}; `pujo --help` lists the settings")]
    Unknown(String),
    #[error("{0} and {0}_FILE are both set; use one")]
    Both(String),
    #[error("cannot read {name}_FILE {path:?}: {reason}")]
    File { name: String, path: String, reason: String },
    #[error("{0}")]
    Conflict(String),
}

/// Where a value came from, shown by `pujo config`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    Flag,
    Env,
    File,
    Default,
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Origin::Flag => "flag",
            Origin::Env => "env",
            Origin::File => "file",
            Origin::Default => "default",
        })
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TlsMode {
    Off,
    Files { cert: PathBuf, key: PathBuf },
    SelfSigned,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Auto,
    Json,
    Text,
}

/// The most `PUJO_MAX_ACTIVE_REQUESTS` may be: far past what a process can work on
/// at once, and within what a semaphore can count.
pub const MAX_ACTIVE_REQUESTS: usize = 100_000;
/// The most `PUJO_MAX_WAITING_REQUESTS` may be: far past what connections can bring
/// (each waiting request holds an HTTP/1.1 connection or an HTTP/2 stream).
pub const MAX_WAITING_REQUESTS: usize = 1_000_000;

/// The effective configuration of one Pujo process.
#[derive(Debug, Clone)]
pub struct Config {
    pub listen: SocketAddr,
    pub admin_listen: Option<SocketAddr>,
    pub redirect_listen: Option<SocketAddr>,
    pub data_dir: PathBuf,
    pub tls: TlsMode,
    pub tls_reload_interval: Duration,
    pub tls_handshake_timeout: Duration,
    pub hsts_max_age: Duration,
    pub header_read_timeout: Duration,
    pub max_header_bytes: usize,
    pub max_connections: usize,
    /// New connections a second per client address (0: unpaced) and the burst before pacing.
    pub connection_rate: u32,
    pub connection_burst: u32,
    pub keep_alive_timeout: Duration,
    pub request_timeout: Duration,
    /// Requests worked on at once (`http::turns`).
    pub max_active_requests: usize,
    /// Requests that may wait for a turn; more are turned away (503 `busy`).
    pub max_waiting_requests: usize,
    pub upload_timeout: Duration,
    /// How long a resumable upload may take from its creation to its last byte.
    pub upload_expiry: Duration,
    /// How long the audit log keeps an event.
    pub audit_retention: Duration,
    /// Leading zero bits a new guest's proof of work must find (0: none asked).
    pub guest_proof_bits: u32,
    /// Leading zero bits the proof of work of a registration must find (0: none asked).
    pub register_proof_bits: u32,
    pub max_body_bytes: usize,
    pub shutdown_delay: Duration,
    pub drain_timeout: Duration,
    /// The database: PostgreSQL's URL (`None`: SQLite in the data folder) and pool.
    pub db: crate::db::DbSettings,
    pub migrate: bool,
    pub log: String,
    pub log_format: LogFormat,
    pub access_log: bool,
    /// Uploads, derivatives and the blob store.
    pub media: crate::media::MediaSettings,
    /// Where `pujo backup --to s3://...` connects when it is not the photo bucket's
    /// server: an S3-compatible server's endpoint and addressing (credentials from
    /// the AWS default chain).
    pub backup_s3_endpoint: Option<(String, bool)>,
    /// Proxies whose `X-Forwarded-For` names the client.
    pub trusted_proxies: Vec<crate::http::client_address::Cidr>,
    /// The edge cache: Redis and the in-process tier.
    pub cache: crate::cache::CacheSettings,
    /// Every setting's value and origin, for `pujo config`.
    pub effective: Vec<(Setting, Option<String>, Origin)>,
}

impl Config {
    /// Reads the process environment; flags are `(key, value)` pairs from the command line.
    pub fn from_process(flags: &[(&'static str, String)]) -> Result<Config, ConfigError> {
        Config::from_sources(flags, std::env::vars())
    }

    /// The defaults alone, as `pujo serve` with no flags and a clean environment sees them.
    pub fn defaults() -> Config {
        Config::from_sources(&[], std::iter::empty()).expect("defaults are valid")
    }

    /// Resolves every setting from explicit sources (tests use this directly).
    pub fn from_sources(
        flags: &[(&'static str, String)],
        env: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Config, ConfigError> {
        let env: BTreeMap<String, String> = env.into_iter().filter(|(k, _)| k.starts_with("PUJO_")).collect();
        check_unknown(&env)?;
        let mut effective = Vec::with_capacity(SETTINGS.len());
        for s in SETTINGS {
            let (value, origin) = resolve(s, flags, &env)?;
            effective.push((*s, value, origin));
        }
        let raw = Raw { effective: &effective };
        let tls_mode = raw.str("tls").unwrap_or("auto").to_owned();
        let cert = raw.opt_str("tls-cert-path").map(PathBuf::from);
        let key = raw.opt_str("tls-key-path").map(PathBuf::from);
        let tls = match (tls_mode.as_str(), cert, key) {
            ("off", _, _) => TlsMode::Off,
            ("self-signed", _, _) => TlsMode::SelfSigned,
            ("files" | "auto", Some(cert), Some(key)) => TlsMode::Files { cert, key },
            ("auto", None, None) => TlsMode::Off,
            ("files" | "auto", _, _) => {
                return Err(ConfigError::Conflict(
                    "PUJO_TLS_CERT_PATH and PUJO_TLS_KEY_PATH must be set together".to_owned(),
                ));
            }
            (other, _, _) => {
                return Err(raw.invalid("tls", other, "is not one of auto, off, files, self-signed"));
            }
        };
        if let Some(url) = raw.opt_str("database-url")
            && !(url.starts_with("postgres://") || url.starts_with("postgresql://"))
        {
            // The value is a secret: name the setting, never echo it.
            return Err(raw.invalid("database-url", "********", "must start with postgres:// or postgresql://"));
        }
        let redirect_listen = raw.opt_addr("redirect-listen")?;
        if redirect_listen.is_some() && tls == TlsMode::Off {
            return Err(ConfigError::Conflict("PUJO_REDIRECT_LISTEN needs TLS on the main listener".to_owned()));
        }
        let max_header_bytes = raw.usize("max-header-bytes")?;
        if max_header_bytes < 8192 {
            return Err(raw.invalid("max-header-bytes", &max_header_bytes.to_string(), "is below the minimum of 8192"));
        }
        let log_format = match raw.str("log-format").unwrap_or("auto") {
            "auto" => LogFormat::Auto,
            "json" => LogFormat::Json,
            "text" => LogFormat::Text,
            other => {
                return Err(raw.invalid("log-format", other, "is not one of auto, json, text"));
            }
        };
        let config = Config {
            listen: raw.addr("listen")?,
            admin_listen: match raw.str("admin-listen") {
                Some("off") => None,
                _ => raw.opt_addr("admin-listen")?,
            },
            redirect_listen,
            data_dir: PathBuf::from(raw.str("data-dir").unwrap_or("./data")),
            tls,
            tls_reload_interval: raw.positive_duration("tls-reload-interval")?,
            tls_handshake_timeout: raw.positive_duration("tls-handshake-timeout")?,
            hsts_max_age: raw.duration("hsts-max-age")?,
            header_read_timeout: raw.positive_duration("header-read-timeout")?,
            max_header_bytes,
            max_connections: raw.positive_usize("max-connections")?,
            connection_rate: raw.u32("connection-rate")?,
            connection_burst: raw.u32("connection-burst")?,
            keep_alive_timeout: raw.positive_duration("keep-alive-timeout")?,
            request_timeout: raw.positive_duration("request-timeout")?,
            max_active_requests: raw.bounded_usize("max-active-requests", MAX_ACTIVE_REQUESTS)?,
            max_waiting_requests: raw.bounded_usize("max-waiting-requests", MAX_WAITING_REQUESTS)?,
            upload_timeout: raw.positive_duration("upload-timeout")?,
            upload_expiry: raw.positive_duration("upload-expiry")?,
            audit_retention: raw.positive_duration("audit-retention")?,
            guest_proof_bits: proof_bits(&raw, "guest-proof-bits")?,
            register_proof_bits: proof_bits(&raw, "register-proof-bits")?,
            max_body_bytes: raw.positive_usize("max-body-bytes")?,
            shutdown_delay: raw.duration("shutdown-delay")?,
            drain_timeout: raw.duration("drain-timeout")?,
            db: crate::db::DbSettings {
                url: raw.opt_str("database-url").map(str::to_owned),
                pool_size: raw.positive_usize("db-pool-size")?,
                connect_timeout: raw.positive_duration("db-connect-timeout")?,
                statement_timeout: raw.positive_duration("db-statement-timeout")?,
                ca_file: raw.opt_str("db-ca-file").map(PathBuf::from),
            },
            migrate: raw.bool("migrate")?,
            log: raw.str("log").unwrap_or("info").to_owned(),
            log_format,
            access_log: raw.bool("access-log")?,
            trusted_proxies: raw.cidrs("trusted-proxies")?,
            media: media_settings(&raw)?,
            backup_s3_endpoint: match raw.opt_str("backup-s3-endpoint") {
                None => None,
                Some(url) if url.starts_with("http://") || url.starts_with("https://") => {
                    Some((url.to_owned(), raw.bool("backup-s3-path-style")?))
                }
                Some(url) => return Err(raw.invalid("backup-s3-endpoint", url, "is not an http:// or https:// URL")),
            },
            cache: cache_settings(&raw)?,
            effective: Vec::new(),
        };
        Ok(Config { effective, ..config })
    }

    /// `PUJO_NAME=value  (origin)` lines with secrets masked, for `pujo config`.
    pub fn render(&self) -> String {
        let mut out = String::new();
        for (s, value, origin) in &self.effective {
            let shown = match value {
                None => String::new(),
                Some(_) if s.secret => "********".to_owned(),
                Some(v) => v.clone(),
            };
            out.push_str(&format!("{}={}  # {}\n", s.env_name(), shown, origin));
        }
        out
    }
}

fn media_settings(raw: &Raw<'_>) -> Result<crate::media::MediaSettings, ConfigError> {
    let s3 = match raw.opt_str("s3-bucket") {
        None => None,
        Some(bucket) => {
            let credentials = match (raw.opt_str("s3-access-key-id"), raw.opt_str("s3-secret-access-key")) {
                (Some(id), Some(secret)) => Some((id.to_owned(), secret.to_owned())),
                (None, None) => None,
                (Some(_), None) => {
                    return Err(raw.invalid("s3-secret-access-key", "", "is needed with PUJO_S3_ACCESS_KEY_ID"));
                }
                (None, Some(_)) => return Err(raw.invalid("s3-access-key-id", "", "is needed with the secret key")),
            };
            let sse = raw.str("s3-sse").unwrap_or("AES256");
            if !matches!(sse, "AES256" | "aws:kms" | "off") {
                return Err(raw.invalid("s3-sse", sse, "is not AES256, aws:kms or off"));
            }
            if let Some(endpoint) = raw.opt_str("s3-endpoint")
                && !(endpoint.starts_with("http://") || endpoint.starts_with("https://"))
            {
                return Err(raw.invalid("s3-endpoint", endpoint, "is not an http:// or https:// URL"));
            }
            // The bucket's lifecycle rule (terraform/modules/s3) removes partial uploads
            // two days after they began: one kept longer would lose acknowledged bytes.
            let expiry = raw.positive_duration("upload-expiry")?;
            if expiry > Duration::from_secs(36 * 3600) {
                return Err(raw.invalid(
                    "upload-expiry",
                    raw.str("upload-expiry").unwrap_or(""),
                    "is over 36h, with S3: the bucket removes partial uploads after two days",
                ));
            }
            Some(crate::media::S3Settings {
                bucket: bucket.to_owned(),
                endpoint: raw.opt_str("s3-endpoint").map(str::to_owned),
                region: raw.opt_str("s3-region").map(str::to_owned),
                path_style: raw.bool("s3-path-style")?,
                credentials,
                sse: sse.to_owned(),
                kms_key_id: raw.opt_str("s3-kms-key-id").map(str::to_owned),
                timeout: raw.positive_duration("s3-timeout")?,
            })
        }
    };
    Ok(crate::media::MediaSettings {
        max_upload_bytes: raw.positive_usize("max-upload-bytes")? as u64,
        max_pixels: raw.positive_usize("max-pixels")? as u64,
        cache_bytes: raw.usize("media-cache-bytes")? as u64,
        decode_memory: raw.positive_usize("decode-memory")? as u64,
        temp_bytes: raw.positive_usize("upload-temp-bytes")? as u64,
        s3,
    })
}

/// A proof of work's cost: 0 (none asked) to 28 zero bits (minutes on a phone).
fn proof_bits(raw: &Raw<'_>, name: &str) -> Result<u32, ConfigError> {
    match raw.u32(name)? {
        bits @ 0..=28 => Ok(bits),
        _ => Err(raw.invalid(name, raw.str(name).unwrap_or(""), "must be 0 to 28")),
    }
}

fn cache_settings(raw: &Raw<'_>) -> Result<crate::cache::CacheSettings, ConfigError> {
    let redis = match raw.opt_str("redis-url") {
        None => None,
        Some(url) => {
            if !(url.starts_with("redis://") || url.starts_with("rediss://")) {
                // The value is a secret: name the setting, never echo it.
                return Err(raw.invalid("redis-url", "********", "must start with redis:// or rediss://"));
            }
            let pool_size = u32::try_from(raw.positive_usize("redis-pool-size")?).map_err(|_| {
                raw.invalid("redis-pool-size", raw.str("redis-pool-size").unwrap_or(""), "is too large")
            })?;
            Some(crate::cache::RedisSettings {
                url: url.to_owned(),
                password: raw.opt_str("redis-password").map(str::to_owned),
                timeout: raw.positive_duration("redis-timeout")?,
                pool_size,
            })
        }
    };
    Ok(crate::cache::CacheSettings {
        redis,
        local_ttl: raw.positive_duration("cache-local-ttl")?,
        local_bytes: raw.usize("cache-local-bytes")? as u64,
        response_ttl: raw.positive_duration("cache-response-ttl")?,
        query_ttl: raw.positive_duration("cache-query-ttl")?,
        negative_ttl: raw.positive_duration("cache-negative-ttl")?,
    })
}

fn check_unknown(env: &BTreeMap<String, String>) -> Result<(), ConfigError> {
    for name in env.keys() {
        if NOT_SETTINGS.contains(&name.as_str()) {
            continue;
        }
        // `PUJO_X_FILE` is setting X read from a file, unless X_FILE is itself a
        // setting's name (`PUJO_DB_CA_FILE`).
        let base = name.strip_suffix("_FILE").unwrap_or(name);
        if !SETTINGS.iter().any(|s| s.env_name() == *name || s.env_name() == base) {
            return Err(ConfigError::Unknown(name.clone()));
        }
    }
    Ok(())
}

fn resolve(
    s: &Setting,
    flags: &[(&'static str, String)],
    env: &BTreeMap<String, String>,
) -> Result<(Option<String>, Origin), ConfigError> {
    if let Some((_, v)) = flags.iter().rev().find(|(k, _)| *k == s.key) {
        return Ok((Some(v.clone()), Origin::Flag));
    }
    let name = s.env_name();
    let file_name = format!("{name}_FILE");
    match (env.get(&name), env.get(&file_name)) {
        (Some(_), Some(_)) => Err(ConfigError::Both(name)),
        (Some(v), None) => Ok((Some(v.clone()), Origin::Env)),
        (None, Some(path)) => {
            let text = std::fs::read_to_string(path).map_err(|e| ConfigError::File {
                name: name.clone(),
                path: path.clone(),
                reason: e.to_string(),
            })?;
            // Secret mounts and `echo` leave a trailing newline that is not part of the value.
            Ok((Some(text.trim_end_matches(['\n', '\r']).to_owned()), Origin::File))
        }
        (None, None) => Ok((s.default.map(str::to_owned), Origin::Default)),
    }
}

/// Typed views of the resolved strings; each failure names the setting.
struct Raw<'a> {
    effective: &'a [(Setting, Option<String>, Origin)],
}

impl Raw<'_> {
    fn str(&self, key: &str) -> Option<&str> {
        self.effective.iter().find(|(s, _, _)| s.key == key).and_then(|(_, v, _)| v.as_deref())
    }

    fn opt_str(&self, key: &str) -> Option<&str> {
        self.str(key).filter(|v| !v.is_empty())
    }

    fn invalid(&self, key: &str, value: &str, problem: &str) -> ConfigError {
        let name = SETTINGS.iter().find(|s| s.key == key).map_or_else(|| key.to_owned(), Setting::env_name);
        ConfigError::Invalid { name, value: value.to_owned(), problem: problem.to_owned() }
    }

    fn addr(&self, key: &str) -> Result<SocketAddr, ConfigError> {
        let v = self.str(key).unwrap_or("");
        v.parse().map_err(|_| self.invalid(key, v, "is not an address like 127.0.0.1:8080 or [::]:8080"))
    }

    fn opt_addr(&self, key: &str) -> Result<Option<SocketAddr>, ConfigError> {
        match self.opt_str(key) {
            None => Ok(None),
            Some(_) => self.addr(key).map(Some),
        }
    }

    fn duration(&self, key: &str) -> Result<Duration, ConfigError> {
        let v = self.str(key).unwrap_or("");
        if let Ok(secs) = v.parse::<u64>() {
            return Ok(Duration::from_secs(secs));
        }
        humantime::parse_duration(v).map_err(|_| self.invalid(key, v, "is not a duration like 10s, 500ms or 5m"))
    }

    fn positive_duration(&self, key: &str) -> Result<Duration, ConfigError> {
        let d = self.duration(key)?;
        if d.is_zero() {
            return Err(self.invalid(key, self.str(key).unwrap_or(""), "must be greater than zero"));
        }
        Ok(d)
    }

    fn usize(&self, key: &str) -> Result<usize, ConfigError> {
        let v = self.str(key).unwrap_or("");
        v.parse().map_err(|_| self.invalid(key, v, "is not a whole number"))
    }

    fn u32(&self, key: &str) -> Result<u32, ConfigError> {
        let v = self.str(key).unwrap_or("");
        v.parse().map_err(|_| self.invalid(key, v, "is not a whole number below 2^32"))
    }

    /// A count from 1 to `most`.
    fn bounded_usize(&self, key: &str, most: usize) -> Result<usize, ConfigError> {
        let n = self.positive_usize(key)?;
        if n > most {
            return Err(self.invalid(key, &n.to_string(), &format!("must be at most {most}")));
        }
        Ok(n)
    }

    fn positive_usize(&self, key: &str) -> Result<usize, ConfigError> {
        let n = self.usize(key)?;
        if n == 0 {
            return Err(self.invalid(key, "0", "must be greater than zero"));
        }
        Ok(n)
    }

    fn bool(&self, key: &str) -> Result<bool, ConfigError> {
        match self.str(key).unwrap_or("") {
            "true" | "1" | "yes" | "on" => Ok(true),
            "false" | "0" | "no" | "off" => Ok(false),
            other => Err(self.invalid(key, other, "is not true or false")),
        }
    }

    fn cidrs(&self, key: &str) -> Result<Vec<crate::http::client_address::Cidr>, ConfigError> {
        let text = self.str(key).unwrap_or("");
        crate::http::client_address::Cidr::parse_list(text)
            .map_err(|problem| self.invalid(key, text, &problem.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
    }

    #[test]
    fn defaults_are_the_embedded_setup() {
        let c = Config::defaults();
        assert_eq!(c.listen.to_string(), "127.0.0.1:8080");
        assert_eq!(c.admin_listen.map(|a| a.to_string()).as_deref(), Some("127.0.0.1:9090"));
        assert_eq!(c.tls, TlsMode::Off);
        assert_eq!(c.drain_timeout, Duration::from_secs(25));
        assert_eq!(c.hsts_max_age, Duration::from_secs(365 * 86400));
    }

    #[test]
    fn requests_worked_on_at_once_are_bounded_both_ways() {
        assert_eq!(Config::defaults().max_active_requests, 64);
        assert_eq!(Config::defaults().max_waiting_requests, 2048);
        for bad in ["0", "100001", "18446744073709551615"] {
            let e = Config::from_sources(&[], env(&[("PUJO_MAX_ACTIVE_REQUESTS", bad)])).expect_err(bad);
            assert!(e.to_string().contains("PUJO_MAX_ACTIVE_REQUESTS"), "{e}");
        }
        for bad in ["0", "1000001"] {
            let e = Config::from_sources(&[], env(&[("PUJO_MAX_WAITING_REQUESTS", bad)])).expect_err(bad);
            assert!(e.to_string().contains("PUJO_MAX_WAITING_REQUESTS"), "{e}");
        }
    }

    #[test]
    fn a_setting_whose_name_ends_in_file_is_not_mistaken_for_a_file_variant() {
        let c = Config::from_sources(&[], env(&[("PUJO_DB_CA_FILE", "/etc/rds.pem")])).expect("known setting");
        assert_eq!(c.db.ca_file.as_deref(), Some(std::path::Path::new("/etc/rds.pem")));
        let e = Config::from_sources(&[], env(&[("PUJO_DB_CA_FILES", "x")])).expect_err("unknown");
        assert_eq!(e, ConfigError::Unknown("PUJO_DB_CA_FILES".to_owned()));
        let c = Config::from_sources(&[], env(&[("PUJO_TRUSTED_PROXIES", "10.0.1.0/24, 10.0.2.0/24")])).expect("cidrs");
        assert_eq!(c.trusted_proxies.len(), 2);
        let e = Config::from_sources(&[], env(&[("PUJO_TRUSTED_PROXIES", "10.0.0.0/40")])).expect_err("bad cidr");
        assert!(e.to_string().contains("PUJO_TRUSTED_PROXIES"), "{e}");
    }

    #[test]
    fn flags_beat_env_and_env_beats_defaults() {
        let e = env(&[("PUJO_LISTEN", "127.0.0.1:1"), ("PUJO_DRAIN_TIMEOUT", "3s")]);
        let c = Config::from_sources(&[("listen", "127.0.0.1:2".to_owned())], e).unwrap();
        assert_eq!(c.listen.port(), 2);
        assert_eq!(c.drain_timeout, Duration::from_secs(3));
        let origin = |k: &str| c.effective.iter().find(|(s, _, _)| s.key == k).unwrap().2;
        assert_eq!(origin("listen"), Origin::Flag);
        assert_eq!(origin("drain-timeout"), Origin::Env);
        assert_eq!(origin("log"), Origin::Default);
    }

    #[test]
    fn a_setting_can_come_from_a_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("log");
        std::fs::write(&path, "debug\n").unwrap();
        let e = env(&[("PUJO_LOG_FILE", path.to_str().unwrap())]);
        let c = Config::from_sources(&[], e).unwrap();
        assert_eq!(c.log, "debug");
        let both = env(&[("PUJO_LOG_FILE", path.to_str().unwrap()), ("PUJO_LOG", "info")]);
        assert_eq!(Config::from_sources(&[], both).unwrap_err(), ConfigError::Both("PUJO_LOG".into()));
        let missing = env(&[("PUJO_LOG_FILE", "/nonexistent/pujo-log")]);
        let err = Config::from_sources(&[], missing).unwrap_err().to_string();
        assert!(err.starts_with("cannot read PUJO_LOG_FILE \"/nonexistent/pujo-log\""), "{err}");
    }

    #[test]
    fn bad_values_name_the_setting_in_one_line() {
        let cases = [
            ("PUJO_LISTEN", "localhost", "invalid PUJO_LISTEN: \"localhost\" is not an address"),
            ("PUJO_DRAIN_TIMEOUT", "soon", "invalid PUJO_DRAIN_TIMEOUT: \"soon\" is not a duration"),
            ("PUJO_MAX_HEADER_BYTES", "100", "invalid PUJO_MAX_HEADER_BYTES: \"100\" is below the minimum"),
            ("PUJO_ACCESS_LOG", "maybe", "invalid PUJO_ACCESS_LOG: \"maybe\" is not true or false"),
            ("PUJO_TLS", "always", "invalid PUJO_TLS: \"always\" is not one of"),
            ("PUJO_LISTN", "x", "unknown setting PUJO_LISTN"),
        ];
        for (k, v, want) in cases {
            let err = Config::from_sources(&[], env(&[(k, v)])).unwrap_err().to_string();
            assert!(err.starts_with(want), "{k}={v}: {err}");
            assert!(!err.contains('\n'));
        }
    }

    #[test]
    fn redis_settings_are_checked_and_their_secrets_masked() {
        let c = Config::defaults();
        assert!(c.cache.redis.is_none(), "the embedded default caches in process only");
        let e = env(&[("PUJO_REDIS_URL", "rediss://:s3cret@cache.internal:6379"), ("PUJO_REDIS_PASSWORD", "t0ken")]);
        let c = Config::from_sources(&[], e).unwrap();
        let redis = c.cache.redis.as_ref().expect("configured");
        assert_eq!(redis.timeout, Duration::from_millis(50));
        assert_eq!(redis.pool_size, 64);
        let shown = c.render();
        assert!(!shown.contains("s3cret") && !shown.contains("t0ken"), "{shown}");
        assert!(shown.contains("PUJO_REDIS_URL=********"));
        let bad = Config::from_sources(&[], env(&[("PUJO_REDIS_URL", "http://:pw@cache:6379")])).unwrap_err();
        assert_eq!(bad.to_string(), "invalid PUJO_REDIS_URL: \"********\" must start with redis:// or rediss://");
        let zero = Config::from_sources(&[], env(&[("PUJO_REDIS_URL", "redis://x"), ("PUJO_REDIS_TIMEOUT", "0s")]));
        assert!(zero.unwrap_err().to_string().contains("PUJO_REDIS_TIMEOUT"));
    }

    #[test]
    fn tls_mode_follows_the_paths() {
        let both = env(&[("PUJO_TLS_CERT_PATH", "/c.pem"), ("PUJO_TLS_KEY_PATH", "/k.pem")]);
        let c = Config::from_sources(&[], both).unwrap();
        assert_eq!(c.tls, TlsMode::Files { cert: "/c.pem".into(), key: "/k.pem".into() });
        let half = env(&[("PUJO_TLS_CERT_PATH", "/c.pem")]);
        assert!(matches!(Config::from_sources(&[], half), Err(ConfigError::Conflict(_))));
        let redirect = env(&[("PUJO_REDIRECT_LISTEN", "127.0.0.1:8081")]);
        assert!(matches!(Config::from_sources(&[], redirect), Err(ConfigError::Conflict(_))));
        let off = env(&[("PUJO_ADMIN_LISTEN", "off")]);
        assert_eq!(Config::from_sources(&[], off).unwrap().admin_listen, None);
    }

    #[test]
    fn secrets_are_masked_and_never_echoed_in_errors() {
        let url = "postgres://pujo:hunter2@db:5432/pujo";
        let c = Config::from_sources(&[], env(&[("PUJO_DATABASE_URL", url)])).unwrap();
        assert_eq!(c.db.url.as_deref(), Some(url));
        let text = c.render();
        assert!(text.contains("PUJO_DATABASE_URL=********  # env"), "{text}");
        assert!(!text.contains("hunter2"));
        let bad = Config::from_sources(&[], env(&[("PUJO_DATABASE_URL", "mysql://root:hunter2@db")])).unwrap_err();
        assert!(bad.to_string().starts_with("invalid PUJO_DATABASE_URL"), "{bad}");
        assert!(!bad.to_string().contains("hunter2"));
    }

    #[test]
    fn render_lists_every_setting_once() {
        let text = Config::defaults().render();
        assert_eq!(text.lines().count(), SETTINGS.len());
        assert!(text.contains("PUJO_LISTEN=127.0.0.1:8080  # default"));
    }
}
