//! CCS injection (CVE-2014-0224): OpenSSL before 0.9.8za, 1.0.0m and 1.0.1h accepted a
//! ChangeCipherSpec before the key exchange, and then keyed the connection from a master
//! secret an attacker in the middle can compute.
//!
//! One connection, made only when the server accepts a version up to TLS 1.2, following the
//! published detection (nmap's ssl-ccs-injection, testssl.sh): after the server's first flight
//! (ServerHelloDone), send a ChangeCipherSpec. A correct server refuses it at once
//! (`unexpected_message`). If it stays silent, send a second one: a server that took the
//! first one as the switch to encryption now tries to decrypt the second and fails
//! (`decryption_failed`, `bad_record_mac`) — vulnerable; a server that answers
//! `unexpected_message` then is not. No alert at all is read as not vulnerable, as both
//! published tests do, and says so.

use super::check::{Basis, Check, Job, SummaryLine};
use super::vuln_reply::{Reply, send_and_read};
use crate::finding::{Finding, FindingId};
use crate::probe::ProbeOutcome;
use crate::wire::codec::Codec;
use crate::wire::{AlertDescription, ContentType, ProtocolVersion, Record};
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// The check `ccs-injection`.
pub struct CcsInjection;

/// How long a correct server may take to refuse the first ChangeCipherSpec.
const FIRST_WAIT: Duration = Duration::from_secs(2);
/// How long to wait for the answer to the second.
const SECOND_WAIT: Duration = Duration::from_secs(3);

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CcsInjectionResult {
    /// `Some(true)`: the server took an early ChangeCipherSpec; `Some(false)`: it refused it
    /// (or said nothing, as the published tests read it); `None`: not tested or inconclusive.
    pub vulnerable: Option<bool>,
    pub version: Option<String>,
    /// What came back after the first ChangeCipherSpec, and after the second when one was sent.
    pub after_first: Option<Reply>,
    pub after_second: Option<Reply>,
    pub connections: u32,
    pub evidence: String,
}

#[derive(Debug)]
pub enum Answer {
    /// The hello was not accepted, or its flight did not end with ServerHelloDone.
    NotReached(ProbeOutcome),
    Replied {
        first: Reply,
        second: Option<Reply>,
    },
}

fn ccs(version: u16) -> Vec<u8> {
    Record {
        typ: ContentType::ChangeCipherSpec,
        version,
        payload: vec![1],
    }
    .to_bytes()
}

/// Whether `reply` ends the test with the server having refused the message.
fn refused(reply: &Reply) -> bool {
    matches!(reply, Reply::Alert { .. } | Reply::Closed | Reply::NotSent)
}

impl Check for CcsInjection {
    const NAME: &'static str = "ccs-injection";
    const TITLE: &'static str = "CCS injection (CVE-2014-0224)";
    const BY_DEFAULT: bool = false;
    const GROUP: Option<&'static str> = Some("vulns");
    type Answer = (ProtocolVersion, Answer);
    type Evidence = CcsInjectionResult;

    fn jobs<'a>(&'a self, basis: &'a Basis<'a>) -> Vec<Job<'a, Self::Answer>> {
        let Some(version) = basis.legacy() else {
            return Vec::new();
        };
        let sni = basis.ctx.sni.as_deref();
        let bytes = super::versions::probe_hello(version, sni);
        vec![Box::pin(async move {
            let prober = &basis.ctx.prober;
            let read = prober.config().read_timeout;
            let (first_wait, second_wait) = (read.min(FIRST_WAIT), read.min(SECOND_WAIT));
            let (outcome, held) = prober
                .send_hello_hold(&bytes, first_wait + second_wait)
                .await;
            let done = outcome.flight().and_then(|f| {
                let sh = f.server_hello.as_ref()?;
                f.server_hello_done.then_some(sh.legacy_version)
            });
            let (Some(mut held), Some(record_version)) = (held, done) else {
                return (version, Answer::NotReached(outcome));
            };
            let message = ccs(record_version);
            let first = send_and_read(&mut held, &message, first_wait).await;
            let second = match first {
                Reply::Silent => Some(send_and_read(&mut held, &message, second_wait).await),
                _ => None,
            };
            (version, Answer::Replied { first, second })
        })]
    }

    fn fold(&self, _: &Basis<'_>, answers: Vec<Self::Answer>) -> CcsInjectionResult {
        fold_answer(answers.into_iter().next())
    }

    fn findings(&self, e: &CcsInjectionResult) -> Vec<Finding> {
        super::check::finding_if(FindingId::CcsInjectionVulnerable, e.vulnerable, &e.evidence)
    }

    fn summary(&self, e: &CcsInjectionResult) -> Vec<SummaryLine> {
        let value = match e.vulnerable {
            Some(true) => "VULNERABLE",
            Some(false) => "not vulnerable",
            None => "not tested",
        };
        vec![SummaryLine {
            label: CcsInjection::TITLE,
            value: value.into(),
            evidence: e.evidence.clone(),
        }]
    }
}

/// The evidence from the probe's answer (none: no version up to TLS 1.2 to test with).
pub fn fold_answer(answer: Option<(ProtocolVersion, Answer)>) -> CcsInjectionResult {
    let result = |vulnerable, version: Option<ProtocolVersion>, first, second, evidence| {
        CcsInjectionResult {
            vulnerable,
            version: version.map(|v| v.name()),
            after_first: first,
            after_second: second,
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
            "not tested: the server accepts no version up to TLS 1.2 (TLS 1.3 has no such ChangeCipherSpec)".into(),
        );
    };
    let v = version.name();
    let (first, second) = match answer {
        Answer::NotReached(outcome) => {
            return result(
                None,
                Some(version),
                None,
                None,
                format!(
                    "not tested: a {v} ClientHello did not bring a first flight ending in ServerHelloDone ({})",
                    outcome.describe()
                ),
            );
        }
        Answer::Replied { first, second } => (first, second),
    };
    let one = first.describe();
    if refused(&first) {
        return result(
            Some(false),
            Some(version),
            Some(first),
            None,
            format!(
                "not vulnerable: a ChangeCipherSpec sent right after the {v} ServerHelloDone was refused: {one}"
            ),
        );
    }
    let Some(second) = second else {
        return result(
            None,
            Some(version),
            Some(first),
            None,
            format!(
                "inconclusive: after a ChangeCipherSpec sent right after the {v} ServerHelloDone: {one}"
            ),
        );
    };
    let two = second.describe();
    let (vulnerable, evidence) = match &second {
        Reply::Alert { alert }
            if matches!(
                alert.description,
                AlertDescription::BadRecordMac | AlertDescription::DecryptionFailed
            ) =>
        {
            (
                Some(true),
                format!(
                    "VULNERABLE: a ChangeCipherSpec sent right after the {v} ServerHelloDone was taken silently, and a second one was answered with {two}: the server had switched to encryption keyed before any key exchange"
                ),
            )
        }
        Reply::Alert { alert }
            if matches!(
                alert.description,
                AlertDescription::UnexpectedMessage | AlertDescription::HandshakeFailure
            ) =>
        {
            (
                Some(false),
                format!(
                    "not vulnerable: a ChangeCipherSpec sent right after the {v} ServerHelloDone got no answer, and a second one was refused with {two}"
                ),
            )
        }
        Reply::Alert { .. } | Reply::Heartbeat { .. } | Reply::Record { .. } => (
            None,
            format!(
                "inconclusive: a ChangeCipherSpec sent right after the {v} ServerHelloDone got no answer, and a second one was answered with {two}"
            ),
        ),
        Reply::DeadlineReached => (
            None,
            format!("not finished: after an early {v} ChangeCipherSpec, {two}"),
        ),
        Reply::Silent | Reply::Closed | Reply::NotSent | Reply::Malformed => (
            Some(false),
            format!(
                "not vulnerable (as testssl.sh and nmap read it): two ChangeCipherSpec messages sent right after the {v} ServerHelloDone brought no alert ({two})"
            ),
        ),
    };
    result(
        vulnerable,
        Some(version),
        Some(first),
        Some(second),
        evidence,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::Alert;

    fn alert(d: AlertDescription) -> Reply {
        Reply::Alert {
            alert: Alert::fatal(d),
        }
    }

    fn folded(first: Reply, second: Option<Reply>) -> CcsInjectionResult {
        fold_answer(Some((
            ProtocolVersion::Tls12,
            Answer::Replied { first, second },
        )))
    }

    #[test]
    fn a_decryption_failure_after_the_second_ccs_is_the_finding() {
        for d in [
            AlertDescription::DecryptionFailed,
            AlertDescription::BadRecordMac,
        ] {
            let e = folded(Reply::Silent, Some(alert(d)));
            assert_eq!(e.vulnerable, Some(true), "{e:?}");
            let f = CcsInjection.findings(&e);
            assert_eq!(f[0].id, FindingId::CcsInjectionVulnerable);
        }
    }

    #[test]
    fn refusals_silence_and_odd_answers_are_no_finding() {
        let cases = [
            (
                folded(alert(AlertDescription::UnexpectedMessage), None),
                Some(false),
            ),
            (folded(Reply::Closed, None), Some(false)),
            (
                folded(
                    Reply::Silent,
                    Some(alert(AlertDescription::UnexpectedMessage)),
                ),
                Some(false),
            ),
            (folded(Reply::Silent, Some(Reply::Silent)), Some(false)),
            (
                folded(Reply::Silent, Some(alert(AlertDescription::DecodeError))),
                None,
            ),
            (folded(Reply::Silent, Some(Reply::DeadlineReached)), None),
            (fold_answer(None), None),
        ];
        for (e, vulnerable) in cases {
            assert_eq!(e.vulnerable, vulnerable, "{e:?}");
            assert!(CcsInjection.findings(&e).is_empty(), "{e:?}");
        }
    }
}
