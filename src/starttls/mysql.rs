//! MySQL / MariaDB: the server speaks first with its handshake packet, whose capability
//! flags say whether it has TLS (`CLIENT_SSL`); the client answers with a short SSLRequest
//! packet (the capability flags with `CLIENT_SSL` set, no credentials) and TLS starts.

use super::binary::{bounded, read_exact};
use super::reply::send_bytes;
use crate::probe::PreludeError;
use tokio::net::TcpStream;
use tokio::time::Instant;

const CLIENT_LONG_PASSWORD: u32 = 0x1;
const CLIENT_PROTOCOL_41: u32 = 0x200;
const CLIENT_SSL: u32 = 0x800;
const CLIENT_SECURE_CONNECTION: u32 = 0x8000;
const CLIENT_PLUGIN_AUTH: u32 = 0x80000;
/// The initial handshake is a few hundred bytes.
const MAX_HANDSHAKE: usize = 64 * 1024;

/// What the server's first packet says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Greeting {
    /// Protocol 10 handshake: server version and whether `CLIENT_SSL` is set.
    Handshake { version: String, ssl: bool },
    /// An error packet (e.g. "Host '…' is not allowed to connect").
    Error { code: u16, message: String },
}

pub fn parse_greeting(payload: &[u8]) -> Result<Greeting, PreludeError> {
    let malformed = |what: &str| PreludeError::Malformed {
        reason: format!("MySQL handshake: {what}"),
    };
    match payload.first() {
        Some(0xff) => {
            let code = match payload.get(1..3) {
                Some(c) => u16::from_le_bytes([c[0], c[1]]),
                None => return Err(malformed("truncated error packet")),
            };
            let mut msg = &payload[3..];
            if msg.first() == Some(&b'#') && msg.len() >= 6 {
                msg = &msg[6..];
            }
            Ok(Greeting::Error {
                code,
                message: String::from_utf8_lossy(msg).into_owned(),
            })
        }
        Some(10) => {
            let rest = &payload[1..];
            let nul = rest
                .iter()
                .position(|b| *b == 0)
                .ok_or_else(|| malformed("no end to the server version"))?;
            let version = String::from_utf8_lossy(&rest[..nul]).into_owned();
            // connection id (4), auth data part 1 (8), filler (1), then the capability
            // flags' lower two bytes.
            let caps = rest
                .get(nul + 1 + 13..nul + 1 + 15)
                .ok_or_else(|| malformed("no capability flags"))?;
            let caps = u16::from_le_bytes([caps[0], caps[1]]) as u32;
            Ok(Greeting::Handshake {
                version,
                ssl: caps & CLIENT_SSL != 0,
            })
        }
        Some(v) => Err(malformed(&format!("protocol version {v}, not 10"))),
        None => Err(malformed("an empty packet")),
    }
}

/// The SSLRequest: packet 1, 32 bytes.
pub fn ssl_request() -> Vec<u8> {
    let caps = CLIENT_LONG_PASSWORD
        | CLIENT_PROTOCOL_41
        | CLIENT_SSL
        | CLIENT_SECURE_CONNECTION
        | CLIENT_PLUGIN_AUTH;
    let mut p = vec![32, 0, 0, 1];
    p.extend_from_slice(&caps.to_le_bytes());
    p.extend_from_slice(&(16u32 << 20).to_le_bytes());
    p.push(0x21); // utf8_general_ci
    p.extend_from_slice(&[0u8; 23]);
    p
}

pub async fn upgrade(stream: &mut TcpStream, deadline: Instant) -> Result<(), PreludeError> {
    let header = read_exact(stream, deadline, 4).await?;
    let len = u32::from_le_bytes([header[0], header[1], header[2], 0]) as usize;
    let len = bounded(len, MAX_HANDSHAKE, "the MySQL handshake packet")?;
    let payload = read_exact(stream, deadline, len).await?;
    match parse_greeting(&payload)? {
        Greeting::Error { code, message } => Err(PreludeError::Refused {
            reply: format!("ERROR {code}: {message}"),
        }),
        Greeting::Handshake {
            version,
            ssl: false,
        } => Err(PreludeError::NotOffered {
            reply: format!("server {version} without the SSL capability flag"),
        }),
        Greeting::Handshake { ssl: true, .. } => send_bytes(stream, deadline, &ssl_request()).await,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn greetings() {
        let mut p = vec![10];
        p.extend_from_slice(b"10.11.6-MariaDB\0");
        p.extend_from_slice(&[1, 0, 0, 0]);
        p.extend_from_slice(&[b'a'; 8]);
        p.push(0);
        p.extend_from_slice(&(0xf7feu16 | 0x0800).to_le_bytes());
        assert_eq!(
            parse_greeting(&p).unwrap(),
            Greeting::Handshake {
                version: "10.11.6-MariaDB".into(),
                ssl: true
            }
        );
        let n = p.len();
        p[n - 2..].copy_from_slice(&0xf7feu16.to_le_bytes());
        assert!(matches!(
            parse_greeting(&p).unwrap(),
            Greeting::Handshake { ssl: false, .. }
        ));
        let err = b"\xff\x6a\x04Host 'x' is not allowed to connect";
        assert!(matches!(
            parse_greeting(err).unwrap(),
            Greeting::Error { code: 1130, .. }
        ));
        for bad in [&b""[..], b"\x0a", b"\x0aabc", b"\x09", b"\xff"] {
            assert!(parse_greeting(bad).is_err(), "{bad:?}");
        }
        assert_eq!(ssl_request().len(), 36);
    }
}
