//! The audit on recorded lab evidence (tests/data/evidence/): each endpoint's diagnosis
//! joined with its audit, as `check --audit` makes it, and the grade with its caps.

use super::*;
use crate::doctor::fixture::EvidenceFixture;
use crate::doctor::{Diagnosis, diagnose};
use crate::finding::{FindingId, Severity};
use std::path::Path;

fn audited(endpoint: &str, profile: Option<&str>) -> (Diagnosis, Audit) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/evidence")
        .join(format!("{endpoint}.json"));
    let fixture = EvidenceFixture::load(&path).unwrap_or_else(|e| panic!("{e}"));
    let mut d = diagnose(fixture.evidence().unwrap(), None);
    let req = AuditRequest {
        profile: profile.map(|p| profile::find(p).unwrap()),
    };
    let scan = d
        .scan
        .clone()
        .unwrap_or_else(|| panic!("{endpoint}: not a TLS endpoint"));
    let chain = d.certificate_chain.clone();
    let a = join(&scan, chain.as_ref(), &mut d.findings, &req);
    (d, a)
}

fn ids(d: &Diagnosis) -> Vec<FindingId> {
    d.findings.iter().map(|f| f.id).collect()
}

fn caps(a: &Audit) -> Vec<String> {
    a.grade
        .caps
        .iter()
        .map(|c| format!("{} {}", c.cap, c.by))
        .collect()
}

/// Every endpoint, as a table to read when an expectation below fails.
#[test]
fn every_endpoint_has_a_grade() {
    for entry in
        std::fs::read_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/evidence"))
            .unwrap()
    {
        let name = entry.unwrap().file_name().into_string().unwrap();
        let Some(endpoint) = name.strip_suffix(".json") else {
            continue;
        };
        // No version accepted (not TLS first, or no suite the server can serve): no grade.
        if matches!(
            endpoint,
            "plain-http"
                | "smtp-starttls"
                | "sni-required"
                | "ecdsa-suites-rsa-certificate"
                | "closed-on-server-name"
        ) {
            continue;
        }
        let (d, a) = audited(endpoint, None);
        println!(
            "{endpoint}: {} score {} caps [{}] findings {:?}",
            a.grade.shown(),
            a.grade.score,
            caps(&a).join(", "),
            ids(&d)
        );
        assert!(a.grade.score <= 100);
        for c in &a.grade.caps {
            assert!(!c.rule.is_empty() && !c.reason.is_empty() && !c.evidence.is_empty());
        }
    }
}

/// (endpoint, the grade shown, the caps) as the guide gives them on the lab's evidence.
const GRADES: &[(&str, &str, &[&str])] = &[
    ("healthy", "A", &[]),
    ("tls13-only", "A", &[]),
    (
        "tls10-only",
        "C",
        &["C no-tls12", "B tls10-or-tls11", "A- no-aead"],
    ),
    ("rsa-1024", "B", &["B key-under-2048", "A- no-aead"]),
    ("dh-1024", "B", &["B key-under-2048", "A- no-aead"]),
    ("rsa-kx-only", "B", &["B no-forward-secrecy", "A- no-aead"]),
    (
        "no-secure-renegotiation",
        "C",
        &["C no-secure-renegotiation", "A- no-aead"],
    ),
    (
        "missing-intermediate",
        "B",
        &["B cert-missing-intermediate"],
    ),
    ("self-signed", "T", &["T cert-self-signed"]),
    ("expired", "T", &["T cert-expired"]),
    ("not-yet-valid", "T", &["T cert-not-yet-valid"]),
    ("sha1-chain", "T", &["T cert-sha1-signature"]),
    ("wrong-host", "M", &["M cert-hostname-mismatch"]),
    ("ocsp-revoked", "F", &["F ocsp-staple-revoked"]),
];

#[test]
fn lab_endpoints_grade_as_the_guide_says() {
    for (endpoint, shown, want) in GRADES {
        let (_, a) = audited(endpoint, None);
        assert_eq!(
            a.grade.shown().as_str(),
            *shown,
            "{endpoint}: {:?}",
            a.grade
        );
        assert_eq!(caps(&a), *want, "{endpoint}");
    }
    // The trust mark keeps the grade the server would have with a good certificate.
    let (_, a) = audited("expired", None);
    assert_eq!(
        (a.grade.letter, a.grade.trust),
        (Letter::A, Some(Letter::T))
    );
    let (_, a) = audited("dh-1024", None);
    let cap = &a.grade.caps[0];
    assert!(cap.evidence.contains("DHE prime 1024 bits"), "{cap:?}");
    assert!(cap.rule.contains("2048") && !cap.reason.is_empty());
}

#[test]
fn the_healthy_endpoint_shows_no_vulnerability() {
    let (d, a) = audited("healthy", None);
    assert!(d.findings.is_empty(), "{:?}", ids(&d));
    assert_eq!(a.grade.score, 93);
    // rustls ignores TLS_FALLBACK_SCSV; its TLS 1.2 answer carries the TLS 1.3 downgrade
    // sentinel instead, which is why no fallback finding is made.
    let scan = d.scan.as_ref().unwrap();
    assert_eq!(scan.properties.fallback_scsv.supported, Some(false));
    assert!(vulns::downgrade_sentinel(
        scan,
        crate::wire::ProtocolVersion::Tls12
    ));
}

#[test]
fn reused_findings_gain_their_cve_and_new_ones_their_evidence() {
    let (d, _) = audited("no-secure-renegotiation", None);
    let f = d
        .findings
        .iter()
        .find(|f| f.id == FindingId::NoSecureRenegotiation)
        .unwrap();
    assert!(f.evidence.iter().any(|e| e == "CVE-2009-3555"), "{f:?}");
    // Once: the doctor's finding, with the audit's evidence added.
    assert_eq!(
        ids(&d)
            .iter()
            .filter(|i| **i == FindingId::NoSecureRenegotiation)
            .count(),
        1
    );
    let (d, _) = audited("tls10-only", None);
    let beast = d
        .findings
        .iter()
        .find(|f| f.id == FindingId::Beast)
        .unwrap();
    assert_eq!(beast.severity, Severity::Info);
    assert!(
        beast
            .evidence
            .iter()
            .any(|e| e.starts_with("TLSv1.0 accepts ")),
        "{beast:?}"
    );
    assert!(beast.title.contains("TLSv1.0"));
}

#[test]
fn profiles_on_recorded_evidence() {
    // TLS 1.0 only: every profile but old fails its versions; Python's default context
    // shares no version with it.
    let (_, a) = audited("tls10-only", Some("openssl3-python"));
    let p = a.profile.unwrap();
    assert!(!p.compliant);
    assert_eq!(p.failed, ["protocols"]);
    let (_, a) = audited("tls10-only", Some("mozilla-old"));
    let p = a.profile.unwrap();
    assert!(!p.failed.contains(&"protocols".to_string()), "{p:?}");
    // DH 1024: Python refuses the prime (its minimum is 2048), Mozilla old allows 1024.
    let (_, a) = audited("dh-1024", Some("openssl3-python"));
    assert!(a.profile.unwrap().failed.contains(&"dh-size".to_string()));
    let (d, a) = audited("healthy", Some("openssl3-python"));
    assert!(a.profile.unwrap().compliant, "{:?}", ids(&d));
}

#[test]
fn a_dhe_prime_under_1024_bits_is_logjam_and_caps_at_f() {
    let (mut d, _) = audited("dh-1024", None);
    let scan = d.scan.as_mut().unwrap();
    scan.key_exchange.dh_bits = Some(512);
    let scan = scan.clone();
    let a = audit(
        &scan,
        d.certificate_chain.as_ref(),
        &[],
        &AuditRequest::default(),
    );
    let f = a
        .findings
        .iter()
        .find(|f| f.id == FindingId::Logjam)
        .unwrap();
    assert!(f.title.contains("512 bits"), "{}", f.title);
    assert_eq!(a.grade.letter, Letter::F);
    assert!(caps(&a).contains(&"F logjam".to_string()), "{:?}", caps(&a));
}

#[test]
fn compression_is_crime_and_caps_at_c() {
    // No server here compresses (Debian's OpenSSL has no zlib, GnuTLS dropped it): the
    // property as the compression probe records a server choosing DEFLATE.
    let (d, _) = audited("healthy", None);
    let mut scan = d.scan.clone().unwrap();
    scan.properties.compression = crate::scan::properties::judge_compression(
        &crate::probe::ProbeOutcome::Accepted(Box::new(deflate_flight(&scan))),
    );
    assert_eq!(scan.properties.compression.supported, Some(true));
    let a = audit(
        &scan,
        d.certificate_chain.as_ref(),
        &[],
        &AuditRequest::default(),
    );
    let f = a
        .findings
        .iter()
        .find(|f| f.id == FindingId::TlsCompression)
        .unwrap();
    assert!(f.evidence.iter().any(|e| e == "CVE-2012-4929"), "{f:?}");
    assert_eq!(
        f.evidence.iter().filter(|e| e.contains("DEFLATE")).count(),
        1,
        "the property's evidence once: {f:?}"
    );
    assert_eq!(a.grade.letter, Letter::C);
}

/// The TLS 1.2 flight of `scan` with its ServerHello choosing DEFLATE.
fn deflate_flight(scan: &crate::scan::ServerScan) -> crate::wire::ServerFlight {
    let mut f = scan
        .protocols
        .get(crate::wire::ProtocolVersion::Tls12)
        .and_then(|r| r.raw.flight())
        .cloned()
        .unwrap();
    f.server_hello.as_mut().unwrap().compression = 1;
    f
}

#[test]
fn the_fix_lines_spell_each_server_s_version_names() {
    // TLS 1.0 only, judged by Mozilla modern: the fix is modern's line for each server.
    let (d, _) = audited("tls10-only", Some("mozilla-modern"));
    let f = d
        .findings
        .iter()
        .find(|f| f.id == FindingId::ProfileNoncompliant && f.title.ends_with("protocol versions"))
        .unwrap();
    assert_eq!(f.fix_server[0], "Accept TLSv1.3 only.");
    assert_eq!(
        f.fix_server[1],
        "nginx: ssl_protocols TLSv1.3;  Apache: SSLProtocol -all +TLSv1.3;  HAProxy: ssl-default-bind-options ssl-min-ver TLSv1.3 ssl-max-ver TLSv1.3"
    );
    // Old: nginx and Apache say TLSv1, HAProxy TLSv1.0.
    let p = profile::find("mozilla-old").unwrap();
    let mut scan = audited("tls10-only", None).0.scan.unwrap();
    // SSLv3, outside old's versions.
    scan.protocols.results.iter_mut().for_each(|r| {
        if r.version == crate::wire::ProtocolVersion::Ssl3 {
            r.accepted = true;
        }
    });
    let v = profile::check(p, &scan, None);
    let f = v
        .findings
        .iter()
        .find(|f| f.title.ends_with("protocol versions"))
        .unwrap();
    assert!(f.fix_server[1].starts_with("nginx: ssl_protocols TLSv1 TLSv1.1 TLSv1.2 TLSv1.3;  Apache: SSLProtocol -all +TLSv1 +TLSv1.1 +TLSv1.2 +TLSv1.3;  HAProxy: ssl-default-bind-options ssl-min-ver TLSv1.0 ssl-max-ver TLSv1.3"), "{}", f.fix_server[1]);
}

#[test]
fn export_suites_are_freak_and_logjam() {
    // No server here offers TLS export suites: the recorded TLS 1.0 scan with two added, as
    // the suite enumeration records them.
    let (d, _) = audited("tls10-only", None);
    let mut scan = d.scan.clone().unwrap();
    let tls10 = scan
        .cipher_suites
        .iter_mut()
        .find(|vs| vs.version == crate::wire::ProtocolVersion::Tls10)
        .unwrap();
    for name in ["EXP-RC4-MD5", "EXP-EDH-RSA-DES-CBC-SHA"] {
        let s = crate::wire::suites::by_name(name).unwrap();
        tls10
            .suites
            .push(crate::scan::ciphers::AcceptedSuite::from(s));
    }
    let a = audit(
        &scan,
        d.certificate_chain.as_ref(),
        &[],
        &AuditRequest::default(),
    );
    let by = |id: FindingId| a.findings.iter().find(|f| f.id == id);
    let freak = by(FindingId::Freak).expect("FREAK");
    assert!(
        freak.evidence.iter().any(|e| e.contains("EXP-RC4-MD5")),
        "{freak:?}"
    );
    assert!(
        !freak.evidence.iter().any(|e| e.contains("EXP-EDH")),
        "{freak:?}"
    );
    let logjam = by(FindingId::Logjam).expect("Logjam");
    assert!(
        logjam.title.contains("export-grade DHE"),
        "{}",
        logjam.title
    );
    assert!(logjam.fix_server[0].contains("EXP-EDH-RSA-DES-CBC-SHA"));
    assert_eq!(a.grade.letter, Letter::F);
    let caps = caps(&a);
    assert!(caps.contains(&"F freak".to_string()) && caps.contains(&"F logjam".to_string()));
    // Export key exchange scores 40 for key exchange, as the guide says.
    assert_eq!(a.grade.key_exchange.score, 40);
}
