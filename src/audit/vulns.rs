//! The known TLS vulnerabilities that the scan's evidence already shows, each as a finding
//! with its CVE and the versions, suites or properties that show it. No connection is made
//! here: the active probes (Heartbleed, ROBOT, …) are checks of their own in `crate::scan`.
//!
//! Findings that existed before this module under other ids are reused: CRIME is
//! `tls-compression`, insecure renegotiation `no-secure-renegotiation`, 0-RTT replay
//! `early-data-accepted`; for those this module adds the CVE and the evidence lines, and
//! [`super::merge`] folds them into the finding of the same id when one is already there.

use crate::finding::catalogue::finding;
use crate::finding::{Finding, FindingId, variant};
use crate::scan::ServerScan;
use crate::scan::ciphers::AcceptedSuite;
use crate::wire::ProtocolVersion;
use crate::wire::suites::{self, CipherSuite};

/// Every vulnerability finding the scan's evidence shows, in a fixed order.
pub fn findings(scan: &ServerScan) -> Vec<Finding> {
    let mut out = Vec::new();
    let accepted = scan.accepted_versions();
    let suites = accepted_suites(scan);
    let names = |pick: &dyn Fn(&Accepted<'_>) -> bool| -> Vec<String> {
        let mut v: Vec<String> = suites
            .iter()
            .filter(|s| pick(s))
            .map(|s| s.name())
            .collect();
        v.dedup();
        v
    };
    let evidence_of = |pick: &dyn Fn(&Accepted<'_>) -> bool| -> Vec<String> {
        ProtocolVersion::ALL
            .iter()
            .filter_map(|v| {
                let list: Vec<String> = suites
                    .iter()
                    .filter(|s| s.version == *v && pick(s))
                    .map(|s| s.name())
                    .collect();
                (!list.is_empty()).then(|| format!("{v} accepts {}", list.join(", ")))
            })
            .collect()
    };
    let with_evidence = |mut f: Finding, cve: &str, lines: Vec<String>| {
        f.evidence.extend(lines);
        if !cve.is_empty() {
            f.evidence.push(cve.to_string());
        }
        f
    };

    // DROWN: SSLv2 on this host.
    if accepted.contains(&ProtocolVersion::Ssl2) {
        let mut lines = vec!["SSLv2 is accepted".to_string()];
        lines.extend(evidence_of(&|s| s.version == ProtocolVersion::Ssl2));
        out.push(with_evidence(
            finding(FindingId::Drown, &[]),
            "CVE-2016-0800",
            lines,
        ));
    }

    // POODLE: SSLv3 with a CBC suite.
    let sslv3_cbc = |s: &Accepted<'_>| s.version == ProtocolVersion::Ssl3 && s.cbc();
    if suites.iter().any(sslv3_cbc) {
        out.push(with_evidence(
            finding(FindingId::PoodleSsl3, &[]),
            "CVE-2014-3566",
            evidence_of(&sslv3_cbc),
        ));
    }

    // FREAK: export-grade RSA key exchange.
    let export_rsa = |s: &Accepted<'_>| s.export() && s.kx() == "RSA";
    if suites.iter().any(export_rsa) {
        out.push(with_evidence(
            finding(
                FindingId::Freak,
                &[("suites", names(&export_rsa).join(", "))],
            ),
            "CVE-2015-0204",
            evidence_of(&export_rsa),
        ));
    }

    // Logjam: export-grade DHE, or a DHE prime under 1024 bits or shared by many servers.
    let export_dh = |s: &Accepted<'_>| s.export() && matches!(s.kx(), "DHE" | "DH");
    if suites.iter().any(export_dh) {
        out.push(with_evidence(
            finding(
                FindingId::Logjam,
                &[("suites", names(&export_dh).join(", "))],
            ),
            "CVE-2015-4000",
            evidence_of(&export_dh),
        ));
    } else if let Some(bits) = scan.key_exchange.dh_bits.filter(|b| *b < 1024) {
        out.push(with_evidence(
            finding(variant::logjam::WEAK_PRIME, &[("bits", bits.to_string())]),
            "CVE-2015-4000",
            vec![format!(
                "the DHE ServerKeyExchange carries a {bits}-bit prime"
            )],
        ));
    } else if let Some(common) = super::primes::common_prime(&scan.key_exchange) {
        out.push(with_evidence(
            finding(
                FindingId::DhCommonPrime,
                &[
                    ("bits", common.bits.to_string()),
                    ("prime", common.name.clone()),
                ],
            ),
            "CVE-2015-4000",
            vec![format!(
                "the DHE ServerKeyExchange carries the {}-bit prime of {} ({}), which many servers share",
                common.bits, common.name, common.source
            )],
        ));
    }

    // SWEET32: 64-bit block ciphers (3DES, DES, IDEA, RC2).
    let block64 = |s: &Accepted<'_>| s.block64();
    if suites.iter().any(block64) {
        out.push(with_evidence(
            finding(
                FindingId::Sweet32,
                &[("suites", names(&block64).join(", "))],
            ),
            "CVE-2016-2183, CVE-2016-6329",
            evidence_of(&block64),
        ));
    }

    // RC4.
    let rc4 = |s: &Accepted<'_>| s.enc().starts_with("RC4");
    if suites.iter().any(rc4) {
        out.push(with_evidence(
            finding(FindingId::Rc4, &[("suites", names(&rc4).join(", "))]),
            "CVE-2013-2566, CVE-2015-2808",
            evidence_of(&rc4),
        ));
    }

    // BEAST: CBC on SSLv3 or TLS 1.0 (information: clients split records since 2012).
    let beast = |s: &Accepted<'_>| {
        matches!(s.version, ProtocolVersion::Ssl3 | ProtocolVersion::Tls10) && s.cbc()
    };
    if suites.iter().any(beast) {
        let versions: Vec<String> = [ProtocolVersion::Ssl3, ProtocolVersion::Tls10]
            .into_iter()
            .filter(|v| suites.iter().any(|s| s.version == *v && s.cbc()))
            .map(|v| v.name())
            .collect();
        let mut lines = evidence_of(&beast);
        if accepted.iter().any(|v| *v >= ProtocolVersion::Tls11) {
            lines.push("the server also speaks newer versions, which current clients use".into());
        }
        out.push(with_evidence(
            finding(FindingId::Beast, &[("versions", versions.join(" and "))]),
            "CVE-2011-3389",
            lines,
        ));
    }

    // LUCKY13: CBC suites on any version (information).
    let cbc = |s: &Accepted<'_>| s.cbc() && s.version != ProtocolVersion::Ssl2;
    if suites.iter().any(cbc) {
        out.push(with_evidence(
            finding(FindingId::Lucky13, &[]),
            "CVE-2013-0169",
            evidence_of(&cbc),
        ));
    }

    // CRIME: TLS compression (the properties check's finding, with its CVE).
    let p = &scan.properties;
    if p.compression.supported == Some(true) {
        out.push(with_evidence(
            finding(FindingId::TlsCompression, &[]),
            "CVE-2012-4929",
            vec![p.compression.evidence.clone()],
        ));
    }

    // Insecure renegotiation: no RFC 5746 (the doctor's finding, with its CVE).
    if p.secure_renegotiation.supported == Some(false) {
        out.push(with_evidence(
            finding(variant::no_secure_renegotiation::NO_CLIENT_FAILS, &[]),
            "CVE-2009-3555",
            vec![p.secure_renegotiation.evidence.clone()],
        ));
    }

    // The downgrade finding: TLS_FALLBACK_SCSV not honoured. A server whose only versions
    // are TLS 1.2 and 1.3 and whose TLS 1.2 ServerHello carries the RFC 8446 downgrade
    // sentinel is protected without it: clients that speak TLS 1.3 see the downgrade in the
    // random (rustls, for one, relies on this and ignores the signal).
    let only_12_13 = accepted
        .iter()
        .all(|v| matches!(v, ProtocolVersion::Tls12 | ProtocolVersion::Tls13));
    if p.fallback_scsv.supported == Some(false)
        && !(only_12_13 && downgrade_sentinel(scan, ProtocolVersion::Tls12))
    {
        out.push(with_evidence(
            finding(FindingId::FallbackScsvIgnored, &[]),
            "",
            vec![p.fallback_scsv.evidence.clone()],
        ));
    }

    // 0-RTT: the early-data check's finding (it runs with --extra-checks early-data).
    if let Some(e) = scan
        .extra
        .early_data
        .as_ref()
        .filter(|e| e.accepted == Some(true))
    {
        out.push(with_evidence(
            finding(FindingId::EarlyDataAccepted, &[]),
            "",
            vec![
                e.evidence.clone(),
                "early data can be replayed by anyone who recorded it (RFC 8446 section 8)".into(),
            ],
        ));
    }
    out
}

/// Whether the server's answer to the `v` version probe ends its random with RFC 8446's
/// downgrade sentinel ("DOWNGRD" and 0x01 for TLS 1.2, 0x00 below), which a server that
/// speaks TLS 1.3 puts there when it negotiates less.
pub fn downgrade_sentinel(scan: &ServerScan, v: ProtocolVersion) -> bool {
    let Some(sh) = scan
        .protocols
        .get(v)
        .and_then(|r| r.raw.flight())
        .and_then(|f| f.server_hello.as_ref())
    else {
        return false;
    };
    sh.random[24..31] == *b"DOWNGRD" && matches!(sh.random[31], 0 | 1)
}

/// One suite a version accepted, with the registry's facts about it when it knows the id.
pub(super) struct Accepted<'a> {
    pub version: ProtocolVersion,
    pub suite: &'a AcceptedSuite,
    pub known: Option<&'static CipherSuite>,
}

impl Accepted<'_> {
    pub fn name(&self) -> String {
        self.suite
            .openssl
            .clone()
            .unwrap_or_else(|| self.suite.iana.clone())
    }

    fn enc(&self) -> &str {
        &self.suite.enc
    }

    fn kx(&self) -> &str {
        &self.suite.kx
    }

    fn export(&self) -> bool {
        self.known.is_some_and(|s| s.export)
    }

    pub fn cbc(&self) -> bool {
        self.suite.enc.contains("CBC")
    }

    /// A cipher with 64-bit blocks: DES, 3DES, IDEA, RC2 (their names in the registry).
    pub fn block64(&self) -> bool {
        let e = self.enc();
        e.contains("DES") || e.starts_with("IDEA") || e.starts_with("RC2")
    }
}

/// Every accepted suite of every version, in the scan's order.
pub(super) fn accepted_suites(scan: &ServerScan) -> Vec<Accepted<'_>> {
    scan.cipher_suites
        .iter()
        .flat_map(|vs| {
            vs.suites.iter().map(move |s| Accepted {
                version: vs.version,
                suite: s,
                known: registry_entry(s),
            })
        })
        .collect()
}

fn registry_entry(s: &AcceptedSuite) -> Option<&'static CipherSuite> {
    let hex = s.id.strip_prefix("0x")?;
    suites::by_id(u32::from_str_radix(hex, 16).ok()?)
}
