//! Which waiting probe gets the next free slot. Under the connection cap, probes wait in line
//! for a slot; served in arrival order, a scan's critical path (the version probes every plan
//! rests on, then the chains of suite and group eliminations, each step waiting on the one
//! before) would queue behind probes whose answers nothing waits for, and the vulnerability
//! probes would delay the scan instead of filling the slots it leaves idle. So a probe
//! waits with the priority of the work it belongs to, set around that work with
//! [`Priority::scope`] (a task-local value: a task spawned inside takes the default unless
//! it is scoped itself); among equals, arrival order holds. Only the order of waiters
//! changes, never what is probed or how many connections are open.

use std::future::Future;

/// The priority of a probe waiting for a slot, lowest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub enum Priority {
    /// Work that should only fill slots nothing else wants: the vulnerability probes.
    Background,
    /// Probes whose answers gate nothing (the default).
    #[default]
    Leaf,
    /// Steps of chains whose answers decide the next probes: suite and group enumeration.
    Chain,
    /// The version probes, on which the whole plan of the scan rests.
    Basis,
}

tokio::task_local! {
    static PRIORITY: Priority;
}

impl Priority {
    /// Run `work` with its probes waiting at this priority.
    pub async fn scope<F: Future>(self, work: F) -> F::Output {
        PRIORITY.scope(self, work).await
    }

    /// The priority of the work running now.
    pub fn current() -> Priority {
        PRIORITY.try_with(|p| *p).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_priority_follows_the_work() {
        assert_eq!(Priority::current(), Priority::Leaf);
        let inner = Priority::Chain
            .scope(async {
                let nested = Priority::Basis.scope(async { Priority::current() }).await;
                (Priority::current(), nested)
            })
            .await;
        assert_eq!(inner, (Priority::Chain, Priority::Basis));
        assert!(Priority::Background < Priority::Leaf && Priority::Chain < Priority::Basis);
    }
}
