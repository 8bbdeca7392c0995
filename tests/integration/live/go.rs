//! Go's crypto/tls observed in `check` (`--client go`; scripts/test-all.sh installs Debian's
//! golang-go). No recorded profile predicts Go, so its verdicts are observed only, and a
//! failure is quoted under the finding the explain knowledge base reads in its text.

use super::lab::{check_endpoint, lab, observed};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn go_is_observed_and_quoted_under_the_finding_that_explains_it() {
    let (lab, _dir) = lab().await;
    let go = ["--client", "go"];
    let ((_, expired), (healthy_run, healthy), (_, cert_required)) = tokio::join!(
        check_endpoint(&lab, "expired", &go),
        check_endpoint(&lab, "healthy", &go),
        check_endpoint(&lab, "client-cert-tls13", &go),
    );

    let g = observed(&expired, "go");
    assert_eq!(g.len(), 1, "{:#}", expired["diagnoses"][0]["live"]);
    let error = g[0]["observed"]["error"].as_str().unwrap();
    assert!(
        error.starts_with("x509: certificate has expired or is not yet valid: current time "),
        "{error}"
    );
    assert_eq!(g[0]["agreement"], "no-prediction");
    let findings = expired["diagnoses"][0]["findings"].as_array().unwrap();
    let ids: Vec<&str> = findings.iter().map(|f| f["id"].as_str().unwrap()).collect();
    assert!(!ids.contains(&"live-client-fails"), "{ids:?}");
    let expired_finding = findings.iter().find(|f| f["id"] == "cert-expired").unwrap();
    assert!(
        expired_finding["breaks"]
            .as_array()
            .unwrap()
            .iter()
            .any(|b| b["error"] == error && b["client"].as_str().unwrap().ends_with("(observed)")),
        "{:#}",
        expired_finding["breaks"]
    );

    let g = observed(&healthy, "go");
    assert_eq!(g.len(), 1);
    assert_eq!(g[0]["observed"]["connects"], true, "{:#}", g[0]);
    assert_eq!(g[0]["observed"]["version"], "TLSv1.3");
    assert_eq!(healthy_run.code, 0);

    // TLS 1.3 with a required client certificate: Go hears the refusal after its Finished.
    let g = observed(&cert_required, "go");
    assert_eq!(g.len(), 1);
    assert_eq!(
        g[0]["observed"]["error"],
        "remote error: tls: certificate required"
    );
}
