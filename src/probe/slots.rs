//! The connection slots of one server: at most `limit` connections open at once, the rest
//! waiting in line. Unlike a semaphore of fixed size, the limit can move while probes wait
//! (the automatic cap of [`super::cap`] raises it for a far server and lowers it again after
//! a failure): a raise lets waiters in at once, a lowering lets the connections in flight end
//! before anyone new comes in. A slot may also come with a warm connection
//! ([`super::warm`]): one dialled ahead, prelude done, that waits here holding its slot until
//! a probe takes it. Waiters are served by [`Priority`], then in arrival order.

use super::priority::Priority;
use super::warm::WarmStream;
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
    /// Slots taken, warm connections included (a lowered limit may leave more taken than
    /// allowed, until they end).
    held: usize,
    waiting: VecDeque<Waiter>,
    /// Warm connections nobody has taken yet, oldest first, each with its number.
    idle: VecDeque<(u64, WarmStream)>,
    next_idle: u64,
    /// Warm connections being dialled (their slots are among `held`).
    dialling: usize,
}

#[derive(Debug)]
struct Waiter {
    tx: oneshot::Sender<Grant>,
    /// Whether a warm connection (prelude done) serves this waiter.
    warm_ok: bool,
    priority: Priority,
}

/// What a waiter is given: a bare slot, or one with a warm connection in it.
#[derive(Debug)]
pub(crate) enum Grant {
    Slot(Permit),
    Warm(WarmStream),
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

/// What became of a warm connection offered to the slots.
pub(crate) enum Offered {
    /// A waiter took it at once.
    Taken,
    /// It waits, under this number (see [`Slots::expire`]).
    Parked(u64),
}

impl State {
    /// How many of the waiters the warm connections being dialled will serve (the first
    /// ones that take a warm connection, as [`Slots::offer`] hands them out): those wait
    /// for a connection, not for a slot, so a free slot does not wait behind them.
    fn promised(&self) -> usize {
        self.waiting
            .iter()
            .filter(|w| w.warm_ok)
            .count()
            .min(self.dialling)
    }
}

impl Slots {
    pub(crate) fn new(limit: usize) -> Arc<Slots> {
        Arc::new(Slots {
            state: Mutex::new(State {
                limit: limit.max(1),
                held: 0,
                waiting: VecDeque::new(),
                idle: VecDeque::new(),
                next_idle: 0,
                dialling: 0,
            }),
        })
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic while holding the lock cannot leave the counts half-changed: every update
        // is a single assignment.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A slot, as soon as one is free and every earlier waiter was served; with `warm_ok`,
    /// a warm connection when one is waiting, or the next one when more are being dialled
    /// than earlier waiters will take (it was dialled before this call, so it is ready
    /// before a connection dialled now would be; should it fail, its slot comes instead).
    pub(crate) async fn acquire(self: &Arc<Self>, warm_ok: bool, priority: Priority) -> Grant {
        loop {
            let rx = {
                let mut st = self.lock();
                if warm_ok {
                    if let Some((_, w)) = st.idle.pop_front() {
                        return Grant::Warm(w);
                    }
                }
                let promised = st.promised();
                let coming = warm_ok && st.dialling > promised;
                if st.held < st.limit && st.waiting.len() == promised && !coming {
                    st.held += 1;
                    return Grant::Slot(self.permit());
                }
                let (tx, rx) = oneshot::channel();
                // Behind every waiter of its priority or a higher one.
                let at = st
                    .waiting
                    .iter()
                    .position(|w| w.priority < priority)
                    .unwrap_or(st.waiting.len());
                st.waiting.insert(
                    at,
                    Waiter {
                        tx,
                        warm_ok,
                        priority,
                    },
                );
                rx
            };
            // A waiter is only ever removed to be sent a grant, so the sender is not dropped
            // unsent; loop rather than trust that.
            if let Ok(grant) = rx.await {
                return grant;
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

    /// Slots taken now (warm connections included).
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

    /// A slot for a connection dialled ahead, when `want` says one more is wanted given the
    /// slots held, the warm connections waiting and those being dialled (all among the
    /// held): only when a slot is free and nobody waits for one. Each is then either
    /// [`Slots::offer`]ed or [`Slots::abandon`]ed.
    pub(crate) fn reserve_ahead(
        self: &Arc<Self>,
        want: impl FnOnce(usize, usize, usize) -> bool,
    ) -> Option<Permit> {
        let mut st = self.lock();
        let free = st.held < st.limit && st.waiting.len() == st.promised();
        if !free || !want(st.held, st.idle.len(), st.dialling) {
            return None;
        }
        st.held += 1;
        st.dialling += 1;
        Some(self.permit())
    }

    /// How many waiters a warm connection would serve (those waiting to carry TLS).
    pub(crate) fn waiting_for_tls(&self) -> usize {
        self.lock().waiting.iter().filter(|w| w.warm_ok).count()
    }

    /// `n` slots for connections dialled ahead beyond the limit (the opening stock of
    /// [`super::warm::OPENING_STOCK`]), each then [`Slots::offer`]ed or [`Slots::abandon`]ed
    /// like [`Slots::reserve_ahead`]'s; while they are held, a lowered limit lets nobody new in.
    pub(crate) fn reserve_beyond(self: &Arc<Self>, n: usize) -> Vec<Permit> {
        let mut st = self.lock();
        st.held += n;
        st.dialling += n;
        (0..n).map(|_| self.permit()).collect()
    }

    /// A connection reserved ahead will not come (its dial failed, or the work is over);
    /// its slot is given back when its permit is dropped.
    pub(crate) fn abandon(&self) {
        let mut st = self.lock();
        st.dialling = st.dialling.saturating_sub(1);
    }

    /// A warm connection is ready: to the first waiter that takes one, or parked.
    pub(crate) fn offer(self: &Arc<Self>, warm: WarmStream) -> Offered {
        let mut st = self.lock();
        st.dialling = st.dialling.saturating_sub(1);
        let mut warm = warm;
        let mut i = 0;
        while i < st.waiting.len() {
            if !st.waiting[i].warm_ok {
                i += 1;
                continue;
            }
            let Some(w) = st.waiting.remove(i) else { break };
            match w.tx.send(Grant::Warm(warm)) {
                Ok(()) => return Offered::Taken,
                // That waiter gave up: the next one.
                Err(Grant::Warm(back)) => warm = back,
                Err(Grant::Slot(_)) => unreachable!("a warm connection was sent"),
            }
        }
        let id = st.next_idle;
        st.next_idle += 1;
        st.idle.push_back((id, warm));
        Offered::Parked(id)
    }

    /// The warm connection parked as `id`, when nobody took it yet (the caller drops it
    /// outside the lock, which gives its slot back).
    pub(crate) fn expire(&self, id: u64) -> Option<WarmStream> {
        let mut st = self.lock();
        let i = st.idle.iter().position(|(n, _)| *n == id)?;
        st.idle.remove(i).map(|(_, w)| w)
    }

    /// Every warm connection still waiting.
    pub(crate) fn drain_idle(&self) -> Vec<WarmStream> {
        self.lock().idle.drain(..).map(|(_, w)| w).collect()
    }

    /// Give a freed slot to the first waiter still waiting; false when none is.
    fn hand_over(self: &Arc<Self>, st: &mut State) -> bool {
        while let Some(w) = st.waiting.pop_front() {
            match w.tx.send(Grant::Slot(self.permit())) {
                Ok(()) => return true,
                // That waiter gave up: disarm the permit (its slot is still ours to give).
                Err(Grant::Slot(mut p)) => p.slots = None,
                Err(Grant::Warm(_)) => unreachable!("a bare slot was sent"),
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
        let a = slots.acquire(false, Priority::Leaf).await;
        let b = slots.acquire(false, Priority::Leaf).await;
        assert_eq!(slots.held(), 2);
        let order = Arc::new(Mutex::new(Vec::new()));
        let mut tasks = Vec::new();
        for i in 0..3 {
            let (s, o) = (slots.clone(), order.clone());
            tasks.push(tokio::spawn(async move {
                let p = s.acquire(false, Priority::Leaf).await;
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
    async fn slots_beyond_the_limit_are_held_and_given_back() {
        let slots = Slots::new(2);
        let a = slots.acquire(false, Priority::Leaf).await;
        let stock = slots.reserve_beyond(3);
        assert_eq!((stock.len(), slots.held()), (3, 4));
        // Nobody new while over the limit; a dial that failed gives its slot back.
        let waiter = {
            let s = slots.clone();
            tokio::spawn(async move { s.acquire(false, Priority::Leaf).await })
        };
        tokio::task::yield_now().await;
        assert!(!waiter.is_finished());
        for p in stock {
            slots.abandon();
            drop(p);
        }
        assert!(matches!(waiter.await.unwrap(), Grant::Slot(_)));
        drop(a);
        assert_eq!(slots.held(), 0);
    }

    #[tokio::test(start_paused = true)]
    async fn a_raise_lets_waiters_in_and_a_lowering_waits_for_the_slots_to_end() {
        let slots = Slots::new(1);
        let first = slots.acquire(false, Priority::Leaf).await;
        let waiters: Vec<_> = (0..3)
            .map(|_| {
                let s = slots.clone();
                tokio::spawn(async move { s.acquire(false, Priority::Leaf).await })
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
        let late = tokio::spawn(async move { s.acquire(false, Priority::Leaf).await });
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
        let held = slots.acquire(false, Priority::Leaf).await;
        let s = slots.clone();
        let gone = tokio::spawn(async move { s.acquire(false, Priority::Leaf).await });
        tokio::time::sleep(Duration::from_millis(1)).await;
        gone.abort();
        let _ = gone.await;
        drop(held);
        assert_eq!(slots.held(), 0);
        let _again =
            tokio::time::timeout(Duration::from_secs(1), slots.acquire(false, Priority::Leaf))
                .await
                .expect("the slot came back");
    }

    #[tokio::test(start_paused = true)]
    async fn a_waiter_promised_a_warm_connection_does_not_hold_up_free_slots() {
        // One connection is being dialled ahead; the first probe that takes warm ones
        // waits for it. Slots are free, so the probes after it (warm or not) get theirs at
        // once instead of queueing behind it until some connection ends: that queue held a
        // far server's second round back a whole round trip.
        let slots = Slots::new(8);
        let dialling = slots.reserve_ahead(|_, _, _| true).expect("a free slot");
        let s = slots.clone();
        let promised = tokio::spawn(async move { s.acquire(true, Priority::Chain).await });
        tokio::time::sleep(Duration::from_millis(1)).await;
        assert!(
            !promised.is_finished(),
            "it waits for the connection being dialled"
        );
        let mut granted = Vec::new();
        for warm_ok in [true, false, true] {
            let g = tokio::time::timeout(
                Duration::from_millis(5),
                slots.acquire(warm_ok, Priority::Chain),
            )
            .await
            .expect("a free slot, not a place behind the promised waiter");
            assert!(matches!(g, Grant::Slot(_)));
            granted.push(g);
        }
        assert_eq!(slots.held(), 4);
        // With the limit reached a newcomer does wait, and is served when a slot ends.
        slots.set_limit(4);
        let s = slots.clone();
        let late = tokio::spawn(async move { s.acquire(false, Priority::Chain).await });
        tokio::time::sleep(Duration::from_millis(1)).await;
        assert!(!late.is_finished());
        // The dial failed: the promised waiter gets that slot, and then the newcomer one.
        slots.abandon();
        drop(dialling);
        assert!(matches!(promised.await.unwrap(), Grant::Slot(_)));
        granted.pop();
        assert!(matches!(late.await.unwrap(), Grant::Slot(_)));
    }

    #[tokio::test(start_paused = true)]
    async fn waiters_are_served_by_priority_then_in_order() {
        let slots = Slots::new(1);
        let held = slots.acquire(false, Priority::Leaf).await;
        let order = Arc::new(Mutex::new(Vec::new()));
        let mut tasks = Vec::new();
        let arrivals = [
            (0, Priority::Background),
            (1, Priority::Leaf),
            (2, Priority::Chain),
            (3, Priority::Leaf),
            (4, Priority::Basis),
            (5, Priority::Chain),
        ];
        for (i, p) in arrivals {
            let (s, o) = (slots.clone(), order.clone());
            tasks.push(tokio::spawn(async move {
                let g = s.acquire(false, p).await;
                o.lock().unwrap().push(i);
                tokio::time::sleep(Duration::from_millis(10)).await;
                drop(g);
            }));
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        drop(held);
        for t in tasks {
            t.await.unwrap();
        }
        assert_eq!(*order.lock().unwrap(), vec![4, 2, 5, 1, 3, 0]);
    }
}
