//! SMTP and LMTP (EHLO / LHLO, then STARTTLS, RFC 3207) and NNTP (STARTTLS, RFC 4642): the
//! numeric-reply protocols. SMTP and LMTP have a pipelined form for servers that advertise
//! PIPELINING (RFC 2920).

use super::reply::{CodedReply, nothing_after, read_coded, send, send_bytes};
use crate::probe::PreludeError;
use tokio::net::TcpStream;
use tokio::time::Instant;

/// The name we greet with. `.invalid` can never be a real host (RFC 6761), so no server
/// mistakes it for one.
pub const CLIENT_NAME: &str = "tlsdoctor.invalid";

fn refused(r: &CodedReply) -> PreludeError {
    PreludeError::Refused { reply: r.text() }
}

/// The full dialogue; `hello` is `EHLO` (SMTP) or `LHLO` (LMTP). Ok(true): TLS may start,
/// and the server advertised PIPELINING, so the next connection may take the pipelined form.
pub async fn upgrade(
    stream: &mut TcpStream,
    deadline: Instant,
    hello: &str,
) -> Result<bool, PreludeError> {
    greeting(stream, deadline).await?;
    send(stream, deadline, &format!("{hello} {CLIENT_NAME}")).await?;
    let caps = hello_answer(stream, deadline).await?;
    send(stream, deadline, "STARTTLS").await?;
    starttls_answer(stream, deadline).await?;
    Ok(caps.keywords().any(|k| k == "PIPELINING"))
}

/// The pipelined form (RFC 2920 allows STARTTLS as the last command of a group): after the
/// greeting, which is always awaited (a client that speaks first is a spammer to pregreet
/// checks such as Postfix's postscreen), `EHLO` and `STARTTLS` in one write, then both
/// answers in turn.
pub async fn pipelined(
    stream: &mut TcpStream,
    deadline: Instant,
    hello: &str,
) -> Result<(), PreludeError> {
    greeting(stream, deadline).await?;
    send_bytes(stream, deadline, pipelined_group(hello).as_bytes()).await?;
    hello_answer(stream, deadline).await?;
    starttls_answer(stream, deadline).await
}

/// `EHLO name` and `STARTTLS`, each with its CRLF: one write.
pub fn pipelined_group(hello: &str) -> String {
    format!("{hello} {CLIENT_NAME}\r\nSTARTTLS\r\n")
}

async fn greeting(stream: &mut TcpStream, deadline: Instant) -> Result<(), PreludeError> {
    let greeting = read_coded(stream, deadline).await?;
    if greeting.code != 220 {
        return Err(refused(&greeting));
    }
    Ok(())
}

/// The answer to EHLO/LHLO: 250, listing STARTTLS.
async fn hello_answer(
    stream: &mut TcpStream,
    deadline: Instant,
) -> Result<CodedReply, PreludeError> {
    let caps = read_coded(stream, deadline).await?;
    if caps.code != 250 {
        return Err(refused(&caps));
    }
    if !caps.keywords().any(|k| k == "STARTTLS") {
        return Err(PreludeError::NotOffered { reply: caps.text() });
    }
    Ok(caps)
}

/// The answer to STARTTLS: 220 with nothing after it.
async fn starttls_answer(stream: &mut TcpStream, deadline: Instant) -> Result<(), PreludeError> {
    let answer = read_coded(stream, deadline).await?;
    if answer.code != 220 {
        return Err(refused(&answer));
    }
    nothing_after(stream, &answer.text())
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
        382 => nothing_after(stream, &answer.text()),
        // 500/501: the command is unknown; 580: TLS cannot be started now.
        500 | 501 => Err(PreludeError::NotOffered {
            reply: answer.text(),
        }),
        _ => Err(refused(&answer)),
    }
}
