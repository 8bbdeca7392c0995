//! Reading a line-based server's replies, bounded: line length, line count and the deadline.
//! Lines are read byte by byte (through [`crate::probe::prelude::read_line`]) so nothing the
//! server sends after its last plaintext line is consumed.

use crate::probe::PreludeError;
use crate::probe::prelude::read_line;
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;
use tokio::time::Instant;

/// Longest reply line accepted (RFC 5321 allows 512 octets; banners run longer in practice).
pub const MAX_LINE: usize = 2048;
/// Most lines in one reply (an EHLO answer has a dozen; a hostile server sends forever).
pub const MAX_LINES: usize = 100;

/// A numeric reply (SMTP, LMTP, FTP, NNTP): the code and every line's text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CodedReply {
    pub code: u16,
    /// Each line as sent, without its line ending.
    pub lines: Vec<String>,
}

impl CodedReply {
    /// The reply as the server sent it, lines joined with " / ", for evidence and messages.
    pub fn text(&self) -> String {
        self.lines.join(" / ")
    }

    pub fn is_positive(&self) -> bool {
        (200..400).contains(&self.code)
    }

    /// The keyword each line after the code starts with, upper-cased (EHLO extensions).
    pub fn keywords(&self) -> impl Iterator<Item = String> + '_ {
        self.lines.iter().map(|l| {
            l.get(4..)
                .unwrap_or("")
                .split_whitespace()
                .next()
                .unwrap_or("")
                .to_ascii_uppercase()
        })
    }
}

/// The three-digit code a line starts with, and whether the line continues the reply
/// (`250-…`) or ends it (`250 …`, `250`).
pub fn parse_coded_line(line: &str) -> Option<(u16, bool)> {
    let b = line.as_bytes();
    if b.len() < 3 || !b[..3].iter().all(u8::is_ascii_digit) {
        return None;
    }
    let code = line[..3].parse().ok()?;
    match b.get(3) {
        None | Some(b' ') => Some((code, false)),
        Some(b'-') => Some((code, true)),
        _ => None,
    }
}

/// Read one numeric reply, single- or multi-line. An FTP multi-line reply may hold lines
/// without a code between its first and last line (RFC 959 §4.2); SMTP's do not, but
/// accepting them costs nothing.
pub async fn read_coded(
    stream: &mut TcpStream,
    deadline: Instant,
) -> Result<CodedReply, PreludeError> {
    let first = read_line(stream, deadline, MAX_LINE).await?;
    let Some((code, mut more)) = parse_coded_line(&first) else {
        return Err(PreludeError::Malformed {
            reason: format!("expected a three-digit reply code, got \"{first}\""),
        });
    };
    let mut lines = vec![first];
    while more {
        if lines.len() >= MAX_LINES {
            return Err(PreludeError::Malformed {
                reason: format!("a reply of more than {MAX_LINES} lines"),
            });
        }
        let line = read_line(stream, deadline, MAX_LINE).await?;
        if let Some((c, m)) = parse_coded_line(&line) {
            if c == code && !m {
                more = false;
            }
        }
        lines.push(line);
    }
    Ok(CodedReply { code, lines })
}

/// Write a command line (CRLF added) under the deadline.
pub async fn send(
    stream: &mut TcpStream,
    deadline: Instant,
    line: &str,
) -> Result<(), PreludeError> {
    let mut bytes = line.as_bytes().to_vec();
    bytes.extend_from_slice(b"\r\n");
    send_bytes(stream, deadline, &bytes).await
}

/// Write raw bytes under the deadline.
pub async fn send_bytes(
    stream: &mut TcpStream,
    deadline: Instant,
    bytes: &[u8],
) -> Result<(), PreludeError> {
    match tokio::time::timeout_at(deadline, stream.write_all(bytes)).await {
        Err(_) => Err(PreludeError::Timeout),
        Ok(r) => Ok(r?),
    }
}

/// Read lines until `done` says the reply is over; every line is kept. Bounded like
/// [`read_coded`].
pub async fn read_until(
    stream: &mut TcpStream,
    deadline: Instant,
    done: impl Fn(&str) -> bool,
) -> Result<Vec<String>, PreludeError> {
    let mut lines = Vec::new();
    loop {
        if lines.len() >= MAX_LINES {
            return Err(PreludeError::Malformed {
                reason: format!("a reply of more than {MAX_LINES} lines"),
            });
        }
        let line = read_line(stream, deadline, MAX_LINE).await?;
        let end = done(&line);
        lines.push(line);
        if end {
            return Ok(lines);
        }
    }
}

/// After the server's go-ahead for TLS (`answer`), nothing more may be waiting: a server
/// sends nothing until it has the ClientHello. Bytes already there would be read as the
/// server's TLS, so they end the upgrade as a protocol error, named. (They are only looked
/// at, not consumed: whatever comes next sees the stream as it is.)
pub fn nothing_after(stream: &TcpStream, answer: &str) -> Result<(), PreludeError> {
    match buffered(stream) {
        Some(bytes) if !bytes.is_empty() => Err(PreludeError::Malformed {
            reason: format!(
                "the server sent more after its go-ahead \"{answer}\", before any ClientHello: \"{}\" (a client would read it as the server's TLS)",
                crate::wire::printable_prefix(&bytes)
            ),
        }),
        _ => Ok(()),
    }
}

/// What the kernel holds for `stream` right now (up to 64 bytes), without waiting or
/// consuming: a peek on a duplicate of the (non-blocking) socket, so tokio's idea of its
/// readiness plays no part. None: nothing, or the peek failed.
pub(super) fn buffered(stream: &TcpStream) -> Option<Vec<u8>> {
    use std::os::fd::AsFd;
    let dup = std::net::TcpStream::from(stream.as_fd().try_clone_to_owned().ok()?);
    let mut buf = [0u8; 64];
    let n = dup.peek(&mut buf).ok()?;
    Some(buf[..n].to_vec())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn coded_lines() {
        assert_eq!(parse_coded_line("250-PIPELINING"), Some((250, true)));
        assert_eq!(parse_coded_line("250 STARTTLS"), Some((250, false)));
        assert_eq!(parse_coded_line("220"), Some((220, false)));
        assert_eq!(parse_coded_line("22"), None);
        assert_eq!(parse_coded_line("2x0 hi"), None);
        assert_eq!(parse_coded_line("250x"), None);
        assert_eq!(parse_coded_line("ééé"), None);
        let r = CodedReply {
            code: 250,
            lines: vec![
                "250-mail".into(),
                "250-starttls".into(),
                "250 8BITMIME".into(),
            ],
        };
        assert_eq!(
            r.keywords().collect::<Vec<_>>(),
            ["MAIL", "STARTTLS", "8BITMIME"]
        );
    }
}
