//! Intolerance: servers that fail a ClientHello because it carries something they do not
//! know, which TLS says they must ignore. GREASE values (RFC 8701) exist to keep servers
//! honest about it; a server that fails on them, on a hello larger than one TCP segment, on an
//! unknown extension or on a newer version in the legacy field breaks the clients that send
//! these (GREASE and large hellos: current clients; the others: future ones).
//!
//! Each property is the version probe's hello for the server's highest version (the one it
//! accepted) with one change. Those of the highest version go first in one hello with every
//! change at once: a server that answers it tolerates each (a failure of one cannot hide
//! behind the others' success), so a healthy server costs one connection for them; only a
//! server that fails it is asked each change alone, to tell which it fails. TLS 1.3 in the
//! legacy field is a hello of the highest version up to TLS 1.2, always its own connection.

use super::check::{Basis, Check, Job, SummaryLine};
use crate::finding::catalogue::finding;
use crate::finding::{Finding, FindingId, variant};
use crate::probe::ProbeOutcome;
use crate::wire::extension::ClientExtension;
use crate::wire::groups::NamedGroup;
use crate::wire::suites::CipherSuiteId;
use crate::wire::{ClientHello, ProtocolVersion};
use serde::{Deserialize, Serialize};

/// The check `intolerance`.
pub struct Intolerance;

/// GREASE values used (RFC 8701 §2): one for suites, one for extensions, one for groups, one
/// for versions, so a server that remembers one cannot pass on another.
const GREASE_SUITE: u16 = 0x0a0a;
const GREASE_EXTENSION: u16 = 0x1a1a;
const GREASE_GROUP: u16 = 0x2a2a;
const GREASE_VERSION: u16 = 0x3a3a;
/// An extension type no registry entry has (IANA TLS ExtensionType Values).
pub const UNKNOWN_EXTENSION: u16 = 0x4a4b;
/// The size a large hello is padded to: more than one TCP segment (1460 bytes on Ethernet),
/// as hellos with post-quantum key shares are.
pub const LARGE_HELLO: usize = 2000;

/// One thing a hello may carry that a server must tolerate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Variation {
    GreaseSuite,
    GreaseExtension,
    GreaseGroup,
    GreaseVersion,
    LargeHello,
    UnknownExtension,
    Tls13LegacyVersion,
}

impl Variation {
    const ALL: [Variation; 7] = [
        Variation::GreaseSuite,
        Variation::GreaseExtension,
        Variation::GreaseGroup,
        Variation::GreaseVersion,
        Variation::LargeHello,
        Variation::UnknownExtension,
        Variation::Tls13LegacyVersion,
    ];

    /// What the hello carried, in words (also the finding's `{what}`).
    pub fn words(self) -> String {
        match self {
            Variation::GreaseSuite => format!("a GREASE cipher suite (0x{GREASE_SUITE:04x})"),
            Variation::GreaseExtension => {
                format!("an empty GREASE extension (type 0x{GREASE_EXTENSION:04x})")
            }
            Variation::GreaseGroup => {
                format!("a GREASE group (0x{GREASE_GROUP:04x}) in supported_groups and key_share")
            }
            Variation::GreaseVersion => {
                format!("a GREASE version (0x{GREASE_VERSION:04x}) in supported_versions")
            }
            Variation::LargeHello => format!("padding to {LARGE_HELLO} bytes"),
            Variation::UnknownExtension => {
                format!("an unknown extension (type 0x{UNKNOWN_EXTENSION:04x})")
            }
            Variation::Tls13LegacyVersion => {
                "TLS 1.3 (0x0304) in the legacy version field of a hello without supported_versions"
                    .into()
            }
        }
    }

    /// Whether clients send it today (GREASE, large hellos) or only future ones may.
    fn current(self) -> bool {
        !matches!(
            self,
            Variation::UnknownExtension | Variation::Tls13LegacyVersion
        )
    }

    /// The hello to send: `None` when the variation does not apply to these versions.
    fn hello(
        self,
        highest: ProtocolVersion,
        legacy: Option<ProtocolVersion>,
        sni: Option<&str>,
    ) -> Option<ClientHello> {
        let mut h = super::versions::probe_client_hello(self.version(highest, legacy)?, sni)?;
        self.apply(&mut h, highest).then_some(h)
    }

    /// The version whose probe hello this variation changes: `None` when it does not apply.
    fn version(
        self,
        highest: ProtocolVersion,
        legacy: Option<ProtocolVersion>,
    ) -> Option<ProtocolVersion> {
        match self {
            Variation::Tls13LegacyVersion => legacy,
            Variation::GreaseVersion if highest != ProtocolVersion::Tls13 => None,
            _ => Some(highest),
        }
    }

    /// Make this one change to `h`, a probe hello of `highest` (or of the legacy version);
    /// false when there is nothing to change (SSLv3 hellos carry no extensions).
    fn apply(self, h: &mut ClientHello, highest: ProtocolVersion) -> bool {
        use ClientExtension as E;
        if h.extensions.is_empty()
            || (self == Variation::GreaseVersion && highest != ProtocolVersion::Tls13)
        {
            return false;
        }
        match self {
            Variation::GreaseSuite => h.cipher_suites.insert(0, CipherSuiteId(GREASE_SUITE)),
            Variation::GreaseExtension => h.extensions.insert(
                0,
                E::Raw {
                    typ: GREASE_EXTENSION,
                    data: Vec::new(),
                },
            ),
            Variation::GreaseGroup => {
                for e in h.extensions.iter_mut() {
                    match e {
                        E::SupportedGroups(g) => g.insert(0, NamedGroup(GREASE_GROUP)),
                        // RFC 8701 §3.1: a GREASE key share is one byte.
                        E::KeyShare(s) => s.insert(0, (NamedGroup(GREASE_GROUP), vec![0])),
                        _ => {}
                    }
                }
            }
            Variation::GreaseVersion => {
                for e in h.extensions.iter_mut() {
                    if let E::SupportedVersions(v) = e {
                        v.insert(0, GREASE_VERSION);
                    }
                }
            }
            Variation::LargeHello => {
                h.extensions.retain(|e| !matches!(e, E::Padding(_)));
                let len = h.encode_handshake().len();
                h.extensions
                    .push(E::Padding(LARGE_HELLO.saturating_sub(len + 4).max(1)));
            }
            Variation::UnknownExtension => h.extensions.insert(
                0,
                E::Raw {
                    typ: UNKNOWN_EXTENSION,
                    data: vec![0; 4],
                },
            ),
            Variation::Tls13LegacyVersion => h.legacy_version = 0x0304,
        }
        true
    }
}

/// The variations asked together in one hello of `highest` (every one that applies to it but
/// TLS 1.3 in the legacy field, which is a hello of its own), and that hello: the large
/// hello's padding last, so it pads what the others added.
pub fn together(
    highest: ProtocolVersion,
    legacy: Option<ProtocolVersion>,
    sni: Option<&str>,
) -> Option<(Vec<Variation>, ClientHello)> {
    let mut h = super::versions::probe_client_hello(highest, sni)?;
    let mut carried = Vec::new();
    for v in Variation::ALL {
        if v != Variation::Tls13LegacyVersion
            && v != Variation::LargeHello
            && v.version(highest, legacy) == Some(highest)
            && v.apply(&mut h, highest)
        {
            carried.push(v);
        }
    }
    if Variation::LargeHello.apply(&mut h, highest) {
        carried.push(Variation::LargeHello);
    }
    (carried.len() > 1).then_some((carried, h))
}

/// How the server took one variation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tolerance {
    pub variation: Variation,
    /// The version of the hello varied (`TLSv1.3`, …).
    pub version: String,
    /// `Some(true)`: answered as the plain hello was; `Some(false)`: failed where the plain
    /// hello of the same version was accepted; `None`: not measured (deadline, connect).
    pub tolerated: Option<bool>,
    pub evidence: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IntoleranceResult {
    pub properties: Vec<Tolerance>,
    pub connections: u32,
    pub evidence: String,
}

impl Check for Intolerance {
    const NAME: &'static str = "intolerance";
    const TITLE: &'static str = "Intolerance of unknown values";
    const BY_DEFAULT: bool = false;
    const GROUP: Option<&'static str> = Some("vulns");
    type Answer = Answer;
    type Evidence = IntoleranceResult;

    fn jobs<'a>(&'a self, basis: &'a Basis<'a>) -> Vec<Job<'a, Self::Answer>> {
        let Some(highest) = basis.accepted().into_iter().max() else {
            return Vec::new();
        };
        let legacy = basis.legacy();
        let sni = basis.ctx.sni.as_deref();
        let prober = &basis.ctx.prober;
        // The version a hello of `v` is recorded under, and its answer.
        let send = move |v: Variation, hello: ClientHello| async move {
            let version = ProtocolVersion::from_wire(hello.legacy_version.min(0x0303));
            let version = if highest == ProtocolVersion::Tls13 && v != Variation::Tls13LegacyVersion
            {
                ProtocolVersion::Tls13
            } else {
                version
            };
            let outcome = if version == ProtocolVersion::Tls13 {
                prober.send_hello_following_retry(&hello).await
            } else {
                prober.send_hello(&hello.encode_probe()).await
            };
            (version, outcome.outcome)
        };
        let alone = move |vs: Vec<Variation>| async move {
            let asked = vs
                .into_iter()
                .filter_map(|v| Some((v, v.hello(highest, legacy, sni)?)));
            let tested = futures::future::join_all(asked.map(|(v, hello)| async move {
                let (version, outcome) = send(v, hello).await;
                (v, version, outcome)
            }))
            .await;
            Answer {
                connections: tested.len() as u32,
                tested,
                together: false,
            }
        };
        let mut jobs: Vec<Job<'a, Answer>> = Vec::new();
        let carried = match together(highest, legacy, sni) {
            Some((carried, hello)) => {
                let first = carried[0];
                let all = carried.clone();
                jobs.push(Box::pin(async move {
                    let (version, outcome) = send(first, hello).await;
                    if matches!(outcome, ProbeOutcome::Accepted(_)) || not_measured(&outcome) {
                        let tested = all
                            .into_iter()
                            .map(|v| (v, version, outcome.clone()))
                            .collect();
                        return Answer {
                            tested,
                            together: true,
                            connections: 1,
                        };
                    }
                    // Failed: ask each change alone, to tell which the server fails on.
                    let mut each = alone(all).await;
                    each.connections += 1;
                    each
                }));
                carried
            }
            None => Vec::new(),
        };
        let rest: Vec<Variation> = Variation::ALL
            .into_iter()
            .filter(|v| !carried.contains(v))
            .collect();
        jobs.push(Box::pin(alone(rest)));
        jobs
    }

    fn fold(&self, _: &Basis<'_>, answers: Vec<Self::Answer>) -> IntoleranceResult {
        fold_answers(answers)
    }

    /// One finding for every failure (the report keeps one finding per id): an error when
    /// clients send any of what failed today, a warning when only future ones would.
    fn findings(&self, e: &IntoleranceResult) -> Vec<Finding> {
        let failed: Vec<&Tolerance> = e
            .properties
            .iter()
            .filter(|p| p.tolerated == Some(false))
            .collect();
        if failed.is_empty() {
            return Vec::new();
        }
        let what = failed
            .iter()
            .map(|p| p.variation.words())
            .collect::<Vec<_>>()
            .join("; ");
        let mut f = if failed.iter().any(|p| p.variation.current()) {
            finding(FindingId::HelloIntolerance, &[("what", what)])
        } else {
            finding(variant::hello_intolerance::FUTURE, &[("what", what)])
        };
        for p in failed {
            f = f.evidence(p.evidence.clone());
        }
        vec![f]
    }

    fn summary(&self, e: &IntoleranceResult) -> Vec<SummaryLine> {
        e.properties
            .iter()
            .map(|p| SummaryLine {
                label: "Tolerates",
                value: format!(
                    "{}: {}",
                    p.variation.words(),
                    match p.tolerated {
                        Some(true) => "yes",
                        Some(false) => "NO",
                        None => "not measured",
                    }
                ),
                evidence: p.evidence.clone(),
            })
            .collect()
    }
}

/// What the probes of some variations answered.
#[derive(Debug, Clone)]
pub struct Answer {
    /// Each variation tested, the version of its hello, and the server's answer.
    pub tested: Vec<(Variation, ProtocolVersion, ProbeOutcome)>,
    /// Whether one hello carried every variation of `tested` (they share its answer).
    pub together: bool,
    /// Connections these answers took.
    pub connections: u32,
}

/// The outcomes that measured nothing: no hello reached the server, or no answer in time.
fn not_measured(outcome: &ProbeOutcome) -> bool {
    matches!(
        outcome,
        ProbeOutcome::DeadlineReached
            | ProbeOutcome::ConnectFailed { .. }
            | ProbeOutcome::ConnectTimeout
            | ProbeOutcome::PreludeFailed { .. }
    )
}

/// The evidence from each variation's outcome, in the order the variations are declared.
pub fn fold_answers(answers: Vec<Answer>) -> IntoleranceResult {
    let connections = answers.iter().map(|a| a.connections).sum();
    let mut tested: Vec<(Variation, ProtocolVersion, ProbeOutcome, bool)> = answers
        .into_iter()
        .flat_map(|a| {
            let together = a.together;
            a.tested
                .into_iter()
                .map(move |(v, version, o)| (v, version, o, together))
        })
        .collect();
    tested.sort_by_key(|(v, ..)| Variation::ALL.iter().position(|x| x == v));
    let properties: Vec<Tolerance> = tested
        .into_iter()
        .map(|(variation, version, outcome, together)| {
            let v = version.name();
            let what = variation.words();
            let with = if together {
                format!("{what} (and every other variation of the highest version, in one hello)")
            } else {
                what
            };
            let (tolerated, evidence) = match &outcome {
                ProbeOutcome::Accepted(_) => (
                    Some(true),
                    format!(
                        "a {v} ClientHello with {with} was answered: {}",
                        outcome.describe()
                    ),
                ),
                o if not_measured(o) => (
                    None,
                    format!("not measured: {}", outcome.describe()),
                ),
                other => (
                    Some(false),
                    format!(
                        "a {v} ClientHello with {with} failed ({}), where the same hello without it was accepted",
                        other.describe()
                    ),
                ),
            };
            Tolerance {
                variation,
                version: v,
                tolerated,
                evidence,
            }
        })
        .collect();
    let failed: Vec<String> = properties
        .iter()
        .filter(|p| p.tolerated == Some(false))
        .map(|p| p.variation.words())
        .collect();
    let evidence = if properties.is_empty() {
        "not tested: the server accepted no version".into()
    } else if failed.is_empty() {
        format!(
            "all {} variations of the hello were answered as the plain hello was",
            properties.len()
        )
    } else {
        format!("fails hellos with {}", failed.join("; "))
    };
    IntoleranceResult {
        properties,
        connections,
        evidence,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::{Alert, AlertDescription};

    #[test]
    fn each_variation_changes_one_thing() {
        let plain =
            super::super::versions::probe_client_hello(ProtocolVersion::Tls13, None).unwrap();
        for v in Variation::ALL {
            let h = v
                .hello(ProtocolVersion::Tls13, Some(ProtocolVersion::Tls12), None)
                .unwrap();
            assert_ne!(h, plain, "{v:?}");
            let bytes = h.encode_probe();
            // Every variation still parses as one ClientHello.
            assert_eq!(ClientHello::parse_record(&bytes).unwrap(), h, "{v:?}");
            if v == Variation::LargeHello {
                assert!(h.encode_handshake().len() >= LARGE_HELLO - 4, "{v:?}");
            }
        }
        let t13 = Variation::Tls13LegacyVersion
            .hello(ProtocolVersion::Tls13, Some(ProtocolVersion::Tls12), None)
            .unwrap();
        assert_eq!(t13.legacy_version, 0x0304);
        assert!(
            !t13.extensions
                .iter()
                .any(|e| matches!(e, ClientExtension::SupportedVersions(_)))
        );
        // Without TLS 1.3 there is no supported_versions to put a GREASE version in.
        assert!(
            Variation::GreaseVersion
                .hello(ProtocolVersion::Tls12, Some(ProtocolVersion::Tls12), None)
                .is_none()
        );
    }

    /// Answers of probes that each carried one variation.
    fn alone(tested: Vec<(Variation, ProtocolVersion, ProbeOutcome)>) -> Answer {
        Answer {
            connections: tested.len() as u32,
            tested,
            together: false,
        }
    }

    #[test]
    fn failures_are_findings_and_acceptance_is_not() {
        let e = fold_answers(vec![alone(vec![
            (
                Variation::GreaseSuite,
                ProtocolVersion::Tls13,
                ProbeOutcome::Accepted(Box::default()),
            ),
            (
                Variation::GreaseExtension,
                ProtocolVersion::Tls13,
                ProbeOutcome::Alert(Alert::fatal(AlertDescription::DecodeError)),
            ),
            (
                Variation::UnknownExtension,
                ProtocolVersion::Tls13,
                ProbeOutcome::Closed { bytes_received: 0 },
            ),
            (
                Variation::LargeHello,
                ProtocolVersion::Tls13,
                ProbeOutcome::DeadlineReached,
            ),
        ])]);
        let tolerated: Vec<Option<bool>> = e.properties.iter().map(|p| p.tolerated).collect();
        // In the order of Variation::ALL.
        assert_eq!(tolerated, [Some(true), Some(false), None, Some(false)]);
        let f = Intolerance.findings(&e);
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].id, FindingId::HelloIntolerance);
        assert_eq!(f[0].severity, crate::finding::Severity::Error);
        assert!(f[0].title.contains("GREASE extension"), "{}", f[0].title);
        assert!(f[0].title.contains("unknown extension"), "{}", f[0].title);
        assert_eq!(f[0].evidence.len(), 2);
        // Only a value no client sends yet: a warning.
        let future = fold_answers(vec![alone(vec![(
            Variation::Tls13LegacyVersion,
            ProtocolVersion::Tls12,
            ProbeOutcome::Closed { bytes_received: 0 },
        )])]);
        let f = Intolerance.findings(&future);
        assert_eq!(f[0].severity, crate::finding::Severity::Warning);
        assert_eq!(e.connections, 4);
    }

    /// One hello carries every variation of the highest version: each change is in it, as
    /// in the hello that carries that change alone.
    #[test]
    fn the_shared_hello_carries_every_change_of_its_version() {
        use ClientExtension as E;
        let (carried, h) =
            together(ProtocolVersion::Tls13, Some(ProtocolVersion::Tls12), None).unwrap();
        let expected: Vec<Variation> = Variation::ALL
            .into_iter()
            .filter(|v| *v != Variation::Tls13LegacyVersion)
            .collect();
        let mut sorted = carried.clone();
        sorted.sort_by_key(|v| Variation::ALL.iter().position(|x| x == v));
        assert_eq!(sorted, expected);
        assert_eq!(ClientHello::parse_record(&h.encode_probe()).unwrap(), h);
        assert_eq!(h.cipher_suites[0], CipherSuiteId(GREASE_SUITE));
        let raw_types: Vec<u16> = h
            .extensions
            .iter()
            .filter_map(|e| match e {
                E::Raw { typ, .. } => Some(*typ),
                _ => None,
            })
            .collect();
        assert!(raw_types.contains(&GREASE_EXTENSION) && raw_types.contains(&UNKNOWN_EXTENSION));
        assert!(h.extensions.iter().any(
            |e| matches!(e, E::SupportedGroups(g) if g.first() == Some(&NamedGroup(GREASE_GROUP)))
        ));
        assert!(h.extensions.iter().any(
            |e| matches!(e, E::KeyShare(s) if s.first().map(|k| k.0) == Some(NamedGroup(GREASE_GROUP)))
        ));
        assert!(
            h.extensions.iter().any(
                |e| matches!(e, E::SupportedVersions(v) if v.first() == Some(&GREASE_VERSION))
            )
        );
        assert!(h.encode_handshake().len() >= LARGE_HELLO - 4);
        assert_eq!(
            h.legacy_version, 0x0303,
            "TLS 1.3 in the legacy field goes alone"
        );
        // TLS 1.2 at most: no supported_versions, so no GREASE version.
        let (carried, _) =
            together(ProtocolVersion::Tls12, Some(ProtocolVersion::Tls12), None).unwrap();
        assert!(!carried.contains(&Variation::GreaseVersion));
        assert_eq!(carried.len(), 5);
        // SSLv3 hellos carry no extensions: each change is tried alone (and none applies).
        assert!(together(ProtocolVersion::Ssl3, Some(ProtocolVersion::Ssl3), None).is_none());
    }

    /// A shared hello that was answered: every variation it carried is tolerated, for one
    /// connection; one that was not answered in time measured none of them.
    #[test]
    fn a_shared_answer_counts_once_for_every_variation() {
        let shared = |outcome: ProbeOutcome| Answer {
            tested: [Variation::GreaseSuite, Variation::LargeHello]
                .into_iter()
                .map(|v| (v, ProtocolVersion::Tls13, outcome.clone()))
                .collect(),
            together: true,
            connections: 1,
        };
        let legacy = alone(vec![(
            Variation::Tls13LegacyVersion,
            ProtocolVersion::Tls12,
            ProbeOutcome::Accepted(Box::default()),
        )]);
        let e = fold_answers(vec![
            shared(ProbeOutcome::Accepted(Box::default())),
            legacy.clone(),
        ]);
        assert_eq!(e.connections, 2);
        assert!(e.properties.iter().all(|p| p.tolerated == Some(true)));
        assert!(
            e.properties[0].evidence.contains("in one hello"),
            "{}",
            e.properties[0].evidence
        );
        assert!(Intolerance.findings(&e).is_empty());
        let late = fold_answers(vec![shared(ProbeOutcome::DeadlineReached), legacy]);
        let tolerated: Vec<Option<bool>> = late.properties.iter().map(|p| p.tolerated).collect();
        assert_eq!(tolerated, [None, None, Some(true)]);
    }
}
