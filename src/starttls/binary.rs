//! Reading a binary protocol's messages under the deadline, with a ceiling on every length
//! the server announces.

use crate::probe::PreludeError;
use tokio::io::AsyncReadExt;
use tokio::net::TcpStream;
use tokio::time::Instant;

/// Read exactly `n` bytes (the caller has bounded `n`).
pub async fn read_exact(
    stream: &mut TcpStream,
    deadline: Instant,
    n: usize,
) -> Result<Vec<u8>, PreludeError> {
    let mut buf = vec![0u8; n];
    match tokio::time::timeout_at(deadline, stream.read_exact(&mut buf)).await {
        Err(_) => Err(PreludeError::Timeout),
        Ok(Err(e)) => Err(e.into()),
        Ok(Ok(_)) => Ok(buf),
    }
}

/// The announced length `len`, or the error for a length above `max`.
pub fn bounded(len: usize, max: usize, what: &str) -> Result<usize, PreludeError> {
    if len > max {
        Err(PreludeError::Malformed {
            reason: format!("{what} announces {len} bytes (more than {max})"),
        })
    } else {
        Ok(len)
    }
}
