//! What every replica knows about writes: the invalidation bus.
//!
//! Each write that changes what a cached answer shows is given a number from one
//! sequence (PostgreSQL's `pujo_cache_seq`, or a counter in process with SQLite) and
//! announces it with the tags it touched (NOTIFY on `pujo_cache`). Each replica keeps,
//! per tag, the highest number that touched it. A cached answer records the highest
//! number its replica had heard of when it started reading the database (`seen`); it
//! is still true while no tag it depends on was touched by a later number.
//!
//! The numbers come from the database that holds the data, so the rule holds for every
//! tier and every replica alike: an answer a replica put in Redis is judged by the
//! replica that reads it, against what that replica has heard. Redis holds no
//! invalidation state, so Redis going away, restarting or failing over cannot make a
//! stale answer look fresh.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// A part of the data that cached answers depend on and writes touch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Tag {
    /// Everything: changes that show up in many places (a display name, a pandal's
    /// name, an album turning private).
    Global,
    /// Every list and search result (the feed, album lists, pandal lists, counts).
    Lists,
    /// New photos anywhere: the lists that show photos or albums' counts and covers
    /// (the feed, album lists, profiles), but not pandal pages, which follow their own
    /// pandal's tag, nor searches, which follow their words' (`Words`). The busiest
    /// writes of a festival night touch this, not `Lists`.
    NewPhotos,
    /// Every search's answer: a new photo with too many words to name their groups.
    Search,
    /// The searches whose longest word begins as this group's words do
    /// (`db::query_group`): a new photo retires the searches that could find it
    /// (`db::word_groups` of its caption), and a photo without a caption none.
    Words(u16),
    /// One pandal's page: its albums and newest photos.
    Pandal(i64),
    /// One album: its fields, its photo list, and its photos' visibility.
    Album(i64),
    /// One photo: its fields, comments and likes.
    Photo(i64),
    /// Announced, never depended on: a like or comment changed one photo's counts
    /// (and its comments), nothing else about it. Retires what depends on
    /// `Photo(id)`, but not what is judged apart from counts
    /// (`Bus::is_fresh_apart_from_counts`: a photo's row for its media, the shared part
    /// of a search or pandal page, whose counts are read again on their own).
    PhotoCounts(i64),
    /// Announced, never depended on: the counts of one album's photos changed (its
    /// photo list shows them). Retires what depends on `Album(id)`, apart from counts
    /// as `PhotoCounts`.
    AlbumCounts(i64),
    /// One person's account as sessions see it (role, name, revocation).
    User(i64),
}

impl Tag {
    pub fn encode(self, out: &mut String) {
        use std::fmt::Write;
        let _ = match self {
            Tag::Global => write!(out, "G"),
            Tag::Lists => write!(out, "L"),
            Tag::NewPhotos => write!(out, "n"),
            Tag::Search => write!(out, "s"),
            Tag::Words(group) => write!(out, "w{group}"),
            Tag::Pandal(id) => write!(out, "d{id}"),
            Tag::Album(id) => write!(out, "a{id}"),
            Tag::Photo(id) => write!(out, "p{id}"),
            Tag::PhotoCounts(id) => write!(out, "c{id}"),
            Tag::AlbumCounts(id) => write!(out, "k{id}"),
            Tag::User(id) => write!(out, "u{id}"),
        };
    }

    pub fn decode(text: &str) -> Option<Tag> {
        let (kind, id) = text.split_at_checked(1)?;
        match kind {
            "G" if id.is_empty() => Some(Tag::Global),
            "L" if id.is_empty() => Some(Tag::Lists),
            // "N" is how releases before `Words` wrote it (see `parse_payload`).
            "n" | "N" if id.is_empty() => Some(Tag::NewPhotos),
            "s" if id.is_empty() => Some(Tag::Search),
            "w" => id.parse().ok().map(Tag::Words),
            "d" => id.parse().ok().map(Tag::Pandal),
            "a" => id.parse().ok().map(Tag::Album),
            "p" => id.parse().ok().map(Tag::Photo),
            "c" => id.parse().ok().map(Tag::PhotoCounts),
            "k" => id.parse().ok().map(Tag::AlbumCounts),
            "u" => id.parse().ok().map(Tag::User),
            _ => None,
        }
    }

    /// Where the bus keeps what touched this tag, and whether it touches counts alone.
    fn entry(self) -> (Tag, bool) {
        match self {
            Tag::PhotoCounts(id) => (Tag::Photo(id), true),
            Tag::AlbumCounts(id) => (Tag::Album(id), true),
            tag => (tag, false),
        }
    }
}

/// Tags written space-separated, as in a notification's payload.
pub fn encode_tags(tags: &[Tag]) -> String {
    let mut out = String::with_capacity(tags.len() * 8);
    for (i, tag) in tags.iter().enumerate() {
        if i > 0 {
            out.push(' ');
        }
        tag.encode(&mut out);
    }
    out
}

/// Tags written by `encode_tags` read back; `None` if any is not this release's.
pub fn decode_tags(text: &str) -> Option<Vec<Tag>> {
    if text.is_empty() {
        return Some(Vec::new());
    }
    text.split(' ').map(Tag::decode).collect()
}

/// A notification's payload: `<number> <tag> <tag> ...`. A tag this release does not
/// know (a newer replica's, during a rolling update) is taken as `Global`: whatever it
/// meant, nothing cached stays trusted past it. `N` is an older replica's new photos,
/// which named no words, so it retires every search too. (This release writes `n`,
/// which an older replica takes as `Global`.)
pub fn parse_payload(payload: &str) -> Option<(u64, Vec<Tag>)> {
    let mut parts = payload.split(' ');
    let seq = parts.next()?.parse().ok()?;
    let mut tags = Vec::new();
    for text in parts.filter(|t| !t.is_empty()) {
        tags.push(Tag::decode(text).unwrap_or(Tag::Global));
        if text == "N" {
            tags.push(Tag::Search);
        }
    }
    Some((seq, tags))
}

/// Milliseconds since the Unix epoch, the clock cached answers are dated by.
pub fn now_ms() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

/// When and at which number an answer was read, and in which run of the numbers.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Stamp {
    pub seen: u64,
    pub created_ms: u64,
    /// The bus's `epoch` when it was read: an answer from another run of the numbers
    /// (a SQLite process before a restart, whose counter began again at 0) is never
    /// fresh. A stamp without one (an older release's) is epoch 0.
    #[serde(default)]
    pub epoch: u64,
    /// The number the answer's counts of likes and comments are as of, when they were
    /// read again after the rest (`Cache::shared_hits`); `seen` when this is lower (0:
    /// read with the rest).
    #[serde(default)]
    pub counts_seen: u64,
}

impl Stamp {
    /// The earlier of two stamps of this process (one run of the numbers): what an
    /// answer made of parts read at each may claim.
    pub fn older(&self, other: &Stamp) -> Stamp {
        Stamp {
            seen: self.seen.min(other.seen),
            created_ms: self.created_ms.min(other.created_ms),
            epoch: self.epoch,
            counts_seen: self.counts().min(other.counts()),
        }
    }

    /// The number the counts are as of.
    pub fn counts(&self) -> u64 {
        self.counts_seen.max(self.seen)
    }

    /// How long ago it was read, by this machine's clock.
    pub fn age(&self) -> Duration {
        Duration::from_millis(now_ms().saturating_sub(self.created_ms))
    }
}

pub struct Bus {
    /// Tag -> the highest numbers that touched it: (apart from counts, with counts;
    /// `Tag::entry`). Kept for `horizon`, longer than any cached answer may live, and
    /// never evicted by size.
    touched: moka::sync::Cache<Tag, (u64, u64)>,
    /// The highest number this replica has heard of.
    watermark: AtomicU64,
    /// Answers read before this number are not trusted: this replica was not
    /// listening then (start-up, or a lost listening connection).
    floor: AtomicU64,
    /// Whether announcements are reaching this replica now; while not, nothing is
    /// served from any cache.
    listening: AtomicBool,
    horizon: Duration,
    /// With SQLite the numbers come from here.
    local_seq: AtomicU64,
    /// Which run of the numbers this is. PostgreSQL's sequence outlives every
    /// process, so all replicas share epoch 0; SQLite's counter lives in one process,
    /// so each start draws a random epoch, and what an earlier process left in Redis
    /// (an album since made private, a session since revoked) is not trusted.
    epoch: u64,
}

impl std::fmt::Debug for Bus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Bus")
            .field("watermark", &self.watermark.load(Ordering::Relaxed))
            .field("listening", &self.listening.load(Ordering::Relaxed))
            .finish_non_exhaustive()
    }
}

impl Bus {
    /// `horizon` must exceed the longest time any tier keeps an answer; `epoch` is 0
    /// for numbers from the database, else a random number of this process's own.
    pub fn new(horizon: Duration, listening: bool, epoch: u64) -> Bus {
        Bus {
            epoch,
            touched: moka::sync::Cache::builder().time_to_live(horizon).build(),
            watermark: AtomicU64::new(0),
            floor: AtomicU64::new(0),
            listening: AtomicBool::new(listening),
            horizon,
            local_seq: AtomicU64::new(0),
        }
    }

    /// The stamp for an answer about to be read from the database.
    pub fn stamp(&self) -> Stamp {
        Stamp { seen: self.watermark.load(Ordering::Acquire), created_ms: now_ms(), epoch: self.epoch, counts_seen: 0 }
    }

    pub fn is_listening(&self) -> bool {
        self.listening.load(Ordering::Acquire)
    }

    /// Whether an answer read at `stamp` that depends on `deps` may still be served.
    pub fn is_fresh(&self, stamp: &Stamp, deps: &[Tag]) -> bool {
        self.fresh(stamp, deps, true)
    }

    /// Whether what was read at `stamp` and depends on `deps` is still true apart from
    /// counts of likes and comments (`Tag::PhotoCounts`, `Tag::AlbumCounts`): for what
    /// shows no counts, or reads them again (`counts_changed`).
    pub fn is_fresh_apart_from_counts(&self, stamp: &Stamp, deps: &[Tag]) -> bool {
        self.fresh(stamp, deps, false)
    }

    /// `is_fresh`, judging counts too or not.
    fn fresh(&self, stamp: &Stamp, deps: &[Tag], with_counts: bool) -> bool {
        self.trusted(stamp)
            && deps.iter().all(|tag| {
                let (entry, counts_only) = tag.entry();
                self.touched.get(&entry).is_none_or(|(rest, all)| {
                    (counts_only || rest <= stamp.seen) && (!with_counts || all <= stamp.counts())
                })
            })
    }

    /// Which of `photos` had their counts changed since `stamp`'s counts were read.
    pub fn counts_changed(&self, stamp: &Stamp, photos: impl Iterator<Item = i64>) -> Vec<i64> {
        photos.filter(|id| self.touched.get(&Tag::Photo(*id)).is_some_and(|(_, all)| all > stamp.counts())).collect()
    }

    /// Whether anything read at `stamp` may be trusted at all: this run of the numbers,
    /// read while listening, and younger than the horizon.
    fn trusted(&self, stamp: &Stamp) -> bool {
        if !self.is_listening() || stamp.epoch != self.epoch || stamp.seen < self.floor.load(Ordering::Acquire) {
            return false;
        }
        stamp.age() < self.horizon
    }

    /// Records that write `seq` touched `tags`.
    pub fn apply(&self, seq: u64, tags: &[Tag]) {
        for tag in tags {
            self.touch(*tag, seq);
        }
        self.watermark.fetch_max(seq, Ordering::AcqRel);
    }

    /// Records that number `seq` touched `tag` (counts alone, or everything).
    fn touch(&self, tag: Tag, seq: u64) {
        let (entry, counts_only) = tag.entry();
        self.touched.entry(entry).and_upsert_with(|old| {
            let (rest, all) = old.map_or((0, 0), |o| *o.value());
            (if counts_only { rest } else { rest.max(seq) }, all.max(seq))
        });
    }

    /// The next number for a write when the numbers are kept in process (SQLite).
    pub fn next_local(&self) -> u64 {
        self.local_seq.fetch_add(1, Ordering::AcqRel) + 1
    }

    /// The listening connection is up and the sequence stood at `current` once it was:
    /// everything read from now on is trusted, nothing read before.
    pub fn listening_from(&self, current: u64) {
        self.watermark.fetch_max(current, Ordering::AcqRel);
        self.floor.fetch_max(current, Ordering::AcqRel);
        self.listening.store(true, Ordering::Release);
    }

    /// The listening connection is lost: announcements may be missed from now on.
    pub fn deaf(&self) {
        self.listening.store(false, Ordering::Release);
    }

    /// A write whose announcement could not be made: this replica trusts nothing
    /// it cached about `tags` until the horizon passes.
    pub fn poison(&self, tags: &[Tag]) {
        for tag in tags {
            self.touch(*tag, u64::MAX);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_round_trip_through_payloads() {
        let tags = [
            Tag::Global,
            Tag::Lists,
            Tag::NewPhotos,
            Tag::Search,
            Tag::Words(4095),
            Tag::Pandal(7),
            Tag::Album(12),
            Tag::Photo(-1),
            Tag::User(9_000_000_000),
        ];
        let payload = format!("42 {}", encode_tags(&tags));
        assert_eq!(parse_payload(&payload), Some((42, tags.to_vec())));
        assert_eq!(Tag::decode("Gx"), None);
        assert_eq!(Tag::decode("a"), None);
        assert_eq!(Tag::decode("Nx"), None);
        assert_eq!(Tag::decode("w"), None);
        assert_eq!(
            parse_payload("44 a1 N p2"),
            Some((44, vec![Tag::Album(1), Tag::NewPhotos, Tag::Search, Tag::Photo(2)])),
            "an older replica's new photos retire every search"
        );
        assert_eq!(parse_payload("x a1"), None);
        assert_eq!(parse_payload("43 z9 a1"), Some((43, vec![Tag::Global, Tag::Album(1)])), "unknown is everything");
    }

    #[test]
    fn an_answer_is_fresh_until_a_later_write_touches_what_it_shows() {
        let bus = Bus::new(Duration::from_secs(60), true, 0);
        bus.listening_from(10);
        let stamp = bus.stamp();
        assert_eq!(stamp.seen, 10);
        assert!(bus.is_fresh(&stamp, &[Tag::Album(1)]));
        // A write this answer already saw (or an older one) does not matter.
        bus.apply(9, &[Tag::Album(1)]);
        assert!(bus.is_fresh(&stamp, &[Tag::Album(1)]));
        bus.apply(11, &[Tag::Album(2)]);
        assert!(bus.is_fresh(&stamp, &[Tag::Album(1)]), "another album's write");
        assert!(!bus.is_fresh(&stamp, &[Tag::Album(2)]));
        // Read after write 11: fresh again.
        assert!(bus.is_fresh(&bus.stamp(), &[Tag::Album(2)]));
        bus.deaf();
        assert!(!bus.is_fresh(&bus.stamp(), &[Tag::Album(1)]), "nothing is trusted while deaf");
        bus.listening_from(20);
        assert!(!bus.is_fresh(&stamp, &[Tag::Album(1)]), "read before the floor");
        bus.poison(&[Tag::Lists]);
        assert!(!bus.is_fresh(&bus.stamp(), &[Tag::Lists]));
    }

    #[test]
    fn counts_alone_retire_what_shows_them_and_nothing_judged_apart_from_them() {
        let bus = Bus::new(Duration::from_secs(60), true, 0);
        bus.listening_from(10);
        let stamp = bus.stamp();
        let deps = [Tag::Photo(1), Tag::Album(2)];
        bus.apply(11, &[Tag::PhotoCounts(1), Tag::AlbumCounts(2)]);
        assert!(!bus.is_fresh(&stamp, &deps), "what shows the counts");
        assert!(bus.is_fresh_apart_from_counts(&stamp, &deps), "a media row, a shared part");
        assert_eq!(bus.counts_changed(&stamp, [1, 3].into_iter()), [1]);
        // Counts read again at 11: fresh with them, and its rows are still as of 10.
        let recounted = Stamp { counts_seen: 11, ..stamp.clone() };
        assert!(bus.is_fresh(&recounted, &deps));
        assert!(bus.counts_changed(&recounted, [1].into_iter()).is_empty());
        assert_eq!(recounted.older(&stamp).counts(), 10, "an answer made of both is as old as the older");
        // A change to the photo itself retires both.
        bus.apply(12, &[Tag::Photo(1)]);
        assert!(!bus.is_fresh(&recounted, &deps));
        assert!(!bus.is_fresh_apart_from_counts(&recounted, &deps));
        bus.apply(13, &[Tag::AlbumCounts(2)]);
        assert!(bus.is_fresh_apart_from_counts(&Stamp { seen: 12, ..stamp.clone() }, &deps));
        // A counts write that could not be announced poisons counts alone.
        let later = bus.stamp();
        bus.poison(&[Tag::PhotoCounts(5)]);
        assert!(!bus.is_fresh(&later, &[Tag::Photo(5)]));
        assert!(bus.is_fresh_apart_from_counts(&later, &[Tag::Photo(5)]));
        assert_eq!(parse_payload("14 c5 k6"), Some((14, vec![Tag::PhotoCounts(5), Tag::AlbumCounts(6)])));
    }

    #[test]
    fn answers_older_than_the_horizon_are_never_trusted() {
        let bus = Bus::new(Duration::from_secs(60), true, 0);
        let old = Stamp { seen: 0, created_ms: now_ms() - 61_000, epoch: 0, counts_seen: 0 };
        assert!(!bus.is_fresh(&old, &[]));
    }

    #[test]
    fn answers_from_another_run_of_the_numbers_are_never_trusted() {
        // A SQLite process before a restart: its counter stood at 5 when it cached this.
        let before = Bus::new(Duration::from_secs(60), true, 1111);
        for _ in 0..5 {
            before.apply(before.next_local(), &[Tag::Album(1)]);
        }
        let cached = before.stamp();
        assert!(before.is_fresh(&cached, &[Tag::Album(1)]));
        // After the restart the counter begins again; the album turned private at 1.
        let after = Bus::new(Duration::from_secs(60), true, 2222);
        after.apply(after.next_local(), &[Tag::Album(1)]);
        assert!(!after.is_fresh(&cached, &[Tag::Album(1)]), "seen 5 > touched 1, but from another run");
        assert!(after.is_fresh(&after.stamp(), &[Tag::Album(1)]));
        let older_release = Stamp { epoch: 0, ..cached };
        assert!(!after.is_fresh(&older_release, &[]));
    }
}
