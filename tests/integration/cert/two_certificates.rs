//! A server with two certificates, RSA and ECDSA (nginx with two `ssl_certificate` lines),
//! where one has expired: every certificate the server serves is judged, and each client is
//! judged against the one it gets. Real clients decide which they get by their own signature
//! algorithm preferences; tlsdoctor's simulation of each must say the same.

use std::sync::OnceLock;

use super::chain::{Run, Trust, cafile_store, run_over};
use crate::common::broken_pki::BrokenPki;
use crate::common::cli::tlsdoctor;
use crate::common::servers::{ServerProcess, nginx_with};
use tlsdoctor::wire::version::ProtocolVersion;

fn pki() -> &'static BrokenPki {
    static PKI: OnceLock<BrokenPki> = OnceLock::new();
    PKI.get_or_init(BrokenPki::build)
}

/// nginx serving the ECDSA chain `ec` and the RSA chain `rsa` (each `NAME-chain.pem`).
fn nginx_two(ec: &str, rsa: &str) -> ServerProcess {
    let p = pki();
    let path = |f: String| p.path(&f).display().to_string();
    let block = format!(
        "server {{\n listen 127.0.0.1:{{port}} ssl;\n ssl_protocols TLSv1.2 TLSv1.3;\n \
         ssl_certificate {};\n ssl_certificate_key {};\n ssl_certificate {};\n ssl_certificate_key {};\n \
         location / {{ return 200 \"ok\"; }}\n}}\n",
        path(format!("{ec}-chain.pem")),
        path(format!("{ec}.key")),
        path(format!("{rsa}-chain.pem")),
        path(format!("{rsa}.key")),
    );
    nginx_with(
        &block,
        &p.path(&format!("{ec}-chain.pem")),
        &p.path(&format!("{ec}.key")),
        tempfile::tempdir().unwrap(),
    )
}

async fn real(srv: &ServerProcess) -> Run {
    let root = pki().root();
    run_over(
        srv,
        Trust::CaFile(root.clone()),
        "localhost",
        vec![cafile_store(&root)],
        ProtocolVersion::Tls13,
    )
    .await
}

const PROFILE_OF: &[(&str, &str)] = &[
    ("OpenSSL 3 (openssl s_client, curl)", "openssl"),
    ("Python ssl (OpenSSL 3)", "python"),
    ("curl 7.88 (OpenSSL 3)", "curl"),
    ("Node.js 20 (tls)", "node"),
    ("Java 17 (JSSE)", "java"),
    ("gnutls-cli 3.7.9", "gnutls"),
];

/// `check`'s simulation of each client says what the real client did; returns the ids of
/// the clients that failed.
fn check_agrees(srv: &ServerProcess, r: &Run) -> (serde_json::Value, Vec<&'static str>) {
    let root = pki().root().display().to_string();
    let target = format!("localhost:{}", srv.port);
    let run = tlsdoctor(&["check", &target, "--cafile", &root, "--json"]);
    assert_eq!(run.code, 1, "{}\n{}", run.stdout, run.stderr);
    let doc = run.json();
    let d = doc["diagnoses"][0].clone();
    let mut failed = Vec::new();
    let mut problems = Vec::new();
    for (label, outcome) in r.outcomes() {
        let id = PROFILE_OF.iter().find(|(l, _)| *l == label).unwrap().1;
        let sim = d["simulations"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["client"] == id)
            .unwrap();
        // s_client's profile does not abort on a failed verification; the real run here used
        // -verify_return_error, so only its verdict text is compared below.
        if id != "openssl" && sim["connects"].as_bool() != Some(outcome.is_ok()) {
            problems.push(format!("{id}: real {outcome:?}, simulated {sim}"));
        }
        if let Err(text) = &outcome {
            failed.push(id);
            let predicted = sim["failure"]["error"].as_str().unwrap_or("");
            let same = match id {
                "node" => text.starts_with(predicted) && !predicted.is_empty(),
                "openssl" => true,
                _ => predicted == text,
            };
            if !same {
                problems.push(format!("{id}: real {text:?}, simulated {predicted:?}"));
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    (d, failed)
}

fn ids(d: &serde_json::Value) -> Vec<String> {
    d["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["severity"] == "error")
        .map(|f| f["id"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn expired_ecdsa_beside_a_valid_rsa_certificate() {
    let srv = nginx_two("expiredec", "rsa2048");
    let r = real(&srv).await;
    let (d, failed) = check_agrees(&srv, &r);
    // Clients that list ECDSA signatures first get the expired certificate; gnutls-cli lists
    // RSA first and gets the valid one.
    assert!(
        failed.contains(&"python") && failed.contains(&"java"),
        "{failed:?}"
    );
    assert!(!failed.contains(&"gnutls"), "{failed:?}");
    // The one error is the expired ECDSA certificate, named with the clients that get it.
    assert_eq!(ids(&d), ["cert-other-key-type"], "{:#}", d["findings"]);
    let lead = &d["findings"][0];
    let title = lead["title"].as_str().unwrap();
    assert!(
        title.starts_with("The server's ECDSA certificate, served to Python")
            && title.contains("expired"),
        "{title}"
    );
    assert_breaks_are(&d, lead, &failed);
    let text = serde_json::to_string(&d["findings"]).unwrap();
    assert!(
        text.contains("ECDSA to ") && text.contains("RSA to "),
        "{text}"
    );
}

#[tokio::test]
async fn expired_rsa_beside_a_valid_ecdsa_certificate() {
    let srv = nginx_two("good", "expiredrsa");
    let r = real(&srv).await;
    let (d, failed) = check_agrees(&srv, &r);
    assert_eq!(
        failed,
        ["gnutls"],
        "only the client that prefers RSA gets the expired one"
    );
    // The one error is the expired RSA certificate, breaking only the client that gets it.
    assert_eq!(ids(&d), ["cert-expired"], "{:#}", d["findings"]);
    assert_breaks_are(&d, &d["findings"][0], &failed);
}

/// The finding lists exactly the clients in `ids` that the check simulated (s_client's
/// profile does not abort on a failed verification; PyMongo has no real run here).
fn assert_breaks_are(d: &serde_json::Value, f: &serde_json::Value, ids: &[&str]) {
    let name = |id: &str| {
        d["simulations"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["client"] == id)
            .map(|s| s["client_name"].as_str().unwrap().to_string())
            .unwrap()
    };
    let skip = [name("openssl"), name("pymongo")];
    let mut got: Vec<String> = f["breaks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["client"].as_str().unwrap().to_string())
        .filter(|c| !skip.contains(c))
        .collect();
    let mut want: Vec<String> = ids
        .iter()
        .filter(|i| **i != "openssl")
        .map(|i| name(i))
        .collect();
    want.sort();
    got.sort();
    assert_eq!(got, want, "{f:#}");
}
