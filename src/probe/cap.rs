//! The per-server connection cap when the user gave none (`--max-connections auto`, the
//! default): today's cap of [`super::DEFAULT_MAX_CONNECTIONS`] for a server close by, a higher
//! one for a server far away, and [`OPENING_MAX_CONNECTIONS`] while the first answers, which
//! tell the two apart, are awaited. At Internet round-trip times a scan costs round trips, and a
//! cap of 10 makes even a modern server's few dozen probes queue for slots; on loopback or a
//! LAN the slots are never the bottleneck, so nothing changes there.
//!
//! The policy is plain data fed with what the prober sees, so it is tested without sockets:
//! the round trip of the first answers (from the first byte sent to the first byte back,
//! which also holds through a forwarder that completes the TCP connect at once), and every
//! connection the server refused, reset or let time out.

use serde::{Deserialize, Serialize};
use std::time::Duration;

/// The cap for a server whose first answers took at least [`FAR_RTT`]. A probe holds its
/// connection for about two round trips (connect, hello and answer), so a far server is
/// asked at most this many probes per two round trips: at 64, the ~165 probes of a
/// legacy server with 91 suites (bench server b) fit in three such waves after the
/// versions, where 32 needed six (0.70 s against 0.50 s at RTT 50 ms).
pub const FAR_MAX_CONNECTIONS: usize = 64;

/// The cap of an automatic policy that may still find the server far, before the
/// [`DECIDING_ANSWERS`] come: the first round's probes that need no answer (the versions,
/// TLS 1.3's groups one by one, TLS 1.2's curves, resumption's first handshake; about 22)
/// go at once instead of a round later. A server near by answers within milliseconds and
/// has the starting cap back then, with a few more connections in flight at the start
/// than it allows for the rest of the run.
pub const OPENING_MAX_CONNECTIONS: usize = 24;

/// A round trip at least this long marks a server as far away.
pub const FAR_RTT: Duration = Duration::from_millis(20);

/// How many answers decide: the shortest of them must be [`FAR_RTT`] or more. One slow answer
/// (a busy machine, a server signing with a large key) does not make a loopback server far;
/// a scan's first wave (the version probes) has about this many.
pub const DECIDING_ANSWERS: usize = 6;

/// A server found far away whose answers then come this many times its shortest round trip,
/// and [`SERIAL_MARGIN`] or more later than it, twice ([`SERIAL_ANSWERS`]), is taken for
/// one that serves a connection at a time (`openssl s_server`, small devices): the raised
/// cap only queues probes behind each other there, and a connection dialled ahead holds the
/// server until it is used. A far server that serves connections at once answers each
/// probe about a round trip after its hello whatever the cap.
pub const SERIAL_FACTOR: u32 = 6;

/// See [`SERIAL_FACTOR`]: a slow answer or two (a large key's signature, a busy moment) is
/// far below this.
pub const SERIAL_MARGIN: Duration = Duration::from_millis(300);

/// See [`SERIAL_FACTOR`].
pub const SERIAL_ANSWERS: usize = 2;

/// How the cap was chosen, as `--json` reports it per server.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CapMode {
    /// `--max-connections N`: a hard cap.
    Fixed,
    /// No `--max-connections`: adapted to the server's round trip.
    Auto,
}

/// Where an automatic cap stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CapState {
    /// Fewer than [`DECIDING_ANSWERS`] answers so far: [`OPENING_MAX_CONNECTIONS`].
    Measuring,
    /// The server is close by: the starting cap for the rest of the run.
    Near,
    /// The server is far away: the raised cap.
    Far,
    /// A connection was refused, reset or timed out: the starting cap for the rest of the run.
    FellBack,
    /// Found far, then answers came as if the server serves one connection at a time
    /// ([`SERIAL_FACTOR`]): the starting cap for the rest of the run.
    Serial,
}

/// The cap of one server and how it came about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CapPolicy {
    mode: CapMode,
    base: usize,
    /// The cap while measuring (the base when the server cannot be found far).
    opening: usize,
    far: usize,
    state: CapState,
    answers: usize,
    shortest: Option<Duration>,
    /// Answers since the server was found far that came as a serial server's do.
    queued: usize,
    highest: usize,
}

/// What `--json` says about a server's cap.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CapReport {
    pub mode: CapMode,
    /// The highest number of connections allowed at once during the run.
    pub max: usize,
    /// Why (automatic caps only): near, far, fell_back, or measuring when the run ended
    /// before enough answers came.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<CapState>,
}

impl CapPolicy {
    /// A hard cap of `n`.
    pub fn fixed(n: usize) -> Self {
        Self::new(CapMode::Fixed, n, n)
    }

    /// Start at [`OPENING_MAX_CONNECTIONS`] (at most `far`), then `far` for a server far
    /// away and `base` for one close by.
    pub fn auto(base: usize, far: usize) -> Self {
        let mut p = Self::new(CapMode::Auto, base, far.max(base));
        p.opening = OPENING_MAX_CONNECTIONS.min(p.far).max(p.base);
        p.highest = p.opening;
        p
    }

    /// The automatic cap of a server known to be near (a loopback address): `base` for good.
    pub fn auto_near(base: usize) -> Self {
        let mut p = Self::new(CapMode::Auto, base, base);
        p.state = CapState::Near;
        p
    }

    fn new(mode: CapMode, base: usize, far: usize) -> Self {
        let base = base.max(1);
        CapPolicy {
            mode,
            base,
            opening: base,
            far,
            state: CapState::Measuring,
            answers: 0,
            shortest: None,
            queued: 0,
            highest: base,
        }
    }

    /// The cap in force now.
    pub fn limit(&self) -> usize {
        match (self.mode, self.state) {
            (CapMode::Auto, CapState::Far) => self.far,
            (CapMode::Auto, CapState::Measuring) => self.opening,
            _ => self.base,
        }
    }

    pub fn mode(&self) -> CapMode {
        self.mode
    }

    pub fn state(&self) -> CapState {
        self.state
    }

    /// Whether the server was found far away and nothing failed since.
    pub fn is_far(&self) -> bool {
        self.mode == CapMode::Auto && self.state == CapState::Far
    }

    /// Whether the server may still be found far away, or was: an automatic cap that is
    /// measuring, or found it far (what a probe started before the first answers goes by).
    pub fn may_be_far(&self) -> bool {
        self.mode == CapMode::Auto && matches!(self.state, CapState::Measuring | CapState::Far)
    }

    /// The shortest round trip measured among the deciding answers.
    pub fn shortest(&self) -> Option<Duration> {
        self.shortest
    }

    /// An answer came `rtt` after the first byte was sent. Returns the new cap when it
    /// changed.
    pub fn answered(&mut self, rtt: Duration) -> Option<usize> {
        if self.state == CapState::Far {
            return self.answered_far(rtt);
        }
        if self.state != CapState::Measuring {
            return None;
        }
        self.answers += 1;
        self.shortest = Some(self.shortest.map_or(rtt, |s| s.min(rtt)));
        if self.answers < DECIDING_ANSWERS {
            return None;
        }
        let before = self.limit();
        self.state = if self.shortest.is_some_and(|s| s >= FAR_RTT) {
            CapState::Far
        } else {
            CapState::Near
        };
        self.changed(before)
    }

    /// An answer after the server was found far: one that waited behind other connections
    /// at the server (see [`SERIAL_FACTOR`]) counts towards taking it for a serial one.
    fn answered_far(&mut self, rtt: Duration) -> Option<usize> {
        let shortest = self.shortest?;
        let late = rtt >= shortest.saturating_mul(SERIAL_FACTOR) && rtt >= shortest + SERIAL_MARGIN;
        if !late {
            return None;
        }
        self.queued += 1;
        if self.queued < SERIAL_ANSWERS {
            return None;
        }
        let before = self.limit();
        self.state = CapState::Serial;
        self.changed(before)
    }

    /// A connection was refused, reset or timed out: back to the starting cap for good.
    pub fn failed(&mut self) -> Option<usize> {
        let before = self.limit();
        self.state = CapState::FellBack;
        self.changed(before)
    }

    fn changed(&mut self, before: usize) -> Option<usize> {
        let now = self.limit();
        self.highest = self.highest.max(now);
        (now != before).then_some(now)
    }

    pub fn report(&self) -> CapReport {
        CapReport {
            mode: self.mode,
            max: self.highest,
            state: (self.mode == CapMode::Auto).then_some(self.state),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    #[test]
    fn a_far_server_gets_the_raised_cap_after_the_deciding_answers() {
        let mut p = CapPolicy::auto(10, 32);
        assert_eq!(p.limit(), OPENING_MAX_CONNECTIONS);
        for _ in 1..DECIDING_ANSWERS {
            assert_eq!(p.answered(ms(100)), None);
            assert_eq!(p.limit(), OPENING_MAX_CONNECTIONS);
        }
        assert_eq!(p.answered(ms(60)), Some(32));
        assert_eq!(
            (p.limit(), p.state(), p.is_far()),
            (32, CapState::Far, true)
        );
        assert_eq!(p.shortest(), Some(ms(60)));
        // Later answers change nothing.
        assert_eq!(p.answered(ms(1)), None);
        assert_eq!(p.limit(), 32);
        assert_eq!(
            p.report(),
            CapReport {
                mode: CapMode::Auto,
                max: 32,
                state: Some(CapState::Far)
            }
        );
    }

    #[test]
    fn one_quick_answer_keeps_a_server_near() {
        let mut p = CapPolicy::auto(10, 32);
        p.answered(ms(80));
        p.answered(ms(3));
        for _ in 3..DECIDING_ANSWERS {
            assert_eq!(p.answered(ms(95)), None);
        }
        // The deciding answer brings the opening cap down to the starting one.
        assert_eq!(p.answered(ms(95)), Some(10));
        assert_eq!((p.limit(), p.state()), (10, CapState::Near));
        // Near is final: slow answers later (a busy machine) do not raise it.
        for _ in 0..10 {
            assert_eq!(p.answered(ms(500)), None);
        }
        assert_eq!(p.limit(), 10);
        // The opening cap was in force until the deciding answers came.
        assert_eq!(p.report().max, OPENING_MAX_CONNECTIONS);
    }

    #[test]
    fn the_opening_cap_is_never_above_the_far_one_nor_below_the_base() {
        assert_eq!(CapPolicy::auto(10, 16).limit(), 16);
        assert_eq!(CapPolicy::auto(30, 64).limit(), 30);
        assert_eq!(CapPolicy::auto(10, 64).limit(), OPENING_MAX_CONNECTIONS);
        // A fixed cap and a server known near never open wider.
        assert_eq!(CapPolicy::fixed(10).limit(), 10);
        assert_eq!(CapPolicy::auto_near(10).limit(), 10);
        assert_eq!(CapPolicy::auto_near(10).report().max, 10);
    }

    #[test]
    fn the_threshold_is_inclusive() {
        let mut p = CapPolicy::auto(10, 32);
        for _ in 0..DECIDING_ANSWERS {
            p.answered(FAR_RTT);
        }
        assert!(p.is_far());
        let mut q = CapPolicy::auto(10, 32);
        for _ in 0..DECIDING_ANSWERS {
            q.answered(FAR_RTT - ms(1));
        }
        assert_eq!(q.state(), CapState::Near);
    }

    #[test]
    fn a_far_server_answering_one_connection_after_another_gets_the_starting_cap_back() {
        let mut p = CapPolicy::auto(10, 32);
        for _ in 0..DECIDING_ANSWERS {
            p.answered(ms(50));
        }
        assert_eq!(p.limit(), 32);
        // Slow answers below the factor or the margin are a far server's own.
        for slow in [ms(290), ms(340), ms(5000)] {
            let late = slow >= ms(50) * SERIAL_FACTOR && slow >= ms(50) + SERIAL_MARGIN;
            assert_eq!(late, slow == ms(5000), "{slow:?}");
        }
        assert_eq!(p.answered(ms(290)), None);
        assert_eq!(p.answered(ms(340)), None);
        // One answer queued behind others is not enough; the second decides.
        assert_eq!(p.answered(ms(400)), None);
        assert_eq!(p.limit(), 32);
        assert_eq!(p.answered(ms(900)), Some(10));
        assert_eq!((p.state(), p.is_far()), (CapState::Serial, false));
        assert_eq!(
            p.report(),
            CapReport {
                mode: CapMode::Auto,
                max: 32,
                state: Some(CapState::Serial)
            }
        );
        // For good.
        assert_eq!(p.answered(ms(50)), None);
        assert_eq!(p.limit(), 10);
        // A near server's slow answers change nothing.
        let mut q = CapPolicy::auto(10, 32);
        for _ in 0..DECIDING_ANSWERS {
            q.answered(ms(1));
        }
        for _ in 0..5 {
            assert_eq!(q.answered(ms(900)), None);
        }
        assert_eq!(q.state(), CapState::Near);
    }

    #[test]
    fn a_failure_falls_back_for_the_rest_of_the_run() {
        // Before the decision: the far answers that follow no longer raise it.
        let mut p = CapPolicy::auto(10, 32);
        p.answered(ms(100));
        assert_eq!(p.failed(), Some(10), "down from the opening cap");
        for _ in 0..DECIDING_ANSWERS {
            assert_eq!(p.answered(ms(100)), None);
        }
        assert_eq!((p.limit(), p.state()), (10, CapState::FellBack));
        assert_eq!(p.report().max, OPENING_MAX_CONNECTIONS);
        // After it: down from the raised cap, which the report still names as the highest.
        let mut q = CapPolicy::auto(10, 32);
        for _ in 0..DECIDING_ANSWERS {
            q.answered(ms(100));
        }
        assert_eq!(q.failed(), Some(10));
        assert_eq!(q.failed(), None);
        assert!(!q.is_far());
        assert_eq!(q.report().max, 32);
        assert_eq!(q.report().state, Some(CapState::FellBack));
    }

    #[test]
    fn a_server_known_near_stays_near_whatever_its_answers_take() {
        let mut p = CapPolicy::auto_near(10);
        for _ in 0..2 * DECIDING_ANSWERS {
            assert_eq!(p.answered(ms(80)), None);
        }
        assert_eq!(
            (p.limit(), p.state(), p.is_far()),
            (10, CapState::Near, false)
        );
        assert_eq!(p.report().state, Some(CapState::Near));
    }

    #[test]
    fn a_fixed_cap_never_moves() {
        let mut p = CapPolicy::fixed(5);
        for _ in 0..10 {
            assert_eq!(p.answered(ms(200)), None);
        }
        assert_eq!(p.failed(), None);
        assert_eq!(p.limit(), 5);
        assert!(!p.is_far());
        assert_eq!(
            p.report(),
            CapReport {
                mode: CapMode::Fixed,
                max: 5,
                state: None
            }
        );
        assert_eq!(CapPolicy::fixed(0).limit(), 1);
    }
}
