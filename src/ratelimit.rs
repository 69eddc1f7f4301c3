//! Fixed-window counters for the log-in and registration limits. With Redis
//! configured they live there, so that 3 or 10 replicas count together; when Redis
//! cannot be reached they fall back to this process's own counters (each replica then
//! allows the limit by itself, which is still a limit).
//!
//! Every event is counted before it is allowed (one atomic step), so parallel
//! attempts cannot slip past a limit between a check and a count. Keys are hashed
//! (a typed log-in name is neither kept in clear nor able to make a long key), and
//! this process's own map is bounded.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// At most `max` events per `window`.
#[derive(Debug, Clone, Copy)]
pub struct Limit {
    pub max: u32,
    pub window: Duration,
}

/// Log-in attempts per client address, successful or not.
pub const LOGIN_PER_CLIENT: Limit = Limit { max: 30, window: Duration::from_secs(5 * 60) };
/// Log-in attempts per account since its last success, from browsers that have not
/// logged into it before (a browser that has counts on its own, `FAILURES_PER_DEVICE`,
/// so strangers guessing cannot lock the owner out). Username and email are one account.
pub const FAILURES_PER_ACCOUNT: Limit = Limit { max: 10, window: Duration::from_secs(15 * 60) };
/// Log-in attempts since the last success from a browser that logged into the account before.
pub const FAILURES_PER_DEVICE: Limit = Limit { max: 10, window: Duration::from_secs(15 * 60) };
/// Password confirmations (change, leaving) per account, whatever their outcome: each
/// costs an argon2 check, and only the logged-in person can ask for one.
pub const CONFIRMATIONS_PER_ACCOUNT: Limit = Limit { max: 10, window: Duration::from_secs(15 * 60) };
/// Uploads refused for their content (unreadable, too large, not a photo) per account:
/// a phone's odd file is refused now and then, a script sending junk hundreds of
/// times. Past the limit, uploads are refused before their body is read.
pub const REFUSED_UPLOADS_PER_ACCOUNT: Limit = Limit { max: 60, window: Duration::from_secs(10 * 60) };
/// New accounts per client address.
/// Audit events of people not logged in (failed log-ins) written each second, by one
/// process: a bound on the database writes a crowd of failed log-ins costs.
pub const AUDIT_ANONYMOUS_PER_PROCESS: Limit = Limit { max: 20, window: Duration::from_secs(1) };
/// Guesses at a share link's password, whatever their outcome: from one client, and
/// from everyone together (each costs an argon2 check).
pub const SHARE_UNLOCKS_PER_CLIENT: Limit = Limit { max: 10, window: Duration::from_secs(15 * 60) };
pub const SHARE_UNLOCKS_PER_LINK: Limit = Limit { max: 100, window: Duration::from_secs(3600) };
/// Guest uploads through upload links: per browser (its guest cookie), and per
/// address with room for a whole pandal behind one carrier NAT address.
pub const GUEST_UPLOADS_PER_GUEST: Limit = Limit { max: 120, window: Duration::from_secs(3600) };
pub const GUEST_UPLOADS_PER_CLIENT: Limit = Limit { max: 5000, window: Duration::from_secs(3600) };
/// Reports of photos and comments from one client (an IPv6 /64 is one).
pub const REPORTS_PER_CLIENT: Limit = Limit { max: 30, window: Duration::from_secs(3600) };
/// Guests' files refused for their content from one address, all its guests together
/// (room for a pandal's phones; each browser has the account-sized bound too).
pub const REFUSED_GUEST_UPLOADS_PER_CLIENT: Limit = Limit { max: 600, window: Duration::from_secs(10 * 60) };
pub const REGISTRATIONS_PER_CLIENT: Limit = Limit { max: 30, window: Duration::from_secs(3600) };

/// Most keys this process counts at once (about 40 bytes each); past it, expired
/// windows go first, then the oldest.
const MAX_KEYS: usize = 100_000;

/// A key as it is stored: 16 bytes of its SHA-256.
fn digest(key: &str) -> [u8; 16] {
    use sha2::Digest;
    let full = sha2::Sha256::digest(key.as_bytes());
    let mut out = [0; 16];
    out.copy_from_slice(&full[..16]);
    out
}

/// The limiter every handler uses: Redis when configured and answering, else local.
#[derive(Debug, Default)]
pub struct RateLimiter {
    local: LocalLimiter,
    redis: Option<crate::cache::Redis>,
}

impl RateLimiter {
    pub fn new(redis: Option<crate::cache::Redis>) -> RateLimiter {
        RateLimiter { local: LocalLimiter::default(), redis }
    }

    /// The Redis key of `key`: hashed, so typed log-in names are neither stored in
    /// clear nor able to make long keys. Its window starts at its first count.
    fn redis_key(key: &str) -> String {
        format!("pujo:rl:{}", crate::util::hex(&digest(key)))
    }

    /// Counts one event for `key`; `Err(seconds)` says how long until the window
    /// reopens when it is full (the event is refused then).
    pub async fn hit(&self, key: &str, limit: Limit) -> Result<(), u64> {
        if let Some(redis) = &self.redis {
            match redis.count(&Self::redis_key(key), limit.window).await {
                Ok((n, left_ms)) if n > u64::from(limit.max) => return Err(left_ms / 1000 + 1),
                Ok(_) => return Ok(()),
                Err(_) => {}
            }
        }
        self.local.hit(key, limit)
    }

    /// Whether `key`'s window is already full, without counting anything (for limits
    /// counted after the fact, such as refusals).
    pub async fn check(&self, key: &str, limit: Limit) -> Result<(), u64> {
        if let Some(redis) = &self.redis {
            match redis.peek_count(&Self::redis_key(key)).await {
                Ok(Some((n, left_ms))) if n >= u64::from(limit.max) => return Err(left_ms / 1000 + 1),
                Ok(_) => return Ok(()),
                Err(_) => {}
            }
        }
        self.local.check(key, limit)
    }

    /// Counts one event in this process only: for bounds on this process's own work.
    pub fn hit_here(&self, key: &str, limit: Limit) -> Result<(), u64> {
        self.local.hit(key, limit)
    }

    pub async fn reset(&self, key: &str) {
        if let Some(redis) = &self.redis {
            let _ = redis.del(&[&Self::redis_key(key)]).await;
        }
        self.local.reset(key);
    }
}

/// This process's own counters, by key digest: (window start, its length, count).
#[derive(Debug, Default)]
pub struct LocalLimiter {
    windows: Mutex<HashMap<[u8; 16], (Instant, Duration, u32)>>,
}

impl LocalLimiter {
    /// Counts one event for `key`, then refuses it if that made the window exceed
    /// `limit` (`Err(seconds)` until it reopens). Counting and deciding are one step
    /// under the lock.
    pub fn hit(&self, key: &str, limit: Limit) -> Result<(), u64> {
        let now = Instant::now();
        let key = digest(key);
        let mut windows = self.windows.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if windows.len() >= MAX_KEYS && !windows.contains_key(&key) {
            make_room(&mut windows, now);
        }
        let entry = windows.entry(key).or_insert((now, limit.window, 0));
        if now.duration_since(entry.0) >= entry.1 {
            *entry = (now, limit.window, 0);
        }
        entry.2 = entry.2.saturating_add(1);
        if entry.2 > limit.max {
            return Err(limit.window.saturating_sub(now.duration_since(entry.0)).as_secs() + 1);
        }
        Ok(())
    }

    /// Whether `key`'s window is full, without counting anything.
    pub fn check(&self, key: &str, limit: Limit) -> Result<(), u64> {
        let now = Instant::now();
        let windows = self.windows.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        match windows.get(&digest(key)) {
            Some((start, _, count)) if now.duration_since(*start) < limit.window && *count >= limit.max => {
                Err((limit.window - now.duration_since(*start)).as_secs() + 1)
            }
            _ => Ok(()),
        }
    }

    pub fn reset(&self, key: &str) {
        self.windows.lock().unwrap_or_else(std::sync::PoisonError::into_inner).remove(&digest(key));
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.windows.lock().unwrap_or_else(std::sync::PoisonError::into_inner).len()
    }
}

/// Frees a tenth of the map: expired windows first, then the oldest ones.
fn make_room(windows: &mut HashMap<[u8; 16], (Instant, Duration, u32)>, now: Instant) {
    windows.retain(|_, (start, length, _)| now.duration_since(*start) < *length);
    if windows.len() < MAX_KEYS {
        return;
    }
    let mut starts: Vec<Instant> = windows.values().map(|(start, _, _)| *start).collect();
    let cut = MAX_KEYS / 10;
    starts.select_nth_unstable(cut);
    let oldest_kept = starts[cut];
    windows.retain(|_, (start, _, _)| *start >= oldest_kept);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_map_stays_bounded_and_keeps_no_typed_names() {
        let limiter = LocalLimiter::default();
        let limit = Limit { max: 5, window: Duration::from_secs(3600) };
        let long = "x".repeat(4096);
        for i in 0..(MAX_KEYS + 5_000) {
            let _ = limiter.hit(&format!("account:{long}{i}"), limit);
        }
        assert!(limiter.len() <= MAX_KEYS, "{} keys", limiter.len());
        // The newest keys are still counted.
        let newest = format!("account:{long}{}", MAX_KEYS + 4_999);
        assert!(limiter.check(&newest, Limit { max: 1, ..limit }).is_err());
    }

    #[test]
    fn parallel_attempts_cannot_pass_the_limit() {
        let limiter = std::sync::Arc::new(LocalLimiter::default());
        let limit = Limit { max: 10, window: Duration::from_secs(60) };
        let allowed: usize = std::thread::scope(|scope| {
            let handles: Vec<_> =
                (0..17).map(|_| scope.spawn(|| usize::from(limiter.hit("account:1", limit).is_ok()))).collect();
            handles.into_iter().map(|h| h.join().expect("thread")).sum()
        });
        assert_eq!(allowed, 10);
    }

    #[test]
    fn a_full_window_refuses_until_it_reopens() {
        let limiter = LocalLimiter::default();
        let limit = Limit { max: 2, window: Duration::from_millis(200) };
        assert!(limiter.hit("a", limit).is_ok());
        assert!(limiter.hit("a", limit).is_ok());
        let wait = limiter.hit("a", limit).expect_err("third is refused");
        assert!(wait >= 1);
        assert!(limiter.hit("b", limit).is_ok(), "keys count apart");
        std::thread::sleep(Duration::from_millis(250));
        assert!(limiter.hit("a", limit).is_ok());
        limiter.reset("a");
        assert!(limiter.check("a", limit).is_ok());
    }
}
