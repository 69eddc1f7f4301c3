//! Turns: how many requests a process works on at once (`PUJO_MAX_ACTIVE_REQUESTS`).
//!
//! A handler makes round trips (Redis, PostgreSQL, S3) one after the other, and after
//! each its task waits for a core again. On a process whose cores are all busy, each
//! request let in lengthens the queue every one of those waits stands in: under a
//! festival crowd a like's round trips took a second, and Redis lookups timed out in
//! that queue (50 ms), each then costing a PostgreSQL query, more work when there is
//! least room for it. With a bound on the requests being worked on, the others wait
//! for a turn before their handler runs, in the order they came, costing no
//! CPU; those let in finish quickly. (docs/BENCHMARKS.md, "A festival night".)
//!
//! A write (POST, PUT, PATCH) whose body is still coming takes its turn once the body
//! has arrived (`api::extract::read_body`, [`Deferred`]): a client that sends its body
//! slowly holds a connection, never a turn, so a few slow clients cannot stop a
//! process. What its handler does before it reads the body (a session, a lookup) runs
//! before the turn. A write whose handler reads no body, sent with one anyway, runs
//! without a turn, as every request did before turns; reads (GET, HEAD, DELETE) take
//! their turn at once whatever they send. Only uploads, which are not counted, read
//! bodies another way.
//!
//! Not counted: upload requests, which last as long as the phone's network takes and
//! have bounds of their own (`PUJO_UPLOAD_TEMP_BYTES`, the pipeline's decoders); the
//! readiness and health probes, which a busy pod must still answer; and the admin
//! listener. A live wall's stream holds its turn only while its first answer is made.
//!
//! The wait has a bound of its own (`PUJO_MAX_WAITING_REQUESTS`): past it a request is
//! turned away at once with 503 `busy` and `Retry-After: 1`, rather than held until
//! its time limit (408) by a process that will not reach it in time. Memory and
//! connections then go to requests that will be answered, and a load balancer or a
//! client retries elsewhere or a second later.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use tokio::sync::{OnceCell, OwnedSemaphorePermit, Semaphore};

use super::Counted;

/// The turns of one process, shared by its public listeners.
#[derive(Debug)]
pub struct Turns {
    permits: Arc<Semaphore>,
    /// Requests waiting now, and the most that may.
    places: AtomicUsize,
    max_waiting: usize,
    waiting: prometheus::IntGauge,
    turned_away: prometheus::IntCounter,
}

/// A request turned away: as many were already waiting as may (503 `busy`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Full;

impl Turns {
    /// `active` requests at once, and at most `max_waiting` waiting for a turn;
    /// `waiting` counts those waiting, `turned_away` those refused a place.
    pub fn new(
        active: usize,
        max_waiting: usize,
        waiting: prometheus::IntGauge,
        turned_away: prometheus::IntCounter,
    ) -> Turns {
        let permits = Arc::new(Semaphore::new(active));
        Turns { permits, places: AtomicUsize::new(0), max_waiting, waiting, turned_away }
    }

    /// Waits for a turn (first come, first served); the request holds it until the
    /// permit is dropped. [`Full`] at once when no place is left in the wait.
    pub async fn take(&self) -> Result<OwnedSemaphorePermit, Full> {
        if let Ok(permit) = self.permits.clone().try_acquire_owned() {
            return Ok(permit);
        }
        let Some(_place) = self.place() else {
            self.turned_away.inc();
            return Err(Full);
        };
        Ok(self.permits.clone().acquire_owned().await.expect("the turns' semaphore is never closed"))
    }

    /// Whether a request arriving now would be turned away: no turn is free and every
    /// place in the wait is taken (counted as turned away when so). A write whose body
    /// is still coming asks before its handler runs, so that a handler never does work
    /// (a rate limit's count, a proof of work spent) for a request refused when its
    /// body has come.
    pub fn refuses(&self) -> bool {
        let full = self.permits.available_permits() == 0 && self.places.load(Ordering::Acquire) >= self.max_waiting;
        if full {
            self.turned_away.inc();
        }
        full
    }

    /// A place in the wait, given up when the request has its turn or leaves.
    fn place(&self) -> Option<Place<'_>> {
        let max = self.max_waiting;
        self.places.fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| (n < max).then_some(n + 1)).ok()?;
        Some(Place { places: &self.places, _waiting: Counted::enter(&self.waiting) })
    }
}

/// A place taken in the wait, and the request counted as waiting, for as long as it is.
struct Place<'a> {
    places: &'a AtomicUsize,
    _waiting: Counted<'a>,
}

impl Drop for Place<'_> {
    fn drop(&mut self) {
        self.places.fetch_sub(1, Ordering::AcqRel);
    }
}

/// The turn of a request whose body was still coming when it reached its handler, in
/// the request's extensions: taken when the body has been read, and held, like any
/// turn, until the handler has answered (the pipeline keeps `held` until then).
#[derive(Debug, Clone)]
pub struct Deferred {
    turns: Arc<Turns>,
    held: Arc<OnceCell<OwnedSemaphorePermit>>,
}

impl Deferred {
    /// A turn to take later, and what the caller keeps alive to hold it.
    pub fn new(turns: Arc<Turns>) -> (Deferred, Arc<OnceCell<OwnedSemaphorePermit>>) {
        let held = Arc::new(OnceCell::new());
        (Deferred { turns, held: held.clone() }, held)
    }

    /// Waits for the turn (once the body has arrived); a turn already taken is kept.
    pub async fn take(&self) -> Result<(), Full> {
        self.held.get_or_try_init(|| self.turns.take()).await.map(|_| ())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::pin::pin;
    use std::task::{Context, Poll};

    fn turns(active: usize) -> Turns {
        queue(active, 100)
    }

    fn queue(active: usize, max_waiting: usize) -> Turns {
        let waiting = prometheus::IntGauge::new("waiting", "test").expect("gauge");
        let turned_away = prometheus::IntCounter::new("turned_away", "test").expect("counter");
        Turns::new(active, max_waiting, waiting, turned_away)
    }

    #[test]
    fn a_deferred_turn_is_held_until_whoever_keeps_it_lets_go() {
        let turns = Arc::new(turns(1));
        let (deferred, held) = Deferred::new(turns.clone());
        let mut cx = Context::from_waker(std::task::Waker::noop());
        assert!(pin!(deferred.take()).poll(&mut cx).is_ready());
        // Taken twice (a handler that reads its body twice): the turn it holds is kept,
        // not waited for again behind itself.
        assert!(pin!(deferred.take()).poll(&mut cx).is_ready());
        drop(deferred);
        assert!(pin!(turns.take()).poll(&mut cx).is_pending(), "the turn is still held");
        drop(held);
        assert!(pin!(turns.take()).poll(&mut cx).is_ready());
    }

    #[test]
    fn past_the_bound_requests_wait_in_the_order_they_came() {
        let turns = turns(2);
        let mut cx = Context::from_waker(std::task::Waker::noop());
        let first = pin!(turns.take());
        let Poll::Ready(Ok(first)) = first.poll(&mut cx) else { panic!("a free turn is taken at once") };
        let second = pin!(turns.take());
        let Poll::Ready(Ok(second)) = second.poll(&mut cx) else { panic!("so is the second") };
        let mut third = pin!(turns.take());
        let mut fourth = pin!(turns.take());
        assert!(third.as_mut().poll(&mut cx).is_pending());
        assert!(fourth.as_mut().poll(&mut cx).is_pending());
        assert_eq!(turns.waiting.get(), 2);
        drop(first);
        // The turn goes to the one that waited longest, not to whoever asks next.
        let Poll::Ready(Ok(third)) = third.as_mut().poll(&mut cx) else { panic!("the third's turn") };
        assert!(fourth.as_mut().poll(&mut cx).is_pending());
        assert_eq!(turns.waiting.get(), 1);
        drop((second, third));
        assert!(fourth.as_mut().poll(&mut cx).is_ready());
        assert_eq!(turns.waiting.get(), 0);
    }

    #[test]
    fn a_client_that_leaves_while_waiting_is_no_longer_counted() {
        let turns = turns(1);
        let mut cx = Context::from_waker(std::task::Waker::noop());
        let held = pin!(turns.take());
        let Poll::Ready(Ok(_held)) = held.poll(&mut cx) else { panic!("a free turn") };
        {
            let mut waiting = Box::pin(turns.take());
            assert!(waiting.as_mut().poll(&mut cx).is_pending());
            assert_eq!(turns.waiting.get(), 1);
        }
        assert_eq!(turns.waiting.get(), 0);
    }

    #[test]
    fn past_the_places_in_the_wait_a_request_is_turned_away_at_once() {
        let turns = queue(1, 2);
        let mut cx = Context::from_waker(std::task::Waker::noop());
        let Poll::Ready(Ok(held)) = pin!(turns.take()).poll(&mut cx) else { panic!("a free turn") };
        let mut second = Box::pin(turns.take());
        let mut third = pin!(turns.take());
        assert!(second.as_mut().poll(&mut cx).is_pending());
        assert!(third.as_mut().poll(&mut cx).is_pending());
        // Both places are taken: the next is refused without waiting.
        assert!(matches!(pin!(turns.take()).poll(&mut cx), Poll::Ready(Err(Full))));
        assert_eq!(turns.turned_away.get(), 1);
        assert_eq!(turns.waiting.get(), 2);
        // A place given up (a client that left) is free again.
        drop(second);
        let mut fourth = pin!(turns.take());
        assert!(fourth.as_mut().poll(&mut cx).is_pending());
        assert_eq!(turns.turned_away.get(), 1);
        drop(held);
        assert!(matches!(third.as_mut().poll(&mut cx), Poll::Ready(Ok(_))));
        assert_eq!(turns.waiting.get(), 1);
    }
}
