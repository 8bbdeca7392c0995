//! The loopback relay a live client connects to: every connection it accepts is forwarded to
//! the server through the probe engine ([`Prober::open`]: the server's connection slot, the
//! connection count, the connect and whole-exchange deadlines, the prelude), so a real
//! client's connection counts under `--max-connections` like any probe. It keeps the first
//! bytes of each direction of the first connection (the client's real ClientHello and the
//! server's answer), for the disagreement fixtures.
//!
//! With [`Gate::HandshakeOnly`] it also stops forwarding the client's bytes once the client's
//! side of the handshake is over, so a client that sends a request right after the handshake
//! (curl) reaches the server with nothing beyond the handshake.

use crate::probe::Prober;
use crate::wire::record::{ContentType, is_tls_content_type};
use crate::wire::{FlightProgress, ProtocolVersion, ServerFlightParser};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpListener;

/// Bytes kept of each direction of the first connection.
const CAPTURE_CAP: usize = 64 * 1024;
/// The longest encrypted record a TLS 1.3 client without a certificate sends to finish its
/// handshake: a Finished with SHA-384 is 69 bytes of record payload, an empty Certificate 25;
/// the shortest HTTP/1.1 request curl sends is over 90.
const TLS13_SHORT_RECORD: usize = 80;

/// What the relay forwards from the client.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Gate {
    /// Everything the client sends.
    All,
    /// The client's handshake records only: in TLS ≤ 1.2 nothing encrypted as application
    /// data; in TLS 1.3, where the client's last handshake messages are encrypted too, the
    /// records that can be them: with a client certificate the first three (Certificate,
    /// CertificateVerify, Finished), without one up to two short ones (an empty Certificate
    /// when the server asked for one, and the Finished, each well under
    /// [`TLS13_SHORT_RECORD`] bytes, where a request is longer).
    HandshakeOnly { client_cert: bool },
}

/// What went through the relay during one client run.
#[derive(Debug, Clone, Default)]
pub(crate) struct Capture {
    /// The first bytes the client sent on its first connection (its ClientHello).
    pub client_bytes: Vec<u8>,
    /// The first bytes the server sent back on that connection.
    pub server_bytes: Vec<u8>,
    /// Connections the client opened to the relay.
    pub connections: usize,
    /// Why a connection could not be forwarded (the server's connect error), first one.
    pub forward_error: Option<String>,
    /// The gate held back what the client sent after its handshake (never sent to the
    /// server).
    pub held_back: bool,
}

/// A listener on 127.0.0.1 whose connections go to the server behind `prober`.
pub(crate) struct Relay {
    listener: TcpListener,
}

impl Relay {
    pub async fn bind() -> std::io::Result<Relay> {
        Ok(Relay {
            listener: TcpListener::bind("127.0.0.1:0").await?,
        })
    }

    pub fn addr(&self) -> std::io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// Forward connections until `stop` completes, then wait for those in flight (each ends
    /// by its own deadline at the latest). Connections beyond the first `max_connections`
    /// are refused (closed at once).
    pub async fn serve<F: std::future::Future>(
        self,
        prober: &Prober,
        gate: Gate,
        max_connections: usize,
        stop: F,
    ) -> (F::Output, Capture) {
        let capture = Arc::new(Mutex::new(Capture::default()));
        let mut forwards = futures::stream::FuturesUnordered::new();
        tokio::pin!(stop);
        let out = loop {
            tokio::select! {
                out = &mut stop => break out,
                accepted = self.listener.accept() => {
                    let Ok((client, _)) = accepted else { continue };
                    let n = {
                        let mut c = capture.lock().unwrap_or_else(|e| e.into_inner());
                        c.connections += 1;
                        c.connections
                    };
                    if n > max_connections {
                        drop(client);
                        continue;
                    }
                    forwards.push(forward(client, prober.clone(), gate, n == 1, capture.clone()));
                }
                Some(()) = futures::StreamExt::next(&mut forwards), if !forwards.is_empty() => {}
            }
        };
        drop(self.listener);
        while futures::StreamExt::next(&mut forwards).await.is_some() {}
        let capture = capture.lock().unwrap_or_else(|e| e.into_inner()).clone();
        (out, capture)
    }
}

/// One client connection: open the server connection through the prober and copy both ways
/// until either side closes or the connection's deadline passes.
async fn forward(
    client: tokio::net::TcpStream,
    prober: Prober,
    gate: Gate,
    keep: bool,
    capture: Arc<Mutex<Capture>>,
) {
    let conn = match prober.open().await {
        Ok(c) => c,
        Err(e) => {
            let mut c = capture.lock().unwrap_or_else(|e| e.into_inner());
            c.forward_error.get_or_insert_with(|| e.to_string());
            return;
        }
    };
    let deadline = conn.deadline;
    let (server_read, server_write) = conn.stream.into_split();
    let (client_read, client_write) = client.into_split();
    let tls13 = Arc::new(AtomicBool::new(false));
    let up = pump_client(client_read, server_write, gate, keep, &tls13, &capture);
    let down = pump_server(server_read, client_write, keep, &tls13, &capture);
    let _ = tokio::time::timeout_at(deadline, async { tokio::join!(up, down) }).await;
}

/// Client → server, through the gate.
async fn pump_client<R, W>(
    mut from: R,
    mut to: W,
    gate: Gate,
    keep: bool,
    tls13: &AtomicBool,
    capture: &Mutex<Capture>,
) where
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin,
{
    let mut buf = vec![0u8; 16 * 1024];
    let mut records = RecordGate::new(gate);
    loop {
        let n = match from.read(&mut buf).await {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        if keep {
            keep_bytes(capture, &buf[..n], |c| &mut c.client_bytes);
        }
        let pass = records.admit(&buf[..n], tls13.load(Ordering::Relaxed));
        if records.closed {
            let mut c = capture.lock().unwrap_or_else(|e| e.into_inner());
            c.held_back = true;
        }
        if !pass.is_empty() && to.write_all(&pass).await.is_err() {
            break;
        }
        // Once the handshake is over the server gets nothing more; the connection stays
        // open (so the client hears what the server sends after the handshake) until the
        // client closes it or the deadline passes.
    }
    let _ = to.shutdown().await;
}

/// Server → client, learning the negotiated version from the server's first flight.
async fn pump_server<R, W>(
    mut from: R,
    mut to: W,
    keep: bool,
    tls13: &AtomicBool,
    capture: &Mutex<Capture>,
) where
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin,
{
    let mut buf = vec![0u8; 16 * 1024];
    let mut parser = Some(ServerFlightParser::new());
    let mut seen = 0usize;
    loop {
        let n = match from.read(&mut buf).await {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        if keep {
            keep_bytes(capture, &buf[..n], |c| &mut c.server_bytes);
        }
        seen += n;
        if let Some(p) = parser.as_mut() {
            match p.feed(&buf[..n]) {
                Ok(FlightProgress::NeedMore) if seen < CAPTURE_CAP => {}
                Ok(_) => {
                    if let Some(p) = parser.take() {
                        let v = p.into_flight().version();
                        tls13.store(v == Some(ProtocolVersion::Tls13), Ordering::Relaxed);
                    }
                }
                Err(_) => parser = None,
            }
            // TLS 1.3 is known from the ServerHello alone, before the flight completes.
            if parser.is_some() && !tls13.load(Ordering::Relaxed) {
                let peek = parser.clone().map(|p| p.into_flight().version());
                if peek == Some(Some(ProtocolVersion::Tls13)) {
                    tls13.store(true, Ordering::Relaxed);
                }
            }
        }
        if to.write_all(&buf[..n]).await.is_err() {
            break;
        }
    }
    let _ = to.shutdown().await;
}

fn keep_bytes(capture: &Mutex<Capture>, bytes: &[u8], field: fn(&mut Capture) -> &mut Vec<u8>) {
    let mut c = capture.lock().unwrap_or_else(|e| e.into_inner());
    let kept = field(&mut c);
    let room = CAPTURE_CAP.saturating_sub(kept.len());
    kept.extend_from_slice(&bytes[..bytes.len().min(room)]);
}

/// Follows the client's records to find where its handshake ends. In gated mode only whole
/// records are forwarded, so a record is judged before any byte of it leaves.
struct RecordGate {
    gate: Gate,
    /// Bytes of a record not yet complete.
    pending: Vec<u8>,
    /// Encrypted (application_data-typed) records forwarded so far.
    encrypted: usize,
    /// Set once the client sent a record beyond its handshake: nothing more is forwarded.
    closed: bool,
    /// The stream is not TLS records: forward it as it is.
    lost: bool,
}

impl RecordGate {
    fn new(gate: Gate) -> Self {
        RecordGate {
            gate,
            pending: Vec::new(),
            encrypted: 0,
            closed: false,
            lost: false,
        }
    }

    /// The bytes to forward now, given what the client just sent.
    fn admit(&mut self, bytes: &[u8], tls13: bool) -> Vec<u8> {
        let Gate::HandshakeOnly { client_cert } = self.gate else {
            return bytes.to_vec();
        };
        if self.closed {
            return Vec::new();
        }
        if self.lost {
            return bytes.to_vec();
        }
        self.pending.extend_from_slice(bytes);
        let mut out = Vec::new();
        while let Some(header) = self.pending.get(..5) {
            if !is_tls_content_type(header[0]) || header[1] != 3 {
                self.lost = true;
                out.append(&mut self.pending);
                break;
            }
            let len = 5 + usize::from(u16::from_be_bytes([header[3], header[4]]));
            if self.pending.len() < len {
                break;
            }
            if header[0] == ContentType::ApplicationData.to_u8() {
                let handshake = match (tls13, client_cert) {
                    (false, _) => false,
                    (true, true) => self.encrypted < 3,
                    (true, false) => self.encrypted < 2 && len - 5 <= TLS13_SHORT_RECORD,
                };
                if !handshake {
                    self.closed = true;
                    self.pending.clear();
                    break;
                }
                self.encrypted += 1;
            }
            out.extend(self.pending.drain(..len));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(typ: u8, len: usize) -> Vec<u8> {
        let mut r = vec![typ, 3, 3, (len >> 8) as u8, len as u8];
        r.extend(std::iter::repeat_n(0u8, len));
        r
    }

    #[test]
    fn tls12_application_data_is_held_back() {
        let mut g = RecordGate::new(Gate::HandshakeOnly { client_cert: false });
        let hello = record(22, 40);
        // A record split across reads goes on once it is whole.
        assert!(g.admit(&hello[..3], false).is_empty());
        assert_eq!(g.admit(&hello[3..], false), hello);
        let mut flight = record(22, 70);
        flight.extend(record(20, 1));
        flight.extend(record(22, 40));
        assert_eq!(g.admit(&flight, false), flight);
        let get = record(23, 30);
        assert!(g.admit(&get, false).is_empty());
        assert!(g.closed);
    }

    #[test]
    fn tls13_lets_the_finished_through_and_not_the_request() {
        let mut g = RecordGate::new(Gate::HandshakeOnly { client_cert: false });
        assert_eq!(g.admit(&record(22, 40), false).len(), 45);
        let mut finished = record(20, 1);
        finished.extend(record(23, 53));
        let mut both = finished.clone();
        both.extend(record(23, 97));
        assert_eq!(g.admit(&both, true), finished);
        assert!(g.closed);
    }

    #[test]
    fn tls13_lets_an_empty_certificate_and_the_finished_through() {
        let mut g = RecordGate::new(Gate::HandshakeOnly { client_cert: false });
        g.admit(&record(22, 40), false);
        let mut flight = record(20, 1);
        flight.extend(record(23, 25));
        flight.extend(record(23, 69));
        assert_eq!(g.admit(&flight, true), flight);
        assert!(
            g.admit(&record(23, 60), true).is_empty(),
            "a third record is not handshake"
        );
    }

    #[test]
    fn what_is_not_tls_goes_through_untouched() {
        let mut g = RecordGate::new(Gate::HandshakeOnly { client_cert: false });
        assert_eq!(
            g.admit(b"GET / HTTP/1.0\r\n", false),
            b"GET / HTTP/1.0\r\n".to_vec()
        );
        assert_eq!(g.admit(&record(23, 4), false), record(23, 4));
        let mut open = RecordGate::new(Gate::All);
        assert_eq!(open.admit(&record(23, 4), false), record(23, 4));
    }
}
