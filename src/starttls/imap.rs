//! IMAP: CAPABILITY, then STARTTLS (RFC 3501 §6.2.1), each answered by a tagged `OK`. A
//! greeting that lists the capabilities (`* OK [CAPABILITY … STARTTLS …]`, Dovecot's) spares
//! the CAPABILITY command. The pipelined form, once an upgrade worked: `STARTTLS` sent with
//! the connection, before the greeting, and greeting and `OK` read in turn.

use super::reply::{nothing_after, read_until, send};
use crate::probe::PreludeError;
use crate::probe::prelude::read_line;
use tokio::net::TcpStream;
use tokio::time::Instant;

/// The greeting, when it is one that allows STARTTLS (`* OK`).
async fn greeting(stream: &mut TcpStream, deadline: Instant) -> Result<String, PreludeError> {
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
    Ok(greeting)
}

/// Whether a greeting's `[CAPABILITY …]` response code lists STARTTLS.
pub fn greeting_offers_starttls(greeting: &str) -> bool {
    let Some(rest) = greeting.strip_prefix("* OK [") else {
        return false;
    };
    let code = rest.split(']').next().unwrap_or("");
    let mut words = code.split_whitespace();
    words
        .next()
        .is_some_and(|w| w.eq_ignore_ascii_case("CAPABILITY"))
        && words.any(|w| w.eq_ignore_ascii_case("STARTTLS"))
}

/// Read to the tagged answer to `TAG STARTTLS`, which must be `OK` with nothing after it.
async fn starttls(
    stream: &mut TcpStream,
    deadline: Instant,
    tag: &str,
) -> Result<(), PreludeError> {
    let lines = read_until(stream, deadline, |l| l.starts_with(&format!("{tag} "))).await?;
    let status = lines.last().cloned().unwrap_or_default();
    if !status.starts_with(&format!("{tag} OK")) {
        return Err(PreludeError::Refused { reply: status });
    }
    nothing_after(stream, &status)
}

/// The full dialogue. Ok: TLS may start (and the pipelined form may be tried next time).
pub async fn upgrade(stream: &mut TcpStream, deadline: Instant) -> Result<(), PreludeError> {
    let greeting = greeting(stream, deadline).await?;
    if !greeting_offers_starttls(&greeting) {
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
    }
    send(stream, deadline, "a2 STARTTLS").await?;
    starttls(stream, deadline, "a2").await
}

/// What the pipelined form sends with the connection, before the greeting.
pub const PIPELINED: &str = "a1 STARTTLS\r\n";

/// The pipelined form's answers, once [`PIPELINED`] is sent: the greeting, then the `OK`.
pub async fn pipelined_answers(
    stream: &mut TcpStream,
    deadline: Instant,
) -> Result<(), PreludeError> {
    greeting(stream, deadline).await?;
    starttls(stream, deadline, "a1").await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn capabilities_in_the_greeting() {
        assert!(greeting_offers_starttls(
            "* OK [CAPABILITY IMAP4rev1 SASL-IR LOGIN-REFERRALS ID ENABLE IDLE LITERAL+ STARTTLS AUTH=PLAIN] Dovecot ready."
        ));
        assert!(greeting_offers_starttls(
            "* OK [capability imap4rev1 starttls] hi"
        ));
        assert!(!greeting_offers_starttls(
            "* OK [CAPABILITY IMAP4rev1 LOGINDISABLED] ready"
        ));
        // STARTTLS outside the response code is only text.
        assert!(!greeting_offers_starttls("* OK [ALERT] STARTTLS soon"));
        assert!(!greeting_offers_starttls("* OK STARTTLS ready"));
        assert!(!greeting_offers_starttls(
            "* OK [CAPABILITY IMAP4rev1] STARTTLS"
        ));
    }
}
