//! `check --record-disagreements DIR`: every observed client that contradicts its prediction
//! is written as one JSON fixture — the client's real ClientHello and the server's answer
//! (the first bytes each way of its connection, as hex, with the server's first flight
//! parsed), the hello the prediction replayed with the answer it got, and both verdicts — so
//! the profile or rule that was wrong can be corrected and tested without the server.

use super::reconcile::{LiveReport, LiveResult, Predicted};
use super::{Kind, Reading};
use crate::files::{Existing, safe_file_name, write_new};
use crate::simulate::ClientReply;
use crate::wire::{ServerFlight, ServerFlightParser};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// One disagreement, as written.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DisagreementFixture {
    /// The target and address the client was run against, and the SNI name it was given.
    pub target: String,
    pub address: String,
    pub sni: Option<String>,
    pub client: String,
    pub kind: String,
    pub program: PathBuf,
    pub observed: Reading,
    pub predicted: Option<Predicted>,
    /// The client's real first bytes (its ClientHello), hex.
    pub client_hello: String,
    /// The server's first bytes back, hex, and as parsed.
    pub server_answer: String,
    pub server_flight: Option<ServerFlight>,
    /// The prediction's replayed hello and the server's answer to it.
    pub predicted_reply: Option<ClientReply>,
    /// The end of what the client printed.
    pub output: String,
    /// Unix seconds.
    pub recorded_at: u64,
}

/// Write one fixture per contradiction in `report` into `dir` (created if needed); returns
/// the files written. A file already there is not replaced: the next free name is used.
pub fn write(
    dir: &Path,
    target: &str,
    address: &str,
    sni: Option<&str>,
    report: &LiveReport,
) -> Result<Vec<PathBuf>, String> {
    let contradicted: Vec<&LiveResult> = report
        .clients
        .iter()
        .filter(|r| r.agreement.is_contradiction())
        .collect();
    if contradicted.is_empty() {
        return Ok(Vec::new());
    }
    std::fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let mut written = Vec::new();
    for r in contradicted {
        let fixture = DisagreementFixture {
            target: target.to_string(),
            address: address.to_string(),
            sni: sni.map(str::to_string),
            client: r.client.clone(),
            kind: r.kind.name().to_string(),
            program: r.program.clone(),
            observed: r.observed.clone(),
            predicted: r.predicted.clone(),
            client_hello: hex::encode(&r.exchange.client_bytes),
            server_answer: hex::encode(&r.exchange.server_bytes),
            server_flight: parse_flight(&r.exchange.server_bytes),
            predicted_reply: r.exchange.predicted_reply.clone(),
            output: r.output.clone(),
            recorded_at: now,
        };
        let body = serde_json::to_string_pretty(&fixture).map_err(|e| e.to_string())?;
        let stem = safe_file_name(&format!(
            "{address}-{}",
            kind_and_program(r.kind, &r.program)
        ));
        let path = free_name(dir, &stem);
        write_new(&path, body.as_bytes(), false, Existing::Refuse).map_err(|e| e.to_string())?;
        written.push(path);
    }
    Ok(written)
}

fn kind_and_program(kind: Kind, program: &Path) -> String {
    format!("{}-{}", kind.name(), program.display())
}

fn free_name(dir: &Path, stem: &str) -> PathBuf {
    let first = dir.join(format!("{stem}.json"));
    if std::fs::symlink_metadata(&first).is_err() {
        return first;
    }
    (2..)
        .map(|n| dir.join(format!("{stem}-{n}.json")))
        .find(|p| std::fs::symlink_metadata(p).is_err())
        .unwrap_or(first)
}

fn parse_flight(bytes: &[u8]) -> Option<ServerFlight> {
    if bytes.is_empty() {
        return None;
    }
    let mut p = ServerFlightParser::new().with_kx_hint(crate::wire::suites::kx_hint);
    let _ = p.feed(bytes);
    Some(p.into_flight())
}
