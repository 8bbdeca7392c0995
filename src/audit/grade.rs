//! A grade by the method of SSL Labs' SSL Server Rating Guide: a score from protocol support
//! (30 %), key exchange (30 %) and cipher strength (40 %), its letter, then every cap whose
//! condition the evidence shows, each with the guide's rule and the evidence behind it. The
//! weights, bands, thresholds and caps are data (data/grade.toml); this module applies them.
//! docs/grade.md says where the method is followed and where it is not.

use crate::cert::ChainAnalysis;
use crate::finding::Finding;
use crate::scan::ServerScan;
use crate::wire::ProtocolVersion;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::sync::OnceLock;

const GRADE_DATA: &str = include_str!("../../data/grade.toml");

/// A letter of the guide, best first. `T` and `M` are not in this order: they are trust
/// marks, kept apart ([`Grade::trust`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Letter {
    #[serde(rename = "A+")]
    APlus,
    A,
    #[serde(rename = "A-")]
    AMinus,
    B,
    C,
    D,
    E,
    F,
    /// The certificate is not trusted (the guide's "T").
    T,
    /// The certificate is not for the name asked (the guide's "M").
    M,
}

impl Letter {
    pub fn as_str(self) -> &'static str {
        match self {
            Letter::APlus => "A+",
            Letter::A => "A",
            Letter::AMinus => "A-",
            Letter::B => "B",
            Letter::C => "C",
            Letter::D => "D",
            Letter::E => "E",
            Letter::F => "F",
            Letter::T => "T",
            Letter::M => "M",
        }
    }

    fn is_trust_mark(self) -> bool {
        matches!(self, Letter::T | Letter::M)
    }
}

impl std::fmt::Display for Letter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One of the three scored aspects.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Component {
    /// 0 to 100.
    pub score: u32,
    /// How the score was reached, in words.
    pub evidence: String,
}

/// A cap that applies, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AppliedCap {
    /// The highest letter the grade may have.
    pub cap: Letter,
    /// The finding id or the measured condition that triggers it.
    pub by: String,
    /// Where the guide sets the cap.
    pub rule: String,
    pub reason: String,
    /// What was measured (the finding's title, or the condition's evidence).
    pub evidence: String,
}

/// The grade of one server.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Grade {
    /// The grade after every cap (never T or M: see `trust`).
    pub letter: Letter,
    /// The weighted score, 0 to 100.
    pub score: u32,
    /// The letter the score alone gives.
    pub score_letter: Letter,
    pub protocol: Component,
    pub key_exchange: Component,
    pub cipher: Component,
    /// Every cap that applies, most severe first.
    pub caps: Vec<AppliedCap>,
    /// `T` or `M` when the certificate is not trusted or not for the name: the guide then
    /// shows that mark, with `letter` as the grade if the certificate were fixed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub trust: Option<Letter>,
    /// What the method needs that this grade could not judge.
    pub not_judged: Vec<String>,
}

impl Grade {
    /// What the guide would display: the trust mark when there is one, else the letter.
    pub fn shown(&self) -> Letter {
        self.trust.unwrap_or(self.letter)
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Band {
    below: u32,
    score: u32,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Weights {
    protocol: u32,
    key_exchange: u32,
    cipher: u32,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct KeyExchangeData {
    anonymous: u32,
    export: u32,
    bands: Vec<Band>,
    above: u32,
    equivalent_bits: BTreeMap<String, u32>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CipherData {
    bands: Vec<Band>,
    above: u32,
    key_bits: BTreeMap<String, u32>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Letters {
    thresholds: Vec<Threshold>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Threshold {
    letter: Letter,
    min: u32,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Cap {
    #[serde(default)]
    finding: Option<String>,
    #[serde(default)]
    probe_finding: Option<String>,
    #[serde(default)]
    condition: Option<Condition>,
    /// With `finding` or `probe_finding`: a measured condition that must hold as well.
    #[serde(default)]
    and_condition: Option<Condition>,
    cap: Letter,
    rule: String,
    reason: String,
}

/// The measured conditions a cap can name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
enum Condition {
    AnonymousSuites,
    #[serde(rename = "key-under-1024")]
    KeyUnder1024,
    #[serde(rename = "key-under-2048")]
    KeyUnder2048,
    NoTls12,
    Ssl3,
    Tls10OrTls11,
    NoForwardSecrecy,
    NoAead,
    /// The server lacks RFC 5746 secure renegotiation.
    InsecureRenegotiation,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Method {
    weights: Weights,
    protocol_scores: BTreeMap<String, u32>,
    key_exchange: KeyExchangeData,
    cipher: CipherData,
    letters: Letters,
    cap: Vec<Cap>,
}

fn method() -> &'static Method {
    static M: OnceLock<Method> = OnceLock::new();
    M.get_or_init(|| {
        let m: Method = toml::from_str(GRADE_DATA)
            .unwrap_or_else(|e| panic!("data/grade.toml is invalid: {e}"));
        m
    })
}

fn band(bands: &[Band], above: u32, value: u32) -> u32 {
    bands
        .iter()
        .find(|b| value < b.below)
        .map(|b| b.score)
        .unwrap_or(above)
}

/// Grade `scan`, with the chain it presented when known and every finding already made about
/// the server (the caps keyed by finding id read them).
pub fn grade(scan: &ServerScan, chain: Option<&ChainAnalysis>, findings: &[Finding]) -> Grade {
    let m = method();
    let accepted = scan.accepted_versions();
    let suites = super::vulns::accepted_suites(scan);

    // Protocol support: the mean of the best and the worst accepted version.
    let scored: Vec<(ProtocolVersion, u32)> = accepted
        .iter()
        .filter_map(|v| m.protocol_scores.get(&v.key()).map(|s| (*v, *s)))
        .collect();
    let protocol = match (
        scored.iter().max_by_key(|(_, s)| *s),
        scored.iter().min_by_key(|(_, s)| *s),
    ) {
        (Some(best), Some(worst)) => Component {
            score: (best.1 + worst.1) / 2,
            evidence: format!(
                "best {} ({}), worst {} ({})",
                best.0, best.1, worst.0, worst.1
            ),
        },
        _ => Component {
            score: 0,
            evidence: "no protocol version accepted".into(),
        },
    };

    // Key exchange: the weakest key the server uses.
    let kx = key_exchange(scan, chain, &suites);

    // Cipher strength: the mean of the strongest and the weakest accepted suite.
    let bits: Vec<(String, u32)> = suites
        .iter()
        .map(|s| {
            let b = m
                .cipher
                .key_bits
                .get(&s.suite.enc)
                .copied()
                .unwrap_or(u32::from(s.suite.bits));
            (s.name(), b)
        })
        .collect();
    let cipher = match (
        bits.iter().max_by_key(|(_, b)| *b),
        bits.iter().min_by_key(|(_, b)| *b),
    ) {
        (Some(best), Some(worst)) => {
            let (sb, sw) = (
                band(&m.cipher.bands, m.cipher.above, best.1),
                band(&m.cipher.bands, m.cipher.above, worst.1),
            );
            Component {
                score: (sb + sw) / 2,
                evidence: format!(
                    "strongest {} ({} bits: {sb}), weakest {} ({} bits: {sw})",
                    best.0, best.1, worst.0, worst.1
                ),
            }
        }
        _ => Component {
            score: 0,
            evidence: "no cipher suite accepted".into(),
        },
    };

    let w = &m.weights;
    let total = w.protocol + w.key_exchange + w.cipher;
    let score = (protocol.score * w.protocol
        + kx.component.score * w.key_exchange
        + cipher.score * w.cipher
        + total / 2)
        / total.max(1);
    let score_letter = m
        .letters
        .thresholds
        .iter()
        .find(|t| score >= t.min)
        .map(|t| t.letter)
        .unwrap_or(Letter::F);

    // Caps.
    let mut caps = Vec::new();
    let mut not_judged = Vec::new();
    let mut probes: Vec<&str> = Vec::new();
    for c in &m.cap {
        let hit = if let Some(id) = c.finding.as_deref().or(c.probe_finding.as_deref()) {
            if c.probe_finding.is_some() {
                probes.push(id);
            }
            let also = match c.and_condition {
                Some(cond) => condition(cond, scan, &suites, &kx),
                None => Some(String::new()),
            };
            findings
                .iter()
                .find(|f| f.id.as_str() == id)
                .zip(also)
                .map(|(f, also)| {
                    let evidence = if also.is_empty() {
                        f.title.clone()
                    } else {
                        format!("{}; {also}", f.title)
                    };
                    (id.to_string(), evidence)
                })
        } else if let Some(cond) = c.condition {
            condition(cond, scan, &suites, &kx).map(|e| (condition_name(cond).to_string(), e))
        } else {
            None
        };
        if let Some((by, evidence)) = hit {
            caps.push(AppliedCap {
                cap: c.cap,
                by,
                rule: c.rule.clone(),
                reason: c.reason.clone(),
                evidence,
            });
        }
    }
    // Most severe first; the trust marks, which say something else, last.
    caps.sort_by_key(|c| (c.cap.is_trust_mark(), std::cmp::Reverse(c.cap)));
    let letter = caps
        .iter()
        .filter(|c| !c.cap.is_trust_mark())
        .map(|c| c.cap)
        .fold(score_letter, std::cmp::max);
    let trust = caps
        .iter()
        .map(|c| c.cap)
        .filter(|l| l.is_trust_mark())
        .min_by_key(|l| if *l == Letter::T { 0 } else { 1 });
    // Which probes ran is not the audit's to know: say once what their findings do.
    not_judged.push(format!(
        "vulnerabilities only active probes find ({}) cap the grade at F when a probe that ran reports them (--extra-checks)",
        probes.join(", ")
    ));
    if chain.is_none() {
        not_judged.push("the certificate chain (trust, name, signature): not examined".into());
    }
    not_judged.push(
        "A+ needs HTTP Strict Transport Security, which is HTTP, not TLS: never given".into(),
    );
    Grade {
        letter,
        score,
        score_letter,
        protocol,
        key_exchange: kx.component,
        cipher,
        caps,
        trust,
        not_judged,
    }
}

struct KeyExchangeJudged {
    component: Component,
    /// The weakest key in RSA-equivalent bits, and what it was.
    weakest: Option<(u32, String)>,
}

fn key_exchange(
    scan: &ServerScan,
    chain: Option<&ChainAnalysis>,
    suites: &[super::vulns::Accepted<'_>],
) -> KeyExchangeJudged {
    let d = &method().key_exchange;
    let mut keys: Vec<(u32, String)> = Vec::new();
    if let Some(leaf) = chain.and_then(|c| c.certificates.first()) {
        let bits = if leaf.key_type == "RSA" || leaf.key_type == "DSA" {
            Some(leaf.key_bits as u32)
        } else {
            d.equivalent_bits.get(&leaf.key_type).copied()
        };
        if let Some(b) = bits {
            keys.push((
                b,
                format!("certificate key {} {}", leaf.key_type, leaf.key_bits),
            ));
        }
    }
    let dhe = suites.iter().any(|s| s.suite.kx == "DHE");
    if let (true, Some(bits)) = (dhe, scan.key_exchange.dh_bits) {
        keys.push((bits as u32, format!("DHE prime {bits} bits")));
    }
    let kx = &scan.key_exchange;
    for g in kx.tls13_groups.iter().chain(&kx.ecdhe_curves) {
        if let Some(b) = d.equivalent_bits.get(&g.name) {
            keys.push((*b, format!("group {}", g.name)));
        }
    }
    let weakest = keys.iter().min_by_key(|(b, _)| *b).cloned();
    let mut score = weakest
        .as_ref()
        .map(|(b, _)| band(&d.bands, d.above, *b))
        .unwrap_or(0);
    let mut evidence = match &weakest {
        Some((b, what)) => format!("weakest: {what} (≈{b} RSA bits)"),
        None => "no key measured".into(),
    };
    let export = suites.iter().any(|s| s.known.is_some_and(|k| k.export));
    if export && d.export < score {
        score = d.export;
        evidence.push_str("; export-grade key exchange accepted");
    }
    let anonymous = suites
        .iter()
        .any(|s| s.known.is_some_and(|k| k.is_anonymous()));
    if anonymous && d.anonymous < score {
        score = d.anonymous;
        evidence.push_str("; anonymous key exchange accepted");
    }
    KeyExchangeJudged {
        component: Component { score, evidence },
        weakest,
    }
}

fn condition_name(c: Condition) -> &'static str {
    match c {
        Condition::AnonymousSuites => "anonymous-suites",
        Condition::KeyUnder1024 => "key-under-1024",
        Condition::KeyUnder2048 => "key-under-2048",
        Condition::NoTls12 => "no-tls12",
        Condition::Ssl3 => "ssl3",
        Condition::Tls10OrTls11 => "tls10-or-tls11",
        Condition::NoForwardSecrecy => "no-forward-secrecy",
        Condition::NoAead => "no-aead",
        Condition::InsecureRenegotiation => "insecure-renegotiation",
    }
}

/// Whether `c` holds, with the evidence when it does.
fn condition(
    c: Condition,
    scan: &ServerScan,
    suites: &[super::vulns::Accepted<'_>],
    kx: &KeyExchangeJudged,
) -> Option<String> {
    let accepted = scan.accepted_versions();
    let listed = |pick: &dyn Fn(&super::vulns::Accepted<'_>) -> bool| {
        let mut names: Vec<String> = suites
            .iter()
            .filter(|s| pick(s))
            .map(|s| s.name())
            .collect();
        names.dedup();
        names.join(", ")
    };
    let weak_key = |limit: u32| {
        kx.weakest
            .as_ref()
            .filter(|(b, _)| *b < limit)
            .map(|(b, what)| format!("{what} (≈{b} RSA bits)"))
    };
    match c {
        Condition::AnonymousSuites => {
            let anon = listed(&|s| s.known.is_some_and(|k| k.is_anonymous()));
            (!anon.is_empty()).then(|| format!("anonymous suites accepted: {anon}"))
        }
        Condition::KeyUnder1024 => weak_key(1024),
        Condition::KeyUnder2048 => weak_key(2048),
        Condition::NoTls12 => (!accepted.is_empty()
            && !accepted
                .iter()
                .any(|v| matches!(v, ProtocolVersion::Tls12 | ProtocolVersion::Tls13)))
        .then(|| format!("accepted: {}", crate::scan::versions::names(&accepted))),
        Condition::Ssl3 => accepted
            .contains(&ProtocolVersion::Ssl3)
            .then(|| "SSLv3 accepted".into()),
        Condition::Tls10OrTls11 => {
            let old: Vec<ProtocolVersion> = accepted
                .iter()
                .copied()
                .filter(|v| matches!(v, ProtocolVersion::Tls10 | ProtocolVersion::Tls11))
                .collect();
            (!old.is_empty()).then(|| format!("accepted: {}", crate::scan::versions::names(&old)))
        }
        Condition::NoForwardSecrecy => {
            let fs = suites
                .iter()
                .any(|s| s.known.is_some_and(|k| k.forward_secret()));
            // The server's own first choice in its best version decides what clients get
            // when it enforces its order.
            let first = scan
                .cipher_suites
                .iter()
                .max_by_key(|vs| vs.version)
                .filter(|vs| vs.server_preference == Some(true))
                .and_then(|vs| vs.suites.first());
            let first_fs = first
                .and_then(|s| suites.iter().find(|a| std::ptr::eq(a.suite, s)))
                .map(|a| a.known.is_some_and(|k| k.forward_secret()));
            if !suites.is_empty() && !fs {
                Some("no accepted suite has forward secrecy".into())
            } else if first_fs == Some(false) {
                Some(format!(
                    "the server's first choice, {}, has no forward secrecy",
                    first.map(|s| s.iana.clone()).unwrap_or_default()
                ))
            } else {
                None
            }
        }
        Condition::InsecureRenegotiation => (scan.properties.secure_renegotiation.supported
            == Some(false))
        .then(|| scan.properties.secure_renegotiation.evidence.clone()),
        Condition::NoAead => (!suites.is_empty() && !suites.iter().any(|s| s.suite.mac == "AEAD"))
            .then(|| "no accepted suite is AEAD".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::finding::FindingId;

    #[test]
    fn the_method_loads_and_names_known_findings() {
        let m = method();
        assert_eq!(
            m.weights.protocol + m.weights.key_exchange + m.weights.cipher,
            100
        );
        for c in &m.cap {
            let keys = [
                c.finding.is_some(),
                c.probe_finding.is_some(),
                c.condition.is_some(),
            ];
            assert_eq!(keys.iter().filter(|k| **k).count(), 1, "{}", c.rule);
            assert!(
                c.and_condition.is_none() || c.condition.is_none(),
                "{}",
                c.rule
            );
            if let Some(id) = c.finding.as_ref().or(c.probe_finding.as_ref()) {
                assert!(
                    id.parse::<FindingId>().is_ok(),
                    "{id} is not in the catalogue"
                );
            }
        }
        for v in ProtocolVersion::ALL {
            assert!(m.protocol_scores.contains_key(&v.key()), "{v}");
        }
        let thresholds: Vec<u32> = m.letters.thresholds.iter().map(|t| t.min).collect();
        assert!(thresholds.windows(2).all(|w| w[0] > w[1]));
    }

    #[test]
    fn every_condition_round_trips_its_name() {
        for c in [
            Condition::AnonymousSuites,
            Condition::KeyUnder1024,
            Condition::KeyUnder2048,
            Condition::NoTls12,
            Condition::Ssl3,
            Condition::Tls10OrTls11,
            Condition::NoForwardSecrecy,
            Condition::NoAead,
            Condition::InsecureRenegotiation,
        ] {
            let back: Condition = toml::from_str::<std::collections::BTreeMap<String, Condition>>(
                &format!("c = {:?}", condition_name(c)),
            )
            .unwrap()["c"];
            assert_eq!(back, c);
        }
    }

    #[test]
    fn bands_follow_the_guide() {
        let d = &method().key_exchange;
        assert_eq!(band(&d.bands, d.above, 512), 40);
        assert_eq!(band(&d.bands, d.above, 1024), 80);
        assert_eq!(band(&d.bands, d.above, 2048), 90);
        assert_eq!(band(&d.bands, d.above, 4096), 100);
        let c = &method().cipher;
        assert_eq!(band(&c.bands, c.above, 0), 0);
        assert_eq!(band(&c.bands, c.above, 56), 20);
        assert_eq!(band(&c.bands, c.above, 168), 80);
        assert_eq!(band(&c.bands, c.above, 256), 100);
    }
}
