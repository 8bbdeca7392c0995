//! ManageSieve (RFC 5804): the greeting lists capabilities and ends with `OK`; STARTTLS is
//! answered with `OK`.

use super::reply::{nothing_after, read_until, send};
use crate::probe::PreludeError;
use tokio::net::TcpStream;
use tokio::time::Instant;

fn is_status(l: &str) -> bool {
    ["OK", "NO", "BYE"]
        .iter()
        .any(|s| l == *s || l.starts_with(&format!("{s} ")))
}

pub async fn upgrade(stream: &mut TcpStream, deadline: Instant) -> Result<(), PreludeError> {
    let caps = read_until(stream, deadline, is_status).await?;
    let status = caps.last().cloned().unwrap_or_default();
    if !status.starts_with("OK") {
        return Err(PreludeError::Refused { reply: status });
    }
    if !caps.iter().any(|l| l.eq_ignore_ascii_case("\"STARTTLS\"")) {
        return Err(PreludeError::NotOffered {
            reply: caps.join(" / "),
        });
    }
    send(stream, deadline, "STARTTLS").await?;
    let answer = read_until(stream, deadline, is_status).await?;
    let status = answer.last().cloned().unwrap_or_default();
    if status.starts_with("OK") {
        nothing_after(stream, &status)
    } else {
        Err(PreludeError::Refused { reply: status })
    }
}
