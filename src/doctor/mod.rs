//! The doctor: from one server's measurement gather the evidence a diagnosis needs (the
//! chain analysed against the request's trust stores, OCSP, the client certificate, client
//! simulations with the local client's real settings), and turn it into findings, most
//! severe first.

mod client_conf;
mod diagnose;
mod evidence;
pub mod fixes;
pub mod fixture;
mod handshake;
pub mod http_answer;
mod served;
mod verdict;

pub use client_conf::under_openssl_conf;
pub use evidence::{
    Evidence, Observation, adjust_profile, gather, gather_replayed, judge, observe, replay,
    whole_seconds,
};
pub use verdict::{Verdict, is_security_problem, verdict};

use crate::cert::TrustStore;
use crate::clients::ClientProfile;
use crate::env::ClientStack;
use crate::finding::{Finding, FindingId, Severity, sort_by_severity};
use crate::ocsp::QueryPolicy;
use crate::simulate::Simulation;
use serde::Serialize;
use std::sync::Arc;

/// How every server of one request is examined, prepared once per request: trust stores
/// loaded, the client certificate read, the profiles adjusted to the local client.
#[derive(Clone)]
pub struct Examination {
    /// The stores the presented chain is judged against: Mozilla's, and the one the user's
    /// client reads.
    pub stores: Vec<TrustStore>,
    /// The clients to simulate (already adjusted to `local_client`, when there is one).
    pub profiles: Vec<ClientProfile>,
    /// The user's own client on this machine, when `--client` named one.
    pub local_client: Option<ClientStack>,
    /// `--cert`/`--key`: presented wherever the server asks for a client certificate.
    pub client_key: Option<Arc<rustls::sign::CertifiedKey>>,
    /// When to ask the certificate's OCSP responder.
    pub ocsp: QueryPolicy,
}

/// The result of `tlsdoctor check` for one server.
#[derive(Debug, Clone, Serialize)]
pub struct Diagnosis {
    pub target: String,
    pub address: String,
    pub sni: Option<String>,
    /// Most severe first; with `--error`, the finding that explains it leads.
    pub findings: Vec<Finding>,
    /// Whether connections fail, or only a security problem was found (a revoked
    /// certificate that clients without revocation checks accept).
    pub verdict: Verdict,
    /// When `--error` was given: the finding ids that message points to, and whether this
    /// server shows one of them.
    pub error_match: Option<ErrorMatch>,
    pub simulations: Vec<Simulation>,
    /// Every client's verdict, marked observed (the real client ran here) or predicted (its
    /// simulation).
    pub verdicts: Vec<crate::live::reconcile::ClientVerdict>,
    /// What running the real clients showed, when they ran.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub live: Option<crate::live::reconcile::LiveReport>,
    /// The certificates the server sent, each described, and each trust store's verdict
    /// with the path it built: the one analysis of the chain (the embedded `scan` carries
    /// none).
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
    /// TCP connections the whole check opened to the server, as the server counts them.
    pub connections: usize,
    /// With `--audit` or `--profile`: the grade and the profile verdict (the audit's
    /// findings are among `findings`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub audit: Option<crate::audit::Audit>,
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
    /// True when any finding is an error (a connection failure or a security problem).
    pub fn has_errors(&self) -> bool {
        self.findings.iter().any(|f| f.severity == Severity::Error)
    }
}

/// Turn gathered evidence into a diagnosis; `error` is the message the user saw (`--error`).
pub fn diagnose(evidence: Evidence, error: Option<&str>) -> Diagnosis {
    let mut findings = diagnose::findings(&evidence);
    sort_by_severity(&mut findings);
    let error_match = error.map(|text| lead_with_error(text, &mut findings));
    Diagnosis {
        target: evidence.observed.target.clone(),
        address: evidence.observed.address.clone(),
        sni: evidence.observed.sni.clone(),
        verdict: verdict(&findings),
        findings,
        error_match,
        simulations: evidence.simulations.clone(),
        verdicts: crate::live::reconcile::predicted_verdicts(&evidence.simulations),
        live: None,
        certificate_chain: evidence.chain.clone(),
        certificate_source: evidence.chain_source().map(str::to_string),
        scan: evidence.observed.scan.as_ref().ok().cloned(),
        checked: evidence.checked(),
        connections: evidence.observed.connections,
        ocsp: evidence.ocsp.clone(),
        audit: None,
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
