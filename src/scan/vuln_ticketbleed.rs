//! Ticketbleed (CVE-2016-9244): F5 BIG-IP's TLS stack, resuming a session from a ticket,
//! echoed the client's session ID as 32 bytes whatever its real length, so a client sending a
//! shorter ID got the rest filled from the server's memory.
//!
//! Runs only when the server accepts TLS 1.2 and its ServerHello to the TLS 1.2 version probe
//! took up the session-ticket extension (otherwise no connection: it issues no tickets). Two
//! connections: a full TLS 1.2 handshake (rustls) whose bytes are recorded to read the
//! NewSessionTicket the server sends in clear; then a ClientHello presenting that ticket with a
//! [`SESSION_ID_LEN`]-byte session ID. A correct server resuming from the ticket echoes exactly
//! that ID (RFC 5077 §3.4); a vulnerable one echoes a longer ID that starts with it. Only the
//! lengths are kept: the bytes past ours are the server's memory.

use super::ScanContext;
use super::check::{Basis, Check, Job, SummaryLine};
use crate::finding::{Finding, FindingId};
use crate::probe::ProbeOutcome;
use crate::wire::extension::ClientExtension;
use crate::wire::{ProtocolVersion, ServerExtension};
use serde::{Deserialize, Serialize};

/// The check `ticketbleed`.
pub struct Ticketbleed;

/// The session ID length the probe sends: anything below 32 shows the bug.
pub const SESSION_ID_LEN: usize = 16;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TicketbleedResult {
    /// `Some(true)`: the server echoed a longer session ID than it was sent; `Some(false)`:
    /// it did not, or issues no tickets; `None`: not tested.
    pub vulnerable: Option<bool>,
    /// Whether the server issued a TLS 1.2 session ticket (`None`: not known).
    pub ticket_issued: Option<bool>,
    /// The session ID length sent with the ticket, and the length echoed back.
    pub session_id_sent: usize,
    pub session_id_echoed: Option<usize>,
    /// Whether the echoed ID starts with the one sent (the server resumed from the ticket).
    pub echo_starts_with_sent: Option<bool>,
    pub connections: u32,
    pub evidence: String,
}

#[derive(Debug)]
pub enum Answer {
    /// The TLS 1.2 ServerHello did not take up the session-ticket extension.
    NoTicketsOffered,
    /// The full handshake failed.
    HandshakeFailed(String),
    /// It brought no NewSessionTicket.
    NoTicket,
    /// The hello presenting the ticket: its outcome, and the echoed session ID's length and
    /// whether it starts with ours.
    Presented {
        outcome: ProbeOutcome,
        echoed: Option<(usize, bool)>,
    },
}

impl Check for Ticketbleed {
    const NAME: &'static str = "ticketbleed";
    const TITLE: &'static str = "Ticketbleed (CVE-2016-9244)";
    const BY_DEFAULT: bool = false;
    const GROUP: Option<&'static str> = Some("vulns");
    type Answer = Answer;
    type Evidence = TicketbleedResult;

    fn jobs<'a>(&'a self, basis: &'a Basis<'a>) -> Vec<Job<'a, Self::Answer>> {
        if basis.legacy() != Some(ProtocolVersion::Tls12) {
            return Vec::new();
        }
        let offers_tickets = basis
            .base()
            .and_then(|f| f.server_hello.as_ref())
            .is_some_and(|sh| {
                sh.extensions
                    .iter()
                    .any(|e| matches!(e, ServerExtension::SessionTicket))
            });
        if !offers_tickets {
            return vec![Box::pin(async { Answer::NoTicketsOffered })];
        }
        vec![Box::pin(probe(basis.ctx))]
    }

    fn fold(&self, _: &Basis<'_>, answers: Vec<Answer>) -> TicketbleedResult {
        fold_answer(answers.into_iter().next())
    }

    fn findings(&self, e: &TicketbleedResult) -> Vec<Finding> {
        super::check::finding_if(FindingId::TicketbleedVulnerable, e.vulnerable, &e.evidence)
    }

    fn summary(&self, e: &TicketbleedResult) -> Vec<SummaryLine> {
        let value = match (e.vulnerable, e.ticket_issued) {
            (Some(true), _) => "VULNERABLE",
            (Some(false), Some(false)) => "not vulnerable (no session tickets)",
            (Some(false), _) => "not vulnerable",
            (None, _) => "not tested",
        };
        vec![SummaryLine {
            label: Ticketbleed::TITLE,
            value: value.into(),
            evidence: e.evidence.clone(),
        }]
    }
}

/// A full TLS 1.2 handshake, recording what the server sent; its ticket, if it issued one.
async fn fetch_ticket(ctx: &ScanContext) -> Result<Option<Vec<u8>>, String> {
    let config = super::vuln_recording::tls12_config(rustls::crypto::ring::DEFAULT_CIPHER_SUITES)?;
    let (recording, _, _) = super::vuln_recording::tls12_handshake(
        ctx,
        config,
        "the full TLS 1.2 handshake (to get a ticket)",
    )
    .await?;
    Ok(crate::wire::ticket::find_tls12_ticket(&recording.from_server).map(|t| t.ticket))
}

async fn probe(ctx: &ScanContext) -> Answer {
    let ticket = match fetch_ticket(ctx).await {
        Err(e) => return Answer::HandshakeFailed(e),
        Ok(None) => return Answer::NoTicket,
        Ok(Some(t)) if t.is_empty() => return Answer::NoTicket,
        Ok(Some(t)) => t,
    };
    let Some(mut hello) =
        super::versions::probe_client_hello(ProtocolVersion::Tls12, ctx.sni.as_deref())
    else {
        return Answer::NoTicket;
    };
    let mut sid = vec![0u8; SESSION_ID_LEN];
    crate::wire::keyshare::random_bytes(&mut sid);
    hello.session_id = sid.clone();
    for e in hello.extensions.iter_mut() {
        if let ClientExtension::SessionTicket(t) = e {
            *t = ticket.clone();
        }
    }
    let outcome = ctx.prober.send_hello(&hello.encode_probe()).await.outcome;
    let echoed = outcome
        .flight()
        .and_then(|f| f.server_hello.as_ref())
        .map(|sh| (sh.session_id.len(), sh.session_id.starts_with(&sid)));
    // Only the lengths leave this function: the rest of a longer ID is the server's memory.
    let outcome = match outcome {
        ProbeOutcome::Accepted(_) => ProbeOutcome::Accepted(Box::default()),
        other => other,
    };
    Answer::Presented { outcome, echoed }
}

/// The evidence from the probe's answer (none: the server does not accept TLS 1.2).
pub fn fold_answer(answer: Option<Answer>) -> TicketbleedResult {
    let result = |vulnerable, issued, echoed: Option<(usize, bool)>, connections, evidence| {
        TicketbleedResult {
            vulnerable,
            ticket_issued: issued,
            session_id_sent: SESSION_ID_LEN,
            session_id_echoed: echoed.map(|e| e.0),
            echo_starts_with_sent: echoed.map(|e| e.1),
            connections,
            evidence,
        }
    };
    let Some(answer) = answer else {
        return result(
            None,
            None,
            None,
            0,
            "not tested: the server does not accept TLS 1.2 (the test resumes a TLS 1.2 session from a ticket)".into(),
        );
    };
    match answer {
        Answer::NoTicketsOffered => result(
            Some(false),
            Some(false),
            None,
            0,
            "not vulnerable: the server's TLS 1.2 ServerHello does not take up the session-ticket extension, so it resumes no session from a ticket".into(),
        ),
        Answer::HandshakeFailed(e) => result(None, None, None, 1, format!("not tested: {e}")),
        Answer::NoTicket => result(
            Some(false),
            Some(false),
            None,
            1,
            "not vulnerable: a full TLS 1.2 handshake brought no session ticket".into(),
        ),
        Answer::Presented { outcome, echoed } => {
            let sent = SESSION_ID_LEN;
            match echoed {
                None => result(
                    None,
                    Some(true),
                    None,
                    2,
                    format!(
                        "not tested: a ClientHello presenting the server's ticket was not accepted ({})",
                        outcome.describe()
                    ),
                ),
                Some((len, true)) if len > sent => result(
                    Some(true),
                    Some(true),
                    echoed,
                    2,
                    format!(
                        "VULNERABLE: a ClientHello presenting the server's ticket with a {sent}-byte session ID was answered with a {len}-byte session ID that starts with it: {} bytes of the server's memory (not kept)",
                        len - sent
                    ),
                ),
                Some((len, true)) => result(
                    Some(false),
                    Some(true),
                    echoed,
                    2,
                    format!(
                        "not vulnerable: a ClientHello presenting the server's ticket with a {sent}-byte session ID had exactly that ID echoed ({len} bytes)"
                    ),
                ),
                Some((len, false)) => result(
                    Some(false),
                    Some(true),
                    echoed,
                    2,
                    format!(
                        "not vulnerable: a ClientHello presenting the server's ticket with a {sent}-byte session ID was answered with a new {len}-byte session ID (not resumed from the ticket)"
                    ),
                ),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn presented(echoed: Option<(usize, bool)>) -> TicketbleedResult {
        fold_answer(Some(Answer::Presented {
            outcome: ProbeOutcome::Closed { bytes_received: 0 },
            echoed,
        }))
    }

    #[test]
    fn a_longer_echo_of_our_id_is_the_finding() {
        let e = presented(Some((32, true)));
        assert_eq!(e.vulnerable, Some(true));
        assert_eq!((e.session_id_echoed, e.connections), (Some(32), 2));
        assert_eq!(
            Ticketbleed.findings(&e)[0].id,
            FindingId::TicketbleedVulnerable
        );
    }

    #[test]
    fn exact_echoes_new_sessions_and_no_tickets_are_no_finding() {
        for (e, vulnerable) in [
            (presented(Some((16, true))), Some(false)),
            (presented(Some((32, false))), Some(false)),
            (presented(Some((0, false))), Some(false)),
            (presented(None), None),
            (fold_answer(Some(Answer::NoTicketsOffered)), Some(false)),
            (fold_answer(Some(Answer::NoTicket)), Some(false)),
            (fold_answer(None), None),
        ] {
            assert_eq!(e.vulnerable, vulnerable, "{e:?}");
            assert!(Ticketbleed.findings(&e).is_empty(), "{e:?}");
        }
        assert_eq!(
            Ticketbleed.summary(&fold_answer(Some(Answer::NoTicketsOffered)))[0].value,
            "not vulnerable (no session tickets)"
        );
    }
}
