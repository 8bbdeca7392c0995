//! The probe engine: every connection tlsdoctor opens to a server goes through a [`Prober`].
//! It takes the per-server connection slot (a semaphore shared by all probes of that
//! server), counts the connection, connects under the connect deadline, runs the configured
//! [`Prelude`] (e.g. STARTTLS) and bounds the whole exchange and each read. On top of that:
//! raw probes (send a ClientHello, read the server's first flight) here, full rustls
//! handshakes in [`tls`]. Outcomes and errors are typed, never strings.

mod connection;
pub mod names;
mod outcome;
pub mod prelude;
pub mod tls;

use connection::dial;
pub use connection::{ConnectError, Connection, TimedStream};
pub use outcome::{OutcomeSummary, ProbeOutcome, ProbeResult};
pub use prelude::{Prelude, PreludeError};
pub use tls::{HandshakeError, HandshakeFailure, TlsErrorClass, TlsSession};

use crate::wire::{FlightProgress, ServerFlightParser, WireError};
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::Semaphore;

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
    /// Maximum simultaneous connections to one server.
    pub max_connections: usize,
    /// Run on every connection before TLS starts (none: TLS from the first byte).
    pub prelude: Option<Arc<dyn Prelude>>,
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
            prelude: None,
        }
    }
}

/// Probes one server address. Cheap to clone; clones share the connection cap and counters.
#[derive(Clone)]
pub struct Prober {
    addr: SocketAddr,
    cfg: Arc<ProbeConfig>,
    slots: Arc<Semaphore>,
    /// Every connection adds one to each tally; the last is this prober's own (see
    /// [`Prober::with_own_count`]), the first the server's total.
    tallies: Vec<Arc<AtomicUsize>>,
}

impl Prober {
    pub fn new(addr: SocketAddr, cfg: ProbeConfig) -> Self {
        let slots = Arc::new(Semaphore::new(cfg.max_connections.max(1)));
        Prober {
            addr,
            cfg: Arc::new(cfg),
            slots,
            tallies: vec![Arc::new(AtomicUsize::new(0))],
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
        self.tallies.last().map_or(0, |t| t.load(Ordering::Relaxed))
    }

    /// A prober for the same server (same slots; its connections still count towards this
    /// one's) whose [`Prober::connections_opened`] counts only what goes through it: how one
    /// part of a check reports its own connections while other parts run alongside.
    pub fn with_own_count(&self) -> Prober {
        let mut p = self.clone();
        p.tallies.push(Arc::new(AtomicUsize::new(0)));
        p
    }

    /// A connection slot under the per-server cap.
    async fn slot(&self) -> tokio::sync::OwnedSemaphorePermit {
        // The semaphore is never closed, so acquire cannot fail.
        self.slots
            .clone()
            .acquire_owned()
            .await
            .expect("probe semaphore closed")
    }

    fn count(&self) {
        for t in &self.tallies {
            t.fetch_add(1, Ordering::Relaxed);
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
        let slot = self.slot().await;
        let deadline = tokio::time::Instant::now() + self.cfg.probe_timeout;
        self.count();
        let connect_timeout = self.cfg.connect_timeout.min(self.cfg.probe_timeout);
        let mut stream = dial(self.addr, connect_timeout).await?;
        if let Some(prelude) = self.cfg.prelude.as_ref().filter(|_| tls_next) {
            let failed = |error| ConnectError::Prelude {
                prelude: prelude.name().to_string(),
                error,
            };
            match tokio::time::timeout_at(deadline, prelude.run(&mut stream, deadline)).await {
                Err(_) => return Err(failed(PreludeError::Timeout)),
                Ok(Err(e)) => return Err(failed(e)),
                Ok(Ok(())) => {}
            }
        }
        Ok(Connection {
            stream,
            deadline,
            _slot: Some(slot),
        })
    }

    /// Send `hello` (complete records, any format) and read the server's first flight.
    pub async fn send_hello(&self, hello: &[u8]) -> ProbeResult {
        let start = Instant::now();
        let outcome = match self.open().await {
            Err(e) => ProbeOutcome::from(e),
            Ok(mut conn) => {
                let exchange = self.exchange(&mut conn.stream, hello);
                match tokio::time::timeout_at(conn.deadline, exchange).await {
                    Ok(o) => o,
                    Err(_) => ProbeOutcome::Timeout { bytes_received: 0 },
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
        let stream = &mut conn.stream;
        let run = async {
            let outcome = self.exchange(stream, hello).await;
            if !matches!(outcome, ProbeOutcome::Accepted(_)) {
                return (outcome, None);
            }
            if stream.write_all(followup).await.is_err() {
                return (outcome, Some(FollowUp::Closed));
            }
            (outcome, Some(watch_for_alert(stream, wait).await))
        };
        match tokio::time::timeout_at(conn.deadline + wait, run).await {
            Ok(r) => r,
            Err(_) => (ProbeOutcome::Timeout { bytes_received: 0 }, None),
        }
    }

    async fn exchange(&self, stream: &mut TcpStream, hello: &[u8]) -> ProbeOutcome {
        match tokio::time::timeout(self.cfg.read_timeout, stream.write_all(hello)).await {
            Err(_) => return ProbeOutcome::Timeout { bytes_received: 0 },
            Ok(Err(e)) => return io_outcome(&e, 0),
            Ok(Ok(())) => {}
        }
        read_flight(stream, self.cfg.read_timeout).await
    }
}

/// Read until the flight parser says the server's answer is complete (so we never wait on a
/// timeout once the answer is final), the peer closes, or a read deadline passes.
pub async fn read_flight(stream: &mut TcpStream, read_timeout: Duration) -> ProbeOutcome {
    let mut parser = ServerFlightParser::new().with_kx_hint(crate::wire::suites::kx_hint);
    let mut buf = vec![0u8; 16 * 1024];
    let mut total = 0usize;
    // A peer that speaks first (SMTP, FTP banners) or answers garbage (HTTP 400) is caught by
    // the parser's not-TLS check on the first bytes.
    loop {
        let n = match tokio::time::timeout(read_timeout, stream.read(&mut buf)).await {
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

fn io_outcome(e: &std::io::Error, bytes_received: usize) -> ProbeOutcome {
    use std::io::ErrorKind::*;
    match e.kind() {
        ConnectionReset | ConnectionAborted | BrokenPipe => ProbeOutcome::Reset { bytes_received },
        _ => ProbeOutcome::IoError(e.to_string()),
    }
}

#[cfg(test)]
mod tests;
