//! The OCSP check for one server: the staple per protocol version, must-staple, the
//! responder, and the findings they lead to. Clients' reactions are modelled in
//! [`client_rejects`] from their published code (PyMongo: pymongo/ocsp_support.py) and
//! confirmed against the real client in tests/integration/ocsp/pymongo.rs.

use super::parse::{CertStatusInfo, ParsedResponse, parse_response};
use super::responder::{ResponderExchange, ResponderOutcome, ResponderQuery, fetch, judge};
use super::verify::{CLOCK_SKEW_SECS, ProblemKind, Signer, Subject, Verdict, validate};
use crate::cert::stores::TrustStore;
use crate::clients::{ClientProfile, OcspBehaviour};
use crate::finding::catalogue::finding as catalogue_finding;
use crate::finding::{Finding, FindingId, variant};
use crate::wire::ProtocolVersion;
use serde::Serialize;
use std::time::{Duration, SystemTime};
use x509_parser::prelude::{FromDer, X509Certificate};

/// When to ask the responder.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum QueryPolicy {
    /// `--ocsp-query`: always, when the leaf names one.
    Always,
    /// Only when no version staples (what revocation-checking clients then do).
    #[default]
    WhenNotStapled,
    Never,
}

/// The staple seen in one protocol version's handshake.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StapleCheck {
    pub version: ProtocolVersion,
    pub stapled: bool,
    pub bytes: usize,
    pub response: Option<ParsedResponse>,
    pub parse_error: Option<String>,
    pub verdict: Option<Verdict>,
}

/// The leaf's issuer as used for the CertID and the signature checks.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct IssuerInfo {
    pub subject: String,
    /// "sent by the server" or "`<store>` trust store".
    pub source: String,
    #[serde(skip)]
    pub name_der: Vec<u8>,
    #[serde(skip)]
    pub spki_der: Vec<u8>,
}

/// Everything the OCSP check measured.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OcspReport {
    pub leaf_subject: String,
    pub leaf_serial: String,
    /// AIA OCSP URLs in the leaf.
    pub responder_urls: Vec<String>,
    /// The leaf carries the TLS feature extension with status_request (RFC 7633).
    pub must_staple: bool,
    pub issuer: Option<IssuerInfo>,
    /// One entry per protocol version the server accepted, oldest first.
    pub staples: Vec<StapleCheck>,
    pub responder: Option<ResponderQuery>,
    /// Why the responder was not asked, when it was not.
    pub responder_skipped: Option<String>,
    pub checked_at_unix: i64,
    #[serde(skip)]
    pub leaf_der: Vec<u8>,
}

impl OcspReport {
    /// True when some version stapled a response.
    pub fn any_stapled(&self) -> bool {
        self.staples.iter().any(|s| s.stapled)
    }

    pub fn staple_for(&self, v: ProtocolVersion) -> Option<&StapleCheck> {
        self.staples.iter().find(|s| s.version == v)
    }

    /// The responder URL [`assess`] decided to ask, if any.
    pub fn responder_to_ask(&self) -> Option<&str> {
        match &self.responder_skipped {
            None => self.responder_urls.first().map(String::as_str),
            Some(_) => None,
        }
    }

    /// Judge the responder's measured answer (at the report's time) into the report.
    pub fn judge_responder(&mut self, exchange: &ResponderExchange) {
        if let Some(subject) = self.subject() {
            let q = judge(exchange, &subject, self.checked_at_unix);
            self.responder = Some(q);
        }
    }

    fn subject(&self) -> Option<Subject<'_>> {
        let i = self.issuer.as_ref()?;
        Some(Subject {
            leaf: &self.leaf_der,
            issuer_name: &i.name_der,
            issuer_spki: &i.spki_der,
            issuer_label: format!("{} ({})", i.subject, i.source),
        })
    }
}

fn unix(t: SystemTime) -> i64 {
    t.duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// The leaf's issuer: a certificate the server sent whose subject is the leaf's issuer
/// name (and whose key verifies the leaf), else a trust anchor with that subject.
fn find_issuer(
    leaf: &X509Certificate<'_>,
    chain: &[Vec<u8>],
    stores: &[TrustStore],
) -> Option<IssuerInfo> {
    let want = leaf.issuer().as_raw();
    let signs_leaf = |spki: &[u8]| {
        super::verify::verify_signature(
            spki,
            &leaf.signature_algorithm.algorithm.to_id_string(),
            leaf.signature_algorithm
                .parameters
                .as_ref()
                .map(|p| p.as_bytes()),
            leaf.tbs_certificate.as_ref(),
            &leaf.signature_value.data,
        )
        .is_ok()
    };
    for der in chain.iter().skip(1) {
        if let Ok((_, c)) = X509Certificate::from_der(der) {
            if c.subject().as_raw() == want && signs_leaf(c.public_key().raw) {
                return Some(IssuerInfo {
                    subject: crate::cert::name::name_text(c.subject()),
                    source: "sent by the server".into(),
                    name_der: want.to_vec(),
                    spki_der: c.public_key().raw.to_vec(),
                });
            }
        }
    }
    for s in stores {
        for a in &s.roots {
            if a.subject_der == want && signs_leaf(&a.spki_der) {
                return Some(IssuerInfo {
                    subject: a.subject.clone(),
                    source: format!("{} trust store", s.name),
                    name_der: a.subject_der.clone(),
                    spki_der: a.spki_der.clone(),
                });
            }
        }
    }
    None
}

/// Run the OCSP check on measured facts: `chain` is the chain the server presents and
/// `staples` holds, per protocol version the server accepted, what its handshake stapled
/// (None: nothing), both measured once by `scan::measure`. Asks the responder when
/// [`assess`] says to; `server` is the scanned server's prober: a responder URL that points
/// at the server itself is fetched through it (slot and count). Returns None when there is
/// no parsable leaf.
pub async fn check(
    chain: &[Vec<u8>],
    stores: &[TrustStore],
    staples: Vec<(ProtocolVersion, Option<Vec<u8>>)>,
    policy: QueryPolicy,
    timeout: Duration,
    server: Option<&crate::probe::Prober>,
    now: SystemTime,
) -> Option<OcspReport> {
    let mut report = assess(chain, stores, staples, policy, now)?;
    let exchange = ask_responder(&report, timeout, server).await;
    if let Some(e) = &exchange {
        report.judge_responder(e);
    }
    Some(report)
}

/// The measurement [`assess`] asks for: the exchange with the responder, when the report
/// says to ask one (no answer is judged here).
pub async fn ask_responder(
    report: &OcspReport,
    timeout: Duration,
    server: Option<&crate::probe::Prober>,
) -> Option<ResponderExchange> {
    let url = report.responder_to_ask()?;
    let subject = report.subject()?;
    Some(fetch(url, &subject, timeout, server).await)
}

/// The OCSP verdict on measured facts at `now`, without asking anyone: the leaf's issuer,
/// every staple judged, and whether the responder is to be asked (`responder_skipped` says
/// why not). Pure; the responder's answer, once measured, is added by
/// [`OcspReport::judge_responder`]. None when there is no parsable leaf.
pub fn assess(
    chain: &[Vec<u8>],
    stores: &[TrustStore],
    staples: Vec<(ProtocolVersion, Option<Vec<u8>>)>,
    policy: QueryPolicy,
    now: SystemTime,
) -> Option<OcspReport> {
    let leaf_der = chain.first()?;
    let (_, leaf) = X509Certificate::from_der(leaf_der).ok()?;
    let now_unix = unix(now);
    let info = crate::cert::describe::describe_at(leaf_der, now_unix).ok();
    let mut report = OcspReport {
        leaf_subject: crate::cert::name::name_text(leaf.subject()),
        leaf_serial: hex::encode(leaf.raw_serial()),
        responder_urls: info
            .as_ref()
            .map(|i| i.aia_ocsp.clone())
            .unwrap_or_default(),
        must_staple: info.as_ref().is_some_and(|i| i.must_staple),
        issuer: find_issuer(&leaf, chain, stores),
        staples: Vec::new(),
        responder: None,
        responder_skipped: None,
        checked_at_unix: now_unix,
        leaf_der: leaf_der.clone(),
    };
    let mut staples = staples;
    staples.sort_by_key(|(v, _)| *v);
    staples.dedup_by_key(|(v, _)| *v);
    for (version, bytes) in staples {
        let mut s = StapleCheck {
            version,
            stapled: bytes.is_some(),
            bytes: bytes.as_ref().map(Vec::len).unwrap_or(0),
            response: None,
            parse_error: None,
            verdict: None,
        };
        if let Some(b) = bytes {
            match parse_response(&b) {
                Ok(r) => {
                    s.verdict = report.subject().map(|subj| validate(&r, &subj, now_unix));
                    s.response = Some(r);
                }
                Err(e) => s.parse_error = Some(e),
            }
        }
        report.staples.push(s);
    }
    let wanted = match policy {
        QueryPolicy::Always => true,
        QueryPolicy::WhenNotStapled => !report.any_stapled(),
        QueryPolicy::Never => false,
    };
    let url = report.responder_urls.first().cloned();
    report.responder_skipped = match (&url, wanted, report.issuer.is_some()) {
        (None, _, _) => Some("the certificate names no OCSP responder".into()),
        (Some(_), false, _) if policy == QueryPolicy::Never => Some("responder queries are off".into()),
        (Some(_), false, _) => Some("the server staples a response; use --ocsp-query to also ask the responder".into()),
        (Some(_), true, false) => Some("the leaf's issuer is neither sent by the server nor in a trust store, so no request can be built".into()),
        (Some(_), true, true) => None,
    };
    Some(report)
}

/// Why a client with `behaviour` refuses the handshake negotiated at `version`, if it does:
/// (finding id, plain reason).
pub fn client_rejects(
    behaviour: OcspBehaviour,
    report: &OcspReport,
    version: ProtocolVersion,
) -> Option<(FindingId, String)> {
    let staple = report.staple_for(version).filter(|s| s.stapled);
    match behaviour {
        OcspBehaviour::Ignore => None,
        OcspBehaviour::StapleThenResponder => match staple {
            Some(s) => pymongo_staple(report, s),
            None if report.must_staple => Some((
                FindingId::OcspMustStapleMissing,
                "the certificate demands a stapled OCSP response (must-staple) and the server sent none".into(),
            )),
            None => match &report.responder {
                Some(ResponderQuery {
                    outcome: ResponderOutcome::Answered { response, verdict },
                    ..
                }) if verdict.signature_valid
                    && verdict.matched.is_some()
                    && !verdict.has(ProblemKind::Expired)
                    && matches!(response.responses.get(verdict.matched.unwrap_or(0)).map(|r| &r.cert_status), Some(CertStatusInfo::Revoked { .. })) =>
                {
                    Some((FindingId::CertRevoked, "the OCSP responder says the certificate is revoked".into()))
                }
                _ => None,
            },
        },
        OcspBehaviour::CheckStaple => match staple {
            Some(s) => match (&s.parse_error, &s.verdict) {
                (Some(e), _) => Some((FindingId::OcspStapleInvalid, format!("the stapled response cannot be parsed: {e}"))),
                (None, Some(v)) => v
                    .problems
                    .iter()
                    .find(|p| match p.kind {
                        ProblemKind::Unknown => false,
                        ProblemKind::Expired => p.key != "this-update-future",
                        ProblemKind::Invalid | ProblemKind::Revoked => true,
                    })
                    .map(|p| (finding_for(p.kind), p.detail.clone())),
                (None, None) => None,
            },
            None if report.must_staple => Some((
                FindingId::OcspMustStapleMissing,
                "the certificate demands a stapled OCSP response (must-staple) and the server sent none".into(),
            )),
            None => None,
        },
        OcspBehaviour::HonourMustStaple => match staple {
            Some(s) => match (&s.parse_error, &s.verdict) {
                (Some(e), _) => Some((FindingId::OcspStapleInvalid, format!("the stapled response cannot be parsed: {e}"))),
                (None, Some(v)) => v.problems.first().map(|p| (finding_for(p.kind), p.detail.clone())),
                (None, None) => None,
            },
            None if report.must_staple => Some((
                FindingId::OcspMustStapleMissing,
                "the certificate demands a stapled OCSP response (must-staple) and the server sent none".into(),
            )),
            None => None,
        },
    }
}

/// PyMongo's checks of a staple (pymongo/ocsp_support.py, `_ocsp_callback` and
/// `_verify_response`): response status, signer and signature, thisUpdate not after now
/// and nextUpdate not before now (no tolerance), and status not revoked. It does not compare
/// the CertID with the leaf and accepts `unknown`.
fn pymongo_staple(report: &OcspReport, s: &StapleCheck) -> Option<(FindingId, String)> {
    if let Some(e) = &s.parse_error {
        return Some((
            FindingId::OcspStapleInvalid,
            format!("the stapled response cannot be parsed: {e}"),
        ));
    }
    let r = s.response.as_ref()?;
    let Some(v) = &s.verdict else {
        return Some((
            FindingId::OcspStapleInvalid,
            "PyMongo finds no issuer certificate to check the staple with".into(),
        ));
    };
    let signer_keys = [
        "unsuccessful",
        "signer-not-found",
        "responder-not-issued-by-issuer",
        "responder-without-ocsp-eku",
        "bad-signature",
    ];
    if let Some(p) = v
        .problems
        .iter()
        .find(|p| signer_keys.contains(&p.key.as_str()))
    {
        return Some((FindingId::OcspStapleInvalid, p.detail.clone()));
    }
    let first = r.responses.first()?;
    let now = report.checked_at_unix;
    if first.this_update_unix > now {
        return Some((
            FindingId::OcspStapleExpired,
            format!("thisUpdate {} is in the future", first.this_update),
        ));
    }
    if first.next_update_unix.is_some_and(|n| n < now) {
        return Some((
            FindingId::OcspStapleExpired,
            format!(
                "nextUpdate {} has passed",
                first.next_update.as_deref().unwrap_or("")
            ),
        ));
    }
    if let CertStatusInfo::Revoked { .. } = first.cert_status {
        return Some((
            FindingId::OcspStapleRevoked,
            format!("the staple says {}", first.cert_status.describe()),
        ));
    }
    None
}

fn finding_for(kind: ProblemKind) -> FindingId {
    match kind {
        ProblemKind::Invalid => FindingId::OcspStapleInvalid,
        ProblemKind::Expired => FindingId::OcspStapleExpired,
        ProblemKind::Revoked => FindingId::OcspStapleRevoked,
        ProblemKind::Unknown => FindingId::OcspStapleUnknown,
    }
}

/// One line describing a parsed response.
pub fn summary(r: &ParsedResponse, v: Option<&Verdict>) -> String {
    if r.response_status != "successful" {
        return format!("response status {}", r.response_status);
    }
    let single = v
        .and_then(|v| v.matched)
        .and_then(|i| r.responses.get(i))
        .or(r.responses.first());
    let mut s = format!(
        "responder {}, produced at {}",
        r.responder_id
            .as_ref()
            .map(|i| i.to_string())
            .unwrap_or_default(),
        r.produced_at.as_deref().unwrap_or("?")
    );
    if let Some(x) = single {
        s.push_str(&format!(
            "; serial {} ({} CertID): {}, thisUpdate {}, nextUpdate {}",
            x.cert_id.serial,
            x.cert_id.hash_algorithm,
            x.cert_status.describe(),
            x.this_update,
            x.next_update.as_deref().unwrap_or("(none)")
        ));
    }
    if let Some(v) = v {
        s.push_str(&format!(
            "; signed by {}",
            match &v.signer {
                Signer::Issuer => "the issuer".to_string(),
                Signer::Delegated { subject, .. } => format!("delegated responder {subject}"),
                Signer::NotFound => "an unknown signer".to_string(),
            }
        ));
    }
    s
}

fn versions_text(vs: &[ProtocolVersion]) -> String {
    vs.iter().map(|v| v.name()).collect::<Vec<_>>().join(", ")
}

/// Which of `profiles` ignore OCSP altogether (for the "who is not affected" evidence).
fn ignoring(profiles: &[ClientProfile]) -> Vec<String> {
    profiles
        .iter()
        .filter(|p| p.policy.ocsp == OcspBehaviour::Ignore)
        .map(|p| p.name.clone())
        .collect()
}

/// Findings from the report. `profiles` are the simulated clients: those that ignore OCSP
/// are named as unaffected, those whose model accepts a bad staple are named too. The
/// clients that fail are added by the doctor from the simulations.
pub fn findings(report: &OcspReport, profiles: &[ClientProfile]) -> Vec<Finding> {
    let mut out = Vec::new();
    let ignore = ignoring(profiles);
    let unaffected_line = |kind_finding: FindingId,
                           stapled_versions: &[ProtocolVersion]|
     -> Vec<String> {
        let mut lines = Vec::new();
        if !ignore.is_empty() {
            lines.push(format!(
                "not affected: {} (they do not check stapled OCSP responses)",
                ignore.join(", ")
            ));
        }
        for p in profiles
            .iter()
            .filter(|p| p.policy.ocsp != OcspBehaviour::Ignore)
        {
            let rejects = stapled_versions.iter().any(|v| {
                client_rejects(p.policy.ocsp, report, *v).is_some_and(|(id, _)| id == kind_finding)
            });
            if !rejects {
                lines.push(format!(
                    "{} accepts this staple: its OCSP check does not test this",
                    p.name
                ));
            }
        }
        lines
    };

    // Staple problems, one finding per class, evidence per version.
    let mut per_kind: Vec<(FindingId, Vec<String>, Vec<ProtocolVersion>)> = Vec::new();
    let mut add = |id: FindingId, line: String, v: ProtocolVersion| match per_kind
        .iter_mut()
        .find(|(k, _, _)| *k == id)
    {
        Some((_, lines, vs)) => {
            if !lines.contains(&line) {
                lines.push(line);
            }
            vs.push(v);
        }
        None => per_kind.push((id, vec![line], vec![v])),
    };
    for s in report.staples.iter().filter(|s| s.stapled) {
        if let Some(e) = &s.parse_error {
            add(
                FindingId::OcspStapleInvalid,
                format!("the stapled response cannot be parsed: {e}"),
                s.version,
            );
            continue;
        }
        let (Some(_), Some(v)) = (&s.response, &s.verdict) else {
            continue;
        };
        for p in &v.problems {
            add(finding_for(p.kind), p.detail.clone(), s.version);
        }
    }
    for (id, lines, vs) in per_kind {
        let mut f = catalogue_finding(id, &[]);
        f = f.evidence(format!("stapled in: {}", versions_text(&vs)));
        if let Some(s) = vs.first().and_then(|v| report.staple_for(*v)) {
            if let Some(r) = &s.response {
                f = f.evidence(format!("the staple: {}", summary(r, s.verdict.as_ref())));
            }
        }
        for l in lines {
            f = f.evidence(l);
        }
        if id == FindingId::OcspStapleRevoked {
            f = f.evidence("cert-revoked: the CA has revoked this certificate; replacing the certificate is the only fix");
        }
        if let Some(i) = &report.issuer {
            f = f.evidence(format!(
                "checked against the issuer {} ({})",
                i.subject, i.source
            ));
        }
        for l in unaffected_line(id, &vs) {
            f = f.evidence(l);
        }
        out.push(f);
    }

    // Must-staple without a staple.
    let accepted: Vec<ProtocolVersion> = report.staples.iter().map(|s| s.version).collect();
    let unstapled: Vec<ProtocolVersion> = report
        .staples
        .iter()
        .filter(|s| !s.stapled)
        .map(|s| s.version)
        .collect();
    if report.must_staple && !unstapled.is_empty() {
        out.push(
            catalogue_finding(FindingId::OcspMustStapleMissing, &[])
                .evidence("the leaf has the TLS feature extension (RFC 7633) asking for status_request: it must be presented with a stapled OCSP response")
                .evidence(format!("no OCSP response was stapled in: {} (tlsdoctor sent status_request in each)", versions_text(&unstapled))),
        );
    } else if !report.any_stapled() && !report.responder_urls.is_empty() && !accepted.is_empty() {
        out.push(
            catalogue_finding(FindingId::OcspStaplingAbsent, &[])
                .evidence(format!(
                    "no OCSP response was stapled in: {} (tlsdoctor sent status_request in each)",
                    versions_text(&accepted)
                ))
                .evidence(format!(
                    "the certificate names the responder {}",
                    report.responder_urls.join(", ")
                )),
        );
    }

    // The responder.
    if let Some(q) = &report.responder {
        let where_ = match &q.address {
            Some(a) => format!("{} ({a})", q.url),
            None => q.url.clone(),
        };
        match &q.outcome {
            ResponderOutcome::Unreachable { reason } => out.push(
                catalogue_finding(FindingId::OcspResponderUnreachable, &[("url", q.url.clone())])
                    .evidence(format!("responder {where_}: {reason}"))
                    .evidence("PyMongo waits up to 5 s for the responder on every new connection, then connects anyway (soft fail); hard-fail clients refuse the connection"),
            ),
            ResponderOutcome::Error { reason } => out.push(
                catalogue_finding(FindingId::OcspResponderError, &[("url", q.url.clone())])
                    .evidence(format!("responder {where_}: {reason}")),
            ),
            ResponderOutcome::Answered { response, verdict } => {
                let line = format!(
                    "responder {where_} answered in {} ms: {}",
                    q.latency_ms.unwrap_or(0),
                    summary(response, Some(verdict))
                );
                let revoked = verdict.has(ProblemKind::Revoked);
                let other: Vec<&str> = verdict
                    .problems
                    .iter()
                    .filter(|p| p.kind != ProblemKind::Revoked)
                    .map(|p| p.detail.as_str())
                    .collect();
                if revoked {
                    let mut f = catalogue_finding(FindingId::CertRevoked, &[]).evidence(line.clone());
                    for p in verdict.problems.iter().filter(|p| p.kind == ProblemKind::Revoked) {
                        f = f.evidence(p.detail.clone());
                    }
                    out.push(f);
                }
                if !other.is_empty() {
                    let mut f = catalogue_finding(
                        variant::ocsp_responder_error::INVALID_ANSWER,
                        &[("url", q.url.clone())],
                    )
                    .evidence(line);
                    for p in other {
                        f = f.evidence(p.to_string());
                    }
                    out.push(f);
                }
            }
        }
    }
    out
}

/// The clock tolerance stated in evidence and docs.
pub fn skew_note() -> String {
    format!("thisUpdate/nextUpdate are judged with {CLOCK_SKEW_SECS} s of clock tolerance")
}

/// The "Checked" line for the report.
pub fn checked_line(r: &OcspReport) -> String {
    let stapled: Vec<String> = r
        .staples
        .iter()
        .map(|s| {
            format!(
                "{} {}",
                s.version.name(),
                if s.stapled { "stapled" } else { "none" }
            )
        })
        .collect();
    let responder = match (&r.responder, &r.responder_skipped) {
        (Some(q), _) => format!("responder {} asked", q.url),
        (None, Some(why)) => format!("responder not asked: {why}"),
        (None, None) => "responder not asked".into(),
    };
    format!(
        "OCSP: status_request sent per version ({}); {}; {}",
        if stapled.is_empty() {
            "no handshake".to_string()
        } else {
            stapled.join(", ")
        },
        responder,
        skew_note()
    )
}
