//! `scan`: measure every address, judge the chain it presents once against the request's
//! trust stores, and with `ocsp_query` check its staples and ask its OCSP responder.

use super::PipelineError;
use super::fanout::{self, Address};
use super::follow;
use super::request::{ScanRequest, TrustInputs};
use crate::cert::TrustStore;
use crate::document::{ScanDocument, ScannedServer};
use crate::ocsp::QueryPolicy;
use crate::probe::RunDeadline;
use crate::scan::{FullHandshakes, ScanError, measure};
use crate::target::{ResolvedTarget, TargetSpec};
use crate::wire::ProtocolVersion;
use std::time::SystemTime;

/// Scan every address of the request's target. Errors are about the request (bad target,
/// unreadable CA file); an address that cannot be scanned is listed in `errors`.
pub async fn scan(req: &ScanRequest) -> Result<ScanDocument, PipelineError> {
    let run = req.connect.start_run();
    let (spec, targets) = fanout::resolve(&req.connect).await?;
    let stores = req.trust.load()?.stores(None);
    Ok(scan_resolved(req, run, spec, targets, &stores).await)
}

/// The trust stores `scan` judges chains against (Mozilla's and the CA file, else the
/// system store): for a caller that scans many targets with the same trust inputs.
pub fn scan_stores(trust: &TrustInputs) -> Result<Vec<TrustStore>, PipelineError> {
    Ok(trust.load()?.stores(None))
}

/// [`scan`] with the trust stores already loaded ([`scan_stores`]), so a fleet run reads
/// them once rather than once per target.
pub async fn scan_with_stores(
    req: &ScanRequest,
    stores: &[TrustStore],
) -> Result<ScanDocument, PipelineError> {
    let run = req.connect.start_run();
    let (spec, targets) = fanout::resolve(&req.connect).await?;
    Ok(scan_resolved(req, run, spec, targets, stores).await)
}

async fn scan_resolved(
    req: &ScanRequest,
    run: RunDeadline,
    spec: TargetSpec,
    targets: Vec<ResolvedTarget>,
    stores: &[TrustStore],
) -> ScanDocument {
    let mut doc = ScanDocument::new(&req.connect.target);
    doc.notes = spec.notes.clone();
    doc.ocsp_query = req.ocsp_query;
    let upgrade = spec.upgrade.as_ref();
    let (servers, errors) = fanout::each_address(&targets, &req.connect, &run, |a| {
        async move {
            let first = scan_address(
                a.clone(),
                stores,
                req.ocsp_query,
                req.certificate,
                &req.audit,
            )
            .await;
            let Err(e) = first else {
                return first.map(|s| (s, None));
            };
            // A well-known port whose implied upgrade failed, but that speaks TLS from the
            // first byte, is scanned as direct TLS (pipeline/follow.rs). `scan` does not go
            // on through a sniffed upgrade: the error names it and the option to use.
            match follow::detour(&a, &Err(e.clone()), upgrade, req.connect.starttls).await {
                Some(
                    d @ follow::Detour {
                        kind: follow::DetourKind::Direct { .. },
                        ..
                    },
                ) => {
                    let note = d.note(&a.label);
                    let s = scan_address(
                        d.address,
                        stores,
                        req.ocsp_query,
                        req.certificate,
                        &req.audit,
                    )
                    .await?;
                    Ok((s, Some(note)))
                }
                _ => Err(e),
            }
        }
    })
    .await;
    let (servers, notes): (Vec<_>, Vec<_>) = servers.into_iter().unzip();
    doc.notes.extend(notes.into_iter().flatten());
    doc.servers = servers;
    doc.errors = errors;
    doc.partial = run.reached();
    doc
}

async fn scan_address(
    a: Address,
    stores: &[TrustStore],
    ocsp_query: bool,
    certificate: bool,
    audit: &crate::audit::AuditRequest,
) -> Result<ScannedServer, ScanError> {
    // The OCSP check needs full handshakes (TLS 1.2/1.3 staples); they follow the scan.
    let full = if ocsp_query {
        FullHandshakes::AfterScan
    } else {
        FullHandshakes::Skip
    };
    let measured = measure(&a.ctx, a.label, a.resolved, full).await;
    let mut scan = measured.scan?;
    let host = a
        .ctx
        .sni
        .clone()
        .unwrap_or_else(|| a.ctx.prober.addr().ip().to_string());
    let now = SystemTime::now();
    let presented = match (&measured.presented, certificate) {
        (_, false) => None,
        (Some(p), true) => Some(p.der.clone()),
        // Without the properties check (`--checks`), a server with no TLS ≤ 1.2 flight
        // showed no certificate in clear: one full handshake fetches it.
        (None, true) if !a.ctx.checks.contains("properties") => {
            chain_by_handshake(&a.ctx, &scan).await
        }
        (None, true) => None,
    };
    let certificate_chain = presented
        .as_ref()
        .map(|der| crate::cert::analyze(der, Some(&host), stores, now));
    let ocsp = match (&measured.presented, ocsp_query) {
        (Some(p), true) => {
            crate::ocsp::check(
                &p.der,
                stores,
                measured.staples,
                QueryPolicy::Always,
                a.ctx.prober.config().probe_timeout,
                Some(&a.ctx.prober),
                now,
            )
            .await
        }
        _ => None,
    };
    // The total the server saw, the OCSP check's handshakes and fetches included (and the
    // connections dialled ahead and not used, closed now).
    a.ctx.prober.close_warm();
    scan.connections = a.ctx.prober.connections_opened();
    let known = certificate_chain
        .as_ref()
        .map(|c| c.findings.clone())
        .unwrap_or_default();
    // A grade judged on sections `--checks` left out would be wrong (no suites measured is
    // not "no suite accepted"): only a scan with every default check and the chain is audited.
    let complete = certificate && ran_every_default_check(&scan);
    let audit =
        complete.then(|| crate::audit::audit(&scan, certificate_chain.as_ref(), &known, audit));
    Ok(ScannedServer {
        connection_cap: Some(a.ctx.prober.cap_report()),
        warm_connections: Some(a.ctx.prober.warm_report()).filter(|w| w.dialled > 0),
        scan,
        certificate_chain,
        ocsp,
        audit,
    })
}

/// Whether `scan` ran every default check (`--checks` may leave some out): only such a scan
/// is graded.
pub(super) fn ran_every_default_check(scan: &crate::scan::ServerScan) -> bool {
    crate::scan::Selection::default()
        .names()
        .all(|n| scan.checks.contains(n))
}

/// The chain from one full handshake in the newest accepted version that rustls speaks.
async fn chain_by_handshake(
    ctx: &crate::scan::ScanContext,
    scan: &crate::scan::ServerScan,
) -> Option<Vec<Vec<u8>>> {
    let accepted = scan.accepted_versions();
    let version = [ProtocolVersion::Tls13, ProtocolVersion::Tls12]
        .into_iter()
        .find(|v| accepted.contains(v))?;
    let fetched = crate::cert::fetch::fetch_chain(&ctx.prober, ctx.sni.as_deref(), version)
        .await
        .ok()?;
    Some(fetched.chain).filter(|c| !c.is_empty())
}
