//! POP3: CAPA, then STLS (RFC 2595), answered with `+OK`. The pipelined form, once an
//! upgrade worked: `STLS` sent with the connection, before the greeting, and greeting and
//! answer read in turn.

use super::reply::{nothing_after, read_until, send};
use crate::probe::PreludeError;
use crate::probe::prelude::read_line;
use tokio::net::TcpStream;
use tokio::time::Instant;

async fn greeting(stream: &mut TcpStream, deadline: Instant) -> Result<(), PreludeError> {
    let greeting = read_line(stream, deadline, super::reply::MAX_LINE).await?;
    if !greeting.starts_with("+OK") {
        return Err(unexpected(greeting));
    }
    Ok(())
}

/// Read the answer to STLS: `+OK` with nothing after it.
async fn stls_answer(stream: &mut TcpStream, deadline: Instant) -> Result<(), PreludeError> {
    let answer = read_line(stream, deadline, super::reply::MAX_LINE).await?;
    if !answer.starts_with("+OK") {
        return Err(PreludeError::Refused { reply: answer });
    }
    nothing_after(stream, &answer)
}

/// The full dialogue.
pub async fn upgrade(stream: &mut TcpStream, deadline: Instant) -> Result<(), PreludeError> {
    greeting(stream, deadline).await?;
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
    stls_answer(stream, deadline).await
}

/// What the pipelined form sends with the connection, before the greeting.
pub const PIPELINED: &str = "STLS\r\n";

/// The pipelined form's answers, once [`PIPELINED`] is sent: the greeting, then `+OK`.
pub async fn pipelined_answers(
    stream: &mut TcpStream,
    deadline: Instant,
) -> Result<(), PreludeError> {
    greeting(stream, deadline).await?;
    stls_answer(stream, deadline).await
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
