//! Heartbleed (CVE-2014-0160): OpenSSL 1.0.1 to 1.0.1f answered a heartbeat request with as
//! many bytes as the request *declared*, copying whatever followed the real payload in its
//! memory (private keys, session keys, other users' requests).
//!
//! One connection, made only when the server accepts a version up to TLS 1.2: a ClientHello
//! offering the heartbeat extension; when the ServerHello takes it up, a heartbeat request
//! right after the server's first flight (before the handshake ends, as the published tests
//! do) that carries no payload but declares [`CLAIMED`] bytes. A correct server discards it
//! (RFC 6520 §4); a vulnerable one answers with a heartbeat record longer than the request.
//!
//! Why so little is read: the record header and the heartbeat message header (eight bytes)
//! decide; everything after them is the server's memory. tlsdoctor reads none of it, keeps
//! none and prints none — the connection is closed with it unread — and it declares only
//! [`CLAIMED`] bytes so that a vulnerable server sends as little of its memory over the
//! (still unencrypted) network as the test allows.

use super::check::{Basis, Check, Job, SummaryLine};
use super::vuln_reply::{Reply, send_and_read};
use crate::finding::{Finding, FindingId};
use crate::probe::ProbeOutcome;
use crate::wire::heartbeat::{self, HeartbeatRequest, MIN_PADDING};
use crate::wire::{ContentType, ProtocolVersion, Record, ServerExtension};
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// The check `heartbleed`.
pub struct Heartbleed;

/// The payload length the probe declares (it sends none): 16 bytes beyond its own padding.
pub const CLAIMED: u16 = 32;

/// The most the probe waits for the heartbeat answer: a vulnerable server answers at once.
const ANSWER_WAIT: Duration = Duration::from_secs(3);

/// What the probe found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HeartbleedResult {
    /// `Some(true)`: the server answered with bytes it was never sent; `Some(false)`: it did
    /// not (or does not take up the heartbeat extension); `None`: not tested.
    pub vulnerable: Option<bool>,
    /// Whether the ServerHello took up the heartbeat extension (`None`: no ServerHello).
    pub extension_negotiated: Option<bool>,
    /// The version of the probe's handshake.
    pub version: Option<String>,
    /// Bytes of the request record's payload, and the payload length it declared.
    pub request_length: usize,
    pub declared_payload: u16,
    /// What came back after the request.
    pub reply: Option<Reply>,
    pub connections: u32,
    pub evidence: String,
}

/// How the probe went.
#[derive(Debug)]
pub enum Answer {
    /// The hello was not accepted.
    Refused(ProbeOutcome),
    /// The ServerHello did not take up the extension: no request was sent.
    NotNegotiated,
    /// The request went out; what came back.
    Replied(Reply),
}

fn request() -> HeartbeatRequest {
    HeartbeatRequest {
        payload_length: CLAIMED,
        payload: Vec::new(),
        padding: MIN_PADDING,
    }
}

impl Check for Heartbleed {
    const NAME: &'static str = "heartbleed";
    const TITLE: &'static str = "Heartbleed (CVE-2014-0160)";
    // An active attack probe: run when asked for.
    const BY_DEFAULT: bool = false;
    const GROUP: Option<&'static str> = Some("vulns");
    type Answer = (ProtocolVersion, Answer);
    type Evidence = HeartbleedResult;

    fn jobs<'a>(&'a self, basis: &'a Basis<'a>) -> Vec<Job<'a, Self::Answer>> {
        let Some(version) = basis.legacy() else {
            return Vec::new();
        };
        let Some(mut hello) =
            super::versions::probe_client_hello(version, basis.ctx.sni.as_deref())
        else {
            return Vec::new();
        };
        hello.extensions.push(heartbeat::client_extension());
        let bytes = hello.encode_probe();
        vec![Box::pin(async move {
            let prober = &basis.ctx.prober;
            let wait = prober.config().read_timeout.min(ANSWER_WAIT);
            let (outcome, held) = prober.send_hello_hold(&bytes, wait).await;
            let (Some(mut held), Some(flight)) = (held, outcome.flight()) else {
                return (version, Answer::Refused(outcome));
            };
            let Some(sh) = flight.server_hello.as_ref() else {
                return (version, Answer::Refused(outcome));
            };
            let taken_up = sh.extensions.iter().any(
                |e| matches!(e, ServerExtension::Unknown { typ, .. } if *typ == heartbeat::EXTENSION_TYPE),
            );
            if !taken_up {
                return (version, Answer::NotNegotiated);
            }
            let record = Record {
                typ: ContentType::Heartbeat,
                version: sh.legacy_version,
                payload: request().to_bytes(),
            };
            use crate::wire::codec::Codec;
            let reply = send_and_read(&mut held, &record.to_bytes(), wait).await;
            // Dropping `held` closes the connection with anything after the header unread.
            (version, Answer::Replied(reply))
        })]
    }

    fn fold(&self, _: &Basis<'_>, answers: Vec<Self::Answer>) -> HeartbleedResult {
        fold_answer(answers.into_iter().next())
    }

    fn findings(&self, e: &HeartbleedResult) -> Vec<Finding> {
        super::check::finding_if(FindingId::HeartbleedVulnerable, e.vulnerable, &e.evidence)
    }

    fn summary(&self, e: &HeartbleedResult) -> Vec<SummaryLine> {
        let value = match (e.vulnerable, e.extension_negotiated) {
            (Some(true), _) => "VULNERABLE",
            (Some(false), Some(false)) => "not vulnerable (extension not negotiated)",
            (Some(false), _) => "not vulnerable",
            (None, _) => "not tested",
        };
        vec![SummaryLine {
            label: Heartbleed::TITLE,
            value: value.into(),
            evidence: e.evidence.clone(),
        }]
    }
}

/// The evidence from the probe's answer (none: no version up to TLS 1.2 to test with).
pub fn fold_answer(answer: Option<(ProtocolVersion, Answer)>) -> HeartbleedResult {
    let sent = request().to_bytes().len();
    let result = |vulnerable, negotiated, version: Option<ProtocolVersion>, reply, evidence| {
        HeartbleedResult {
            vulnerable,
            extension_negotiated: negotiated,
            version: version.map(|v| v.name()),
            request_length: sent,
            declared_payload: CLAIMED,
            reply,
            connections: u32::from(version.is_some()),
            evidence,
        }
    };
    let Some((version, answer)) = answer else {
        return result(
            None,
            None,
            None,
            None,
            "not tested: the server accepts no version up to TLS 1.2 (the heartbeat bug is in OpenSSL 1.0.1, which has no TLS 1.3)".into(),
        );
    };
    let v = version.name();
    match answer {
        Answer::Refused(outcome) => result(
            None,
            None,
            Some(version),
            None,
            format!(
                "not tested: a {v} ClientHello offering the heartbeat extension was not accepted ({})",
                outcome.describe()
            ),
        ),
        Answer::NotNegotiated => result(
            Some(false),
            Some(false),
            Some(version),
            None,
            format!(
                "not vulnerable: the {v} ServerHello does not take up the heartbeat extension, so the server processes no heartbeat messages"
            ),
        ),
        Answer::Replied(reply) => {
            let said = reply.describe();
            let leaked = match &reply {
                Reply::Heartbeat {
                    record_length,
                    payload_length,
                    ..
                } => usize::from(*record_length) > sent || *payload_length > 0,
                _ => false,
            };
            let evidence = if leaked {
                format!(
                    "VULNERABLE: a {sent}-byte {v} heartbeat request with no payload, declaring {CLAIMED} bytes, was answered with {said}: bytes of the server's memory it was never sent (tlsdoctor read the 8 header bytes only and kept none of the memory)"
                )
            } else {
                format!(
                    "not vulnerable: the server takes up the heartbeat extension; a {sent}-byte {v} heartbeat request with no payload, declaring {CLAIMED} bytes, was answered with {said}, not with bytes it was never sent"
                )
            };
            let tested = !matches!(reply, Reply::DeadlineReached);
            result(
                tested.then_some(leaked),
                Some(true),
                Some(version),
                Some(reply),
                evidence,
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::{Alert, AlertDescription};

    #[test]
    fn an_answer_longer_than_the_request_is_the_finding() {
        let e = fold_answer(Some((
            ProtocolVersion::Tls12,
            Answer::Replied(Reply::Heartbeat {
                record_length: 3 + CLAIMED + 16,
                message_type: 2,
                payload_length: CLAIMED,
            }),
        )));
        assert_eq!(e.vulnerable, Some(true));
        assert_eq!(e.request_length, 19);
        assert_eq!(e.connections, 1);
        assert!(e.evidence.starts_with("VULNERABLE"), "{}", e.evidence);
        let f = Heartbleed.findings(&e);
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].id, FindingId::HeartbleedVulnerable);
        assert_eq!(Heartbleed.summary(&e)[0].value, "VULNERABLE");
    }

    #[test]
    fn every_other_answer_is_no_finding() {
        let cases = [
            (None, None, "not tested"),
            (
                Some(Answer::NotNegotiated),
                Some(false),
                "not vulnerable (extension not negotiated)",
            ),
            (
                Some(Answer::Replied(Reply::Silent)),
                Some(false),
                "not vulnerable",
            ),
            (
                Some(Answer::Replied(Reply::Alert {
                    alert: Alert::fatal(AlertDescription::UnexpectedMessage),
                })),
                Some(false),
                "not vulnerable",
            ),
            // An answer that echoes exactly what was sent leaks nothing.
            (
                Some(Answer::Replied(Reply::Heartbeat {
                    record_length: 19,
                    message_type: 2,
                    payload_length: 0,
                })),
                Some(false),
                "not vulnerable",
            ),
            (
                Some(Answer::Replied(Reply::DeadlineReached)),
                None,
                "not tested",
            ),
            (
                Some(Answer::Refused(ProbeOutcome::Closed { bytes_received: 0 })),
                None,
                "not tested",
            ),
        ];
        for (answer, vulnerable, value) in cases {
            let e = fold_answer(answer.map(|a| (ProtocolVersion::Tls12, a)));
            assert_eq!(e.vulnerable, vulnerable, "{e:?}");
            assert_eq!(Heartbleed.summary(&e)[0].value, value, "{e:?}");
            assert!(Heartbleed.findings(&e).is_empty(), "{e:?}");
        }
    }
}
