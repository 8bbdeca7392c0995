//! The agreement table: over every lab endpoint and the crafted server of
//! `disagreement.rs`, how often each real client's observed verdict agrees with the
//! prediction for it (its profile adjusted to its settings here) and with the `--no-live`
//! prediction (the profile as recorded). A measurement, not part of the suite (it runs every
//! client against 24 servers); run it with
//!
//!     cargo test --test integration live::agreement -- --ignored --nocapture

use super::lab::{check_endpoint, lab, live_check};
use crate::common::servers::{HangsUpAfterHello, openssl_s_server};
use serde_json::Value;
use std::collections::BTreeMap;

#[derive(Default)]
struct Row {
    observed: usize,
    agrees: usize,
    exact: usize,
    baseline_agrees: usize,
    contradictions: Vec<String>,
}

fn tally(table: &mut BTreeMap<String, Row>, server: &str, doc: &Value) {
    let clients = doc["diagnoses"][0]["live"]["clients"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    for c in clients {
        let label = c["client"].as_str().unwrap_or("");
        let who = match c["kind"].as_str().unwrap_or("") {
            // One row per interpreter version.
            "python-ssl" => label.split(" ssl").next().unwrap_or(label).to_string(),
            k => k.to_string(),
        };
        let row = table.entry(who).or_default();
        row.observed += 1;
        let agreed = |a: &Value| a == "agrees" || a == "text-differs";
        if agreed(&c["agreement"]) {
            row.agrees += 1;
        } else {
            row.contradictions.push(format!(
                "{server}: observed {} / predicted {}",
                c["observed"]["error"].as_str().unwrap_or("connects"),
                c["predicted"]["error"].as_str().unwrap_or("connects")
            ));
        }
        if c["agreement"] == "agrees" {
            row.exact += 1;
        }
        if agreed(&c["baseline_agreement"]) {
            row.baseline_agrees += 1;
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a measurement: runs every local client against 24 servers"]
async fn agreement_table() {
    let (lab, _dir) = lab().await;
    let mut table: BTreeMap<String, Row> = BTreeMap::new();
    for e in &lab.endpoints {
        let (_, doc) = check_endpoint(&lab, e.name, &[]).await;
        tally(&mut table, e.name, &doc);
    }
    let backend = openssl_s_server(&["-tls1_2"]);
    let crafted = HangsUpAfterHello::start(backend.addr());
    let ca = backend.cert.clone().unwrap();
    let target = crafted.target();
    let doc = tokio::task::spawn_blocking(move || {
        live_check(&[
            "check",
            &target,
            "--sni",
            "localhost",
            "--cafile",
            ca.to_str().unwrap(),
            "--json",
        ])
        .json()
    })
    .await
    .unwrap();
    tally(&mut table, "hangs-up-after-hello", &doc);

    println!(
        "\n{:<22} {:>8} {:>14} {:>10} {:>16}",
        "client", "observed", "agree (live)", "same text", "agree (--no-live)"
    );
    for (who, r) in &table {
        println!(
            "{who:<22} {:>8} {:>14} {:>10} {:>16}",
            r.observed, r.agrees, r.exact, r.baseline_agrees
        );
    }
    for (who, r) in &table {
        for c in &r.contradictions {
            println!("  {who}: {c}");
        }
    }
    assert!(!table.is_empty(), "no client ran");
}
