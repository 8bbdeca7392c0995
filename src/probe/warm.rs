//! Warm connections: at Internet round-trip times every probe pays the TCP handshake and the
//! prelude (a STARTTLS upgrade costs one to three more round trips) before its hello. While
//! the scan runs and a slot is free, the prober dials one ahead, prelude included, so that
//! the next probe that asks for a connection finds one ready and pays only its hello.
//!
//! Kept bounded, because a connection dialled ahead and never used is still a connection
//! the server sees: only for a server the automatic cap found far away ([`super::cap`]);
//! only while probes are in flight (each is likely to be followed by another: the scan's
//! eliminations are chains of probes), at most one warm connection per probe in flight and
//! [`MOST_AHEAD`] in all; never with `--rate` or backoff (fleet runs pace their connections);
//! each closed after [`idle_time`] unused, and all of them when the scan is over
//! ([`super::Prober::close_warm`]). How many were dialled and used is reported.

use super::connection::SlotHold;
use serde::{Deserialize, Serialize};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;
use tokio::net::TcpStream;

/// At most this many warm connections ready or being dialled at once.
pub const MOST_AHEAD: usize = 2;

/// A connection dialled ahead, prelude done, holding its slot.
#[derive(Debug)]
pub(crate) struct WarmStream {
    pub(crate) stream: TcpStream,
    pub(crate) hold: SlotHold,
}

/// Whether a parked connection is still open with nothing unread: a server that closed it
/// (or, against every protocol, spoke) makes it useless.
pub(crate) fn alive(stream: &TcpStream) -> bool {
    let mut b = [0u8; 1];
    matches!(stream.try_read(&mut b), Err(e) if e.kind() == std::io::ErrorKind::WouldBlock)
}

/// How long a warm connection may wait unused: a few round trips (the next step of a chain
/// comes one answer later), within bounds.
pub fn idle_time(rtt: Option<Duration>) -> Duration {
    let rtt = rtt.unwrap_or(Duration::from_millis(100));
    rtt.saturating_mul(6)
        .clamp(Duration::from_millis(300), Duration::from_secs(3))
}

/// Whether one more connection should be dialled ahead, given the slots `held` (warm ones
/// included), the warm connections `idle` and those `dialling`.
pub fn wanted(held: usize, idle: usize, dialling: usize) -> bool {
    let in_flight = held.saturating_sub(idle + dialling);
    idle + dialling < MOST_AHEAD.min(in_flight)
}

/// The warm connections of one server, counted.
#[derive(Debug, Default)]
pub(crate) struct WarmTally {
    pub(crate) dialled: AtomicUsize,
    pub(crate) used: AtomicUsize,
    /// No more dialling ahead (the scan is over, or a dial ahead failed).
    pub(crate) off: AtomicBool,
}

/// What `--json` says about the warm connections of a server.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WarmReport {
    /// Connections dialled ahead (each counted among the server's connections).
    pub dialled: usize,
    /// Those a probe then used; the rest were closed unused.
    pub used: usize,
}

impl WarmTally {
    pub(crate) fn report(&self) -> WarmReport {
        WarmReport {
            dialled: self.dialled.load(Ordering::Relaxed),
            used: self.used.load(Ordering::Relaxed),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn warm_connections_follow_the_probes_in_flight() {
        // Nothing in flight: nothing ahead (the scan may be over).
        assert!(!wanted(0, 0, 0));
        // One probe in flight: one ahead, and no second.
        assert!(wanted(1, 0, 0));
        assert!(!wanted(2, 0, 1));
        assert!(!wanted(2, 1, 0));
        // Many in flight: at most MOST_AHEAD.
        assert!(wanted(10, 1, 0));
        assert!(!wanted(10, 1, 1));
        assert!(!wanted(10, MOST_AHEAD, 0));
    }

    #[test]
    fn idle_time_is_a_few_round_trips_within_bounds() {
        let ms = Duration::from_millis;
        assert_eq!(idle_time(Some(ms(100))), ms(600));
        assert_eq!(idle_time(Some(ms(1))), ms(300));
        assert_eq!(idle_time(Some(ms(5000))), Duration::from_secs(3));
        assert_eq!(idle_time(None), ms(600));
    }
}
