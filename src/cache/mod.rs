//! The edge cache: moka in this process, then Redis shared by replicas, then the
//! database. Answers are judged fresh by the invalidation bus (`bus.rs`), never by
//! their age alone; ARCHITECTURE.md ("The edge cache") has the rules.

pub mod bus;
pub mod redis;
pub mod walls;

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use sha2::{Digest, Sha256};

pub use bus::{Bus, Stamp, Tag};
pub use redis::{Redis, RedisSettings, SetupError};
pub use walls::{Shown, WallKey, Walls};

use crate::db::{Database, DbError, SearchHits, User};
use crate::media::PhotoRow;
use crate::metrics::Metrics;

/// How long a cached photo row may serve at most (writes retire it sooner).
const PHOTO_ROW_TTL: Duration = Duration::from_secs(60);

/// How long what nobody sees of a search or a pandal page stays in process (writes
/// retire it sooner; it is trusted for the lists' TTL from its first read, and in Redis
/// lives that long).
const SHARED_HITS_TTL: Duration = Duration::from_secs(60);
/// What nobody sees of a search or a pandal page, kept for every viewer's answer
/// (`Cache::shared_hits`): read at `stamp`, retired by `deps`.
pub struct SharedHits {
    pub stamp: Stamp,
    deps: Vec<Tag>,
    pub hits: SearchHits,
    /// Photos whose location `hits` holds as others see it (`Photo::location_for_others`),
    /// not as their owner does: what came through Redis, which is never told more.
    pub withheld: Vec<i64>,
}

/// The most a kept part's Redis form may inflate to: a part holds at most 50 photos
/// and 50 albums, about 100 kB of JSON.
const SHARED_HITS_MAX_BYTES: u64 = 4 << 20;

/// The Redis form of a kept part (JSON, deflated).
#[derive(serde::Serialize, serde::Deserialize)]
struct StoredHits {
    stamp: Stamp,
    deps: String,
    hits: SearchHits,
    withheld: Vec<i64>,
}

impl SharedHits {
    /// About the bytes it holds: its text and a fixed share for each row's other fields.
    fn weight(&self) -> u32 {
        let h = &self.hits;
        let photos: usize = h.photos.iter().map(|p| 512 + p.caption.len() + p.exif.to_string().len()).sum();
        let albums: usize = h.albums.iter().map(|a| 512 + a.title.len() + a.description.len()).sum();
        u32::try_from(256 + photos + albums + 256 * h.pandals.len()).unwrap_or(u32::MAX)
    }

    /// Its Redis form: every location as others see it, and which photos' owners see
    /// more, the EXIF anyone is shown, and no blob hash or key (no location its owner
    /// keeps to themselves leaves the process in it).
    fn encode(&self) -> Vec<u8> {
        let mut hits = self.hits.clone();
        let mut withheld = self.withheld.clone();
        for photo in &mut hits.photos {
            photo.exif = serde_json::Value::Object(photo.take_shown_exif());
            let others = photo.location_for_others();
            if photo.lat.zip(photo.lon) != others && !withheld.contains(&photo.id) {
                withheld.push(photo.id);
            }
            (photo.lat, photo.lon) = (others.map(|l| l.0), others.map(|l| l.1));
            // What no answer built from it shows (its public rows open without a key).
            (photo.sha256, photo.link_key, photo.upload_link_id) = (Vec::new(), String::new(), None);
        }
        let stored = StoredHits { stamp: self.stamp.clone(), deps: bus::encode_tags(&self.deps), hits, withheld };
        // Deflated: a pandal page's part is about 70 kB of JSON, and a festival's 2,000
        // of them would fill a small Redis.
        crate::http::gzip(&serde_json::to_vec(&stored).unwrap_or_default()).to_vec()
    }

    /// Its Redis form read back, if it inflates to at most `SHARED_HITS_MAX_BYTES`.
    fn decode(bytes: &[u8]) -> Option<SharedHits> {
        use std::io::Read;
        let mut json = Vec::new();
        let mut inflated = flate2::read::GzDecoder::new(bytes).take(SHARED_HITS_MAX_BYTES + 1);
        inflated.read_to_end(&mut json).ok()?;
        if json.len() as u64 > SHARED_HITS_MAX_BYTES {
            return None;
        }
        let stored: StoredHits = serde_json::from_slice(&json).ok()?;
        let deps = bus::decode_tags(&stored.deps)?;
        Some(SharedHits { stamp: stored.stamp, deps, hits: stored.hits, withheld: stored.withheld })
    }
}

/// Reads `bytes` as each of the cache's Redis forms (an answer; a kept part) and
/// checks what it takes: whatever a shared Redis holds (another release's bytes,
/// anything a client with access wrote), reading it answers without a panic, a part
/// inflates to at most `SHARED_HITS_MAX_BYTES`, and what is read writes back to the
/// same stamp and tags. Returns which forms it was. For the fuzz target `redis_forms`
/// and its corpus replay (`tests/it/fuzz_corpus.rs`).
pub fn check_redis_forms(bytes: &[u8]) -> (bool, bool) {
    let answer = Answer::decode(bytes);
    if let Some(answer) = &answer {
        assert_eq!(Answer::decode(&answer.encode()).as_ref(), Some(answer), "an answer writes back as it read");
    }
    let part = SharedHits::decode(bytes);
    if let Some(part) = &part {
        let again = SharedHits::decode(&part.encode()).expect("a part written back reads");
        assert_eq!((&again.stamp, &again.deps), (&part.stamp, &part.deps), "a part writes back as it read");
    }
    (answer.is_some(), part.is_some())
}

/// What a photo's row for its media depends on: the photo, and its album (visibility,
/// link key).
/// It shows no counts: judged apart from them, so likes and comments leave it kept.
fn row_deps(id: i64, row: &PhotoRow) -> [Tag; 3] {
    [Tag::Global, Tag::Photo(id), Tag::Album(row.album_id)]
}

/// Cache settings (`PUJO_REDIS_*`, `PUJO_CACHE_*`).
#[derive(Debug, Clone)]
pub struct CacheSettings {
    pub redis: Option<RedisSettings>,
    /// Time an answer or session stays in process.
    pub local_ttl: Duration,
    /// Memory for answers in process.
    pub local_bytes: u64,
    /// Redis TTL of one item's answer (an album, a photo, its comments).
    pub response_ttl: Duration,
    /// Redis TTL of lists and search results.
    pub query_ttl: Duration,
    /// How long a 404 is remembered.
    pub negative_ttl: Duration,
}

/// Sessions stay in Redis as long as they live without use.
pub const SESSION_TTL: Duration = Duration::from_secs(24 * 3600);
/// A session served from cache for this long is looked up in the database again,
/// which slides its expiry there (the durable record).
const SESSION_TOUCH: Duration = Duration::from_secs(15 * 60);
/// A replica that takes the lock to load an answer others are waiting for holds it
/// this long at most; the others poll Redis meanwhile, then load it themselves.
const LOAD_LOCK: Duration = Duration::from_secs(2);
const LOCK_WAIT: Duration = Duration::from_millis(250);
const LOCK_POLL: Duration = Duration::from_millis(5);

/// Which Redis TTL an answer gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// One thing: an album, a photo, its comments.
    Item,
    /// A list or search result.
    Query,
}

/// A cached API answer: the JSON body with its status, ETag, and what it depends on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    pub stamp: Stamp,
    pub deps: Vec<Tag>,
    /// Unix milliseconds after which this copy is not served (its tier's TTL).
    pub until_ms: u64,
    pub status: u16,
    pub etag: String,
    pub body: Bytes,
    /// The body's compressed copies, made when a client first asks for each
    /// ([`Answer::brotli`], [`Answer::gzip`]).
    compressed: Compressed,
}

/// A JSON body compressed once for every client that takes it compressed, instead of
/// once a response: the copies live as long as the answer does in this process.
#[derive(Debug, Clone, Default)]
struct Compressed {
    br: std::sync::OnceLock<Bytes>,
    gzip: std::sync::OnceLock<Bytes>,
}

impl PartialEq for Compressed {
    /// Copies made from one body are the same content: answers are equal by their body.
    fn eq(&self, _: &Compressed) -> bool {
        true
    }
}

impl Eq for Compressed {}

/// `PJA3` carries the stamp's epoch and the number its counts are as of; `PJA1` and
/// `PJA2` answers (without them) are not read.
const ANSWER_MAGIC: &[u8; 4] = b"PJA3";

/// The ETag of a JSON body: weak, since compression may change the bytes on the
/// wire but not the content.
pub fn weak_etag(body: &[u8]) -> String {
    let digest = Sha256::digest(body);
    format!("W/\"{}\"", crate::util::hex(&digest[..12]))
}

impl Answer {
    fn new(stamp: Stamp, deps: Vec<Tag>, until_ms: u64, status: u16, body: Bytes) -> Answer {
        let etag = weak_etag(&body);
        Answer { stamp, deps, until_ms, status, etag, body, compressed: Compressed::default() }
    }

    /// The body in brotli (compressed now if it is the first asked for).
    pub fn brotli(&self) -> Bytes {
        self.compressed.br.get_or_init(|| crate::http::brotli(&self.body)).clone()
    }

    /// The body in gzip.
    pub fn gzip(&self) -> Bytes {
        self.compressed.gzip.get_or_init(|| crate::http::gzip(&self.body)).clone()
    }

    /// The Redis form: a fixed header, the tags, the ETag, then the body.
    fn encode(&self) -> Vec<u8> {
        let tags = bus::encode_tags(&self.deps);
        let mut out = Vec::with_capacity(48 + tags.len() + self.etag.len() + self.body.len());
        out.extend_from_slice(ANSWER_MAGIC);
        out.extend_from_slice(&self.stamp.seen.to_le_bytes());
        out.extend_from_slice(&self.stamp.created_ms.to_le_bytes());
        out.extend_from_slice(&self.stamp.epoch.to_le_bytes());
        out.extend_from_slice(&self.stamp.counts_seen.to_le_bytes());
        out.extend_from_slice(&self.until_ms.to_le_bytes());
        out.extend_from_slice(&self.status.to_le_bytes());
        for part in [tags.as_bytes(), self.etag.as_bytes()] {
            out.extend_from_slice(&u32::try_from(part.len()).unwrap_or(0).to_le_bytes());
            out.extend_from_slice(part);
        }
        out.extend_from_slice(&self.body);
        out
    }

    fn decode(bytes: &[u8]) -> Option<Answer> {
        fn take<'a>(bytes: &mut &'a [u8], n: usize) -> Option<&'a [u8]> {
            let (head, rest) = bytes.split_at_checked(n)?;
            *bytes = rest;
            Some(head)
        }
        fn u64_of(bytes: &mut &[u8]) -> Option<u64> {
            Some(u64::from_le_bytes(take(bytes, 8)?.try_into().ok()?))
        }
        let mut rest = bytes;
        if take(&mut rest, 4)? != ANSWER_MAGIC {
            return None;
        }
        let seen = u64_of(&mut rest)?;
        let created_ms = u64_of(&mut rest)?;
        let epoch = u64_of(&mut rest)?;
        let counts_seen = u64_of(&mut rest)?;
        let until_ms = u64_of(&mut rest)?;
        let status = u16::from_le_bytes(take(&mut rest, 2)?.try_into().ok()?);
        let mut text = || -> Option<String> {
            let len = u32::from_le_bytes(take(&mut rest, 4)?.try_into().ok()?) as usize;
            String::from_utf8(take(&mut rest, len)?.to_vec()).ok()
        };
        let tags = text()?;
        let etag = text()?;
        let deps = bus::decode_tags(&tags)?;
        Some(Answer {
            stamp: Stamp { seen, created_ms, epoch, counts_seen },
            deps,
            until_ms,
            status,
            etag,
            body: Bytes::copy_from_slice(rest),
            compressed: Compressed::default(),
        })
    }
}

/// What a handler hands the cache on a miss: a JSON body and the tags it shows.
#[derive(Debug)]
pub struct Fresh {
    pub body: Vec<u8>,
    pub deps: Vec<Tag>,
    /// When the oldest of what the answer was made from was read, if before the
    /// answer's own read began (a part kept in process, `Cache::shared_hits`): the
    /// answer is stamped with it, so a write the bus hears late still retires it.
    pub read_at: Option<Stamp>,
}

impl Fresh {
    pub fn json(value: &impl serde::Serialize, deps: Vec<Tag>) -> Fresh {
        Fresh { body: serde_json::to_vec(value).expect("API values serialize"), deps, read_at: None }
    }

    /// The answer was made from a part read at `stamp`.
    pub fn made_from(mut self, stamp: &Stamp) -> Fresh {
        self.read_at = Some(self.read_at.map_or_else(|| stamp.clone(), |s| s.older(stamp)));
        self
    }
}

/// Why an answer could not be had: the handler's own error (never cached), or a 404
/// body the cache keeps for a short while.
pub trait Missing: Sized + Send + Sync + 'static {
    fn is_not_found(&self) -> bool;
    fn not_found_body() -> Bytes;
    /// The same error again, for each of the requests that waited on one load.
    fn reissue(&self) -> Self;
}

/// A cached session: the account, and when it was read.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
struct SessionEntry {
    user: Option<User>,
    stamp: Stamp,
}

/// A session's Redis key: the hash of its token, never the token.
fn session_key(token_hash: &[u8; 32]) -> String {
    format!("pujo:s:{}", crate::util::hex(token_hash))
}

pub struct Cache {
    pub bus: Arc<Bus>,
    pub redis: Option<Redis>,
    /// Which live walls a write changed (fed by the same announcements as the bus).
    pub walls: Walls,
    answers: moka::future::Cache<String, Arc<Answer>>,
    sessions: moka::future::Cache<[u8; 32], Arc<SessionEntry>>,
    /// Photo rows for media requests (visibility, owner, hash), by photo id.
    photo_rows: moka::future::Cache<i64, (Stamp, Arc<PhotoRow>)>,
    /// What nobody sees of searches (by limit and words) and pandal pages, for
    /// logged-in viewers.
    shared_hits: moka::future::Cache<String, Arc<SharedHits>>,
    settings: CacheSettings,
    metrics: Metrics,
    /// Answers' keys carry the build, so a rolling update never serves one release's
    /// JSON shapes from another's.
    answer_prefix: String,
}

impl std::fmt::Debug for Cache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Cache").field("bus", &self.bus).field("redis", &self.redis).finish_non_exhaustive()
    }
}

fn now_plus(d: Duration) -> u64 {
    bus::now_ms().saturating_add(u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

impl Cache {
    /// `listening` is whether writes reach this process without a listener (SQLite:
    /// every write is this process's own).
    pub fn new(settings: CacheSettings, metrics: &Metrics, listening: bool) -> Result<Cache, SetupError> {
        let redis = match &settings.redis {
            Some(r) => Some(Redis::new(r, metrics)?),
            None => None,
        };
        // Longer than any tier keeps an answer, with room for clocks a little apart. An
        // answer made from a kept part (trusted for the lists' TTL from its first read)
        // may be kept that long again from the part's stamp.
        let longest = settings.response_ttl.max(2 * settings.query_ttl).max(settings.local_ttl).max(SESSION_TOUCH);
        // With SQLite (`listening`: the numbers are this process's own) every start is a
        // run of its own: a random, non-zero epoch.
        let epoch = if listening {
            use argon2::password_hash::rand_core::{OsRng, RngCore};
            OsRng.next_u64() | 1
        } else {
            0
        };
        let bus = Arc::new(Bus::new(longest + Duration::from_secs(300), listening, epoch));
        let answers = moka::future::Cache::builder()
            .weigher(|key: &String, value: &Arc<Answer>| {
                // The body again for its compressed copies: two codings, and a small
                // body compresses little.
                let body = 2 * value.body.len();
                u32::try_from(key.len() + body + value.etag.len() + 128).unwrap_or(u32::MAX)
            })
            .max_capacity(settings.local_bytes)
            .time_to_live(settings.local_ttl)
            .build();
        let sessions = moka::future::Cache::builder().max_capacity(100_000).time_to_live(settings.local_ttl).build();
        let photo_rows = moka::future::Cache::builder().max_capacity(100_000).time_to_live(PHOTO_ROW_TTL).build();
        // An eighth of the answers' budget (none without an in-process tier).
        let shared_hits = moka::future::Cache::builder()
            .weigher(|key: &String, kept: &Arc<SharedHits>| kept.weight().saturating_add(key.len() as u32))
            .max_capacity(settings.local_bytes / 8)
            .time_to_live(SHARED_HITS_TTL)
            .build();
        Ok(Cache {
            bus,
            redis,
            walls: Walls::default(),
            answers,
            sessions,
            photo_rows,
            shared_hits,
            answer_prefix: format!("pujo:{}:{}:a:", crate::util::VERSION, crate::util::GIT_SHA),
            settings,
            metrics: metrics.clone(),
        })
    }

    /// A photo's row (for its media) from memory while the bus says it is fresh, or
    /// from `load` (and then kept). In this process only: media requests are many and
    /// the row is small.
    pub async fn photo_row<E>(
        &self,
        id: i64,
        load: impl Future<Output = Result<Option<PhotoRow>, E>>,
    ) -> Result<Option<Arc<PhotoRow>>, E> {
        if let Some((stamp, row)) = self.photo_rows.get(&id).await {
            if self.bus.is_fresh_apart_from_counts(&stamp, &row_deps(id, &row)) {
                self.count("rows", "hit");
                return Ok(Some(row));
            }
            self.photo_rows.invalidate(&id).await;
        }
        self.count("rows", "miss");
        let stamp = self.bus.stamp();
        let Some(row) = load.await? else { return Ok(None) };
        let row = Arc::new(row);
        self.keep_photo_row(&stamp, id, row.clone()).await;
        Ok(Some(row))
    }

    /// Keeps the rows of photos a list just read (at `stamp`, taken before the read),
    /// for the media requests that follow it: a page of an album is followed by its
    /// thumbnails, each of which would read its row again.
    pub async fn keep_photo_rows(&self, stamp: &Stamp, rows: Vec<(i64, PhotoRow)>) {
        for (id, row) in rows {
            self.keep_photo_row(stamp, id, Arc::new(row)).await;
        }
    }

    /// Keeps photo `id`'s row read at `stamp`, unless a write the bus has heard of
    /// since touched it.
    async fn keep_photo_row(&self, stamp: &Stamp, id: i64, row: Arc<PhotoRow>) {
        if self.bus.is_fresh_apart_from_counts(stamp, &row_deps(id, &row)) {
            self.photo_rows.insert(id, (stamp.clone(), row)).await;
        }
    }

    /// What nobody sees of `key` (a search, a pandal page): from memory, else from
    /// Redis, while the bus says it is fresh, else from `load` (the hits and what they
    /// depend on), then kept in both. Every viewer's answer is made from it
    /// (`api::pandals::as_seen_by`): a logged-in viewer's answer is their own, but the
    /// costly part of it is everyone's, and on a festival night the 2,000 pandal pages
    /// are too many for one process's memory. An answer made from it is stamped no
    /// later than it (`Fresh::made_from`).
    ///
    /// Likes and comments do not retire it: it is judged apart from counts, and once
    /// the counts of any of its photos changed, its photos' counts are read again
    /// through `counts` (id, likes, comments), then kept with it (`Stamp::counts_seen`).
    pub async fn shared_hits<E, C: Future<Output = Result<Vec<(i64, i64, i64)>, E>>>(
        &self,
        key: String,
        load: impl Future<Output = Result<(SearchHits, Vec<Tag>), E>>,
        counts: impl FnOnce(Vec<i64>) -> C,
    ) -> Result<Arc<SharedHits>, E> {
        // Trusted as long as a list's answer in Redis, however often its counts are read again.
        let usable = |kept: &SharedHits| {
            kept.stamp.age() < self.settings.query_ttl && self.bus.is_fresh_apart_from_counts(&kept.stamp, &kept.deps)
        };
        let mut found = self.shared_hits.get(&key).await.filter(|kept| usable(kept)).map(|kept| (kept, false));
        if found.is_none()
            && let Some(redis) = &self.redis
        {
            match redis.get(&self.shared_key(&key)).await {
                Ok(Some(bytes)) => match SharedHits::decode(&bytes).filter(|kept| usable(kept)) {
                    Some(kept) => found = Some((Arc::new(kept), true)),
                    None => self.count("shared_redis", "stale"),
                },
                Ok(None) => self.count("shared_redis", "miss"),
                Err(fault) => self.count_fault(fault),
            }
        }
        if let Some((kept, from_redis)) = found {
            let photos = || kept.hits.photos.iter().map(|p| p.id);
            // Taken first: a like heard while the counts are read is newer than them.
            let counts_at = self.bus.stamp();
            if self.bus.counts_changed(&kept.stamp, photos()).is_empty() {
                if from_redis {
                    self.count("shared_redis", "hit");
                    self.shared_hits.insert(key, kept.clone()).await;
                } else {
                    self.count("shared", "hit");
                }
                return Ok(kept);
            }
            // Every photo's counts, not only the changed ones': a like numbered before
            // `counts_at` but heard after it is then as of `counts_at` too.
            self.count("shared", "recounted");
            let recounted = counts(photos().collect()).await?;
            let mut hits = kept.hits.clone();
            for photo in &mut hits.photos {
                if let Some(&(_, likes, comments)) = recounted.iter().find(|(id, ..)| *id == photo.id) {
                    (photo.like_count, photo.comment_count) = (likes, comments);
                }
            }
            let stamp = Stamp { counts_seen: counts_at.seen, ..kept.stamp.clone() };
            let renewed = SharedHits { stamp, deps: kept.deps.clone(), hits, withheld: kept.withheld.clone() };
            let renewed = Arc::new(renewed);
            self.keep_shared(key, false, &renewed).await;
            return Ok(renewed);
        }
        self.count("shared", "miss");
        let stamp = self.bus.stamp();
        let (hits, mut deps) = load.await?;
        deps.push(Tag::Global);
        let kept = Arc::new(SharedHits { stamp, deps, hits, withheld: Vec::new() });
        self.keep_shared(key, true, &kept).await;
        Ok(kept)
    }

    /// Keeps a part in process, and a part just read in Redis too, for what is left of
    /// its time, unless a write apart from counts was heard since it was read (a like
    /// was not: the next lookup reads its counts again). A recounted part stays out of
    /// Redis: each replica reads counts again by itself, in one small query, rather than
    /// write the whole part for every like. Replaces a stale copy; a concurrent load's
    /// may replace this one, read as late.
    async fn keep_shared(&self, key: String, to_redis: bool, kept: &Arc<SharedHits>) {
        if !self.bus.is_fresh_apart_from_counts(&kept.stamp, &kept.deps) {
            return;
        }
        if let Some(redis) = self.redis.as_ref().filter(|_| to_redis)
            && let Some(left) = self.settings.query_ttl.checked_sub(kept.stamp.age()).filter(|left| !left.is_zero())
            && let Err(fault) = redis.set(&self.shared_key(&key), &kept.encode(), left).await
        {
            self.count_fault(fault);
        }
        self.shared_hits.insert(key, kept.clone()).await;
    }

    /// Where a kept part lives in Redis: by a hash of its key (a search's words are the
    /// visitor's).
    fn shared_key(&self, key: &str) -> String {
        format!("{}h:{}", self.answer_prefix, crate::util::hex(&Sha256::digest(key.as_bytes())[..16]))
    }

    fn count(&self, tier: &'static str, result: &'static str) {
        self.metrics.cache_requests.with_label_values(&[tier, result]).inc();
    }

    fn count_fault(&self, fault: redis::Fault) {
        let result = if fault == redis::Fault::Skipped { "skipped" } else { "error" };
        self.count("redis", result);
    }

    /// An API answer for `key` (which must name the viewer), from the first tier that
    /// has it fresh, else from `load`; concurrent misses for one key load it once per
    /// replica, and replicas take turns through a short Redis lock.
    pub async fn answer<E: Missing>(
        &self,
        key: &str,
        kind: Kind,
        own: &[Tag],
        load: impl Future<Output = Result<Fresh, E>>,
    ) -> Result<Arc<Answer>, E> {
        if !self.bus.is_listening() {
            // Writes elsewhere may be going unheard: no tier can be trusted.
            self.count("moka", "bypass");
            return self.load(kind, own, self.bus.stamp(), load).await.map(|(a, _)| Arc::new(a));
        }
        if self.settings.local_bytes == 0 {
            // No in-process tier: Redis (and its lock) or the database for every request.
            return self.fill(key, kind, own, load).await.map(Arc::new);
        }
        if let Some(answer) = self.answers.get(key).await {
            if self.usable(&answer) {
                self.count("moka", "hit");
                return Ok(answer);
            }
            self.count("moka", "stale");
            self.answers.invalidate(key).await;
        } else {
            self.count("moka", "miss");
        }
        let mut load = Some(load);
        let entry = self
            .answers
            .entry_by_ref(key)
            .or_try_insert_with(Box::pin(async {
                let load = load.take().expect("the load runs once");
                self.fill(key, kind, own, load).await.map(Arc::new)
            }))
            .await;
        match entry {
            Ok(entry) if entry.is_fresh() || self.usable(entry.value()) => Ok(entry.into_value()),
            // Another request's load, started before a write this one must see: read again.
            Ok(_) => match load.take() {
                Some(load) => self.load(kind, own, self.bus.stamp(), load).await.map(|(a, _)| Arc::new(a)),
                None => unreachable!("a load that ran returns its own entry"),
            },
            Err(shared) => Err(Arc::try_unwrap(shared).unwrap_or_else(|shared| shared.reissue())),
        }
    }

    fn usable(&self, answer: &Answer) -> bool {
        bus::now_ms() < answer.until_ms && self.bus.is_fresh(&answer.stamp, &answer.deps)
    }

    /// The Redis tier, then the database.
    async fn fill<E: Missing>(
        &self,
        key: &str,
        kind: Kind,
        own: &[Tag],
        load: impl Future<Output = Result<Fresh, E>>,
    ) -> Result<Answer, E> {
        let stamp = self.bus.stamp();
        let Some(redis) = &self.redis else {
            return self.load(kind, own, stamp, load).await.map(|(a, _)| a);
        };
        let redis_key = format!("{}{key}", self.answer_prefix);
        if let Some(answer) = self.redis_answer(redis, &redis_key).await {
            return Ok(answer);
        }
        let lock_key = format!("{redis_key}:lock");
        let locked = match redis.lock(&lock_key, LOAD_LOCK).await {
            Ok(true) => true,
            Ok(false) => {
                // Another replica is loading it: wait a little for its answer.
                let deadline = tokio::time::Instant::now() + LOCK_WAIT;
                while tokio::time::Instant::now() < deadline {
                    tokio::time::sleep(LOCK_POLL).await;
                    if let Some(answer) = self.redis_answer(redis, &redis_key).await {
                        return Ok(answer);
                    }
                }
                false
            }
            Err(_) => false,
        };
        let result = self.load(kind, own, stamp, load).await;
        if let Ok((answer, redis_ttl)) = &result {
            let mut stored = answer.clone();
            stored.until_ms = now_plus(*redis_ttl);
            if let Err(fault) = redis.set(&redis_key, &stored.encode(), *redis_ttl).await {
                self.count_fault(fault);
            }
        }
        if locked {
            let _ = redis.del(&[&lock_key]).await;
        }
        result.map(|(a, _)| a)
    }

    async fn redis_answer(&self, redis: &Redis, redis_key: &str) -> Option<Answer> {
        match redis.get(redis_key).await {
            Ok(Some(bytes)) => match Answer::decode(&bytes) {
                Some(mut answer) if self.usable(&answer) => {
                    self.count("redis", "hit");
                    answer.until_ms = answer.until_ms.min(now_plus(self.settings.local_ttl));
                    Some(answer)
                }
                _ => {
                    self.count("redis", "stale");
                    None
                }
            },
            Ok(None) => {
                self.count("redis", "miss");
                None
            }
            Err(fault) => {
                self.count_fault(fault);
                None
            }
        }
    }

    /// Reads from the database; a 404 becomes a short-lived answer of its own. Returns
    /// the answer (with its in-process expiry) and its Redis TTL.
    async fn load<E: Missing>(
        &self,
        kind: Kind,
        own: &[Tag],
        stamp: Stamp,
        load: impl Future<Output = Result<Fresh, E>>,
    ) -> Result<(Answer, Duration), E> {
        let (status, body, mut deps, ttl, stamp) = match load.await {
            Ok(fresh) => {
                let ttl = match kind {
                    Kind::Item => self.settings.response_ttl,
                    Kind::Query => self.settings.query_ttl,
                };
                let stamp = fresh.read_at.map_or_else(|| stamp.clone(), |part| part.older(&stamp));
                (200, Bytes::from(fresh.body), fresh.deps, ttl, stamp)
            }
            Err(e) if e.is_not_found() => (404, E::not_found_body(), own.to_vec(), self.settings.negative_ttl, stamp),
            Err(e) => return Err(e),
        };
        deps.push(Tag::Global);
        deps.sort_unstable_by_key(|t| bus::encode_tags(&[*t]));
        deps.dedup();
        let until = now_plus(self.settings.local_ttl.min(ttl));
        Ok((Answer::new(stamp, deps, until, status, body), ttl))
    }

    /// The account of a live session: moka, then Redis, then `load` (the database,
    /// which slides the session's expiry). Revocation reaches every tier through the
    /// bus (`Tag::User`).
    pub async fn session_user(
        &self,
        token_hash: &[u8; 32],
        load: impl Future<Output = Result<Option<User>, DbError>>,
    ) -> Result<Option<User>, DbError> {
        if !self.bus.is_listening() {
            self.count("moka", "bypass");
            return load.await;
        }
        let fresh = |entry: &SessionEntry| {
            let age = entry.stamp.age();
            entry
                .user
                .as_ref()
                .is_some_and(|u| age < SESSION_TOUCH && self.bus.is_fresh(&entry.stamp, &[Tag::User(u.id)]))
        };
        if let Some(entry) = self.sessions.get(token_hash).await {
            if fresh(&entry) {
                self.count("moka", "hit");
                return Ok(entry.user.clone());
            }
            self.count("moka", "stale");
            self.sessions.invalidate(token_hash).await;
        } else {
            self.count("moka", "miss");
        }
        let redis_key = session_key(token_hash);
        let mut load = Some(load);
        let entry = self
            .sessions
            .entry_by_ref(token_hash)
            .or_try_insert_with(Box::pin(async {
                let stamp = self.bus.stamp();
                if let Some(redis) = &self.redis {
                    match redis.get(&redis_key).await {
                        Ok(Some(bytes)) => match serde_json::from_slice::<SessionEntry>(&bytes) {
                            Ok(entry) if fresh(&entry) => {
                                self.count("redis", "hit");
                                return Ok(Arc::new(entry));
                            }
                            _ => self.count("redis", "stale"),
                        },
                        Ok(None) => self.count("redis", "miss"),
                        Err(fault) => self.count_fault(fault),
                    }
                }
                let user = load.take().expect("the load runs once").await?;
                let entry = SessionEntry { user, stamp };
                if let Some(redis) = &self.redis {
                    let stored = match &entry.user {
                        Some(_) => {
                            redis.set(&redis_key, &serde_json::to_vec(&entry).unwrap_or_default(), SESSION_TTL).await
                        }
                        None => redis.del(&[&redis_key]).await,
                    };
                    if let Err(fault) = stored {
                        self.count_fault(fault);
                    }
                }
                Ok::<_, DbError>(Arc::new(entry))
            }))
            .await;
        match entry {
            Ok(entry) => {
                let entry = entry.into_value();
                if entry.user.is_none() {
                    // Unknown tokens are not remembered: the next login must not wait.
                    self.sessions.invalidate(token_hash).await;
                }
                match load.take() {
                    // Another request's lookup that is already out of date.
                    Some(load) if !fresh(&entry) && entry.user.is_some() => load.await,
                    _ => Ok(entry.user.clone()),
                }
            }
            Err(shared) => Err(DbError::Unavailable(shared.to_string())),
        }
    }

    /// Forgets a session in this process and in Redis (log-out); the bus tells the
    /// other replicas through `Tag::User`.
    pub async fn forget_session(&self, token_hash: &[u8; 32]) {
        self.sessions.invalidate(token_hash).await;
        if let Some(redis) = &self.redis
            && let Err(fault) = redis.del(&[&session_key(token_hash)]).await
        {
            self.count_fault(fault);
        }
    }

    /// Drops the Redis copies of these sessions (by their stored hashes). For `pujo
    /// admin` beside a running SQLite server, whose bus it cannot reach: the server's
    /// own copies expire within `PUJO_CACHE_LOCAL_TTL`, and then come from the database.
    pub async fn forget_sessions(&self, token_hashes: &[Vec<u8>]) -> Result<(), String> {
        let Some(redis) = &self.redis else { return Ok(()) };
        let keys: Vec<String> = token_hashes
            .iter()
            .filter_map(|h| <[u8; 32]>::try_from(h.as_slice()).ok())
            .map(|h| session_key(&h))
            .collect();
        for chunk in keys.chunks(500) {
            let chunk: Vec<&str> = chunk.iter().map(String::as_str).collect();
            redis.del(&chunk).await.map_err(|fault| format!("Redis: {fault:?}"))?;
        }
        Ok(())
    }

    /// Tells every replica (this one at once) that a write touched `tags`. Call after
    /// the write has committed.
    pub async fn publish(&self, db: &Database, tags: &[Tag]) {
        if tags.is_empty() {
            return;
        }
        let payload = bus::encode_tags(tags);
        let announced = db.announce(&payload).await;
        self.announced(db, tags, payload, announced).await;
    }

    /// What `publish` does once the announcement of `tags` (`payload`, from
    /// `bus::encode_tags`) was made, for a write that made it on its own connection
    /// (`db::Announced`).
    pub async fn announced(
        &self,
        db: &Database,
        tags: &[Tag],
        payload: String,
        announced: Result<Option<u64>, DbError>,
    ) {
        let count = u64::try_from(tags.len()).unwrap_or(0);
        self.metrics.cache_invalidations.with_label_values(&["local"]).inc_by(count);
        // This replica's walls move at once (the others when they hear of it).
        self.walls.touched(tags);
        match announced {
            Ok(Some(seq)) => self.bus.apply(seq, tags),
            Ok(None) => self.bus.apply(self.bus.next_local(), tags),
            Err(e) => {
                // The write stands but could not be announced: nothing this replica
                // cached about it is trusted, and the announcement is retried so the
                // others learn of it as soon as the database answers.
                self.bus.poison(tags);
                tracing::warn!(error = %e, "could not announce a write to the other replicas; retrying");
                self.retry_announce(db, payload).await;
            }
        }
    }

    async fn retry_announce(&self, db: &Database, payload: String) {
        for attempt in 1..=30u32 {
            tokio::time::sleep(Duration::from_millis(200 * u64::from(attempt.min(5)))).await;
            if db.announce(&payload).await.is_ok() {
                return;
            }
        }
        tracing::error!("a write was not announced; other replicas may serve older answers until their caches expire");
    }

    /// A notification from another replica (or this one's, heard back).
    pub fn heard(&self, payload: &str) {
        if let Some((seq, tags)) = bus::parse_payload(payload) {
            self.metrics
                .cache_invalidations
                .with_label_values(&["peer"])
                .inc_by(u64::try_from(tags.len()).unwrap_or(0));
            self.bus.apply(seq, &tags);
            self.walls.touched(&tags);
        }
    }

    /// Sets the pool gauges, for a metrics scrape.
    pub fn update_gauges(&self) {
        if let Some(redis) = &self.redis {
            let (idle, in_use) = redis.pool_state();
            self.metrics.redis_pool.with_label_values(&["idle"]).set(i64::from(idle));
            self.metrics.redis_pool.with_label_values(&["in_use"]).set(i64::from(in_use));
            self.metrics.redis_pool_max.set(i64::from(redis.pool_max()));
            self.metrics.redis_circuit_open.set(i64::from(redis.is_degraded()));
        }
    }
}

/// Keeps this replica listening to the bus (PostgreSQL only): reconnects with a
/// growing pause when the connection is lost; while it is, caches are bypassed.
pub async fn listen(db: &Database, cache: &Cache, stop: tokio_util::sync::CancellationToken) {
    let mut pause = Duration::from_millis(100);
    loop {
        let attempt = async {
            let mut listener = db.listen().await?;
            cache.bus.listening_from(listener.current);
            tracing::info!(seq = listener.current, "listening for cache invalidations");
            loop {
                let payload = listener.next().await?;
                cache.heard(&payload);
            }
        };
        let outcome: Result<(), DbError> = tokio::select! {
            outcome = attempt => outcome,
            () = stop.cancelled() => return,
        };
        if cache.bus.is_listening() {
            pause = Duration::from_millis(100);
        }
        cache.bus.deaf();
        if let Err(e) = outcome {
            tracing::warn!(error = %e, "not listening for cache invalidations; caches are bypassed until it is back");
        }
        tokio::select! {
            () = tokio::time::sleep(pause) => {}
            () = stop.cancelled() => return,
        }
        pause = (pause * 2).min(Duration::from_secs(5));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A loader's error for tests whose loaders succeed.
    #[derive(Debug)]
    struct NeverFails;

    impl Missing for NeverFails {
        fn is_not_found(&self) -> bool {
            false
        }
        fn not_found_body() -> Bytes {
            Bytes::new()
        }
        fn reissue(&self) -> Self {
            NeverFails
        }
    }

    fn settings(local_bytes: u64) -> CacheSettings {
        CacheSettings {
            redis: None,
            local_ttl: Duration::from_secs(60),
            local_bytes,
            response_ttl: Duration::from_secs(300),
            query_ttl: Duration::from_secs(600),
            negative_ttl: Duration::from_secs(10),
        }
    }

    /// What nobody sees of searches is kept within its bytes, not its count of rows:
    /// albums with 2,000-character descriptions are as many rows as short ones.
    #[tokio::test]
    async fn kept_shared_hits_stay_within_their_bytes() {
        let budget: u64 = 256 * 1024;
        let cache = Cache::new(settings(budget * 8), &Metrics::new("test", "test"), true).expect("cache");
        let album = |id| crate::db::Album {
            id,
            owner: crate::db::UserRef { id: 1, username: "u".into(), display_name: "u".into() },
            title: "Kumartuli".into(),
            description: "ঢাকের আওয়াজ ".repeat(100),
            visibility: crate::db::Visibility::Public,
            pandal: None,
            cover: None,
            photo_count: 0,
            created_at: time::OffsetDateTime::UNIX_EPOCH,
            updated_at: time::OffsetDateTime::UNIX_EPOCH,
            link_key: String::new(),
        };
        for key in 0..100 {
            let hits = SearchHits { albums: (0..20).map(album).collect(), ..SearchHits::default() };
            let load = async { Ok::<_, NeverFails>((hits, vec![Tag::Lists])) };
            let recount = |_| async { Ok::<_, NeverFails>(Vec::new()) };
            cache.shared_hits(format!("s:20:{key}"), load, recount).await.map_err(|_| "load").expect("hits");
        }
        cache.shared_hits.run_pending_tasks().await;
        let text = 20 * album(0).description.len() as u64;
        assert!(
            cache.shared_hits.entry_count() * text <= budget,
            "{} searches of {text} bytes each kept in {budget}",
            cache.shared_hits.entry_count()
        );
    }

    /// An answer made from a part kept in process (what nobody finds for a search) is
    /// as old as that part: a write numbered before the answer's own read began, but
    /// heard only after it (another replica's, announced late), still retires it.
    #[tokio::test]
    async fn an_answer_made_from_a_kept_part_is_as_old_as_the_part() {
        let cache = Cache::new(settings(1 << 20), &Metrics::new("test", "test"), true).expect("cache");
        cache.bus.apply(5, &[Tag::Photo(1)]);
        let part = cache.bus.stamp();
        cache.bus.apply(7, &[Tag::Photo(2)]);
        let load = |body: &'static str| {
            let part = part.clone();
            async move { Ok::<_, NeverFails>(Fresh::json(&body, vec![Tag::Album(3)]).made_from(&part)) }
        };
        let first = cache.answer("k", Kind::Query, &[], load("before")).await.expect("answer");
        assert_eq!(first.stamp.seen, 5, "stamped when its part was read");
        cache.bus.apply(6, &[Tag::Album(3)]);
        let second = cache.answer("k", Kind::Query, &[], load("after")).await.expect("answer");
        assert_eq!(&second.body[..], b"\"after\"", "the late write retired the answer");
    }

    fn test_photo(id: i64) -> crate::db::Photo {
        crate::db::Photo {
            id,
            album_id: 3,
            owner: crate::db::UserRef { id: 1, username: "pal".into(), display_name: "Pal".into() },
            caption: String::new(),
            width: 1,
            height: 1,
            taken_at: None,
            exif: serde_json::Value::Null,
            sha256: Vec::new(),
            content_type: "image/jpeg".into(),
            byte_size: 1,
            thumbhash: None,
            gps_privacy: crate::db::GpsPrivacy::Hidden,
            lat: None,
            lon: None,
            allow_original: false,
            visibility: crate::db::Visibility::Public,
            like_count: 0,
            comment_count: 0,
            liked_by_me: false,
            created_at: time::OffsetDateTime::UNIX_EPOCH,
            updated_at: time::OffsetDateTime::UNIX_EPOCH,
            link_key: String::new(),
            guest_name: None,
            upload_link_id: None,
        }
    }

    /// What a kept part tells Redis: every location as others see it, the EXIF anyone
    /// is shown, and which photos' owners see more; the rest comes back as it was.
    #[test]
    fn a_kept_part_tells_redis_no_location_its_owner_keeps() {
        let mut hidden = test_photo(1);
        (hidden.lat, hidden.lon) = (Some(22.573_456), Some(88.363_891));
        hidden.exif = serde_json::json!({"camera": "Pixel 9", "gps": {"lat": 22.5}});
        (hidden.sha256, hidden.link_key, hidden.upload_link_id) = (vec![7; 32], "6816426".into(), Some(5));
        let mut coarse = hidden.clone();
        (coarse.id, coarse.gps_privacy) = (2, crate::db::GpsPrivacy::Coarse);
        let mut exact = hidden.clone();
        // As EXIF degrees come out: seventeen digits, which must come back to the last bit.
        (exact.id, exact.gps_privacy, exact.lat) = (3, crate::db::GpsPrivacy::Exact, Some(22.573_456_789_012_347));
        let mut half = hidden.clone();
        (half.id, half.lon) = (4, None);
        let kept = SharedHits {
            stamp: Stamp { seen: 4, created_ms: 5, epoch: 0, counts_seen: 6 },
            deps: vec![Tag::Lists, Tag::Photo(1), Tag::Words(9)],
            hits: SearchHits { photos: vec![hidden.clone(), coarse, exact.clone(), half], ..SearchHits::default() },
            withheld: Vec::new(),
        };
        let stored = kept.encode();
        let mut text = String::new();
        std::io::Read::read_to_string(&mut flate2::read::GzDecoder::new(&stored[..]), &mut text).expect("gzip of JSON");
        assert!(stored.len() < text.len() / 2, "deflated: {} of {}", stored.len(), text.len());
        assert_eq!(text.matches("22.573456").count(), 1, "the exact photo's alone: {text}");
        assert!(!text.contains("\"gps\""), "{text}");
        let back = SharedHits::decode(&stored).expect("decodes");
        assert_eq!((&back.stamp, &back.deps), (&kept.stamp, &kept.deps));
        assert_eq!(back.withheld, [1, 2], "a half location is no location, for anyone");
        let at = |i: usize| (back.hits.photos[i].lat, back.hits.photos[i].lon);
        let shown = [at(0), at(1), at(2), at(3)];
        assert_eq!(shown, [(None, None), (Some(22.57), Some(88.36)), (exact.lat, exact.lon), (None, None)]);
        assert_eq!(back.hits.photos[2].exif, serde_json::json!({"camera": "Pixel 9"}));
        let keyless = |p: &crate::db::Photo| p.sha256.is_empty() && p.link_key.is_empty() && p.upload_link_id.is_none();
        assert!(back.hits.photos.iter().all(keyless), "no blob's hash, no key");
        let (mut as_stored, mut as_read) = (exact, back.hits.photos[2].clone());
        (as_stored.exif, as_stored.sha256, as_stored.link_key) = (serde_json::Value::Null, Vec::new(), String::new());
        as_stored.upload_link_id = None;
        as_read.exif = serde_json::Value::Null;
        assert_eq!(as_read, as_stored, "every other field comes back as it was");
        assert_eq!(SharedHits::decode(&back.encode()).expect("again").withheld, [1, 2], "named once");
        // What inflates past its bound is not read (Redis is shared, and bytes there outlive releases).
        let padded = text.clone() + &" ".repeat(SHARED_HITS_MAX_BYTES as usize);
        assert!(SharedHits::decode(&crate::http::gzip(text.as_bytes())).is_some(), "the part itself reads");
        let bomb = crate::http::gzip(padded.as_bytes());
        assert!(bomb.len() < 64 << 10, "{} bytes", bomb.len());
        assert!(SharedHits::decode(&bomb).is_none(), "inflated past its bound");
        assert!(SharedHits::decode(b"not gzip").is_none());
    }

    /// Coordinates as EXIF degrees come out (seventeen significant digits) come back
    /// from a kept part's JSON to the last bit: an exact location read through Redis is
    /// the one the database holds, on every replica.
    #[test]
    fn locations_come_back_from_json_to_the_last_bit() {
        let mut x: u64 = 0x2545_f491_4f6c_dd1d;
        for _ in 0..20_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let lat = -90.0 + 180.0 * (x >> 11) as f64 / (1u64 << 53) as f64;
            let back: f64 = serde_json::from_str(&serde_json::to_string(&lat).expect("writes")).expect("reads");
            assert_eq!(back.to_bits(), lat.to_bits(), "{lat}");
        }
    }

    /// A kept part is trusted for the lists' TTL from its first read, however often
    /// its counts are read again: recounting keeps it (in moka, whose own time starts
    /// again at each insert) but never makes it younger.
    #[tokio::test]
    async fn a_recounted_part_is_as_old_as_its_first_read() {
        let settings = CacheSettings { query_ttl: Duration::from_millis(300), ..settings(1 << 20) };
        let cache = Cache::new(settings, &Metrics::new("test", "test"), true).expect("cache");
        cache.bus.apply(1, &[Tag::Lists]);
        let loads = std::sync::atomic::AtomicUsize::new(0);
        let load = || async {
            loads.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            let hits = SearchHits { photos: vec![test_photo(1)], ..SearchHits::default() };
            Ok::<_, NeverFails>((hits, vec![Tag::Lists, Tag::Photo(1)]))
        };
        let recount = |_: Vec<i64>| async { Ok::<_, NeverFails>(vec![(1, 1, 0)]) };
        let look = || cache.shared_hits("d:1".into(), load(), recount);
        look().await.map_err(|_| "load").expect("read");
        tokio::time::sleep(Duration::from_millis(200)).await;
        cache.bus.apply(2, &[Tag::PhotoCounts(1)]);
        assert_eq!(look().await.map_err(|_| "load").expect("recounted").hits.photos[0].like_count, 1);
        assert_eq!(loads.load(std::sync::atomic::Ordering::Relaxed), 1, "recounted, not read again");
        tokio::time::sleep(Duration::from_millis(200)).await;
        look().await.map_err(|_| "load").expect("read again");
        assert_eq!(loads.load(std::sync::atomic::Ordering::Relaxed), 2, "past its time from the first read");
    }

    /// A kept part whose counts changed reads every photo's counts again, not only
    /// the changed ones': a like numbered before the recount but heard after it (another
    /// replica's, announced late) is then in the counts the part claims to be as of.
    #[tokio::test]
    async fn a_kept_part_reads_all_its_counts_again_when_any_changed() {
        let cache = Cache::new(settings(1 << 20), &Metrics::new("test", "test"), true).expect("cache");
        cache.bus.apply(10, &[Tag::Lists]);
        let photo = test_photo;
        let load = || async {
            let hits = SearchHits { photos: vec![photo(1), photo(2)], ..SearchHits::default() };
            Ok::<_, NeverFails>((hits, vec![Tag::Lists, Tag::Photo(1), Tag::Photo(2)]))
        };
        let nothing = |_: Vec<i64>| async { Ok::<_, NeverFails>(Vec::new()) };
        cache.shared_hits("d:1".into(), load(), nothing).await.map_err(|_| "load").expect("read");
        // Photo 1's like is heard; photo 2's, numbered before it, only during the recount.
        cache.bus.apply(12, &[Tag::PhotoCounts(1)]);
        let asked = std::sync::Mutex::new(Vec::new());
        let recount = |ids: Vec<i64>| {
            asked.lock().expect("lock").extend(ids);
            cache.bus.apply(11, &[Tag::PhotoCounts(2)]);
            async { Ok::<_, NeverFails>(vec![(1, 1, 0), (2, 1, 0)]) }
        };
        let kept = cache.shared_hits("d:1".into(), load(), recount).await.map_err(|_| "load").expect("recounted");
        assert_eq!(*asked.lock().expect("lock"), [1, 2], "every photo's counts");
        let counts: Vec<i64> = kept.hits.photos.iter().map(|p| p.like_count).collect();
        assert_eq!(counts, [1, 1]);
        let again = cache.shared_hits("d:1".into(), load(), nothing).await.map_err(|_| "load").expect("kept");
        assert_eq!(again.hits.photos[1].like_count, 1, "photo 2's like is in what is kept");
    }

    #[test]
    fn an_answer_is_compressed_once_per_coding() {
        let body =
            Bytes::from("{\"photos\":[".to_owned() + &"{\"id\":1,\"caption\":\"Kumartuli\"},".repeat(100) + "]}");
        let answer =
            Answer::new(Stamp { seen: 1, created_ms: 1, epoch: 1, counts_seen: 0 }, vec![], 2, 200, body.clone());
        let (br, gzip) = (answer.brotli(), answer.gzip());
        assert!(br.len() < body.len() / 4 && gzip.len() < body.len() / 4, "{} and {}", br.len(), gzip.len());
        // The same bytes, not a second compression of the body.
        assert_eq!(answer.brotli().as_ptr(), br.as_ptr());
        assert_eq!(answer.gzip().as_ptr(), gzip.as_ptr());
        let shared = answer.clone();
        assert_eq!(shared.brotli().as_ptr(), br.as_ptr(), "a clone shares what was made");
    }

    #[test]
    fn answers_round_trip_through_their_redis_form() {
        let answer = Answer::new(
            Stamp { seen: 7, created_ms: 1_700_000_000_000, epoch: 42, counts_seen: 9 },
            vec![Tag::Global, Tag::Album(3)],
            1_700_000_300_000,
            200,
            Bytes::from_static(b"{\"items\":[]}"),
        );
        assert!(answer.etag.starts_with("W/\"") && answer.etag.len() == 24 + 4);
        let decoded = Answer::decode(&answer.encode()).expect("decodes");
        assert_eq!(decoded, answer);
        let mut bytes = answer.encode();
        bytes[0] = b'X';
        assert!(Answer::decode(&bytes).is_none(), "another format is a miss");
        assert!(Answer::decode(&answer.encode()[..20]).is_none(), "truncated is a miss");
    }
}
