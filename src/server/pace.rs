//! New connections per client address, paced before anything of them is read.
//!
//! A browser opens one HTTP/2 connection, or at most six HTTP/1.1 ones, and keeps
//! them. A client that opens hundreds a second (a loop of password guesses or refused
//! uploads, each on a new connection, or a flood of TLS handshakes) costs the core a
//! handshake, a request and a close each time, and everyone else's requests wait
//! behind them. So each client address (an IPv4 address, an IPv6 /64) may open
//! `burst` connections at once and `rate` a second after that; a connection over the
//! pace waits, unread and without a handshake, until its turn, and one whose turn is
//! more than [`MAX_WAIT`] away is closed at once. Waiting costs a socket, not CPU, and
//! slows a client that waits for each answer before its next connection (a script,
//! a flood) to the pace. Connections already open are never slowed.
//!
//! Addresses of trusted proxies are not paced: behind the ALB or nginx every
//! connection comes from the proxy, which keeps its connections open and has its own
//! per-client limits (the WAF's rate rule).
//!
//! The pace is a generic cell rate algorithm: per client, the time its next
//! connection would be due at the steady rate; a connection may start `burst`
//! intervals before that.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::http::client_address::{Cidr, ClientBucket, client_bucket};

/// The longest a connection waits for its turn; later turns are refused.
pub const MAX_WAIT: Duration = Duration::from_secs(5);

/// Most client addresses tracked at once (about 40 bytes each). Past it, clients
/// back within their burst are forgotten first; if all are still paced, the new one
/// goes unpaced rather than evicting a paced one.
const MAX_CLIENTS: usize = 100_000;

/// What to do with a new connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Turn {
    Now,
    After(Duration),
    Refused,
}

#[derive(Debug)]
pub struct Pacer {
    interval: Duration,
    tolerance: Duration,
    exempt: Vec<Cidr>,
    /// Per client bucket: when its next connection is due at the steady rate.
    due: Mutex<HashMap<ClientBucket, Instant>>,
}

impl Pacer {
    /// `rate` connections a second after a `burst`; `None` when `rate` is 0 (unpaced).
    pub fn new(rate: u32, burst: u32, exempt: Vec<Cidr>) -> Option<Pacer> {
        if rate == 0 {
            return None;
        }
        let interval = Duration::from_secs(1) / rate;
        Some(Pacer { interval, tolerance: interval * burst, exempt, due: Mutex::new(HashMap::new()) })
    }

    /// When a connection from `peer`, arriving at `now`, may be served.
    pub fn turn(&self, peer: IpAddr, now: Instant) -> Turn {
        if self.exempt.iter().any(|net| net.contains(peer)) {
            return Turn::Now;
        }
        let key = client_bucket(peer);
        let mut due = self.due.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if due.len() >= MAX_CLIENTS && !due.contains_key(&key) {
            let tolerance = self.tolerance;
            // A client whose next turn minus its burst has passed is back to a full burst.
            due.retain(|_, next| next.checked_sub(tolerance).is_some_and(|start| start > now));
            if due.len() >= MAX_CLIENTS {
                return Turn::Now;
            }
        }
        let next = due.get(&key).copied().map_or(now, |next| next.max(now));
        let wait =
            next.checked_sub(self.tolerance).map_or(Duration::ZERO, |start| start.saturating_duration_since(now));
        if wait > MAX_WAIT {
            return Turn::Refused;
        }
        due.insert(key, next + self.interval);
        if wait.is_zero() { Turn::Now } else { Turn::After(wait) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(text: &str) -> IpAddr {
        text.parse().expect("an address")
    }

    #[test]
    fn a_burst_goes_at_once_then_connections_wait_their_turn() {
        let pacer = Pacer::new(10, 5, Vec::new()).expect("paced");
        let now = Instant::now();
        let turns: Vec<Turn> = (0..8).map(|_| pacer.turn(ip("203.0.113.9"), now)).collect();
        // The first plus a burst of five, then one every 100 ms.
        assert!(turns[..6].iter().all(|t| *t == Turn::Now), "{turns:?}");
        assert_eq!(turns[6], Turn::After(Duration::from_millis(100)));
        assert_eq!(turns[7], Turn::After(Duration::from_millis(200)));
        // Another address has its own pace; a second later the first has room again.
        assert_eq!(pacer.turn(ip("203.0.113.10"), now), Turn::Now);
        assert_eq!(pacer.turn(ip("203.0.113.9"), now + Duration::from_secs(1)), Turn::Now);
    }

    #[test]
    fn turns_past_the_longest_wait_are_refused_and_not_counted() {
        let pacer = Pacer::new(1, 0, Vec::new()).expect("paced");
        let now = Instant::now();
        let turns: Vec<Turn> = (0..8).map(|_| pacer.turn(ip("198.51.100.7"), now)).collect();
        assert_eq!(turns[0], Turn::Now);
        assert_eq!(turns[5], Turn::After(MAX_WAIT));
        assert_eq!(turns[6], Turn::Refused);
        assert_eq!(turns[7], Turn::Refused);
        // Refusals took no turn: six seconds on, the next is due at once.
        assert_eq!(pacer.turn(ip("198.51.100.7"), now + Duration::from_secs(6)), Turn::Now);
    }

    #[test]
    fn one_ipv6_slash_64_is_one_client_and_proxies_are_not_paced() {
        let proxy = Cidr::parse("10.0.0.0/16").expect("cidr");
        let pacer = Pacer::new(1, 0, vec![proxy]).expect("paced");
        let now = Instant::now();
        assert_eq!(pacer.turn(ip("2001:db8:1:2::1"), now), Turn::Now);
        assert_eq!(pacer.turn(ip("2001:db8:1:2:ffff::9"), now), Turn::After(Duration::from_secs(1)));
        assert_eq!(pacer.turn(ip("2001:db8:1:3::1"), now), Turn::Now);
        for _ in 0..20 {
            assert_eq!(pacer.turn(ip("10.0.4.2"), now), Turn::Now);
        }
        assert!(Pacer::new(0, 10, Vec::new()).is_none());
    }

    #[test]
    fn the_map_stays_bounded() {
        let pacer = Pacer::new(1, 0, Vec::new()).expect("paced");
        let now = Instant::now();
        for i in 0..(MAX_CLIENTS as u32 + 10) {
            let _ = pacer.turn(IpAddr::V4(std::net::Ipv4Addr::from(i)), now);
        }
        assert!(pacer.due.lock().expect("lock").len() <= MAX_CLIENTS);
    }
}
