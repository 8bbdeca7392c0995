//! The pipeline against the built-in lab on 127.0.0.1: one analysis of the presented chain
//! per trust input, request errors before any connection, failures per address.

use super::*;
use crate::lab::{Endpoint, Lab, LabOptions};

async fn lab(dir: &std::path::Path) -> Lab {
    Lab::start(&LabOptions {
        write_ca: Some(dir.to_path_buf()),
        ..LabOptions::default()
    })
    .await
    .expect("the lab starts on loopback")
}

fn endpoint<'a>(lab: &'a Lab, name: &str) -> &'a Endpoint {
    lab.endpoints
        .iter()
        .find(|e| e.name == name)
        .expect("lab endpoint")
}

fn connect(e: &Endpoint) -> ConnectOptions {
    let mut c = ConnectOptions::new(e.addr.to_string());
    c.sni = e.sni.clone();
    c.timeout = std::time::Duration::from_secs(5);
    c
}

/// Every object key named `key` anywhere in `v`.
fn count_key(v: &serde_json::Value, key: &str) -> usize {
    match v {
        serde_json::Value::Object(m) => m
            .iter()
            .map(|(k, x)| usize::from(k == key) + count_key(x, key))
            .sum(),
        serde_json::Value::Array(a) => a.iter().map(|x| count_key(x, key)).sum(),
        _ => 0,
    }
}

#[tokio::test]
async fn check_judges_the_presented_chain_once_against_its_own_trust_input() {
    let dir = tempfile::tempdir().unwrap();
    let lab = lab(dir.path()).await;
    let e = endpoint(&lab, "missing-intermediate");
    let root = lab.root_ca_path.clone().unwrap();

    let mut req = CheckRequest::new("");
    req.connect = connect(e);
    req.trust.cafile = Some(root.clone());
    req.live.enabled = false;
    let doc = check(&req).await.expect("the check runs");
    assert!(doc.errors.is_empty(), "{:?}", doc.errors);
    let d = &doc.diagnoses[0];
    let chain = d.certificate_chain.as_ref().expect("a chain was presented");
    let system = chain
        .verdicts
        .iter()
        .find(|v| v.store == "system")
        .expect("the client's store is judged");
    assert_eq!(system.source, format!("--cafile {}", root.display()));
    assert!(
        d.findings
            .iter()
            .any(|f| f.id == crate::finding::FindingId::CertMissingIntermediate)
    );
    let json = serde_json::to_value(&doc).unwrap();
    assert_eq!(count_key(&json, "certificate_chain"), 1, "{json:#}");
    assert!(json["diagnoses"][0]["scan"]["protocols"].is_array());

    // The scan of the same server judges the same chain against the system store.
    let mut req = ScanRequest::new("");
    req.connect = connect(e);
    let doc = scan(&req).await.expect("the scan runs");
    let s = &doc.servers[0];
    let chain = s.certificate_chain.as_ref().expect("a chain was presented");
    assert_eq!(
        chain.certificates.len(),
        1,
        "the server sends only its leaf"
    );
    assert!(chain.verdicts.iter().any(|v| v.store == "system"));
    assert!(s.ocsp.is_none(), "no OCSP check without ocsp_query");
}

#[tokio::test]
async fn request_errors_come_before_any_connection() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("absent.pem");
    // The target is never contacted: the request is refused first.
    let mut req = CheckRequest::new("127.0.0.1:9");
    req.trust.cafile = Some(missing.clone());
    let err = check(&req).await.unwrap_err();
    assert!(matches!(err, PipelineError::Trust(_)), "{err}");
    assert!(err.to_string().contains("absent.pem"), "{err}");

    let mut req = CheckRequest::new("127.0.0.1:9");
    req.intermediates = vec![missing];
    let err = check(&req).await.unwrap_err();
    assert!(matches!(err, PipelineError::Intermediate(_)), "{err}");

    let mut req = SimulateRequest::new("127.0.0.1:9");
    req.clients = vec!["no-such-client".into()];
    let err = simulate(&req).await.unwrap_err();
    assert!(
        err.to_string().contains("unknown client 'no-such-client'"),
        "{err}"
    );

    let err = scan(&ScanRequest::new("127.0.0.1:99999"))
        .await
        .unwrap_err();
    assert!(matches!(err, PipelineError::Target(_)), "{err}");
}

#[tokio::test]
async fn an_unreachable_address_is_listed_with_its_reason() {
    // Bind then drop: the port is free and refuses connections.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut req = ScanRequest::new(format!("127.0.0.1:{port}"));
    req.connect.timeout = std::time::Duration::from_secs(2);
    let doc = scan(&req).await.expect("the request itself is fine");
    assert!(doc.servers.is_empty());
    assert_eq!(doc.errors.len(), 1);
    assert_eq!(
        doc.errors[0].address.as_deref(),
        Some(&*format!("127.0.0.1:{port}"))
    );
    assert!(
        doc.errors[0].error.contains("cannot connect"),
        "{:?}",
        doc.errors
    );

    let mut req = CheckRequest::new(format!("127.0.0.1:{port}"));
    req.connect.timeout = std::time::Duration::from_secs(2);
    req.live.enabled = false;
    let doc = check(&req).await.expect("the request itself is fine");
    assert!(doc.diagnoses.is_empty());
    assert_eq!(doc.errors.len(), 1);
}
