//! Grades of a modern, an intermediate and a legacy server, with each cap explained in the
//! text report as well as in JSON.

use super::{caps, scan};
use crate::common::cli::tlsdoctor;
use crate::common::ocsp::OcspPki;

#[test]
fn modern_and_intermediate_nginx_grade_a_with_the_untrusted_test_root_as_t() {
    let pki = OcspPki::build();
    for (protocols, protocol_score) in [("TLSv1.3", 100), ("TLSv1.2 TLSv1.3", 100)] {
        let server = super::profiles::mozilla_nginx(&pki, protocols);
        let (run, s) = scan(&server.target(), &[]);
        assert_eq!(run.code, 0, "{}", run.stderr);
        let g = &s["audit"]["grade"];
        assert_eq!(g["letter"], "A", "{protocols}: {g}");
        assert_eq!(g["protocol"]["score"], protocol_score);
        // P-256 (≈3072 RSA bits) everywhere: 90; AES-128 to 256 bits: (80 + 100) / 2.
        assert_eq!(g["key_exchange"]["score"], 90, "{g}");
        assert_eq!(g["cipher"]["score"], 90, "{g}");
        assert_eq!(g["score"], 93);
        // The test CA is in no store: the guide shows T, with A as the grade otherwise.
        assert_eq!(g["trust"], "T");
        assert_eq!(caps(&s), ["T cert-untrusted-root"], "{protocols}");
    }
}

#[test]
fn the_legacy_grade_explains_every_cap_in_text() {
    let server = crate::common::servers::openssl_s_server(&["-cipher", "ALL:@SECLEVEL=0"]);
    let run = tlsdoctor(&["scan", &server.target(), "--sni", "localhost"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let out = &run.stdout;
    assert!(
        out.contains("Grade T (F if the certificate were trusted)"),
        "{out}"
    );
    for line in [
        "capped at F by anonymous-suites: a suite without authentication offers no protection against a man in the middle. Rule: anonymous key exchange: F (guide 2009, section 4). Measured: anonymous suites accepted: ADH-",
        "capped at B by tls10-or-tls11: TLS 1.0 and 1.1 are deprecated (RFC 8996). Rule: TLS 1.0 or TLS 1.1 accepted: B (change log, January 2020). Measured: accepted: TLSv1.0, TLSv1.1",
        "capped at T by cert-self-signed",
        "protocol support 95: best TLSv1.3 (100), worst TLSv1.0 (90)",
    ] {
        assert!(out.contains(line), "{line}\nmissing from\n{out}");
    }
    // The same in Markdown and HTML.
    let md = tlsdoctor(&[
        "scan",
        &server.target(),
        "--sni",
        "localhost",
        "--format",
        "markdown",
    ]);
    assert!(
        md.stdout
            .contains("### Grade: T (F if the certificate were trusted)"),
        "{}",
        md.stdout
    );
    let html = tlsdoctor(&[
        "scan",
        &server.target(),
        "--sni",
        "localhost",
        "--format",
        "html",
    ]);
    assert!(html.stdout.contains("data-grade=\"T\""), "{}", html.stdout);
    assert!(html.stdout.contains("capped at F by anonymous-suites"));
}

#[test]
fn check_audit_adds_the_grade_and_the_vulnerabilities_to_the_diagnosis() {
    let server = crate::common::servers::openssl_s_server(&["-cipher", "ALL:@SECLEVEL=0"]);
    let cert = server.cert.clone().unwrap();
    let args = [
        "check",
        &server.target(),
        "--sni",
        "localhost",
        "--cafile",
        cert.to_str().unwrap(),
        "--json",
    ];
    let plain = tlsdoctor(&args);
    let d = &plain.json()["diagnoses"][0];
    assert!(d.get("audit").is_none(), "no audit without --audit");
    let ids = |d: &serde_json::Value| -> Vec<String> {
        d["findings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["id"].as_str().unwrap().to_string())
            .collect()
    };
    assert!(!ids(d).contains(&"beast".to_string()));
    let mut with = args.to_vec();
    with.push("--audit");
    let run = tlsdoctor(&with);
    assert_eq!(
        run.code, plain.code,
        "--audit alone does not change the exit code"
    );
    let d = &run.json()["diagnoses"][0];
    let got = ids(d);
    for want in ["beast", "lucky13"] {
        assert!(
            got.contains(&want.to_string()),
            "{want} missing from {got:?}"
        );
    }
    assert_eq!(d["audit"]["grade"]["letter"], "F");
    assert!(
        d["audit"].get("findings").is_none(),
        "they are the diagnosis' findings"
    );
}
