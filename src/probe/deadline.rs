//! The deadline of a whole run (`--deadline`), shared by every prober of the run.
//!
//! Each probe already ends within `--timeout` once it holds its connection slot. The run's
//! deadline caps the sum: no connection is opened after it, a slot is not waited for past
//! it, and a probe in flight is cut at it. Checks then fold what they have, so the run still
//! reports what it learned; [`RunDeadline::reached`] says whether anything was cut, which
//! marks the results as partial.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;
use tokio::time::Instant;

/// Connections a run is given room for in [`default_budget`]: more than a scan of the most
/// permissive legacy server opens (the bench's counts a few hundred at most go to one server).
pub const BUDGET_CONNECTIONS: u32 = 256;

/// The cap on a run without `--deadline`: room for [`BUDGET_CONNECTIONS`] connections that each
/// use their whole `timeout`, `max_connections` of them at a time, plus two more timeouts for
/// the name look-up and the last probe's slot:
/// `timeout × (2 + ⌈256 / max_connections⌉)` (140 s with the defaults, 5 s and 10).
pub fn default_budget(timeout: Duration, max_connections: usize) -> Duration {
    let c = max_connections.max(1) as u32;
    timeout.saturating_mul(2 + BUDGET_CONNECTIONS.div_ceil(c))
}

/// When the run must be over, and whether it got there with work left.
#[derive(Debug, Clone)]
pub struct RunDeadline {
    at: Instant,
    budget: Duration,
    reached: Arc<AtomicBool>,
}

impl RunDeadline {
    /// A deadline `budget` from now.
    pub fn start(budget: Duration) -> Self {
        RunDeadline {
            at: Instant::now() + budget,
            budget,
            reached: Arc::new(AtomicBool::new(false)),
        }
    }

    pub fn at(&self) -> Instant {
        self.at
    }

    /// The length of the run it was started with.
    pub fn budget(&self) -> Duration {
        self.budget
    }

    pub fn has_passed(&self) -> bool {
        Instant::now() >= self.at
    }

    /// True once a probe was cut or not started because of the deadline.
    pub fn reached(&self) -> bool {
        self.reached.load(Ordering::Relaxed)
    }

    pub(crate) fn mark_reached(&self) {
        self.reached.store(true, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_budget_is_the_documented_function() {
        let s = Duration::from_secs;
        assert_eq!(default_budget(s(5), 10), s(5 * (2 + 26)));
        assert_eq!(default_budget(s(2), 1), s(2 * (2 + 256)));
        assert_eq!(default_budget(s(2), 0), s(2 * (2 + 256)));
        assert_eq!(default_budget(s(1), 256), s(3));
        assert_eq!(default_budget(s(1), 1000), s(3));
    }

    #[tokio::test]
    async fn reached_only_when_marked() {
        let d = RunDeadline::start(Duration::from_millis(20));
        assert!(!d.has_passed() && !d.reached());
        tokio::time::sleep(Duration::from_millis(30)).await;
        assert!(d.has_passed());
        assert!(!d.reached());
        d.clone().mark_reached();
        assert!(d.reached());
    }
}
