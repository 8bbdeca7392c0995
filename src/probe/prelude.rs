//! The hook that runs on a fresh TCP connection before TLS starts: a plaintext exchange such
//! as SMTP's `EHLO` / `STARTTLS`. A probe configured with a prelude runs it on every
//! connection that will carry TLS (raw hello probes and full rustls handshakes alike), so no
//! check needs to know which protocol wraps the server's TLS.

use futures::future::BoxFuture;
use std::io;
use tokio::io::AsyncReadExt;
use tokio::net::TcpStream;
use tokio::time::Instant;

/// A plaintext exchange that brings the server to the point where it expects a ClientHello.
///
/// `run` gets the connected stream and the whole-connection deadline; the engine also cancels
/// it at that deadline, so an implementation only needs its own limits on how much it reads.
/// Every byte it reads is the server's and hostile: bound lines, never trust lengths.
pub trait Prelude: Send + Sync + std::fmt::Debug {
    /// A short name for messages, e.g. `SMTP STARTTLS`.
    fn name(&self) -> &str;

    /// Talk until TLS may start, or say why it cannot.
    fn run<'a>(
        &'a self,
        stream: &'a mut TcpStream,
        deadline: Instant,
    ) -> BoxFuture<'a, Result<(), PreludeError>>;

    /// The ALPN protocol every hello on such a connection must offer, when the service
    /// insists on one (PostgreSQL 17's direct TLS closes a connection whose hello lacks
    /// `postgresql`). It is added to each hello: alone when the hello offers no ALPN, at the
    /// end of the list when it offers others (the ALPN check's candidates).
    fn required_alpn(&self) -> Option<&'static str> {
        None
    }
}

/// `hello` (ClientHello records) with `alpn` offered, when it parses and does not offer it
/// yet; otherwise None (send it unchanged).
pub fn with_alpn(hello: &[u8], alpn: &str) -> Option<crate::wire::ClientHello> {
    use crate::wire::ClientExtension;
    let mut parsed = crate::wire::ClientHello::parse_record(hello).ok()?;
    let offered = parsed.extensions.iter_mut().find_map(|e| match e {
        ClientExtension::Alpn(list) => Some(list),
        _ => None,
    });
    match offered {
        Some(list) if list.iter().any(|p| p == alpn) => return None,
        Some(list) => list.push(alpn.to_string()),
        None => parsed
            .extensions
            .push(ClientExtension::Alpn(vec![alpn.to_string()])),
    }
    Some(parsed)
}

/// Why a prelude did not reach the point where TLS starts.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PreludeError {
    /// The server did not finish its side before the deadline.
    #[error("no complete answer before the deadline")]
    Timeout,
    /// The connection broke (reset, closed early, ...).
    #[error("{message}")]
    Io {
        #[serde(
            serialize_with = "super::names::io_kind",
            deserialize_with = "super::names::io_kind_from"
        )]
        kind: io::ErrorKind,
        message: String,
    },
    /// The server answered, but not with what lets TLS start (e.g. STARTTLS refused).
    #[error("the server answered \"{reply}\"")]
    Refused { reply: String },
    /// The server does not offer the upgrade (e.g. no STARTTLS among its capabilities).
    #[error("the server does not offer it; it announced \"{reply}\"")]
    NotOffered { reply: String },
    /// The server's reply breaks the protocol (unparsable, too long, too many lines).
    #[error("malformed reply: {reason}")]
    Malformed { reason: String },
    /// A shortcut the prelude took on this connection (a pipelined dialogue learned on an
    /// earlier one) did not work, and the prelude has turned it off: the engine runs the
    /// prelude once more on a fresh connection, which then takes the full dialogue. Never a
    /// verdict on the server.
    #[error("the pipelined dialogue failed ({reason}); the full dialogue follows")]
    Shortcut { reason: String },
}

impl From<io::Error> for PreludeError {
    fn from(e: io::Error) -> Self {
        PreludeError::Io {
            kind: e.kind(),
            message: e.to_string(),
        }
    }
}

/// Read one line (up to and including `\n`) of at most `max` bytes, byte by byte so nothing
/// after the line (the start of the server's TLS) is consumed. The line comes back without
/// its line ending. A longer line, a close, or the deadline end the read with an error.
pub async fn read_line(
    stream: &mut TcpStream,
    deadline: Instant,
    max: usize,
) -> Result<String, PreludeError> {
    let read = async {
        let mut line = Vec::new();
        loop {
            let b = stream.read_u8().await?;
            if b == b'\n' {
                if line.last() == Some(&b'\r') {
                    line.pop();
                }
                return Ok(String::from_utf8_lossy(&line).into_owned());
            }
            if line.len() >= max {
                return Err(PreludeError::Malformed {
                    reason: format!(
                        "a line longer than {max} bytes: \"{}…\"",
                        crate::wire::printable_prefix(&line)
                    ),
                });
            }
            line.push(b);
        }
    };
    match tokio::time::timeout_at(deadline, read).await {
        Ok(r) => r,
        Err(_) => Err(PreludeError::Timeout),
    }
}

#[cfg(test)]
mod tests {
    use crate::wire::{ClientExtension, ClientHello, ProtocolVersion};

    #[test]
    fn every_hello_offers_the_required_alpn() {
        let hello = crate::scan::versions::probe_hello(ProtocolVersion::Tls12, Some("db.test"));
        let patched = super::with_alpn(&hello, "postgresql").expect("patched");
        assert!(
            patched
                .extensions
                .contains(&ClientExtension::Alpn(vec!["postgresql".into()]))
        );
        let again = ClientHello::parse_record(&patched.encode_records(0x0301)).unwrap();
        assert_eq!(again, patched);
        // A hello that offers it already is left alone; one with other protocols gets it
        // at the end of its list.
        assert!(super::with_alpn(&patched.encode_records(0x0301), "postgresql").is_none());
        let mut h2 = again.clone();
        h2.extensions
            .retain(|e| !matches!(e, ClientExtension::Alpn(_)));
        h2.extensions.push(ClientExtension::Alpn(vec!["h2".into()]));
        let both = super::with_alpn(&h2.encode_records(0x0301), "postgresql").unwrap();
        assert!(both.extensions.contains(&ClientExtension::Alpn(vec![
            "h2".into(),
            "postgresql".into()
        ])));
    }
}
