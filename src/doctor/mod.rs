//! The doctor: gather the evidence a diagnosis needs (scan, certificate chain, client
//! simulations, the local client's real settings), turn it into findings, most severe first.

mod diagnose;
mod evidence;
pub mod fixes;

pub use evidence::{Evidence, gather};

use crate::clients::{ClientProfile, all_profiles, find_profile};
use crate::finding::{Finding, FindingId, Severity, sort_by_severity};
use crate::simulate::Simulation;
use serde::Serialize;
use std::path::PathBuf;

/// What the user asked `check` to consider.
#[derive(Debug, Clone, Default)]
pub struct CheckOptions {
    /// `--client NAME`: a profile id/alias, or a local client (`python`, a path).
    pub client: Option<String>,
    /// `--error TEXT`: the message the user saw.
    pub error: Option<String>,
    /// `--cafile`: the CA bundle the user's client trusts.
    pub cafile: Option<PathBuf>,
    /// `--cert`/`--key`: a client certificate to present (the client-certificate check then
    /// verifies that the server accepts it).
    pub cert: Option<PathBuf>,
    pub key: Option<PathBuf>,
    /// `--ocsp-query`: ask the certificate's OCSP responder even when a response is stapled.
    pub ocsp_query: bool,
}

/// The result of `tlsdoctor check` for one server.
#[derive(Debug, Clone, Serialize)]
pub struct Diagnosis {
    pub target: String,
    pub address: String,
    pub sni: Option<String>,
    /// Most severe first; with `--error`, the finding that explains it leads.
    pub findings: Vec<Finding>,
    /// When `--error` was given: the finding ids that message points to, and whether this
    /// server shows one of them.
    pub error_match: Option<ErrorMatch>,
    pub simulations: Vec<Simulation>,
    /// The certificates the server sent, each described, and each trust store's verdict
    /// with the path it built.
    pub certificate_chain: Option<crate::cert::ChainAnalysis>,
    /// Where that chain came from (which handshake).
    pub certificate_source: Option<String>,
    /// The full scan the diagnosis rests on (as `tlsdoctor scan --json` prints it), when the
    /// server spoke TLS.
    pub scan: Option<crate::scan::ServerScan>,
    /// What was checked, for the "nothing is wrong" case and for the curious.
    pub checked: Vec<String>,
    /// The OCSP check: staples per version, must-staple, responder.
    pub ocsp: Option<crate::ocsp::OcspReport>,
    #[serde(skip)]
    pub evidence: Option<Box<Evidence>>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ErrorMatch {
    pub text: String,
    /// Knowledge-base entry the text matched, if any.
    pub entry: Option<String>,
    /// Finding ids the message usually means, most likely first.
    pub candidates: Vec<FindingId>,
    /// The candidate found on this server, if any.
    pub explained_by: Option<FindingId>,
}

impl Diagnosis {
    /// True when any finding is an error.
    pub fn has_errors(&self) -> bool {
        self.findings.iter().any(|f| f.severity == Severity::Error)
    }
}

/// The profiles a check simulates: the named one, or every built-in profile.
pub fn profiles_for(client: Option<&str>) -> Result<Vec<ClientProfile>, String> {
    match client {
        // By default: the local clients still in use (old stacks only when named).
        None => Ok(all_profiles()
            .iter()
            .filter(|p| p.current)
            .cloned()
            .collect()),
        Some(name) => match find_profile(name) {
            Some(p) => Ok(vec![p.clone()]),
            None => {
                let known: Vec<&str> = all_profiles().iter().map(|p| p.id.as_str()).collect();
                Err(format!(
                    "unknown client '{name}' (known: {})",
                    known.join(", ")
                ))
            }
        },
    }
}

/// Turn gathered evidence into a diagnosis.
pub fn diagnose(evidence: Evidence, opts: &CheckOptions) -> Diagnosis {
    let mut findings = diagnose::findings(&evidence);
    sort_by_severity(&mut findings);
    let error_match = opts
        .error
        .as_ref()
        .map(|text| lead_with_error(text, &mut findings));
    Diagnosis {
        target: evidence.target.clone(),
        address: evidence.address.clone(),
        sni: evidence.sni.clone(),
        findings,
        error_match,
        simulations: evidence.simulations.clone(),
        certificate_chain: evidence.chain.clone(),
        certificate_source: evidence.chain_source.clone(),
        scan: evidence.scan.as_ref().ok().cloned(),
        checked: evidence.checked(),
        ocsp: evidence.ocsp.clone(),
        evidence: Some(Box::new(evidence)),
    }
}

/// Move the finding that explains the user's error message to the front.
fn lead_with_error(text: &str, findings: &mut Vec<Finding>) -> ErrorMatch {
    let explanation = crate::explain::explain(text);
    let candidates = crate::explain::finding_ids_for(text);
    let entry = explanation.matches.first().map(|m| m.id.clone());
    let explained_by = candidates
        .iter()
        .copied()
        .find(|id| findings.iter().any(|f| f.id == *id));
    if let Some(id) = explained_by {
        if let Some(pos) = findings.iter().position(|f| f.id == id) {
            let f = findings.remove(pos);
            findings.insert(0, f);
        }
    }
    ErrorMatch {
        text: text.to_string(),
        entry,
        candidates,
        explained_by,
    }
}
