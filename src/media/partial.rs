//! Where the bytes of an unfinished resumable upload live when photos are on S3, so
//! that any replica can take the next chunk and an acknowledged offset survives every
//! process (on the local folder one growing file per upload does that, see
//! `api::uploads`).
//!
//! S3 takes a multipart upload's parts at 5 MiB or more (but the last), while a phone
//! on a crowded network sends chunks of a few hundred kB. So a chunk first waits as a
//! small object of its own, a *segment* (`partial/<id>/s/<offset>`); once the segments
//! waiting and the chunk arriving reach [`PART_MIN`] they are sent as the next part of
//! the upload's multipart upload (`partial/<id>/parts`), and the segments go. The last
//! chunk never goes to S3: the replica that receives it fetches the rest (joining the
//! parts into one object first), and the whole file goes through the photo pipeline.
//!
//! Every write here happens before the database acknowledges the bytes, and every
//! removal after: what the database says was received is always in the bucket.

use std::path::Path;

use futures_util::StreamExt;
use tokio::io::AsyncWriteExt;

use super::Media;
use super::store::{S3Store, StoreError};
use crate::db::Upload;

/// Where fetched bytes are written: a temp file behind a write buffer.
pub type Out = super::Buffered;

/// S3's smallest part (but the last).
pub const PART_MIN: u64 = 5 * 1024 * 1024;

/// The object the parts are joined into, and the multipart upload's key.
pub fn parts_key(id: &str) -> String {
    format!("partial/{id}/parts")
}

fn segments_prefix(id: &str) -> String {
    format!("partial/{id}/s/")
}

/// Offsets are zero-padded so that the keys list in byte order.
fn segment_key(id: &str, start: u64) -> String {
    format!("{}{start:012}", segments_prefix(id))
}

/// Why a partial upload's bytes could not be kept or fetched.
#[derive(Debug, thiserror::Error)]
pub enum PartialError {
    /// The bucket answered, and acknowledged bytes are not in it (a segment missing
    /// from the chain, parts shorter than recorded): the upload cannot be finished.
    #[error("acknowledged bytes are missing from the bucket")]
    Gap,
    /// The claim is too close to its end for another write to surely land before it.
    #[error("the upload's claim ends before a write could finish")]
    Late,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// A write to the bucket may start only while it surely ends before the claim does:
/// a writer whose claim lapsed could otherwise overwrite what its successor wrote.
fn in_time(write_by: std::time::Instant) -> Result<(), PartialError> {
    if std::time::Instant::now() < write_by { Ok(()) } else { Err(PartialError::Late) }
}

/// A chunk's bytes as the request that received them holds them.
#[derive(Debug, Clone)]
pub enum Chunk<'a> {
    /// In a temp file (a chunk of no declared length, or past the memory budget).
    File(&'a Path),
    /// In memory.
    Memory(bytes::Bytes),
}

impl Chunk<'_> {
    /// Writes the chunk's bytes to `out`.
    pub async fn append_to(&self, out: &mut Out) -> std::io::Result<()> {
        match self {
            Chunk::File(path) => super::append_file(path, out).await.map(|_| ()),
            Chunk::Memory(bytes) => out.write_all(bytes).await,
        }
    }
}

/// How a chunk was kept.
#[derive(Debug, PartialEq, Eq)]
pub enum Kept {
    /// As a segment: `received` grows, nothing else.
    Segment,
    /// As a new part: the parts now cover everything received, with these ETags in
    /// this multipart upload (`created` by this request). The segments it took in are
    /// removed once the database says so ([`Media::drop_segments`]).
    Part { tags: Vec<String>, multipart: String, created: bool },
}

impl Media {
    fn bucket(&self) -> Result<&S3Store, StoreError> {
        self.store.s3().ok_or_else(|| StoreError::Other("partial uploads in the bucket need S3".into()))
    }

    /// Keeps bytes `[upload.received, upload.received + len)` of `upload`, which are
    /// `chunk`: as the next part when, with the segments waiting, they reach
    /// [`PART_MIN`] (and the parts were not joined already), else as a segment. No
    /// write starts after `write_by`.
    pub async fn keep_chunk(
        &self,
        upload: &Upload,
        chunk: Chunk<'_>,
        len: u64,
        write_by: std::time::Instant,
    ) -> Result<Kept, PartialError> {
        let s3 = self.bucket()?;
        let start = u64::try_from(upload.received).unwrap_or(0);
        let parted = u64::try_from(upload.parted).unwrap_or(0);
        if upload.joined() || (start - parted) + len < PART_MIN {
            return self.keep_segment(upload, chunk, write_by).await;
        }
        let key = parts_key(&upload.id);
        // The part is the waiting segments and the chunk, in one temp file.
        let body = super::TempFile(self.temp_path());
        let mut out = super::buffered(tokio::fs::File::create(&body.0).await?);
        if self.copy_segments(upload, &mut out).await? != start {
            return Err(PartialError::Gap);
        }
        chunk.append_to(&mut out).await?;
        out.flush().await?;
        drop(out);
        in_time(write_by)?;
        let (multipart, created) = match &upload.multipart {
            Some(id) => (id.clone(), false),
            None => (s3.create_multipart(&key).await?, true),
        };
        let number = i32::try_from(upload.part_tags.len() + 1).unwrap_or(i32::MAX);
        let tag = match s3.upload_part(&key, &multipart, number, &body.0).await {
            Ok(tag) => tag,
            // The multipart upload was joined by a last chunk whose request failed
            // before the database heard of it: the parts are one object already, so
            // this chunk waits as a segment like any after a join.
            Err(StoreError::NotFound) if !created && s3.get_sized(&key).await.is_ok() => {
                return self.keep_segment(upload, chunk, write_by).await;
            }
            Err(e) => {
                if created {
                    let _ = s3.abort_multipart(&key, &multipart).await;
                }
                return Err(e.into());
            }
        };
        let mut tags = upload.part_tags.clone();
        tags.push(tag);
        Ok(Kept::Part { tags, multipart, created })
    }

    async fn keep_segment(
        &self,
        upload: &Upload,
        chunk: Chunk<'_>,
        write_by: std::time::Instant,
    ) -> Result<Kept, PartialError> {
        let s3 = self.bucket()?;
        in_time(write_by)?;
        let key = segment_key(&upload.id, u64::try_from(upload.received).unwrap_or(0));
        match chunk {
            Chunk::File(path) => s3.put_file(&key, path, "application/octet-stream").await?,
            Chunk::Memory(bytes) => s3.put_bytes(&key, bytes, "application/octet-stream").await?,
        }
        Ok(Kept::Segment)
    }

    /// Gives up multipart upload `multipart` of upload `id`, made by a request whose
    /// part the database did not take.
    pub async fn abort_parts(&self, id: &str, multipart: &str) {
        if let Ok(s3) = self.bucket() {
            let _ = s3.abort_multipart(&parts_key(id), multipart).await;
        }
    }

    /// Writes the segments of `upload` from `parted` on to `out`, checking that each
    /// starts where the one before ended; the offset reached. Segments at or past
    /// `received` (written but never acknowledged) are not the upload's.
    async fn copy_segments(&self, upload: &Upload, out: &mut Out) -> Result<u64, PartialError> {
        let s3 = self.bucket()?;
        let received = u64::try_from(upload.received).unwrap_or(0);
        let mut at = u64::try_from(upload.parted).unwrap_or(0);
        for (start, key) in self.segments(&upload.id).await? {
            if start < at || start >= received {
                continue;
            }
            if start != at {
                return Err(PartialError::Gap);
            }
            let (len, stream) = s3.get_sized(&key).await?;
            let copied = write_stream(stream, out).await?;
            if copied != len {
                return Err(
                    StoreError::Unavailable(format!("segment {key} ended after {copied} of {len} bytes")).into()
                );
            }
            at += len;
        }
        Ok(at)
    }

    /// Writes everything `upload` received so far to `out`: the parts (joined into
    /// one object first, if they are not yet: then the multipart upload's id is
    /// returned, for the database to forget), then the segments. No write starts
    /// after `write_by`.
    pub async fn fetch_partial(
        &self,
        upload: &Upload,
        out: &mut Out,
        write_by: std::time::Instant,
    ) -> Result<Option<String>, PartialError> {
        let s3 = self.bucket()?;
        let mut joined_now = None;
        if upload.parted > 0 {
            let key = parts_key(&upload.id);
            if let Some(multipart) = &upload.multipart {
                in_time(write_by)?;
                // Joined already when an earlier last chunk got this far and then
                // failed before the database heard of it: the object is there.
                if let Err(e) = s3.complete_multipart(&key, multipart, &upload.part_tags).await
                    && s3.get_sized(&key).await.is_err()
                {
                    return Err(e.into());
                }
                joined_now = Some(multipart.clone());
            }
            let (len, stream) = s3.get_sized(&key).await?;
            if len != u64::try_from(upload.parted).unwrap_or(0) {
                return Err(PartialError::Gap);
            }
            write_stream(stream, out).await?;
        }
        if self.copy_segments(upload, out).await? != u64::try_from(upload.received).unwrap_or(0) {
            return Err(PartialError::Gap);
        }
        Ok(joined_now)
    }

    /// Removes the segments of upload `id` that start before `parted`: those that
    /// became a part. Only those: the request that made the part has let go of its
    /// claim by now, and the next chunk, on any replica, may already be waiting as a
    /// segment at `parted`.
    pub async fn drop_segments(&self, id: &str, parted: u64) -> Result<(), StoreError> {
        let s3 = self.bucket()?;
        for (start, key) in self.segments(id).await? {
            if start < parted {
                s3.delete(&key).await?;
            }
        }
        Ok(())
    }

    /// The segments of upload `id` in the bucket, by the offset each starts at, in
    /// order (a key that names no offset is no segment).
    async fn segments(&self, id: &str) -> Result<Vec<(u64, String)>, StoreError> {
        let prefix = segments_prefix(id);
        let listed = self.bucket()?.list(&prefix).await?;
        Ok(listed
            .into_iter()
            .filter_map(|(key, _)| Some((key.strip_prefix(&prefix)?.parse::<u64>().ok()?, key)))
            .collect())
    }

    /// Removes everything of upload `id` in the bucket: its multipart upload, the
    /// joined parts and the segments.
    pub async fn drop_partial(&self, id: &str, multipart: Option<&str>) -> Result<(), StoreError> {
        let s3 = self.bucket()?;
        let aborted = match multipart {
            Some(multipart) => s3.abort_multipart(&parts_key(id), multipart).await,
            None => Ok(()),
        };
        for (key, _) in s3.list(&format!("partial/{id}/")).await? {
            s3.delete(&key).await?;
        }
        aborted
    }

    /// Removes partial uploads in the bucket that no upload row names (the row went
    /// with its album or account) and that are older than `age`; how many.
    pub async fn drop_orphan_partials(
        &self,
        known: &std::collections::HashSet<String>,
        age: std::time::Duration,
    ) -> Result<u64, StoreError> {
        let s3 = self.bucket()?;
        let old = |t: std::time::SystemTime| t.elapsed().unwrap_or_default() > age;
        let id_of = |key: &str| key.strip_prefix("partial/").and_then(|k| k.split('/').next()).map(str::to_owned);
        let mut removed = 0;
        for (key, modified) in s3.list("partial/").await? {
            if old(modified) && id_of(&key).is_some_and(|id| !known.contains(&id)) {
                s3.delete(&key).await?;
                removed += 1;
            }
        }
        // Not every S3-compatible server lists multipart uploads; the bucket's
        // lifecycle rule (AbortIncompleteMultipartUpload) is the backstop.
        match s3.list_multipart("partial/").await {
            Ok(uploads) => {
                for (key, multipart, started) in uploads {
                    if old(started) && id_of(&key).is_some_and(|id| !known.contains(&id)) {
                        s3.abort_multipart(&key, &multipart).await?;
                        removed += 1;
                    }
                }
            }
            Err(e) => tracing::debug!(error = %e, "cannot list multipart uploads"),
        }
        Ok(removed)
    }
}

/// Writes a blob's stream to `out`; the bytes written.
async fn write_stream(mut stream: super::store::ByteStream, out: &mut Out) -> Result<u64, PartialError> {
    let mut written = 0u64;
    while let Some(bytes) = stream.next().await {
        let bytes = bytes?;
        written += bytes.len() as u64;
        out.write_all(&bytes).await?;
    }
    Ok(written)
}

impl From<std::io::Error> for PartialError {
    fn from(e: std::io::Error) -> PartialError {
        PartialError::Store(StoreError::Other(e.to_string()))
    }
}
