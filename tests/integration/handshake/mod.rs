//! Handshake-level classes (issue 16): each a real misconfigured server on 127.0.0.1, the real
//! clients' outcomes and texts, and tlsdoctor's simulation and diagnosis of the same server.
//! - limits: a Certificate message larger than clients read, and a DHE prime of a size Java
//!   cannot use; each client's limit measured at its boundary.
//! - closes: a front end that hangs up on the hello with a FIN or a reset.
//! - refusals: an enforced ALPN list, and no shared ECDHE group.
//! - mtls: a client certificate the server rejects (unknown CA, expired), or one tlsdoctor
//!   cannot present (TLS 1.2 suites rustls does not speak).
//! - not_tls_fronts: a PROXY-protocol listener met with TLS.
//! - http_level: a client certificate required only at the HTTP level (nginx, HTTP 400).
//! - openssl_conf: an OPENSSL_CONF in force while `check` runs.
//! - suites_certificate: ECDHE-ECDSA suites only with an RSA certificate (TLS 1.3 off or on).

mod closes;
mod forward_proxy;
mod http_level;
mod limits;
mod mtls;
mod not_tls_fronts;
mod openssl_conf;
mod refusals;
mod suites_certificate;

use crate::common::cli::tlsdoctor;
use crate::common::clients::{Real, agrees};
use crate::common::openssl_certs::{Issued, SelfSigned};
use std::path::{Path, PathBuf};

/// An RSA root for these tests (`root.pem`, `root.key` in `dir`): RSA signatures have one
/// size, so a leaf's DER size follows from its names alone.
pub fn rsa_root(dir: &Path) -> PathBuf {
    SelfSigned {
        cert: "root.pem",
        key: "root.key",
        key_spec: "rsa:2048",
        subject: "/CN=tlsdoctor handshake test root",
        days: 30,
        extensions: &[
            "basicConstraints=critical,CA:TRUE",
            "keyUsage=critical,keyCertSign,cRLSign",
        ],
        clock_shift: None,
    }
    .make(dir);
    dir.join("root.pem")
}

/// One SAN of many: 36 bytes of DER each.
fn many_names(n: usize) -> String {
    (0..n)
        .map(|i| format!(",DNS:host{i:06}.many-names.example.test"))
        .collect()
}

/// An RSA leaf for localhost under `rsa_root`, as NAME.pem / NAME.key, with `extra` SANs and
/// a padding name of `pad` letters. Returns its DER size.
fn leaf(dir: &Path, name: &str, extra: usize, pad: usize) -> usize {
    let ext = format!(
        "basicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n\
         subjectAltName=DNS:localhost,IP:127.0.0.1,DNS:{}.example.test{}\n",
        "p".repeat(pad),
        many_names(extra)
    );
    let extfile = format!("{name}.cnf");
    std::fs::write(dir.join(&extfile), ext).unwrap();
    let cert = format!("{name}.pem");
    Issued {
        name,
        cert: &cert,
        key_spec: "rsa:2048",
        subject: "/CN=localhost",
        ca_cert: "root.pem",
        ca_key: "root.key",
        serial: Some("7"),
        days: 20,
        digest: Some("sha256"),
        extfile: &extfile,
    }
    .make(dir);
    let pem = std::fs::read(dir.join(&cert)).unwrap();
    let (_, p) = x509_parser::pem::parse_x509_pem(&pem).unwrap();
    p.contents.len()
}

/// A leaf whose DER has exactly `size` bytes (at least about 1200).
pub fn leaf_of_size(dir: &Path, name: &str, size: usize) -> PathBuf {
    let (mut extra, pad) = (size.saturating_sub(1200) / 36, 30);
    for _ in 0..6 {
        let got = leaf(dir, name, extra, pad);
        let delta = size as i64 - got as i64;
        if (-25..=25).contains(&delta) {
            let got = leaf(dir, name, extra, (pad as i64 + delta) as usize);
            assert_eq!(got, size, "{name}: DER size");
            return dir.join(format!("{name}.pem"));
        }
        let step = (delta as f64 / 36.0).round() as i64;
        extra = (extra as i64 + if step == 0 { delta.signum() } else { step }).max(0) as usize;
    }
    panic!("{name}: no leaf of {size} bytes");
}

/// `tlsdoctor simulate` of `ids` against 127.0.0.1:`port` (SNI localhost, trusting `root`):
/// (connects, text) per id.
pub fn simulated(port: u16, root: &Path, ids: &[&str]) -> Vec<(String, bool, String)> {
    let target = format!("127.0.0.1:{port}");
    let root = root.to_str().unwrap();
    let mut args = vec![
        "simulate",
        &target,
        "--sni",
        "localhost",
        "--cafile",
        root,
        "--json",
    ];
    for id in ids {
        args.extend(["--client", id]);
    }
    let r = tlsdoctor(&args);
    assert_eq!(r.code, 0, "simulate {target}: {}", r.stderr);
    let doc = r.json();
    let sims = doc["servers"][0]["simulations"].as_array().unwrap().clone();
    ids.iter()
        .map(|id| {
            let s = sims
                .iter()
                .find(|s| s["client"] == *id)
                .unwrap_or_else(|| panic!("no simulation of {id}"));
            (
                id.to_string(),
                s["connects"].as_bool().unwrap(),
                s["failure"]["error"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect()
}

/// Every real client's outcome and text against the simulation's; the mismatches.
pub fn mismatches(
    case: &str,
    real: &[(String, Real)],
    sims: &[(String, bool, String)],
) -> Vec<String> {
    real.iter()
        .filter_map(|(id, r)| {
            let (_, connects, text) = sims.iter().find(|(s, _, _)| s == id)?;
            agrees(id, r, *connects, text)
                .err()
                .map(|e| format!("{case}: {e}"))
        })
        .collect()
}

/// `tlsdoctor check --json` of 127.0.0.1:`port` (SNI localhost, trusting `root`): its first
/// diagnosis.
pub fn check(port: u16, root: &Path) -> serde_json::Value {
    let target = format!("127.0.0.1:{port}");
    let root = root.to_str().unwrap();
    let args = [
        "check",
        &target,
        "--sni",
        "localhost",
        "--cafile",
        root,
        "--json",
    ];
    let r = tlsdoctor(&args);
    assert!(r.code <= 1, "check {target}: {}", r.stderr);
    r.json()["diagnoses"][0].clone()
}

/// (connects, text) per id from a diagnosis's simulations.
pub fn simulations_of(diag: &serde_json::Value, ids: &[&str]) -> Vec<(String, bool, String)> {
    let sims = diag["simulations"].as_array().unwrap();
    ids.iter()
        .map(|id| {
            let s = sims
                .iter()
                .find(|s| s["client"] == *id)
                .unwrap_or_else(|| panic!("no simulation of {id}"));
            (
                id.to_string(),
                s["connects"].as_bool().unwrap(),
                s["failure"]["error"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect()
}
