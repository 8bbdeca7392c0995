//! `--profile`: an nginx configured as Mozilla's generator writes the intermediate
//! configuration (5.7) complies with mozilla-intermediate and with what OpenSSL 3 / Python
//! clients accept, and fails mozilla-modern on exactly the fields modern changes.

use super::scan;
use crate::common::cli::{check_localhost, tlsdoctor};
use crate::common::ocsp::{OcspPki, Staple};
use crate::common::servers::{ServerProcess, nginx_with};
use serde_json::Value;

/// Mozilla's intermediate cipher list (ssl-config.mozilla.org, guidelines 5.7), as its
/// generator writes it for nginx.
const INTERMEDIATE_CIPHERS: &str = "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305:DHE-RSA-AES128-GCM-SHA256:DHE-RSA-AES256-GCM-SHA384:DHE-RSA-CHACHA20-POLY1305";

/// nginx with the intermediate configuration: the OCSP test PKI's P-256 leaf (20 days, issued
/// by its RSA CA) with the CA as chain, stapling a good response from a file, TLS 1.2 and
/// 1.3, the intermediate suites and curves, the client's order. `protocols` replaces the
/// protocol line (for the modern server).
pub fn mozilla_nginx(pki: &OcspPki, protocols: &str) -> ServerProcess {
    let dir = tempfile::tempdir().unwrap();
    let chain = dir.path().join("fullchain.pem");
    let mut pem = std::fs::read(pki.path("leaf.crt")).unwrap();
    pem.extend(std::fs::read(pki.path("ca.crt")).unwrap());
    std::fs::write(&chain, pem).unwrap();
    let staple = pki.staple(Staple::Good);
    let block = format!(
        "server {{\n listen 127.0.0.1:{{port}} ssl;\n ssl_certificate {{cert}};\n ssl_certificate_key {{key}};\n\
         ssl_protocols {protocols};\n ssl_ecdh_curve X25519:prime256v1:secp384r1;\n\
         ssl_ciphers {INTERMEDIATE_CIPHERS};\n ssl_prefer_server_ciphers off;\n\
         ssl_session_tickets off;\n ssl_stapling on;\n ssl_stapling_file {};\n}}",
        staple.display()
    );
    nginx_with(&block, &chain, &pki.path("leaf.key"), dir)
}

fn verdict(server: &Value) -> &Value {
    &server["audit"]["profile"]
}

fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_str().unwrap().to_string())
        .collect()
}

#[test]
fn mozilla_intermediate_nginx_complies_with_intermediate_and_fails_modern_on_its_fields() {
    let pki = OcspPki::build();
    let server = mozilla_nginx(&pki, "TLSv1.2 TLSv1.3");

    let (run, s) = scan(&server.target(), &["--profile", "mozilla-intermediate"]);
    let v = verdict(&s);
    assert_eq!(v["compliant"], true, "{v}\n{}", s["audit"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(
        strings(&v["checked"]),
        [
            "protocols",
            "ciphers",
            "tls13-ciphers",
            "groups",
            "certificate",
            "lifespan",
            "ocsp-stapling"
        ]
    );
    assert!(
        !super::finding_ids(&s).contains(&"profile-noncompliant".to_string()),
        "{:?}",
        super::finding_ids(&s)
    );

    let (run, s) = scan(&server.target(), &["--profile", "mozilla-modern"]);
    let v = verdict(&s);
    assert_eq!(run.code, 5, "not compliant: exit 5\n{}", run.stderr);
    assert_eq!(v["compliant"], false);
    // TLS 1.2 is not in modern, and modern wants an ECDSA signature on the certificate (the
    // test CA signs with RSA); modern has no TLS 1.2 suites, so its versions finding is the
    // one about them.
    assert_eq!(strings(&v["failed"]), ["protocols", "certificate"], "{v}");
    let findings: Vec<&Value> = s["audit"]["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["id"] == "profile-noncompliant")
        .collect();
    assert_eq!(findings.len(), 2);
    let protocols = findings
        .iter()
        .find(|f| f["title"].as_str().unwrap().ends_with("protocol versions"))
        .expect("the protocols finding");
    let fix = protocols["fix_server"].to_string();
    for line in [
        "nginx: ssl_protocols TLSv1.3",
        "Apache: SSLProtocol -all +TLSv1.3",
        "HAProxy: ssl-default-bind-options ssl-min-ver TLSv1.3 ssl-max-ver TLSv1.3",
    ] {
        assert!(fix.contains(line), "{line} missing from {fix}");
    }
    assert!(
        protocols["evidence"]
            .to_string()
            .contains("outside the profile: TLSv1.2")
    );
    let cert = findings
        .iter()
        .find(|f| f["title"].as_str().unwrap().contains("certificate"))
        .unwrap();
    assert!(
        cert["evidence"]
            .to_string()
            .contains("signed with sha256WithRSAEncryption"),
        "{}",
        cert["evidence"]
    );

    // What default OpenSSL 3 and Python clients need, the intermediate server has.
    let (run, s) = scan(&server.target(), &["--profile", "openssl3-python"]);
    assert_eq!(verdict(&s)["compliant"], true, "{}", verdict(&s));
    assert_eq!(run.code, 0);

    // check --profile: the same verdict joins the diagnosis; trusted through --cafile it is
    // otherwise healthy, so exit 5 says "not compliant".
    let ca = pki.path("ca.crt");
    let run = check_localhost(
        &server.target(),
        ca.to_str().unwrap(),
        &["--profile", "mozilla-modern", "--json"],
    );
    assert_eq!(run.code, 5, "{}\n{}", run.stdout, run.stderr);
    let d = &run.json()["diagnoses"][0];
    assert_eq!(d["audit"]["profile"]["compliant"], false);
    let ids: Vec<&str> = d["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        ids.iter().filter(|i| **i == "profile-noncompliant").count(),
        2,
        "{ids:?}"
    );
}

#[test]
fn a_tls12_only_server_without_tls13_fails_only_what_it_lacks_for_python() {
    // The legacy OpenSSL server accepts TLS 1.0 to 1.3 and weak suites: Python's default
    // context still connects (it shares TLS 1.3 and ECDHE-GCM), so the client profile passes,
    // while Mozilla intermediate does not.
    let server = crate::common::servers::openssl_s_server(&["-cipher", "ALL:@SECLEVEL=0"]);
    let (run, s) = scan(&server.target(), &["--profile", "openssl3-python"]);
    assert_eq!(verdict(&s)["compliant"], true, "{}", verdict(&s));
    assert_eq!(run.code, 0);
    let (run, s) = scan(&server.target(), &["--profile", "mozilla-intermediate"]);
    assert_eq!(run.code, 5);
    let failed = strings(&verdict(&s)["failed"]);
    for want in ["protocols", "ciphers", "groups"] {
        assert!(
            failed.contains(&want.to_string()),
            "{want} missing from {failed:?}"
        );
    }
}

#[test]
fn an_unknown_profile_is_refused_with_the_list() {
    let run = tlsdoctor(&["scan", "127.0.0.1:1", "--profile", "mozilla-new"]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("mozilla-intermediate"),
        "{}",
        run.stderr
    );
}
