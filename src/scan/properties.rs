//! Handshake properties a client can trip over, each with its evidence: secure
//! renegotiation, compression, extended master secret, session tickets, fallback SCSV,
//! ALPN, OCSP stapling, behaviour without SNI, client-certificate requests, and the
//! certificate sent for each key type.

use super::ScanContext;
use super::check::{Basis, Check, Job};
use super::groups::set_extension;
use crate::finding::catalogue::finding;
use crate::finding::{Finding, FindingId};
use crate::probe::ProbeOutcome;
use crate::wire::suites::{self, CipherSuiteId};
use crate::wire::{AlertDescription, ClientExtension, ClientHello, ProtocolVersion, ServerFlight};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// A yes/no property with the evidence it rests on; `None` when it could not be measured.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Property {
    pub supported: Option<bool>,
    pub evidence: String,
}

impl Property {
    fn yes(evidence: impl Into<String>) -> Self {
        Property {
            supported: Some(true),
            evidence: evidence.into(),
        }
    }
    fn no(evidence: impl Into<String>) -> Self {
        Property {
            supported: Some(false),
            evidence: evidence.into(),
        }
    }
    fn unknown(evidence: impl Into<String>) -> Self {
        Property {
            supported: None,
            evidence: evidence.into(),
        }
    }
}

/// What the server does when the ClientHello carries no SNI.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NoSniBehaviour {
    /// Same handshake, same certificate.
    SameCertificate,
    /// Completes the handshake but with a different certificate (a default virtual host).
    DifferentCertificate { leaf_sha256: String },
    /// Refuses with an alert (unrecognized_name, handshake_failure, ...).
    Alert { alert: String },
    /// Closes or resets the connection.
    Closed,
    /// Answers, but the certificate is not visible (TLS 1.3 encrypts it).
    Answers,
}

/// Whether the server asks for a client certificate and insists on one, as measured (the
/// wire-level request one full handshake saw is `cert::ClientCertRequest`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClientCertDemand {
    pub requested: bool,
    /// Whether the server insists: measured by answering its request with an empty
    /// Certificate message (TLS ≤1.2). None when not requested or not measurable.
    pub required: Option<bool>,
    /// The alert the server sent when no certificate came.
    #[serde(
        serialize_with = "crate::probe::names::alert_opt",
        deserialize_with = "crate::probe::names::alert_opt_from"
    )]
    pub alert_without_certificate: Option<AlertDescription>,
    /// Acceptable CA distinguished names the server lists, as DER hex (rendered by the
    /// certificate module when available).
    pub ca_names_der: Vec<String>,
    pub evidence: String,
}

/// A hello whose ALPN list the server refused outright (no_application_protocol) instead of
/// going on without ALPN: what clients offering only those protocols get.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AlpnRefusal {
    /// The protocols that hello offered (the candidates the server had not chosen yet).
    pub offered: Vec<String>,
    /// The alert's registry name.
    pub alert: String,
}

/// The certificate chain sent when only suites of one authentication kind are offered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyTypeCertificate {
    /// "RSA" or "ECDSA".
    pub key_type: String,
    pub leaf_sha256: String,
    pub chain_length: usize,
    #[serde(skip)]
    pub chain: Vec<Vec<u8>>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct HandshakeProperties {
    pub secure_renegotiation: Property,
    pub compression: Property,
    pub extended_master_secret: Property,
    pub session_ticket: Property,
    /// TLS 1.2 resumption by session ID (filled by the resumption check).
    pub resumption_session_id: Property,
    /// TLS 1.2 resumption by session ticket (filled by the resumption check).
    pub resumption_ticket: Property,
    pub fallback_scsv: Property,
    pub alpn: Vec<String>,
    pub alpn_evidence: String,
    /// Set when the server refused a hello for its ALPN list alone.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alpn_refused: Option<AlpnRefusal>,
    pub ocsp_stapling: Property,
    pub without_sni: Option<NoSniBehaviour>,
    pub client_certificate: ClientCertDemand,
    pub certificates: Vec<KeyTypeCertificate>,
}

/// ALPN protocols worth asking for over TLS on TCP.
const ALPN_CANDIDATES: &[&str] = &["h2", "http/1.1", "http/1.0", "spdy/3.1", "acme-tls/1"];

/// The candidates, and the protocol the connection's prelude requires (PostgreSQL's direct
/// TLS: the prober adds it to every hello anyway, so it is asked for by name).
fn alpn_candidates(ctx: &ScanContext) -> Vec<String> {
    let required = ctx
        .prober
        .config()
        .prelude
        .as_ref()
        .and_then(|p| p.required_alpn());
    ALPN_CANDIDATES
        .iter()
        .copied()
        .chain(required)
        .map(str::to_string)
        .collect()
}

pub fn sha256_hex(der: &[u8]) -> String {
    hex::encode(Sha256::digest(der))
}

/// What a property is before (or without) its measurement.
pub fn not_measured() -> Property {
    Property::unknown("not measured")
}

impl HandshakeProperties {
    /// Every property unknown: what a scan shows when the check did not run.
    pub fn not_measured() -> Self {
        HandshakeProperties {
            secure_renegotiation: not_measured(),
            compression: not_measured(),
            extended_master_secret: not_measured(),
            session_ticket: not_measured(),
            resumption_session_id: not_measured(),
            resumption_ticket: not_measured(),
            fallback_scsv: not_measured(),
            alpn: Vec::new(),
            alpn_evidence: "not measured".into(),
            alpn_refused: None,
            ocsp_stapling: not_measured(),
            without_sni: None,
            client_certificate: ClientCertDemand {
                requested: false,
                required: None,
                alert_without_certificate: None,
                ca_names_der: Vec::new(),
                evidence: "not measured".into(),
            },
            certificates: Vec::new(),
        }
    }
}

/// The handshake properties: those the basis stage's flight shows (read in the fold), and
/// one job for each that needs probes of its own. The resumption fields are check
/// `resumption`'s.
pub struct Properties;

/// What one property job found.
pub enum PropertyAnswer {
    Compression(Property),
    FallbackScsv(Property),
    Alpn(Vec<String>, String, Option<AlpnRefusal>),
    WithoutSni(Option<NoSniBehaviour>),
    Certificates(Vec<KeyTypeCertificate>),
    /// Whether a requested client certificate is required, the alert, the evidence.
    CertRequired(Option<(bool, Option<AlertDescription>, String)>),
    /// The answers of a job that measured several properties.
    Several(Vec<PropertyAnswer>),
}

impl Check for Properties {
    const NAME: &'static str = "properties";
    const TITLE: &'static str = "Handshake properties";
    type Answer = PropertyAnswer;
    type Evidence = HandshakeProperties;

    fn jobs<'a>(&'a self, basis: &'a Basis<'a>) -> Vec<Job<'a, PropertyAnswer>> {
        use PropertyAnswer as A;
        let ctx = basis.ctx;
        let accepted = basis.accepted();
        let legacy = basis.legacy();
        let base = basis.base();
        let best = accepted.iter().copied().max();
        let cert_requested = base.is_some_and(|f| f.certificate_request.is_some());
        let (acc1, acc2) = (accepted.clone(), accepted);
        vec![
            // Compression and the first ALPN offer share a hello, and in TLS 1.3 (where the
            // ALPN answer travels encrypted) the first ALPN handshake answers for the key
            // type of its certificate: see `compression_and_alpn`.
            Box::pin(async move {
                let head = basis.head_start();
                A::Several(compression_alpn_certificates(ctx, legacy, base, head, &acc1).await)
            }),
            Box::pin(async move { A::FallbackScsv(fallback_scsv(ctx, &acc2).await) }),
            Box::pin(async move { A::WithoutSni(without_sni(ctx, best, base).await) }),
            Box::pin(async move {
                A::CertRequired(client_cert_required(ctx, legacy.filter(|_| cert_requested)).await)
            }),
        ]
    }

    fn fold(&self, basis: &Basis<'_>, answers: Vec<PropertyAnswer>) -> HandshakeProperties {
        let mut props = from_flight(basis.base());
        let mut cert_required = None;
        let mut answers = answers;
        while let Some(a) = answers.pop() {
            match a {
                PropertyAnswer::Several(more) => answers.extend(more),
                PropertyAnswer::Compression(p) => props.compression = p,
                PropertyAnswer::FallbackScsv(p) => props.fallback_scsv = p,
                PropertyAnswer::Alpn(found, evidence, refused) => {
                    props.alpn = found;
                    props.alpn_evidence = evidence;
                    props.alpn_refused = refused;
                }
                PropertyAnswer::WithoutSni(b) => props.without_sni = b,
                PropertyAnswer::Certificates(c) => props.certificates = c,
                PropertyAnswer::CertRequired(r) => cert_required = r,
            }
        }
        if let Some((required, alert, evidence)) = cert_required {
            let cc = &mut props.client_certificate;
            cc.required = Some(required);
            cc.alert_without_certificate = alert;
            cc.evidence = format!("{}; {evidence}", cc.evidence);
        }
        props
    }

    fn findings(&self, props: &HandshakeProperties) -> Vec<Finding> {
        if props.compression.supported != Some(true) {
            return Vec::new();
        }
        vec![finding(FindingId::TlsCompression, &[]).evidence(props.compression.evidence.clone())]
    }
}

/// The properties `base` (the flight of the highest version ≤ TLS 1.2) shows by itself; the
/// others not measured yet.
fn from_flight(base: Option<&ServerFlight>) -> HandshakeProperties {
    let from_base = |f: &dyn Fn(&ServerFlight) -> Property, what: &str| match base {
        Some(flight) => f(flight),
        None => Property::unknown(format!(
            "no TLS 1.2 or older handshake to observe {what} in"
        )),
    };
    HandshakeProperties {
        secure_renegotiation: from_base(
            &|f| {
                let sh = f.server_hello.as_ref();
                if sh.is_some_and(|s| s.secure_renegotiation()) {
                    Property::yes("ServerHello carries the renegotiation_info extension (RFC 5746)")
                } else {
                    Property::no(
                        "ServerHello has no renegotiation_info extension although the client offered it: the server does not support RFC 5746 secure renegotiation",
                    )
                }
            },
            "renegotiation_info",
        ),
        extended_master_secret: from_base(
            &|f| {
                if f.server_hello
                    .as_ref()
                    .is_some_and(|s| s.extended_master_secret())
                {
                    Property::yes("ServerHello carries extended_master_secret (RFC 7627)")
                } else {
                    Property::no("ServerHello has no extended_master_secret extension")
                }
            },
            "extended_master_secret",
        ),
        session_ticket: from_base(
            &|f| {
                if f.server_hello
                    .as_ref()
                    .is_some_and(|s| s.has_extension(0x0023))
                {
                    Property::yes("ServerHello acknowledges session_ticket (RFC 5077)")
                } else {
                    Property::no("ServerHello does not acknowledge session_ticket")
                }
            },
            "session_ticket",
        ),
        ocsp_stapling: from_base(
            &|f| match &f.certificate_status {
                Some(ocsp) => Property::yes(format!(
                    "CertificateStatus message with a {}-byte OCSP response",
                    ocsp.len()
                )),
                None => {
                    Property::no("no CertificateStatus message although status_request was sent")
                }
            },
            "a stapled OCSP response",
        ),
        client_certificate: match base {
            Some(f) => match &f.certificate_request {
                Some(cr) => ClientCertDemand {
                    requested: true,
                    required: None,
                    alert_without_certificate: None,
                    ca_names_der: cr.ca_names.iter().map(hex::encode).collect(),
                    evidence: format!(
                        "CertificateRequest in the server's flight, {} acceptable CA name(s)",
                        cr.ca_names.len()
                    ),
                },
                None => ClientCertDemand {
                    requested: false,
                    required: None,
                    alert_without_certificate: None,
                    ca_names_der: Vec::new(),
                    evidence: "no CertificateRequest in the server's flight".into(),
                },
            },
            None => ClientCertDemand {
                requested: false,
                required: None,
                alert_without_certificate: None,
                ca_names_der: Vec::new(),
                evidence: "not observable without a TLS 1.2 or older handshake".into(),
            },
        },
        ..HandshakeProperties::not_measured()
    }
}

/// Answer the server's CertificateRequest with an empty Certificate message and watch: a
/// server that requires a certificate aborts at once with an alert.
async fn client_cert_required(
    ctx: &ScanContext,
    v: Option<ProtocolVersion>,
) -> Option<(bool, Option<AlertDescription>, String)> {
    use crate::probe::FollowUp;
    let v = v?;
    let hello = super::versions::probe_hello(v, ctx.sni.as_deref());
    let minor = (v.to_wire() & 0xff) as u8;
    // record(handshake, v, len 7) { Certificate(11), len 3, certificate_list len 0 }
    let empty_certificate = [
        0x16, 0x03, minor, 0x00, 0x07, 0x0b, 0x00, 0x00, 0x03, 0x00, 0x00, 0x00,
    ];
    let wait = ctx
        .prober
        .config()
        .read_timeout
        .min(std::time::Duration::from_secs(1));
    let (_, after) = ctx
        .prober
        .send_hello_then(&hello, &empty_certificate, wait)
        .await;
    Some(match after? {
        FollowUp::Alert(a) => (
            true,
            Some(a.description),
            format!("an empty client Certificate was answered with alert {}", a.description.name()),
        ),
        FollowUp::Closed => (
            true,
            None,
            "an empty client Certificate made the server close the connection".into(),
        ),
        FollowUp::Silent => (
            false,
            None,
            "an empty client Certificate was accepted (the server waits for the key exchange): the certificate is optional".into(),
        ),
    })
}

/// Compression, ALPN and the certificate of each key type, in as few connections as their
/// answers allow:
/// - with a version up to TLS 1.2 (`legacy`), one hello offers DEFLATE and every ALPN
///   candidate: accepted, it answers compression and the first ALPN choice at once (the
///   server picks each regardless of the other); refused, either may be why, so each is
///   asked alone as before ([`compression_and_alpn`]). The key types are asked beside it;
/// - with TLS 1.3 only, the first full ALPN handshake shows the certificate of the kind the
///   server chose, so only the other kind needs a handshake of its own.
async fn compression_alpn_certificates(
    ctx: &ScanContext,
    legacy: Option<ProtocolVersion>,
    base: Option<&ServerFlight>,
    head: Option<&super::schedule::HeadStart>,
    accepted: &[ProtocolVersion],
) -> Vec<PropertyAnswer> {
    use PropertyAnswer as A;
    let Some(v) = legacy else {
        let (shown, first_chain) = tokio::sync::oneshot::channel();
        let alpn = async {
            if accepted.contains(&ProtocolVersion::Tls13) {
                tls13_alpn(ctx, Some(shown)).await
            } else {
                (
                    Vec::new(),
                    "SSLv2 only: SSLv2 has no extensions, so no ALPN".into(),
                    None,
                )
            }
        };
        let ((found, evidence, refused), certs) =
            futures::join!(alpn, tls13_certificates(ctx, first_chain));
        return vec![
            A::Compression(compression(ctx, None, accepted).await),
            A::Alpn(found, evidence, refused),
            A::Certificates(certs),
        ];
    };
    let of_auth = |auth: &'static str| super::ciphers::candidates_where(v, |s| s.auth == auth);
    let ((compressed, (found, evidence, refused)), certs) = futures::join!(
        compression_and_alpn(ctx, v, accepted),
        certificates(ctx, v, base, head, of_auth("RSA"), of_auth("ECDSA")),
    );
    vec![
        A::Compression(compressed),
        A::Alpn(found, evidence, refused),
        A::Certificates(certs),
    ]
}

/// The hello that asks compression and the first ALPN choice at once (version `v`).
pub fn compression_and_alpn_hello(
    v: ProtocolVersion,
    sni: Option<&str>,
    alpn: Vec<String>,
) -> ClientHello {
    let mut hello = ClientHello::for_probe(v, sni, &super::ciphers::candidates(v));
    hello.compression_methods = vec![1, 0];
    set_extension(&mut hello, ClientExtension::Alpn(alpn));
    hello
}

/// Compression and ALPN in version `v`. The server's ALPN choices are verified the way an
/// order of suites is ([`super::schedule_order::verify`]): servers prefer the candidates in
/// about the order they are listed (h2, then http/1.1), so the offers of every candidate, of
/// all but the first, of all but the first two, … go at once, each answer a proven step, and
/// the first of them is the hello that asks compression too (see
/// [`compression_alpn_certificates`]; when the server refuses it, either question may be why,
/// so each is asked alone). What the wave leaves open is asked offer after offer. Only for a
/// server far away: the wave costs a few connections more than offers in turn (four more
/// where the server has no ALPN at all), which a server close by would pay for nothing.
async fn compression_and_alpn(
    ctx: &ScanContext,
    v: ProtocolVersion,
    accepted: &[ProtocolVersion],
) -> (Property, AlpnFound) {
    use std::sync::Mutex;
    use std::sync::atomic::{AtomicBool, Ordering};
    if !ctx.prober.is_far() {
        return compression_and_alpn_in_turn(ctx, v, accepted).await;
    }
    let names = alpn_candidates(ctx);
    let all: Vec<usize> = (0..names.len()).collect();
    // Every offer made and its answer; the verdict of the shared hello, when it was accepted.
    let asked: Mutex<Vec<(Vec<usize>, ProbeOutcome)>> = Mutex::new(Vec::new());
    let compressed: Mutex<Option<Property>> = Mutex::new(None);
    let shared = AtomicBool::new(false);
    let (names, asked_ref, compressed_ref, shared) = (&names, &asked, &compressed, &shared);
    let ask = move |offer: Vec<usize>| -> futures::future::BoxFuture<'_, Option<usize>> {
        Box::pin(async move {
            let protocols: Vec<String> = offer.iter().map(|&i| names[i].clone()).collect();
            let mut outcome = None;
            if offer.len() == names.len() && !shared.swap(true, Ordering::Relaxed) {
                let hello = compression_and_alpn_hello(v, ctx.sni.as_deref(), protocols.clone());
                let answer = ctx.prober.send_hello(&hello.encode_probe()).await.outcome;
                if let Ok((c, first)) = judge_compression_and_alpn(answer) {
                    *compressed_ref.lock().unwrap_or_else(|e| e.into_inner()) = Some(c);
                    outcome = Some(first);
                }
            }
            let outcome = match outcome {
                Some(o) => o,
                None => alpn_probe(ctx, v, protocols).await,
            };
            let chosen =
                alpn_choice(&outcome).and_then(|p| offer.iter().copied().find(|&i| names[i] == p));
            asked_ref
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .push((offer, outcome));
            chosen
        })
    };
    let stop = AtomicBool::new(false);
    let verified = super::schedule_order::verify(&ask, &all, &[], &all, &stop).await;
    let taken = compressed.lock().unwrap_or_else(|e| e.into_inner()).take();
    let compressed = match taken {
        Some(c) => c,
        None => compression(ctx, Some(v), accepted).await,
    };
    let found: Vec<String> = verified.proven.iter().map(|&i| names[i].clone()).collect();
    // Complete: the offer of what was not chosen was answered, and says how the list ended.
    let ended = verified.complete.then(|| {
        let rest: Vec<usize> = all
            .iter()
            .copied()
            .filter(|i| !verified.proven.contains(i))
            .collect();
        let asked = asked.lock().unwrap_or_else(|e| e.into_inner());
        asked
            .iter()
            .find(|(o, _)| *o == rest)
            .map(|(_, answer)| answer.clone())
    });
    (compressed, alpn_chain(ctx, v, found, ended.flatten()).await)
}

/// [`compression_and_alpn`] for a server close by, where connections cost more than round
/// trips: the shared hello, then one offer after another.
async fn compression_and_alpn_in_turn(
    ctx: &ScanContext,
    v: ProtocolVersion,
    accepted: &[ProtocolVersion],
) -> (Property, AlpnFound) {
    let hello = compression_and_alpn_hello(v, ctx.sni.as_deref(), alpn_candidates(ctx));
    let outcome = ctx.prober.send_hello(&hello.encode_probe()).await.outcome;
    match judge_compression_and_alpn(outcome) {
        Ok((compressed, first)) => (
            compressed,
            alpn_chain(ctx, v, Vec::new(), Some(first)).await,
        ),
        Err(_) => futures::join!(
            compression(ctx, Some(v), accepted),
            alpn_chain(ctx, v, Vec::new(), None)
        ),
    }
}

/// A hello in version `v` offering the ALPN `protocols`, and the server's answer.
async fn alpn_probe(ctx: &ScanContext, v: ProtocolVersion, protocols: Vec<String>) -> ProbeOutcome {
    let mut hello = ClientHello::for_probe(v, ctx.sni.as_deref(), &super::ciphers::candidates(v));
    set_extension(&mut hello, ClientExtension::Alpn(protocols));
    ctx.prober.send_hello(&hello.encode_probe()).await.outcome
}

/// The protocol the server chose in its answer to an ALPN offer.
fn alpn_choice(outcome: &ProbeOutcome) -> Option<String> {
    match outcome {
        ProbeOutcome::Accepted(f) => f
            .server_hello
            .as_ref()
            .and_then(|s| s.alpn())
            .map(str::to_string),
        _ => None,
    }
}

/// The answer to the shared hello: compression's verdict and the outcome the ALPN
/// enumeration takes as its first answer, when it was accepted; else the outcome, which
/// says nothing about either alone.
pub fn judge_compression_and_alpn(
    outcome: ProbeOutcome,
) -> Result<(Property, ProbeOutcome), ProbeOutcome> {
    match outcome {
        ProbeOutcome::Accepted(_) => Ok((judge_compression(&outcome), outcome)),
        other => Err(other),
    }
}

/// Offer DEFLATE before null compression: a server that picks DEFLATE supports compression
/// (and is exposed to CRIME).
async fn compression(
    ctx: &ScanContext,
    legacy: Option<ProtocolVersion>,
    accepted: &[ProtocolVersion],
) -> Property {
    let Some(v) = legacy else {
        return Property::no(if accepted.contains(&ProtocolVersion::Tls13) {
            "TLS 1.3 only: TLS 1.3 has no compression"
        } else {
            // Without SSLv3–TLS 1.3 the server can only have accepted SSLv2.
            "SSLv2 only: SSLv2 has no compression"
        });
    };
    let mut hello = ClientHello::for_probe(v, ctx.sni.as_deref(), &super::ciphers::candidates(v));
    hello.compression_methods = vec![1, 0];
    let bytes = hello.encode_probe();
    judge_compression(&ctx.prober.send_hello(&bytes).await.outcome)
}

/// The answer to a hello offering DEFLATE before null compression.
pub fn judge_compression(outcome: &ProbeOutcome) -> Property {
    match outcome {
        ProbeOutcome::Accepted(f) => match f.server_hello.as_ref().map(|s| s.compression) {
            Some(1) => Property::yes("server chose DEFLATE compression (CRIME risk)"),
            Some(m) => Property::no(format!("offered DEFLATE and null; server chose method {m}")),
            None => Property::unknown("no ServerHello"),
        },
        other => Property::unknown(format!(
            "hello offering compression was refused: {}",
            other.describe()
        )),
    }
}

/// RFC 7507: a client retrying with a lower version than the server's best signals it
/// with TLS_FALLBACK_SCSV; a server that supports the signal refuses with
/// inappropriate_fallback.
async fn fallback_scsv(ctx: &ScanContext, accepted: &[ProtocolVersion]) -> Property {
    let mut tls: Vec<ProtocolVersion> = accepted
        .iter()
        .copied()
        .filter(|v| *v >= ProtocolVersion::Tls10)
        .collect();
    tls.sort();
    if tls.len() < 2 {
        return Property::unknown(
            "only one TLS version accepted: there is nothing to fall back to",
        );
    }
    let lower = tls[tls.len() - 2];
    let mut ids = super::ciphers::candidates(lower);
    ids.push(suites::TLS_FALLBACK_SCSV);
    let bytes = ClientHello::for_probe(lower, ctx.sni.as_deref(), &ids).encode_probe();
    judge_fallback(lower, &ctx.prober.send_hello(&bytes).await.outcome)
}

/// The answer to a `lower` hello carrying TLS_FALLBACK_SCSV.
pub fn judge_fallback(lower: ProtocolVersion, outcome: &ProbeOutcome) -> Property {
    match outcome {
        ProbeOutcome::Alert(a) if a.description == AlertDescription::InappropriateFallback => {
            Property::yes(format!(
                "a {lower} hello with TLS_FALLBACK_SCSV was refused with inappropriate_fallback"
            ))
        }
        ProbeOutcome::Accepted(_) => Property::no(format!(
            "a {lower} hello with TLS_FALLBACK_SCSV was accepted: downgrade is not detected"
        )),
        other => Property::unknown(format!(
            "a {lower} hello with TLS_FALLBACK_SCSV got: {}",
            other.describe()
        )),
    }
}

/// What the ALPN probes found: the protocols the server chose in turn, the evidence, and
/// the refusal that ended them, if one did.
type AlpnFound = (Vec<String>, String, Option<AlpnRefusal>);

/// Offer the candidates in version `v` but those `found` already (the server's choices so
/// far, in turn), note the server's choice, take it away, repeat. A server that enforces its
/// list answers the first offer without its protocols with no_application_protocol: that
/// offer is kept, since clients making it fail. `first`, when given, is the server's answer
/// to the first of these offers, already made.
async fn alpn_chain(
    ctx: &ScanContext,
    v: ProtocolVersion,
    mut found: Vec<String>,
    mut first: Option<ProbeOutcome>,
) -> AlpnFound {
    let mut offer = alpn_candidates(ctx);
    offer.retain(|p| !found.contains(p));
    let mut evidence = String::new();
    let mut refused = None;
    while !offer.is_empty() {
        let outcome = match first.take() {
            Some(answered) => answered,
            None => alpn_probe(ctx, v, offer.clone()).await,
        };
        match outcome {
            ProbeOutcome::Accepted(f) => {
                match f
                    .server_hello
                    .as_ref()
                    .and_then(|s| s.alpn())
                    .map(str::to_string)
                {
                    Some(p) if offer.contains(&p) => {
                        offer.retain(|x| *x != p);
                        found.push(p);
                    }
                    _ => {
                        if found.is_empty() {
                            evidence = "ServerHello carries no ALPN extension".into();
                        }
                        break;
                    }
                }
            }
            ProbeOutcome::Alert(a) if a.description == AlertDescription::NoApplicationProtocol => {
                refused = Some(AlpnRefusal {
                    offered: offer.clone(),
                    alert: a.description.name().to_string(),
                });
                break;
            }
            other => {
                if found.is_empty() {
                    evidence = format!("ALPN probe got: {}", other.describe());
                }
                break;
            }
        }
    }
    if !found.is_empty() {
        evidence = format!(
            "server selected {} when offered in turn",
            found.join(", then ")
        );
    }
    if let (true, Some(r)) = (found.is_empty(), &refused) {
        evidence = refusal_words(r);
    }
    (found, evidence, refused)
}

/// "a hello offering only h2, http/1.1 was refused with alert no_application_protocol".
pub fn refusal_words(r: &AlpnRefusal) -> String {
    format!(
        "a hello offering only {} in ALPN was refused with alert {}",
        r.offered.join(", "),
        r.alert
    )
}

async fn without_sni(
    ctx: &ScanContext,
    best: Option<ProtocolVersion>,
    base: Option<&ServerFlight>,
) -> Option<NoSniBehaviour> {
    ctx.sni.as_ref()?;
    let v = best?;
    let bytes = ClientHello::for_probe(v, None, &super::ciphers::candidates(v)).encode_probe();
    Some(judge_without_sni(
        &ctx.prober.send_hello(&bytes).await.outcome,
        base,
    ))
}

/// The answer to a hello without SNI, compared with the flight of the same server's hello
/// with SNI (`base`).
pub fn judge_without_sni(outcome: &ProbeOutcome, base: Option<&ServerFlight>) -> NoSniBehaviour {
    let leaf_of = |f: &ServerFlight| {
        f.certificates
            .as_ref()
            .and_then(|c| c.first())
            .map(|d| sha256_hex(d))
    };
    match outcome {
        ProbeOutcome::Accepted(f) => match (leaf_of(f), base.and_then(leaf_of)) {
            (Some(a), Some(b)) if a == b => NoSniBehaviour::SameCertificate,
            (Some(a), Some(_)) => NoSniBehaviour::DifferentCertificate { leaf_sha256: a },
            _ => NoSniBehaviour::Answers,
        },
        ProbeOutcome::Alert(a) => NoSniBehaviour::Alert {
            alert: a.description.name().to_string(),
        },
        _ => NoSniBehaviour::Closed,
    }
}

/// The chain sent when only RSA-authenticated, then only ECDSA-authenticated, suites are
/// offered in version `v` (TLS ≤1.2, where the certificate is visible in the flight); none,
/// without a probe, for a kind none of whose suites the suites check found in `v` (`head`). The version probe's
/// flight (`base`) already answers for the key type of the suite it negotiated: a server
/// sends the certificate of the suite's authentication, so that probe is not repeated.
async fn certificates(
    ctx: &ScanContext,
    v: ProtocolVersion,
    base: Option<&ServerFlight>,
    head: Option<&super::schedule::HeadStart>,
    rsa: Vec<CipherSuiteId>,
    ecdsa: Vec<CipherSuiteId>,
) -> Vec<KeyTypeCertificate> {
    let of = |label: &'static str, f: &ServerFlight| {
        let chain = f.certificates.clone()?;
        let leaf = chain.first()?;
        Some(KeyTypeCertificate {
            key_type: label.to_string(),
            leaf_sha256: sha256_hex(leaf),
            chain_length: chain.len(),
            chain,
        })
    };
    let base_auth = base
        .and_then(|f| f.server_hello.as_ref())
        .and_then(|sh| suites::by_id(u32::from(sh.cipher_suite.0)))
        .map(|s| s.auth);
    let base_suite = negotiated(base);
    let fetch = |label: &'static str, ids: Vec<CipherSuiteId>| async move {
        if ids.is_empty() {
            return None;
        }
        let answered = base_auth == Some(label) && base_suite.is_some_and(|s| ids.contains(&s));
        if let Some(f) = base.filter(|_| answered) {
            return of(label, f);
        }
        // None of these suites among those the suites check found: the hello would be
        // refused, so it is not sent.
        if let Some(found) = super::schedule::accepted_suites(head, v).await {
            if !found.iter().any(|id| ids.contains(id)) {
                return None;
            }
        }
        let bytes = ClientHello::for_probe(v, ctx.sni.as_deref(), &ids).encode_probe();
        match ctx.prober.send_hello(&bytes).await.outcome {
            ProbeOutcome::Accepted(f) => of(label, &f),
            _ => None,
        }
    };
    let (r, e) = futures::join!(fetch("RSA", rsa), fetch("ECDSA", ecdsa));
    r.into_iter().chain(e).collect()
}

/// The suite `flight`'s ServerHello negotiated.
fn negotiated(flight: Option<&ServerFlight>) -> Option<CipherSuiteId> {
    Some(flight?.server_hello.as_ref()?.cipher_suite)
}

/// TLS 1.3 only: the server's ALPN choice travels encrypted, so complete handshakes (rustls)
/// offering the candidates, and take each choice away in turn.
/// The chain of the first handshake goes to `shown`, when given (see
/// [`tls13_certificates`]). For a far server the likely steps are asked at once first
/// ([`tls13_alpn_ahead`]), so the chain mostly reads answers already in.
async fn tls13_alpn(
    ctx: &ScanContext,
    shown: Option<tokio::sync::oneshot::Sender<Vec<Vec<u8>>>>,
) -> AlpnFound {
    use crate::cert::fetch::{FetchOptions, fetch_chain_with};
    use futures::FutureExt;
    use std::sync::Mutex;
    let names = alpn_candidates(ctx);
    let shown = Mutex::new(shown);
    // One handshake per offer, however many times it is asked for.
    let asked: Mutex<Vec<(Vec<String>, AlpnHandshake<'_>)>> = Mutex::new(Vec::new());
    let (asked, shown, all) = (&asked, &shown, &names);
    let handshake = move |offer: Vec<String>| -> AlpnHandshake<'_> {
        let mut asked = asked.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((_, answer)) = asked.iter().find(|(o, _)| *o == offer) {
            return answer.clone();
        }
        let opts = FetchOptions {
            alpn: offer.clone(),
            ..FetchOptions::default()
        };
        let whole = offer == *all;
        let answer = async move {
            let got = fetch_chain_with(
                &ctx.prober,
                ctx.sni.as_deref(),
                ProtocolVersion::Tls13,
                opts,
            )
            .await;
            if whole {
                // Taken either way: a failed first handshake lets the certificates go on.
                let tx = shown.lock().unwrap_or_else(|e| e.into_inner()).take();
                if let (Some(tx), Ok(c)) = (tx, &got) {
                    let _ = tx.send(c.chain.clone());
                }
            }
            got.map(|c| c.alpn)
        }
        .boxed()
        .shared();
        asked.push((offer, answer.clone()));
        answer
    };
    let mut found = Vec::new();
    if ctx.prober.is_far() {
        found = tls13_alpn_ahead(&names, &handshake).await;
    }
    let mut offer: Vec<String> = names
        .iter()
        .filter(|n| !found.contains(n))
        .cloned()
        .collect();
    let mut why = String::new();
    let mut refused = None;
    while !offer.is_empty() {
        match handshake(offer.clone()).await {
            Ok(Some(p)) if offer.contains(&p) => {
                offer.retain(|x| *x != p);
                found.push(p);
            }
            Ok(_) => {
                if found.is_empty() {
                    why = "TLS 1.3 handshakes offering ALPN got no ALPN answer".into();
                }
                break;
            }
            Err(e) => {
                if e.alert() == Some(AlertDescription::NoApplicationProtocol) {
                    refused = Some(AlpnRefusal {
                        offered: offer.clone(),
                        alert: AlertDescription::NoApplicationProtocol.name().to_string(),
                    });
                } else if found.is_empty() {
                    why = format!("a TLS 1.3 handshake offering ALPN failed: {e}");
                }
                break;
            }
        }
    }
    if !found.is_empty() {
        why = format!(
            "in full TLS 1.3 handshakes the server selected {}",
            found.join(", then ")
        );
    }
    if let (true, Some(r)) = (found.is_empty(), &refused) {
        why = refusal_words(r);
    }
    (found, why, refused)
}

/// One TLS 1.3 handshake's ALPN answer (the protocol chosen, if any), shared by every
/// step of [`tls13_alpn`] that asks the same offer.
type AlpnHandshake<'a> = futures::future::Shared<
    futures::future::BoxFuture<'a, Result<Option<String>, crate::cert::fetch::FetchError>>,
>;

/// The protocols a web server usually takes, in the order it usually prefers them: the
/// prediction a far server's TLS 1.3 ALPN choices are verified against.
const USUAL_ALPN: &[&str] = &["h2", "http/1.1", "http/1.0"];

/// For a far server, [`tls13_alpn`]'s chain in one round instead of one per choice: the
/// usual protocols' order verified by one handshake per place
/// ([`super::schedule_order::verify`]), beside the offer a server without h2 ends its chain
/// with (everything but HTTP/1.x), which verify asks last when the first choice is not h2.
/// Answers the choices it proved, in order; the chain goes on from there (its next offer,
/// everything else, is usually answered already).
async fn tls13_alpn_ahead<'a, F>(names: &[String], handshake: &F) -> Vec<String>
where
    F: Fn(Vec<String>) -> AlpnHandshake<'a> + Sync,
{
    use std::sync::atomic::AtomicBool;
    let all: Vec<usize> = (0..names.len()).collect();
    let usual: Vec<usize> = USUAL_ALPN
        .iter()
        .filter_map(|u| names.iter().position(|n| n == u))
        .collect();
    let offer_of =
        |idx: &[usize]| -> Vec<String> { idx.iter().map(|&i| names[i].clone()).collect() };
    let ask = |offer: Vec<usize>| -> futures::future::BoxFuture<'_, Option<usize>> {
        let protocols = offer_of(&offer);
        let answer = handshake(protocols);
        Box::pin(async move {
            let chosen = answer.await.ok().flatten()?;
            offer.iter().copied().find(|&i| names[i] == chosen)
        })
    };
    let without_http1: Vec<usize> = all
        .iter()
        .copied()
        .filter(|&i| !names[i].starts_with("http/1."))
        .collect();
    let stop = AtomicBool::new(false);
    let (verified, _) = futures::join!(
        super::schedule_order::verify(&ask, &all, &[], &usual, &stop),
        handshake(offer_of(&without_http1)),
    );
    offer_of(&verified.proven)
}

/// TLS 1.3 only: complete a handshake offering only RSA, then only ECDSA signature schemes;
/// the server answers each with the certificate of that kind, if it has one. A handshake
/// offering every scheme (`first_chain`, the first ALPN handshake's, when it completed)
/// already showed the certificate of the kind the server chose: that kind is not asked again,
/// unless the server is far away: waiting for that handshake would ask for the other kind a
/// round trip later, so both kinds are asked at once there (one connection more).
async fn tls13_certificates(
    ctx: &ScanContext,
    first_chain: tokio::sync::oneshot::Receiver<Vec<Vec<u8>>>,
) -> Vec<KeyTypeCertificate> {
    use crate::cert::fetch::{FetchOptions, KeyKind, fetch_chain_with};
    let shown = match ctx.prober.is_far() {
        true => None,
        false => first_chain.await.ok().and_then(|chain| {
            let kind = leaf_key_kind(&chain)?;
            Some((kind, chain))
        }),
    };
    let entry = |label: &'static str, chain: Vec<Vec<u8>>| {
        let leaf = chain.first()?;
        Some(KeyTypeCertificate {
            key_type: label.to_string(),
            leaf_sha256: sha256_hex(leaf),
            chain_length: chain.len(),
            chain,
        })
    };
    let shown = &shown;
    let fetch = |label: &'static str, kind: KeyKind| async move {
        if let Some((_, chain)) = shown.as_ref().filter(|(k, _)| *k == kind) {
            return entry(label, chain.clone());
        }
        let opts = FetchOptions {
            only_key: Some(kind),
            ..FetchOptions::default()
        };
        let got = fetch_chain_with(
            &ctx.prober,
            ctx.sni.as_deref(),
            ProtocolVersion::Tls13,
            opts,
        )
        .await
        .ok()?;
        entry(label, got.chain)
    };
    let (r, e) = futures::join!(fetch("RSA", KeyKind::Rsa), fetch("ECDSA", KeyKind::Ecdsa));
    r.into_iter().chain(e).collect()
}

/// The kind of the leaf's key (`chain[0]`) when it is one a handshake can ask for by its
/// signature schemes: RSA (rsaEncryption) or ECDSA (id-ecPublicKey).
pub fn leaf_key_kind(chain: &[Vec<u8>]) -> Option<crate::cert::fetch::KeyKind> {
    use crate::cert::fetch::KeyKind;
    use x509_parser::prelude::FromDer;
    let (_, cert) = x509_parser::certificate::X509Certificate::from_der(chain.first()?).ok()?;
    match cert
        .public_key()
        .algorithm
        .algorithm
        .to_id_string()
        .as_str()
    {
        "1.2.840.113549.1.1.1" => Some(KeyKind::Rsa),
        "1.2.840.10045.2.1" => Some(KeyKind::Ecdsa),
        _ => None,
    }
}

/// The pure judgements above, on flights recorded from the lab (tests/data/evidence).
#[cfg(test)]
mod tests {
    use super::*;
    use crate::doctor::fixture::EvidenceFixture;
    use crate::scan::ServerScan;
    use crate::wire::{Alert, AlertDescription};

    fn scan(endpoint: &str) -> ServerScan {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join(format!("tests/data/evidence/{endpoint}.json"));
        let f = EvidenceFixture::load(&path).unwrap_or_else(|e| panic!("{e}"));
        f.observed
            .scan
            .unwrap_or_else(|e| panic!("{endpoint}: {e}"))
    }

    /// What the server answered the version probe of `v`.
    fn answer(endpoint: &str, v: ProtocolVersion) -> ProbeOutcome {
        scan(endpoint).protocols.get(v).unwrap().raw.clone()
    }

    fn base(endpoint: &str) -> Option<ServerFlight> {
        scan(endpoint).legacy_flight().map(|(_, f)| f.clone())
    }

    #[test]
    fn base_flight_judgements_are_what_the_live_scan_folded() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/evidence");
        let mut seen = 0;
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_none_or(|e| e != "json") {
                continue;
            }
            let f = EvidenceFixture::load(&path).unwrap();
            let Ok(s) = &f.observed.scan else { continue };
            let base = s.legacy_flight().map(|(_, f)| f);
            let p = &s.properties;
            let what = path.display();
            assert_eq!(
                from_flight(base).secure_renegotiation,
                p.secure_renegotiation,
                "{what}"
            );
            assert_eq!(
                from_flight(base).extended_master_secret,
                p.extended_master_secret,
                "{what}"
            );
            assert_eq!(from_flight(base).session_ticket, p.session_ticket, "{what}");
            assert_eq!(from_flight(base).ocsp_stapling, p.ocsp_stapling, "{what}");
            let cc = from_flight(base).client_certificate;
            assert_eq!(cc.requested, p.client_certificate.requested, "{what}");
            assert_eq!(cc.ca_names_der, p.client_certificate.ca_names_der, "{what}");
            seen += 1;
        }
        assert!(seen >= 19, "only {seen} fixtures with a scan");
    }

    #[test]
    fn renegotiation_stapling_and_certificate_requests() {
        let b = base("no-secure-renegotiation");
        assert_eq!(
            from_flight(b.as_ref()).secure_renegotiation.supported,
            Some(false)
        );
        assert_eq!(
            from_flight(base("healthy").as_ref())
                .secure_renegotiation
                .supported,
            Some(true)
        );
        // TLS 1.3 only: nothing in clear to look at.
        let p = from_flight(base("tls13-only").as_ref()).secure_renegotiation;
        assert_eq!(p.supported, None);
        assert_eq!(
            p.evidence,
            "no TLS 1.2 or older handshake to observe renegotiation_info in"
        );

        let p = from_flight(base("ocsp-revoked").as_ref()).ocsp_stapling;
        assert_eq!(p.supported, Some(true));
        assert!(
            p.evidence.starts_with("CertificateStatus message with a "),
            "{}",
            p.evidence
        );
        assert_eq!(
            from_flight(base("healthy").as_ref())
                .ocsp_stapling
                .supported,
            Some(false)
        );

        let cc = from_flight(base("client-cert-tls12").as_ref()).client_certificate;
        assert!(cc.requested);
        assert_eq!(cc.ca_names_der.len(), 1);
        assert_eq!(
            cc.evidence,
            "CertificateRequest in the server's flight, 1 acceptable CA name(s)"
        );
        assert!(
            !from_flight(base("healthy").as_ref())
                .client_certificate
                .requested
        );
        assert_eq!(
            from_flight(None).client_certificate.evidence,
            "not observable without a TLS 1.2 or older handshake"
        );
    }

    #[test]
    fn compression_and_fallback_answers() {
        let accepted = answer("healthy", ProtocolVersion::Tls12);
        assert_eq!(
            judge_compression(&accepted),
            Property::no("offered DEFLATE and null; server chose method 0")
        );
        let refused = answer("tls13-only", ProtocolVersion::Tls12);
        let p = judge_compression(&refused);
        assert_eq!(p.supported, None);
        assert_eq!(
            p.evidence,
            "hello offering compression was refused: alert protocol_version (70) from server"
        );

        let lower = ProtocolVersion::Tls12;
        assert_eq!(
            judge_fallback(lower, &accepted).evidence,
            "a TLSv1.2 hello with TLS_FALLBACK_SCSV was accepted: downgrade is not detected"
        );
        assert_eq!(judge_fallback(lower, &refused).supported, None);
        let fallback = ProbeOutcome::Alert(Alert::fatal(AlertDescription::InappropriateFallback));
        assert_eq!(judge_fallback(lower, &fallback).supported, Some(true));
    }

    /// The hello shared by compression and the first ALPN offer carries both questions; its
    /// answer, when accepted, is read as each probe alone would read it, and a refusal
    /// answers neither (each is then asked alone).
    #[test]
    fn compression_and_alpn_share_one_hello_only_when_it_is_answered() {
        let alpn = vec!["h2".to_string(), "http/1.1".to_string()];
        let h =
            compression_and_alpn_hello(ProtocolVersion::Tls12, Some("example.com"), alpn.clone());
        assert_eq!(h.compression_methods, [1, 0]);
        assert!(
            h.extensions
                .iter()
                .any(|e| matches!(e, ClientExtension::Alpn(a) if *a == alpn))
        );
        assert_eq!(ClientHello::parse_record(&h.encode_probe()).unwrap(), h);

        let accepted = answer("healthy", ProtocolVersion::Tls12);
        let (compressed, first) = judge_compression_and_alpn(accepted.clone()).unwrap();
        assert_eq!(compressed, judge_compression(&accepted));
        assert_eq!(first.describe(), accepted.describe());
        let refused = answer("tls13-only", ProtocolVersion::Tls12);
        assert!(judge_compression_and_alpn(refused).is_err());
        let no_alpn = ProbeOutcome::Alert(Alert::fatal(AlertDescription::NoApplicationProtocol));
        assert!(
            judge_compression_and_alpn(no_alpn).is_err(),
            "an ALPN refusal hides the compression answer"
        );
    }

    /// The key kind a full handshake's chain answers for, from its leaf.
    #[test]
    fn leaf_key_kinds() {
        use crate::cert::fetch::KeyKind;
        let chain = |endpoint: &str| -> Vec<Vec<u8>> {
            base(endpoint)
                .and_then(|f| f.certificates)
                .unwrap_or_else(|| panic!("{endpoint}: no chain"))
        };
        assert_eq!(leaf_key_kind(&chain("rsa-1024")), Some(KeyKind::Rsa));
        assert_eq!(leaf_key_kind(&chain("healthy")), Some(KeyKind::Ecdsa));
        let ec = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
        let cert = rcgen::CertificateParams::new(vec!["example.com".to_string()])
            .unwrap()
            .self_signed(&ec)
            .unwrap();
        assert_eq!(leaf_key_kind(&[cert.der().to_vec()]), Some(KeyKind::Ecdsa));
        let ed = rcgen::KeyPair::generate_for(&rcgen::PKCS_ED25519).unwrap();
        let cert = rcgen::CertificateParams::new(vec!["example.com".to_string()])
            .unwrap()
            .self_signed(&ed)
            .unwrap();
        assert_eq!(leaf_key_kind(&[cert.der().to_vec()]), None);
        assert_eq!(leaf_key_kind(&[]), None);
        assert_eq!(leaf_key_kind(&[vec![0x30, 0x03, 0x02, 0x01, 0x00]]), None);
    }

    #[test]
    fn answers_without_sni() {
        let healthy = base("healthy");
        let same = ProbeOutcome::Accepted(Box::new(healthy.clone().unwrap()));
        assert_eq!(
            judge_without_sni(&same, healthy.as_ref()),
            NoSniBehaviour::SameCertificate
        );
        // Another server's certificate: a default virtual host.
        let other = answer("wrong-host", ProtocolVersion::Tls12);
        let leaf = other.flight().unwrap().certificates.as_ref().unwrap()[0].clone();
        assert_eq!(
            judge_without_sni(&other, healthy.as_ref()),
            NoSniBehaviour::DifferentCertificate {
                leaf_sha256: sha256_hex(&leaf)
            }
        );
        // TLS 1.3 encrypts the certificate.
        let tls13 = answer("healthy", ProtocolVersion::Tls13);
        assert_eq!(
            judge_without_sni(&tls13, healthy.as_ref()),
            NoSniBehaviour::Answers
        );
        let refused = answer("healthy", ProtocolVersion::Tls10);
        assert_eq!(
            judge_without_sni(&refused, healthy.as_ref()),
            NoSniBehaviour::Alert {
                alert: "protocol_version".into()
            }
        );
        let closed = answer("dh-1024", ProtocolVersion::Ssl2);
        assert_eq!(
            judge_without_sni(&closed, healthy.as_ref()),
            NoSniBehaviour::Closed
        );
    }
}
