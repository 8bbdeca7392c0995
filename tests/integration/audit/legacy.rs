//! Legacy servers show the vulnerabilities their configuration allows: OpenSSL with every
//! suite it can still serve (`ALL:@SECLEVEL=0`, TLS 1.0–1.3), and tlslite-ng serving SSL 3.0
//! with RC4, 3DES and CBC suites (tests/peers/tlslite_legacy_server.py), which no OpenSSL here
//! can.

use super::{finding, finding_ids, scan};
use crate::common::servers::{
    ServerProcess, free_port, openssl_s_server, self_signed, spawn_listening,
};
use std::path::PathBuf;
use std::process::Command;

/// tlslite-ng (venv under target/test-venv/tlslite) serving SSL 3.0 … TLS 1.2 with RC4, 3DES
/// and AES-CBC, RSA and DHE key exchange.
pub fn tlslite_legacy() -> ServerProcess {
    let py = crate::common::venv::python_venv("tlslite", &["tlslite-ng"], "import tlslite");
    let dir = tempfile::tempdir().unwrap();
    let (cert, key) = self_signed(dir.path(), "server", "rsa:2048");
    let port = free_port();
    let mut cmd = Command::new(py);
    cmd.arg(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/peers/tlslite_legacy_server.py"))
        .arg(&cert)
        .arg(&key)
        .arg(port.to_string());
    let mut p = spawn_listening("tlslite-ng", cmd, port, Some(dir));
    p.cert = Some(cert);
    p
}

#[test]
fn tlslite_with_sslv3_rc4_and_3des_shows_poodle_rc4_sweet32_beast_and_lucky13() {
    let server = tlslite_legacy();
    let (run, s) = scan(&server.target(), &[]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let ids = finding_ids(&s);
    for want in ["poodle-ssl3", "rc4", "sweet32", "beast", "lucky13"] {
        assert!(
            ids.contains(&want.to_string()),
            "{want} missing from {ids:?}\n{}",
            server.log()
        );
    }
    // What tlslite-ng cannot do is not claimed.
    for absent in ["drown", "freak", "logjam", "tls-compression"] {
        assert!(!ids.contains(&absent.to_string()), "{absent} in {ids:?}");
    }
    let poodle = finding(&s, "poodle-ssl3").unwrap();
    let evidence = poodle["evidence"].to_string();
    assert!(
        evidence.contains("SSLv3 accepts") && evidence.contains("CVE-2014-3566"),
        "{evidence}"
    );
    let rc4 = finding(&s, "rc4").unwrap();
    assert!(rc4["title"].as_str().unwrap().contains("CVE-2013-2566"));
    assert!(
        rc4["evidence"].to_string().contains("RC4-SHA"),
        "{}",
        rc4["evidence"]
    );
    assert!(rc4["fix_server"].to_string().contains(":!RC4"));
    let sweet = finding(&s, "sweet32").unwrap();
    assert!(
        sweet["evidence"].to_string().contains("DES-CBC3-SHA"),
        "{}",
        sweet["evidence"]
    );
    assert!(
        sweet["fix_server"]
            .to_string()
            .contains("ssl-default-bind-ciphers")
    );
    // The grade: SSLv3 with CBC, RC4 and 3DES each cap at C, SSLv3 and TLS 1.0 at B.
    let grade = &s["audit"]["grade"];
    assert_eq!(grade["letter"], "C", "{grade}");
    let caps = super::caps(&s);
    for want in [
        "C poodle-ssl3",
        "C rc4",
        "C sweet32",
        "B ssl3",
        "B tls10-or-tls11",
    ] {
        assert!(
            caps.contains(&want.to_string()),
            "{want} missing from {caps:?}"
        );
    }
}

#[test]
fn openssl_with_every_legacy_suite_shows_beast_lucky13_and_no_secure_renegotiation_gaps() {
    let server = openssl_s_server(&["-cipher", "ALL:@SECLEVEL=0"]);
    let (run, s) = scan(&server.target(), &[]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let ids = finding_ids(&s);
    for want in [
        "beast",
        "lucky13",
        "legacy-protocols-enabled",
        "insecure-cipher-suites",
    ] {
        assert!(
            ids.contains(&want.to_string()),
            "{want} missing from {ids:?}"
        );
    }
    // OpenSSL 3 serves neither SSLv2/3, RC4, 3DES nor export suites, has secure
    // renegotiation and honours TLS_FALLBACK_SCSV.
    for absent in [
        "drown",
        "poodle-ssl3",
        "rc4",
        "sweet32",
        "freak",
        "logjam",
        "no-secure-renegotiation",
        "fallback-scsv-ignored",
    ] {
        assert!(!ids.contains(&absent.to_string()), "{absent} in {ids:?}");
    }
    let beast = finding(&s, "beast").unwrap();
    assert_eq!(beast["severity"], "info");
    assert!(beast["title"].as_str().unwrap().contains("TLSv1.0"));
    // Anonymous suites cap the grade at F; the self-signed certificate is the T mark.
    let grade = &s["audit"]["grade"];
    assert_eq!(grade["letter"], "F", "{grade}");
    assert_eq!(grade["trust"], "T", "{grade}");
    let caps = super::caps(&s);
    assert!(caps.contains(&"F anonymous-suites".to_string()), "{caps:?}");
    assert!(caps.contains(&"B tls10-or-tls11".to_string()), "{caps:?}");
}

#[test]
fn sslv2_stand_in_shows_drown_and_what_its_kinds_are() {
    // RC4-128 export (40-bit RSA), RC4-128, 3DES: SSLv2 cipher kinds.
    let (server, _) = crate::scan::legacy_versions::sslv2_server(&[0x020080, 0x010080, 0x0700c0]);
    let (run, s) = scan(&server.target(), &[]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let ids = finding_ids(&s);
    for want in ["drown", "freak", "rc4", "sweet32"] {
        assert!(
            ids.contains(&want.to_string()),
            "{want} missing from {ids:?}"
        );
    }
    let drown = finding(&s, "drown").unwrap();
    assert!(drown["evidence"].to_string().contains("CVE-2016-0800"));
    assert!(
        drown["fix_server"]
            .to_string()
            .contains("same certificate key")
    );
    assert_eq!(s["audit"]["grade"]["letter"], "F");
    let caps = super::caps(&s);
    for want in ["F drown", "F freak", "C no-tls12"] {
        assert!(
            caps.contains(&want.to_string()),
            "{want} missing from {caps:?}"
        );
    }
}

#[test]
fn a_shared_1024_bit_prime_is_named() {
    // RFC 2409's second Oakley group (from data/dh-common-primes.toml), written as DH
    // parameters for OpenSSL. (A prime under 1024 bits cannot be had here: OpenSSL 3 refuses
    // to serve one at any security level, and tlslite-ng, given one, answers tlsdoctor's
    // hello, which lists the RFC 7919 groups, with ffdhe2048 or no DHE at all; that case is
    // unit-tested in src/audit/tests.rs.)
    let dir = tempfile::tempdir().unwrap();
    let oakley2 = tlsdoctor::audit::primes::all()
        .iter()
        .find(|p| p.name == "RFC 2409 Oakley group 2")
        .unwrap();
    let shared = dir.path().join("oakley2.pem");
    std::fs::write(&shared, dh_params_pem(&oakley2.prime)).unwrap();
    let server = openssl_s_server(&[
        "-dhparam",
        shared.to_str().unwrap(),
        "-cipher",
        "DHE:ECDHE:@SECLEVEL=1",
    ]);
    let (run, s) = scan(&server.target(), &[]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let ids = finding_ids(&s);
    assert!(
        ids.contains(&"dh-common-prime".to_string()),
        "{ids:?}\n{}",
        server.log()
    );
    assert!(!ids.contains(&"logjam".to_string()), "{ids:?}");
    let f = finding(&s, "dh-common-prime").unwrap();
    assert!(
        f["title"]
            .as_str()
            .unwrap()
            .contains("1024-bit RFC 2409 Oakley group 2"),
        "{f}"
    );
    assert!(f["evidence"].to_string().contains("CVE-2015-4000"), "{f}");
    // A 1024-bit prime caps at B; the shared one is named, not graded twice.
    assert!(super::caps(&s).contains(&"B key-under-2048".to_string()));
    // A fresh 1024-bit prime is not one of them.
    let fresh = openssl_s_server(&["-cipher", "DHE:ECDHE:@SECLEVEL=1"]);
    let (_, s) = scan(&fresh.target(), &[]);
    assert!(!finding_ids(&s).contains(&"dh-common-prime".to_string()));
}

/// PKCS#3 DH parameters (p, g = 2) in PEM, as `openssl dhparam` reads them.
fn dh_params_pem(p: &[u8]) -> String {
    fn len(n: usize) -> Vec<u8> {
        if n < 128 {
            vec![n as u8]
        } else if n < 256 {
            vec![0x81, n as u8]
        } else {
            vec![0x82, (n >> 8) as u8, n as u8]
        }
    }
    let mut int = vec![0u8];
    int.extend_from_slice(p);
    let mut body = vec![0x02];
    body.extend(len(int.len()));
    body.extend(&int);
    body.extend([0x02, 0x01, 0x02]);
    let mut der = vec![0x30];
    der.extend(len(body.len()));
    der.extend(body);
    use base64::Engine as _;
    let b64 = base64::engine::general_purpose::STANDARD.encode(der);
    let lines: Vec<&str> = b64
        .as_bytes()
        .chunks(64)
        .map(|c| std::str::from_utf8(c).unwrap())
        .collect();
    format!(
        "-----BEGIN DH PARAMETERS-----\n{}\n-----END DH PARAMETERS-----\n",
        lines.join("\n")
    )
}

#[test]
fn accepted_0rtt_is_a_replay_finding_of_the_scan_with_the_early_data_check() {
    let accepting = openssl_s_server(&["-early_data"]);
    let (_, s) = scan(&accepting.target(), &["--extra-checks", "early-data"]);
    let f = finding(&s, "early-data-accepted").expect("the 0-RTT finding");
    assert!(f["evidence"].to_string().contains("can be replayed"), "{f}");
    // Without the check, nothing is claimed about 0-RTT.
    let (_, s) = scan(&accepting.target(), &[]);
    assert!(finding(&s, "early-data-accepted").is_none());
    // A default s_server's tickets allow no early data.
    let refusing = openssl_s_server(&[]);
    let (_, s) = scan(&refusing.target(), &["--extra-checks", "early-data"]);
    assert!(finding(&s, "early-data-accepted").is_none());
}
