//! The connection slots of one server: at most `limit` connections open at once, the rest
//! waiting in line. Unlike a semaphore of fixed size, the limit can move while probes wait
//! (the automatic cap of [`super::cap`] raises it for a far server and lowers it again after
//! a failure): a raise lets waiters in at once, a lowering lets the connections in flight end
//! before anyone new comes in.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, MutexGuard};
use tokio::sync::oneshot;

/// The slots of one server, shared by every clone of its prober.
#[derive(Debug)]
pub(crate) struct Slots {
    state: Mutex<State>,
}

#[derive(Debug)]
struct State {
    limit: usize,
    /// Slots taken (a lowered limit may leave more taken than allowed, until they end).
    held: usize,
    waiting: VecDeque<oneshot::Sender<Permit>>,
}

/// One taken slot, given back when dropped.
#[derive(Debug)]
pub(crate) struct Permit {
    slots: Option<Arc<Slots>>,
}

impl Drop for Permit {
    fn drop(&mut self) {
        if let Some(slots) = self.slots.take() {
            slots.release();
        }
    }
}

impl Slots {
    pub(crate) fn new(limit: usize) -> Arc<Slots> {
        Arc::new(Slots {
            state: Mutex::new(State {
                limit: limit.max(1),
                held: 0,
                waiting: VecDeque::new(),
            }),
        })
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic while holding the lock cannot leave the counts half-changed: every update
        // is a single assignment.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A slot, as soon as one is free and every earlier waiter was served.
    pub(crate) async fn acquire(self: &Arc<Self>) -> Permit {
        loop {
            let rx = {
                let mut st = self.lock();
                if st.held < st.limit && st.waiting.is_empty() {
                    st.held += 1;
                    return self.permit();
                }
                let (tx, rx) = oneshot::channel();
                st.waiting.push_back(tx);
                rx
            };
            // A waiter is only ever removed to be sent a permit, so the sender is not dropped
            // unsent; loop rather than trust that.
            if let Ok(permit) = rx.await {
                return permit;
            }
        }
    }

    fn permit(self: &Arc<Self>) -> Permit {
        Permit {
            slots: Some(self.clone()),
        }
    }

    /// The limit now in force.
    #[cfg(test)]
    pub(crate) fn limit(&self) -> usize {
        self.lock().limit
    }

    /// Slots taken now.
    #[cfg(test)]
    pub(crate) fn held(&self) -> usize {
        self.lock().held
    }

    /// Move the limit; a raise serves waiters at once.
    pub(crate) fn set_limit(self: &Arc<Self>, limit: usize) {
        let mut st = self.lock();
        st.limit = limit.max(1);
        while st.held < st.limit && self.hand_over(&mut st) {
            st.held += 1;
        }
    }

    /// Give a freed slot to the first waiter still waiting; false when none is.
    fn hand_over(self: &Arc<Self>, st: &mut State) -> bool {
        while let Some(tx) = st.waiting.pop_front() {
            match tx.send(self.permit()) {
                Ok(()) => return true,
                // That waiter gave up: disarm the permit (its slot is still ours to give).
                Err(mut p) => p.slots = None,
            }
        }
        false
    }

    fn release(self: &Arc<Self>) {
        let mut st = self.lock();
        // Over a lowered limit, the slot is not passed on.
        if st.held > st.limit || !self.hand_over(&mut st) {
            st.held = st.held.saturating_sub(1);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[tokio::test(start_paused = true)]
    async fn the_limit_holds_and_waiters_come_in_order() {
        let slots = Slots::new(2);
        let a = slots.acquire().await;
        let b = slots.acquire().await;
        assert_eq!(slots.held(), 2);
        let order = Arc::new(Mutex::new(Vec::new()));
        let mut tasks = Vec::new();
        for i in 0..3 {
            let (s, o) = (slots.clone(), order.clone());
            tasks.push(tokio::spawn(async move {
                let p = s.acquire().await;
                o.lock().unwrap().push(i);
                tokio::time::sleep(Duration::from_millis(10)).await;
                drop(p);
            }));
            tokio::task::yield_now().await;
        }
        tokio::time::sleep(Duration::from_millis(1)).await;
        assert!(order.lock().unwrap().is_empty());
        drop(a);
        drop(b);
        for t in tasks {
            t.await.unwrap();
        }
        assert_eq!(*order.lock().unwrap(), vec![0, 1, 2]);
        assert_eq!(slots.held(), 0);
    }

    #[tokio::test(start_paused = true)]
    async fn a_raise_lets_waiters_in_and_a_lowering_waits_for_the_slots_to_end() {
        let slots = Slots::new(1);
        let first = slots.acquire().await;
        let waiters: Vec<_> = (0..3)
            .map(|_| {
                let s = slots.clone();
                tokio::spawn(async move { s.acquire().await })
            })
            .collect();
        tokio::time::sleep(Duration::from_millis(1)).await;
        slots.set_limit(4);
        let mut permits = Vec::new();
        for w in waiters {
            permits.push(w.await.unwrap());
        }
        assert_eq!((slots.held(), slots.limit()), (4, 4));
        // Lowered to 2: two of the four must end before a newcomer gets in.
        slots.set_limit(2);
        let s = slots.clone();
        let late = tokio::spawn(async move { s.acquire().await });
        drop(first);
        permits.pop();
        tokio::time::sleep(Duration::from_millis(1)).await;
        assert!(!late.is_finished());
        assert_eq!(slots.held(), 2);
        permits.pop();
        let _late = late.await.unwrap();
        assert_eq!(slots.held(), 2);
    }

    #[tokio::test(start_paused = true)]
    async fn a_waiter_that_gives_up_loses_no_slot() {
        let slots = Slots::new(1);
        let held = slots.acquire().await;
        let s = slots.clone();
        let gone = tokio::spawn(async move { s.acquire().await });
        tokio::time::sleep(Duration::from_millis(1)).await;
        gone.abort();
        let _ = gone.await;
        drop(held);
        assert_eq!(slots.held(), 0);
        let _again = tokio::time::timeout(Duration::from_secs(1), slots.acquire())
            .await
            .expect("the slot came back");
    }
}
