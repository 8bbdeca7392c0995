//! Evidence for the doctor, in two steps. [`observe`] measures: one server's scan and full
//! handshakes, the OCSP responder when one is to be asked, the user's client certificate
//! presented, and every client's hello replayed — an [`Observation`], plain data that
//! serialises. [`judge`] weighs it, with no connection and at a given time: the chain
//! analysed once against the request's trust stores, the OCSP check of that chain and its
//! staples, and every client simulated — the [`Evidence`] a diagnosis rests on.

use super::Examination;
use crate::cert::TrustStore;
use crate::cert::analyze::{ChainAnalysis, analyze};
use crate::cert::fetch::{FetchError, FetchedChain, IncompleteHandshake};
use crate::clients::{ClientProfile, TrustStoreKind};
use crate::env::ClientStack;
use crate::finding::{FindingId, Severity};
use crate::ocsp::responder::ResponderExchange;
use crate::ocsp::{OcspReport, QueryPolicy};
use crate::scan::{Measurement, PresentedChain, ScanContext, ScanError, ServerScan, Staple};
use crate::simulate::{CertProblem, ClientReply, ServerFacts, Simulation, judge_reply};
use crate::wire::{ClientExtension, ClientHello, ProtocolVersion};
use serde::{Deserialize, Serialize};
use std::time::{Duration, SystemTime};

/// Everything measured on one server for a diagnosis, nothing judged. Every byte the peer
/// sent is kept (as hex when serialised), so the judgement can be made again from a
/// recording.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Observation {
    /// "host:port" as the user named it.
    pub target: String,
    /// The address examined.
    pub address: String,
    pub sni: Option<String>,
    /// The full scan, or why it produced nothing (not TLS, no version accepted).
    #[serde(with = "super::fixture::scan_form")]
    pub scan: Result<ServerScan, ScanError>,
    /// Full TLS 1.2 / 1.3 handshakes (rustls), for the chain, the stapled OCSP response
    /// and the server's reaction to a missing client certificate.
    pub handshakes: Vec<(ProtocolVersion, Result<FetchedChain, FetchError>)>,
    /// The chain to analyse, as the server sent it, and which handshake showed it.
    pub presented: Option<PresentedChain>,
    /// What each accepted version stapled.
    #[serde(with = "crate::serde_hex")]
    pub staples: Vec<Staple>,
    /// The OCSP responder's answer, when the staples and the policy called for asking it.
    pub responder: Option<ResponderExchange>,
    /// With `--cert`/`--key`: per version where the server asked for a certificate, whether
    /// it accepted the one presented (None) or why not (Some).
    pub client_cert_presented: Vec<(ProtocolVersion, Option<IncompleteHandshake>)>,
    /// When a full handshake finished without the client certificate the server asked for,
    /// and the port looks like HTTP: its answer to one `GET /` (`doctor::http_answer`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub http_after_certificate_request: Option<super::http_answer::HttpAnswer>,
    /// The server's answer to every simulated client's hello, in the order of the profiles.
    pub replies: Vec<ClientReply>,
    /// TCP connections the whole check opened to the server (scan, full handshakes, client
    /// simulations, OCSP fetches that go to the server).
    pub connections: usize,
}

/// Everything the diagnosis rests on: the observation and its judgement.
#[derive(Debug, Clone)]
pub struct Evidence {
    pub observed: Observation,
    /// The trust stores the chain was judged against.
    pub stores: Vec<TrustStore>,
    /// When the OCSP responder was to be asked.
    pub ocsp_policy: QueryPolicy,
    pub chain: Option<ChainAnalysis>,
    /// The other chains the server serves (one per other key type), analysed the same way.
    pub other_chains: Vec<super::served::OtherChain>,
    pub facts: ServerFacts,
    pub profiles: Vec<ClientProfile>,
    pub simulations: Vec<Simulation>,
    /// The user's own client on this machine, when `--client` named one.
    pub local_client: Option<ClientStack>,
    /// Stapled OCSP responses per version, must-staple, and the responder's answer.
    pub ocsp: Option<OcspReport>,
    /// The time the judgement was made for (Unix seconds): certificate validity and OCSP
    /// times are judged against it.
    pub judged_at_unix: i64,
}

impl Evidence {
    /// Where the analysed chain came from.
    pub fn chain_source(&self) -> Option<&str> {
        self.observed.presented.as_ref().map(|p| p.source.as_str())
    }

    /// The chain as the server sent it (DER, server's order); empty when it sent none.
    pub fn chain_der(&self) -> &[Vec<u8>] {
        self.observed
            .presented
            .as_ref()
            .map(|p| p.der.as_slice())
            .unwrap_or_default()
    }

    /// One line per thing checked, for the report.
    pub fn checked(&self) -> Vec<String> {
        let mut c = Vec::new();
        match &self.observed.scan {
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
                self.chain_source().unwrap_or("the server"),
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
            self.observed.connections
        ));
        c
    }
}

/// The profile adjusted to what the local client really does (its OpenSSL configuration,
/// security level and trust store), so the simulation answers for this machine.
pub fn adjust_profile(base: &ClientProfile, local: &ClientStack) -> ClientProfile {
    let mut p = base.clone();
    p.name = format!("{} (this machine: {})", base.name, local.path.display());
    narrow_profile(
        &mut p,
        local.min_protocol.as_deref(),
        local.max_protocol.as_deref(),
        local.security_level,
        local.unsafe_legacy_server_connect,
    );
    p
}

/// Apply OpenSSL settings (MinProtocol, MaxProtocol, the security level,
/// UnsafeLegacyServerConnect) to a profile's policy, and offer only the versions they allow
/// in its hello.
pub(crate) fn narrow_profile(
    p: &mut ClientProfile,
    min_protocol: Option<&str>,
    max_protocol: Option<&str>,
    security_level: Option<u8>,
    unsafe_legacy_server_connect: Option<bool>,
) {
    if let Some(min) = min_protocol.and_then(ProtocolVersion::parse_name) {
        p.policy.min_version = min.key();
    }
    if let Some(max) = max_protocol.and_then(ProtocolVersion::parse_name) {
        p.policy.max_version = max.key();
    }
    if let Some(level) = security_level {
        p.policy
            .set_security_level(crate::clients::SecurityLevel(level));
    }
    if let Some(unsafe_ok) = unsafe_legacy_server_connect {
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
}

/// Gather the evidence for one measured server: [`observe`] it now, then [`judge`] it.
/// Errors only when the server cannot be reached.
pub async fn gather(
    ctx: &ScanContext,
    measured: Measurement,
    with: &Examination,
) -> Result<Evidence, String> {
    gather_replayed(ctx, measured, with, None).await
}

/// [`gather`], with every profile's hello already replayed (`replies`, from [`replay`]):
/// the replays depend on nothing the measurement finds, so `check` runs them alongside it
/// instead of after it.
pub async fn gather_replayed(
    ctx: &ScanContext,
    measured: Measurement,
    with: &Examination,
    replies: Option<Vec<ClientReply>>,
) -> Result<Evidence, String> {
    let now = whole_seconds(SystemTime::now());
    let observed = observe(ctx, measured, with, now, replies).await?;
    Ok(judge(observed, with, now))
}

/// Every profile's hello sent to the server, and its answer.
pub async fn replay(ctx: &ScanContext, with: &Examination) -> Vec<ClientReply> {
    futures::future::join_all(
        with.profiles
            .iter()
            .map(|p| crate::simulate::exchange(ctx, p)),
    )
    .await
}

/// `t` without its fraction of a second: the judgement counts in whole seconds, and a
/// recording stores the time that way.
pub fn whole_seconds(t: SystemTime) -> SystemTime {
    let secs = t
        .duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    SystemTime::UNIX_EPOCH + Duration::from_secs(secs)
}

/// Measure what the diagnosis needs beyond the server's measurement: the OCSP responder
/// (when the staples, judged at `now`, and the policy call for it), the user's client
/// certificate presented, and every profile's hello replayed (unless `replies` already
/// are). Errors only when the server cannot be reached.
pub async fn observe(
    ctx: &ScanContext,
    measured: Measurement,
    with: &Examination,
    now: SystemTime,
    replies: Option<Vec<ClientReply>>,
) -> Result<Observation, String> {
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
    let progress = &ctx.prober.config().progress;

    let chain_der = presented
        .as_ref()
        .map(|p| p.der.as_slice())
        .unwrap_or_default();
    let responder = match crate::ocsp::check::assess(
        chain_der,
        &with.stores,
        staples.clone(),
        with.ocsp,
        now,
    ) {
        Some(report) => {
            let ask = crate::ocsp::check::ask_responder(&report, timeout, Some(&ctx.prober));
            progress.track("OCSP responder", ask).await
        }
        None => None,
    };

    // The user's own certificate: present it wherever the server asked for one.
    let mut client_cert_presented = Vec::new();
    // A TLS 1.2 server that requires a certificate aborts the full handshake that sent
    // none, so its request shows only in the scan's flight.
    // Unless the server's TLS 1.2 suites are none that rustls speaks (static RSA or DHE key
    // exchange only): then that handshake fails whatever certificate it carries, and says
    // nothing about the user's.
    let requested_tls12 = scan.as_ref().is_ok_and(|s| {
        s.properties.client_certificate.requested && rustls_speaks_a_tls12_suite_of(s)
    });
    if let Some(client) = &with.client_key {
        for (v, r) in &handshakes {
            let asked = match r {
                Ok(c) => c.client_cert_request.is_some(),
                Err(_) => *v != ProtocolVersion::Tls13 && requested_tls12,
            };
            if !asked {
                continue;
            }
            let opts = crate::cert::fetch::FetchOptions {
                client: Some(client.clone()),
                ..Default::default()
            };
            let fetch = crate::cert::fetch::fetch_chain_with(&ctx.prober, sni.as_deref(), *v, opts);
            let outcome = progress.track("client certificate", fetch).await;
            client_cert_presented.push((*v, IncompleteHandshake::of(outcome)));
        }
    }
    // Without a certificate of the user's: does the server refuse at the HTTP level what it
    // let through the handshake?
    let http_after_certificate_request = match &with.client_key {
        Some(_) => None,
        None => {
            let ask = super::http_answer::after_certificate_request(
                &ctx.prober,
                sni.as_deref(),
                &handshakes,
            );
            progress
                .track("HTTP request after the certificate request", ask)
                .await
        }
    };
    let replies = match replies {
        Some(r) => r,
        None => {
            progress
                .track("client simulations", replay(ctx, with))
                .await
        }
    };

    // Connections dialled ahead and not used are closed now, and counted below.
    ctx.prober.close_warm();
    Ok(Observation {
        target,
        address: addr.to_string(),
        sni,
        scan,
        handshakes,
        presented,
        staples,
        responder,
        client_cert_presented,
        http_after_certificate_request,
        replies,
        connections: ctx.prober.connections_opened(),
    })
}

/// Whether one of the TLS 1.2 suites `scan` found is one rustls (the full handshakes'
/// library) can negotiate.
fn rustls_speaks_a_tls12_suite_of(scan: &ServerScan) -> bool {
    let provider = rustls::crypto::ring::default_provider();
    let ours: Vec<String> = provider
        .cipher_suites
        .iter()
        .map(|c| format!("0x{:04x}", u16::from(c.suite())))
        .collect();
    scan.cipher_suites
        .iter()
        .filter(|v| v.version == ProtocolVersion::Tls12)
        .flat_map(|v| &v.suites)
        .any(|s| ours.iter().any(|o| o.eq_ignore_ascii_case(&s.id)))
}

/// What the simulation needs of each error finding of an analysed chain.
fn cert_problems(ch: &ChainAnalysis) -> Vec<CertProblem> {
    ch.findings
        .iter()
        .filter(|f| f.severity == Severity::Error)
        .map(|f| CertProblem {
            finding_id: f.id,
            title: f.title.clone(),
            only_store: (f.id == FindingId::CertRootMissingLocally)
                .then_some(TrustStoreKind::System),
            hostname_only: matches!(
                f.id,
                FindingId::CertHostnameMismatch | FindingId::CertWildcardApex
            ),
            weakest_rsa_bits: ch
                .certificates
                .iter()
                .filter(|c| c.key_type == "RSA" || c.key_type == "DSA")
                .map(|c| c.key_bits)
                .min(),
            texts: crate::clients::CertTexts::from_breaks(&f.breaks),
        })
        .collect()
}

/// Judge an observation at `now` against the request's trust stores, clients and OCSP
/// policy: no connection is made, so a recorded observation is judged exactly as the live
/// one was. Profiles without a reply in the observation are not simulated.
pub fn judge(observed: Observation, with: &Examination, now: SystemTime) -> Evidence {
    let stores = &with.stores;
    let addr = observed.address.parse::<std::net::SocketAddr>().ok();
    // The one analysis of the presented chain, against this request's trust stores.
    let host = observed
        .sni
        .clone()
        .or_else(|| addr.map(|a| a.ip().to_string()))
        .unwrap_or_else(|| observed.address.clone());
    let chain = observed
        .presented
        .as_ref()
        .map(|p| analyze(&p.der, Some(&host), stores, now));
    let chain_der = observed
        .presented
        .as_ref()
        .map(|p| p.der.as_slice())
        .unwrap_or_default();
    let mut ocsp =
        crate::ocsp::check::assess(chain_der, stores, observed.staples.clone(), with.ocsp, now);
    if let (Some(report), Some(exchange)) = (ocsp.as_mut(), &observed.responder) {
        if report.responder_to_ask().is_some() {
            report.judge_responder(exchange);
        }
    }

    let mut facts = ServerFacts::default();
    if let Some(ch) = &chain {
        facts.cert_problems = cert_problems(ch);
        facts.presented_key_type = super::served::leaf_key_type(ch);
    }
    let other_chains = super::served::other_chains(&observed, &host, stores, now);
    facts.other_chains = super::served::served(&other_chains, cert_problems);
    for (v, r) in &observed.handshakes {
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
        if let Ok(s) = &observed.scan {
            let cc = &s.properties.client_certificate;
            if cc.required == Some(true) {
                facts.client_cert_alert_tls12 = cc.alert_without_certificate;
            }
        }
    }
    facts.ocsp = ocsp.clone();
    facts.certificate_der_lens = chain_der.iter().map(Vec::len).collect();
    facts.server_kx = observed.scan.as_ref().ok().map(super::handshake::server_kx);
    facts.suites_need_other_certificate =
        super::handshake::suites_mismatch(&observed, &with.profiles, &facts.presented_key_type);
    super::handshake::client_cert_facts(&observed, with, &mut facts);
    super::handshake::client_cert_untested(&observed, with, &mut facts);
    for (v, verdict) in &observed.client_cert_presented {
        if verdict.is_none() {
            // The user's client presents this certificate: it gets past client
            // authentication in this version.
            match v {
                ProtocolVersion::Tls13 => facts.client_cert_alert_tls13 = None,
                _ => facts.client_cert_alert_tls12 = None,
            }
        }
    }
    let server = match addr {
        Some(a) => crate::simulate::server_label(observed.sni.as_deref(), a),
        None => observed.address.clone(),
    };
    let simulations = with
        .profiles
        .iter()
        .enumerate()
        .filter_map(|(i, p)| {
            // Replies come in the order of the profiles; a profile id may repeat.
            let reply = (observed.replies.get(i))
                .filter(|r| r.client == p.id)
                .or_else(|| observed.replies.iter().find(|r| r.client == p.id))?;
            Some(judge_reply(p, &facts, reply, &server))
        })
        .collect();

    Evidence {
        observed,
        stores: with.stores.clone(),
        ocsp_policy: with.ocsp,
        chain,
        other_chains,
        facts,
        profiles: with.profiles.clone(),
        simulations,
        local_client: with.local_client.clone(),
        ocsp,
        judged_at_unix: now
            .duration_since(SystemTime::UNIX_EPOCH)
            .map(|d| d.as_secs() as i64)
            .unwrap_or(0),
    }
}
