//! A client certificate required at the HTTP level: nginx with `ssl_verify_client on` asks
//! for a certificate, finishes the handshake without one and answers `400 No required SSL
//! certificate was sent`. Every real TLS client connects; the HTTPS clients report an HTTP
//! 400, each in its own words (data/client-errors.toml `[http_answer]`), and `check` must
//! say so. With `ssl_verify_client optional` the same server serves everyone: no finding.

use super::{check, leaf_of_size, rsa_root};
use crate::common::clients::{FIVE, RealClients};
use crate::common::http_clients::https_get;
use crate::common::servers::{ServerProcess, nginx_with};
use std::collections::BTreeMap;
use std::path::Path;

/// The measured texts of `[http_answer.client_cert_missing]`.
fn catalogue() -> BTreeMap<String, String> {
    #[derive(serde::Deserialize)]
    struct W {
        http_answer: BTreeMap<String, BTreeMap<String, String>>,
    }
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/data/client-errors.toml"
    ))
    .unwrap();
    let mut w: W = toml::from_str(&text).unwrap();
    w.http_answer.remove("client_cert_missing").unwrap()
}

/// nginx serving `leaf` with `ssl_verify_client MODE` against `client_ca`.
fn nginx_verifying(dir: &Path, mode: &str) -> ServerProcess {
    let ca = dir.join("root.pem");
    let block = format!(
        "server {{\n listen 127.0.0.1:{{port}} ssl;\n server_name localhost;\n \
         ssl_certificate {{cert}};\n ssl_certificate_key {{key}};\n \
         ssl_client_certificate {};\n ssl_verify_client {mode};\n \
         location / {{ return 200 \"served\\n\"; }}\n}}",
        ca.display()
    );
    let served = tempfile::tempdir().unwrap();
    nginx_with(&block, &dir.join("leaf.pem"), &dir.join("leaf.key"), served)
}

fn findings(diag: &serde_json::Value) -> &Vec<serde_json::Value> {
    diag["findings"].as_array().unwrap()
}

#[test]
fn nginx_refusing_at_the_http_level_is_named_with_each_clients_http_answer() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let root = rsa_root(d);
    leaf_of_size(d, "leaf", 1500);
    let server = nginx_verifying(d, "on");

    // The TLS clients all connect: no TLS error anywhere.
    let real = RealClients::new(&root, "localhost").run_all(&FIVE, server.port);
    assert!(real.iter().all(|(_, r)| r.connects), "{real:#?}");

    // Each HTTPS client's own report is the catalogue's.
    let texts = catalogue();
    let url = format!("https://localhost:{}/", server.port);
    let mut problems = Vec::new();
    for (client, text) in &texts {
        let want = text.replace("{url}", &url);
        let got = https_get(client, "localhost", server.port, &root);
        if got != want {
            problems.push(format!("{client}: real {got:?}, catalogue {want:?}"));
        }
    }
    assert!(problems.is_empty(), "{problems:#?}");

    let diag = check(server.port, &root);
    let lead = &findings(&diag)[0];
    assert_eq!(lead["id"], "client-cert-required", "{:#}", diag["findings"]);
    assert_eq!(lead["severity"], "error");
    assert_eq!(
        lead["title"],
        "The server requires a client certificate, but refuses only at the HTTP level: HTTP 400 (400 No required SSL certificate was sent)"
    );
    let evidence = lead["evidence"].to_string();
    assert!(evidence.contains("CertificateRequest"), "{evidence}");
    assert!(
        evidence.contains("CN=tlsdoctor handshake test root"),
        "{evidence}"
    );
    let breaks = lead["breaks"].as_array().unwrap();
    for (client, text) in &texts {
        let want = text.replace("{url}", &url);
        assert!(
            breaks
                .iter()
                .any(|b| b["client"] == client.as_str() && b["error"] == want.as_str()),
            "{client}: {want:?} not in {breaks:#?}"
        );
    }
    // The simulated clients connect at the TLS level, as the real ones did.
    let sims = diag["simulations"].as_array().unwrap();
    assert!(
        sims.iter().all(|s| s["connects"] == true),
        "{:#}",
        diag["simulations"]
    );
}

#[test]
fn optional_verification_serves_clients_without_a_certificate_and_is_not_a_finding() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let root = rsa_root(d);
    leaf_of_size(d, "leaf", 1500);
    let server = nginx_verifying(d, "optional");
    assert_eq!(
        https_get("curl --fail", "localhost", server.port, &root),
        "",
        "curl --fail is served"
    );
    let diag = check(server.port, &root);
    assert!(
        findings(&diag)
            .iter()
            .all(|f| f["id"] != "client-cert-required"),
        "{:#}",
        diag["findings"]
    );
}
