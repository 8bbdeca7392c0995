//! One TCP connection as the engine hands it out: connected under the connect deadline,
//! prelude done, holding its server's connection slot until dropped, with the deadline by
//! which the whole exchange must end.

use super::ProbeOutcome;
use super::deadline::RunDeadline;
use super::prelude::PreludeError;
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio::time::{Instant, Sleep};

/// An open connection. The slot (when it is one to the probed server) is released on drop.
#[derive(Debug)]
pub struct Connection {
    pub stream: TcpStream,
    /// When the whole exchange on this connection must be over.
    pub deadline: Instant,
    /// The run's deadline, when it comes before this probe's own (and so is `deadline`).
    pub(super) run_cut: Option<RunDeadline>,
    pub(super) _slot: Option<SlotHold>,
}

/// A connection's hold on its server's slot: gives the slot back and closes the
/// connection's span in its tallies when dropped.
#[derive(Debug)]
pub(crate) struct SlotHold {
    pub(super) _permit: super::slots::Permit,
    pub(super) spans: Vec<(std::sync::Arc<super::Tally>, usize)>,
}

impl SlotHold {
    /// A connection dialled ahead is put to use now: its spans start now, so that the scan's
    /// rounds count it from its hello, as a connection dialled then would be.
    pub(super) fn start_now(&self) {
        let now = Instant::now();
        for (tally, i) in &self.spans {
            if let Ok(mut spans) = tally.spans.lock() {
                if let Some(span) = spans.get_mut(*i) {
                    span.0 = now;
                }
            }
        }
    }
}

impl Drop for SlotHold {
    fn drop(&mut self) {
        let now = Instant::now();
        for (tally, i) in &self.spans {
            if let Ok(mut spans) = tally.spans.lock() {
                if let Some(span) = spans.get_mut(*i) {
                    span.1 = Some(now);
                }
            }
        }
    }
}

impl Connection {
    /// A connection to a host other than a probed server (an OCSP responder, an AIA issuer
    /// URL): under the connect deadline, no slot, not counted as a connection to the server.
    pub async fn direct(addr: SocketAddr, timeout: Duration) -> Result<Connection, ConnectError> {
        Ok(Connection {
            stream: dial(addr, timeout).await?,
            deadline: Instant::now() + timeout,
            run_cut: None,
            _slot: None,
        })
    }

    /// An exchange's outcome as the probe reports it: a timeout at a deadline that was the
    /// run's (now noted as reached) is [`ProbeOutcome::DeadlineReached`].
    pub(super) fn judge(&self, outcome: ProbeOutcome) -> ProbeOutcome {
        match (&outcome, &self.run_cut) {
            (ProbeOutcome::Timeout { .. }, Some(run)) if run.has_passed() => {
                run.mark_reached();
                ProbeOutcome::DeadlineReached
            }
            _ => outcome,
        }
    }
}

/// Why no connection came about.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConnectError {
    /// The TCP connect did not complete before its deadline.
    #[error("connect timed out")]
    Timeout { after_ms: u64 },
    /// The TCP connect failed (refused, unreachable, ...).
    #[error("{message}")]
    Failed {
        #[serde(
            serialize_with = "super::names::io_kind",
            deserialize_with = "super::names::io_kind_from"
        )]
        kind: io::ErrorKind,
        message: String,
    },
    /// Connected, but the prelude did not bring the server to where TLS starts.
    #[error("{prelude} failed: {error}")]
    Prelude {
        prelude: String,
        error: PreludeError,
    },
    /// The run's deadline (`--deadline`) passed before this connection could be made.
    #[error("the run's deadline was reached")]
    Deadline,
}

/// Connect to `addr` within `timeout`: the engine's only `TcpStream::connect`, used by the
/// prober for its server and by [`Connection::direct`] for other hosts.
pub(super) async fn dial(addr: SocketAddr, timeout: Duration) -> Result<TcpStream, ConnectError> {
    match tokio::time::timeout(timeout, TcpStream::connect(addr)).await {
        Err(_) => Err(ConnectError::Timeout {
            after_ms: timeout.as_millis() as u64,
        }),
        Ok(Err(e)) => Err(ConnectError::Failed {
            kind: e.kind(),
            message: e.to_string(),
        }),
        Ok(Ok(s)) => {
            let _ = s.set_nodelay(true);
            Ok(s)
        }
    }
}

/// A TCP stream whose every read and write fails with `TimedOut` once it has waited `idle`
/// without progress. A TLS library drives its own reads, so this is how a full handshake
/// gets the same per-read deadline as a raw probe.
#[derive(Debug)]
pub struct TimedStream {
    inner: TcpStream,
    idle: Duration,
    read_timer: Pin<Box<Sleep>>,
    read_armed: bool,
    write_timer: Pin<Box<Sleep>>,
    write_armed: bool,
}

impl TimedStream {
    pub fn new(inner: TcpStream, idle: Duration) -> Self {
        TimedStream {
            inner,
            idle,
            read_timer: Box::pin(tokio::time::sleep(idle)),
            read_armed: false,
            write_timer: Box::pin(tokio::time::sleep(idle)),
            write_armed: false,
        }
    }
}

/// Wait on `timer` (armed at the first pending poll) and turn its expiry into `TimedOut`.
fn expired(
    timer: &mut Pin<Box<Sleep>>,
    armed: &mut bool,
    idle: Duration,
    what: &str,
    cx: &mut Context<'_>,
) -> Poll<io::Error> {
    if !*armed {
        timer.as_mut().reset(Instant::now() + idle);
        *armed = true;
    }
    match timer.as_mut().poll(cx) {
        Poll::Ready(()) => {
            *armed = false;
            Poll::Ready(io::Error::new(
                io::ErrorKind::TimedOut,
                format!(
                    "no progress {what} the server within {:.1}s",
                    idle.as_secs_f64()
                ),
            ))
        }
        Poll::Pending => Poll::Pending,
    }
}

impl AsyncRead for TimedStream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        match Pin::new(&mut this.inner).poll_read(cx, buf) {
            Poll::Ready(r) => {
                this.read_armed = false;
                Poll::Ready(r)
            }
            Poll::Pending => expired(
                &mut this.read_timer,
                &mut this.read_armed,
                this.idle,
                "reading from",
                cx,
            )
            .map(Err),
        }
    }
}

impl AsyncWrite for TimedStream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        match Pin::new(&mut this.inner).poll_write(cx, buf) {
            Poll::Ready(r) => {
                this.write_armed = false;
                Poll::Ready(r)
            }
            Poll::Pending => expired(
                &mut this.write_timer,
                &mut this.write_armed,
                this.idle,
                "writing to",
                cx,
            )
            .map(Err),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }
}
