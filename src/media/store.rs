//! Where photo bytes live: a folder under the data dir (the embedded default) or an S3
//! bucket. Keys are content-addressed (`uploads/<sha256>`,
//! `thumbnails/<sha256>/<variant>.<ext>`), so a key's bytes never change: a put of an
//! existing key is a no-op in effect, and anything may cache a blob forever.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use bytes::Bytes;
use futures_util::{StreamExt, TryStreamExt};
use tokio::io::{AsyncReadExt, AsyncSeekExt, AsyncWriteExt};

use crate::metrics::Metrics;

/// A blob's bytes as they arrive: the store knows streams, not HTTP.
pub type ByteStream = futures_util::stream::BoxStream<'static, std::io::Result<Bytes>>;

/// A failure of the blob store, by what the caller can do about it.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("no such blob")]
    NotFound,
    /// The store cannot be reached or timed out; a retry may succeed.
    #[error("blob store unavailable: {0}")]
    Unavailable(String),
    #[error("blob store error: {0}")]
    Other(String),
}

/// Size and type of a stored blob.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlobMeta {
    pub len: u64,
    pub content_type: String,
}

/// How to reach S3 (or an S3-compatible server).
#[derive(Debug, Clone, Default)]
pub struct S3Settings {
    pub bucket: String,
    pub endpoint: Option<String>,
    pub region: Option<String>,
    pub path_style: bool,
    /// Static credentials (MinIO, Garage, R2); `None` uses the AWS default chain
    /// (environment, IRSA web identity, instance profile).
    pub credentials: Option<(String, String)>,
    /// `AES256` or `aws:kms`.
    pub sse: String,
    pub kms_key_id: Option<String>,
    pub timeout: Duration,
}

pub enum BlobStore {
    Fs(FsStore),
    S3(S3Store),
}

impl std::fmt::Debug for BlobStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.backend())
    }
}

/// Keys are plain relative paths of safe characters; nothing else is ever stored.
pub fn valid_key(key: &str) -> bool {
    !key.is_empty()
        && key.len() <= 512
        && !key.starts_with('/')
        && key.split('/').all(|part| !part.is_empty() && part != "." && part != "..")
        && key.bytes().all(|b| b.is_ascii_alphanumeric() || b"/._-".contains(&b))
}

impl BlobStore {
    /// The bucket, when the store is S3 (resumable uploads keep their parts there).
    pub fn s3(&self) -> Option<&S3Store> {
        match self {
            BlobStore::S3(s) => Some(s),
            BlobStore::Fs(_) => None,
        }
    }

    pub fn backend(&self) -> &'static str {
        match self {
            BlobStore::Fs(_) => "fs",
            BlobStore::S3(_) => "s3",
        }
    }

    /// Stores the file at `path` under `key`, streaming it.
    pub async fn put_file(
        &self,
        metrics: &Metrics,
        key: &str,
        path: &Path,
        content_type: &str,
    ) -> Result<(), StoreError> {
        check_key(key)?;
        let started = Instant::now();
        let result = match self {
            BlobStore::Fs(s) => s.put_file(key, path).await,
            BlobStore::S3(s) => s.put_file(key, path, content_type).await,
        };
        observe(metrics, self.backend(), "put", started, &result);
        result
    }

    /// Stores the file at `path` under `key` and takes it: a folder store renames it
    /// into place, so it must be in [`BlobStore::temp_dir`]; S3 uploads it, after which
    /// it is removed.
    pub async fn put_owned(
        &self,
        metrics: &Metrics,
        key: &str,
        path: &Path,
        content_type: &str,
    ) -> Result<(), StoreError> {
        check_key(key)?;
        let started = Instant::now();
        let result = match self {
            BlobStore::Fs(s) => s.adopt(key, path).await,
            BlobStore::S3(s) => {
                let put = s.put_file(key, path, content_type).await;
                let _ = tokio::fs::remove_file(path).await;
                put
            }
        };
        observe(metrics, self.backend(), "put", started, &result);
        result
    }

    /// Makes what `put_owned` wrote durable, for a batched folder store; S3 answers
    /// only once an object is stored, and a plain folder store syncs every file.
    pub async fn sync(&self) -> Result<(), StoreError> {
        match self {
            BlobStore::Fs(s) if s.batched => s.sync().await,
            _ => Ok(()),
        }
    }

    /// Where a file for [`BlobStore::put_owned`] is best written: a folder store's own
    /// temp folder (a rename then publishes it); `None` for S3.
    pub fn temp_dir(&self) -> Option<PathBuf> {
        match self {
            BlobStore::Fs(s) => Some(s.root.join(".tmp")),
            BlobStore::S3(_) => None,
        }
    }

    /// Stores bytes already in memory (derivatives, which are small).
    pub async fn put_bytes(
        &self,
        metrics: &Metrics,
        key: &str,
        bytes: Bytes,
        content_type: &str,
    ) -> Result<(), StoreError> {
        check_key(key)?;
        let started = Instant::now();
        let result = match self {
            BlobStore::Fs(s) => s.put_bytes(key, &bytes).await,
            BlobStore::S3(s) => s.put_bytes(key, bytes, content_type).await,
        };
        observe(metrics, self.backend(), "put", started, &result);
        result
    }

    /// The blob's bytes from `start` for `len` bytes (all of it when `None`), as a
    /// stream: a large original never sits in memory.
    pub async fn get(&self, metrics: &Metrics, key: &str, range: Option<(u64, u64)>) -> Result<ByteStream, StoreError> {
        check_key(key)?;
        let started = Instant::now();
        let result = match self {
            BlobStore::Fs(s) => s.get(key, range).await,
            BlobStore::S3(s) => s.get(key, range).await,
        };
        observe(metrics, self.backend(), "get", started, &result);
        result
    }

    /// The whole blob as a stream, with its length: one request, no HEAD first.
    pub async fn get_sized(&self, metrics: &Metrics, key: &str) -> Result<(u64, ByteStream), StoreError> {
        check_key(key)?;
        let started = Instant::now();
        let result = match self {
            BlobStore::Fs(s) => s.get_sized(key).await,
            BlobStore::S3(s) => s.get_sized(key).await,
        };
        observe(metrics, self.backend(), "get", started, &result);
        result
    }

    /// A whole small blob in memory (derivatives for the media cache).
    pub async fn get_bytes(&self, metrics: &Metrics, key: &str) -> Result<Bytes, StoreError> {
        let mut stream = self.get(metrics, key, None).await?;
        let mut chunks: Vec<Bytes> = Vec::new();
        while let Some(chunk) = stream.try_next().await.map_err(|e| StoreError::Unavailable(e.to_string()))? {
            chunks.push(chunk);
        }
        // One chunk (most derivatives) is kept as it is, without a copy.
        Ok(if chunks.len() == 1 { chunks.swap_remove(0) } else { Bytes::from(chunks.concat()) })
    }

    pub async fn head(&self, metrics: &Metrics, key: &str) -> Result<Option<BlobMeta>, StoreError> {
        check_key(key)?;
        let started = Instant::now();
        let result = match self {
            BlobStore::Fs(s) => s.head(key).await,
            BlobStore::S3(s) => s.head(key).await,
        };
        observe(metrics, self.backend(), "head", started, &result);
        result
    }

    pub async fn delete(&self, metrics: &Metrics, key: &str) -> Result<(), StoreError> {
        check_key(key)?;
        let started = Instant::now();
        let result = match self {
            BlobStore::Fs(s) => s.delete(key).await,
            BlobStore::S3(s) => s.delete(key).await,
        };
        observe(metrics, self.backend(), "delete", started, &result);
        result
    }

    /// Every key under `prefix` with its last-modified time (for `pujo blobs`).
    pub async fn list(&self, prefix: &str) -> Result<Vec<(String, std::time::SystemTime)>, StoreError> {
        match self {
            BlobStore::Fs(s) => s.list(prefix).await,
            BlobStore::S3(s) => s.list(prefix).await,
        }
    }

    /// A cheap round trip, for `/ready`.
    pub async fn health(&self, metrics: &Metrics) -> Result<(), StoreError> {
        let started = Instant::now();
        let result = match self {
            BlobStore::Fs(s) => s.health().await,
            BlobStore::S3(s) => s.health().await,
        };
        observe(metrics, self.backend(), "health", started, &result);
        result
    }
}

fn check_key(key: &str) -> Result<(), StoreError> {
    if valid_key(key) { Ok(()) } else { Err(StoreError::Other(format!("refusing blob key {key:?}"))) }
}

fn observe<T>(metrics: &Metrics, backend: &str, op: &str, started: Instant, result: &Result<T, StoreError>) {
    let outcome = match result {
        Ok(_) => "ok",
        Err(StoreError::NotFound) => "not_found",
        Err(_) => "error",
    };
    metrics.blob_ops.with_label_values(&[backend, op, outcome]).inc();
    metrics.blob_seconds.with_label_values(&[backend, op]).observe(started.elapsed().as_secs_f64());
}

/// A reader's bytes as a stream, 64 KiB at a time.
fn stream_of(reader: impl tokio::io::AsyncRead + Send + 'static) -> ByteStream {
    tokio_util::io::ReaderStream::with_capacity(reader, 64 * 1024).boxed()
}

// ------------------------------------------------------------------ local folder

/// Blobs as files under one folder: written to a temp file, fsynced, renamed into
/// place and the folder fsynced, so no partial file is ever visible under a key.
pub struct FsStore {
    root: PathBuf,
    /// Files taken with `put_owned` are renamed into place unsynced, and made durable
    /// all at once by [`BlobStore::sync`] (a backup's thousands of blobs, before its
    /// manifest): one filesystem sync instead of two per file.
    batched: bool,
}

impl FsStore {
    pub fn open(root: PathBuf) -> Result<FsStore, StoreError> {
        std::fs::create_dir_all(root.join(".tmp"))
            .map_err(|e| StoreError::Other(format!("cannot create {}: {e}", root.display())))?;
        Ok(FsStore { root, batched: false })
    }

    /// A store whose `put_owned` files are durable only after [`BlobStore::sync`].
    pub fn open_batched(root: PathBuf) -> Result<FsStore, StoreError> {
        Ok(FsStore { batched: true, ..FsStore::open(root)? })
    }

    fn path(&self, key: &str) -> PathBuf {
        self.root.join(key)
    }

    fn temp_path(&self) -> PathBuf {
        use std::sync::atomic::{AtomicU64, Ordering};
        static NEXT: AtomicU64 = AtomicU64::new(0);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        self.root.join(".tmp").join(format!("{}-{n}", std::process::id()))
    }

    async fn put_file(&self, key: &str, source: &Path) -> Result<(), StoreError> {
        let temp = self.temp_path();
        let copied = async {
            tokio::fs::copy(source, &temp).await?;
            tokio::fs::File::open(&temp).await?.sync_all().await
        }
        .await;
        if let Err(e) = copied {
            let _ = tokio::fs::remove_file(&temp).await;
            return Err(io_error(e));
        }
        self.publish(&temp, key).await
    }

    /// Publishes a file written in the store's temp folder, once it is on disk (or,
    /// batched, at once: `sync` makes it durable later).
    async fn adopt(&self, key: &str, temp: &Path) -> Result<(), StoreError> {
        if self.batched {
            let target = self.path(key);
            let parent = target.parent().map(Path::to_owned).unwrap_or_else(|| self.root.clone());
            let moved = async {
                tokio::fs::create_dir_all(&parent).await?;
                tokio::fs::rename(temp, &target).await
            }
            .await;
            if moved.is_err() {
                let _ = tokio::fs::remove_file(temp).await;
            }
            return moved.map_err(io_error);
        }
        if let Err(e) = async { tokio::fs::File::open(temp).await?.sync_all().await }.await {
            let _ = tokio::fs::remove_file(temp).await;
            return Err(io_error(e));
        }
        self.publish(temp, key).await
    }

    /// Makes everything written to the folder's filesystem durable (syncfs).
    async fn sync(&self) -> Result<(), StoreError> {
        let root = self.root.clone();
        tokio::task::spawn_blocking(move || {
            let dir = std::fs::File::open(&root)?;
            rustix::fs::syncfs(&dir).map_err(std::io::Error::from)
        })
        .await
        .map_err(|e| StoreError::Other(e.to_string()))?
        .map_err(io_error)
    }

    async fn put_bytes(&self, key: &str, bytes: &[u8]) -> Result<(), StoreError> {
        let temp = self.temp_path();
        let written = async {
            let mut file = tokio::fs::File::create(&temp).await?;
            file.write_all(bytes).await?;
            file.sync_all().await
        }
        .await;
        if let Err(e) = written {
            let _ = tokio::fs::remove_file(&temp).await;
            return Err(io_error(e));
        }
        self.publish(&temp, key).await
    }

    /// Renames a complete, synced temp file to its key and syncs the folder.
    async fn publish(&self, temp: &Path, key: &str) -> Result<(), StoreError> {
        let target = self.path(key);
        let parent = target.parent().map(Path::to_owned).unwrap_or_else(|| self.root.clone());
        let result = async {
            tokio::fs::create_dir_all(&parent).await?;
            tokio::fs::rename(temp, &target).await?;
            tokio::fs::File::open(&parent).await?.sync_all().await
        }
        .await;
        if result.is_err() {
            let _ = tokio::fs::remove_file(temp).await;
        }
        result.map_err(io_error)
    }

    async fn get(&self, key: &str, range: Option<(u64, u64)>) -> Result<ByteStream, StoreError> {
        let mut file = tokio::fs::File::open(self.path(key)).await.map_err(io_error)?;
        match range {
            None => Ok(stream_of(file)),
            Some((start, len)) => {
                file.seek(std::io::SeekFrom::Start(start)).await.map_err(io_error)?;
                Ok(stream_of(file.take(len)))
            }
        }
    }

    async fn get_sized(&self, key: &str) -> Result<(u64, ByteStream), StoreError> {
        let file = tokio::fs::File::open(self.path(key)).await.map_err(io_error)?;
        let len = file.metadata().await.map_err(io_error)?.len();
        Ok((len, stream_of(file)))
    }

    async fn head(&self, key: &str) -> Result<Option<BlobMeta>, StoreError> {
        match tokio::fs::metadata(self.path(key)).await {
            Ok(m) => Ok(Some(BlobMeta { len: m.len(), content_type: content_type_of(key).to_owned() })),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(io_error(e)),
        }
    }

    async fn delete(&self, key: &str) -> Result<(), StoreError> {
        match tokio::fs::remove_file(self.path(key)).await {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(io_error(e)),
        }
    }

    async fn list(&self, prefix: &str) -> Result<Vec<(String, std::time::SystemTime)>, StoreError> {
        let root = self.root.clone();
        let prefix = prefix.to_owned();
        tokio::task::spawn_blocking(move || {
            let mut out = Vec::new();
            // From the folder the prefix names, not the whole tree (a backup folder
            // holds every blob beside its few manifests).
            let start = prefix.rfind('/').map_or_else(|| root.clone(), |i| root.join(&prefix[..i]));
            let mut stack = vec![start];
            while let Some(dir) = stack.pop() {
                let entries = match std::fs::read_dir(&dir) {
                    Ok(entries) => entries,
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
                    Err(e) => return Err(io_error(e)),
                };
                for entry in entries {
                    let entry = entry.map_err(io_error)?;
                    let path = entry.path();
                    let meta = entry.metadata().map_err(io_error)?;
                    let Ok(rel) = path.strip_prefix(&root) else { continue };
                    let key = rel.to_string_lossy().into_owned();
                    if key.starts_with(".tmp") {
                        continue;
                    }
                    if meta.is_dir() {
                        stack.push(path);
                    } else if key.starts_with(&prefix) {
                        out.push((key, meta.modified().unwrap_or(std::time::SystemTime::UNIX_EPOCH)));
                    }
                }
            }
            out.sort();
            Ok(out)
        })
        .await
        .map_err(|e| StoreError::Other(e.to_string()))?
    }

    async fn health(&self) -> Result<(), StoreError> {
        tokio::fs::metadata(self.root.join(".tmp")).await.map(|_| ()).map_err(io_error)
    }
}

fn io_error(e: std::io::Error) -> StoreError {
    match e.kind() {
        std::io::ErrorKind::NotFound => StoreError::NotFound,
        _ => StoreError::Unavailable(e.to_string()),
    }
}

/// Content types follow from keys: derivatives end in their format's extension,
/// originals keep the type they were uploaded as (recorded on the photo row).
pub fn content_type_of(key: &str) -> &'static str {
    match key.rsplit('.').next() {
        Some("webp") => "image/webp",
        Some("jpg") => "image/jpeg",
        Some("png") => "image/png",
        _ => "application/octet-stream",
    }
}

// ------------------------------------------------------------------ S3

/// A file as a request body, read [`super::FILE_IO_BUFFER`] at a time while the
/// budget for large buffers lasts (the SDK's own default is 4 KiB: hundreds of
/// blocking-pool hops a megabyte); the budget's share is held until the body is sent.
async fn file_body(
    path: &Path,
) -> Result<(aws_sdk_s3::primitives::ByteStream, Option<tokio::sync::OwnedSemaphorePermit>), StoreError> {
    let (size, budget) = super::file_buffer();
    let body = aws_sdk_s3::primitives::ByteStream::read_from()
        .path(path)
        .buffer_size(size)
        .build()
        .await
        .map_err(|e| StoreError::Other(format!("cannot read {}: {e}", path.display())))?;
    Ok((body, budget))
}

pub struct S3Store {
    client: aws_sdk_s3::Client,
    bucket: String,
    /// `None` when `PUJO_S3_SSE=off` (servers without encryption support).
    sse: Option<aws_sdk_s3::types::ServerSideEncryption>,
    kms_key_id: Option<String>,
}

impl S3Store {
    pub async fn connect(settings: &S3Settings) -> Result<S3Store, StoreError> {
        use aws_config::BehaviorVersion;
        use aws_sdk_s3::config::{Credentials, Region, retry::RetryConfig, timeout::TimeoutConfig};
        let mut loader = aws_config::defaults(BehaviorVersion::latest());
        // An S3-compatible server has no region to discover: asking the instance
        // metadata service for one only costs start-up time.
        let region = settings.region.clone().or_else(|| settings.endpoint.as_ref().map(|_| "us-east-1".to_owned()));
        if let Some(region) = region {
            loader = loader.region(Region::new(region));
        }
        if let Some((id, secret)) = &settings.credentials {
            loader = loader.credentials_provider(Credentials::new(id, secret, None, None, "pujo-settings"));
        }
        let shared = loader.load().await;
        let mut config = aws_sdk_s3::config::Builder::from(&shared)
            .force_path_style(settings.path_style)
            // Two tries: a blip is retried, an outage answers 503 quickly.
            .retry_config(RetryConfig::standard().with_max_attempts(2))
            .timeout_config(
                TimeoutConfig::builder()
                    .connect_timeout(Duration::from_secs(3))
                    .operation_attempt_timeout(settings.timeout)
                    .build(),
            );
        if shared.region().is_none() && settings.region.is_none() {
            config = config.region(Region::new("us-east-1"));
        }
        if let Some(endpoint) = &settings.endpoint {
            config = config.endpoint_url(endpoint);
        }
        let sse = (settings.sse != "off").then(|| aws_sdk_s3::types::ServerSideEncryption::from(settings.sse.as_str()));
        Ok(S3Store {
            client: aws_sdk_s3::Client::from_conf(config.build()),
            bucket: settings.bucket.clone(),
            sse,
            kms_key_id: settings.kms_key_id.clone(),
        })
    }

    fn put(
        &self,
        key: &str,
        content_type: &str,
    ) -> aws_sdk_s3::operation::put_object::builders::PutObjectFluentBuilder {
        self.client
            .put_object()
            .bucket(&self.bucket)
            .key(key)
            .content_type(content_type)
            // Keys are content-addressed: the bytes never change.
            .cache_control("public, max-age=31536000, immutable")
            .set_server_side_encryption(self.sse.clone())
            .set_ssekms_key_id(self.kms_key_id.clone())
    }

    pub(super) async fn put_file(&self, key: &str, path: &Path, content_type: &str) -> Result<(), StoreError> {
        let (body, _budget) = file_body(path).await?;
        self.put(key, content_type).body(body).send().await.map_err(s3_error)?;
        Ok(())
    }

    pub(super) async fn put_bytes(&self, key: &str, bytes: Bytes, content_type: &str) -> Result<(), StoreError> {
        self.put(key, content_type).body(bytes.into()).send().await.map_err(s3_error)?;
        Ok(())
    }

    async fn get(&self, key: &str, range: Option<(u64, u64)>) -> Result<ByteStream, StoreError> {
        let range = range.map(|(start, len)| format!("bytes={start}-{}", start + len.saturating_sub(1)));
        let object =
            self.client.get_object().bucket(&self.bucket).key(key).set_range(range).send().await.map_err(s3_error)?;
        Ok(sdk_stream(object.body))
    }

    pub(super) async fn get_sized(&self, key: &str) -> Result<(u64, ByteStream), StoreError> {
        let object = self.client.get_object().bucket(&self.bucket).key(key).send().await.map_err(s3_error)?;
        let len = u64::try_from(object.content_length.unwrap_or(0)).unwrap_or(0);
        Ok((len, sdk_stream(object.body)))
    }

    async fn head(&self, key: &str) -> Result<Option<BlobMeta>, StoreError> {
        match self.client.head_object().bucket(&self.bucket).key(key).send().await.map_err(s3_error) {
            Ok(h) => Ok(Some(BlobMeta {
                len: u64::try_from(h.content_length.unwrap_or(0)).unwrap_or(0),
                content_type: h.content_type.unwrap_or_else(|| content_type_of(key).to_owned()),
            })),
            Err(StoreError::NotFound) => Ok(None),
            Err(e) => Err(e),
        }
    }

    pub(super) async fn delete(&self, key: &str) -> Result<(), StoreError> {
        self.client.delete_object().bucket(&self.bucket).key(key).send().await.map_err(s3_error)?;
        Ok(())
    }

    pub(super) async fn list(&self, prefix: &str) -> Result<Vec<(String, std::time::SystemTime)>, StoreError> {
        let mut out = Vec::new();
        let mut pages = self.client.list_objects_v2().bucket(&self.bucket).prefix(prefix).into_paginator().send();
        while let Some(page) = pages.next().await {
            let page = page.map_err(s3_error)?;
            for object in page.contents() {
                let Some(key) = object.key() else { continue };
                let modified = object
                    .last_modified()
                    .and_then(|t| std::time::SystemTime::try_from(*t).ok())
                    .unwrap_or(std::time::SystemTime::UNIX_EPOCH);
                out.push((key.to_owned(), modified));
            }
        }
        out.sort();
        Ok(out)
    }

    /// Starts a multipart upload of `key`; its id.
    pub async fn create_multipart(&self, key: &str) -> Result<String, StoreError> {
        let out = self
            .client
            .create_multipart_upload()
            .bucket(&self.bucket)
            .key(key)
            .content_type("application/octet-stream")
            .set_server_side_encryption(self.sse.clone())
            .set_ssekms_key_id(self.kms_key_id.clone())
            .send()
            .await
            .map_err(s3_error)?;
        out.upload_id.ok_or_else(|| StoreError::Other("CreateMultipartUpload answered no upload id".into()))
    }

    /// Sends the file at `path` as part `number` (from 1) of multipart upload `id`; its ETag.
    pub async fn upload_part(&self, key: &str, id: &str, number: i32, path: &Path) -> Result<String, StoreError> {
        let (body, _budget) = file_body(path).await?;
        let out = self
            .client
            .upload_part()
            .bucket(&self.bucket)
            .key(key)
            .upload_id(id)
            .part_number(number)
            .body(body)
            .send()
            .await
            .map_err(s3_error)?;
        out.e_tag.ok_or_else(|| StoreError::Other("UploadPart answered no ETag".into()))
    }

    /// Joins the parts (ETags in order) of multipart upload `id` into the object `key`.
    pub async fn complete_multipart(&self, key: &str, id: &str, tags: &[String]) -> Result<(), StoreError> {
        use aws_sdk_s3::types::{CompletedMultipartUpload, CompletedPart};
        let parts = tags
            .iter()
            .zip(1..)
            .map(|(tag, number)| CompletedPart::builder().e_tag(tag).part_number(number).build())
            .collect();
        self.client
            .complete_multipart_upload()
            .bucket(&self.bucket)
            .key(key)
            .upload_id(id)
            .multipart_upload(CompletedMultipartUpload::builder().set_parts(Some(parts)).build())
            .send()
            .await
            .map_err(s3_error)?;
        Ok(())
    }

    /// Multipart uploads under `prefix` not finished or aborted: (key, upload id, started).
    pub async fn list_multipart(
        &self,
        prefix: &str,
    ) -> Result<Vec<(String, String, std::time::SystemTime)>, StoreError> {
        let mut out = Vec::new();
        let (mut key_marker, mut id_marker) = (None::<String>, None::<String>);
        loop {
            let page = self
                .client
                .list_multipart_uploads()
                .bucket(&self.bucket)
                .prefix(prefix)
                .set_key_marker(key_marker.clone())
                .set_upload_id_marker(id_marker.clone())
                .send()
                .await
                .map_err(s3_error)?;
            for upload in page.uploads() {
                let (Some(key), Some(id)) = (upload.key(), upload.upload_id()) else { continue };
                let started = upload
                    .initiated()
                    .and_then(|t| std::time::SystemTime::try_from(*t).ok())
                    .unwrap_or(std::time::SystemTime::UNIX_EPOCH);
                out.push((key.to_owned(), id.to_owned(), started));
            }
            if page.is_truncated() != Some(true) {
                return Ok(out);
            }
            key_marker = page.next_key_marker().map(str::to_owned);
            id_marker = page.next_upload_id_marker().map(str::to_owned);
            if key_marker.is_none() {
                return Ok(out);
            }
        }
    }

    /// Gives up multipart upload `id`: S3 drops its parts. One already gone is fine.
    pub async fn abort_multipart(&self, key: &str, id: &str) -> Result<(), StoreError> {
        match self.client.abort_multipart_upload().bucket(&self.bucket).key(key).upload_id(id).send().await {
            Ok(_) => Ok(()),
            Err(e) => match s3_error(e) {
                StoreError::NotFound => Ok(()),
                StoreError::Other(message) if message.starts_with("NoSuchUpload") => Ok(()),
                other => Err(other),
            },
        }
    }

    async fn health(&self) -> Result<(), StoreError> {
        self.client.head_bucket().bucket(&self.bucket).send().await.map_err(s3_error)?;
        Ok(())
    }
}

/// The SDK's response body as a stream of its own chunks: no reader adapter, no copies.
fn sdk_stream(stream: aws_sdk_s3::primitives::ByteStream) -> ByteStream {
    http_body_util::BodyDataStream::new(stream.into_inner()).map_err(std::io::Error::other).boxed()
}

/// Missing keys are `NotFound`; no answer at all (refused, timed out) is
/// `Unavailable`; anything the service refused is `Other`.
fn s3_error<E, R>(e: aws_sdk_s3::error::SdkError<E, R>) -> StoreError
where
    E: aws_sdk_s3::error::ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug,
{
    use aws_sdk_s3::error::SdkError;
    match &e {
        SdkError::ServiceError(service) => {
            let code = service.err().code().unwrap_or("");
            if matches!(code, "NoSuchKey" | "NotFound") {
                return StoreError::NotFound;
            }
            if format!("{:?}", service.raw()).contains("status: StatusCode(404)") {
                return StoreError::NotFound;
            }
            let message = service.err().message().unwrap_or("").to_owned();
            if matches!(code, "SlowDown" | "ServiceUnavailable" | "InternalError" | "RequestTimeout") {
                return StoreError::Unavailable(format!("{code}: {message}"));
            }
            StoreError::Other(format!("{code}: {message}"))
        }
        SdkError::TimeoutError(_) | SdkError::DispatchFailure(_) | SdkError::ResponseError(_) => {
            StoreError::Unavailable(aws_sdk_s3::error::DisplayErrorContext(&e).to_string())
        }
        _ => StoreError::Other(aws_sdk_s3::error::DisplayErrorContext(&e).to_string()),
    }
}
