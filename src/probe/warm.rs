//! Warm connections: at Internet round-trip times every probe pays the TCP handshake and the
//! prelude (a STARTTLS upgrade costs one to three more round trips) before its hello. While
//! the scan runs and a slot is free, the prober dials ahead, prelude included, so that the
//! next probes that ask for a connection find one ready and pay only their hello.
//!
//! How far ahead follows what a connection costs before its hello (its *lead*: connect and
//! prelude, measured on the address's own connections) against what one step of a chain of
//! probes costs (the answer to a hello, one round trip): a chain whose next step comes one
//! answer after this one needs [`depth`] connections under way to find one ready at every
//! step: one for direct TLS, two for IMAP's pipelined STARTTLS, three or four for SMTP.
//!
//! Kept bounded, because a connection dialled ahead and never used is still a connection
//! the server sees: only for a server the automatic cap found far away ([`super::cap`]);
//! only while probes are in flight (each is likely to be followed by another: the scan's
//! eliminations are chains of probes), at most `depth` warm connections per probe in flight
//! and [`MOST_AHEAD`] chains' worth in all ([`most_ahead`]); never with `--rate` or backoff
//! (fleet runs pace their connections); each closed after [`idle_time`] unused, and all of
//! them when the scan is over ([`super::Prober::close_warm`]). How many were dialled and used
//! is reported.

use super::connection::SlotHold;
use serde::{Deserialize, Serialize};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;
use tokio::net::TcpStream;

/// For how many chains of probes at once connections are kept under way: with direct TLS
/// ([`depth`] 1), at most this many warm connections ready or being dialled at once. About
/// what a scan's next round asks for at once (the refusals that end its enumerations, the
/// next step of each chain), so that after the first rounds its dependent steps pay one
/// round trip, not two.
pub const MOST_AHEAD: usize = 8;

/// The deepest pipeline of one chain, however slow the upgrade (a server that takes seconds
/// over its greeting is better met by a cold connection now and then than by a crowd).
pub const DEEPEST: usize = 4;

/// How many connections a scan dials ahead at its start for a server that may be far
/// ([`super::Prober::stock_up`]): about what a modern server's second round asks for at once
/// (bench server c, TLS 1.3 only: 21; the Mozilla-intermediate one: 17), so that round pays
/// its hellos' round trip and not a TCP handshake more. The first round's probes still
/// waiting for a slot then (beyond the opening cap) get one each on top.
pub const OPENING_STOCK: usize = 24;

/// How long after its start a scan waits before dialling [`OPENING_STOCK`]: a server that
/// answered by then is close by (half of [`super::cap::FAR_RTT`]), and its probes come too
/// fast for connections dialled ahead to matter.
pub const STOCK_AFTER: Duration = Duration::from_millis(10);

/// How many recent leads [`Leads`] keeps.
const LEADS_KEPT: usize = 8;

/// A connection dialled ahead, prelude done, holding its slot.
#[derive(Debug)]
pub(crate) struct WarmStream {
    pub(crate) stream: TcpStream,
    pub(crate) hold: SlotHold,
    /// One of the scan's opening stock ([`OPENING_STOCK`]).
    pub(crate) stock: bool,
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

/// How many connections one chain of probes needs under way (ready or being dialled) so
/// that each step finds one ready: a connection dialled when a probe takes its own must be
/// ready `depth` steps later, so `depth` answers (`answer`, a round trip) must cover its
/// `lead` (connect and prelude). Without a prelude, 1 (the TCP handshake is one round trip,
/// as is the answer); with one, ⌈lead / answer⌉ within 1..=[`DEEPEST`], and 1 until both
/// are measured.
pub fn depth(prelude: bool, lead: Option<Duration>, answer: Option<Duration>) -> usize {
    let (Some(lead), Some(answer), true) = (lead, answer, prelude) else {
        return 1;
    };
    if answer.is_zero() {
        return DEEPEST;
    }
    let steps = lead.as_nanos().div_ceil(answer.as_nanos());
    usize::try_from(steps).map_or(DEEPEST, |s| s.clamp(1, DEEPEST))
}

/// At most this many warm connections at once for chains `depth` deep: [`MOST_AHEAD`]
/// chains' worth (direct TLS 8, IMAP's one-round upgrade 16, SMTP 32), so that a STARTTLS
/// scan keeps as many chains fed as the same scan with direct TLS. The connection cap bounds
/// it further (32 for a far server).
pub fn most_ahead(depth: usize) -> usize {
    MOST_AHEAD * depth.clamp(1, DEEPEST)
}

/// Whether one more connection should be dialled ahead, given the slots `held` (warm ones
/// included), the warm connections `idle` and those `dialling`, for chains `depth` deep:
/// `depth` per probe in flight, [`most_ahead`] in all.
pub fn wanted(held: usize, idle: usize, dialling: usize, depth: usize) -> bool {
    let in_flight = held.saturating_sub(idle + dialling);
    let depth = depth.max(1);
    idle + dialling < most_ahead(depth).min(depth * in_flight)
}

/// The leads of an address's last connections: from the dial to a connection ready for its
/// hello (connect and prelude).
#[derive(Debug, Default)]
pub(crate) struct Leads {
    recent: std::collections::VecDeque<Duration>,
}

impl Leads {
    pub(crate) fn record(&mut self, lead: Duration) {
        if self.recent.len() == LEADS_KEPT {
            self.recent.pop_front();
        }
        self.recent.push_back(lead);
    }

    /// The median of the recent leads (the upper one of an even count): a busy moment or a
    /// first dialogue longer than the later pipelined ones moves it little.
    pub(crate) fn typical(&self) -> Option<Duration> {
        let mut v: Vec<Duration> = self.recent.iter().copied().collect();
        v.sort();
        v.get(v.len() / 2).copied()
    }
}

/// The warm connections of one server, counted.
#[derive(Debug, Default)]
pub(crate) struct WarmTally {
    pub(crate) dialled: AtomicUsize,
    pub(crate) used: AtomicUsize,
    /// Of `dialled`, the opening stock ([`OPENING_STOCK`]).
    pub(crate) stock_dialled: AtomicUsize,
    /// Whether the stock was asked for (it is dialled once per server at most).
    pub(crate) stock_asked: AtomicBool,
    /// Opening-stock connections being dialled or waiting: while any is, nothing more is
    /// dialled ahead (the stock is what the next probes take).
    pub(crate) stock_left: AtomicUsize,
    /// No more dialling ahead (the scan is over, or a dial ahead failed).
    pub(crate) off: AtomicBool,
    /// How long this address's connections took to be ready for their hello.
    pub(crate) leads: std::sync::Mutex<Leads>,
}

/// What `--json` says about the warm connections of a server.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WarmReport {
    /// Connections dialled ahead (each counted among the server's connections).
    pub dialled: usize,
    /// Those a probe then used; the rest were closed unused.
    pub used: usize,
    /// Of `dialled`, those dialled at the scan's start, before its first answers
    /// ([`OPENING_STOCK`]).
    #[serde(default)]
    pub opening_stock: usize,
}

impl WarmTally {
    pub(crate) fn lead(&self, lead: Duration) {
        if let Ok(mut l) = self.leads.lock() {
            l.record(lead);
        }
    }

    pub(crate) fn typical_lead(&self) -> Option<Duration> {
        self.leads.lock().ok().and_then(|l| l.typical())
    }

    pub(crate) fn report(&self) -> WarmReport {
        WarmReport {
            dialled: self.dialled.load(Ordering::Relaxed),
            used: self.used.load(Ordering::Relaxed),
            opening_stock: self.stock_dialled.load(Ordering::Relaxed),
        }
    }

    /// An opening-stock connection was taken, failed or expired.
    pub(crate) fn stock_gone(&self) {
        let _ = self
            .stock_left
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| n.checked_sub(1));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn warm_connections_follow_the_probes_in_flight() {
        // Direct TLS (depth 1). Nothing in flight: nothing ahead (the scan may be over).
        assert!(!wanted(0, 0, 0, 1));
        // One probe in flight: one ahead, and no second.
        assert!(wanted(1, 0, 0, 1));
        assert!(!wanted(2, 0, 1, 1));
        assert!(!wanted(2, 1, 0, 1));
        // Many in flight: at most MOST_AHEAD.
        assert!(wanted(30, 1, 0, 1));
        assert!(wanted(30, 1, MOST_AHEAD - 2, 1));
        assert!(!wanted(30, 1, MOST_AHEAD - 1, 1));
        assert!(!wanted(30, MOST_AHEAD, 0, 1));
        // Depth 0 is taken for 1.
        assert_eq!(wanted(2, 1, 0, 0), wanted(2, 1, 0, 1));
    }

    #[test]
    fn a_slower_upgrade_keeps_more_under_way_per_probe_and_in_all() {
        // Depth 3 (SMTP): one probe in flight keeps three under way...
        assert!(wanted(3, 1, 1, 3));
        assert!(!wanted(4, 2, 1, 3));
        // ... two keep six, and no more than most_ahead however many are in flight.
        assert!(wanted(7, 3, 2, 3));
        assert!(!wanted(8, 4, 2, 3));
        assert!(wanted(60, 16, 7, 3));
        assert!(!wanted(60, 16, 8, 3));
        assert_eq!(most_ahead(3), 3 * MOST_AHEAD);
        // Depth 4 (SMTP): four connections per chain, as many chains as direct TLS.
        assert!(wanted(40, 20, 11, 4));
        assert!(!wanted(60, 20, 12, 4));
        assert_eq!(most_ahead(4), 4 * MOST_AHEAD);
        assert_eq!(most_ahead(9), most_ahead(DEEPEST));
        assert_eq!(most_ahead(1), MOST_AHEAD);
        assert_eq!(most_ahead(2), 2 * MOST_AHEAD);
    }

    #[test]
    fn the_depth_covers_the_lead_in_answers() {
        let ms = Duration::from_millis;
        // Direct TLS: one, whatever was measured.
        assert_eq!(depth(false, Some(ms(900)), Some(ms(50))), 1);
        // Nothing measured yet: one.
        assert_eq!(depth(true, None, Some(ms(50))), 1);
        assert_eq!(depth(true, Some(ms(100)), None), 1);
        // IMAP's pipelined upgrade: connect and go-ahead, two round trips.
        assert_eq!(depth(true, Some(ms(100)), Some(ms(50))), 2);
        // SMTP: the greeting, then EHLO and STARTTLS: a little over three.
        assert_eq!(depth(true, Some(ms(160)), Some(ms(50))), 4);
        assert_eq!(depth(true, Some(ms(150)), Some(ms(50))), 3);
        // A prelude quicker than an answer: one. A very slow one: DEEPEST.
        assert_eq!(depth(true, Some(ms(10)), Some(ms(50))), 1);
        assert_eq!(depth(true, Some(ms(5000)), Some(ms(50))), DEEPEST);
        assert_eq!(depth(true, Some(ms(5)), Some(Duration::ZERO)), DEEPEST);
    }

    #[test]
    fn the_typical_lead_is_the_median_of_the_recent_ones() {
        let ms = Duration::from_millis;
        let mut l = Leads::default();
        assert_eq!(l.typical(), None);
        l.record(ms(300));
        assert_eq!(l.typical(), Some(ms(300)));
        // A first full dialogue, then pipelined ones: the pipelined lead soon prevails.
        l.record(ms(160));
        l.record(ms(150));
        assert_eq!(l.typical(), Some(ms(160)));
        for _ in 0..LEADS_KEPT {
            l.record(ms(155));
        }
        assert_eq!(l.typical(), Some(ms(155)));
        // A busy moment moves it little.
        l.record(ms(2000));
        assert_eq!(l.typical(), Some(ms(155)));
    }

    /// Ticks per answer in [`run_chains`].
    const ANSWER: u64 = 10;

    #[derive(Clone, Copy, PartialEq)]
    enum Chain {
        Asking,
        Busy(u64),
        Done,
    }

    /// Chains of probes against the policy in virtual time, without sockets, the way the
    /// slots serve them: `chains` chains of `steps` probes start together; a probe holds its
    /// connection for one answer ([`ANSWER`] ticks) and its chain's next probe asks at once.
    /// A probe takes a warm connection when one is ready, waits for one being dialled when
    /// more are coming than earlier waiters will take, and dials its own otherwise; a
    /// connection is ready for its hello `lead` ticks after its dial. Whenever a probe gets
    /// its connection, connections are dialled ahead as [`wanted`] says, within `cap`;
    /// parked ones close after six answers. Returns (ticks until the last answer, dialled
    /// ahead, used).
    fn run_chains(
        chains: usize,
        steps: usize,
        lead: u64,
        depth: usize,
        cap: usize,
    ) -> (u64, usize, usize) {
        let mut state = vec![Chain::Asking; chains];
        let mut left = vec![steps; chains];
        let mut idle: Vec<u64> = Vec::new();
        let mut dialling: Vec<u64> = Vec::new();
        let (mut dialled, mut used, mut now) = (0, 0, 0);
        let busy = |s: &[Chain]| s.iter().filter(|c| matches!(c, Chain::Busy(_))).count();
        loop {
            dialling.retain(|&ready| {
                if ready <= now {
                    idle.push(now);
                }
                ready > now
            });
            idle.retain(|&since| now - since < 6 * ANSWER);
            for (c, l) in state.iter_mut().zip(left.iter_mut()) {
                if matches!(*c, Chain::Busy(until) if until <= now) {
                    *l -= 1;
                    *c = if *l == 0 { Chain::Done } else { Chain::Asking };
                }
            }
            if state.iter().all(|c| *c == Chain::Done) {
                return (now, dialled, used);
            }
            let mut promised = 0;
            for i in 0..chains {
                if state[i] != Chain::Asking {
                    continue;
                }
                if !idle.is_empty() {
                    idle.remove(0);
                    used += 1;
                    state[i] = Chain::Busy(now + ANSWER);
                } else if dialling.len() > promised {
                    promised += 1;
                    continue;
                } else if busy(&state) + idle.len() + dialling.len() < cap {
                    state[i] = Chain::Busy(now + lead + ANSWER);
                } else {
                    continue;
                }
                loop {
                    let held = busy(&state) + idle.len() + dialling.len();
                    if held >= cap || !wanted(held, idle.len(), dialling.len(), depth) {
                        break;
                    }
                    dialling.push(now + lead);
                    dialled += 1;
                }
            }
            now += 1;
        }
    }

    /// The depth for a lead of `lead` ticks.
    fn depth_for(lead: u64) -> usize {
        let tick = Duration::from_millis(5);
        depth(true, Some(tick * lead as u32), Some(tick * ANSWER as u32))
    }

    #[test]
    fn a_chain_finds_a_connection_ready_at_every_step_once_under_way() {
        // Direct TLS (lead one answer), IMAP (two), SMTP (a little over three): after the
        // first, cold, step, every step costs one answer, at most a tick more.
        for lead in [ANSWER, 2 * ANSWER, 32] {
            let d = if lead == ANSWER { 1 } else { depth_for(lead) };
            let (took, dialled, used) = run_chains(1, 20, lead, d, 32);
            assert!(
                took <= lead + ANSWER + 19 * (ANSWER + 1),
                "lead {lead}: {took}"
            );
            // What was dialled ahead and not used is the pipeline left when the chain ends.
            assert!(
                dialled - used <= d,
                "lead {lead}: {dialled} dialled, {used} used"
            );
        }
        // One connection ahead for IMAP's lead leaves each step waiting a round trip for it.
        let (shallow, _, _) = run_chains(1, 20, 2 * ANSWER, 1, 32);
        let (deep, _, _) = run_chains(1, 20, 2 * ANSWER, depth_for(2 * ANSWER), 32);
        assert!(shallow >= 19 * 2 * ANSWER, "{shallow}");
        assert!(deep * 3 < shallow * 2, "{deep} vs {shallow}");
    }

    #[test]
    fn parallel_chains_through_an_upgrade_cost_little_more_than_direct_tls() {
        // Four chains of 12 steps under the raised cap: an upgrade of one more round trip
        // (IMAP) or two more (SMTP) stays within 1.6 times direct TLS's time, and the
        // connections dialled and not used stay within the pipeline's bound. (Short chains
        // pay the upgrade's first, cold, steps in full, which direct TLS, fed eight ahead,
        // hardly does: 200 ticks against 130 for IMAP here. The whole scans measured in
        // bench/starttls.sh at RTT 50 are within 1.25-1.34 times direct TLS.)
        let (direct, d_dialled, d_used) = run_chains(4, 12, ANSWER, 1, 32);
        for lead in [2 * ANSWER, 32] {
            let d = depth_for(lead);
            let (took, dialled, used) = run_chains(4, 12, lead, d, 32);
            assert!(
                took * 5 <= direct * 8,
                "lead {lead}: {took} vs direct {direct}"
            );
            // One connection ahead per chain would leave every step waiting for its upgrade.
            let (shallow, _, _) = run_chains(4, 12, lead, 1, 32);
            assert!(
                took * 10 < shallow * 9,
                "lead {lead}: {took} vs shallow {shallow}"
            );
            assert!(
                dialled - used <= most_ahead(d),
                "{dialled} dialled, {used} used"
            );
        }
        assert!(d_dialled - d_used <= MOST_AHEAD);
        // A cap of one leaves no slot to dial ahead in: every step cold, one at a time.
        let (serial, dialled, _) = run_chains(4, 12, 2 * ANSWER, 2, 1);
        assert_eq!((serial, dialled), (4 * 12 * 3 * ANSWER, 0));
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
