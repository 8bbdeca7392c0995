//! The real PyMongo (from the tests' venv, with its `ocsp` extra, so pyOpenSSL carries its
//! TLS) observed by `check --client VENV_PYTHON`: it runs beside that interpreter's own
//! `ssl`, its verdict agrees with the prediction, and a finding's breaks quote what PyMongo
//! printed. PyMongo retries a failed server check until its selection timeout; the relay
//! must forward every retry, or the last error it reports would be the relay's refusal.

use super::lab::{check_endpoint, lab, observed};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pymongo_in_a_venv_is_observed_and_agrees() {
    let python = tokio::task::spawn_blocking(|| crate::common::venv::pymongo().clone())
        .await
        .unwrap();
    let python = python.to_str().unwrap().to_string();
    let (lab, _dir) = lab().await;
    let client = ["--client", python.as_str()];
    let ((_, expired), (healthy_run, healthy)) = tokio::join!(
        check_endpoint(&lab, "expired", &client),
        check_endpoint(&lab, "healthy", &client)
    );

    let pymongo = observed(&expired, "pymongo");
    assert_eq!(pymongo.len(), 1, "{:#}", expired["diagnoses"][0]["live"]);
    let p = pymongo[0];
    assert_eq!(p["program"], python.as_str());
    assert_eq!(p["observed"]["connects"], false, "{p:#}");
    let error = p["observed"]["error"].as_str().unwrap();
    assert!(
        error.starts_with("ServerSelectionTimeoutError: SSL handshake failed: localhost:")
            && error.contains("[('SSL routines', '', 'certificate verify failed')]"),
        "{error}"
    );
    assert_ne!(p["agreement"], "contradicts", "{p:#}");
    // Its retries all went through (none refused by the relay).
    assert!(p["connections"].as_u64().unwrap() >= 1, "{p:#}");
    assert!(!error.contains("Unexpected EOF"), "{error}");
    // The interpreter's own ssl ran too.
    let ssl = observed(&expired, "python-ssl");
    assert_eq!(ssl.len(), 1);
    assert_eq!(ssl[0]["program"], python.as_str());

    // The finding quotes PyMongo's observed text.
    let finding = expired["diagnoses"][0]["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["id"] == "cert-expired")
        .expect("cert-expired");
    let quoted = finding["breaks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|b| {
            let c = b["client"].as_str().unwrap();
            c.starts_with("PyMongo") && c.ends_with("(observed)")
        })
        .unwrap_or_else(|| panic!("no observed PyMongo break: {:#}", finding["breaks"]));
    assert_eq!(quoted["error"], error);

    // A healthy TLS server that is not MongoDB: the handshake succeeds, the failure that
    // follows is not TLS's, and PyMongo counts as connecting.
    let pymongo = observed(&healthy, "pymongo");
    assert_eq!(pymongo.len(), 1, "{:#}", healthy["diagnoses"][0]["live"]);
    assert_eq!(pymongo[0]["observed"]["connects"], true, "{:#}", pymongo[0]);
    assert_eq!(pymongo[0]["agreement"], "agrees", "{:#}", pymongo[0]);
    assert_eq!(healthy_run.code, 0, "{}", healthy_run.stderr);
}
