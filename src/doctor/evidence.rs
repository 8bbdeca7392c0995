//! Evidence for the doctor: one server's measurement, its chain analysed once against the
//! trust stores of the request, the OCSP check of that chain and its staples, the user's
//! client certificate presented, and every client simulated against it.

use super::Examination;
use crate::cert::analyze::{ChainAnalysis, analyze};
use crate::cert::fetch::{FetchError, FetchedChain, IncompleteHandshake};
use crate::clients::{ClientProfile, TrustStoreKind};
use crate::env::ClientStack;
use crate::finding::{FindingId, Severity};
use crate::scan::{Measurement, ScanContext, ScanError, ServerScan};
use crate::simulate::{CertProblem, ServerFacts, Simulation, simulate};
use crate::wire::{ClientExtension, ClientHello, ProtocolVersion};
use std::time::SystemTime;

/// Everything the diagnosis rests on.
#[derive(Debug, Clone)]
pub struct Evidence {
    pub target: String,
    pub address: String,
    pub sni: Option<String>,
    /// The full scan, or why it produced nothing (not TLS, no version accepted).
    pub scan: Result<ServerScan, ScanError>,
    /// Full TLS 1.2 / 1.3 handshakes (rustls), for the chain, the stapled OCSP response
    /// and the server's reaction to a missing client certificate.
    pub handshakes: Vec<(ProtocolVersion, Result<FetchedChain, FetchError>)>,
    /// Where the analysed chain came from.
    pub chain_source: Option<String>,
    /// The chain as the server sent it (DER, server's order).
    pub chain_der: Vec<Vec<u8>>,
    pub chain: Option<ChainAnalysis>,
    pub facts: ServerFacts,
    pub profiles: Vec<ClientProfile>,
    pub simulations: Vec<Simulation>,
    /// The user's own client on this machine, when `--client` named one.
    pub local_client: Option<ClientStack>,
    /// With `--cert`/`--key`: per version where the server asked for a certificate, whether
    /// it accepted the one presented (None) or why not (Some).
    pub client_cert_presented: Vec<(ProtocolVersion, Option<IncompleteHandshake>)>,
    /// Stapled OCSP responses per version, must-staple, and the responder's answer.
    pub ocsp: Option<crate::ocsp::OcspReport>,
    /// TCP connections the whole check opened to the server (scan, full handshakes, client
    /// simulations, OCSP fetches that go to the server).
    pub connections: usize,
}

impl Evidence {
    /// One line per thing checked, for the report.
    pub fn checked(&self) -> Vec<String> {
        let mut c = Vec::new();
        match &self.scan {
            Ok(s) => {
                c.push(format!(
                    "protocol versions SSLv2–TLSv1.3 (accepted: {})",
                    s.accepted_versions()
                        .iter()
                        .map(|v| v.name())
                        .collect::<Vec<_>>()
                        .join(", ")
                ));
                let n: usize = s.cipher_suites.iter().map(|v| v.suites.len()).sum();
                c.push(format!("cipher suites and server order ({n} accepted)"));
                c.push("key exchange groups and DH parameter size".into());
                c.push("secure renegotiation, compression, fallback SCSV, ALPN, SNI behaviour, client-certificate request".into());
                c.push(format!(
                    "{} connections in {} ms for the scan",
                    s.connections, s.elapsed_ms
                ));
            }
            Err(e) => c.push(format!("scan: {e}")),
        }
        if let Some(chain) = &self.chain {
            let stores: Vec<String> = chain
                .verdicts
                .iter()
                .map(|v| {
                    format!(
                        "{} ({})",
                        v.store,
                        if v.trusted { "trusted" } else { "not trusted" }
                    )
                })
                .collect();
            c.push(format!(
                "certificate chain of {} from {} against {}",
                chain.certificates.len(),
                self.chain_source.as_deref().unwrap_or("the server"),
                stores.join(", ")
            ));
        }
        c.push(format!(
            "client simulations: {}",
            self.simulations
                .iter()
                .map(|s| s.client.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ));
        if let Some(l) = &self.local_client {
            c.push(format!("local client {} ({})", l.name, l.path.display()));
        }
        if let Some(o) = &self.ocsp {
            c.push(crate::ocsp::check::checked_line(o));
        }
        c.push(format!(
            "{} connections to the server for the whole check",
            self.connections
        ));
        c
    }
}

/// The profile adjusted to what the local client really does (its OpenSSL configuration,
/// security level and trust store), so the simulation answers for this machine.
pub fn adjust_profile(base: &ClientProfile, local: &ClientStack) -> ClientProfile {
    let mut p = base.clone();
    p.name = format!("{} (this machine: {})", base.name, local.path.display());
    if let Some(min) = local
        .min_protocol
        .as_deref()
        .and_then(ProtocolVersion::parse_name)
    {
        p.policy.min_version = min.key();
    }
    if let Some(max) = local
        .max_protocol
        .as_deref()
        .and_then(ProtocolVersion::parse_name)
    {
        p.policy.max_version = max.key();
    }
    if let Some(level) = local.security_level {
        p.policy
            .set_security_level(crate::clients::SecurityLevel(level));
    }
    if let Some(unsafe_ok) = local.unsafe_legacy_server_connect {
        p.policy.requires_secure_renegotiation = !unsafe_ok;
    }
    // The hello offers only the versions the client's settings allow.
    let bytes = p.hello_bytes();
    if let (Ok(mut hello), Some(rv)) = (
        ClientHello::parse_record(&bytes),
        bytes.get(1..3).map(|b| u16::from_be_bytes([b[0], b[1]])),
    ) {
        let (lo, hi) = (p.policy.min(), p.policy.max());
        for ext in hello.extensions.iter_mut() {
            if let ClientExtension::SupportedVersions(list) = ext {
                list.retain(|v| {
                    let pv = ProtocolVersion::from_wire(*v);
                    matches!(pv, ProtocolVersion::Unknown(_)) || (lo <= pv && pv <= hi)
                });
            }
        }
        p.hello = hex::encode(hello.encode_records(rv));
    }
    p
}

/// Gather the evidence for one measured server. Errors only when the server cannot be
/// reached.
pub async fn gather(
    ctx: &ScanContext,
    measured: Measurement,
    with: &Examination,
) -> Result<Evidence, String> {
    let Measurement {
        target,
        scan,
        handshakes,
        presented,
        staples,
    } = measured;
    if let Err(e @ ScanError::Unreachable { .. }) = &scan {
        return Err(e.to_string());
    }
    let timeout = ctx.prober.config().probe_timeout;
    let addr = ctx.prober.addr();
    let sni = ctx.sni.clone();
    let stores = &with.stores;
    let profiles = with.profiles.clone();
    let local_client = with.local_client.clone();

    // The one analysis of the presented chain, against this request's trust stores.
    let host = sni.clone().unwrap_or_else(|| addr.ip().to_string());
    let (chain_source, chain, chain_der) = match presented {
        Some(p) => {
            let analysis = analyze(&p.der, Some(&host), stores, SystemTime::now());
            (Some(p.source), Some(analysis), p.der)
        }
        None => (None, None, Vec::new()),
    };
    let ocsp = crate::ocsp::check::check(
        &chain_der,
        stores,
        staples,
        with.ocsp,
        timeout,
        Some(&ctx.prober),
        SystemTime::now(),
    )
    .await;

    let mut facts = ServerFacts::default();
    if let Some(ch) = &chain {
        for f in ch.findings.iter().filter(|f| f.severity == Severity::Error) {
            facts.cert_problems.push(CertProblem {
                finding_id: f.id,
                title: f.title.clone(),
                only_store: (f.id == FindingId::CertRootMissingLocally)
                    .then_some(TrustStoreKind::System),
                hostname_only: f.id == FindingId::CertHostnameMismatch,
                texts: crate::clients::CertTexts::from_breaks(&f.breaks),
            });
        }
    }
    for (v, r) in &handshakes {
        if let Ok(c) = r {
            if c.client_cert_request.is_some() {
                let alert = c.handshake_error.as_ref().and_then(|e| e.alert());
                match v {
                    ProtocolVersion::Tls13 => facts.client_cert_alert_tls13 = alert,
                    _ => facts.client_cert_alert_tls12 = alert,
                }
            }
        }
    }

    // rustls cannot finish a handshake with every server (CBC-only, old versions); the raw
    // empty-Certificate probe of the scan covers TLS ≤1.2 there.
    if facts.client_cert_alert_tls12.is_none() {
        if let Ok(s) = &scan {
            let cc = &s.properties.client_certificate;
            if cc.required == Some(true) {
                facts.client_cert_alert_tls12 = cc.alert_without_certificate;
            }
        }
    }
    facts.ocsp = ocsp.clone();
    // The user's own certificate: present it wherever the server asked for one.
    let mut client_cert_presented = Vec::new();
    if let Some(client) = &with.client_key {
        for (v, r) in &handshakes {
            let asked = r.as_ref().is_ok_and(|c| c.client_cert_request.is_some());
            if !asked {
                continue;
            }
            let opts = crate::cert::fetch::FetchOptions {
                client: Some(client.clone()),
                ..Default::default()
            };
            let outcome =
                crate::cert::fetch::fetch_chain_with(&ctx.prober, sni.as_deref(), *v, opts).await;
            let verdict = IncompleteHandshake::of(outcome);
            if verdict.is_none() {
                // The user's client presents this certificate: it gets past client
                // authentication in this version.
                match v {
                    ProtocolVersion::Tls13 => facts.client_cert_alert_tls13 = None,
                    _ => facts.client_cert_alert_tls12 = None,
                }
            }
            client_cert_presented.push((*v, verdict));
        }
    }
    let sims = profiles.iter().map(|p| simulate(ctx, p, &facts));
    let simulations = futures::future::join_all(sims).await;

    Ok(Evidence {
        target,
        address: addr.to_string(),
        sni,
        scan,
        handshakes,
        chain_source,
        chain,
        chain_der,
        facts,
        profiles,
        simulations,
        local_client,
        client_cert_presented,
        ocsp,
        connections: ctx.prober.connections_opened(),
    })
}
