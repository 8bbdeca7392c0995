//! The real PyMongo (with its `ocsp` extra, from PyPI, in a virtual environment under
//! target/test-venv/pymongo that is created on first use and reused) against the same
//! s_server staples as tests/integration/ocsp/staple.rs: where tlsdoctor's simulation predicts that
//! PyMongo fails, PyMongo must fail with exactly the predicted text; where it predicts a TLS
//! success, PyMongo must get past TLS (and then fail at the MongoDB protocol, because
//! s_server is not MongoDB).

use crate::common::cli::tlsdoctor;
use crate::common::ocsp::{OcspPki, Staple};
use std::path::PathBuf;
use std::process::Command;
use std::sync::OnceLock;

const TEXT: &str = "[('SSL routines', '', 'invalid status response')]";

/// The venv's python with PyMongo and its `ocsp` extra.
fn python() -> &'static PathBuf {
    crate::common::venv::pymongo()
}

fn pki() -> &'static OcspPki {
    static PKI: OnceLock<OcspPki> = OnceLock::new();
    PKI.get_or_init(OcspPki::build)
}

/// PyMongo's error (or "OK") connecting to localhost:port with tlsCAFile=ca.crt.
fn pymongo(port: u16, extra_options: &str) -> String {
    let ca = pki().path("ca.crt");
    let script = format!(
        r#"
import pymongo
from pymongo.ssl_support import HAVE_PYSSL
assert HAVE_PYSSL, "PyMongo is not using pyOpenSSL: the ocsp extra is missing"
c = pymongo.MongoClient("mongodb://localhost:{port}/?tls=true&tlsCAFile={ca}&serverSelectionTimeoutMS=2000&connectTimeoutMS=2000&directConnection=true{extra_options}")
try:
    c.admin.command("ping")
    print("OK")
except Exception as e:
    print(type(e).__name__ + ": " + str(e))
"#,
        ca = ca.display()
    );
    let out = Command::new(python())
        .arg("-c")
        .arg(&script)
        .output()
        .expect("run python");
    assert!(
        out.status.success(),
        "python failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// tlsdoctor's prediction for PyMongo: Ok(()) or Err(error text, finding id).
fn prediction(port: u16) -> Result<(), (String, String)> {
    let ca = pki().path("ca.crt");
    let target = format!("localhost:{port}");
    let doc = tlsdoctor(&[
        "check",
        &target,
        "--cafile",
        ca.to_str().unwrap(),
        "--client",
        "pymongo",
        "--json",
    ])
    .json();
    let sim = &doc["diagnoses"][0]["simulations"][0];
    assert_eq!(sim["client"], "pymongo", "{doc:#}");
    if sim["connects"] == true {
        Ok(())
    } else {
        Err((
            sim["failure"]["error"].as_str().unwrap().to_string(),
            sim["failure"]["finding"]
                .as_str()
                .unwrap_or_default()
                .to_string(),
        ))
    }
}

/// Serve `cert` stapling `staple`; compare the prediction with the real PyMongo.
fn compare(
    cert: &str,
    staple: Option<Staple>,
    extra_options: &str,
) -> (Result<(), (String, String)>, String) {
    let p = pki();
    let file = staple.map(|k| p.staple(k));
    let srv = p.server(cert, file.as_deref(), &[]);
    let predicted = prediction(srv.port);
    let real = pymongo(srv.port, extra_options);
    // s_server -quiet writes what the client sends after the handshake to its output: PyMongo's
    // first MongoDB command carries its driver name, so it shows only when TLS succeeded.
    // (The output is binary, so it is read as bytes from the fixture's log file.)
    let log =
        std::env::temp_dir().join(format!("tlsdoctor-test-openssl-s_server-{}.log", srv.port));
    let got_past_tls = std::fs::read(&log)
        .unwrap_or_default()
        .windows(7)
        .any(|w| w == b"PyMongo");
    match &predicted {
        Err((text, _)) => {
            assert!(text.ends_with(TEXT), "{text}");
            assert!(
                real.contains(text.as_str()),
                "predicted {text:?}, PyMongo said: {real}"
            );
            assert!(
                !got_past_tls,
                "PyMongo sent a MongoDB command after a failed handshake?"
            );
        }
        Ok(()) => {
            assert!(
                !real.contains("invalid status response"),
                "predicted success, PyMongo said: {real}"
            );
            assert!(
                !real.contains("SSL handshake failed"),
                "predicted success, PyMongo said: {real}"
            );
            // Past TLS: s_server does not speak the MongoDB protocol, so the command goes
            // unanswered, but it was sent over the established TLS connection.
            assert!(
                got_past_tls,
                "no MongoDB command reached the server; PyMongo said: {real}"
            );
        }
    }
    (predicted, real)
}

fn fails_with(r: &(Result<(), (String, String)>, String), finding: &str) {
    match &r.0 {
        Err((_, f)) => assert_eq!(f, finding, "{}", r.1),
        Ok(()) => panic!(
            "tlsdoctor predicted that PyMongo connects; PyMongo said: {}",
            r.1
        ),
    }
}

#[test]
fn good_staple_passes_tls() {
    assert!(compare("leaf", Some(Staple::Good), "").0.is_ok());
}

#[test]
fn revoked_staple_fails() {
    fails_with(
        &compare("leaf", Some(Staple::Revoked), ""),
        "ocsp-staple-revoked",
    );
}

#[test]
fn expired_staple_fails() {
    fails_with(
        &compare("leaf", Some(Staple::Expired), ""),
        "ocsp-staple-expired",
    );
}

#[test]
fn not_yet_valid_staple_fails() {
    fails_with(
        &compare("leaf", Some(Staple::Future), ""),
        "ocsp-staple-expired",
    );
}

#[test]
fn wrong_key_staple_fails() {
    fails_with(
        &compare("leaf", Some(Staple::WrongKey), ""),
        "ocsp-staple-invalid",
    );
}

#[test]
fn responder_without_eku_fails() {
    fails_with(
        &compare("leaf", Some(Staple::DelegatedNoEku), ""),
        "ocsp-staple-invalid",
    );
}

#[test]
fn other_serial_and_unknown_are_accepted_by_pymongo() {
    assert!(compare("leaf", Some(Staple::OtherSerial), "").0.is_ok());
    assert!(compare("leaf", Some(Staple::Unknown), "").0.is_ok());
}

#[test]
fn disabling_the_endpoint_check_does_not_help_against_a_bad_staple() {
    // The fix advice says so: tlsDisableOCSPEndpointCheck only affects the no-staple case.
    fails_with(
        &compare(
            "leaf",
            Some(Staple::Revoked),
            "&tlsDisableOCSPEndpointCheck=true",
        ),
        "ocsp-staple-revoked",
    );
}

#[test]
fn must_staple_without_staple_fails() {
    fails_with(&compare("must", None, ""), "ocsp-must-staple-missing");
}

#[test]
fn responder_revoked_without_staple_fails() {
    let p = OcspPki::build();
    let _responder = p.responder("index-revoked.txt");
    let srv = p.server("leaf", None, &[]);
    let ca = p.path("ca.crt");
    let target = format!("localhost:{}", srv.port);
    let doc = tlsdoctor(&[
        "check",
        &target,
        "--cafile",
        ca.to_str().unwrap(),
        "--client",
        "pymongo",
        "--json",
    ])
    .json();
    let sim = &doc["diagnoses"][0]["simulations"][0];
    assert_eq!(sim["connects"], false, "{sim:#}");
    assert_eq!(sim["failure"]["finding"], "cert-revoked");
    let predicted = sim["failure"]["error"].as_str().unwrap();
    // This PKI's CA file, not the shared one.
    let script = format!(
        "import pymongo\nc = pymongo.MongoClient('mongodb://localhost:{}/?tls=true&tlsCAFile={}&serverSelectionTimeoutMS=2000&directConnection=true')\ntry:\n    c.admin.command('ping'); print('OK')\nexcept Exception as e:\n    print(str(e))\n",
        srv.port,
        ca.display()
    );
    let out = Command::new(python())
        .arg("-c")
        .arg(&script)
        .output()
        .unwrap();
    let real = String::from_utf8_lossy(&out.stdout);
    assert!(
        real.contains(predicted),
        "predicted {predicted:?}, PyMongo said: {real}"
    );
    assert!(
        _responder.log().contains("Received request"),
        "{}",
        _responder.log()
    );
}

#[test]
fn unreachable_responder_is_a_soft_fail() {
    // No staple, nothing on the responder port: PyMongo connects (then fails at MongoDB).
    assert!(compare("leaf", None, "").0.is_ok());
}

/// PyMongo's wording for failures that are not about OCSP (pyOpenSSL's error-queue tuples),
/// measured against the same real client: servers that require a client certificate, in
/// TLS 1.2 (the alert ends the handshake) and TLS 1.3 (it arrives after it).
#[test]
fn non_ocsp_failures_use_pymongos_own_wording() {
    let p = pki();
    let staple = p.staple(Staple::Good);
    for (flag, want) in [
        ("-tls1_2", "SSL handshake failed: localhost:"),
        (
            "-tls1_3",
            "[('SSL routines', '', 'tlsv13 alert certificate required')]",
        ),
    ] {
        let srv = p.server(
            "leaf",
            Some(&staple),
            &[flag, "-Verify", "1", "-verify_return_error"],
        );
        let predicted = prediction(srv.port).expect_err("PyMongo without a certificate must fail");
        let real = pymongo(srv.port, "");
        assert!(predicted.0.contains(want), "{flag}: {predicted:?}");
        assert!(
            real.contains(&predicted.0),
            "{flag}: predicted {:?}, PyMongo said: {real}",
            predicted.0
        );
    }
}
