//! A raw probe whose connection stays open after the server's first flight, for checks that
//! go on talking on it (a heartbeat request, an early ChangeCipherSpec): the same slot,
//! count, deadlines, prelude and answer check as [`Prober::send_hello`], then small, bounded
//! steps — write these bytes, read exactly this many — each under its own wait and never
//! past the connection's follow-up deadline or the run's.

use super::{Connection, ProbeOutcome, Prober, RunDeadline};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::time::Instant;

/// Ceiling on one bounded read: these steps read headers, never bulk data.
pub const MAX_STEP_READ: usize = 64;

/// Ceiling on one [`Held::read_some`]: a record and its header.
pub const MAX_BULK_READ: usize = 16 * 1024 + 5;

/// The connection of an accepted hello, kept open for a follow-up exchange.
#[derive(Debug)]
pub struct Held {
    conn: Connection,
    /// By when the whole follow-up must be over.
    until: Instant,
    run: Option<RunDeadline>,
}

/// How a bounded read ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// Exactly the bytes asked for.
    Bytes(Vec<u8>),
    /// The server closed (or reset) the connection after sending `got` of them.
    Closed { got: usize },
    /// Nothing more came within the wait (`got` of them had arrived).
    Silent { got: usize },
    /// The run's deadline cut the step short.
    DeadlineReached,
}

impl Prober {
    /// Send `hello` and read the server's first flight as [`Prober::send_hello`] does; when
    /// the server accepted it, keep the connection for a follow-up that may last `wait`
    /// beyond the probe's own deadline (never beyond the run's).
    pub async fn send_hello_hold(
        &self,
        hello: &[u8],
        wait: Duration,
    ) -> (ProbeOutcome, Option<Held>) {
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
        let run = self.cfg.run.clone();
        let until = match &run {
            Some(r) => (conn.deadline + wait).min(r.at()),
            None => conn.deadline + wait,
        };
        (outcome, Some(Held { conn, until, run }))
    }
}

impl Prober {
    /// A connection ready for TLS (slot, count, deadlines and prelude as
    /// [`Prober::send_hello`]) on which nothing was sent yet: for a check that writes its own
    /// handshake. It may last `wait` beyond the probe's own deadline (never beyond the run's).
    pub async fn open_held(&self, wait: Duration) -> Result<Held, super::ConnectError> {
        let conn = self.open().await?;
        let run = self.cfg.run.clone();
        let until = match &run {
            Some(r) => (conn.deadline + wait).min(r.at()),
            None => conn.deadline + wait,
        };
        Ok(Held { conn, until, run })
    }
}

impl Held {
    /// Whatever the server sends next, at most `max` bytes (itself at most 16 KiB + a record
    /// header), within `wait`: for a check that parses a whole flight itself.
    pub async fn read_some(&mut self, max: usize, wait: Duration) -> Step {
        let by = self.step_deadline(wait);
        let mut buf = vec![0u8; max.clamp(1, MAX_BULK_READ)];
        match tokio::time::timeout_at(by, self.conn.stream.read(&mut buf)).await {
            Err(_) if self.cut_by_run() => Step::DeadlineReached,
            Err(_) => Step::Silent { got: 0 },
            Ok(Err(_)) | Ok(Ok(0)) => Step::Closed { got: 0 },
            Ok(Ok(k)) => {
                buf.truncate(k);
                Step::Bytes(buf)
            }
        }
    }

    fn step_deadline(&self, wait: Duration) -> Instant {
        (Instant::now() + wait).min(self.until)
    }

    fn cut_by_run(&self) -> bool {
        match &self.run {
            Some(r) if r.has_passed() => {
                r.mark_reached();
                true
            }
            _ => false,
        }
    }

    /// Write `bytes` within `wait`; false when the server closed or the write stalled.
    pub async fn send(&mut self, bytes: &[u8], wait: Duration) -> bool {
        let by = self.step_deadline(wait);
        matches!(
            tokio::time::timeout_at(by, self.conn.stream.write_all(bytes)).await,
            Ok(Ok(()))
        )
    }

    /// Read exactly `n` bytes (at most [`MAX_STEP_READ`]) within `wait`.
    pub async fn read_exact(&mut self, n: usize, wait: Duration) -> Step {
        let n = n.min(MAX_STEP_READ);
        let by = self.step_deadline(wait);
        let mut buf = vec![0u8; n];
        let mut got = 0;
        while got < n {
            match tokio::time::timeout_at(by, self.conn.stream.read(&mut buf[got..])).await {
                Err(_) if self.cut_by_run() => return Step::DeadlineReached,
                Err(_) => return Step::Silent { got },
                Ok(Err(_)) | Ok(Ok(0)) => return Step::Closed { got },
                Ok(Ok(k)) => got += k,
            }
        }
        Step::Bytes(buf)
    }
}

/// Holds a connection's slot after its stream was taken out of it (to wrap it in a TLS
/// library's stream): the slot is released when this is dropped.
#[derive(Debug)]
pub struct SlotGuard(#[allow(dead_code)] Option<super::connection::SlotHold>);

impl Connection {
    /// The stream, the exchange's deadline, and the guard that keeps the slot taken.
    pub fn split(self) -> (tokio::net::TcpStream, Instant, SlotGuard) {
        let Connection {
            stream,
            deadline,
            run_cut: _,
            _slot,
        } = self;
        (stream, deadline, SlotGuard(_slot))
    }
}
