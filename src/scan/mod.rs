//! Checks built on probes. Each check is its own module: it declares independent probe jobs,
//! runs them concurrently through the shared [`Prober`] (which enforces the per-server
//! connection cap), and folds the answers into a typed result. The scan measures and never
//! judges: the chain it sees is analysed, and its staples validated, by whoever asked for the
//! measurement ([`measure()`]). Rendering is elsewhere.

pub mod ciphers;
pub mod groups;
pub mod measure;
pub mod plaintext;
pub mod properties;
pub mod resumption;
pub mod strength;
pub mod versions;

pub use measure::{FullHandshakes, Measurement, PresentedChain, Staple, measure};

use crate::probe::Prober;
use crate::wire::{ProtocolVersion, ServerFlight};
use serde::Serialize;
use std::time::Instant;

/// What every check of one server needs: where to connect and what name to send.
#[derive(Clone)]
pub struct ScanContext {
    pub prober: Prober,
    /// The SNI host name to send, if any.
    pub sni: Option<String>,
}

/// Everything `tlsdoctor scan` measured on one server address.
#[derive(Debug, Clone, Serialize)]
pub struct ServerScan {
    /// "host:port" as the user named it.
    pub target: String,
    /// The address probed.
    pub address: String,
    /// Every address the name resolved to.
    pub resolved: Vec<String>,
    pub sni: Option<String>,
    pub protocols: versions::ProtocolSupport,
    /// Accepted cipher suites per version, with the server's preference.
    pub cipher_suites: Vec<ciphers::VersionSuites>,
    pub key_exchange: groups::KeyExchange,
    pub properties: properties::HandshakeProperties,
    /// TCP connections opened for this scan.
    pub connections: usize,
    pub elapsed_ms: u64,
}

impl ServerScan {
    pub fn accepted_versions(&self) -> Vec<ProtocolVersion> {
        self.protocols.accepted()
    }

    /// The highest accepted version from SSL 3.0 to TLS 1.2 and the flight its version probe
    /// read: the one flight that shows the certificate and the pre-1.3 extensions in clear.
    pub fn legacy_flight(&self) -> Option<(ProtocolVersion, &ServerFlight)> {
        let v = legacy_version(&self.accepted_versions())?;
        Some((v, self.protocols.get(v)?.raw.flight()?))
    }
}

/// The highest of `accepted` from SSL 3.0 to TLS 1.2.
fn legacy_version(accepted: &[ProtocolVersion]) -> Option<ProtocolVersion> {
    accepted
        .iter()
        .copied()
        .filter(|v| *v >= ProtocolVersion::Ssl3 && *v <= ProtocolVersion::Tls12)
        .max()
}

/// Why a scan could not produce results.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ScanError {
    #[error("cannot connect to {address}: {reason}")]
    Unreachable { address: String, reason: String },
    #[error("{address} does not speak TLS: it sent \"{first_bytes}\"{hint}")]
    NotTls {
        address: String,
        first_bytes: String,
        hint: String,
    },
    #[error("{address} accepted no SSL/TLS version: {reason}")]
    NoTls { address: String, reason: String },
}

/// Run the scan of one server address.
pub async fn scan_server(
    ctx: &ScanContext,
    target: String,
    resolved: Vec<String>,
) -> Result<ServerScan, ScanError> {
    let start = Instant::now();
    // Its own tally, so `connections` is the scan's even while a check runs full handshakes
    // on the same server alongside.
    let ctx = &ScanContext {
        prober: ctx.prober.with_own_count(),
        sni: ctx.sni.clone(),
    };
    let protocols = versions::probe_versions(ctx).await;
    if let Err(e) = protocols.ensure_usable(&ctx.prober.addr().to_string()) {
        // A server that hangs up on every hello without a word may be a plain-text
        // service that parsed our hello as garbage: ask it in its own protocol.
        if matches!(e, ScanError::NoTls { .. }) && protocols.all_closed_silently() {
            if let Some(entry) = plaintext::by_probe("mongodb") {
                if plaintext::probe_mongodb(&ctx.prober).await {
                    return Err(ScanError::NotTls {
                        address: ctx.prober.addr().to_string(),
                        first_bytes: "(nothing; it closed the connection, then answered a plain MongoDB hello)".into(),
                        hint: format!(" — looks like {}: {}", entry.name, entry.hint),
                    });
                }
            }
        }
        return Err(e);
    }
    let accepted = protocols.accepted();
    let legacy = legacy_version(&accepted);
    let base = legacy
        .and_then(|v| protocols.get(v))
        .and_then(|r| r.raw.flight());
    let tls13 = accepted.contains(&ProtocolVersion::Tls13);
    // Every check below needs only the accepted versions: run them all at once; the
    // prober's connection cap keeps the load on the server bounded.
    let tls12 = accepted.contains(&ProtocolVersion::Tls12);
    let ticket_acked = base
        .and_then(|f| f.server_hello.as_ref())
        .is_some_and(|sh| sh.has_extension(0x0023));
    let (cipher_suites, key_exchange, mut properties, (by_id, by_ticket)) = futures::join!(
        ciphers::enumerate(ctx, &accepted),
        groups::probe(ctx, tls13, legacy),
        properties::probe(ctx, &accepted, legacy, base),
        resumption::probe(ctx, tls12, ticket_acked),
    );
    properties.resumption_session_id = by_id;
    properties.resumption_ticket = by_ticket;
    Ok(ServerScan {
        target,
        address: ctx.prober.addr().to_string(),
        resolved,
        sni: ctx.sni.clone(),
        protocols,
        cipher_suites,
        key_exchange,
        properties,
        connections: ctx.prober.connections_opened(),
        elapsed_ms: start.elapsed().as_millis() as u64,
    })
}
