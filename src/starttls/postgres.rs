//! PostgreSQL: the 8-byte SSLRequest, answered by one byte: `S` (TLS follows) or `N` (no
//! TLS on this server). A server too old to know SSLRequest answers with an ErrorResponse.

use super::binary::{bounded, read_exact};
use super::reply::send_bytes;
use crate::probe::PreludeError;
use tokio::net::TcpStream;
use tokio::time::Instant;

/// Length 8, then the SSLRequest code 80877103 (1234 << 16 | 5679).
pub const SSL_REQUEST: [u8; 8] = [0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x2f];

/// The ALPN protocol PostgreSQL 17's direct TLS requires in the ClientHello.
pub const DIRECT_ALPN: &str = "postgresql";

/// The ErrorResponse's message field (`M`), from the fields after the length.
pub fn error_message(fields: &[u8]) -> Option<String> {
    fields
        .split(|b| *b == 0)
        .find_map(|f| f.strip_prefix(b"M"))
        .map(|m| String::from_utf8_lossy(m).into_owned())
}

pub async fn upgrade(stream: &mut TcpStream, deadline: Instant) -> Result<(), PreludeError> {
    send_bytes(stream, deadline, &SSL_REQUEST).await?;
    let answer = read_exact(stream, deadline, 1).await?;
    match answer[0] {
        b'S' => Ok(()),
        b'N' => Err(PreludeError::NotOffered {
            reply: "N (the server does not support SSL)".into(),
        }),
        b'E' => {
            let len = read_exact(stream, deadline, 4).await?;
            let len = u32::from_be_bytes([len[0], len[1], len[2], len[3]]) as usize;
            let len = bounded(len.saturating_sub(4), 8192, "the ErrorResponse")?;
            let fields = read_exact(stream, deadline, len).await?;
            Err(PreludeError::Refused {
                reply: error_message(&fields).unwrap_or_else(|| "an ErrorResponse".into()),
            })
        }
        other => Err(PreludeError::Malformed {
            reason: format!("expected S or N after SSLRequest, got the byte 0x{other:02x}"),
        }),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn error_message_field() {
        let fields = b"SFATAL\0C0A000\0Munsupported frontend protocol\0\0";
        assert_eq!(
            super::error_message(fields).as_deref(),
            Some("unsupported frontend protocol")
        );
        assert_eq!(super::error_message(b"SFATAL\0"), None);
    }
}
