//! SMTP and LMTP (EHLO / LHLO, then STARTTLS, RFC 3207) and NNTP (STARTTLS, RFC 4642): the
//! numeric-reply protocols.

use super::reply::{CodedReply, read_coded, send};
use crate::probe::PreludeError;
use tokio::net::TcpStream;
use tokio::time::Instant;

/// The name we greet with. `.invalid` can never be a real host (RFC 6761), so no server
/// mistakes it for one.
pub const CLIENT_NAME: &str = "tlsdoctor.invalid";

fn refused(r: &CodedReply) -> PreludeError {
    PreludeError::Refused { reply: r.text() }
}

/// `hello` is `EHLO` (SMTP) or `LHLO` (LMTP).
pub async fn upgrade(
    stream: &mut TcpStream,
    deadline: Instant,
    hello: &str,
) -> Result<(), PreludeError> {
    let greeting = read_coded(stream, deadline).await?;
    if greeting.code != 220 {
        return Err(refused(&greeting));
    }
    send(stream, deadline, &format!("{hello} {CLIENT_NAME}")).await?;
    let caps = read_coded(stream, deadline).await?;
    if caps.code != 250 {
        return Err(refused(&caps));
    }
    if !caps.keywords().any(|k| k == "STARTTLS") {
        return Err(PreludeError::NotOffered { reply: caps.text() });
    }
    send(stream, deadline, "STARTTLS").await?;
    let answer = read_coded(stream, deadline).await?;
    if answer.code != 220 {
        return Err(refused(&answer));
    }
    Ok(())
}

/// NNTP: a 200/201 greeting, then STARTTLS answered with 382.
pub async fn nntp_upgrade(stream: &mut TcpStream, deadline: Instant) -> Result<(), PreludeError> {
    let greeting = read_coded(stream, deadline).await?;
    if !matches!(greeting.code, 200 | 201) {
        return Err(refused(&greeting));
    }
    send(stream, deadline, "STARTTLS").await?;
    let answer = read_coded(stream, deadline).await?;
    match answer.code {
        382 => Ok(()),
        // 500/501: the command is unknown; 580: TLS cannot be started now.
        500 | 501 => Err(PreludeError::NotOffered {
            reply: answer.text(),
        }),
        _ => Err(refused(&answer)),
    }
}
