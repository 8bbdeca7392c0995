//! Full TLS handshakes (rustls) through the engine: the same slot, deadlines, count and
//! prelude as a raw probe, and a typed failure instead of an error string.

use super::Prober;
use super::connection::{ConnectError, Connection, SlotHold, TimedStream};
use crate::wire::AlertDescription;
use rustls::pki_types::ServerName;
use serde::{Deserialize, Serialize};
use std::io;
use std::sync::Arc;
use std::time::Duration;
use tokio::time::Instant;

/// A finished handshake. Holds the server's connection slot until dropped.
pub struct TlsSession {
    pub stream: tokio_rustls::client::TlsStream<TimedStream>,
    /// When the whole exchange on this connection must be over.
    pub deadline: Instant,
    _slot: Option<SlotHold>,
}

/// Why a full handshake produced no session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HandshakeError {
    /// No connection to handshake on.
    Connect(ConnectError),
    /// Connected; the handshake itself failed.
    Failed(HandshakeFailure),
}

/// How a TLS handshake failed, as far as the library lets us tell.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum HandshakeFailure {
    /// The server sent this alert.
    #[error("the server sent the TLS alert {}", rustls_alert_name(*.alert))]
    Alert {
        #[serde(
            serialize_with = "super::names::alert",
            deserialize_with = "super::names::alert_from"
        )]
        alert: AlertDescription,
    },
    /// The handshake did not finish before a deadline.
    #[error("handshake timed out after {:.1}s", *.after_ms as f64 / 1000.0)]
    Timeout { after_ms: u64 },
    /// The connection broke: reset, closed mid-handshake, ...
    #[error("{message}")]
    Io {
        #[serde(
            serialize_with = "super::names::io_kind",
            deserialize_with = "super::names::io_kind_from"
        )]
        io_kind: io::ErrorKind,
        message: String,
    },
    /// rustls refused what the server sent, or found nothing in common with it.
    #[error("{message}")]
    Tls {
        class: TlsErrorClass,
        message: String,
    },
}

/// The family of a rustls error, for code that decides by kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TlsErrorClass {
    /// Nothing in common: versions, suites, groups, signature schemes.
    PeerIncompatible,
    /// The server broke the protocol's rules.
    PeerMisbehaved,
    /// A message that does not decode.
    InvalidMessage,
    /// A message that is not allowed at this point of the handshake.
    UnexpectedMessage,
    /// The server's certificate was refused (not by our recording verifier: by rustls).
    Certificate,
    /// A record that does not decrypt.
    DecryptError,
    /// The server chose no ALPN protocol we offered.
    NoApplicationProtocol,
    Other,
}

impl HandshakeFailure {
    /// The alert the server sent, when that is how it ended.
    pub fn alert(&self) -> Option<AlertDescription> {
        match self {
            HandshakeFailure::Alert { alert } => Some(*alert),
            _ => None,
        }
    }

    /// Classify what tokio-rustls reported. `deadline` is the whole-handshake deadline, named
    /// when a read or write deadline ended the handshake.
    pub fn from_io(e: &io::Error, deadline: Duration) -> HandshakeFailure {
        let message = e.to_string();
        if let Some(tls) = e.get_ref().and_then(|i| i.downcast_ref::<rustls::Error>()) {
            use rustls::Error as E;
            let class = match tls {
                E::AlertReceived(a) => {
                    return HandshakeFailure::Alert {
                        alert: AlertDescription::from_u8(u8::from(*a)),
                    };
                }
                E::PeerIncompatible(_) => TlsErrorClass::PeerIncompatible,
                E::PeerMisbehaved(_) => TlsErrorClass::PeerMisbehaved,
                E::InvalidMessage(_) | E::PeerSentOversizedRecord => TlsErrorClass::InvalidMessage,
                E::InappropriateMessage { .. } | E::InappropriateHandshakeMessage { .. } => {
                    TlsErrorClass::UnexpectedMessage
                }
                E::InvalidCertificate(_) | E::NoCertificatesPresented => TlsErrorClass::Certificate,
                E::DecryptError => TlsErrorClass::DecryptError,
                E::NoApplicationProtocol => TlsErrorClass::NoApplicationProtocol,
                _ => TlsErrorClass::Other,
            };
            return HandshakeFailure::Tls { class, message };
        }
        if e.kind() == io::ErrorKind::TimedOut {
            return HandshakeFailure::Timeout {
                after_ms: deadline.as_millis() as u64,
            };
        }
        HandshakeFailure::Io {
            io_kind: e.kind(),
            message,
        }
    }
}

/// The alert's name as rustls spells it (`HandshakeFailure`, `UnknownCA`), which is how
/// handshake errors have always been worded in tlsdoctor's output.
fn rustls_alert_name(a: AlertDescription) -> String {
    format!("{:?}", rustls::AlertDescription::from(a.to_u8()))
}

impl Prober {
    /// A full rustls handshake with the server: slot, count, connect deadline and prelude
    /// as for every connection, each read and write under the read deadline, the handshake
    /// under the whole-probe deadline.
    pub async fn tls_handshake(
        &self,
        config: Arc<rustls::ClientConfig>,
        name: ServerName<'static>,
    ) -> Result<TlsSession, HandshakeError> {
        let conn = self.open().await.map_err(HandshakeError::Connect)?;
        self.tls_handshake_on(conn, config, name).await
    }

    /// [`Prober::tls_handshake`] on a connection already opened ([`Prober::open`]), e.g.
    /// one opened while an earlier handshake it depends on was still going.
    pub async fn tls_handshake_on(
        &self,
        conn: Connection,
        config: Arc<rustls::ClientConfig>,
        name: ServerName<'static>,
    ) -> Result<TlsSession, HandshakeError> {
        let Connection {
            stream,
            deadline,
            run_cut,
            _slot,
        } = conn;
        let whole = self.cfg.probe_timeout;
        let config = self.with_required_alpn(config);
        let timed = TimedStream::new(stream, self.cfg.read_timeout);
        let connector = tokio_rustls::TlsConnector::from(config);
        let stream = by_deadline(deadline, run_cut, whole, connector.connect(name, timed)).await?;
        Ok(TlsSession {
            stream,
            deadline,
            _slot,
        })
    }

    /// As for raw hellos (prelude.rs): the protocol the prelude requires joins whatever ALPN
    /// `config` offers.
    fn with_required_alpn(&self, config: Arc<rustls::ClientConfig>) -> Arc<rustls::ClientConfig> {
        match self.cfg.prelude.as_ref().and_then(|p| p.required_alpn()) {
            Some(alpn) if !config.alpn_protocols.iter().any(|p| p == alpn.as_bytes()) => {
                let mut c = (*config).clone();
                c.alpn_protocols.push(alpn.as_bytes().to_vec());
                Arc::new(c)
            }
            _ => config,
        }
    }

    /// A rustls handshake on `conn` only as far as the server's ServerHello, which says
    /// whether the server resumed the session `config`'s store offers: a full handshake's
    /// second flight would cost one more round trip that this question does not need. The
    /// connection is then dropped mid-handshake, as a raw probe's is.
    pub async fn handshake_kind_on(
        &self,
        conn: Connection,
        config: Arc<rustls::ClientConfig>,
        name: ServerName<'static>,
    ) -> Result<rustls::HandshakeKind, HandshakeError> {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let Connection {
            stream,
            deadline,
            run_cut,
            _slot,
        } = conn;
        let whole = self.cfg.probe_timeout;
        let invalid = |e: rustls::Error| io::Error::new(io::ErrorKind::InvalidData, e);
        let mut tls = rustls::ClientConnection::new(self.with_required_alpn(config), name)
            .map_err(|e| HandshakeError::Failed(HandshakeFailure::from_io(&invalid(e), whole)))?;
        let mut stream = TimedStream::new(stream, self.cfg.read_timeout);
        let exchange = async {
            let mut buf = vec![0u8; 16 * 1024];
            loop {
                while tls.wants_write() {
                    let mut out = Vec::new();
                    tls.write_tls(&mut out)?;
                    stream.write_all(&out).await?;
                }
                if let Some(kind) = tls.handshake_kind() {
                    return Ok(kind);
                }
                let n = stream.read(&mut buf).await?;
                if n == 0 {
                    return Err(io::Error::new(
                        io::ErrorKind::UnexpectedEof,
                        "the server closed the connection during the handshake",
                    ));
                }
                let mut rest = &buf[..n];
                while !rest.is_empty() {
                    // Nothing taken: rustls reads no more after the peer's close_notify.
                    if tls.read_tls(&mut rest)? == 0 {
                        return Err(io::Error::new(
                            io::ErrorKind::UnexpectedEof,
                            "the server ended the TLS session during the handshake",
                        ));
                    }
                    if let Err(e) = tls.process_new_packets() {
                        // The alert rustls queued tells the server why.
                        let mut out = Vec::new();
                        let _ = tls.write_tls(&mut out);
                        let _ = stream.write_all(&out).await;
                        return Err(invalid(e));
                    }
                }
            }
        };
        by_deadline(deadline, run_cut, whole, exchange).await
    }
}

/// A handshake's exchange under its connection's `deadline`: past it, the run's deadline when
/// that was the connection's (`run_cut`), else a timeout of the whole probe (`whole`); an
/// I/O or TLS error typed.
async fn by_deadline<T>(
    deadline: Instant,
    run_cut: Option<super::RunDeadline>,
    whole: Duration,
    exchange: impl std::future::Future<Output = io::Result<T>>,
) -> Result<T, HandshakeError> {
    match tokio::time::timeout_at(deadline, exchange).await {
        Err(_) if run_cut.is_some() => {
            run_cut.as_ref().map(super::RunDeadline::mark_reached);
            Err(HandshakeError::Connect(ConnectError::Deadline))
        }
        Err(_) => Err(HandshakeError::Failed(HandshakeFailure::Timeout {
            after_ms: whole.as_millis() as u64,
        })),
        Ok(Err(e)) => Err(HandshakeError::Failed(HandshakeFailure::from_io(&e, whole))),
        Ok(Ok(done)) => Ok(done),
    }
}
