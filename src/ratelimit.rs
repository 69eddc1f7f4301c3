//! Fixed-window counters for the log-in and registration limits, in process. (With
//! Redis configured they will live there, so that every replica counts together.)

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

#[derive(Debug, Default)]
pub struct RateLimiter {
    windows: Mutex<HashMap<String, (Instant, u32)>>,
}

impl RateLimiter {
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
        let limiter = RateLimiter::default();
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
