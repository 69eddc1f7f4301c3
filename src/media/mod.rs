//! Photo bytes: taking uploads in (`ingest`), the blob stores (`store`), and the hot
//! derivatives cache in front of them. Knows nothing of HTTP or SQL.

pub mod exif;
pub mod partial;
pub mod process;
pub mod sniff;
pub mod store;
pub mod strip;
pub mod zip;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use bytes::Bytes;
use sha2::Digest;
use tokio::sync::Semaphore;

use crate::metrics::Metrics;
use crate::util::hex;
pub use sniff::Format;
pub use store::{BlobStore, S3Settings, StoreError};

/// Limits and places for media, from the configuration.
#[derive(Debug, Clone)]
pub struct MediaSettings {
    pub max_upload_bytes: u64,
    pub max_pixels: u64,
    pub cache_bytes: u64,
    /// Bytes every decode at once may reserve (by its estimate, before it starts).
    pub decode_memory: u64,
    /// Temp disk every upload in progress may take, counted as its bytes arrive.
    pub temp_bytes: u64,
    /// `None` keeps blobs under the data folder.
    pub s3: Option<S3Settings>,
}

/// Why an upload was not taken in.
#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    #[error(transparent)]
    Refused(#[from] sniff::SniffError),
    #[error(transparent)]
    Broken(#[from] process::ProcessError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("could not read the upload: {0}")]
    Io(#[from] std::io::Error),
    /// Decoding this image alone would take more memory than all decodes may.
    #[error("this image needs about {needed_mib} MiB to decode; this server allows {allowed_mib} MiB")]
    TooCostly { needed_mib: u64, allowed_mib: u64 },
    /// Every decoding slot is taken and the queue is full: try again shortly.
    #[error("too many uploads are being processed")]
    Busy,
}

/// What an upload became: stored blobs and what the photo row needs.
#[derive(Debug)]
pub struct Ingested {
    pub sha256: Vec<u8>,
    pub format: Format,
    pub byte_size: u64,
    pub processed: process::Processed,
}

/// What serving a photo's bytes needs to know about it, kept by photo id so a hot
/// thumbnail costs no database round trip. Entries are judged by the cache bus like
/// API answers: a write on any replica to the photo or its album retires them.
#[derive(Debug, Clone)]
pub struct PhotoRow {
    pub owner_id: i64,
    pub album_id: i64,
    /// The album's visibility is `private`.
    pub private: bool,
    pub public: bool,
    /// What opens the album when it is unlisted.
    pub link_key: String,
    pub allow_original: bool,
    pub sha256: Vec<u8>,
    pub content_type: String,
    /// A guest sent it: its GPS is nobody's to have, so even the album's owner gets
    /// the stripped copy as its original.
    pub from_guest: bool,
}

pub struct Media {
    pub store: BlobStore,
    cache: moka::future::Cache<String, Bytes>,
    /// Decoding is memory-heavy: at most this many uploads are processed at once, the
    /// rest wait their turn (their bytes are already on disk).
    processing: Semaphore,
    /// Temp disk in MiB: an upload holds twice its bytes so far (file and stripped copy).
    temp_space: Arc<Semaphore>,
    /// The blob store's last health answer, briefly.
    health: moka::future::Cache<(), Result<(), String>>,
    /// Decode memory in MiB: each decode holds its estimate's worth of permits.
    decode_memory: Semaphore,
    decode_memory_mib: u32,
    /// Uploads waiting for or holding a slot; past `max_queued` they are turned away.
    queued: std::sync::atomic::AtomicUsize,
    max_queued: usize,
    pub settings: MediaSettings,
    temp_dir: PathBuf,
    /// Partial files of resumable uploads, one per upload id.
    partial_dir: PathBuf,
    /// Resumable uploads a request is appending to now: one writer per partial file.
    appending: Arc<std::sync::Mutex<std::collections::HashSet<String>>>,
    /// This process's name in upload claims (32 random hex digits): a claim it holds
    /// while no request of its own appends is a stale one it may take over.
    pub instance: String,
}

impl std::fmt::Debug for Media {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Media").field("store", &self.store).finish_non_exhaustive()
    }
}

pub fn original_key(sha256: &[u8]) -> String {
    format!("uploads/{}", hex(sha256))
}

pub fn derivative_key(sha256: &[u8], variant: &str, format: Format) -> String {
    format!("thumbnails/{}/{variant}.{}", hex(sha256), format.extension())
}

/// The original without metadata, for people other than its owner.
pub fn public_original_key(sha256: &[u8], format: Format) -> String {
    derivative_key(sha256, "original", format)
}

impl Media {
    pub async fn open(settings: MediaSettings, data_dir: &Path) -> Result<Media, StoreError> {
        let store = match &settings.s3 {
            Some(s3) => BlobStore::S3(store::S3Store::connect(s3).await?),
            None => BlobStore::Fs(store::FsStore::open(data_dir.join("blobs"))?),
        };
        let temp_dir = data_dir.join("tmp");
        let partial_dir = data_dir.join("resumable");
        for dir in [&temp_dir, &partial_dir] {
            std::fs::create_dir_all(dir)
                .map_err(|e| StoreError::Other(format!("cannot create {}: {e}", dir.display())))?;
        }
        // Temp files of a process that ended mid-request (killed, or its requests cut
        // off at shutdown). Only old ones: another command may share the folder now.
        if let Ok(entries) = std::fs::read_dir(&temp_dir) {
            for entry in entries.flatten() {
                let old = entry
                    .metadata()
                    .and_then(|m| m.modified())
                    .is_ok_and(|t| t.elapsed().unwrap_or_default() > std::time::Duration::from_secs(3600));
                if old {
                    let _ = std::fs::remove_file(entry.path());
                }
            }
        }
        let cache = moka::future::Cache::builder()
            .weigher(|_key: &String, value: &Bytes| u32::try_from(value.len()).unwrap_or(u32::MAX))
            .max_capacity(settings.cache_bytes)
            .build();
        // One decode per core; a few more may wait their turn, the rest get 503.
        let workers = std::thread::available_parallelism().map_or(2, std::num::NonZero::get);
        let decode_memory_mib = u32::try_from((settings.decode_memory / MIB).max(1)).unwrap_or(u32::MAX >> 4);
        Ok(Media {
            health: moka::future::Cache::builder().max_capacity(1).time_to_live(HEALTH_TTL).build(),
            temp_space: Arc::new(Semaphore::new(
                usize::try_from((settings.temp_bytes / MIB).max(1)).unwrap_or(usize::MAX >> 4),
            )),
            decode_memory: Semaphore::new(decode_memory_mib as usize),
            decode_memory_mib,
            store,
            cache,
            processing: Semaphore::new(workers),
            queued: std::sync::atomic::AtomicUsize::new(0),
            max_queued: workers * 4,
            settings,
            temp_dir,
            partial_dir,
            appending: Arc::default(),
            instance: crate::auth::random_key(),
        })
    }

    /// Grows `held` so it covers an upload of `len` bytes so far (twice: the file and
    /// its stripped copy). `false` when the temp disk budget has no room: the upload
    /// must stop before writing more.
    pub fn reserve_temp(&self, held: &mut Option<tokio::sync::OwnedSemaphorePermit>, len: u64) -> bool {
        let need = u32::try_from((2 * len).div_ceil(MIB)).unwrap_or(u32::MAX);
        let have = held.as_ref().map_or(0, |p| u32::try_from(p.num_permits()).unwrap_or(u32::MAX));
        if need <= have {
            return true;
        }
        match self.temp_space.clone().try_acquire_many_owned(need - have) {
            Ok(more) => {
                match held {
                    Some(p) => p.merge(more),
                    None => *held = Some(more),
                }
                true
            }
            Err(_) => false,
        }
    }

    /// A fresh temp file path for an upload in progress.
    /// The partial file of resumable upload `id` (32 hex digits, checked by the caller).
    pub fn partial_path(&self, id: &str) -> PathBuf {
        self.partial_dir.join(id)
    }

    /// The right to append to upload `id`'s partial file, held until the guard drops;
    /// `None` while another request appends to it.
    pub fn lock_partial(&self, id: &str) -> Option<PartialLock> {
        let mut appending = self.appending.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        appending.insert(id.to_owned()).then(|| PartialLock { id: id.to_owned(), appending: self.appending.clone() })
    }

    pub fn partial_dir(&self) -> &Path {
        &self.partial_dir
    }

    pub fn temp_path(&self) -> PathBuf {
        use std::sync::atomic::{AtomicU64, Ordering};
        static NEXT: AtomicU64 = AtomicU64::new(0);
        self.temp_dir.join(format!("upload-{}-{}", std::process::id(), NEXT.fetch_add(1, Ordering::Relaxed)))
    }

    /// Whether the blob store answers, asked at most once per `HEALTH_TTL` however
    /// often `/ready` is called (it is public: each call must not cost an S3 request);
    /// calls at the same moment share one check.
    pub async fn health(&self, metrics: &Metrics) -> Result<(), String> {
        self.health.get_with((), async { self.store.health(metrics).await.map_err(|e| e.to_string()) }).await
    }

    /// Deletes every blob of one content (original, shared original, derivatives);
    /// the caller has checked no photo still uses it.
    pub async fn delete_content(&self, metrics: &Metrics, sha256: &[u8]) -> Result<(), StoreError> {
        let mut keys = vec![original_key(sha256)];
        for format in [Format::Jpeg, Format::Png, Format::Webp] {
            keys.push(public_original_key(sha256, format));
        }
        for variant in ["thumb", "medium", "display"] {
            for format in [Format::Webp, Format::Jpeg] {
                keys.push(derivative_key(sha256, variant, format));
            }
        }
        for key in keys {
            self.store.delete(metrics, &key).await?;
            self.cache.invalidate(&key).await;
        }
        Ok(())
    }

    /// A derivative's bytes, from memory when hot; concurrent misses for one key load it
    /// from the store once.
    pub async fn derivative(&self, metrics: &Metrics, key: &str) -> Result<Bytes, Arc<StoreError>> {
        if let Some(hit) = self.cache.get(key).await {
            metrics.media_cache.with_label_values(&["hit"]).inc();
            return Ok(hit);
        }
        metrics.media_cache.with_label_values(&["miss"]).inc();
        let loaded = self.cache.try_get_with(key.to_owned(), self.store.get_bytes(metrics, key)).await;
        metrics.media_cache_bytes.set(i64::try_from(self.cache.weighted_size()).unwrap_or(i64::MAX));
        loaded
    }

    /// Takes in an upload already written to `path` (with its SHA-256): checks its
    /// type and size by header, decodes it once into every derivative, and stores the
    /// original, its metadata-free copy and the derivatives. Stored blobs are
    /// content-addressed, so a retry or a duplicate rewrites the same bytes.
    pub async fn ingest(
        &self,
        metrics: &Metrics,
        path: &Path,
        sha256: Vec<u8>,
        byte_size: u64,
    ) -> Result<Ingested, IngestError> {
        let head = read_head(path).await?;
        let (format, width, height) = sniff::inspect(&head, self.settings.max_pixels)?;
        // What the decode will hold at its peak, from the header alone: a small file
        // that claims 100 MP must not take the memory of many honest photos.
        let needed = process::decode_memory(&head, format, width, height);
        let needed_mib = needed.div_ceil(MIB);
        if needed_mib > u64::from(self.decode_memory_mib) {
            return Err(IngestError::TooCostly { needed_mib, allowed_mib: u64::from(self.decode_memory_mib) });
        }
        let started = Instant::now();
        let _queued = Queued::enter(&self.queued, self.max_queued).ok_or(IngestError::Busy)?;
        let memory = self
            .decode_memory
            .acquire_many(u32::try_from(needed_mib).expect("at most the budget"))
            .await
            .expect("the semaphore is never closed");
        let permit = self.processing.acquire().await.expect("the semaphore is never closed");
        let limit = usize::try_from(self.settings.decode_memory).unwrap_or(usize::MAX);
        let source = path.to_owned();
        let stripped = path.with_extension("public");
        let stripped_path = stripped.clone();
        // Decoding waits behind everything else on a busy machine (`util::in_background`).
        let processed = crate::util::in_background(move || -> Result<process::Processed, IngestError> {
            let processed = process::process(&source, &head, format, width, height, limit)?;
            strip::strip(&source, &stripped_path, format, processed.exif.orientation).map_err(|e| match e.kind() {
                // The decoder took it, the whitelist cannot walk it: refused, not a fault.
                std::io::ErrorKind::InvalidData | std::io::ErrorKind::UnexpectedEof => {
                    IngestError::Broken(process::ProcessError::Decode(format!("unreadable structure: {e}")))
                }
                _ => IngestError::Io(e),
            })?;
            Ok(processed)
        })
        .await
        .ok_or_else(|| IngestError::Io(std::io::Error::other("the decoder panicked")))?;
        drop(permit);
        drop(memory);
        metrics.media_processing.observe(started.elapsed().as_secs_f64());
        let processed = match processed {
            Ok(p) => p,
            Err(e) => {
                let _ = tokio::fs::remove_file(&stripped).await;
                return Err(e);
            }
        };
        let stored = self.store_all(metrics, path, &stripped, &sha256, format, &processed).await;
        let _ = tokio::fs::remove_file(&stripped).await;
        stored?;
        Ok(Ingested { sha256, format, byte_size, processed })
    }

    async fn store_all(
        &self,
        metrics: &Metrics,
        original: &Path,
        stripped: &Path,
        sha256: &[u8],
        format: Format,
        processed: &process::Processed,
    ) -> Result<(), StoreError> {
        let key = original_key(sha256);
        if self.store.head(metrics, &key).await?.is_none() {
            self.store.put_file(metrics, &key, original, format.mime()).await?;
        }
        self.store.put_file(metrics, &public_original_key(sha256, format), stripped, format.mime()).await?;
        for d in &processed.derivatives {
            let key = derivative_key(sha256, d.variant, d.format);
            self.store.put_bytes(metrics, &key, Bytes::from(d.bytes.clone()), d.format.mime()).await?;
        }
        Ok(())
    }
}

const MIB: u64 = 1024 * 1024;
/// How long one blob store health check answers `/ready`.
const HEALTH_TTL: std::time::Duration = std::time::Duration::from_secs(5);

/// A place in the processing queue, given back when dropped.
struct Queued<'a>(&'a std::sync::atomic::AtomicUsize);

impl<'a> Queued<'a> {
    fn enter(count: &'a std::sync::atomic::AtomicUsize, max: usize) -> Option<Queued<'a>> {
        use std::sync::atomic::Ordering;
        if count.fetch_add(1, Ordering::SeqCst) >= max {
            count.fetch_sub(1, Ordering::SeqCst);
            return None;
        }
        Some(Queued(count))
    }
}

impl Drop for Queued<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, std::sync::atomic::Ordering::SeqCst);
    }
}

/// The first 256 KiB of a file: enough for every header `sniff` reads.
async fn read_head(path: &Path) -> std::io::Result<Vec<u8>> {
    use tokio::io::AsyncReadExt;
    let mut head = Vec::with_capacity(256 * 1024);
    tokio::fs::File::open(path).await?.take(256 * 1024).read_to_end(&mut head).await?;
    Ok(head)
}

/// How much a file write or read moves at a time. Every `tokio::fs` call is a hop to
/// the blocking pool, and on a busy machine each hop waits for a core: a chunk written
/// as the 16 KiB frames it arrives in, or sent to S3 in 4 KiB reads, made hundreds of
/// hops a megabyte, and its latency grew with the load (the festival benchmark's tus
/// chunks). A quarter megabyte a hop keeps a chunk to a few.
pub const FILE_IO_BUFFER: usize = 256 * 1024;
/// What a file buffer is when the budget below is spent: a frame's size, as before.
const SMALL_FILE_IO_BUFFER: usize = 16 * 1024;
/// Memory the process's large file buffers take together, at most. Each costs twice its
/// size (the buffer, and tokio's copy of each write or read), so 128 uploads or
/// transfers at once get them; any more get small ones, and a crowd of slow uploads
/// holds no more than it did before there were large ones.
const FILE_IO_BUDGET_KIB: u32 = 64 * 1024;

/// A size for one file buffer, with its share of [`FILE_IO_BUDGET_KIB`] (held as long
/// as the buffer lives), or the small size without one.
pub(crate) fn file_buffer() -> (usize, Option<tokio::sync::OwnedSemaphorePermit>) {
    static BUDGET: std::sync::OnceLock<Arc<Semaphore>> = std::sync::OnceLock::new();
    let budget = BUDGET.get_or_init(|| Arc::new(Semaphore::new(FILE_IO_BUDGET_KIB as usize)));
    let cost = u32::try_from(2 * FILE_IO_BUFFER / 1024).unwrap_or(u32::MAX);
    match budget.clone().try_acquire_many_owned(cost) {
        Ok(permit) => (FILE_IO_BUFFER, Some(permit)),
        Err(_) => (SMALL_FILE_IO_BUFFER, None),
    }
}

/// A file behind a write buffer (flush it before its bytes count), large while the
/// budget lasts.
#[derive(Debug)]
pub struct Buffered {
    writer: tokio::io::BufWriter<tokio::fs::File>,
    _budget: Option<tokio::sync::OwnedSemaphorePermit>,
}

impl Buffered {
    /// The file itself: what is still in the buffer is not in it.
    pub fn file(&self) -> &tokio::fs::File {
        self.writer.get_ref()
    }
}

impl tokio::io::AsyncWrite for Buffered {
    fn poll_write(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &[u8],
    ) -> std::task::Poll<std::io::Result<usize>> {
        std::pin::Pin::new(&mut self.writer).poll_write(cx, buf)
    }

    fn poll_flush(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::pin::Pin::new(&mut self.writer).poll_flush(cx)
    }

    fn poll_shutdown(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::pin::Pin::new(&mut self.writer).poll_shutdown(cx)
    }
}

/// `file` behind a write buffer.
pub fn buffered(file: tokio::fs::File) -> Buffered {
    let (size, budget) = file_buffer();
    Buffered { writer: tokio::io::BufWriter::with_capacity(size, file), _budget: budget }
}

/// Appends the file at `from` to `out`, a buffer at a time; the bytes copied.
pub async fn append_file(from: &Path, out: &mut (impl tokio::io::AsyncWrite + Unpin)) -> std::io::Result<u64> {
    let file = tokio::fs::File::open(from).await?;
    let (size, _budget) = file_buffer();
    tokio::io::copy_buf(&mut tokio::io::BufReader::with_capacity(size, file), out).await
}

/// A temp file deleted when its owner is done with it, however that ends (a request
/// dropped by its timeout included).
pub struct TempFile(pub PathBuf);

impl TempFile {
    /// The path, no longer deleted here: whoever takes it removes the file.
    pub fn keep(self) -> PathBuf {
        let mut this = std::mem::ManuallyDrop::new(self);
        std::mem::take(&mut this.0)
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// One request's hold on a resumable upload's partial file.
pub struct PartialLock {
    id: String,
    appending: Arc<std::sync::Mutex<std::collections::HashSet<String>>>,
}

impl Drop for PartialLock {
    fn drop(&mut self) {
        self.appending.lock().unwrap_or_else(std::sync::PoisonError::into_inner).remove(&self.id);
    }
}

/// A running SHA-256 and byte count of a stream being written to disk.
#[derive(Default)]
pub struct Hashing {
    hasher: sha2::Sha256,
    pub len: u64,
}

impl Hashing {
    pub fn update(&mut self, chunk: &[u8]) {
        self.hasher.update(chunk);
        self.len += chunk.len() as u64;
    }

    pub fn finish(self) -> Vec<u8> {
        self.hasher.finalize().to_vec()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn large_file_buffers_are_bounded_in_total() {
        let mut held = Vec::new();
        loop {
            let (size, permit) = file_buffer();
            if permit.is_none() {
                assert_eq!(size, SMALL_FILE_IO_BUFFER, "past the budget, a small buffer");
                break;
            }
            assert_eq!(size, FILE_IO_BUFFER);
            held.push(permit);
            assert!(held.len() <= 128, "at most 64 MiB of large buffers at once");
        }
        drop(held);
        assert_eq!(file_buffer().0, FILE_IO_BUFFER, "given back when they go");
    }

    #[test]
    fn the_queue_turns_away_what_it_cannot_hold() {
        let count = std::sync::atomic::AtomicUsize::new(0);
        let first = Queued::enter(&count, 2).expect("room");
        let second = Queued::enter(&count, 2).expect("room");
        assert!(Queued::enter(&count, 2).is_none(), "full");
        drop(first);
        assert!(Queued::enter(&count, 2).is_some(), "a place came free");
        drop(second);
    }

    #[test]
    fn keys_are_content_addressed() {
        let sha = [0xab; 32];
        assert_eq!(original_key(&sha), format!("uploads/{}", "ab".repeat(32)));
        assert_eq!(derivative_key(&sha, "thumb", Format::Webp), format!("thumbnails/{}/thumb.webp", "ab".repeat(32)));
        assert!(store::valid_key(&public_original_key(&sha, Format::Jpeg)));
        assert!(!store::valid_key("../etc/passwd") && !store::valid_key("/abs") && !store::valid_key("a//b"));
    }
}
