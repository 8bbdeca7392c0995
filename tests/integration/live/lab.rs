//! Lab endpoints where every real client on this machine does what tlsdoctor predicts for
//! it: each observed verdict agrees, the report marks it observed, and the finding's breaks
//! quote what the clients really printed.

use crate::common::cli::{Run, tlsdoctor_env};
use serde_json::Value;
use tlsdoctor::lab::{Lab, LabOptions};

/// `check` with live observation on (the test helper turns it off by default).
pub fn live_check(args: &[&str]) -> Run {
    tlsdoctor_env(args, &[("TLSDOCTOR_NO_LIVE", "")])
}

pub async fn lab() -> (Lab, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let lab = Lab::start(&LabOptions {
        write_ca: Some(dir.path().to_path_buf()),
        ..LabOptions::default()
    })
    .await
    .expect("the lab starts");
    (lab, dir)
}

/// `check --json` of one lab endpoint with the lab root trusted.
pub async fn check_endpoint(lab: &Lab, name: &str, extra: &[&str]) -> (Run, Value) {
    let e = lab.endpoints.iter().find(|e| e.name == name).expect(name);
    let mut args: Vec<String> = vec![
        "check".into(),
        e.addr.to_string(),
        "--cafile".into(),
        lab.root_ca_path.as_ref().unwrap().display().to_string(),
        "--json".into(),
        // A busy test machine starts JVMs and interpreters slowly: the relay's deadline per
        // connection is --timeout.
        "--timeout".into(),
        "15".into(),
    ];
    if let Some(sni) = &e.sni {
        args.extend(["--sni".into(), sni.clone()]);
    }
    args.extend(extra.iter().map(|s| s.to_string()));
    let run = tokio::task::spawn_blocking(move || {
        let a: Vec<&str> = args.iter().map(String::as_str).collect();
        live_check(&a)
    })
    .await
    .unwrap();
    let json = run.json();
    (run, json)
}

/// The observed clients of the first diagnosis, by kind.
pub fn observed<'a>(doc: &'a Value, kind: &str) -> Vec<&'a Value> {
    doc["diagnoses"][0]["live"]["clients"]
        .as_array()
        .map(|a| a.iter().filter(|c| c["kind"] == kind).collect())
        .unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_lab_endpoints_the_real_clients_do_what_is_predicted() {
    let (lab, _dir) = lab().await;
    use futures::StreamExt;
    let names = [
        "healthy",
        "expired",
        "no-secure-renegotiation",
        "client-cert-tls13",
    ];
    let runs: Vec<_> = futures::stream::iter(names.map(|n| check_endpoint(&lab, n, &[])))
        .buffered(2)
        .collect()
        .await;
    let mut docs = std::collections::HashMap::new();
    for (name, (run, doc)) in names.into_iter().zip(runs) {
        let d = &doc["diagnoses"][0];
        let live = &d["live"];
        let clients = live["clients"].as_array().expect("clients ran");
        for kind in [
            "python-ssl",
            "openssl-s_client",
            "curl",
            "node",
            "gnutls-cli",
        ] {
            assert!(
                !observed(&doc, kind).is_empty(),
                "{name}: {kind} did not run: {:#}",
                live["not_run"]
            );
        }
        for c in clients {
            assert_ne!(
                c["agreement"], "contradicts",
                "{name}: {} observed {:#} but the prediction is {:#}",
                c["client"], c["observed"], c["predicted"]
            );
        }
        assert_eq!(live["disagreements"], 0, "{name}");
        // Every verdict is marked; the observed ones name their program.
        let verdicts = d["verdicts"].as_array().unwrap();
        assert!(verdicts.iter().any(|v| v["source"] == "observed"), "{name}");
        assert!(
            verdicts.iter().any(|v| v["source"] == "predicted"),
            "{name}"
        );
        // (Go has no profile: its verdicts are observed with no prediction.)
        for v in verdicts.iter().filter(|v| v["source"] == "observed") {
            assert!(
                v["program"].is_string()
                    && (v["predicted"].is_object() || v["agreement"] == "no-prediction"),
                "{v:#}"
            );
        }
        // The exit code is the prediction's: only the healthy endpoint passes.
        assert_eq!(run.code, if name == "healthy" { 0 } else { 1 }, "{name}");
        docs.insert(name, doc);
    }

    // The expired certificate: the finding's breaks quote what the clients printed.
    let doc = &docs["expired"];
    let f = doc["diagnoses"][0]["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["id"] == "cert-expired")
        .expect("cert-expired")
        .clone();
    let breaks = f["breaks"].as_array().unwrap();
    let curl = breaks
        .iter()
        .find(|b| b["client"].as_str().unwrap().starts_with("curl"))
        .expect("curl's observed break");
    assert_eq!(
        curl["error"],
        "curl: (60) SSL certificate problem: certificate has expired"
    );
    assert!(curl["client"].as_str().unwrap().ends_with("(observed)"));
    let py = observed(doc, "python-ssl");
    assert!(py.iter().any(|p| p["observed"]["error"]
        .as_str()
        .unwrap_or("")
        .starts_with("[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: certificate has expired (_ssl.c:")));

    // TLS 1.3 with a required client certificate: the refusal comes after the client's
    // Finished, and the clients still see it (they listen a moment after the handshake).
    let curl = observed(&docs["client-cert-tls13"], "curl");
    assert_eq!(curl.len(), 1);
    assert!(
        curl[0]["observed"]["error"]
            .as_str()
            .unwrap()
            .contains("tlsv13 alert certificate required"),
        "{:#}",
        curl[0]
    );
}

#[test]
fn curl_sends_nothing_beyond_its_handshake() {
    use crate::common::servers::openssl_s_server;
    // A plain s_server prints whatever the client sends after the handshake.
    for version in ["-tls1_2", "-tls1_3"] {
        let srv = openssl_s_server(&[version]);
        let ca = srv.cert.clone().unwrap();
        let r = live_check(&[
            "check",
            &srv.target(),
            "--sni",
            "localhost",
            "--cafile",
            ca.to_str().unwrap(),
            "--client",
            "curl",
            "--json",
            "--timeout",
            "15",
        ]);
        let doc = r.json();
        let curl = observed(&doc, "curl");
        assert_eq!(curl.len(), 1, "{:#}", doc["diagnoses"][0]["live"]);
        assert_eq!(curl[0]["observed"]["connects"], true, "{:#}", curl[0]);
        std::thread::sleep(std::time::Duration::from_millis(300));
        let log = srv.log();
        assert!(
            !log.contains("GET /"),
            "{version}: the server got a request:\n{log}"
        );
    }
}

#[test]
fn client_path_runs_exactly_that_program() {
    use crate::common::servers::openssl_s_server;
    let srv = openssl_s_server(&[]);
    let ca = srv.cert.clone().unwrap();
    let python = std::fs::canonicalize("/usr/bin/python3")
        .ok()
        .filter(|p| p.exists())
        .unwrap_or_else(|| std::path::PathBuf::from("/usr/bin/python3"));
    let python = python.to_str().unwrap();
    let r = live_check(&[
        "check",
        &srv.target(),
        "--sni",
        "localhost",
        "--cafile",
        ca.to_str().unwrap(),
        "--client",
        python,
        "--json",
        "--timeout",
        "15",
    ]);
    let doc = r.json();
    let live = &doc["diagnoses"][0]["live"];
    let clients = live["clients"].as_array().expect("clients ran");
    assert!(!clients.is_empty(), "{live:#}");
    for c in clients {
        assert_eq!(c["program"], python, "{c:#}");
        assert_eq!(c["observed"]["connects"], true, "{c:#}");
        assert_eq!(c["agreement"], "agrees", "{c:#}");
    }
    // --no-live: nothing observed, every verdict predicted.
    let r = crate::common::cli::check_localhost(
        &srv.target(),
        ca.to_str().unwrap(),
        &["--client", python, "--json", "--no-live"],
    );
    let doc = r.json();
    assert!(doc["diagnoses"][0].get("live").is_none());
    let verdicts = doc["diagnoses"][0]["verdicts"].as_array().unwrap();
    assert!(verdicts.iter().all(|v| v["source"] == "predicted"));
}
