//! IMAP: CAPABILITY, then STARTTLS (RFC 3501 §6.2.1), each answered by a tagged `OK`.

use super::reply::{read_until, send};
use crate::probe::PreludeError;
use crate::probe::prelude::read_line;
use tokio::net::TcpStream;
use tokio::time::Instant;

pub async fn upgrade(stream: &mut TcpStream, deadline: Instant) -> Result<(), PreludeError> {
    let greeting = read_line(stream, deadline, super::reply::MAX_LINE).await?;
    if greeting.starts_with("* BYE") {
        return Err(PreludeError::Refused { reply: greeting });
    }
    if greeting.starts_with("* PREAUTH") {
        // RFC 3501: STARTTLS is only allowed in the not-authenticated state.
        return Err(PreludeError::Refused { reply: greeting });
    }
    if !greeting.starts_with("* OK") {
        return Err(PreludeError::Malformed {
            reason: format!("expected an IMAP greeting (* OK), got \"{greeting}\""),
        });
    }
    send(stream, deadline, "a1 CAPABILITY").await?;
    let lines = read_until(stream, deadline, |l| l.starts_with("a1 ")).await?;
    let status = lines.last().cloned().unwrap_or_default();
    if !status.starts_with("a1 OK") {
        return Err(PreludeError::Refused { reply: status });
    }
    let offered = lines.iter().any(|l| {
        l.starts_with("* CAPABILITY")
            && l.split_whitespace()
                .any(|w| w.eq_ignore_ascii_case("STARTTLS"))
    });
    if !offered {
        return Err(PreludeError::NotOffered {
            reply: lines.join(" / "),
        });
    }
    send(stream, deadline, "a2 STARTTLS").await?;
    let lines = read_until(stream, deadline, |l| l.starts_with("a2 ")).await?;
    let status = lines.last().cloned().unwrap_or_default();
    if status.starts_with("a2 OK") {
        Ok(())
    } else {
        Err(PreludeError::Refused { reply: status })
    }
}
