//! ManageSieve (RFC 5804): the greeting lists capabilities and ends with `OK`; STARTTLS is
//! answered with `OK`. The pipelined form, once an upgrade worked: `STARTTLS` sent with the
//! connection, before the greeting, and greeting and answer read in turn.

use super::reply::{nothing_after, read_until, send};
use crate::probe::PreludeError;
use tokio::net::TcpStream;
use tokio::time::Instant;

fn is_status(l: &str) -> bool {
    ["OK", "NO", "BYE"]
        .iter()
        .any(|s| l == *s || l.starts_with(&format!("{s} ")))
}

/// The greeting (capability lines, then its status): all its lines, if it ends in `OK`.
async fn greeting(stream: &mut TcpStream, deadline: Instant) -> Result<Vec<String>, PreludeError> {
    let caps = read_until(stream, deadline, is_status).await?;
    let status = caps.last().cloned().unwrap_or_default();
    if !status.starts_with("OK") {
        return Err(PreludeError::Refused { reply: status });
    }
    Ok(caps)
}

/// The answer to STARTTLS: `OK` with nothing after it.
async fn starttls_answer(stream: &mut TcpStream, deadline: Instant) -> Result<(), PreludeError> {
    let answer = read_until(stream, deadline, is_status).await?;
    let status = answer.last().cloned().unwrap_or_default();
    if status.starts_with("OK") {
        nothing_after(stream, &status)
    } else {
        Err(PreludeError::Refused { reply: status })
    }
}

/// The full dialogue.
pub async fn upgrade(stream: &mut TcpStream, deadline: Instant) -> Result<(), PreludeError> {
    let caps = greeting(stream, deadline).await?;
    if !caps.iter().any(|l| l.eq_ignore_ascii_case("\"STARTTLS\"")) {
        return Err(PreludeError::NotOffered {
            reply: caps.join(" / "),
        });
    }
    send(stream, deadline, "STARTTLS").await?;
    starttls_answer(stream, deadline).await
}

/// What the pipelined form sends with the connection, before the greeting.
pub const PIPELINED: &str = "STARTTLS\r\n";

/// The pipelined form's answers, once [`PIPELINED`] is sent: the greeting, then `OK`.
pub async fn pipelined_answers(
    stream: &mut TcpStream,
    deadline: Instant,
) -> Result<(), PreludeError> {
    greeting(stream, deadline).await?;
    starttls_answer(stream, deadline).await
}
