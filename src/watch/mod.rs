//! `tlsdoctor watch`: a transparent relay in front of a failing server. The user points the
//! real application at it (a PyMongo URI with the relay's port, curl, anything that speaks
//! TLS over TCP); it forwards every byte untouched, records the application's real
//! ClientHello and the server's flight and alerts, and reads each handshake as it ends:
//! which side gave up, with which alert, and why — the application's own TLS settings, not
//! a model of them.
//!
//! No decryption and no interception: only the clear-text handshake is read (in TLS 1.3 that
//! is the two hellos; the rest is judged from record sizes and who closed first, and the
//! report says so). It listens on loopback only.
//!
//! Layout: [`record`] (sans-IO recording of what passes), `relay` (the byte pipe and its
//! deadlines), `upstream` (the server, through the probe engine), [`summary`] (the hello
//! and the answer in plain terms), [`diagnose`] (the reading), this module (the listener, the
//! connection cap, stopping).

mod client;
pub mod diagnose;
pub mod record;
mod relay;
pub mod summary;
mod upstream;

pub use diagnose::{Diagnosis, EndReason, Outcome, SeenAlert, ServerProbe};
pub use record::{LoggedRecord, Side};
pub use summary::{AnswerSummary, CertSummary, HelloSummary};

use crate::finding::Finding;
use crate::probe::ProbeConfig;
use crate::target::{ResolveOptions, parse, resolve};
use serde::Serialize;
use std::collections::BTreeMap;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Semaphore, watch};
use tokio::task::JoinSet;
use tokio::time::Instant;

/// Default cap on connections relayed at once.
pub const DEFAULT_MAX_CONNECTIONS: usize = 32;

/// How to run the relay.
#[derive(Debug, Clone)]
pub struct WatchOptions {
    /// Where the application connects; must be a loopback address.
    pub listen: SocketAddr,
    /// The real server, `HOST:PORT`.
    pub upstream: String,
    /// Stop after this many connections have ended (no more are accepted after that many).
    pub count: Option<usize>,
    /// Stop after this long.
    pub duration: Option<Duration>,
    /// Connect to the upstream and finish the handshake within this.
    pub handshake_timeout: Duration,
    /// After the handshake, end a connection when nothing moves for this long.
    pub idle_timeout: Duration,
    /// Connections relayed at once; more wait in the listen backlog.
    pub max_connections: usize,
}

impl WatchOptions {
    pub fn new(listen: SocketAddr, upstream: impl Into<String>) -> WatchOptions {
        WatchOptions {
            listen,
            upstream: upstream.into(),
            count: None,
            duration: None,
            handshake_timeout: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(300),
            max_connections: DEFAULT_MAX_CONNECTIONS,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum WatchError {
    #[error("watch listens on loopback only; {0} is not a loopback address (use 127.0.0.1 or ::1)")]
    NotLoopback(std::net::IpAddr),
    #[error("--upstream {0}")]
    Upstream(String),
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
}

/// One relayed connection, as it ended.
#[derive(Debug, Clone, Serialize)]
pub struct WatchedConnection {
    /// 1, 2, … in the order connections were accepted.
    pub number: usize,
    /// The application's address (as it connected to the relay).
    pub application: String,
    pub upstream: String,
    pub upstream_address: String,
    /// When it was accepted (RFC 3339, UTC).
    pub started: String,
    pub duration_ms: u64,
    pub bytes_from_application: u64,
    pub bytes_from_server: u64,
    /// How the relay stopped relaying it.
    pub ended_by: String,
    pub outcome: Outcome,
    pub gave_up: Option<Side>,
    pub alert: Option<SeenAlert>,
    /// The application's real TLS settings, from its ClientHello.
    pub hello: Option<HelloSummary>,
    /// What the server answered in clear.
    pub answer: Option<AnswerSummary>,
    /// The known client whose recorded hello has the same shape as the application's: name
    /// and profile id. The finding's `breaks` then quotes what that client prints.
    pub recognised_as: Option<String>,
    pub finding: Option<Finding>,
    /// What could not be seen.
    pub unseen: Vec<String>,
    /// A probe of the server's versions, made for this reading.
    pub server_probe: Option<ServerProbe>,
    /// The server's chain fetched by the relay's own TLS 1.3 connection, for a TLS 1.3
    /// failure where the application's copy was encrypted.
    pub fetched_chain: Option<Vec<CertSummary>>,
    /// Every record in order (type and size; up to 64 per direction).
    pub records: Vec<LoggedRecord>,
}

/// The whole run.
#[derive(Debug, Clone, Default, Serialize)]
pub struct WatchSummary {
    pub listen: String,
    pub upstream: String,
    pub connections: usize,
    pub completed: usize,
    pub failed: usize,
    pub interrupted: usize,
    pub no_hello: usize,
    /// Failed connections per finding id.
    pub causes: BTreeMap<String, usize>,
    /// Connections the relay opened to the upstream (relayed ones and probes).
    pub upstream_connections: usize,
    pub duration_ms: u64,
    /// `count`, `duration` or `signal`.
    pub stopped_by: String,
}

/// A bound relay, not yet running.
pub struct Watch {
    listener: TcpListener,
    upstream: upstream::Upstream,
    opts: WatchOptions,
}

impl Watch {
    /// Check the listen address, resolve the upstream and bind.
    pub async fn start(opts: WatchOptions) -> Result<Watch, WatchError> {
        if !opts.listen.ip().is_loopback() {
            return Err(WatchError::NotLoopback(opts.listen.ip()));
        }
        let spec = parse(&opts.upstream).map_err(|e| WatchError::Upstream(e.to_string()))?;
        let resolve_opts = ResolveOptions {
            timeout: opts.handshake_timeout,
            ..ResolveOptions::default()
        };
        let targets = resolve(&spec, &resolve_opts)
            .await
            .map_err(|e| WatchError::Upstream(e.to_string()))?;
        let addr = targets
            .first()
            .and_then(|t| t.probe.first().copied())
            .ok_or_else(|| WatchError::Upstream(format!("{}: no address", opts.upstream)))?;
        let mut cfg = ProbeConfig::with_timeout(opts.handshake_timeout);
        cfg.max_connections = opts.max_connections.max(1);
        let upstream = upstream::Upstream::new(opts.upstream.clone(), addr, cfg);
        let listener = TcpListener::bind(opts.listen)
            .await
            .map_err(|source| WatchError::Bind {
                addr: opts.listen,
                source,
            })?;
        Ok(Watch {
            listener,
            upstream,
            opts,
        })
    }

    /// Where the application should connect.
    pub fn local_addr(&self) -> SocketAddr {
        self.listener.local_addr().unwrap_or(self.opts.listen)
    }

    /// The upstream address connections go to.
    pub fn upstream_addr(&self) -> SocketAddr {
        self.upstream.addr()
    }

    /// Relay until `--count` connections have ended, `--duration` has passed, or `stop`
    /// completes (Ctrl-C); `on_end` sees each connection as it ends. Connections still open
    /// when it stops are ended and reported as interrupted.
    pub async fn run(
        self,
        stop: impl Future<Output = ()>,
        mut on_end: impl FnMut(&WatchedConnection),
    ) -> WatchSummary {
        let began = Instant::now();
        let (stop_tx, stop_rx) = watch::channel(false);
        let slots = Arc::new(Semaphore::new(self.opts.max_connections.max(1)));
        let deadlines = relay::Deadlines {
            handshake: self.opts.handshake_timeout,
            idle: self.opts.idle_timeout,
        };
        let mut summary = WatchSummary {
            listen: self.local_addr().to_string(),
            upstream: self.opts.upstream.clone(),
            ..WatchSummary::default()
        };
        let mut tasks: JoinSet<WatchedConnection> = JoinSet::new();
        let listen = self.local_addr();
        let mut accepted = 0usize;
        let until = self.opts.duration.map(|d| began + d);
        tokio::pin!(stop);
        let mut note = |c: &WatchedConnection, s: &mut WatchSummary| {
            s.connections += 1;
            match c.outcome {
                Outcome::Completed => s.completed += 1,
                Outcome::Failed => {
                    s.failed += 1;
                    if let Some(f) = &c.finding {
                        *s.causes.entry(f.id.as_str().to_string()).or_default() += 1;
                    }
                }
                Outcome::Interrupted => s.interrupted += 1,
                Outcome::NoHello => s.no_hello += 1,
            }
            on_end(c);
        };
        let want_more = |accepted: usize| self.opts.count.is_none_or(|n| accepted < n);
        // A slot under the cap is taken before accepting, so connections beyond the cap wait
        // in the listen backlog rather than being accepted and left hanging.
        let mut slot: Option<tokio::sync::OwnedSemaphorePermit> = None;
        summary.stopped_by = loop {
            if self.opts.count.is_some_and(|n| summary.connections >= n) {
                break "count".into();
            }
            tokio::select! {
                permit = slots.clone().acquire_owned(), if slot.is_none() && want_more(accepted) => {
                    slot = permit.ok();
                }
                incoming = self.listener.accept(), if slot.is_some() => {
                    // A failed accept (out of descriptors, a client gone already) ends no run.
                    let Ok((client, peer)) = incoming else { continue };
                    let permit = slot.take();
                    accepted += 1;
                    let upstream = self.upstream.clone();
                    let stop_rx = stop_rx.clone();
                    tasks.spawn(async move {
                        let c =
                            one(accepted, listen, client, peer, upstream, deadlines, stop_rx).await;
                        drop(permit);
                        c
                    });
                }
                Some(done) = tasks.join_next() => ended(done, &mut note, &mut summary),
                _ = sleep_until_opt(until) => break "duration".into(),
                _ = &mut stop => break "signal".into(),
            }
        };
        let _ = stop_tx.send(true);
        while let Some(done) = tasks.join_next().await {
            ended(done, &mut note, &mut summary);
        }
        summary.upstream_connections = self.upstream.connections_opened();
        summary.duration_ms = began.elapsed().as_millis() as u64;
        summary
    }
}

/// A connection's task ended: its report, or (a bug) a task that panicked, which still
/// counts as a connection so `--count` ends the run.
fn ended(
    done: Result<WatchedConnection, tokio::task::JoinError>,
    note: &mut impl FnMut(&WatchedConnection, &mut WatchSummary),
    summary: &mut WatchSummary,
) {
    match done {
        Ok(c) => note(&c, summary),
        Err(e) => {
            summary.connections += 1;
            summary.failed += 1;
            *summary.causes.entry("internal-error".into()).or_default() += 1;
            eprintln!("tlsdoctor watch: a connection's reading failed: {e}");
        }
    }
}

async fn sleep_until_opt(t: Option<Instant>) {
    match t {
        Some(t) => tokio::time::sleep_until(t).await,
        None => std::future::pending().await,
    }
}

fn ended_by(r: &EndReason) -> String {
    match r {
        EndReason::PeersClosed => "peers closed".into(),
        EndReason::HandshakeTimeout(t) => format!("handshake deadline ({} s)", t.as_secs_f64()),
        EndReason::Idle(t) => format!("idle deadline ({} s)", t.as_secs_f64()),
        EndReason::Shutdown => "relay stopped".into(),
        EndReason::UpstreamUnreachable(_) => "upstream unreachable".into(),
    }
}

/// Relay one application connection and read its handshake.
async fn one(
    number: usize,
    listen: SocketAddr,
    client: TcpStream,
    peer: SocketAddr,
    upstream: upstream::Upstream,
    deadlines: relay::Deadlines,
    stop: watch::Receiver<bool>,
) -> WatchedConnection {
    let accepted = Instant::now();
    let started = time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default();
    let _ = client.set_nodelay(true);
    let (rec, reason) = match tokio::time::timeout(deadlines.handshake, upstream.connect()).await {
        Err(_) => (
            record::Recording::new(),
            EndReason::UpstreamUnreachable(format!(
                "connect timed out after {} s",
                deadlines.handshake.as_secs_f64()
            )),
        ),
        Ok(Err(e)) => (
            record::Recording::new(),
            EndReason::UpstreamUnreachable(e.to_string()),
        ),
        Ok(Ok(mut conn)) => {
            // The connection (and its slot under the probe engine's cap) lives until the
            // relay returns.
            relay::relay(client, &mut conn.stream, deadlines, stop, accepted).await
        }
    };
    let duration_ms = accepted.elapsed().as_millis() as u64;
    let sni = rec
        .client
        .hello
        .as_ref()
        .map(HelloSummary::of)
        .and_then(|h| h.sni);
    let probe = if diagnose::needs_probe(&rec) && reason == EndReason::PeersClosed {
        Some(upstream.probe(sni.as_deref()).await)
    } else {
        None
    };
    let fetched_chain = if diagnose::needs_chain(&rec) && reason == EndReason::PeersClosed {
        upstream.chain(sni.as_deref()).await
    } else {
        None
    };
    let mut d = diagnose::diagnose(&diagnose::Inputs {
        rec: &rec,
        ended: &reason,
        upstream: &upstream.label,
        probe: probe.as_ref(),
        fetched_chain: fetched_chain.as_deref(),
    });
    let answer = rec
        .server()
        .server_hello
        .as_ref()
        .map(|_| AnswerSummary::of(rec.server(), rec.hello_retry.as_ref()));
    let recognised = rec.client.hello.as_ref().and_then(client::recognise);
    if let (Some(p), Some(alert), Some(f)) = (recognised, d.alert.as_ref(), d.finding.as_ref()) {
        let root_sent = answer
            .as_ref()
            .and_then(|a| a.certificates.last())
            .or(fetched_chain.as_ref().and_then(|c| c.last()))
            .is_some_and(|c| c.self_issued);
        // As the application was told to reach the server: by name (the SNI it sent) or by
        // the relay's address, on the relay's port.
        let address = format!(
            "{}:{}",
            sni.clone().unwrap_or_else(|| listen.ip().to_string()),
            listen.port()
        );
        if let Some(text) = client::its_text(p, alert, f, sni.as_deref(), &address, root_sent) {
            d.finding = d
                .finding
                .take()
                .map(|f| f.breaks(format!("the application ({})", p.name), text));
        }
    }
    WatchedConnection {
        number,
        application: peer.to_string(),
        upstream: upstream.label.clone(),
        upstream_address: upstream.addr().to_string(),
        started,
        duration_ms,
        bytes_from_application: rec.bytes[0],
        bytes_from_server: rec.bytes[1],
        ended_by: ended_by(&reason),
        outcome: d.outcome,
        gave_up: d.gave_up,
        alert: d.alert,
        hello: rec.client.hello.as_ref().map(HelloSummary::of),
        answer,
        recognised_as: recognised.map(|p| format!("{} ({})", p.name, p.id)),
        finding: d.finding,
        unseen: d.unseen,
        server_probe: probe,
        fetched_chain,
        records: rec.log.clone(),
    }
}
