//! `scan`: measure every address, judge the chain it presents once against the request's
//! trust stores, and with `ocsp_query` check its staples and ask its OCSP responder.

use super::PipelineError;
use super::fanout::{self, Address};
use super::request::ScanRequest;
use crate::cert::TrustStore;
use crate::document::{ScanDocument, ScannedServer};
use crate::ocsp::QueryPolicy;
use crate::scan::{FullHandshakes, ScanError, measure};
use std::time::SystemTime;

/// Scan every address of the request's target. Errors are about the request (bad target,
/// unreadable CA file); an address that cannot be scanned is listed in `errors`.
pub async fn scan(req: &ScanRequest) -> Result<ScanDocument, PipelineError> {
    let run = req.connect.start_run();
    let (spec, targets) = fanout::resolve(&req.connect).await?;
    let stores = req.trust.load()?.stores(None);
    let mut doc = ScanDocument::new(&req.connect.target);
    doc.notes = spec.notes.clone();
    doc.ocsp_query = req.ocsp_query;
    let (servers, errors) = fanout::each_address(&targets, &req.connect, &run, |a| {
        scan_address(a, &stores, req.ocsp_query)
    })
    .await;
    doc.servers = servers;
    doc.errors = errors;
    doc.partial = run.reached();
    Ok(doc)
}

async fn scan_address(
    a: Address,
    stores: &[TrustStore],
    ocsp_query: bool,
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
    let certificate_chain = measured
        .presented
        .as_ref()
        .map(|p| crate::cert::analyze(&p.der, Some(&host), stores, now));
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
    // The total the server saw, the OCSP check's handshakes and fetches included.
    scan.connections = a.ctx.prober.connections_opened();
    Ok(ScannedServer {
        scan,
        certificate_chain,
        ocsp,
    })
}
