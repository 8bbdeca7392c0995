//! ROBOT (Return Of Bleichenbacher's Oracle Threat, 2017): a server with RSA key exchange
//! that reacts differently to ClientKeyExchange messages whose PKCS#1 v1.5 padding is right
//! or wrong lets an attacker decrypt recorded sessions or sign with the server's key.
//!
//! The published response-difference test, bounded: only when the server takes a hello
//! offering RSA key exchange alone (otherwise one connection), five connections, each a full
//! first flight and then a ClientKeyExchange made with the certificate's RSA key from one of
//! five premaster layouts (right; wrong first bytes; the 0x00 separator misplaced; no
//! separator; a wrong version in the premaster), a ChangeCipherSpec and a Finished no server
//! can read. A correct server reacts to all five alike (RFC 5246 §7.4.7.1); when they differ,
//! the five are sent once more, and only the same differences twice are reported (at most ten
//! connections).

use super::check::{Basis, Check, Job, SummaryLine};
use super::vuln_reply::{Reply, next_reply};
use crate::finding::{Finding, FindingId};
pub use crate::wire::rsa_premaster::{LAYOUTS, Layout};
use crate::wire::rsa_premaster::{block, encrypt, rsa_key};
use crate::wire::{ClientHello, ProtocolVersion};
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// The check `robot`.
pub struct Robot;

const WAIT: Duration = Duration::from_secs(2);

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RobotResult {
    /// `Some(true)`: the reactions differ by padding, the same way twice; `Some(false)`: all
    /// alike, or RSA key exchange refused; `None`: not tested or not reproducible.
    pub vulnerable: Option<bool>,
    pub rsa_key_exchange: Option<bool>,
    /// Each layout's reaction in the first round (and the second, when one was made).
    pub reactions: Vec<(Layout, String)>,
    pub second_round: Vec<(Layout, String)>,
    pub connections: u32,
    pub evidence: String,
}

fn record(typ: u8, version: u16, body: &[u8]) -> Vec<u8> {
    let mut out = vec![typ];
    out.extend_from_slice(&version.to_be_bytes());
    out.extend_from_slice(&(body.len() as u16).to_be_bytes());
    out.extend_from_slice(body);
    out
}

#[derive(Debug)]
pub enum Answer {
    /// No hello offering RSA key exchange only was taken.
    NoRsa(String),
    NotTested(String),
    Rounds {
        first: Vec<(Layout, String)>,
        second: Vec<(Layout, String)>,
        connections: u32,
    },
}

/// One connection: hello, flight, then the layout's key exchange; the reaction, or why none.
async fn one(basis: &Basis<'_>, hello: &[u8], layout: Layout) -> Result<String, Answer> {
    let prober = &basis.ctx.prober;
    let (outcome, held) = prober.send_hello_hold(hello, WAIT).await;
    let flight = match (held, outcome.flight()) {
        (Some(h), Some(f)) if f.server_hello_done => (h, f.clone()),
        _ => return Err(Answer::NoRsa(outcome.describe())),
    };
    let (mut held, flight) = flight;
    let Some(sh) = flight.server_hello.as_ref() else {
        return Err(Answer::NoRsa(outcome.describe()));
    };
    let Some((n, e, k)) = flight
        .certificates
        .as_ref()
        .and_then(|c| c.first())
        .and_then(|der| rsa_key(der))
    else {
        return Err(Answer::NotTested(
            "the server's certificate has no RSA key to encrypt a premaster with".into(),
        ));
    };
    let offered = ClientHello::parse_record(hello)
        .map(|h| h.legacy_version)
        .unwrap_or(0x0303);
    let Some(m) = block(layout, k, offered) else {
        return Err(Answer::NotTested(format!(
            "an RSA key of {k} bytes is too short"
        )));
    };
    let c = encrypt(&m, &n, &e, k);
    let v = sh.legacy_version;
    let mut cke = vec![16];
    cke.extend_from_slice(&((c.len() + 2) as u32).to_be_bytes()[1..]);
    cke.extend_from_slice(&(c.len() as u16).to_be_bytes());
    cke.extend_from_slice(&c);
    let mut finished = [0u8; 40];
    crate::wire::keyshare::random_bytes(&mut finished);
    let mut out = record(22, v, &cke);
    out.extend(record(20, v, &[1]));
    out.extend(record(22, v, &finished));
    if !held.send(&out, WAIT).await {
        return Ok(Reply::NotSent.describe());
    }
    Ok(match next_reply(&mut held, WAIT).await {
        Reply::DeadlineReached => return Err(Answer::NotTested("the run's deadline".into())),
        r => r.describe(),
    })
}

async fn round(basis: &Basis<'_>, hello: &[u8]) -> Result<Vec<(Layout, String)>, Answer> {
    let mut out = Vec::new();
    for layout in LAYOUTS {
        out.push((layout, one(basis, hello, layout).await?));
    }
    Ok(out)
}

fn all_alike(r: &[(Layout, String)]) -> bool {
    r.windows(2).all(|w| w[0].1 == w[1].1)
}

impl Check for Robot {
    const NAME: &'static str = "robot";
    const TITLE: &'static str = "ROBOT (Bleichenbacher oracle)";
    const BY_DEFAULT: bool = false;
    const GROUP: Option<&'static str> = Some("vulns");
    type Answer = Answer;
    type Evidence = RobotResult;

    fn jobs<'a>(&'a self, basis: &'a Basis<'a>) -> Vec<Job<'a, Answer>> {
        let Some(v) = basis.legacy().filter(|v| *v != ProtocolVersion::Ssl2) else {
            return Vec::new();
        };
        let rsa = super::ciphers::candidates_where(v, |s| s.kx == "RSA" && !s.export);
        if rsa.is_empty() {
            return Vec::new();
        }
        let hello = ClientHello::for_probe(v, basis.ctx.sni.as_deref(), &rsa).encode_probe();
        vec![Box::pin(async move {
            let first = match round(basis, &hello).await {
                Ok(r) => r,
                Err(a) => return a,
            };
            if all_alike(&first) {
                return Answer::Rounds {
                    first,
                    second: Vec::new(),
                    connections: 5,
                };
            }
            match round(basis, &hello).await {
                Ok(second) => Answer::Rounds {
                    first,
                    second,
                    connections: 10,
                },
                Err(a) => a,
            }
        })]
    }

    fn fold(&self, _: &Basis<'_>, answers: Vec<Answer>) -> RobotResult {
        fold_answer(answers.into_iter().next())
    }

    fn findings(&self, e: &RobotResult) -> Vec<Finding> {
        super::check::finding_if(FindingId::RobotVulnerable, e.vulnerable, &e.evidence)
    }

    fn summary(&self, e: &RobotResult) -> Vec<SummaryLine> {
        let value = match (e.vulnerable, e.rsa_key_exchange) {
            (Some(true), _) => "VULNERABLE",
            (Some(false), Some(false)) => "not vulnerable (no RSA key exchange)",
            (Some(false), _) => "not vulnerable",
            (None, _) => "not tested",
        };
        vec![SummaryLine {
            label: Robot::TITLE,
            value: value.into(),
            evidence: e.evidence.clone(),
        }]
    }
}

fn words(r: &[(Layout, String)]) -> String {
    r.iter()
        .map(|(l, s)| format!("{l:?}: {s}"))
        .collect::<Vec<_>>()
        .join("; ")
}

/// The evidence from the probe's answer (none: no version up to TLS 1.2 with RSA suites).
pub fn fold_answer(answer: Option<Answer>) -> RobotResult {
    let result = |vulnerable, rsa, reactions, second_round, connections, evidence| RobotResult {
        vulnerable,
        rsa_key_exchange: rsa,
        reactions,
        second_round,
        connections,
        evidence,
    };
    match answer {
        None => result(
            None,
            None,
            Vec::new(),
            Vec::new(),
            0,
            "not tested: no version up to TLS 1.2 with RSA key exchange suites".into(),
        ),
        Some(Answer::NoRsa(how)) => result(
            Some(false),
            Some(false),
            Vec::new(),
            Vec::new(),
            1,
            format!("not vulnerable: a hello offering only RSA key exchange was not taken ({how})"),
        ),
        Some(Answer::NotTested(why)) => result(
            None,
            Some(true),
            Vec::new(),
            Vec::new(),
            1,
            format!("not tested: {why}"),
        ),
        Some(Answer::Rounds {
            first,
            second,
            connections,
        }) => {
            if all_alike(&first) {
                let e = format!(
                    "not vulnerable: the five premaster layouts all got the same reaction ({})",
                    first[0].1
                );
                return result(Some(false), Some(true), first, second, connections, e);
            }
            if first == second {
                let e = format!(
                    "VULNERABLE: the server reacts differently to right and wrong PKCS#1 padding, the same way twice: {}",
                    words(&first)
                );
                return result(Some(true), Some(true), first, second, connections, e);
            }
            let e = format!(
                "inconclusive: the reactions differed, but not the same way twice (first: {}; then: {})",
                words(&first),
                words(&second)
            );
            result(None, Some(true), first, second, connections, e)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_same_difference_twice_is_the_finding() {
        let r = |s: [&str; 5]| -> Vec<(Layout, String)> {
            LAYOUTS
                .iter()
                .zip(s)
                .map(|(l, s)| (*l, s.to_string()))
                .collect()
        };
        let same = r(["a"; 5]);
        let diff = r(["a", "b", "b", "b", "a"]);
        let other = r(["a", "b", "a", "b", "a"]);
        let rounds = |first, second| {
            fold_answer(Some(Answer::Rounds {
                first,
                second,
                connections: 10,
            }))
        };
        let e = rounds(diff.clone(), diff.clone());
        assert_eq!(e.vulnerable, Some(true));
        assert_eq!(Robot.findings(&e)[0].id, FindingId::RobotVulnerable);
        assert_eq!(rounds(same.clone(), Vec::new()).vulnerable, Some(false));
        assert_eq!(rounds(diff, other).vulnerable, None);
        assert_eq!(
            fold_answer(Some(Answer::NoRsa("alert".into()))).vulnerable,
            Some(false)
        );
    }
}
