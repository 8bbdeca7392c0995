//! `check`'s hook for live observation (`crate::live`): find the clients once per request,
//! and per address, after the diagnosis, predict each observed client on its own settings,
//! make the diagnosis follow the observations, and record the disagreements.

use super::PipelineError;
use super::request::CheckRequest;
use crate::doctor::{self, Diagnosis};
use crate::live::{self, LiveInputs, Observed, Prepared};
use crate::scan::ScanContext;
use std::path::{Path, PathBuf};

/// The clients to run for this request, or None when observation is off.
pub(crate) async fn prepare(req: &CheckRequest) -> Result<Option<Prepared>, PipelineError> {
    if !req.live.enabled {
        return Ok(None);
    }
    let spec_ca = crate::target::parse(&req.connect.target)
        .ok()
        .and_then(|s| s.mongo.and_then(|m| m.ca_file));
    let inputs = LiveInputs {
        cafile: req.trust.cafile.clone().or(spec_ca),
        cert: req.client_cert.as_ref().map(|c| c.cert.clone()),
        key: req.client_cert.as_ref().map(|c| c.key.clone()),
    };
    live::prepare(req.client.as_deref(), inputs)
        .await
        .map(Some)
        .map_err(PipelineError::Client)
}

/// A profile adjusted to a local client's stack for its prediction. A security level `env`
/// only guessed (OpenSSL's upstream default, when the client did not say and no CLI of the
/// same build did) is not applied: PyPy 3.9 on Debian was guessed at level 1 and observed
/// refusing RSA-1024, SHA-1 and 1024-bit DH, as the profile's level 2 does.
fn adjust(
    profile: &crate::clients::ClientProfile,
    stack: &crate::env::ClientStack,
) -> crate::clients::ClientProfile {
    let mut stack = stack.clone();
    if stack.basis.iter().any(|b| b.ends_with(": OpenSSL default")) {
        stack.security_level = None;
    }
    doctor::adjust_profile(profile, &stack)
}

/// Make `d` follow what the real clients did; returns the disagreement fixtures written.
pub(crate) async fn follow(
    d: &mut Diagnosis,
    ctx: &ScanContext,
    observed: Vec<Observed>,
    record: Option<&Path>,
) -> Result<Vec<PathBuf>, String> {
    let Some(ev) = d.evidence.as_ref() else {
        return Ok(Vec::new());
    };
    let predictions = live::reconcile::predict(ctx, &ev.facts, &observed, adjust).await;
    let (report, verdicts) =
        live::reconcile(&mut d.findings, &d.simulations, observed, predictions);
    // The finding that explains the user's error message still leads.
    if let Some(id) = d.error_match.as_ref().and_then(|m| m.explained_by) {
        if let Some(pos) = d.findings.iter().position(|f| f.id == id) {
            let f = d.findings.remove(pos);
            d.findings.insert(0, f);
        }
    }
    d.verdicts = verdicts;
    d.verdict = doctor::verdict(&d.findings);
    // The live clients' connections and their predictions' hellos count too.
    let before = d.connections;
    d.connections = ctx.prober.connections_opened();
    let old = format!("{before} connections to the server for the whole check");
    for line in d.checked.iter_mut().filter(|l| **l == old) {
        *line = format!(
            "{} connections to the server for the whole check ({} of them by the real clients run here and their predictions)",
            d.connections,
            d.connections.saturating_sub(before)
        );
    }
    d.checked.push(format!(
        "real clients run here: {} (agree with the prediction: {}, contradict it: {}, no prediction: {}, gave no verdict: {})",
        report.clients.len(),
        report.agreements,
        report.disagreements,
        report.unpredicted(),
        report.not_run.len()
    ));
    let written = match record {
        Some(dir) => live::record::write(dir, &d.target, &d.address, d.sni.as_deref(), &report)?,
        None => Vec::new(),
    };
    d.live = Some(report);
    Ok(written)
}
