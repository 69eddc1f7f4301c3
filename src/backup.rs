//! `pujo backup`, `pujo backup verify` and `pujo restore`: a running server's
//! database and photos, copied to a folder or an S3 bucket, checked, and put back.
//!
//! A target holds (keys relative to the folder, or to `s3://bucket/prefix/`):
//!
//! ```text
//! blobs/uploads/<sha256>                      every blob, shared by all backups
//! blobs/thumbnails/<sha256>/<variant>.<ext>
//! backups/<UTC time>/database.sqlite          SQLite: one consistent copy
//! backups/<UTC time>/postgres/<table>.csv     PostgreSQL: every table, one snapshot
//! backups/<UTC time>/manifest.json            every file above with sha256 and size
//! backups/<UTC time>/manifest.sha256          the manifest's own hash, written last
//! ```
//!
//! A backup is complete when its `manifest.sha256` exists and names the manifest's
//! hash; it is written last, so a backup stopped at any point (`kill -9`) is never
//! taken for a complete one. Blobs are content-addressed, so a later backup copies
//! only the blobs no earlier one has. The order is blobs, database, blobs again: a
//! photo's blobs are stored before its row, so every photo in the database copy had
//! its blobs in the store by the second pass, which checks that each one is there.

use std::collections::{BTreeMap, BTreeSet};
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, SystemTime};

use futures_util::StreamExt;
use serde::{Deserialize, Serialize};
use sha2::Digest;
use tokio::io::AsyncWriteExt;

use crate::blobs::{fetch_to, hash_of};
use crate::cli::{Backup, BackupAction, Db, DbAction, Restore};
use crate::command::Failure;
use crate::config::Config;
use crate::db::Database;
use crate::db::dump::{PgDump, Summary};
use crate::media::store::{BlobStore, FsStore, S3Settings, S3Store, StoreError};
use crate::metrics::Metrics;

/// What `manifest.json` says it is; a restore refuses any other.
const FORMAT: &str = "pujo-backup/1";
/// The key prefixes of the blob store that are photos (resumable uploads' partial
/// chunks under `partial/` are not kept: an unfinished upload is not a photo).
const BLOB_PREFIXES: [&str; 2] = ["uploads/", "thumbnails/"];
/// A backup without its `manifest.sha256` this long after it began was stopped; its
/// files go, and blobs no kept backup names go once they are this old too (younger
/// ones may belong to a backup still running).
const ABANDONED_AFTER: Duration = Duration::from_secs(24 * 3600);
/// Blobs copied at once: reading, hashing and writing overlap (two cores here; S3's
/// latency wants more than one request in flight).
const PARALLEL_COPIES: usize = 4;

/// One file of a backup.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Entry {
    /// Relative to the backup's folder (database files) or to `blobs/` (blobs).
    pub path: String,
    pub sha256: String,
    pub size: u64,
}

/// `manifest.json`: everything a restore needs to know, and every file with its hash.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Manifest {
    pub format: String,
    /// RFC 3339, UTC.
    pub created: String,
    pub pujo_version: String,
    /// `sqlite` or `postgres`.
    pub backend: String,
    pub schema_version: u32,
    pub summary: Summary,
    pub database: Vec<Entry>,
    /// PostgreSQL: the tables' columns and rows, and where the sequences stood.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub postgres: Option<PgDump>,
    pub blobs: Vec<Entry>,
}

impl Manifest {
    fn bytes(&self) -> u64 {
        self.database.iter().chain(&self.blobs).map(|e| e.size).sum()
    }
}

pub fn run_backup(config: &Config, args: &Backup) -> ExitCode {
    let outcome = on_runtime(async {
        match (&args.action, &args.to) {
            (Some(BackupAction::Verify(v)), _) => verify(config, &v.target, v.backup.as_deref(), v.all).await,
            (None, Some(to)) => backup(config, to, args.keep).await,
            (None, None) => Err(Failure::Usage("say where: --to DIR or --to s3://bucket/prefix".into())),
        }
    });
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => failure.report("backup"),
    }
}

pub fn run_restore(config: &Config, args: &Restore) -> ExitCode {
    match on_runtime(restore(config, &args.from, args.backup.as_deref())) {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => failure.report("restore"),
    }
}

pub fn run_db(config: &Config, args: &Db) -> ExitCode {
    let DbAction::Migrate(m) = &args.action;
    match on_runtime(move_to_postgres(config, &m.from, &m.to, !m.without_sessions)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => failure.report("db migrate"),
    }
}

fn on_runtime(work: impl Future<Output = Result<(), Failure>>) -> Result<(), Failure> {
    let runtime = crate::command::runtime(true).map_err(|_| Failure::failed("cannot start the async runtime"))?;
    runtime.block_on(work)
}

// ------------------------------------------------------------------ where backups go

/// A folder or a bucket, with keys under an optional prefix.
struct Target {
    store: BlobStore,
    /// The folder, for a folder target.
    folder: Option<PathBuf>,
    prefix: String,
    /// For messages: what the person typed.
    name: String,
}

impl Target {
    async fn open(config: &Config, spec: &str) -> Result<Target, Failure> {
        if let Some(rest) = spec.strip_prefix("s3://") {
            let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
            if bucket.is_empty() {
                return Err(Failure::Usage(format!("{spec}: no bucket named")));
            }
            let prefix = prefix.trim_matches('/');
            if !prefix.is_empty() && !crate::media::store::valid_key(prefix) {
                return Err(Failure::Usage(format!("{spec}: the prefix may hold only letters, digits and /._-")));
            }
            // A backup server of its own (PUJO_BACKUP_S3_ENDPOINT, credentials from the
            // AWS default chain); else the photo bucket's server, with its settings
            // (endpoint, credentials, encryption); else AWS with the default chain.
            let mut settings = match (&config.backup_s3_endpoint, &config.media.s3) {
                (Some((endpoint, path_style)), _) => S3Settings {
                    endpoint: Some(endpoint.clone()),
                    path_style: *path_style,
                    sse: "AES256".into(),
                    ..S3Settings::default()
                },
                (None, Some(photos)) => photos.clone(),
                (None, None) => S3Settings { sse: "AES256".into(), ..S3Settings::default() },
            };
            settings.bucket = bucket.to_owned();
            settings.timeout = settings.timeout.max(Duration::from_secs(300));
            let store = S3Store::connect(&settings).await.map_err(Failure::failed)?;
            let prefix = if prefix.is_empty() { String::new() } else { format!("{prefix}/") };
            return Ok(Target { store: BlobStore::S3(store), folder: None, prefix, name: spec.to_owned() });
        }
        if spec.is_empty() {
            return Err(Failure::Usage("the backup folder is empty".into()));
        }
        let store = FsStore::open_batched(PathBuf::from(spec)).map_err(Failure::failed)?;
        Ok(Target {
            store: BlobStore::Fs(store),
            folder: Some(PathBuf::from(spec)),
            prefix: String::new(),
            name: spec.to_owned(),
        })
    }

    /// For a folder, an exclusive lock on `.lock` in it for as long as the file is
    /// held (the kernel lets go when the process ends, however it ends).
    fn lock(&self) -> Result<Option<std::fs::File>, Failure> {
        let Some(folder) = &self.folder else { return Ok(None) };
        let file = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(folder.join(".lock"))
            .map_err(|e| Failure::failed(format!("{}: cannot open .lock: {e}", self.name)))?;
        match rustix::fs::flock(&file, rustix::fs::FlockOperation::NonBlockingLockExclusive) {
            Ok(()) => Ok(Some(file)),
            Err(rustix::io::Errno::WOULDBLOCK) => {
                Err(Failure::failed(format!("another backup is writing to {} now; try again when it ends", self.name)))
            }
            Err(e) => Err(Failure::failed(format!("{}: cannot lock .lock: {e}", self.name))),
        }
    }

    fn key(&self, path: &str) -> String {
        format!("{}{path}", self.prefix)
    }

    /// Keys under `path`, relative to the target, with their last change.
    async fn list(&self, path: &str) -> Result<Vec<(String, SystemTime)>, Failure> {
        let listed = self.store.list(&self.key(path)).await.map_err(Failure::failed)?;
        Ok(listed.into_iter().filter_map(|(k, t)| Some((k.strip_prefix(&self.prefix)?.to_owned(), t))).collect())
    }

    /// The backups' names (their folders under `backups/`), oldest first, with
    /// whether each is complete.
    async fn backups(&self) -> Result<BTreeMap<String, bool>, Failure> {
        let mut found = BTreeMap::new();
        for (key, _) in self.list("backups/").await? {
            let Some((name, file)) = key.strip_prefix("backups/").and_then(|k| k.split_once('/')) else { continue };
            // Only names a backup gives (a folder copied in by hand is not one).
            if !name.bytes().all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b)) {
                continue;
            }
            let complete = found.entry(name.to_owned()).or_insert(false);
            *complete |= file == "manifest.sha256";
        }
        Ok(found)
    }

    /// The complete backup named `which`, or the newest; its manifest checked.
    async fn chosen(&self, metrics: &Metrics, which: Option<&str>) -> Result<(String, Manifest), Failure> {
        let Some(name) = which else { return self.newest(metrics).await };
        match self.backups().await?.get(name) {
            Some(true) => Ok((name.to_owned(), self.manifest(metrics, name).await?)),
            Some(false) => Err(Failure::failed(format!("backup {name} in {} is not complete", self.name))),
            None => Err(Failure::failed(format!("{} holds no backup {name}", self.name))),
        }
    }

    /// The newest complete backup, its manifest checked against its hash.
    async fn newest(&self, metrics: &Metrics) -> Result<(String, Manifest), Failure> {
        let backups = self.backups().await?;
        let Some(name) = backups.iter().rev().find(|(_, complete)| **complete).map(|(n, _)| n.clone()) else {
            let partial = backups.len();
            return Err(Failure::failed(format!(
                "{}: no complete backup ({partial} stopped before their manifest was written)",
                self.name
            )));
        };
        let manifest = self.manifest(metrics, &name).await?;
        Ok((name, manifest))
    }

    async fn manifest(&self, metrics: &Metrics, name: &str) -> Result<Manifest, Failure> {
        let read = |file: String| async move {
            self.store.get_bytes(metrics, &self.key(&file)).await.map_err(|e| match e {
                StoreError::NotFound => Failure::failed(format!("{}: {file} is missing", self.name)),
                e => Failure::failed(e),
            })
        };
        let body = read(format!("backups/{name}/manifest.json")).await?;
        let expected = read(format!("backups/{name}/manifest.sha256")).await?;
        if crate::util::hex(&sha2::Sha256::digest(&body)) != String::from_utf8_lossy(&expected).trim() {
            return Err(Failure::failed(format!(
                "backup {name}: manifest.json does not match its hash; it was changed"
            )));
        }
        let manifest: Manifest = serde_json::from_slice(&body)
            .map_err(|e| Failure::failed(format!("backup {name}: manifest.json is not a manifest: {e}")))?;
        if manifest.format != FORMAT {
            return Err(Failure::failed(format!("backup {name}: format {:?}, expected {FORMAT}", manifest.format)));
        }
        let known = crate::db::dump::known_schema_version();
        if manifest.schema_version == 0 || manifest.schema_version > known {
            return Err(Failure::failed(format!(
                "backup {name}: schema version {} is not one this Pujo knows (1 to {known}); use a newer Pujo",
                manifest.schema_version
            )));
        }
        for entry in manifest.database.iter().chain(&manifest.blobs) {
            let misnamed = entry.path.strip_prefix("uploads/").is_some_and(|hex| hex != entry.sha256);
            if !crate::media::store::valid_key(&entry.path) || entry.sha256.len() != 64 || misnamed {
                return Err(Failure::failed(format!("backup {name}: manifest entry {:?} is malformed", entry.path)));
            }
        }
        Ok(manifest)
    }

    /// Where a file bound for this target is written first.
    fn temp_dir(&self, fallback: &Path) -> PathBuf {
        self.store.temp_dir().unwrap_or_else(|| fallback.to_owned())
    }
}

// ------------------------------------------------------------------ progress

/// Progress for a person on a terminal (one line on stderr, rewritten), JSON lines on
/// stdout for a timer's journal or a script.
struct Report {
    tty: bool,
}

impl Report {
    fn new() -> Report {
        Report { tty: std::io::stdout().is_terminal() }
    }

    fn progress(&self, stage: &str, done: usize, total: usize, bytes: u64) {
        if self.tty {
            eprint!("\r{stage}: {done}/{total} files, {:.1} MB   ", bytes as f64 / 1e6);
            let _ = std::io::stderr().flush();
        } else if done == total || done.is_multiple_of(1000) {
            self.event(
                &serde_json::json!({"event": "progress", "stage": stage, "done": done, "total": total, "bytes": bytes}),
            );
        }
    }

    fn end_progress(&self) {
        if self.tty {
            eprintln!();
        }
    }

    fn event(&self, value: &serde_json::Value) {
        println!("{value}");
    }

    /// The last word: a sentence on a terminal, a JSON line otherwise.
    fn done(&self, sentence: String, value: serde_json::Value) {
        if self.tty {
            println!("{sentence}");
        } else {
            self.event(&value);
        }
    }
}

// ------------------------------------------------------------------ copying

/// A name for a temp file in `dir`, unique in this process.
fn temp_name(dir: &Path, what: &str) -> PathBuf {
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    dir.join(format!("{what}-{}-{n}", std::process::id()))
}

/// Copies one blob between stores, checking an original's bytes hash to its name;
/// `None` when the source no longer has it.
async fn copy_blob(
    from: &BlobStore,
    from_key: &str,
    to: &BlobStore,
    to_key: &str,
    temp_dir: &Path,
    metrics: &Metrics,
) -> Result<Option<Entry>, Failure> {
    let temp = temp_name(temp_dir, "blob");
    // Gone since the listing: the caller decides what that means.
    let Some((sha, size)) = fetch_to(from, metrics, from_key, &temp).await? else { return Ok(None) };
    let sha = crate::util::hex(&sha);
    let named = from_key.strip_prefix("uploads/");
    if named.is_some_and(|hex| hex != sha) {
        let _ = tokio::fs::remove_file(&temp).await;
        return Err(Failure::failed(format!("{from_key} does not hash to its name; the store holds damaged bytes")));
    }
    let content_type = crate::media::store::content_type_of(to_key);
    to.put_owned(metrics, to_key, &temp, content_type).await.map_err(Failure::failed)?;
    Ok(Some(Entry { path: from_key.to_owned(), sha256: sha, size }))
}

/// A folder removed, with what is in it, when dropped.
struct WorkDir(PathBuf);

impl WorkDir {
    fn new(config: &Config, what: &str) -> Result<WorkDir, Failure> {
        let dir = temp_name(&config.data_dir.join("tmp"), what);
        std::fs::create_dir_all(&dir).map_err(|e| Failure::failed(format!("cannot create {}: {e}", dir.display())))?;
        Ok(WorkDir(dir))
    }
}

impl Drop for WorkDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

async fn source_keys(store: &BlobStore) -> Result<Vec<String>, Failure> {
    let mut keys = Vec::new();
    for prefix in BLOB_PREFIXES {
        keys.extend(store.list(prefix).await.map_err(Failure::failed)?.into_iter().map(|(k, _)| k));
    }
    Ok(keys)
}

async fn open_database(config: &Config) -> Result<Database, Failure> {
    if config.db.url.is_none() && !config.data_dir.join("pujo.db").exists() {
        return Err(Failure::failed(format!("no database in {}", config.data_dir.display())));
    }
    Database::open(&config.db, &config.data_dir).await.map_err(Failure::failed)
}

// ------------------------------------------------------------------ backup

async fn backup(config: &Config, to: &str, keep: usize) -> Result<(), Failure> {
    if keep == 0 {
        return Err(Failure::Usage("--keep must be at least 1".into()));
    }
    let metrics = Metrics::new(crate::util::VERSION, crate::util::GIT_SHA);
    let report = Report::new();
    let target = Target::open(config, to).await?;
    let source = crate::blobs::open(config, if config.media.s3.is_some() { "s3" } else { "fs" }).await?;
    let db = open_database(config).await?;
    let work = WorkDir::new(config, "backup")?;
    let temp_dir = target.temp_dir(&work.0);
    // One backup at a time into a folder: another's pruning must not remove blobs this
    // one counts on. (A bucket has no lock; the check before the manifest's hash
    // below catches what a concurrent prune removed.)
    let _lock = target.lock()?;

    let now = time::OffsetDateTime::now_utc();
    let mut name = format!(
        "{:04}{:02}{:02}T{:02}{:02}{:02}.{:03}Z",
        now.year(),
        u8::from(now.month()),
        now.day(),
        now.hour(),
        now.minute(),
        now.second(),
        now.millisecond()
    );
    let existing = target.backups().await?;
    if existing.contains_key(&name) {
        name = (2..).map(|n| format!("{name}-{n}")).find(|n| !existing.contains_key(n)).unwrap_or(name);
    }
    // What the complete backups know of the blobs they share with this one (the newest
    // naming a blob wins): those are not read or written again, since older backups
    // hashed those bytes. A blob there that none names was left by a backup that
    // stopped, and is written again.
    let mut known: BTreeMap<String, Entry> = BTreeMap::new();
    // Which blobs each complete backup names, for the pruning at the end.
    let mut named: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (name, _) in existing.iter().filter(|(_, complete)| **complete) {
        match target.manifest(&metrics, name).await {
            Ok(manifest) => {
                named.insert(name.clone(), manifest.blobs.iter().map(|e| e.path.clone()).collect());
                known.extend(manifest.blobs.into_iter().map(|e| (e.path.clone(), e)));
            }
            Err(failure) => report.event(&serde_json::json!({
                "event": "warning", "message": format!("{}; its blobs are copied again", message(failure)),
            })),
        }
    }
    let present: BTreeSet<String> = target
        .list("blobs/")
        .await?
        .into_iter()
        .filter_map(|(k, _)| k.strip_prefix("blobs/").map(str::to_owned))
        .collect();

    let mut copier = Copier {
        source: &source,
        target: &target,
        temp_dir: &temp_dir,
        metrics: &metrics,
        report: &report,
        known,
        present,
        blobs: BTreeMap::new(),
        copied: 0,
        copied_bytes: 0,
    };
    copier.pass(source_keys(&source).await?).await?;

    // The database, from one snapshot.
    let mut database = Vec::new();
    let (schema_version, postgres, originals, summary) = if db.is_embedded() {
        let file = work.0.join("database.sqlite");
        db.snapshot_sqlite(&file).await.map_err(Failure::failed)?;
        let crate::db::dump::SqliteFile { schema_version: version, summary, originals } =
            crate::db::dump::read_sqlite_file(&file, true).await.map_err(Failure::failed)?;
        database.push(put_database_file(&target, &metrics, &name, "database.sqlite", &file, &temp_dir).await?);
        (version, None, originals, summary)
    } else {
        let dir = work.0.join("postgres");
        tokio::fs::create_dir_all(&dir).await.map_err(Failure::failed)?;
        let crate::db::dump::Snapshot { dump, originals, summary } =
            db.dump_postgres(&dir).await.map_err(Failure::failed)?;
        for table in &dump.tables {
            let file = format!("{}.csv", table.name);
            let entry =
                put_database_file(&target, &metrics, &name, &format!("postgres/{file}"), &dir.join(&file), &temp_dir)
                    .await?;
            database.push(entry);
        }
        (dump.schema_version, Some(dump), originals, summary)
    };

    // Photos stored since the first pass, then the check that every photo in the
    // database copy has its original.
    copier.pass(source_keys(&source).await?).await?;
    let Copier { blobs, copied, copied_bytes, .. } = copier;
    let missing: Vec<String> = originals
        .iter()
        .map(|sha| format!("uploads/{}", crate::util::hex(sha)))
        .filter(|key| !blobs.contains_key(key))
        .collect();
    if let Some(first) = missing.first() {
        return Err(Failure::failed(format!(
            "{} photos in the database copy have no original in the store (the first: {first}); \
             they were deleted while the backup ran, or the store lost them. Run the backup again",
            missing.len()
        )));
    }

    let manifest = Manifest {
        format: FORMAT.into(),
        created: now.format(&time::format_description::well_known::Rfc3339).unwrap_or_default(),
        pujo_version: crate::util::VERSION.into(),
        backend: db.backend().into(),
        schema_version,
        summary,
        database,
        postgres,
        blobs: blobs.into_values().collect(),
    };
    // Every blob and database file durable before the manifest names them.
    target.store.sync().await.map_err(Failure::failed)?;
    let body = serde_json::to_vec_pretty(&manifest).map_err(Failure::failed)?;
    let hash = crate::util::hex(&sha2::Sha256::digest(&body));
    let put = |file: &'static str, bytes: Vec<u8>| {
        let key = target.key(&format!("backups/{name}/{file}"));
        let store = &target.store;
        let metrics = &metrics;
        async move { store.put_bytes(metrics, &key, bytes.into(), "application/json").await.map_err(Failure::failed) }
    };
    put("manifest.json", body).await?;
    // Every blob named is there now (a concurrent prune into a bucket could have
    // removed one this backup took from an earlier one).
    let there: BTreeSet<String> = target.list("blobs/").await?.into_iter().map(|(k, _)| k).collect();
    if let Some(gone) = manifest.blobs.iter().find(|e| !there.contains(&format!("blobs/{}", e.path))) {
        return Err(Failure::failed(format!(
            "blobs/{} left {} while this backup ran (another backup's pruning?); run it again",
            gone.path, target.name
        )));
    }
    // Last: from here on the backup is complete.
    put("manifest.sha256", format!("{hash}\n").into_bytes()).await?;

    named.insert(name.clone(), manifest.blobs.iter().map(|e| e.path.clone()).collect());
    let removed = prune(&target, &metrics, keep, &name, &named).await?;
    report.done(
        format!(
            "backup {name} complete in {}: {} users, {} albums, {} photos; {} blobs ({} copied now, {:.1} MB); \
             {} older backups removed",
            target.name,
            summary.users,
            summary.albums,
            summary.photos,
            manifest.blobs.len(),
            copied,
            copied_bytes as f64 / 1e6,
            removed
        ),
        serde_json::json!({
            "event": "done", "backup": name, "target": target.name, "summary": summary,
            "blobs": manifest.blobs.len(), "copied": copied, "copied_bytes": copied_bytes,
            "bytes": manifest.bytes(), "removed_backups": removed,
        }),
    );
    Ok(())
}

/// The blobs of one backup: copied when the target lacks them, or taken from the
/// newest complete backup when it has them.
struct Copier<'a> {
    source: &'a BlobStore,
    target: &'a Target,
    temp_dir: &'a Path,
    metrics: &'a Metrics,
    report: &'a Report,
    /// The newest complete backup's blobs, by key.
    known: BTreeMap<String, Entry>,
    /// The keys under the target's `blobs/`.
    present: BTreeSet<String>,
    blobs: BTreeMap<String, Entry>,
    copied: usize,
    copied_bytes: u64,
}

impl Copier<'_> {
    async fn pass(&mut self, keys: Vec<String>) -> Result<(), Failure> {
        let total = keys.len();
        let mut to_copy = Vec::new();
        for key in keys {
            if self.blobs.contains_key(&key) {
                continue;
            }
            match self.known.get(&key) {
                Some(entry) if self.present.contains(&key) => {
                    self.blobs.insert(key, entry.clone());
                }
                _ => to_copy.push(key),
            }
        }
        let mut done = total - to_copy.len();
        let (source, target, temp_dir, metrics) = (self.source, self.target, self.temp_dir, self.metrics);
        let mut copies = futures_util::stream::iter(to_copy)
            .map(|key| async move {
                let to = target.key(&format!("blobs/{key}"));
                copy_blob(source, &key, &target.store, &to, temp_dir, metrics).await.map(|entry| (key, entry))
            })
            .buffer_unordered(PARALLEL_COPIES);
        while let Some(copied) = copies.next().await {
            // Deleted since the listing (a photo deleted, `blobs gc`): the check of the
            // originals after the second pass decides.
            if let (key, Some(entry)) = copied? {
                self.copied += 1;
                self.copied_bytes += entry.size;
                self.blobs.insert(key, entry);
            }
            done += 1;
            self.report.progress("blobs", done, total, self.copied_bytes);
        }
        self.report.end_progress();
        Ok(())
    }
}

async fn put_database_file(
    target: &Target,
    metrics: &Metrics,
    backup: &str,
    path: &str,
    file: &Path,
    temp_dir: &Path,
) -> Result<Entry, Failure> {
    // Hashed as it is copied next to the target, then published.
    let temp = temp_name(temp_dir, "db");
    let result = async {
        let mut reader = tokio::fs::File::open(file).await?;
        let mut writer = tokio::fs::File::create(&temp).await?;
        let (mut hasher, mut size, mut buf) = (sha2::Sha256::new(), 0u64, vec![0u8; 256 * 1024]);
        loop {
            let n = tokio::io::AsyncReadExt::read(&mut reader, &mut buf).await?;
            if n == 0 {
                break;
            }
            hasher.update(&buf[..n]);
            size += n as u64;
            writer.write_all(&buf[..n]).await?;
        }
        writer.flush().await?;
        Ok::<_, std::io::Error>((hasher.finalize().to_vec(), size))
    }
    .await;
    let (sha, size) = match result {
        Ok(done) => done,
        Err(e) => {
            let _ = tokio::fs::remove_file(&temp).await;
            return Err(Failure::failed(e));
        }
    };
    let key = target.key(&format!("backups/{backup}/{path}"));
    target.store.put_owned(metrics, &key, &temp, "application/octet-stream").await.map_err(Failure::failed)?;
    Ok(Entry { path: path.to_owned(), sha256: crate::util::hex(&sha), size })
}

/// Keeps the newest `keep` complete backups and removes the rest, then the blobs no
/// kept backup names; how many backups went. A backup without its manifest hash is
/// removed once it is a day old (younger, it may still be running). `named` holds the
/// blobs of the manifests already read; any other is read here.
async fn prune(
    target: &Target,
    metrics: &Metrics,
    keep: usize,
    current: &str,
    named: &BTreeMap<String, Vec<String>>,
) -> Result<usize, Failure> {
    let backups = target.backups().await?;
    let complete: Vec<&String> = backups.iter().filter(|(_, c)| **c).map(|(n, _)| n).collect();
    let old = SystemTime::now() - ABANDONED_AFTER;
    // Never the one just written, whatever the names say (a clock set ahead once).
    let mut doomed: Vec<&String> =
        complete[..complete.len().saturating_sub(keep)].iter().copied().filter(|n| *n != current).collect();
    let files = target.list("backups/").await?;
    for (name, _) in backups.iter().filter(|(n, c)| !**c && *n != current) {
        let prefix = format!("backups/{name}/");
        if files.iter().filter(|(k, _)| k.starts_with(&prefix)).all(|(_, t)| *t < old) {
            doomed.push(name);
        }
    }
    let mut referenced = BTreeSet::new();
    for name in complete.iter().filter(|n| !doomed.contains(n)) {
        match named.get(*name) {
            Some(paths) => referenced.extend(paths.iter().cloned()),
            None => referenced.extend(target.manifest(metrics, name).await?.blobs.into_iter().map(|e| e.path)),
        }
    }
    for name in &doomed {
        // The manifest's hash first: a half-removed backup is then incomplete, not damaged.
        let prefix = format!("backups/{name}/");
        let mut keys: Vec<&String> = files.iter().map(|(k, _)| k).filter(|k| k.starts_with(&prefix)).collect();
        keys.sort_by_key(|k| !k.ends_with("manifest.sha256"));
        for key in keys {
            target.store.delete(metrics, &target.key(key)).await.map_err(Failure::failed)?;
        }
    }
    for (key, modified) in target.list("blobs/").await? {
        let path = key.strip_prefix("blobs/").unwrap_or(&key);
        if !referenced.contains(path) && modified < old {
            target.store.delete(metrics, &target.key(&key)).await.map_err(Failure::failed)?;
        }
    }
    Ok(doomed.len())
}

// ------------------------------------------------------------------ verify

async fn verify(config: &Config, spec: &str, which: Option<&str>, all: bool) -> Result<(), Failure> {
    let metrics = Metrics::new(crate::util::VERSION, crate::util::GIT_SHA);
    let report = Report::new();
    let target = Target::open(config, spec).await?;
    let work = WorkDir::new(config, "verify")?;
    if !all {
        let (name, manifest) = target.chosen(&metrics, which).await?;
        return verify_one(&target, &metrics, &report, &work, &name, &manifest, &mut BTreeSet::new()).await;
    }
    // Every complete backup, newest first; the first damaged one is the answer.
    let backups = target.backups().await?;
    let names: Vec<&String> = backups.iter().rev().filter(|(_, c)| **c).map(|(n, _)| n).collect();
    if names.is_empty() {
        return target.newest(&metrics).await.map(|_| ());
    }
    // Blobs are shared between backups: each is read once, not once per backup.
    let mut checked = BTreeSet::new();
    for name in names {
        let manifest = target.manifest(&metrics, name).await?;
        verify_one(&target, &metrics, &report, &work, name, &manifest, &mut checked).await?;
    }
    Ok(())
}

async fn verify_one(
    target: &Target,
    metrics: &Metrics,
    report: &Report,
    work: &WorkDir,
    name: &str,
    manifest: &Manifest,
    checked: &mut BTreeSet<(String, String)>,
) -> Result<(), Failure> {
    let files = manifest.database.len() + manifest.blobs.len();
    let (mut done, mut bytes) = (0, 0u64);
    for entry in &manifest.database {
        let file = work.0.join("database");
        check_file(target, metrics, &format!("backups/{name}/{}", entry.path), entry, &file).await?;
        if entry.path == "database.sqlite" {
            let version = crate::db::dump::read_sqlite_file(&file, false)
                .await
                .map(|f| f.schema_version)
                .map_err(|e| Failure::failed(format!("backup {name}: the database does not open: {e}")))?;
            if version != manifest.schema_version {
                return Err(Failure::failed(format!(
                    "backup {name}: the database is at schema version {version}, the manifest says {}",
                    manifest.schema_version
                )));
            }
        }
        let _ = tokio::fs::remove_file(&file).await;
        done += 1;
        bytes += entry.size;
        report.progress("verify", done, files, bytes);
    }
    for entry in &manifest.blobs {
        if checked.insert((entry.path.clone(), entry.sha256.clone())) {
            // Read and hashed where it is: nothing needs a copy.
            let path = format!("blobs/{}", entry.path);
            let (sha, size) = hash_of(&target.store, metrics, &target.key(&path))
                .await
                .map_err(|e| Failure::failed(format!("{}: {path}: {}", target.name, message(e))))?;
            same_as_manifest(target, &path, entry, &sha, size)?;
        }
        done += 1;
        bytes += entry.size;
        report.progress("verify", done, files, bytes);
    }
    report.end_progress();
    report.done(
        format!(
            "backup {name} in {} is complete and intact: {files} files, {:.1} MB, schema version {}",
            target.name,
            bytes as f64 / 1e6,
            manifest.schema_version
        ),
        serde_json::json!({"event": "verified", "backup": name, "files": files, "bytes": bytes,
                           "schema_version": manifest.schema_version}),
    );
    Ok(())
}

/// Fetches one file of a backup to `to`, failing unless its size and hash are the
/// manifest's.
async fn check_file(target: &Target, metrics: &Metrics, path: &str, entry: &Entry, to: &Path) -> Result<(), Failure> {
    let fetched = fetch_to(&target.store, metrics, &target.key(path), to)
        .await
        .map_err(|e| Failure::failed(format!("{}: {path}: {}", target.name, message(e))))?;
    let Some((sha, size)) = fetched else {
        return Err(Failure::failed(format!("{}: {path} is missing", target.name)));
    };
    let same = same_as_manifest(target, path, entry, &sha, size);
    if same.is_err() {
        let _ = tokio::fs::remove_file(to).await;
    }
    same
}

/// Fails unless a file's sha256 and size are its manifest entry's.
fn same_as_manifest(target: &Target, path: &str, entry: &Entry, sha: &[u8], size: u64) -> Result<(), Failure> {
    if size != entry.size || crate::util::hex(sha) != entry.sha256 {
        return Err(Failure::failed(format!(
            "{}: {path} is damaged ({size} bytes, the manifest says {}; or its hash differs)",
            target.name, entry.size
        )));
    }
    Ok(())
}

fn message(failure: Failure) -> String {
    match failure {
        Failure::Usage(m) | Failure::Failed(m) => m,
    }
}

// ------------------------------------------------------------------ restore

async fn restore(config: &Config, spec: &str, which: Option<&str>) -> Result<(), Failure> {
    let metrics = Metrics::new(crate::util::VERSION, crate::util::GIT_SHA);
    let report = Report::new();
    let target = Target::open(config, spec).await?;
    let (name, manifest) = target.chosen(&metrics, which).await?;
    let backend = if config.db.url.is_some() { "postgres" } else { "sqlite" };
    if manifest.backend != backend {
        return Err(Failure::Usage(format!(
            "backup {name} is of a {} database and Pujo is set up for {backend}; restore it with the same kind",
            manifest.backend
        )));
    }
    // Every file is there before anything is written.
    let present: BTreeSet<String> = target.list("").await?.into_iter().map(|(k, _)| k).collect();
    let wanted = manifest
        .database
        .iter()
        .map(|e| format!("backups/{name}/{}", e.path))
        .chain(manifest.blobs.iter().map(|e| format!("blobs/{}", e.path)));
    for key in wanted {
        if !present.contains(&key) {
            return Err(Failure::failed(format!("backup {name} is missing {key}; nothing was restored")));
        }
    }

    // Only into an empty install: a restore never overwrites what people made. What an
    // interrupted restore left (blobs of this backup, an empty schema) does not count.
    let sqlite_file = config.data_dir.join("pujo.db");
    std::fs::create_dir_all(&config.data_dir).map_err(Failure::failed)?;
    let db = if backend == "sqlite" {
        if sqlite_file.exists() {
            return Err(Failure::failed(format!(
                "{} already has a database; restore into an empty data folder",
                config.data_dir.display()
            )));
        }
        None
    } else {
        let db = Database::open(&config.db, &config.data_dir).await.map_err(Failure::failed)?;
        if !db.postgres_is_empty().await.map_err(Failure::failed)? {
            return Err(Failure::failed("the database already holds Pujo's data; restore into an empty database"));
        }
        Some(db)
    };
    // Into the data folder, blobs are made durable all at once before the database
    // goes in place (one filesystem sync rather than two per blob).
    let store = match &config.media.s3 {
        Some(_) => crate::blobs::open(config, "s3").await?,
        None => BlobStore::Fs(FsStore::open_batched(config.data_dir.join("blobs")).map_err(Failure::failed)?),
    };
    let in_backup: BTreeMap<&str, &Entry> = manifest.blobs.iter().map(|e| (e.path.as_str(), e)).collect();
    let mut already = BTreeSet::new();
    for key in source_keys(&store).await? {
        if !in_backup.contains_key(key.as_str()) {
            return Err(Failure::failed(format!(
                "the photo store already holds {key}, which is not in backup {name}; restore into an empty store"
            )));
        }
        already.insert(key);
    }

    let work = WorkDir::new(config, "restore")?;
    let temp_dir = store.temp_dir().unwrap_or_else(|| work.0.clone());
    let (total, mut bytes, mut done) = (manifest.blobs.len(), 0u64, 0);
    let (target_ref, store_ref, metrics_ref, temp_ref, already_ref) = (&target, &store, &metrics, &temp_dir, &already);
    let mut restores = futures_util::stream::iter(&manifest.blobs)
        .map(|entry| async move {
            // What a restore that stopped left is checked, not trusted (it may not
            // have reached the disk): kept when its bytes are the manifest's.
            if already_ref.contains(&entry.path) {
                let (sha, size) = hash_of(store_ref, metrics_ref, &entry.path).await?;
                if size == entry.size && crate::util::hex(&sha) == entry.sha256 {
                    return Ok(0);
                }
            }
            let temp = temp_name(temp_ref, "restore");
            check_file(target_ref, metrics_ref, &format!("blobs/{}", entry.path), entry, &temp).await?;
            let content_type = crate::media::store::content_type_of(&entry.path);
            store_ref.put_owned(metrics_ref, &entry.path, &temp, content_type).await.map_err(Failure::failed)?;
            Ok::<_, Failure>(entry.size)
        })
        .buffer_unordered(PARALLEL_COPIES);
    while let Some(restored) = restores.next().await {
        bytes += restored?;
        done += 1;
        report.progress("blobs", done, total, bytes);
    }
    drop(restores);
    report.end_progress();
    store.sync().await.map_err(Failure::failed)?;

    // The database last: until it is in place, the install is still empty.
    let db = match db {
        None => {
            let entry = manifest
                .database
                .iter()
                .find(|e| e.path == "database.sqlite")
                .ok_or_else(|| Failure::failed(format!("backup {name} has no database.sqlite")))?;
            let temp = work.0.join("pujo.db");
            check_file(&target, &metrics, &format!("backups/{name}/database.sqlite"), entry, &temp).await?;
            let counted = crate::db::dump::read_sqlite_file(&temp, false).await.map_err(Failure::failed)?.summary;
            if counted != manifest.summary {
                return Err(Failure::failed(format!(
                    "backup {name}: its database counts {counted:?}, its manifest {:?}; nothing was restored",
                    manifest.summary
                )));
            }
            tokio::fs::File::open(&temp).await.map_err(Failure::failed)?.sync_all().await.map_err(Failure::failed)?;
            tokio::fs::rename(&temp, &sqlite_file).await.map_err(Failure::failed)?;
            tokio::fs::File::open(&config.data_dir)
                .await
                .map_err(Failure::failed)?
                .sync_all()
                .await
                .map_err(Failure::failed)?;
            Database::open(&config.db, &config.data_dir).await.map_err(Failure::failed)?
        }
        Some(db) => {
            let dump =
                manifest.postgres.as_ref().ok_or_else(|| Failure::failed(format!("backup {name} has no dump")))?;
            let dir = work.0.join("postgres");
            tokio::fs::create_dir_all(&dir).await.map_err(Failure::failed)?;
            for entry in &manifest.database {
                let file = entry.path.strip_prefix("postgres/").unwrap_or(&entry.path);
                check_file(&target, &metrics, &format!("backups/{name}/{}", entry.path), entry, &dir.join(file))
                    .await?;
            }
            db.restore_postgres(&dir, dump).await.map_err(Failure::failed)?;
            db
        }
    };
    // (The counts were checked before the database was put in place: the SQLite file's
    // above, each PostgreSQL table's rows inside the loading transaction.)
    let migrated = db.migrate().await.map_err(Failure::failed)?;
    let summary = db.summary().await.map_err(Failure::failed)?;
    report.done(
        format!(
            "restored backup {name} ({}) from {}: {} users, {} albums, {} photos, {} comments; {} blobs, {:.1} MB; \
             schema version {} -> {}",
            manifest.created,
            target.name,
            summary.users,
            summary.albums,
            summary.photos,
            summary.comments,
            total,
            manifest.bytes() as f64 / 1e6,
            manifest.schema_version,
            migrated.version
        ),
        serde_json::json!({"event": "restored", "backup": name, "summary": summary, "blobs": total,
                           "bytes": manifest.bytes(), "schema_version": migrated.version}),
    );
    Ok(())
}

// ------------------------------------------------------------------ moving to PostgreSQL

async fn move_to_postgres(config: &Config, from: &str, to: &str, sessions: bool) -> Result<(), Failure> {
    if (from, to) != ("sqlite", "postgres") {
        return Err(Failure::Usage("only --from sqlite --to postgres is supported".into()));
    }
    if config.db.url.is_none() {
        return Err(Failure::Usage("say which PostgreSQL database: --database-url or PUJO_DATABASE_URL".into()));
    }
    let report = Report::new();
    let local = crate::db::DbSettings { url: None, ..config.db.clone() };
    let source = open_database(&Config { db: local, ..config.clone() }).await?;
    let target = Database::open(&config.db, &config.data_dir).await.map_err(Failure::failed)?;
    if !target.postgres_is_empty().await.map_err(Failure::failed)? {
        return Err(Failure::failed("the PostgreSQL database already holds Pujo's data; move into an empty one"));
    }
    let work = WorkDir::new(config, "move")?;
    let snapshot = work.0.join("snapshot.db");
    source.snapshot_sqlite(&snapshot).await.map_err(Failure::failed)?;
    let before = source.summary().await.map_err(Failure::failed)?;
    let tables_dir = work.0.join("tables");
    tokio::fs::create_dir_all(&tables_dir).await.map_err(Failure::failed)?;
    let moved = target.copy_from_sqlite(&snapshot, sessions, &tables_dir).await.map_err(Failure::failed)?;
    let migrated = target.migrate().await.map_err(Failure::failed)?;
    let after = target.summary().await.map_err(Failure::failed)?;
    if after != before {
        return Err(Failure::failed(format!("moved, but PostgreSQL counts {after:?} and SQLite {before:?}")));
    }
    for table in &moved {
        report.event(
            &serde_json::json!({"event": "table", "table": table.name, "rows": table.rows, "checksum": table.checksum}),
        );
    }
    report.done(
        format!(
            "moved {} tables ({} rows) into PostgreSQL, each checked by count and checksum: {} users, {} albums,              {} photos, {} comments; schema version {}. Next: `pujo blobs migrate --from fs --to s3`",
            moved.len(),
            moved.iter().map(|t| t.rows).sum::<u64>(),
            after.users,
            after.albums,
            after.photos,
            after.comments,
            migrated.version
        ),
        serde_json::json!({"event": "moved", "tables": moved.len(), "summary": after, "schema_version": migrated.version}),
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_manifest_reads_back_as_written() {
        let manifest = Manifest {
            format: FORMAT.into(),
            created: "2026-10-11T18:00:00Z".into(),
            pujo_version: "0.1.0".into(),
            backend: "sqlite".into(),
            schema_version: 8,
            summary: Summary { users: 2, albums: 3, photos: 4, comments: 5 },
            database: vec![Entry { path: "database.sqlite".into(), sha256: "ab".repeat(32), size: 10 }],
            postgres: None,
            blobs: vec![Entry { path: format!("uploads/{}", "cd".repeat(32)), sha256: "cd".repeat(32), size: 7 }],
        };
        let back: Manifest = serde_json::from_slice(&serde_json::to_vec(&manifest).unwrap()).unwrap();
        assert_eq!(back.blobs, manifest.blobs);
        assert_eq!(back.summary, manifest.summary);
        assert_eq!(back.bytes(), 17);
    }
}
