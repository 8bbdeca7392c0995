//! POP3: CAPA, then STLS (RFC 2595), answered with `+OK`.

use super::reply::{read_until, send};
use crate::probe::PreludeError;
use crate::probe::prelude::read_line;
use tokio::net::TcpStream;
use tokio::time::Instant;

pub async fn upgrade(stream: &mut TcpStream, deadline: Instant) -> Result<(), PreludeError> {
    let greeting = read_line(stream, deadline, super::reply::MAX_LINE).await?;
    if !greeting.starts_with("+OK") {
        return Err(unexpected(greeting));
    }
    send(stream, deadline, "CAPA").await?;
    let status = read_line(stream, deadline, super::reply::MAX_LINE).await?;
    // A server without CAPA (RFC 1939 only) answers -ERR: STLS may still work.
    if status.starts_with("+OK") {
        let caps = read_until(stream, deadline, |l| l == ".").await?;
        if !caps.iter().any(|l| {
            l.split_whitespace()
                .next()
                .is_some_and(|w| w.eq_ignore_ascii_case("STLS"))
        }) {
            let mut all = vec![status];
            all.extend(caps);
            return Err(PreludeError::NotOffered {
                reply: all.join(" / "),
            });
        }
    } else if !status.starts_with("-ERR") {
        return Err(unexpected(status));
    }
    send(stream, deadline, "STLS").await?;
    let answer = read_line(stream, deadline, super::reply::MAX_LINE).await?;
    if answer.starts_with("+OK") {
        Ok(())
    } else {
        Err(PreludeError::Refused { reply: answer })
    }
}

fn unexpected(line: String) -> PreludeError {
    if line.starts_with("-ERR") {
        PreludeError::Refused { reply: line }
    } else {
        PreludeError::Malformed {
            reason: format!("expected +OK or -ERR, got \"{line}\""),
        }
    }
}
