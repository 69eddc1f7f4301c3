//! The upload form reader: multer over the request body, with a budget on what it may
//! take in while it looks for a part (the preamble, a boundary and the part's headers).
//! A real client sends a few hundred bytes there; past the budget the body is refused,
//! so a flood of junk where headers belong can neither grow a buffer nor be rescanned
//! at every read. The whole body has a limit too (the caller's `whole_stream`).
//!
//! It knows nothing of Pujo's parts: the upload handler decides what `file` and
//! `caption` mean, and puts a time limit on every wait.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::task::{Context, Poll};

use bytes::Bytes;
use futures_util::{Stream, StreamExt};

/// Bytes the parser may take in while it looks for the next part.
pub const MAX_PART_HEADER_BYTES: u64 = 64 * 1024;

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Counts what the body stream hands the parser while it looks for a part.
#[derive(Debug, Default)]
struct HeaderBudget {
    looking: AtomicBool,
    spent: AtomicU64,
    exceeded: AtomicBool,
}

impl HeaderBudget {
    fn looking(&self, on: bool) {
        self.spent.store(0, Ordering::Release);
        self.looking.store(on, Ordering::Release);
    }

    fn is_looking(&self) -> bool {
        self.looking.load(Ordering::Acquire)
    }

    /// Whether a chunk of `len` bytes may pass now.
    fn allows(&self, len: usize) -> bool {
        if !self.looking.load(Ordering::Acquire) {
            return true;
        }
        let before = self.spent.fetch_add(len as u64, Ordering::AcqRel);
        if before > MAX_PART_HEADER_BYTES {
            self.exceeded.store(true, Ordering::Release);
            return false;
        }
        true
    }

    fn was_exceeded(&self) -> bool {
        self.exceeded.load(Ordering::Acquire)
    }
}

#[derive(Debug, thiserror::Error)]
#[error("a part's headers are longer than {MAX_PART_HEADER_BYTES} bytes")]
struct HeadersTooLong;

/// The request body as the multipart parser sees it. The parser takes every chunk
/// that is ready before it looks at what it has; over HTTP/2 the connection has
/// usually received far more than the next part's headers (a whole window of the
/// file), which would all count against the header budget. So while the parser looks
/// for a part, it gets one chunk at a time (then `Pending`, with the task woken at
/// once), and the budget counts what it needed to find the headers, not what the
/// network had delivered.
struct Paced<S> {
    inner: S,
    budget: Arc<HeaderBudget>,
    /// A chunk was handed over since the parser last ran.
    fed: bool,
}

impl<S, E> Stream for Paced<S>
where
    S: Stream<Item = Result<Bytes, E>> + Unpin,
    E: Into<BoxError>,
{
    type Item = Result<Bytes, BoxError>;

    fn poll_next(mut self: std::pin::Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let looking = self.budget.is_looking();
        if looking && self.fed {
            self.fed = false;
            cx.waker().wake_by_ref();
            return Poll::Pending;
        }
        match self.inner.poll_next_unpin(cx) {
            Poll::Ready(Some(Ok(chunk))) => {
                self.fed = looking;
                if self.budget.allows(chunk.len()) {
                    Poll::Ready(Some(Ok(chunk)))
                } else {
                    Poll::Ready(Some(Err(Box::new(HeadersTooLong))))
                }
            }
            Poll::Ready(Some(Err(e))) => Poll::Ready(Some(Err(e.into()))),
            Poll::Ready(None) => Poll::Ready(None),
            Poll::Pending => Poll::Pending,
        }
    }
}

/// Why a form could not be read on.
#[derive(Debug, thiserror::Error)]
pub enum FormError {
    #[error("a part's headers are longer than {MAX_PART_HEADER_BYTES} bytes")]
    HeadersTooLong,
    #[error("the multipart body is malformed: {0}")]
    Malformed(String),
}

/// One multipart body, read part by part.
pub struct Form {
    multipart: multer::Multipart<'static>,
    budget: Arc<HeaderBudget>,
}

impl Form {
    /// A reader of `body` with this `boundary`, refusing bodies over `whole_stream` bytes.
    pub fn new<S, E>(body: S, boundary: impl Into<String>, whole_stream: u64) -> Form
    where
        S: Stream<Item = Result<Bytes, E>> + Unpin + Send + 'static,
        E: Into<BoxError> + 'static,
    {
        let budget = Arc::new(HeaderBudget::default());
        let paced = Paced { inner: body, budget: budget.clone(), fed: false };
        let constraints = multer::Constraints::new().size_limit(multer::SizeLimit::new().whole_stream(whole_stream));
        Form { multipart: multer::Multipart::with_constraints(paced, boundary, constraints), budget }
    }

    /// The next part, or `None` after the last one. Only the part's headers are read;
    /// its bytes are the caller's to take.
    pub async fn next_part(&mut self) -> Result<Option<multer::Field<'static>>, FormError> {
        self.budget.looking(true);
        let next = self.multipart.next_field().await;
        self.budget.looking(false);
        match next {
            Ok(field) => Ok(field),
            Err(_) if self.budget.was_exceeded() => Err(FormError::HeadersTooLong),
            Err(e) => Err(FormError::Malformed(e.to_string())),
        }
    }
}

/// Reads a whole form from bytes as a client might send them, for the fuzz target and
/// the replay of its corpus: the first byte is the size of the chunks the rest arrives
/// in (1 to 256), the boundary is `pujo-fuzz`, and at most 1 MiB is read. Answers each
/// part's name and how many bytes it had.
pub fn read_all(data: &[u8]) -> Result<Vec<(Option<String>, usize)>, FormError> {
    let Some((&first, body)) = data.split_first() else { return Ok(Vec::new()) };
    let chunk = usize::from(first) + 1;
    let chunks: Vec<Result<Bytes, std::io::Error>> =
        body.chunks(chunk).map(|c| Ok(Bytes::copy_from_slice(c))).collect();
    let runtime =
        tokio::runtime::Builder::new_current_thread().build().map_err(|e| FormError::Malformed(e.to_string()))?;
    runtime.block_on(async move {
        let mut form = Form::new(futures_util::stream::iter(chunks), "pujo-fuzz", 1024 * 1024);
        let mut parts = Vec::new();
        while let Some(mut field) = form.next_part().await? {
            let name = field.name().map(str::to_owned);
            let mut len = 0;
            while let Some(bytes) = field.chunk().await.map_err(|e| FormError::Malformed(e.to_string()))? {
                len += bytes.len();
            }
            parts.push((name, len));
        }
        Ok(parts)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parts_come_out_with_their_names_and_sizes() {
        let body = b"\x03--pujo-fuzz\r\nContent-Disposition: form-data; name=\"caption\"\r\n\r\nshiuli\r\n\
                     --pujo-fuzz\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.jpg\"\r\n\r\n\
                     0123456789\r\n--pujo-fuzz--\r\n";
        let parts = read_all(body).expect("a well-formed form");
        assert_eq!(parts, [(Some("caption".to_owned()), 6), (Some("file".to_owned()), 10)]);
    }

    #[test]
    fn a_flood_where_headers_belong_is_refused_at_the_budget() {
        let mut body = b"\xff--pujo-fuzz\r\nX-Junk: ".to_vec();
        body.extend(std::iter::repeat_n(b'a', 70 * 1024));
        assert!(matches!(read_all(&body), Err(FormError::HeadersTooLong)));
    }
}
