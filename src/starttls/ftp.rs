//! FTP: AUTH TLS (RFC 4217), answered with 234. The pipelined form, once an upgrade worked:
//! `AUTH TLS` sent with the connection, before the greeting, and greeting and answer read in
//! turn.

use super::reply::{nothing_after, read_coded, send};
use crate::probe::PreludeError;
use tokio::net::TcpStream;
use tokio::time::Instant;

async fn greeting(stream: &mut TcpStream, deadline: Instant) -> Result<(), PreludeError> {
    let greeting = read_coded(stream, deadline).await?;
    if greeting.code != 220 {
        return Err(PreludeError::Refused {
            reply: greeting.text(),
        });
    }
    Ok(())
}

async fn auth_answer(stream: &mut TcpStream, deadline: Instant) -> Result<(), PreludeError> {
    let answer = read_coded(stream, deadline).await?;
    match answer.code {
        234 => nothing_after(stream, &answer.text()),
        // 500/502/504: AUTH (or its TLS mechanism) is not implemented.
        500 | 502 | 504 => Err(PreludeError::NotOffered {
            reply: answer.text(),
        }),
        _ => Err(PreludeError::Refused {
            reply: answer.text(),
        }),
    }
}

/// The full dialogue.
pub async fn upgrade(stream: &mut TcpStream, deadline: Instant) -> Result<(), PreludeError> {
    greeting(stream, deadline).await?;
    send(stream, deadline, "AUTH TLS").await?;
    auth_answer(stream, deadline).await
}

/// What the pipelined form sends with the connection, before the greeting.
pub const PIPELINED: &str = "AUTH TLS\r\n";

/// The pipelined form's answers, once [`PIPELINED`] is sent: the greeting, then 234.
pub async fn pipelined_answers(
    stream: &mut TcpStream,
    deadline: Instant,
) -> Result<(), PreludeError> {
    greeting(stream, deadline).await?;
    auth_answer(stream, deadline).await
}
