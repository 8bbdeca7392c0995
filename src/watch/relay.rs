//! One relayed connection: bytes are copied both ways untouched, each chunk shown to the
//! [`Recording`] as it passes. Deadlines: the handshake must be over within the handshake
//! deadline, then the connection ends after the idle deadline without a byte either way;
//! every write to a peer has the handshake deadline too. A stop signal ends it at once.

use super::diagnose::EndReason;
use super::record::{Ending, Recording, Side};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::watch;
use tokio::time::Instant;

/// Bytes read from a peer at a time (and so buffered per direction).
const CHUNK: usize = 16 * 1024;

#[derive(Debug, Clone, Copy)]
pub struct Deadlines {
    /// From accept to the end of the handshake.
    pub handshake: Duration,
    /// Without a byte either way, once the handshake is over.
    pub idle: Duration,
}

/// Past the handshake as far as the relay can tell: the application has sent its Finished
/// and data (two encrypted records) and the server at least one encrypted record, or the
/// server has sent data after the application's Finished.
fn handshake_done(rec: &Recording) -> bool {
    let (c, s) = (
        rec.encrypted_records(Side::Client),
        rec.encrypted_records(Side::Server),
    );
    (c >= 2 && s >= 1) || (c >= 1 && s >= 2 && !rec.is_tls13())
}

fn ms(since: Instant) -> u64 {
    since.elapsed().as_millis().min(u64::MAX as u128) as u64
}

fn ending(e: &std::io::Error, since: Instant) -> Ending {
    Ending::Reset {
        at_ms: ms(since),
        error: e.to_string(),
    }
}

/// Relay between `client` and `server` until both have closed, one resets, a deadline
/// passes or `stop` turns true.
pub async fn relay(
    mut client: TcpStream,
    server: &mut TcpStream,
    deadlines: Deadlines,
    mut stop: watch::Receiver<bool>,
    accepted: Instant,
) -> (Recording, EndReason) {
    let mut rec = Recording::new();
    let (mut cr, mut cw) = client.split();
    let (mut sr, mut sw) = server.split();
    let mut cbuf = vec![0u8; CHUNK];
    let mut sbuf = vec![0u8; CHUNK];
    let (mut client_open, mut server_open) = (true, true);
    let mut last_activity = Instant::now();
    let reason = loop {
        if !client_open && !server_open {
            break EndReason::PeersClosed;
        }
        if *stop.borrow() {
            break EndReason::Shutdown;
        }
        let done = handshake_done(&rec);
        let deadline = if done {
            last_activity + deadlines.idle
        } else {
            accepted + deadlines.handshake
        };
        tokio::select! {
            r = cr.read(&mut cbuf), if client_open => match r {
                Ok(0) => {
                    rec.end(Side::Client, Ending::Closed { at_ms: ms(accepted) });
                    client_open = false;
                    let _ = sw.shutdown().await;
                }
                Ok(n) => {
                    last_activity = Instant::now();
                    rec.feed(Side::Client, &cbuf[..n], accepted.elapsed());
                    match tokio::time::timeout(deadlines.handshake, sw.write_all(&cbuf[..n])).await {
                        Ok(Ok(())) => {}
                        Ok(Err(e)) => {
                            rec.end(Side::Server, ending(&e, accepted));
                            break EndReason::PeersClosed;
                        }
                        Err(_) => break EndReason::HandshakeTimeout(deadlines.handshake),
                    }
                }
                Err(e) => {
                    rec.end(Side::Client, ending(&e, accepted));
                    break EndReason::PeersClosed;
                }
            },
            r = sr.read(&mut sbuf), if server_open => match r {
                Ok(0) => {
                    rec.end(Side::Server, Ending::Closed { at_ms: ms(accepted) });
                    server_open = false;
                    let _ = cw.shutdown().await;
                }
                Ok(n) => {
                    last_activity = Instant::now();
                    rec.feed(Side::Server, &sbuf[..n], accepted.elapsed());
                    match tokio::time::timeout(deadlines.handshake, cw.write_all(&sbuf[..n])).await {
                        Ok(Ok(())) => {}
                        Ok(Err(e)) => {
                            rec.end(Side::Client, ending(&e, accepted));
                            break EndReason::PeersClosed;
                        }
                        Err(_) => break EndReason::HandshakeTimeout(deadlines.handshake),
                    }
                }
                Err(e) => {
                    rec.end(Side::Server, ending(&e, accepted));
                    break EndReason::PeersClosed;
                }
            },
            _ = tokio::time::sleep_until(deadline) => {
                break if done {
                    EndReason::Idle(deadlines.idle)
                } else {
                    EndReason::HandshakeTimeout(deadlines.handshake)
                };
            }
            r = stop.changed() => if r.is_err() {
                break EndReason::Shutdown;
            },
        }
    };
    (rec, reason)
}
