//! The system store follows SSL_CERT_FILE / SSL_CERT_DIR like OpenSSL and Python do.
//!
//! The variables are process-wide and every other test in this binary shares the process, so
//! the test runs its two halves in child processes of this same test binary, each started
//! with its own environment (`TLSDOCTOR_STORES_CASE` names the half); the parent only starts
//! them and checks that they passed.

use std::process::Command;
use tlsdoctor::cert::stores;

/// Which half to run, in a child started by [`system_store_honours_ssl_cert_file_and_dir`].
const CASE_VAR: &str = "TLSDOCTOR_STORES_CASE";
/// With CASE_VAR=with-variables: the one root SSL_CERT_FILE points at.
const ROOT_VAR: &str = "TLSDOCTOR_STORES_ROOT";

/// Run this test alone in a child process of this binary with `env` set and the trust
/// variables removed first; it must pass.
fn run_child(case: &str, env: &[(&str, &std::path::Path)]) {
    let mut cmd = Command::new(std::env::current_exe().unwrap());
    cmd.args([
        "--exact",
        "cert::stores::system_store_honours_ssl_cert_file_and_dir",
        "--nocapture",
        "--test-threads=1",
    ])
    .env_remove("SSL_CERT_FILE")
    .env_remove("SSL_CERT_DIR")
    .env(CASE_VAR, case);
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().expect("run this test binary again");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "case {case} failed:\n{text}");
    assert!(
        text.contains("1 passed"),
        "case {case} did not run the test:\n{text}"
    );
}

#[test]
fn system_store_honours_ssl_cert_file_and_dir() {
    match std::env::var(CASE_VAR).as_deref() {
        Ok("with-variables") => with_variables(),
        Ok("without-variables") => without_variables(),
        _ => {
            let pki = crate::common::pki::Pki::build();
            let file = pki.path("root.pem");
            let empty_dir = pki.path("empty-dir");
            std::fs::create_dir(&empty_dir).unwrap();
            run_child(
                "with-variables",
                &[
                    ("SSL_CERT_FILE", &file),
                    ("SSL_CERT_DIR", &empty_dir),
                    (ROOT_VAR, &file),
                ],
            );
            run_child("without-variables", &[]);
        }
    }
}

fn with_variables() {
    let file = std::path::PathBuf::from(std::env::var_os(ROOT_VAR).unwrap());
    let s = stores::system();
    assert_eq!(s.name, "system");
    assert!(
        s.source
            .contains(&format!("SSL_CERT_FILE={}", file.display())),
        "{}",
        s.source
    );
    assert!(s.source.contains("SSL_CERT_DIR="), "{}", s.source);
    assert_eq!(s.roots.len(), 1, "{:?}", s.load_errors);
    assert_eq!(
        s.roots[0].subject,
        "CN=tlsdoctor Test Root, O=tlsdoctor tests"
    );

    // What OpenSSL itself reads with the same environment: the same single root.
    let out = std::process::Command::new("python3")
        .args([
            "-c",
            "import ssl; c=ssl.create_default_context(); print(len(c.get_ca_certs()))",
        ])
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "1");
}

/// Without the variables the store is the real system bundle, and names where it came from.
fn without_variables() {
    let s = stores::system();
    assert!(!s.source.contains("SSL_CERT_FILE"), "{}", s.source);
    assert!(
        s.roots.len() > 50,
        "{} roots from {}",
        s.roots.len(),
        s.source
    );
}
