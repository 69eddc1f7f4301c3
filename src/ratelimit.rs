//! Fixed-window counters for the log-in and registration limits. With Redis
//! configured they live there, so that 3 or 10 replicas count together; when Redis
//! cannot be reached they fall back to this process's own counters (each replica then
//! allows the limit by itself, which is still a limit).

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
/// Failed log-ins per account; while exceeded even the right password waits.
pub const FAILURES_PER_ACCOUNT: Limit = Limit { max: 10, window: Duration::from_secs(15 * 60) };
/// New accounts per client address.
pub const REGISTRATIONS_PER_CLIENT: Limit = Limit { max: 30, window: Duration::from_secs(3600) };

/// Windows are pruned when this many keys are held.
const PRUNE_AT: usize = 100_000;

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
        use sha2::Digest;
        let digest = sha2::Sha256::digest(key.as_bytes());
        format!("pujo:rl:{}", crate::media::hex(&digest[..16]))
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

    /// Whether `key` is over its limit, without counting anything.
    pub async fn check(&self, key: &str, limit: Limit) -> Result<(), u64> {
        if let Some(redis) = &self.redis
            && let Ok((n, left_ms)) = redis.counter(&Self::redis_key(key)).await
        {
            return if n >= u64::from(limit.max) { Err(left_ms / 1000 + 1) } else { Ok(()) };
        }
        self.local.check(key, limit)
    }

    pub async fn reset(&self, key: &str) {
        if let Some(redis) = &self.redis {
            let _ = redis.del(&[&Self::redis_key(key)]).await;
        }
        self.local.reset(key);
    }
}

/// This process's own counters.
#[derive(Debug, Default)]
pub struct LocalLimiter {
    windows: Mutex<HashMap<String, (Instant, u32)>>,
}

impl LocalLimiter {
    /// Counts one event for `key`; `Err(seconds)` says how long until the window
    /// reopens when it is already full (the event is not counted then).
    pub fn hit(&self, key: &str, limit: Limit) -> Result<(), u64> {
        self.check(key, limit)?;
        let now = Instant::now();
        let mut windows = self.windows.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if windows.len() >= PRUNE_AT {
            windows.retain(|_, (start, _)| now.duration_since(*start) < Duration::from_secs(3600));
        }
        let entry = windows.entry(key.to_owned()).or_insert((now, 0));
        if now.duration_since(entry.0) >= limit.window {
            *entry = (now, 0);
        }
        entry.1 += 1;
        Ok(())
    }

    /// Whether `key` is over its limit, without counting anything.
    pub fn check(&self, key: &str, limit: Limit) -> Result<(), u64> {
        let now = Instant::now();
        let windows = self.windows.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        match windows.get(key) {
            Some((start, count)) if now.duration_since(*start) < limit.window && *count >= limit.max => {
                Err((limit.window - now.duration_since(*start)).as_secs() + 1)
            }
            _ => Ok(()),
        }
    }

    pub fn reset(&self, key: &str) {
        self.windows.lock().unwrap_or_else(std::sync::PoisonError::into_inner).remove(key);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
