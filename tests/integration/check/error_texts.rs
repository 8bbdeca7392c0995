//! `check --error TEXT` where TEXT is what a client examined prints on the lab endpoint: each
//! text the endpoint's finding quotes for a client (the handshake and certificate tests prove
//! those texts against the real clients) must leave that finding in the lead; and where the
//! message is one `explain` reads as a handshake refusal or a silent close, the finding must
//! be the cause it explains (`error_match.explained_by`). The corpus messages are tried on
//! their endpoints by explain_check.rs; no corpus message has the causes of the
//! ecdsa-suites-rsa-certificate and closed-on-server-name endpoints, so their clients' own
//! texts stand in for them here.

use std::time::Duration;
use tlsdoctor::doctor::diagnose;

/// Texts users paste in a shorter form than the client's whole line, each printed by a real
/// client on that lab endpoint here (Node 20's error code alone, as `e.code` gives it; the
/// access_denied alert as Java 17, Go and OpenSSL word it on sni-required, reached by IP
/// address; PyMongo 4.20's OCSP refusal of a must-staple certificate without a staple,
/// tests/integration/ocsp/pymongo.rs). Each must be tied to the endpoint's finding.
const PASTED: &[(&str, &str)] = &[
    ("plain-http", "ERR_SSL_WRONG_VERSION_NUMBER"),
    ("smtp-starttls", "ERR_SSL_WRONG_VERSION_NUMBER"),
    ("tls10-only", "ERR_SSL_TLSV1_ALERT_PROTOCOL_VERSION"),
    (
        "no-secure-renegotiation",
        "ERR_SSL_UNSAFE_LEGACY_RENEGOTIATION_DISABLED",
    ),
    (
        "client-cert-tls13",
        "ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED",
    ),
    ("client-cert-tls12", "ERR_SSL_SSLV3_ALERT_HANDSHAKE_FAILURE"),
    ("sni-required", "ERR_SSL_TLSV1_ALERT_ACCESS_DENIED"),
    ("sni-required", "tlsv1 alert access denied"),
    ("sni-required", "alert access_denied"),
    (
        "sni-required",
        "javax.net.ssl.SSLHandshakeException: Received fatal alert: access_denied",
    ),
    ("sni-required", "remote error: tls: access denied"),
    ("chain-reversed", "INVALID_PURPOSE"),
    ("issuer-not-ca", "INVALID_PURPOSE"),
    ("expired", "CERT_HAS_EXPIRED"),
    ("not-yet-valid", "CERT_NOT_YET_VALID"),
    ("self-signed", "DEPTH_ZERO_SELF_SIGNED_CERT"),
    ("untrusted-root", "SELF_SIGNED_CERT_IN_CHAIN"),
    ("missing-intermediate", "UNABLE_TO_VERIFY_LEAF_SIGNATURE"),
    ("interception-root", "UNABLE_TO_VERIFY_LEAF_SIGNATURE"),
    ("wrong-host", "ERR_TLS_CERT_ALTNAME_INVALID"),
    (
        "must-staple-missing",
        "SSL handshake failed: localhost:27017: [('SSL routines', '', 'invalid status response')]",
    ),
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_clients_own_text_on_its_lab_endpoint_leads_with_the_endpoints_finding() {
    let demo = tlsdoctor::demo::run(Duration::from_secs(10))
        .await
        .expect("the lab runs");
    // Endpoints whose lead finding `explain` must also name as the cause of their clients'
    // texts: the handshake classes a generic alert or close hides.
    let explained = ["ecdsa-suites-rsa-certificate", "closed-on-server-name"];
    let mut wrong = Vec::new();
    let mut tried = 0;
    let mut seen = Vec::new();
    for row in &demo.rows {
        let Some(expect) = row.expected.as_deref() else {
            continue;
        };
        let d = row
            .diagnosis
            .as_ref()
            .unwrap_or_else(|| panic!("{}: no diagnosis", row.endpoint));
        let evidence = d.evidence.as_ref().expect("evidence kept");
        let Some(f) = d.findings.iter().find(|f| f.id.as_str() == expect) else {
            wrong.push(format!("{}: no {expect} without --error", row.endpoint));
            continue;
        };
        for b in f.breaks.iter().filter(|b| !b.error.is_empty()) {
            let with = diagnose((**evidence).clone(), Some(&b.error));
            let lead = with.findings.first().map(|f| f.id.as_str());
            let by = with
                .error_match
                .as_ref()
                .and_then(|m| m.explained_by)
                .map(|f| f.as_str());
            tried += 1;
            if lead != Some(expect) {
                wrong.push(format!(
                    "{}: [{}] {:?}: lead {lead:?}",
                    row.endpoint, b.client, b.error
                ));
            }
            if explained.contains(&row.endpoint.as_str()) {
                seen.push(row.endpoint.clone());
                if by != Some(expect) {
                    wrong.push(format!(
                        "{}: [{}] {:?}: explained_by {by:?}",
                        row.endpoint, b.client, b.error
                    ));
                }
            }
        }
    }
    for (endpoint, text) in PASTED {
        let row = demo
            .rows
            .iter()
            .find(|r| r.endpoint == *endpoint)
            .unwrap_or_else(|| panic!("no lab endpoint {endpoint}"));
        let expect = row.expected.as_deref().expect("the endpoint's finding");
        let evidence = row.diagnosis.as_ref().and_then(|d| d.evidence.as_ref());
        let with = diagnose((**evidence.expect("evidence kept")).clone(), Some(text));
        let lead = with.findings.first().map(|f| f.id.as_str());
        let by = with.error_match.as_ref().and_then(|m| m.explained_by);
        tried += 1;
        if lead != Some(expect) || by.map(|f| f.as_str()) != Some(expect) {
            wrong.push(format!(
                "{endpoint}: {text:?}: lead {lead:?}, explained_by {by:?}"
            ));
        }
    }
    println!("client texts tried with --error: {tried}");
    for name in explained {
        assert!(
            seen.iter().filter(|s| *s == name).count() >= 5,
            "{name}: fewer than five client texts"
        );
    }
    assert!(
        wrong.is_empty(),
        "{} wrong:\n{}",
        wrong.len(),
        wrong.join("\n")
    );
}
