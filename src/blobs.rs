//! `pujo blobs migrate` and `pujo blobs gc`: moving photo bytes between the data
//! folder and S3, and collecting the ones no photo refers to.

use std::io::{IsTerminal, Write};
use std::process::ExitCode;
use std::time::{Duration, SystemTime};

use futures_util::StreamExt;
use sha2::Digest;
use tokio::io::AsyncWriteExt;

use crate::cli::BlobsAction;
use crate::command::Failure;
use crate::config::Config;
use crate::media::store::{BlobStore, FsStore, S3Store};
use crate::metrics::Metrics;

/// The key prefixes Pujo writes; nothing else in a bucket is touched.
const PREFIXES: [&str; 2] = ["uploads/", "thumbnails/"];

pub fn run(config: &Config, action: &BlobsAction) -> ExitCode {
    let runtime = match crate::command::runtime(true) {
        Ok(rt) => rt,
        Err(code) => return code,
    };
    let outcome = runtime.block_on(async {
        match action {
            BlobsAction::Migrate(m) => migrate(config, &m.from, &m.to).await,
            BlobsAction::Gc(g) => {
                let grace = humantime::parse_duration(&g.grace).map_err(|e| Failure::Usage(format!("--grace: {e}")))?;
                gc(config, grace, g.dry_run).await
            }
        }
    });
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => failure.report("blobs"),
    }
}

pub(crate) async fn open(config: &Config, which: &str) -> Result<BlobStore, Failure> {
    match which {
        "fs" => Ok(BlobStore::Fs(FsStore::open(config.data_dir.join("blobs")).map_err(Failure::failed)?)),
        "s3" => match &config.media.s3 {
            Some(s3) => Ok(BlobStore::S3(S3Store::connect(s3).await.map_err(Failure::failed)?)),
            None => Err(Failure::Usage("s3 needs PUJO_S3_BUCKET (and its other settings)".into())),
        },
        other => Err(Failure::Usage(format!("unknown store {other:?}; use fs or s3"))),
    }
}

/// Progress on a terminal (one line rewritten), milestones otherwise.
struct Progress {
    total: usize,
    tty: bool,
}

impl Progress {
    fn show(&self, done: usize, copied: usize, bytes: u64) {
        let line = format!("{done}/{} blobs checked, {copied} copied, {:.1} MB", self.total, bytes as f64 / 1e6);
        if self.tty {
            eprint!("\r{line}");
            let _ = std::io::stderr().flush();
        } else if done == self.total || done.is_multiple_of(1000) {
            eprintln!("{line}");
        }
    }
}

/// Copies every blob the target lacks (or holds with another size), streaming through
/// a temp file, and checks the target's bytes hash to the source's.
async fn migrate(config: &Config, from: &str, to: &str) -> Result<(), Failure> {
    if from == to {
        return Err(Failure::Usage("--from and --to are the same store".into()));
    }
    let metrics = Metrics::new(crate::util::VERSION, crate::util::GIT_SHA);
    let (source, target) = (open(config, from).await?, open(config, to).await?);
    let mut keys = Vec::new();
    for prefix in PREFIXES {
        keys.extend(source.list(prefix).await.map_err(Failure::failed)?.into_iter().map(|(k, _)| k));
    }
    let temp_dir = config.data_dir.join("tmp");
    tokio::fs::create_dir_all(&temp_dir).await.map_err(Failure::failed)?;
    let progress = Progress { total: keys.len(), tty: std::io::stderr().is_terminal() };
    let (mut copied, mut bytes) = (0, 0u64);
    for (done, key) in keys.iter().enumerate() {
        let source_len = source.head(&metrics, key).await.map_err(Failure::failed)?.map(|m| m.len);
        let target_len = target.head(&metrics, key).await.map_err(Failure::failed)?.map(|m| m.len);
        if source_len.is_some() && target_len == source_len {
            progress.show(done + 1, copied, bytes);
            continue;
        }
        let temp = temp_dir.join(format!("migrate-{}", std::process::id()));
        let Some((sha, _)) = fetch_to(&source, &metrics, key, &temp).await? else {
            return Err(Failure::failed(format!("{key} left {from} while it was copied")));
        };
        if let Some(expected) = key.strip_prefix("uploads/")
            && crate::util::hex(&sha) != expected
        {
            let _ = tokio::fs::remove_file(&temp).await;
            return Err(Failure::failed(format!("{key} in {from} does not hash to its name; not copied")));
        }
        let content_type = crate::media::store::content_type_of(key);
        target.put_file(&metrics, key, &temp, content_type).await.map_err(Failure::failed)?;
        let _ = tokio::fs::remove_file(&temp).await;
        let (check, _) = hash_of(&target, &metrics, key).await?;
        if check != sha {
            return Err(Failure::failed(format!("{key} in {to} does not match {from} after copying")));
        }
        copied += 1;
        bytes += source_len.unwrap_or(0);
        progress.show(done + 1, copied, bytes);
    }
    if progress.tty {
        eprintln!();
    }
    println!(
        "{} blobs in {from}; {copied} copied to {to} and verified, {} already there",
        keys.len(),
        keys.len() - copied
    );
    Ok(())
}

/// Reads a blob through into a new file at `to`, hashing it: its sha256 and size, or
/// `None` when the store has no such blob (one request, no HEAD first). The file is
/// removed when anything fails.
pub(crate) async fn fetch_to(
    store: &BlobStore,
    metrics: &Metrics,
    key: &str,
    to: &std::path::Path,
) -> Result<Option<(Vec<u8>, u64)>, Failure> {
    let mut stream = match store.get(metrics, key, None).await {
        Ok(stream) => stream,
        Err(crate::media::store::StoreError::NotFound) => return Ok(None),
        Err(e) => return Err(Failure::failed(e)),
    };
    let result = async {
        let mut file = tokio::fs::File::create(to).await.map_err(Failure::failed)?;
        let (mut hasher, mut size) = (sha2::Sha256::new(), 0u64);
        while let Some(chunk) = stream.next().await {
            let chunk = chunk.map_err(Failure::failed)?;
            hasher.update(&chunk);
            size += chunk.len() as u64;
            file.write_all(&chunk).await.map_err(Failure::failed)?;
        }
        file.flush().await.map_err(Failure::failed)?;
        Ok(Some((hasher.finalize().to_vec(), size)))
    }
    .await;
    if result.is_err() {
        let _ = tokio::fs::remove_file(to).await;
    }
    result
}

/// A blob's sha256 and size, read through.
pub(crate) async fn hash_of(store: &BlobStore, metrics: &Metrics, key: &str) -> Result<(Vec<u8>, u64), Failure> {
    let mut stream = store.get(metrics, key, None).await.map_err(Failure::failed)?;
    let (mut hasher, mut size) = (sha2::Sha256::new(), 0u64);
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(Failure::failed)?;
        hasher.update(&chunk);
        size += chunk.len() as u64;
    }
    Ok((hasher.finalize().to_vec(), size))
}

/// The content hash a key belongs to: `uploads/<hex>` or `thumbnails/<hex>/...`.
fn hash_of_key(key: &str) -> Option<Vec<u8>> {
    let hex = key.strip_prefix("uploads/").or_else(|| key.strip_prefix("thumbnails/")?.split('/').next())?;
    if hex.len() != 64 {
        return None;
    }
    (0..32).map(|i| u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).ok()).collect()
}

/// Deletes blobs whose content no photo row refers to, once older than `grace` (an
/// upload stores its blobs before its row; a deleted photo's blobs may be shared by
/// another photo with the same bytes, which keeps them).
async fn gc(config: &Config, grace: Duration, dry_run: bool) -> Result<(), Failure> {
    let metrics = Metrics::new(crate::util::VERSION, crate::util::GIT_SHA);
    let db = crate::db::Database::open(&config.db, &config.data_dir).await.map_err(Failure::failed)?;
    db.check_schema().await.map_err(Failure::failed)?;
    let store = open(config, if config.media.s3.is_some() { "s3" } else { "fs" }).await?;
    // The keys first, then the rows: a photo committed in between keeps its blobs.
    let mut keys = Vec::new();
    for prefix in PREFIXES {
        keys.extend(store.list(prefix).await.map_err(Failure::failed)?);
    }
    let referenced = db.photo_hashes().await.map_err(Failure::failed)?;
    let cutoff = SystemTime::now() - grace;
    let (mut deleted, mut kept_young, mut kept_busy) = (0, 0, 0);
    // Candidates by content: every key of one content goes together, or none does.
    let mut candidates: std::collections::BTreeMap<Vec<u8>, Vec<&String>> = std::collections::BTreeMap::new();
    for (key, modified) in &keys {
        let Some(hash) = hash_of_key(key) else { continue };
        if referenced.contains(&hash) {
            continue;
        }
        if *modified > cutoff {
            kept_young += 1;
            continue;
        }
        candidates.entry(hash).or_default().push(key);
    }
    for (hash, keys) in candidates {
        if dry_run {
            for key in &keys {
                println!("would delete {key}");
            }
            deleted += keys.len();
            continue;
        }
        // The listing is old news by now: a photo row or an upload of these bytes may
        // have arrived since. The content lock decides, and holds uploads off meanwhile.
        if !db.begin_content_deletion(&hash).await.map_err(Failure::failed)? {
            kept_busy += keys.len();
            continue;
        }
        let mut outcome = Ok(());
        for key in &keys {
            outcome = store.delete(&metrics, key).await;
            if outcome.is_err() {
                break;
            }
            deleted += 1;
        }
        db.end_content_deletion(&hash).await.map_err(Failure::failed)?;
        outcome.map_err(Failure::failed)?;
    }
    let verb = if dry_run { "would delete" } else { "deleted" };
    println!(
        "{} blobs, {} photos' contents referenced; {verb} {deleted}, kept {kept_young} newer than the grace period \
         and {kept_busy} in use since the listing",
        keys.len(),
        referenced.len()
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_name_their_content() {
        let hex = "ab".repeat(32);
        assert_eq!(hash_of_key(&format!("uploads/{hex}")), Some(vec![0xab; 32]));
        assert_eq!(hash_of_key(&format!("thumbnails/{hex}/thumb.webp")), Some(vec![0xab; 32]));
        assert_eq!(hash_of_key("uploads/short"), None);
        assert_eq!(hash_of_key("elsewhere/x"), None);
    }
}
