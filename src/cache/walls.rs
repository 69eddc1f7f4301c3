//! Live walls: which walls (an album's, a pandal's) changed, for the Server-Sent
//! Events streams that show them. The bus tells of every write on any replica (the
//! PostgreSQL notifications, or this process's own writes with SQLite); each wall
//! being watched has a version that a write touching it bumps. A stream waits on its
//! wall's version, and what a wall shows at a version is loaded once per process and
//! shared by every stream of it (`newest`), so an approval costs one query however
//! many screens show the wall.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use tokio::sync::watch;

use super::Tag;

/// A wall: what it shows is decided by the API; here it is only what changes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum WallKey {
    /// An album's newest photos: touched by its album tag.
    Album(i64),
    /// A pandal's newest photos (of its public albums): touched by any list change.
    Pandal(i64),
}

/// What a wall shows at one version, as the API rendered it: each photo's id and its
/// event's data, newest first; `None` once the wall is gone (the album deleted or
/// made private, the link revoked).
pub type Shown = Option<Arc<Vec<(i64, Bytes)>>>;

/// The walls being watched in this process.
pub struct Walls {
    versions: Mutex<HashMap<WallKey, watch::Sender<u64>>>,
    /// Where versions come from, for every wall of the process: a version is never
    /// used twice, so a wall that was forgotten (nobody watched it) and is watched
    /// again can never be answered from what `newest` kept of its earlier life.
    next: std::sync::atomic::AtomicU64,
    /// What a wall shows, by wall, version and how its media are reached (the URL
    /// suffix: the same album through two share links shows other links).
    newest: moka::future::Cache<(WallKey, u64, String), Shown>,
    closing: watch::Sender<bool>,
}

impl std::fmt::Debug for Walls {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Walls").finish_non_exhaustive()
    }
}

impl Default for Walls {
    fn default() -> Walls {
        Walls {
            versions: Mutex::new(HashMap::new()),
            next: std::sync::atomic::AtomicU64::new(1),
            newest: moka::future::Cache::builder().max_capacity(4_096).time_to_live(Duration::from_secs(300)).build(),
            closing: watch::Sender::new(false),
        }
    }
}

impl Walls {
    /// Follows a wall's version; the wall is watched while a receiver lives.
    pub fn subscribe(&self, key: WallKey) -> watch::Receiver<u64> {
        let mut versions = self.versions.lock().expect("walls lock");
        // Walls nobody watches any more are forgotten as others come and go.
        versions.retain(|_, sender| sender.receiver_count() > 0);
        versions.entry(key).or_insert_with(|| watch::Sender::new(self.version())).subscribe()
    }

    /// A write touched `tags`: every watched wall they concern moves to a new version.
    pub fn touched(&self, tags: &[Tag]) {
        let versions = self.versions.lock().expect("walls lock");
        if versions.is_empty() {
            return;
        }
        let everything = tags.contains(&Tag::Global);
        let lists = everything || tags.contains(&Tag::Lists);
        for (key, sender) in versions.iter() {
            let hit = match key {
                WallKey::Album(id) => {
                    everything || tags.contains(&Tag::Album(*id)) || tags.contains(&Tag::AlbumCounts(*id))
                }
                WallKey::Pandal(id) => lists || tags.contains(&Tag::Pandal(*id)),
            };
            if hit {
                sender.send_replace(self.version());
            }
        }
    }

    fn version(&self) -> u64 {
        self.next.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
    }

    /// What the wall shows at `version` (through `suffix`), loaded once per process.
    pub async fn shown<F>(&self, key: WallKey, version: u64, suffix: &str, load: F) -> Shown
    where
        F: Future<Output = Shown>,
    {
        self.newest.get_with((key, version, suffix.to_owned()), load).await
    }

    /// Streams end when the process stops (their browsers reconnect to another).
    pub fn closing(&self) -> watch::Receiver<bool> {
        self.closing.subscribe()
    }

    pub fn close(&self) {
        self.closing.send_replace(true);
    }

    /// Walls watched now, for a test or a gauge.
    pub fn watched(&self) -> usize {
        self.versions.lock().expect("walls lock").values().filter(|s| s.receiver_count() > 0).count()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_write_bumps_the_walls_it_concerns_and_no_other() {
        let walls = Walls::default();
        let mut album = walls.subscribe(WallKey::Album(7));
        let mut other = walls.subscribe(WallKey::Album(8));
        let mut pandal = walls.subscribe(WallKey::Pandal(3));
        let moved = |r: &mut watch::Receiver<u64>| {
            r.has_changed().unwrap_or(false) && {
                r.borrow_and_update();
                true
            }
        };
        walls.touched(&[Tag::Album(7), Tag::Photo(70)]);
        assert_eq!((moved(&mut album), moved(&mut other), moved(&mut pandal)), (true, false, false));
        walls.touched(&[Tag::Lists]);
        assert_eq!((moved(&mut album), moved(&mut other), moved(&mut pandal)), (false, false, true));
        walls.touched(&[Tag::Global]);
        assert_eq!((moved(&mut album), moved(&mut other), moved(&mut pandal)), (true, true, true));
        drop(other);
        let _again = walls.subscribe(WallKey::Album(9));
        assert_eq!(walls.watched(), 3);
    }

    #[test]
    fn a_wall_watched_again_never_reuses_a_version_of_its_earlier_life() {
        let walls = Walls::default();
        let first = walls.subscribe(WallKey::Album(7));
        walls.touched(&[Tag::Album(7)]);
        let seen = *first.borrow();
        drop(first);
        // Forgotten (nobody watches it) as another wall is watched, then watched again.
        let _other = walls.subscribe(WallKey::Album(8));
        let again = walls.subscribe(WallKey::Album(7));
        assert!(*again.borrow() > seen, "{} after {seen}", *again.borrow());
    }
}
