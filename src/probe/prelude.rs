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
