//! A full TLS 1.2 handshake (rustls) on a connection from the probe engine, with every byte of
//! both directions recorded (bounded), for the probes that need what rustls does not expose:
//! the server's cleartext NewSessionTicket (Ticketbleed), the client's own Finished and the
//! connection's keys (client-initiated renegotiation).

use super::ScanContext;
use crate::probe::{HandshakeFailure, ProbeOutcome, SlotGuard, TimedStream};
use rustls::pki_types::ServerName;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// How much of each direction is recorded: a handshake's cleartext part is a few KiB, a long
/// certificate chain a few tens.
pub const MAX_RECORDED: usize = 64 * 1024;

/// The engine's connection with a copy of the first [`MAX_RECORDED`] bytes each way.
pub struct Recording {
    inner: TimedStream,
    /// The connection's slot, held as long as the stream lives.
    _slot: SlotGuard,
    pub from_server: Vec<u8>,
    pub to_server: Vec<u8>,
}

fn keep(into: &mut Vec<u8>, bytes: &[u8]) {
    let room = MAX_RECORDED.saturating_sub(into.len());
    into.extend_from_slice(&bytes[..bytes.len().min(room)]);
}

impl Recording {
    /// The stream, to go on talking after the handshake (records written by hand).
    pub fn stream(&mut self) -> &mut TimedStream {
        &mut self.inner
    }
}

impl AsyncRead for Recording {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let this = self.get_mut();
        let before = buf.filled().len();
        let r = Pin::new(&mut this.inner).poll_read(cx, buf);
        if let Poll::Ready(Ok(())) = r {
            keep(&mut this.from_server, &buf.filled()[before..]);
        }
        r
    }
}

impl AsyncWrite for Recording {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        let this = self.get_mut();
        let r = Pin::new(&mut this.inner).poll_write(cx, buf);
        if let Poll::Ready(Ok(n)) = r {
            keep(&mut this.to_server, &buf[..n]);
        }
        r
    }
    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }
    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }
}

/// A TLS 1.2-only client configuration with these suites, any certificate accepted (the
/// handshake is evidence only; nothing is sent over it but probe messages).
pub fn tls12_config(
    suites: &[rustls::SupportedCipherSuite],
) -> Result<rustls::ClientConfig, String> {
    let mut provider = rustls::crypto::ring::default_provider();
    provider.cipher_suites = suites.to_vec();
    Ok(
        rustls::ClientConfig::builder_with_provider(Arc::new(provider))
            .with_protocol_versions(&[&rustls::version::TLS12])
            .map_err(|e| e.to_string())?
            .dangerous()
            .with_custom_certificate_verifier(crate::cert::fetch::evidence_only_verifier())
            .with_no_client_auth(),
    )
}

/// A full handshake with `config` through `ctx.prober.open()` (slot, count, deadlines,
/// prelude), under the connection's deadline (returned, for what follows on the connection);
/// `what` names it in errors.
pub async fn tls12_handshake(
    ctx: &ScanContext,
    config: rustls::ClientConfig,
    what: &str,
) -> Result<(Recording, rustls::ClientConnection, tokio::time::Instant), String> {
    let name = match &ctx.sni {
        Some(n) => ServerName::try_from(n.clone()).map_err(|e| e.to_string())?,
        None => ServerName::IpAddress(ctx.prober.addr().ip().into()),
    };
    let conn = ctx
        .prober
        .open()
        .await
        .map_err(|e| ProbeOutcome::from(e).describe())?;
    let read_timeout = ctx.prober.config().read_timeout;
    let (tcp, deadline, slot) = conn.split();
    let stream = Recording {
        inner: TimedStream::new(tcp, read_timeout),
        _slot: slot,
        from_server: Vec::new(),
        to_server: Vec::new(),
    };
    let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
    let whole = ctx.prober.config().probe_timeout;
    match tokio::time::timeout_at(deadline, connector.connect(name, stream)).await {
        Err(_) => Err(format!("{what} timed out")),
        Ok(Err(e)) => Err(format!(
            "{what} failed: {}",
            HandshakeFailure::from_io(&e, whole)
        )),
        Ok(Ok(tls)) => {
            let (recording, conn) = tls.into_inner();
            Ok((recording, conn, deadline))
        }
    }
}
