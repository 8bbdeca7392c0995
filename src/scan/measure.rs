//! One server measured once: the raw-probe scan and, when the caller needs them, full TLS 1.2
//! and 1.3 handshakes (rustls). From those come, picked here and nowhere else, the certificate
//! chain the server presents and the OCSP response it staples in each version. Nothing here
//! judges: the chain analysis and the OCSP verdict take these measurements as parameters.

use super::{ScanContext, ScanError, ServerScan, scan_server};
use crate::cert::fetch::{FetchError, FetchedChain, fetch_chain};
use crate::wire::ProtocolVersion;

/// Whether to complete full handshakes besides the raw probes, and when.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FullHandshakes {
    /// Raw probes only (`scan`).
    Skip,
    /// Concurrently with the scan, under the same connection cap (`check`, `simulate`): the
    /// chain, the staples and the reaction to a missing client certificate come from them.
    WithScan,
    /// After a scan that found TLS (`scan --ocsp-query`), so the scan's own connection count
    /// and timing stay those of the scan.
    AfterScan,
}

/// The certificates the server presents, and which handshake showed them.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct PresentedChain {
    /// "the TLSv1.2 handshake", "a full TLSv1.3 handshake", …
    pub source: String,
    /// DER, in the server's order; never empty.
    #[serde(with = "crate::serde_hex")]
    pub der: Vec<Vec<u8>>,
}

/// What one protocol version's handshake stapled: `None` when the server sent no response
/// although tlsdoctor asked for one (status_request).
pub type Staple = (ProtocolVersion, Option<Vec<u8>>);

/// Everything measured on one server address.
#[derive(Debug, Clone)]
pub struct Measurement {
    /// "host:port" as the user named it.
    pub target: String,
    /// The raw-probe scan, or why it produced nothing.
    pub scan: Result<ServerScan, ScanError>,
    /// Full TLS 1.2 and 1.3 handshakes, when they were made (see [`FullHandshakes`]).
    pub handshakes: Vec<(ProtocolVersion, Result<FetchedChain, FetchError>)>,
    /// The chain to analyse, picked once from the handshakes above.
    pub presented: Option<PresentedChain>,
    /// The staple of each accepted version, oldest first.
    pub staples: Vec<Staple>,
}

/// Measure the server behind `ctx`. Errors of the scan are kept in [`Measurement::scan`].
pub async fn measure(
    ctx: &ScanContext,
    target: String,
    resolved: Vec<String>,
    full: FullHandshakes,
) -> Measurement {
    let (scan, handshakes) = match full {
        FullHandshakes::Skip => (scan_server(ctx, target.clone(), resolved).await, Vec::new()),
        FullHandshakes::WithScan => {
            // Polled first, so that they take their connection slots (handed out in the
            // order asked for) before the scan's version probes and head start: they need
            // nothing the scan finds, and are two of its longest exchanges.
            let (h12, h13, scan) = futures::join!(
                full_handshake(ctx, ProtocolVersion::Tls12),
                full_handshake(ctx, ProtocolVersion::Tls13),
                scan_server(ctx, target.clone(), resolved),
            );
            (scan, vec![h12, h13])
        }
        FullHandshakes::AfterScan => {
            let scan = scan_server(ctx, target.clone(), resolved).await;
            let handshakes = match &scan {
                Ok(_) => {
                    let (h12, h13) = futures::join!(
                        full_handshake(ctx, ProtocolVersion::Tls12),
                        full_handshake(ctx, ProtocolVersion::Tls13),
                    );
                    vec![h12, h13]
                }
                Err(_) => Vec::new(),
            };
            (scan, handshakes)
        }
    };
    let presented = presented_chain(scan.as_ref().ok(), &handshakes);
    let staples = staples_by_version(scan.as_ref().ok(), &handshakes);
    Measurement {
        target,
        scan,
        handshakes,
        presented,
        staples,
    }
}

/// One full handshake at `version` (through the prober: slot, count, deadlines).
async fn full_handshake(
    ctx: &ScanContext,
    v: ProtocolVersion,
) -> (ProtocolVersion, Result<FetchedChain, FetchError>) {
    let progress = &ctx.prober.config().progress;
    let label = format!("full handshake ({v})");
    (
        v,
        progress
            .track(label, fetch_chain(&ctx.prober, ctx.sni.as_deref(), v))
            .await,
    )
}

/// The chain the server presents: as sent in the TLS ≤1.2 flight when there is one (the
/// first Certificate message seen decides, even an empty one); else from the newest full
/// handshake that completed; else, when no full handshake was made, from the scan's
/// per-key-type handshakes.
fn presented_chain(
    scan: Option<&ServerScan>,
    handshakes: &[(ProtocolVersion, Result<FetchedChain, FetchError>)],
) -> Option<PresentedChain> {
    let from_flight = scan.and_then(|s| {
        let (v, flight) = s.legacy_flight()?;
        Some((format!("the {v} handshake"), flight.certificates.clone()?))
    });
    let from_full = || {
        handshakes.iter().rev().find_map(|(v, r)| {
            r.as_ref()
                .ok()
                .map(|c| (format!("a full {v} handshake"), c.chain.clone()))
        })
    };
    let from_key_types = || {
        let c = scan?.properties.certificates.first()?;
        Some((
            format!("a handshake offering only {} authentication", c.key_type),
            c.chain.clone(),
        ))
    };
    let picked = if handshakes.is_empty() {
        from_flight.or_else(from_key_types)
    } else {
        from_flight.or_else(from_full)
    };
    picked
        .filter(|(_, der)| !der.is_empty())
        .map(|(source, der)| PresentedChain { source, der })
}

/// What each accepted protocol version stapled: TLS 1.2 and 1.3 from full handshakes
/// (rustls sends status_request), TLS 1.0/1.1 — and 1.2 when no full handshake completed —
/// from the scan's raw flights (its hellos carry status_request too). SSL 3 hellos have no
/// extensions, so there is nothing to ask there.
fn staples_by_version(
    scan: Option<&ServerScan>,
    handshakes: &[(ProtocolVersion, Result<FetchedChain, FetchError>)],
) -> Vec<Staple> {
    let mut out = Vec::new();
    for (v, r) in handshakes {
        if let Ok(c) = r {
            if c.version == *v {
                out.push((*v, c.ocsp_staple.clone()));
            }
        }
    }
    let accepted = scan.map(|s| s.accepted_versions()).unwrap_or_default();
    for v in accepted {
        if v < ProtocolVersion::Tls10 || out.iter().any(|(x, _)| *x == v) {
            continue;
        }
        if let Some(flight) = scan
            .and_then(|s| s.protocols.get(v))
            .and_then(|r| r.raw.flight())
        {
            out.push((v, flight.certificate_status.clone()));
        }
    }
    out.sort_by_key(|(v, _)| *v);
    out
}
