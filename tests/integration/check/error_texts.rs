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
