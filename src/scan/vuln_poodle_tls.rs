//! POODLE on TLS (CVE-2014-8730 and the same flaw in other appliances, 2014): a server that
//! reads only the last byte of a CBC record's padding, not the padding bytes before it, lets
//! a man in the middle decrypt a byte per 256 requests, as SSLv3's POODLE does.
//!
//! The probe is a handshake written out by hand ([`crate::wire::cbc_client`]), on two
//! connections at once: a control whose Finished is sealed correctly, and one whose Finished
//! has a right MAC and a right length byte but wrong padding bytes. A server that checks the
//! padding answers the second with bad_record_mac (or closes); one that does not sends its own
//! ChangeCipherSpec and Finished. Only a control that completed — its Finished verified under
//! our keys — makes the second one's answer a verdict: a server this probe cannot finish a
//! handshake with is "not tested", never "vulnerable".
//!
//! It runs after the suites check ([`Stage::AfterSuites`]) and opens no connection when the
//! server accepts no CBC suite in TLS 1.0–1.2. Without the suites check it offers every CBC
//! suite it speaks at the highest such version.

use super::check::{Basis, Check, Job, Stage, SummaryLine};
use crate::finding::{Finding, FindingId};
use crate::probe::{Held, MAX_BULK_READ, Step};
use crate::wire::cbc::Padding;
use crate::wire::cbc_client::{self, CbcHandshake, Progress};
use crate::wire::suites::CipherSuiteId;
use crate::wire::{ProtocolVersion, WireError};
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// The check `poodle-tls`.
pub struct PoodleTls;

const WAIT: Duration = Duration::from_secs(3);

/// Ceiling on the reads one handshake makes (a flight of a few records, each up to 16 KiB).
const MAX_READS: usize = 64;

/// How one of the two handshakes ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum Attempt {
    /// The server sent its ChangeCipherSpec and Finished; `verified`: its verify_data is the
    /// one our keys predict.
    Finished {
        verified: bool,
    },
    /// An alert, sent in clear or encrypted under the new keys.
    Alert {
        alert: String,
        encrypted: bool,
    },
    /// After its ChangeCipherSpec, a record that did not decrypt under the agreed keys.
    Undecryptable,
    Closed,
    Silent,
    /// The handshake did not reach our Finished (refused hello, a suite or key this probe
    /// cannot complete, a malformed flight): why.
    NotReached {
        why: String,
    },
    DeadlineReached,
}

impl Attempt {
    pub fn describe(&self) -> String {
        match self {
            Attempt::Finished { verified: true } => {
                "the server sent its ChangeCipherSpec and a Finished that verifies".into()
            }
            Attempt::Finished { verified: false } => {
                "the server sent its ChangeCipherSpec and a Finished that does not verify".into()
            }
            Attempt::Alert { alert, encrypted } => format!(
                "{} alert {alert}",
                if *encrypted { "an encrypted" } else { "an" }
            ),
            Attempt::Undecryptable => {
                "after its ChangeCipherSpec, a record that does not decrypt".into()
            }
            Attempt::Closed => "the server closed the connection".into(),
            Attempt::Silent => "no answer within the wait".into(),
            Attempt::NotReached { why } => format!("the handshake did not get that far: {why}"),
            Attempt::DeadlineReached => "not finished: the run's deadline was reached".into(),
        }
    }

    fn from_step(step: Step) -> Attempt {
        match step {
            Step::Closed { .. } => Attempt::Closed,
            Step::DeadlineReached => Attempt::DeadlineReached,
            Step::Silent { .. } | Step::Bytes(_) => Attempt::Silent,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PoodleTlsResult {
    /// `Some(true)`: the wrong padding was taken after a control that completed;
    /// `Some(false)`: refused, or no CBC suite in TLS 1.0–1.2; `None`: not tested.
    pub vulnerable: Option<bool>,
    /// The version and suite the two handshakes ran at.
    pub version: Option<ProtocolVersion>,
    pub suite: Option<String>,
    pub control: Option<Attempt>,
    pub wrong_padding: Option<Attempt>,
    pub connections: u32,
    pub evidence: String,
}

/// What the probe does on this server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Plan {
    /// Nothing to test: no connection (`Some(false)`: no CBC suite; `None`: CBC suites, but
    /// none this probe speaks).
    Skip {
        vulnerable: Option<bool>,
        why: String,
    },
    Probe {
        version: ProtocolVersion,
        suites: Vec<CipherSuiteId>,
    },
}

const VERSIONS: [ProtocolVersion; 3] = [
    ProtocolVersion::Tls12,
    ProtocolVersion::Tls11,
    ProtocolVersion::Tls10,
];

/// The plan from what the basis shows: the suites check's evidence when it ran.
pub fn plan(basis: &Basis<'_>) -> Plan {
    plan_from(&basis.accepted(), basis.suites())
}

/// The plan from the accepted versions and, when the suites check ran, its evidence.
fn plan_from(
    accepted: &[ProtocolVersion],
    found: Option<&[super::ciphers::VersionSuites]>,
) -> Plan {
    let accepted: Vec<ProtocolVersion> = VERSIONS
        .into_iter()
        .filter(|v| accepted.contains(v))
        .collect();
    let Some(&highest) = accepted.first() else {
        return Plan::Skip {
            vulnerable: Some(false),
            why: "no TLS 1.0, 1.1 or 1.2 (no CBC records to pad)".into(),
        };
    };
    let Some(found) = found else {
        let suites = cbc_client::SUITES
            .iter()
            .filter(|s| cbc_client::speakable(s.id).is_some())
            .map(|s| s.id)
            .filter(|id| {
                id.info()
                    .is_some_and(|s| super::ciphers::offered_in(s, highest))
            })
            .collect();
        return Plan::Probe {
            version: highest,
            suites,
        };
    };
    let mut any_cbc = Vec::new();
    for v in &accepted {
        let Some(vs) = found.iter().find(|vs| vs.version == *v) else {
            continue;
        };
        let cbc: Vec<&super::ciphers::AcceptedSuite> = vs
            .suites
            .iter()
            .filter(|s| s.enc.ends_with("_CBC"))
            .collect();
        let speakable: Vec<CipherSuiteId> = cbc
            .iter()
            .filter_map(|s| u16::from_str_radix(s.id.trim_start_matches("0x"), 16).ok())
            .map(CipherSuiteId)
            .filter(|id| cbc_client::speakable(*id).is_some())
            .collect();
        if !speakable.is_empty() {
            return Plan::Probe {
                version: *v,
                suites: speakable,
            };
        }
        any_cbc.extend(
            cbc.iter()
                .map(|s| s.openssl.clone().unwrap_or(s.iana.clone())),
        );
    }
    if any_cbc.is_empty() {
        return Plan::Skip {
            vulnerable: Some(false),
            why: "the server accepts no CBC suite in TLS 1.0–1.2".into(),
        };
    }
    any_cbc.sort();
    any_cbc.dedup();
    Plan::Skip {
        vulnerable: None,
        why: format!(
            "its CBC suites ({}) are none this probe can complete (it speaks AES-CBC with SHA-1 or SHA-256, RSA or ECDHE key exchange)",
            any_cbc.join(", ")
        ),
    }
}

/// Read from the server into the handshake until it has something to say.
async fn next(held: &mut Held, hs: &mut CbcHandshake) -> Result<Progress, Attempt> {
    let wire = |e: WireError| Attempt::NotReached {
        why: format!("the server's bytes: {e}"),
    };
    match hs.feed(&[]) {
        Ok(Progress::NeedMore) => {}
        Ok(p) => return Ok(p),
        Err(e) => return Err(wire(e)),
    }
    for _ in 0..MAX_READS {
        match held.read_some(MAX_BULK_READ, WAIT).await {
            Step::Bytes(b) => match hs.feed(&b) {
                Ok(Progress::NeedMore) => continue,
                Ok(p) => return Ok(p),
                Err(e) => return Err(wire(e)),
            },
            other => return Err(Attempt::from_step(other)),
        }
    }
    Err(Attempt::NotReached {
        why: format!("no complete answer in {MAX_READS} reads"),
    })
}

fn attempt_of(p: Progress) -> Attempt {
    match p {
        Progress::ServerFinished { verified } => Attempt::Finished { verified },
        Progress::Alert { alert, encrypted } => Attempt::Alert {
            alert: format!(
                "{} ({})",
                alert.description.name(),
                alert.description.to_u8()
            ),
            encrypted,
        },
        Progress::Undecryptable => Attempt::Undecryptable,
        Progress::NeedMore | Progress::FlightDone => Attempt::NotReached {
            why: "an unexpected second first flight".into(),
        },
    }
}

/// One handshake with the Finished padded as `padding` says; the suite it ran with too.
async fn handshake(
    basis: &Basis<'_>,
    version: ProtocolVersion,
    suites: &[CipherSuiteId],
    padding: Padding,
) -> (Attempt, Option<CipherSuiteId>) {
    let mut held = match basis.ctx.prober.open_held(WAIT).await {
        Ok(h) => h,
        Err(crate::probe::ConnectError::Deadline) => return (Attempt::DeadlineReached, None),
        Err(e) => {
            return (
                Attempt::NotReached {
                    why: format!("no connection: {e}"),
                },
                None,
            );
        }
    };
    let (mut hs, hello) = CbcHandshake::start(version, basis.ctx.sni.as_deref(), suites);
    if !held.send(&hello, WAIT).await {
        return (Attempt::Closed, None);
    }
    let first = next(&mut held, &mut hs).await;
    let suite = hs.suite().map(|s| s.id);
    match first {
        Ok(Progress::FlightDone) => {}
        Ok(p) => {
            let why = format!("the hello was answered with {}", attempt_of(p).describe());
            return (Attempt::NotReached { why }, suite);
        }
        Err(a) => {
            let why = format!(
                "before the server's first flight was complete, {}",
                a.describe()
            );
            return (Attempt::NotReached { why }, suite);
        }
    }
    let flight = match hs.client_flight(padding) {
        Ok(f) => f,
        Err(e) => return (Attempt::NotReached { why: e.to_string() }, suite),
    };
    if !held.send(&flight, WAIT).await {
        return (Attempt::Closed, suite);
    }
    let answer = match next(&mut held, &mut hs).await {
        Ok(p) => attempt_of(p),
        Err(a) => a,
    };
    (answer, suite)
}

#[derive(Debug)]
pub struct Answer {
    version: ProtocolVersion,
    suite: Option<CipherSuiteId>,
    control: Attempt,
    wrong: Attempt,
}

impl Check for PoodleTls {
    const NAME: &'static str = "poodle-tls";
    const TITLE: &'static str = "POODLE on TLS (CBC padding not checked)";
    const BY_DEFAULT: bool = false;
    const STAGE: Stage = Stage::AfterSuites;
    const GROUP: Option<&'static str> = Some("vulns");
    type Answer = Answer;
    type Evidence = PoodleTlsResult;

    fn jobs<'a>(&'a self, basis: &'a Basis<'a>) -> Vec<Job<'a, Answer>> {
        let Plan::Probe { version, suites } = plan(basis) else {
            return Vec::new();
        };
        vec![Box::pin(async move {
            let ((control, c_suite), (wrong, w_suite)) = futures::join!(
                handshake(basis, version, &suites, Padding::Correct),
                handshake(basis, version, &suites, Padding::WrongBytes),
            );
            Answer {
                version,
                suite: c_suite.or(w_suite),
                control,
                wrong,
            }
        })]
    }

    fn fold(&self, basis: &Basis<'_>, answers: Vec<Answer>) -> PoodleTlsResult {
        match answers.into_iter().next() {
            Some(a) => judge(a),
            None => match plan(basis) {
                Plan::Skip { vulnerable, why } => skipped(vulnerable, why),
                Plan::Probe { .. } => skipped(None, "the probe did not run".into()),
            },
        }
    }

    fn findings(&self, e: &PoodleTlsResult) -> Vec<Finding> {
        super::check::finding_if(FindingId::PoodleTlsVulnerable, e.vulnerable, &e.evidence)
    }

    fn summary(&self, e: &PoodleTlsResult) -> Vec<SummaryLine> {
        let value = match e.vulnerable {
            Some(true) => "VULNERABLE",
            Some(false) if e.connections == 0 => "not vulnerable (no CBC suite)",
            Some(false) => "not vulnerable",
            None => "not tested",
        };
        vec![SummaryLine {
            label: PoodleTls::TITLE,
            value: value.into(),
            evidence: e.evidence.clone(),
        }]
    }
}

fn skipped(vulnerable: Option<bool>, why: String) -> PoodleTlsResult {
    let lead = if vulnerable == Some(false) {
        "not vulnerable"
    } else {
        "not tested"
    };
    PoodleTlsResult {
        vulnerable,
        version: None,
        suite: None,
        control: None,
        wrong_padding: None,
        connections: 0,
        evidence: format!("{lead}: {why}"),
    }
}

/// The verdict from the two handshakes.
pub fn judge(a: Answer) -> PoodleTlsResult {
    let suite = a.suite.map(|s| s.to_string());
    let at = format!(
        "{} {}",
        a.version,
        suite.as_deref().unwrap_or("(no suite chosen)")
    );
    let (vulnerable, evidence) = match (&a.control, &a.wrong) {
        (Attempt::Finished { verified: true }, Attempt::Finished { .. }) => (
            Some(true),
            format!(
                "VULNERABLE: at {at}, a Finished with a valid MAC but wrong padding bytes was accepted: {}",
                a.wrong.describe()
            ),
        ),
        (
            Attempt::Finished { verified: true },
            Attempt::Alert { .. } | Attempt::Closed | Attempt::Undecryptable,
        ) => (
            Some(false),
            format!(
                "not vulnerable: at {at}, the correctly padded control completed and wrong padding bytes got {}",
                a.wrong.describe()
            ),
        ),
        (Attempt::Finished { verified: true }, other) => (
            None,
            format!(
                "not tested: the control completed at {at}, but the wrong padding got no verdict: {}",
                other.describe()
            ),
        ),
        (control, _) => (
            None,
            format!(
                "not tested: the correctly padded control handshake did not complete at {at}: {}",
                control.describe()
            ),
        ),
    };
    PoodleTlsResult {
        vulnerable,
        version: Some(a.version),
        suite,
        control: Some(a.control),
        wrong_padding: Some(a.wrong),
        connections: 2,
        evidence,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(control: Attempt, wrong: Attempt) -> PoodleTlsResult {
        judge(Answer {
            version: ProtocolVersion::Tls12,
            suite: Some(CipherSuiteId(0xc013)),
            control,
            wrong,
        })
    }

    #[test]
    fn only_a_completed_control_makes_a_verdict() {
        let done = Attempt::Finished { verified: true };
        let alert = Attempt::Alert {
            alert: "bad_record_mac (20)".into(),
            encrypted: false,
        };
        let e = answer(done.clone(), done.clone());
        assert_eq!(e.vulnerable, Some(true));
        assert_eq!(PoodleTls.findings(&e)[0].id, FindingId::PoodleTlsVulnerable);
        assert!(
            e.evidence.contains("ECDHE-RSA-AES128-SHA"),
            "{}",
            e.evidence
        );
        assert_eq!(answer(done.clone(), alert.clone()).vulnerable, Some(false));
        assert_eq!(
            answer(done.clone(), Attempt::Closed).vulnerable,
            Some(false)
        );
        assert_eq!(answer(done.clone(), Attempt::Silent).vulnerable, None);
        // A server this probe cannot finish with is never vulnerable.
        for broken in [
            Attempt::Finished { verified: false },
            alert,
            Attempt::NotReached { why: "x".into() },
        ] {
            let e = answer(broken, done.clone());
            assert_eq!(e.vulnerable, None, "{}", e.evidence);
            assert!(PoodleTls.findings(&e).is_empty());
        }
    }

    fn accepted(version: ProtocolVersion, ids: &[u32]) -> super::super::ciphers::VersionSuites {
        super::super::ciphers::VersionSuites {
            version,
            server_preference: None,
            suites: ids
                .iter()
                .map(|id| crate::wire::suites::by_id(*id).unwrap().into())
                .collect(),
        }
    }

    #[test]
    fn the_plan_probes_only_where_the_scan_found_a_cbc_suite_it_speaks() {
        use ProtocolVersion::{Tls10, Tls12, Tls13};
        // AEAD only, or TLS 1.3 only: nothing to test, no connection.
        let modern = [
            accepted(Tls12, &[0xc02f, 0xcca8]),
            accepted(Tls13, &[0x1301]),
        ];
        assert!(matches!(
            plan_from(&[Tls12, Tls13], Some(&modern)),
            Plan::Skip {
                vulnerable: Some(false),
                ..
            }
        ));
        assert!(matches!(
            plan_from(&[Tls13], None),
            Plan::Skip {
                vulnerable: Some(false),
                ..
            }
        ));
        // CBC, but only suites this probe cannot complete (3DES, SHA-384 PRF): not tested.
        let odd = [accepted(Tls12, &[0x000a, 0xc028, 0xc02f])];
        match plan_from(&[Tls12], Some(&odd)) {
            Plan::Skip {
                vulnerable: None,
                why,
            } => assert!(why.contains("DES-CBC3-SHA"), "{why}"),
            p => panic!("{p:?}"),
        }
        // The highest version with a CBC suite it speaks, and only those suites.
        let mixed = [
            accepted(Tls10, &[0x002f]),
            accepted(Tls12, &[0xc02f, 0x000a]),
        ];
        assert_eq!(
            plan_from(&[Tls10, Tls12], Some(&mixed)),
            Plan::Probe {
                version: Tls10,
                suites: vec![CipherSuiteId(0x002f)]
            }
        );
        // Without the suites check: every CBC suite it speaks that the version allows.
        match plan_from(&[Tls10, Tls12, Tls13], None) {
            Plan::Probe { version, suites } => {
                assert_eq!(version, Tls12);
                assert!(suites.contains(&CipherSuiteId(0xc027)));
            }
            p => panic!("{p:?}"),
        }
        match plan_from(&[Tls10], None) {
            Plan::Probe { version, suites } => {
                assert_eq!(version, Tls10);
                assert!(
                    !suites.contains(&CipherSuiteId(0xc027)),
                    "SHA-256 MACs need TLS 1.2"
                );
                assert!(suites.contains(&CipherSuiteId(0xc013)));
            }
            p => panic!("{p:?}"),
        }
    }

    #[test]
    fn a_skip_opens_no_connection_and_says_why() {
        let e = skipped(Some(false), "no CBC".into());
        assert_eq!((e.vulnerable, e.connections), (Some(false), 0));
        assert_eq!(
            PoodleTls.summary(&e)[0].value,
            "not vulnerable (no CBC suite)"
        );
        assert!(skipped(None, "x".into()).evidence.starts_with("not tested"));
    }
}
