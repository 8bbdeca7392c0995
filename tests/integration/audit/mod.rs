//! The audit (src/audit/) against real servers on 127.0.0.1: the known vulnerabilities a
//! legacy server shows, the Mozilla profiles on a Mozilla-configured nginx, the grades of a
//! modern, an intermediate and a legacy server with each cap explained, and no vulnerability
//! reported on the healthy servers.

mod grades;
mod healthy;
mod legacy;
mod profiles;

use crate::common::cli::{Run, tlsdoctor};
use serde_json::Value;

/// `tlsdoctor scan 127.0.0.1:PORT --sni localhost --json ARGS…`: the run and its one server.
pub fn scan(target: &str, args: &[&str]) -> (Run, Value) {
    let mut all = vec![
        "scan",
        target,
        "--sni",
        "localhost",
        "--json",
        "--timeout",
        "5",
    ];
    all.extend_from_slice(args);
    let run = tlsdoctor(&all);
    let doc = run.json();
    let servers = doc["servers"].as_array().cloned().unwrap_or_default();
    assert_eq!(servers.len(), 1, "{}\n{}", run.stdout, run.stderr);
    (run, servers[0].clone())
}

/// The ids of the audit's findings, in order.
pub fn finding_ids(server: &Value) -> Vec<String> {
    server["audit"]["findings"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|f| f["id"].as_str().unwrap().to_string())
                .collect()
        })
        .unwrap_or_default()
}

/// The audit's finding `id` (the first with it).
pub fn finding<'a>(server: &'a Value, id: &str) -> Option<&'a Value> {
    server["audit"]["findings"]
        .as_array()?
        .iter()
        .find(|f| f["id"] == id)
}

/// "CAP by" of every cap of the grade, in order.
pub fn caps(server: &Value) -> Vec<String> {
    server["audit"]["grade"]["caps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            format!(
                "{} {}",
                c["cap"].as_str().unwrap(),
                c["by"].as_str().unwrap()
            )
        })
        .collect()
}

/// The vulnerability findings src/audit/vulns.rs can add (new ids; the reused ones are the
/// scan's own findings).
pub const VULNERABILITY_IDS: &[&str] = &[
    "drown",
    "poodle-ssl3",
    "freak",
    "logjam",
    "sweet32",
    "rc4",
    "beast",
    "lucky13",
    "fallback-scsv-ignored",
    "tls-compression",
    "no-secure-renegotiation",
    "early-data-accepted",
];
