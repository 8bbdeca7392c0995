//! Pacing for fleets: `--rate N/s` (a limit on new connections shared by every prober of
//! a process) and the per-server backoff when a server that accepted connections starts
//! refusing them. Both act in [`super::Prober::open`], so every connection obeys them.

use std::io;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::time::Duration;
use tokio::time::Instant;

/// At most `per_second` new connections per second, evenly spaced: each connection is
/// given the next free instant, one interval after the last one given.
#[derive(Debug)]
pub struct RateLimit {
    interval: Duration,
    next: Mutex<Option<Instant>>,
}

impl RateLimit {
    pub fn per_second(rate: f64) -> RateLimit {
        RateLimit {
            interval: Duration::from_secs_f64(1.0 / rate.max(0.001)),
            next: Mutex::new(None),
        }
    }

    /// `N/s` (or a bare `N`), N a positive number.
    pub fn parse(s: &str) -> Result<f64, String> {
        let n = s.trim().strip_suffix("/s").unwrap_or(s.trim());
        match n.parse::<f64>() {
            Ok(v) if v > 0.0 && v <= 1_000_000.0 => Ok(v),
            _ => Err(format!(
                "'{s}' is not a rate: write N/s with N a positive number (e.g. 50/s)"
            )),
        }
    }

    /// The instant this connection may be opened (reserved now, so callers queue in order).
    pub fn reserve(&self) -> Instant {
        let now = Instant::now();
        let mut next = self.next.lock().unwrap_or_else(|e| e.into_inner());
        let at = next.map_or(now, |n| n.max(now));
        *next = Some(at + self.interval);
        at
    }
}

/// How the prober retries a connect that a server which accepted before now refuses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BackoffPolicy {
    /// Retries per connection after the first refusal.
    pub retries: u32,
    /// The first wait; each later one doubles.
    pub first_wait: Duration,
}

impl Default for BackoffPolicy {
    /// Three retries after 250 ms, 500 ms and 1 s: within the default 5 s probe deadline.
    fn default() -> Self {
        BackoffPolicy {
            retries: 3,
            first_wait: Duration::from_millis(250),
        }
    }
}

impl BackoffPolicy {
    /// The wait before retry `n` (from 0).
    pub fn wait(&self, n: u32) -> Duration {
        self.first_wait.saturating_mul(1u32 << n.min(16))
    }
}

/// Whether a failed connect is the server turning connections away (what backoff is for),
/// as opposed to a timeout or an unreachable network.
pub fn is_refusal(kind: io::ErrorKind) -> bool {
    matches!(
        kind,
        io::ErrorKind::ConnectionRefused
            | io::ErrorKind::ConnectionReset
            | io::ErrorKind::ConnectionAborted
    )
}

/// What backoff did for one target (every prober of its request adds to it).
#[derive(Debug, Default)]
pub struct BackoffTally {
    retries: AtomicU32,
    waited_ms: AtomicU64,
    gave_up: AtomicU32,
}

impl BackoffTally {
    pub(super) fn retried(&self, waited: Duration) {
        self.retries.fetch_add(1, Ordering::Relaxed);
        self.waited_ms
            .fetch_add(waited.as_millis() as u64, Ordering::Relaxed);
    }

    pub(super) fn gave_up(&self) {
        self.gave_up.fetch_add(1, Ordering::Relaxed);
    }

    /// (retries, milliseconds waited, connections given up), or `None` when nothing was
    /// retried.
    pub fn snapshot(&self) -> Option<(u32, u64, u32)> {
        let retries = self.retries.load(Ordering::Relaxed);
        let gave_up = self.gave_up.load(Ordering::Relaxed);
        (retries > 0 || gave_up > 0)
            .then(|| (retries, self.waited_ms.load(Ordering::Relaxed), gave_up))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_rate_spaces_connections_evenly() {
        let r = RateLimit::per_second(4.0);
        let slots: Vec<Instant> = (0..5).map(|_| r.reserve()).collect();
        for w in slots.windows(2) {
            assert_eq!(w[1] - w[0], Duration::from_millis(250));
        }
        // After a quiet spell the next connection goes at once, with no saved-up burst.
        let fast = RateLimit::per_second(1000.0);
        fast.reserve();
        tokio::time::sleep(Duration::from_millis(20)).await;
        let before = Instant::now();
        let at = fast.reserve();
        assert!(at >= before && at - before < Duration::from_millis(5));
        assert_eq!(fast.reserve() - at, Duration::from_millis(1));
    }

    #[test]
    fn rates_and_waits() {
        assert_eq!(RateLimit::parse("50/s"), Ok(50.0));
        assert_eq!(RateLimit::parse("2.5"), Ok(2.5));
        assert!(RateLimit::parse("0/s").is_err() && RateLimit::parse("fast").is_err());
        let p = BackoffPolicy::default();
        assert_eq!(p.wait(0), Duration::from_millis(250));
        assert_eq!(p.wait(2), Duration::from_secs(1));
        assert!(is_refusal(io::ErrorKind::ConnectionRefused));
        assert!(!is_refusal(io::ErrorKind::TimedOut));
    }
}
