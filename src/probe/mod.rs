//! The probe engine: one probe is one TCP connection that sends a ClientHello and reads the
//! server's first flight. Every step has a deadline; the per-server connection cap is a
//! semaphore shared by all probes of that server. Outcomes are typed, never strings.

mod outcome;

pub use outcome::{OutcomeSummary, ProbeOutcome, ProbeResult};

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
        }
    }
}

/// Probes one server address. Cheap to clone; clones share the connection cap and counters.
#[derive(Clone)]
pub struct Prober {
    addr: SocketAddr,
    cfg: Arc<ProbeConfig>,
    slots: Arc<Semaphore>,
    connections: Arc<AtomicUsize>,
}

impl Prober {
    pub fn new(addr: SocketAddr, cfg: ProbeConfig) -> Self {
        let slots = Arc::new(Semaphore::new(cfg.max_connections.max(1)));
        Prober {
            addr,
            cfg: Arc::new(cfg),
            slots,
            connections: Arc::new(AtomicUsize::new(0)),
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
        self.connections.load(Ordering::Relaxed)
    }

    /// A connection slot under the per-server cap. Probes that run their own handshakes
    /// (rustls, replays) take one too, so the cap holds for everything that touches the server.
    pub async fn slot(&self) -> tokio::sync::OwnedSemaphorePermit {
        // The semaphore is never closed, so acquire cannot fail.
        self.slots
            .clone()
            .acquire_owned()
            .await
            .expect("probe semaphore closed")
    }

    /// Count a connection opened outside [`Prober::connect`] (a library that dials itself, such
    /// as a full rustls handshake), so the reported total stays true.
    pub fn note_connection(&self) {
        self.connections.fetch_add(1, Ordering::Relaxed);
    }

    /// Open a TCP connection (counted, with the connect deadline) without taking a slot;
    /// callers hold a slot from [`Prober::slot`].
    pub async fn connect(&self) -> Result<TcpStream, ProbeOutcome> {
        self.connections.fetch_add(1, Ordering::Relaxed);
        match tokio::time::timeout(self.cfg.connect_timeout, TcpStream::connect(self.addr)).await {
            Err(_) => Err(ProbeOutcome::ConnectTimeout),
            Ok(Err(e)) => Err(ProbeOutcome::ConnectFailed {
                kind: format!("{:?}", e.kind()),
                message: e.to_string(),
            }),
            Ok(Ok(s)) => {
                let _ = s.set_nodelay(true);
                Ok(s)
            }
        }
    }

    /// Send `hello` (complete records, any format) and read the server's first flight.
    pub async fn send_hello(&self, hello: &[u8]) -> ProbeResult {
        let _slot = self.slot().await;
        let start = Instant::now();
        let outcome = match tokio::time::timeout(self.cfg.probe_timeout, self.exchange(hello)).await
        {
            Ok(o) => o,
            Err(_) => ProbeOutcome::Timeout { bytes_received: 0 },
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
        let _slot = self.slot().await;
        let run = async {
            let mut stream = match self.connect().await {
                Ok(s) => s,
                Err(o) => return (o, None),
            };
            match tokio::time::timeout(self.cfg.read_timeout, stream.write_all(hello)).await {
                Ok(Ok(())) => {}
                Ok(Err(e)) => return (io_outcome(&e, 0), None),
                Err(_) => return (ProbeOutcome::Timeout { bytes_received: 0 }, None),
            }
            let outcome = read_flight(&mut stream, self.cfg.read_timeout).await;
            if !matches!(outcome, ProbeOutcome::Accepted(_)) {
                return (outcome, None);
            }
            if stream.write_all(followup).await.is_err() {
                return (outcome, Some(FollowUp::Closed));
            }
            (outcome, Some(watch_for_alert(&mut stream, wait).await))
        };
        match tokio::time::timeout(self.cfg.probe_timeout + wait, run).await {
            Ok(r) => r,
            Err(_) => (ProbeOutcome::Timeout { bytes_received: 0 }, None),
        }
    }

    async fn exchange(&self, hello: &[u8]) -> ProbeOutcome {
        let mut stream = match self.connect().await {
            Ok(s) => s,
            Err(o) => return o,
        };
        match tokio::time::timeout(self.cfg.read_timeout, stream.write_all(hello)).await {
            Err(_) => return ProbeOutcome::Timeout { bytes_received: 0 },
            Ok(Err(e)) => return io_outcome(&e, 0),
            Ok(Ok(())) => {}
        }
        read_flight(&mut stream, self.cfg.read_timeout).await
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
