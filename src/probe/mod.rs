//! The probe engine: every connection tlsdoctor opens to a server goes through a [`Prober`].
//! It takes the per-server connection slot (a semaphore shared by all probes of that
//! server), counts the connection, connects under the connect deadline, runs the configured
//! [`Prelude`] (e.g. STARTTLS) and bounds the whole exchange and each read. On top of that:
//! raw probes (send a ClientHello, read the server's first flight) here, full rustls
//! handshakes in [`tls`]. Outcomes and errors are typed, never strings.

pub mod cap;
mod connection;
pub mod deadline;
mod held;
pub mod names;
mod outcome;
pub mod pace;
pub mod prelude;
pub mod priority;
mod slots;
pub mod tls;
mod violation;
pub mod warm;

pub use cap::{CapMode, CapPolicy, CapReport, CapState, FAR_MAX_CONNECTIONS};
pub use connection::{ConnectError, Connection, TimedStream};
use connection::{SlotHold, dial};
pub use deadline::{RunDeadline, default_budget};
pub use held::{Held, MAX_BULK_READ, MAX_STEP_READ, SlotGuard, Step};
pub use outcome::{OutcomeSummary, ProbeOutcome, ProbeResult};
pub use pace::{BackoffPolicy, BackoffTally, RateLimit};
pub use prelude::{Prelude, PreludeError};
pub use priority::Priority;
use slots::{Grant, Offered};
pub use tls::{HandshakeError, HandshakeFailure, TlsErrorClass, TlsSession};
pub use warm::WarmReport;
use warm::{WarmStream, WarmTally};

use crate::wire::{ClientHello, FlightProgress, ServerFlightParser, WireError};
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Default cap on simultaneous connections to one server: enough to make a scan fast, low
/// enough not to look like an attack or trip connection-rate limits.
pub const DEFAULT_MAX_CONNECTIONS: usize = 10;

/// Ceiling on what one probe buffers from a server before giving up (a first flight with a
/// long chain is a few tens of KiB).
const MAX_FLIGHT_BYTES: usize = 512 * 1024;

#[derive(Debug, Clone)]
pub struct ProbeConfig {
    /// TCP connect deadline.
    pub connect_timeout: Duration,
    /// Deadline for each read while waiting for more of the flight.
    pub read_timeout: Duration,
    /// Deadline for the whole probe, connect included.
    pub probe_timeout: Duration,
    /// Maximum simultaneous connections to one server (with `far_max_connections`: the
    /// starting cap).
    pub max_connections: usize,
    /// The automatic cap (`--max-connections auto`, see [`cap`]): raise the cap to this for a
    /// server whose first answers show it far away. None: `max_connections` is a hard cap.
    pub far_max_connections: Option<usize>,
    /// Whether a loopback address may be found far away. Off (the default), a server on
    /// 127.0.0.0/8 or ::1 is near whatever its answers take: its latency is its CPU (or this
    /// machine's load), which more connections would only make worse, and a scan's
    /// connection count stays the same from run to run. On for a forwarder on loopback that
    /// plays a distant server (bench/, the far-server tests; `TLSDOCTOR_LOOPBACK_IS_FAR=1`).
    pub loopback_may_be_far: bool,
    /// Under the automatic cap, for a far server: dial connections ahead while the scan runs
    /// ([`warm`]). Off: every probe dials its own.
    pub warm_connections: bool,
    /// Serve probes waiting for a slot by their [`Priority`] (off: in arrival order).
    pub priorities: bool,
    /// Run on every connection before TLS starts (none: TLS from the first byte).
    pub prelude: Option<Arc<dyn Prelude>>,
    /// The whole run's deadline, shared by every prober of the run (none: only the
    /// per-probe deadlines apply).
    pub run: Option<RunDeadline>,
    /// Where each opened connection is reported for a person watching (usually nobody).
    pub progress: crate::progress::Progress,
    /// New connections per second, shared by every prober of the process (`--rate`).
    pub rate: Option<Arc<RateLimit>>,
    /// Retry a connect that a server which accepted earlier connections refuses, and count
    /// it here (fleet runs; none: a refusal is final).
    pub backoff: Option<(BackoffPolicy, Arc<BackoffTally>)>,
}

impl Default for ProbeConfig {
    fn default() -> Self {
        ProbeConfig::with_timeout(Duration::from_secs(5))
    }
}

impl ProbeConfig {
    /// One user-facing `--timeout`: the whole-probe deadline; connect and read deadlines follow.
    pub fn with_timeout(timeout: Duration) -> Self {
        ProbeConfig {
            connect_timeout: timeout,
            read_timeout: timeout,
            probe_timeout: timeout,
            max_connections: DEFAULT_MAX_CONNECTIONS,
            far_max_connections: None,
            loopback_may_be_far: false,
            warm_connections: true,
            priorities: true,
            prelude: None,
            progress: crate::progress::Progress::none(),
            run: None,
            rate: None,
            backoff: None,
        }
    }
}

/// Probes one server address. Cheap to clone; clones share the connection cap and counters.
#[derive(Clone)]
pub struct Prober {
    addr: SocketAddr,
    cfg: Arc<ProbeConfig>,
    slots: Arc<slots::Slots>,
    /// How many slots there are (moves only under an automatic cap).
    cap: Arc<std::sync::Mutex<CapPolicy>>,
    /// The connections dialled ahead for this server.
    warm: Arc<WarmTally>,
    /// Every connection adds one to each tally; the last is this prober's own (see
    /// [`Prober::with_own_count`]), the first the server's total.
    tallies: Vec<Arc<Tally>>,
    /// Whether a connect to this server ever succeeded (backoff applies only then).
    accepted_once: Arc<AtomicBool>,
}

/// One tally of connections: how many were opened, and when each one was open (what the
/// scan's `rounds` are computed from).
#[derive(Debug, Default)]
pub(crate) struct Tally {
    opened: AtomicUsize,
    spans: std::sync::Mutex<Vec<Span>>,
}

/// When a connection took its slot, and when it gave it back (`None`: still open).
pub type Span = (tokio::time::Instant, Option<tokio::time::Instant>);

impl Prober {
    pub fn new(addr: SocketAddr, cfg: ProbeConfig) -> Self {
        let cap = match cfg.far_max_connections {
            Some(_) if addr.ip().is_loopback() && !cfg.loopback_may_be_far => {
                CapPolicy::auto_near(cfg.max_connections)
            }
            Some(far) => CapPolicy::auto(cfg.max_connections, far),
            None => CapPolicy::fixed(cfg.max_connections),
        };
        let slots = slots::Slots::new(cap.limit());
        Prober {
            addr,
            cfg: Arc::new(cfg),
            slots,
            cap: Arc::new(std::sync::Mutex::new(cap)),
            warm: Arc::new(WarmTally::default()),
            tallies: vec![Arc::new(Tally::default())],
            accepted_once: Arc::new(AtomicBool::new(false)),
        }
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    pub fn config(&self) -> &ProbeConfig {
        &self.cfg
    }

    /// How many TCP connections this prober (and its clones) opened so far.
    pub fn connections_opened(&self) -> usize {
        self.tallies
            .last()
            .map_or(0, |t| t.opened.load(Ordering::Relaxed))
    }

    /// When each connection counted by [`Prober::connections_opened`] was open.
    pub fn spans(&self) -> Vec<Span> {
        self.tallies
            .last()
            .and_then(|t| t.spans.lock().ok().map(|s| s.clone()))
            .unwrap_or_default()
    }

    /// A prober for the same server (same slots; its connections still count towards this
    /// one's) whose [`Prober::connections_opened`] counts only what goes through it: how one
    /// part of a check reports its own connections while other parts run alongside.
    pub fn with_own_count(&self) -> Prober {
        let mut p = self.clone();
        p.tallies.push(Arc::new(Tally::default()));
        p
    }

    /// A connection slot under the per-server cap; for a connection that will carry TLS, a
    /// warm one when one is ready (a warm connection the server has closed meanwhile is
    /// dropped and the next one taken).
    async fn slot(&self, tls_next: bool) -> Grant {
        let priority = match self.cfg.priorities {
            true => Priority::current(),
            false => Priority::default(),
        };
        loop {
            match self.slots.acquire(tls_next, priority).await {
                Grant::Warm(w) if !warm::alive(&w.stream) => {
                    if w.stock {
                        self.warm.stock_gone();
                    }
                }
                grant => return grant,
            }
        }
    }

    /// How many connections were dialled ahead for this server and how many were used.
    pub fn warm_report(&self) -> WarmReport {
        self.warm.report()
    }

    /// No more dialling ahead for this server, and the warm connections still waiting are
    /// closed: when the work on the server is over, or the server turned out to serve one
    /// connection at a time.
    pub fn close_warm(&self) {
        self.warm.off.store(true, Ordering::Relaxed);
        drop(self.slots.drain_idle());
    }

    /// Whether connections may be dialled ahead at all: on, unpaced, not backing off, not
    /// switched off, and before the run's deadline.
    fn may_dial_ahead(&self) -> bool {
        self.cfg.warm_connections
            && self.cfg.rate.is_none()
            && self.cfg.backoff.is_none()
            && !self.warm.off.load(Ordering::Relaxed)
            && !self.cfg.run.as_ref().is_some_and(RunDeadline::has_passed)
    }

    fn warm_allowed(&self) -> bool {
        self.may_dial_ahead() && self.with_cap(|c| c.is_far())
    }

    /// How many connections one chain of probes to this server needs under way
    /// ([`warm::depth`]): from the leads measured so far and the answers' round trip.
    fn warm_depth(&self) -> usize {
        warm::depth(
            self.cfg.prelude.is_some(),
            self.warm.typical_lead(),
            self.with_cap(|c| c.shortest()),
        )
    }

    /// At the start of a scan: unless the server answers within [`warm::STOCK_AFTER`], dial
    /// `n` connections ahead ([`warm::OPENING_STOCK`]), beyond the opening cap, and one more
    /// for each probe then still waiting for a slot. A server far
    /// away answers the first round's probes a TCP handshake and a round trip later, and the
    /// second round, which needs those answers, then finds connections ready instead of
    /// paying one more handshake; a server close by never sees them. Only under an automatic
    /// cap still measuring, without `--rate` or backoff, and only once per prober; not through
    /// a prelude either: a STARTTLS server's first connections each run the full dialogue
    /// (no pipelined shortcut learned yet), and a stock of them made bench/starttls.sh's IMAP
    /// scan at RTT 50 ms slower (1.03 s -> 1.42 s), while its chains are fed ahead by the
    /// upgrade's depth anyway.
    pub fn stock_up(&self, n: usize) {
        if self.cfg.prelude.is_some() || self.warm.stock_asked.swap(true, Ordering::Relaxed) {
            return;
        }
        let p = self.clone();
        tokio::spawn(async move {
            tokio::time::sleep(warm::STOCK_AFTER).await;
            let measuring = p.with_cap(|c| {
                c.may_be_far()
                    && c.state() == CapState::Measuring
                    && c.shortest().is_none_or(|s| s >= cap::FAR_RTT)
            });
            if !measuring || !p.may_dial_ahead() {
                return;
            }
            // The first round's probes still waiting for a slot take the first ones.
            let n = n + p.slots.waiting_for_tls();
            p.warm.stock_left.fetch_add(n, Ordering::Relaxed);
            for permit in p.slots.reserve_beyond(n) {
                p.warm.stock_dialled.fetch_add(1, Ordering::Relaxed);
                tokio::spawn(p.clone().dial_warm(permit, true));
            }
        });
    }

    /// A probe has its connection: dial ahead for the ones likely to follow, as
    /// [`warm::wanted`] says, in slots nobody waits for (none while the opening stock lasts).
    fn dial_ahead(&self) {
        if !self.warm_allowed() || self.warm.stock_left.load(Ordering::Relaxed) > 0 {
            return;
        }
        let depth = self.warm_depth();
        let wanted = |held, idle, dialling| warm::wanted(held, idle, dialling, depth);
        while let Some(permit) = self.slots.reserve_ahead(wanted) {
            let p = self.clone();
            tokio::spawn(async move { p.dial_warm(permit, false).await });
        }
    }

    /// Dial one connection ahead in `permit`'s slot (counted now, as the server counts it),
    /// run the prelude, and hand it to a waiting probe or park it for [`warm::idle_time`].
    async fn dial_warm(self, permit: slots::Permit, stock: bool) {
        let hold = self.hold(permit);
        self.warm.dialled.fetch_add(1, Ordering::Relaxed);
        let ready = self.warm_up().await;
        let stream = match ready {
            Some(stream) if !self.warm.off.load(Ordering::Relaxed) => stream,
            other => {
                if stock {
                    self.warm.stock_gone();
                }
                // Whatever went wrong, the probes' own connections will meet it and report
                // it. A probe waiting for this one gets its slot instead.
                if other.is_none() {
                    self.warm.off.store(true, Ordering::Relaxed);
                }
                self.slots.abandon();
                return;
            }
        };
        let warm = WarmStream {
            stream,
            hold,
            stock,
        };
        if let Offered::Parked(id) = self.slots.offer(warm) {
            tokio::time::sleep(warm::idle_time(self.with_cap(|c| c.shortest()))).await;
            if self.slots.expire(id).is_some_and(|w| w.stock) {
                self.warm.stock_gone();
            }
        }
    }

    /// A connection ready for TLS, under the whole-probe deadline (and the run's).
    async fn warm_up(&self) -> Option<TcpStream> {
        let now = tokio::time::Instant::now();
        let mut deadline = now + self.cfg.probe_timeout;
        if let Some(r) = &self.cfg.run {
            deadline = deadline.min(r.at());
        }
        let connect_timeout = self.cfg.connect_timeout.min(deadline - now);
        let dialled_at = tokio::time::Instant::now();
        let mut stream = match dial(self.addr, connect_timeout).await {
            Ok(s) => s,
            Err(e) => {
                if turned_away(&e) {
                    self.connection_failed();
                }
                return None;
            }
        };
        if let Some(prelude) = &self.cfg.prelude {
            match tokio::time::timeout_at(deadline, prelude.run(&mut stream, deadline)).await {
                Ok(Ok(())) => self.warm.lead(dialled_at.elapsed()),
                _ => return None,
            }
        }
        Some(stream)
    }

    /// A probe takes the warm connection `w`: its deadlines start now.
    fn take_warm(&self, w: WarmStream) -> Connection {
        self.warm.used.fetch_add(1, Ordering::Relaxed);
        if w.stock {
            self.warm.stock_gone();
        }
        w.hold.start_now();
        let now = tokio::time::Instant::now();
        let own = now + self.cfg.probe_timeout;
        let run_cut = self.cfg.run.as_ref().filter(|r| r.at() < own).cloned();
        let deadline = run_cut.as_ref().map_or(own, |r| r.at());
        self.dial_ahead();
        Connection {
            stream: w.stream,
            deadline,
            run_cut,
            _slot: Some(w.hold),
        }
    }

    /// Whether the automatic cap found this server far away: round trips, not connections,
    /// are then what a scan spends most.
    pub fn is_far(&self) -> bool {
        self.with_cap(|c| c.is_far())
    }

    /// Whether the automatic cap may yet find this server far away, or did.
    pub fn may_be_far(&self) -> bool {
        self.with_cap(|c| c.may_be_far())
    }

    /// The server's connection cap and how it was chosen (what `--json` reports).
    pub fn cap_report(&self) -> CapReport {
        self.with_cap(|c| c.report())
    }

    fn with_cap<T>(&self, f: impl FnOnce(&mut CapPolicy) -> T) -> T {
        f(&mut self.cap.lock().unwrap_or_else(|e| e.into_inner()))
    }

    /// The server answered `rtt` after the first byte of a hello was sent.
    fn answered_after(&self, rtt: Duration) {
        let Some(limit) = self.with_cap(|c| c.answered(rtt)) else {
            return;
        };
        self.slots.set_limit(limit);
        if self.with_cap(|c| c.state()) == CapState::Serial {
            // A server serving one connection at a time would wait on each parked
            // connection's hello before it reads the next probe's: close them.
            self.close_warm();
        }
    }

    /// A connection to the server was refused, reset or timed out.
    fn connection_failed(&self) {
        if let Some(limit) = self.with_cap(CapPolicy::failed) {
            self.slots.set_limit(limit);
        }
    }

    /// Count a connection (or a retried connect) in every tally.
    fn count(&self) {
        for t in &self.tallies {
            t.opened.fetch_add(1, Ordering::Relaxed);
        }
        self.cfg.progress.connection_opened();
    }

    /// Count a connection in every tally, its span opening now; the span closes when the
    /// returned hold (and with it the slot) is dropped.
    fn hold(&self, permit: slots::Permit) -> SlotHold {
        self.count();
        let now = tokio::time::Instant::now();
        let spans = self
            .tallies
            .iter()
            .map(|t| {
                let i = t.spans.lock().map_or(usize::MAX, |mut s| {
                    s.push((now, None));
                    s.len() - 1
                });
                (t.clone(), i)
            })
            .collect();
        SlotHold {
            _permit: permit,
            spans,
        }
    }

    /// A connection ready for TLS: slot taken, counted, connected under the connect
    /// deadline, prelude run. Its deadline is the whole-probe deadline from now.
    pub async fn open(&self) -> Result<Connection, ConnectError> {
        self.open_inner(true).await
    }

    /// A counted connection under the same slot and deadlines, without the prelude: for
    /// plaintext exchanges with the server itself (its own protocol's greeting, an HTTP
    /// fetch from an OCSP or AIA URL that points at it).
    pub async fn open_plaintext(&self) -> Result<Connection, ConnectError> {
        self.open_inner(false).await
    }

    async fn open_inner(&self, tls_next: bool) -> Result<Connection, ConnectError> {
        let run = self.cfg.run.as_ref();
        let grant = match run {
            None => self.slot(tls_next).await,
            Some(r) => match tokio::time::timeout_at(r.at(), self.slot(tls_next)).await {
                Ok(grant) if !r.has_passed() => grant,
                _ => {
                    r.mark_reached();
                    return Err(ConnectError::Deadline);
                }
            },
        };
        let slot = match grant {
            Grant::Warm(w) => return Ok(self.take_warm(w)),
            Grant::Slot(permit) => permit,
        };
        if let Some(rate) = &self.cfg.rate {
            let at = rate.reserve();
            if run.is_some_and(|r| at >= r.at()) {
                run.map(RunDeadline::mark_reached);
                return Err(ConnectError::Deadline);
            }
            tokio::time::sleep_until(at).await;
        }
        let now = tokio::time::Instant::now();
        let own = now + self.cfg.probe_timeout;
        // A probe that would outlast the run is cut at the run's deadline.
        let run_cut = run.filter(|r| r.at() < own).cloned();
        let deadline = run_cut.as_ref().map_or(own, |r| r.at());
        let slot = self.hold(slot);
        // The probes that follow this one come once it is answered, a lead and a round trip
        // from now: connections dialled ahead now are ready for them, those dialled once
        // this one is ready would be a lead late.
        if tls_next {
            self.dial_ahead();
        }
        let connect_timeout = self
            .cfg
            .connect_timeout
            .min(self.cfg.probe_timeout)
            .min(deadline - now);
        let dialled_at = tokio::time::Instant::now();
        let mut stream = match self.dial_with_backoff(connect_timeout, deadline).await {
            Err(ConnectError::Timeout { .. })
                if run_cut.as_ref().is_some_and(|r| r.has_passed()) =>
            {
                run_cut.as_ref().map(RunDeadline::mark_reached);
                return Err(ConnectError::Deadline);
            }
            Err(e) => {
                if turned_away(&e) {
                    self.connection_failed();
                }
                return Err(e);
            }
            Ok(s) => s,
        };
        if let Some(prelude) = self.cfg.prelude.as_ref().filter(|_| tls_next) {
            let failed = |error| ConnectError::Prelude {
                prelude: prelude.name().to_string(),
                error,
            };
            let mut retried = false;
            loop {
                match tokio::time::timeout_at(deadline, prelude.run(&mut stream, deadline)).await {
                    Err(_) if run_cut.is_some() => {
                        run_cut.as_ref().map(RunDeadline::mark_reached);
                        return Err(ConnectError::Deadline);
                    }
                    Err(_) => {
                        self.connection_failed();
                        return Err(failed(PreludeError::Timeout));
                    }
                    // The prelude's shortcut (a pipelined dialogue it learned on an earlier
                    // connection) failed and is now off: once, a fresh connection for its
                    // full dialogue, so the shortcut never decides a result.
                    Ok(Err(PreludeError::Shortcut { .. })) if !retried => {
                        retried = true;
                        if let Some(rate) = &self.cfg.rate {
                            tokio::time::sleep_until(rate.reserve().min(deadline)).await;
                        }
                        self.count();
                        let left = deadline.saturating_duration_since(tokio::time::Instant::now());
                        stream = dial(self.addr, connect_timeout.min(left)).await?;
                    }
                    Ok(Err(e)) => return Err(failed(e)),
                    // What a connection costs before its hello, for the dial-ahead depth
                    // (a retried one, two dials, would overstate it).
                    Ok(Ok(())) if !retried => {
                        self.warm.lead(dialled_at.elapsed());
                        break;
                    }
                    Ok(Ok(())) => break,
                }
            }
        }
        if tls_next {
            // Topped up: warm connections may have been taken or closed meanwhile.
            self.dial_ahead();
        }
        Ok(Connection {
            stream,
            deadline,
            run_cut,
            _slot: Some(slot),
        })
    }

    /// Connect; when the server refuses although it accepted before and backoff is on,
    /// wait and retry (each retry paced by `--rate` too), never past `deadline`.
    async fn dial_with_backoff(
        &self,
        timeout: Duration,
        deadline: tokio::time::Instant,
    ) -> Result<TcpStream, ConnectError> {
        let mut attempt = 0;
        loop {
            let result = dial(self.addr, timeout).await;
            let refused = matches!(&result, Err(ConnectError::Failed { kind, .. }) if pace::is_refusal(*kind));
            match (&self.cfg.backoff, refused) {
                (_, false) => {
                    if result.is_ok() {
                        self.accepted_once.store(true, Ordering::Relaxed);
                    }
                    return result;
                }
                (Some((policy, tally)), true) if self.accepted_once.load(Ordering::Relaxed) => {
                    let wait = policy.wait(attempt);
                    let at = tokio::time::Instant::now() + wait;
                    if attempt >= policy.retries
                        || at + timeout.min(Duration::from_millis(100)) > deadline
                    {
                        tally.gave_up();
                        return result;
                    }
                    tokio::time::sleep_until(at).await;
                    if let Some(rate) = &self.cfg.rate {
                        tokio::time::sleep_until(rate.reserve().min(deadline)).await;
                    }
                    tally.retried(wait);
                    self.count();
                    attempt += 1;
                }
                _ => return result,
            }
        }
    }

    /// Send `hello` (complete records, any format) and read the server's first flight.
    pub async fn send_hello(&self, hello: &[u8]) -> ProbeResult {
        let start = Instant::now();
        let outcome = match self.open().await {
            Err(e) => ProbeOutcome::from(e),
            Ok(mut conn) => {
                let until = conn.deadline;
                let outcome = self.exchange(&mut conn.stream, hello, until).await;
                conn.judge(outcome)
            }
        };
        ProbeResult {
            outcome,
            elapsed: start.elapsed(),
        }
    }

    /// A TLS 1.3 probe that follows a HelloRetryRequest: when the server asks for another
    /// key share (one we can make), the same hello goes again on the same connection with
    /// that share (and the cookie, if any), and the answer to it is the outcome. A second
    /// HelloRetryRequest breaks RFC 8446 §4.1.4 and is reported as a protocol violation; a
    /// retry left unanswered or refused keeps the first answer as the outcome (the server did
    /// choose TLS 1.3).
    pub async fn send_hello_following_retry(&self, hello: &ClientHello) -> ProbeResult {
        let start = Instant::now();
        let outcome = match self.open().await {
            Err(e) => ProbeOutcome::from(e),
            Ok(mut conn) => {
                let until = conn.deadline;
                let stream = &mut conn.stream;
                let first = self.exchange(stream, &hello.encode_probe(), until).await;
                match first.flight().and_then(|f| retry_hello(hello, f)) {
                    None => conn.judge(first),
                    Some((second, bytes)) => {
                        let retried = self.exchange_offer(stream, &bytes, None, until).await;
                        match conn.judge(retried) {
                            ProbeOutcome::Accepted(f)
                                if f.server_hello
                                    .as_ref()
                                    .is_some_and(|sh| sh.is_hello_retry_request) =>
                            {
                                ProbeOutcome::ProtocolViolation(
                                    "a second HelloRetryRequest, in answer to the retried \
                                     ClientHello"
                                        .into(),
                                )
                            }
                            ProbeOutcome::Accepted(f) => match violation::check(&second, &f) {
                                Some(why) => ProbeOutcome::ProtocolViolation(why),
                                None => ProbeOutcome::Accepted(f),
                            },
                            ProbeOutcome::DeadlineReached => ProbeOutcome::DeadlineReached,
                            _ => first,
                        }
                    }
                }
            }
        };
        ProbeResult {
            outcome,
            elapsed: start.elapsed(),
        }
    }

    /// Send `hello`, read the first flight, then send `followup` (e.g. an empty client
    /// Certificate) and watch for up to `wait` what the server does about it.
    pub async fn send_hello_then(
        &self,
        hello: &[u8],
        followup: &[u8],
        wait: Duration,
    ) -> (ProbeOutcome, Option<FollowUp>) {
        let mut conn = match self.open().await {
            Ok(c) => c,
            Err(e) => return (ProbeOutcome::from(e), None),
        };
        let until = conn.deadline;
        let outcome = self.exchange(&mut conn.stream, hello, until).await;
        let outcome = conn.judge(outcome);
        if !matches!(outcome, ProbeOutcome::Accepted(_)) {
            return (outcome, None);
        }
        // The follow-up's wait comes on top of the probe's own deadline, never past the run's.
        let until = match &self.cfg.run {
            Some(r) => (conn.deadline + wait).min(r.at()),
            None => conn.deadline + wait,
        };
        let stream = &mut conn.stream;
        let after = async {
            if stream.write_all(followup).await.is_err() {
                return FollowUp::Closed;
            }
            watch_for_alert(stream, wait).await
        };
        match tokio::time::timeout_at(until, after).await {
            Ok(f) => (outcome, Some(f)),
            Err(_) if self.cfg.run.as_ref().is_some_and(|r| r.has_passed()) => {
                self.cfg.run.as_ref().map(RunDeadline::mark_reached);
                (ProbeOutcome::DeadlineReached, None)
            }
            Err(_) => (outcome, Some(FollowUp::Silent)),
        }
    }

    /// Write `hello`, read the answer by `until`, and refuse an answer that no server may
    /// give to that hello (see [`violation`]).
    async fn exchange(
        &self,
        stream: &mut TcpStream,
        hello: &[u8],
        until: tokio::time::Instant,
    ) -> ProbeOutcome {
        // SSLv2 hellos, and records this codec cannot read back, are not checked.
        let offer = ClientHello::parse_record(hello).ok();
        self.exchange_offer(stream, hello, offer.as_ref(), until)
            .await
    }

    /// [`Prober::exchange`] with the hello `bytes` carry already known (`offer`; none: the
    /// answer is not checked against it).
    async fn exchange_offer(
        &self,
        stream: &mut TcpStream,
        hello: &[u8],
        offer: Option<&ClientHello>,
        until: tokio::time::Instant,
    ) -> ProbeOutcome {
        // A service that insists on an ALPN protocol gets it in every hello (prelude.rs).
        let patched = self
            .cfg
            .prelude
            .as_ref()
            .and_then(|p| p.required_alpn())
            .and_then(|alpn| prelude::with_alpn(hello, alpn))
            .map(|h| {
                let record_version = hello
                    .get(1..3)
                    .map_or(0x0301, |v| u16::from_be_bytes([v[0], v[1]]));
                let bytes = h.encode_records(record_version);
                (h, bytes)
            });
        let (hello, offer) = match &patched {
            Some((h, bytes)) => (bytes.as_slice(), offer.map(|_| h)),
            None => (hello, offer),
        };
        let sent_at = tokio::time::Instant::now();
        let write_by = until.min(sent_at + self.cfg.read_timeout);
        match tokio::time::timeout_at(write_by, stream.write_all(hello)).await {
            Err(_) => return ProbeOutcome::Timeout { bytes_received: 0 },
            Ok(Err(e)) => return io_outcome(&e, 0),
            Ok(Ok(())) => {}
        }
        let mut first_byte = None;
        let outcome =
            read_flight_by(stream, self.cfg.read_timeout, Some(until), &mut first_byte).await;
        match (&outcome, first_byte) {
            (_, Some(at)) => self.answered_after(at - sent_at),
            // Nothing came back: the connection was reset or timed out (a server turning
            // the scan away, or one that says nothing to a hello it dislikes).
            (ProbeOutcome::Reset { .. } | ProbeOutcome::Timeout { .. }, None) => {
                self.connection_failed()
            }
            _ => {}
        }
        let broken = outcome
            .flight()
            .zip(offer)
            .and_then(|(flight, offer)| violation::check(offer, flight));
        match broken {
            Some(why) => ProbeOutcome::ProtocolViolation(why),
            None => outcome,
        }
    }
}

/// Read until the flight parser says the server's answer is complete (so we never wait on a
/// timeout once the answer is final), the peer closes, or a read deadline passes.
pub async fn read_flight(stream: &mut TcpStream, read_timeout: Duration) -> ProbeOutcome {
    read_flight_by(stream, read_timeout, None, &mut None).await
}

/// [`read_flight`], ending by `until` at the latest (a timeout that counts what arrived),
/// noting in `first_byte` when the first byte of the answer came.
async fn read_flight_by(
    stream: &mut TcpStream,
    read_timeout: Duration,
    until: Option<tokio::time::Instant>,
    first_byte: &mut Option<tokio::time::Instant>,
) -> ProbeOutcome {
    let mut parser = ServerFlightParser::new().with_kx_hint(crate::wire::suites::kx_hint);
    let mut buf = vec![0u8; 16 * 1024];
    let mut total = 0usize;
    // A peer that speaks first (SMTP, FTP banners) or answers garbage (HTTP 400) is caught by
    // the parser's not-TLS check on the first bytes.
    loop {
        let mut read_by = tokio::time::Instant::now() + read_timeout;
        if let Some(u) = until {
            read_by = read_by.min(u);
        }
        let n = match tokio::time::timeout_at(read_by, stream.read(&mut buf)).await {
            Err(_) => {
                return partial_or(
                    parser,
                    total,
                    ProbeOutcome::Timeout {
                        bytes_received: total,
                    },
                );
            }
            Ok(Err(e)) => return partial_or(parser, total, io_outcome(&e, total)),
            Ok(Ok(0)) => {
                return partial_or(
                    parser,
                    total,
                    ProbeOutcome::Closed {
                        bytes_received: total,
                    },
                );
            }
            Ok(Ok(n)) => n,
        };
        if total == 0 {
            *first_byte = Some(tokio::time::Instant::now());
        }
        total += n;
        match parser.feed(&buf[..n]) {
            Ok(FlightProgress::Complete) => return ProbeOutcome::from_flight(parser.into_flight()),
            Ok(FlightProgress::NeedMore) => {}
            Err(WireError::NotTls { first_bytes }) => return ProbeOutcome::NotTls { first_bytes },
            Err(e) => return ProbeOutcome::Malformed(e.to_string()),
        }
        if total > MAX_FLIGHT_BYTES {
            return ProbeOutcome::Malformed(format!(
                "server sent more than {MAX_FLIGHT_BYTES} bytes without completing its first flight"
            ));
        }
    }
}

/// The second ClientHello after `flight`'s HelloRetryRequest: `hello` with one key share for
/// the group asked for and the server's cookie, in a handshake record (TLS 1.2 record
/// version, as after any first flight) preceded by the middlebox-compatibility
/// ChangeCipherSpec. None when `flight` is no HelloRetryRequest or the group is one we
/// cannot make a share for.
fn retry_hello(
    hello: &ClientHello,
    flight: &crate::wire::ServerFlight,
) -> Option<(ClientHello, Vec<u8>)> {
    use crate::wire::ServerExtension;
    use crate::wire::extension::ClientExtension;
    let hrr = flight
        .server_hello
        .as_ref()
        .filter(|sh| sh.is_hello_retry_request)?;
    let group = hrr.selected_group()?;
    let share = crate::wire::keyshare::ephemeral_public_key(group)?;
    let mut second = hello.clone();
    second.extensions.retain(|e| {
        !matches!(
            e,
            ClientExtension::KeyShare(_) | ClientExtension::Padding(_)
        )
    });
    second
        .extensions
        .push(ClientExtension::KeyShare(vec![(group, share)]));
    if let Some(cookie) = hrr.extensions.iter().find_map(|e| match e {
        ServerExtension::Cookie(c) => Some(c),
        _ => None,
    }) {
        let mut data = (cookie.len() as u16).to_be_bytes().to_vec();
        data.extend_from_slice(cookie);
        second
            .extensions
            .push(ClientExtension::Raw { typ: 44, data });
    }
    let mut out = vec![0x14, 0x03, 0x03, 0x00, 0x01, 0x01];
    out.extend(second.encode_records(0x0303));
    Some((second, out))
}

/// What a server did after a follow-up message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FollowUp {
    /// It sent this alert.
    Alert(crate::wire::Alert),
    /// It closed or reset the connection without an alert.
    Closed,
    /// It said nothing within the wait.
    Silent,
}

async fn watch_for_alert(stream: &mut TcpStream, wait: Duration) -> FollowUp {
    use crate::wire::codec::{Codec, Reader};
    use crate::wire::record::{ContentType, Deframer};
    let mut deframer = Deframer::new();
    let mut buf = [0u8; 4096];
    let deadline = tokio::time::Instant::now() + wait;
    loop {
        let n = match tokio::time::timeout_at(deadline, stream.read(&mut buf)).await {
            Err(_) => return FollowUp::Silent,
            Ok(Err(_)) | Ok(Ok(0)) => return FollowUp::Closed,
            Ok(Ok(n)) => n,
        };
        if deframer.push(&buf[..n]).is_err() {
            return FollowUp::Closed;
        }
        while let Ok(Some(rec)) = deframer.pop() {
            if rec.typ == ContentType::Alert {
                if let Ok(a) = crate::wire::Alert::decode(&mut Reader::new(&rec.payload)) {
                    return FollowUp::Alert(a);
                }
            }
        }
    }
}

/// When the connection ends early, whatever the server did say (an alert, a ServerHello)
/// is still the answer; otherwise report how it ended.
fn partial_or(parser: ServerFlightParser, total: usize, ended: ProbeOutcome) -> ProbeOutcome {
    let flight = parser.into_flight();
    if total > 0
        && (flight.server_hello.is_some() || flight.alert.is_some() || flight.sslv2.is_some())
    {
        ProbeOutcome::from_flight(flight)
    } else {
        ended
    }
}

/// Whether a failed connect is the server turning connections away (refused, reset, or no
/// answer in time): what brings the automatic cap down.
fn turned_away(e: &ConnectError) -> bool {
    match e {
        ConnectError::Timeout { .. } => true,
        ConnectError::Failed { kind, .. } => pace::is_refusal(*kind),
        _ => false,
    }
}

fn io_outcome(e: &std::io::Error, bytes_received: usize) -> ProbeOutcome {
    use std::io::ErrorKind::*;
    match e.kind() {
        ConnectionReset | ConnectionAborted | BrokenPipe => ProbeOutcome::Reset { bytes_received },
        _ => ProbeOutcome::IoError(e.to_string()),
    }
}

#[cfg(test)]
mod tests;
