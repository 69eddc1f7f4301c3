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

use std::sync::Arc;

use tokio::sync::{OnceCell, OwnedSemaphorePermit, Semaphore};

use super::Counted;

/// The turns of one process, shared by its public listeners.
#[derive(Debug)]
pub struct Turns {
    permits: Arc<Semaphore>,
    waiting: prometheus::IntGauge,
}

impl Turns {
    /// `active` requests at once; `waiting` counts those waiting for a turn.
    pub fn new(active: usize, waiting: prometheus::IntGauge) -> Turns {
        Turns { permits: Arc::new(Semaphore::new(active)), waiting }
    }

    /// Waits for a turn (first come, first served); the request holds it until the
    /// permit is dropped.
    pub async fn take(&self) -> OwnedSemaphorePermit {
        if let Ok(permit) = self.permits.clone().try_acquire_owned() {
            return permit;
        }
        let _waiting = Counted::enter(&self.waiting);
        self.permits.clone().acquire_owned().await.expect("the turns' semaphore is never closed")
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
    pub async fn take(&self) {
        self.held.get_or_init(|| self.turns.take()).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::pin::pin;
    use std::task::{Context, Poll};

    fn turns(active: usize) -> Turns {
        Turns::new(active, prometheus::IntGauge::new("waiting", "test").expect("gauge"))
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
        let Poll::Ready(first) = first.poll(&mut cx) else { panic!("a free turn is taken at once") };
        let second = pin!(turns.take());
        let Poll::Ready(second) = second.poll(&mut cx) else { panic!("so is the second") };
        let mut third = pin!(turns.take());
        let mut fourth = pin!(turns.take());
        assert!(third.as_mut().poll(&mut cx).is_pending());
        assert!(fourth.as_mut().poll(&mut cx).is_pending());
        assert_eq!(turns.waiting.get(), 2);
        drop(first);
        // The turn goes to the one that waited longest, not to whoever asks next.
        let Poll::Ready(third) = third.as_mut().poll(&mut cx) else { panic!("the third's turn") };
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
        let Poll::Ready(_held) = held.poll(&mut cx) else { panic!("a free turn") };
        {
            let mut waiting = Box::pin(turns.take());
            assert!(waiting.as_mut().poll(&mut cx).is_pending());
            assert_eq!(turns.waiting.get(), 1);
        }
        assert_eq!(turns.waiting.get(), 0);
    }
}
