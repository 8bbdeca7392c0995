//! `check --error TEXT` with real corpus messages (tests/data/explain-corpus.toml) against the
//! built-in lab: on the endpoint whose fault is the message's established cause, the report
//! leads with that finding. Every corpus message whose cause a lab endpoint reproduces is
//! tried on that endpoint (in process, on one measurement per endpoint), and one run goes
//! through the real command line. The three held-out sets (tests/data/explain-holdout.toml,
//! explain-holdout2.toml, explain-holdout3.toml) and each client's own measured text for the endpoint's finding
//! (data/client-errors.toml) are tried the same way.

use std::collections::BTreeMap;
use std::time::Duration;

use tlsdoctor::doctor::diagnose;
use tlsdoctor::lab::{Lab, LabOptions};

use crate::common::cli::tlsdoctor;
use crate::explain_client_texts::client_texts_for;
use crate::explain_corpus::{corpus, holdout, holdout2, holdout3};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn check_error_leads_with_the_messages_cause_on_every_lab_family() {
    // The demo starts the lab and measures every endpoint once (trusting the lab root); each
    // message is then diagnosed against that endpoint's evidence.
    let demo = tlsdoctor::demo::run(Duration::from_secs(10))
        .await
        .expect("the lab runs");
    // The main corpus and the three held-out sets.
    let mut messages = corpus();
    messages.extend(holdout());
    messages.extend(holdout2());
    messages.extend(holdout3());

    let mut tried: BTreeMap<&str, usize> = BTreeMap::new();
    let mut wrong = Vec::new();
    for row in &demo.rows {
        let Some(expect) = row.expected.as_deref() else {
            continue;
        };
        // The corpus's real messages for this cause, and every client's own measured text
        // for the finding (data/client-errors.toml).
        let mut chosen: Vec<(String, String)> = messages
            .iter()
            .filter(|m| m.cause.as_str() == expect)
            .map(|m| (m.stack.clone(), m.text.clone()))
            .collect();
        chosen.extend(client_texts_for(expect));
        if chosen.is_empty() {
            continue;
        }
        let evidence = row
            .diagnosis
            .as_ref()
            .and_then(|d| d.evidence.as_ref())
            .unwrap_or_else(|| panic!("{}: no evidence", row.endpoint));
        for (stack, text) in chosen {
            let d = diagnose((**evidence).clone(), Some(&text));
            let lead = d
                .findings
                .first()
                .map(|f| f.id.as_str())
                .unwrap_or("<none>");
            let explained = d
                .error_match
                .as_ref()
                .and_then(|x| x.explained_by)
                .map(|f| f.as_str());
            if lead != expect || explained != Some(expect) {
                wrong.push(format!(
                    "{}: want {expect}, lead {lead}, explained_by {explained:?}, candidates {:?}: [{}] {}",
                    row.endpoint,
                    d.error_match.as_ref().map(|x| &x.candidates),
                    stack,
                    text.lines().next().unwrap_or("")
                ));
            }
            *tried.entry(row.endpoint.as_str()).or_default() += 1;
        }
    }
    println!("messages tried per lab endpoint: {tried:?}");
    // Every family the corpus has real messages for is covered.
    for name in [
        "expired",
        "wrong-host",
        "self-signed",
        "untrusted-root",
        "missing-intermediate",
        "tls10-only",
        "no-secure-renegotiation",
        "rsa-kx-only",
        "dh-1024",
        "client-cert-tls12",
        "client-cert-tls13",
        "sni-required",
        "plain-http",
        "smtp-starttls",
        "rsa-1024",
        "sha1-chain",
        "ocsp-bad",
        "not-yet-valid",
        "issuer-not-ca",
        "unknown-critical-extension",
        "chain-reversed",
        "interception-root",
    ] {
        assert!(
            tried.get(name).copied().unwrap_or(0) >= 1,
            "no corpus message tried on {name}"
        );
    }
    assert!(
        wrong.is_empty(),
        "{} wrong:\n{}",
        wrong.len(),
        wrong.join("\n")
    );

    // The same through the real command line, for one family.
    let dir = tempfile::tempdir().unwrap();
    let lab = Lab::start(&LabOptions {
        write_ca: Some(dir.path().to_path_buf()),
        ..LabOptions::default()
    })
    .await
    .expect("lab starts");
    let root = lab.root_ca_path.clone().expect("root written");
    let ep = lab.endpoint("missing-intermediate").expect("endpoint");
    let target = format!("localhost:{}", ep.port);
    let run = tlsdoctor(&[
        "check",
        &target,
        "--cafile",
        root.to_str().unwrap(),
        "--error",
        "Error: unable to verify the first certificate\n    at TLSSocket.onConnectSecure (node:_tls_wrap:1674:34) {\n  code: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE'\n}",
        "--json",
    ]);
    let doc = run.json();
    let d = &doc["diagnoses"][0];
    assert_eq!(
        d["findings"][0]["id"], "cert-missing-intermediate",
        "{}",
        run.stdout
    );
    assert_eq!(
        d["error_match"]["explained_by"],
        "cert-missing-intermediate"
    );
    drop(lab);
}
