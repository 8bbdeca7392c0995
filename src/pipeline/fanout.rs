//! Target resolution and the one fan-out over resolved addresses that every operation uses:
//! a probe context per address, all examined concurrently, results in address order.

use super::PipelineError;
use super::request::ConnectOptions;
use crate::document::AddressFailure;
use crate::probe::{ProbeConfig, Prober, RunDeadline};
use crate::scan::{ScanContext, ScanError, Selection};
use crate::target::{self, ResolvedTarget, TargetSpec};
use std::future::Future;

/// One address to examine.
#[derive(Clone)]
pub struct Address {
    /// "host:port" as the user named it.
    pub label: String,
    /// Every address the name resolved to.
    pub resolved: Vec<String>,
    /// Where to connect (with the per-server connection cap) and which name to send.
    pub ctx: ScanContext,
}

/// Parse and resolve the target.
pub(crate) async fn resolve(
    connect: &ConnectOptions,
) -> Result<(TargetSpec, Vec<ResolvedTarget>), PipelineError> {
    let mut spec = target::parse(&connect.target)?;
    spec.choose_upgrade(connect.starttls, connect.xmpp_host.as_deref());
    if let Some(u) = spec.upgrade.as_mut() {
        u.full_dialogue = connect.starttls_full;
    }
    let opts = connect.resolve_options();
    let resolving = target::resolve(&spec, &opts);
    let resolved = connect.progress.track("resolving", resolving).await?;
    Ok((spec, resolved))
}

/// One probe context per address to examine, with its label and every address the name
/// resolved to.
fn addresses(
    targets: &[ResolvedTarget],
    cfg: &ProbeConfig,
    checks: &Selection,
    drown_peers: &[String],
) -> Vec<Address> {
    let mut out = Vec::new();
    for t in targets {
        let resolved: Vec<String> = t.addresses.iter().map(|a| a.to_string()).collect();
        for addr in &t.probe {
            out.push(Address {
                label: t.label(),
                resolved: resolved.clone(),
                ctx: ScanContext::new(Prober::new(*addr, with_upgrade(cfg, t)), t.sni.clone())
                    .with_checks(checks.clone())
                    .with_drown_peers(drown_peers.to_vec()),
            });
        }
    }
    out
}

/// The probe configuration for one target: every connection runs its upgrade (STARTTLS…).
fn with_upgrade(cfg: &ProbeConfig, t: &ResolvedTarget) -> ProbeConfig {
    let mut cfg = cfg.clone();
    cfg.prelude = t.upgrade.as_ref().map(|u| u.prelude());
    cfg
}

/// Run `job` on every address at once, every prober under the run's deadline `run`.
/// Successes and failures come back in address order; a failure names the address and the
/// job's error.
pub(crate) async fn each_address<T, E, F, Fut>(
    targets: &[ResolvedTarget],
    connect: &ConnectOptions,
    run: &RunDeadline,
    job: F,
) -> (Vec<T>, Vec<AddressFailure>)
where
    E: std::fmt::Display + AsScanError,
    F: Fn(Address) -> Fut,
    Fut: Future<Output = Result<T, E>>,
{
    let checks = connect
        .checks
        .clone()
        .unwrap_or_default()
        .and(&connect.extra_checks);
    let jobs = addresses(
        targets,
        &connect.probe_config(run),
        &checks,
        &connect.drown_peers,
    )
    .into_iter()
    .map(|a| {
        let (label, addr) = (a.label.clone(), a.ctx.prober.addr());
        let run = job(a);
        async move { (label, addr, run.await) }
    });
    let mut done = Vec::new();
    let mut failed = Vec::new();
    for (label, addr, res) in futures::future::join_all(jobs).await {
        match res {
            Ok(t) => done.push(t),
            Err(e) => failed.push(AddressFailure {
                target: label,
                address: Some(addr.to_string()),
                error: e.to_string(),
                cause: e.as_scan_error(),
            }),
        }
    }
    (done, failed)
}

/// The typed scan error inside a per-address error, if it is one (kept beside the message in
/// [`AddressFailure::cause`]).
pub(crate) trait AsScanError {
    fn as_scan_error(&self) -> Option<ScanError>;
}

impl AsScanError for ScanError {
    fn as_scan_error(&self) -> Option<ScanError> {
        Some(self.clone())
    }
}

impl AsScanError for String {
    fn as_scan_error(&self) -> Option<ScanError> {
        None
    }
}
