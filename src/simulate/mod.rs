//! Client simulation: send a client's real ClientHello ([`exchange`]), then apply that
//! client's policy to the server's real answer ([`judge_reply`]), in the order the client's
//! TLS library checks things, and say whether it connects or which error it prints.

use crate::clients::{
    ClientPolicy, ClientProfile, HandshakeFailure, SecurityLevel, TrustStoreKind,
    certificate_failure_text, failure_text,
};
use crate::finding::FindingId;
use crate::probe::ProbeOutcome;
use crate::scan::ScanContext;
use crate::wire::handshake::ServerKeyExchange;
use crate::wire::{AlertDescription, ClientExtension, ClientHello, ProtocolVersion, suites};
use serde::{Deserialize, Serialize};

pub mod served;

mod limits;
mod refusal;
pub use limits::certificate_message_size;
pub use refusal::{ServerKx, SuitesMismatch};

/// A certificate problem found by chain analysis, with the text each client prints.
#[derive(Debug, Clone, Serialize)]
pub struct CertProblem {
    pub finding_id: FindingId,
    pub title: String,
    /// Only clients that use this kind of trust store are affected (None: all).
    pub only_store: Option<TrustStoreKind>,
    /// Only clients that check the host name fail on this one.
    pub hostname_only: bool,
    /// For a weak-key problem: the smallest RSA/DSA key in the chain sent, in bits.
    pub weakest_rsa_bits: Option<usize>,
    /// The text each client the chain analysis lists prints, by error style, and the cause
    /// (a listed client without a text accepts the certificate despite the problem,
    /// measured, e.g. Node.js and RSA-1024 leaves).
    pub texts: crate::clients::CertTexts,
}

/// Whether the client's own limits let this certificate problem pass (its policy accepts
/// the key size or the SHA-1 signature that OpenSSL 3's default level refuses). Without the
/// key size, the weak keys the chain analysis flags are taken to be those level 1 accepts.
fn policy_accepts(p: &ClientPolicy, c: &CertProblem) -> bool {
    match c.finding_id {
        FindingId::CertWeakKey => match c.weakest_rsa_bits {
            Some(bits) => bits >= p.limits.min_rsa_bits,
            None => p.limits.min_rsa_bits <= SecurityLevel(1).limits().min_rsa_bits,
        },
        FindingId::CertSha1Signature => p.limits.accepts_sha1_certificates,
        _ => false,
    }
}

/// Facts about the server that a ClientHello replay alone cannot show (they need a full
/// handshake): gathered by the doctor and passed in.
#[derive(Debug, Clone, Default)]
pub struct ServerFacts {
    /// Certificate problems, most fundamental first.
    pub cert_problems: Vec<CertProblem>,
    /// The alert the server sends when the client has no certificate, per version, when the
    /// server requires one (measured by completing a handshake without a certificate).
    pub client_cert_alert_tls12: Option<AlertDescription>,
    pub client_cert_alert_tls13: Option<AlertDescription>,
    /// The OCSP check (staples per version, must-staple, responder), for clients that
    /// check revocation.
    pub ocsp: Option<crate::ocsp::OcspReport>,
    /// DER sizes of the certificates the server presents, in its order: the size of its
    /// Certificate message in a version whose flight is encrypted (TLS 1.3).
    pub certificate_der_lens: Vec<usize>,
    /// The key type of the presented chain's leaf ("RSA" or "ECDSA").
    pub presented_key_type: String,
    /// The other chains the server serves (one per other key type), with their problems;
    /// a client served one of them is judged by its problems instead of `cert_problems`.
    pub other_chains: Vec<served::ServedChain>,
    /// The groups and suites the scan found, to name the cause of a handshake_failure.
    pub server_kx: Option<ServerKx>,
    /// With `--cert`: the alert the server rejected that certificate with, per version.
    pub client_cert_rejected_tls12: Option<AlertDescription>,
    pub client_cert_rejected_tls13: Option<AlertDescription>,
    /// With `--cert`: whether its issuer is among the CAs the server lists.
    pub client_cert_issuer_listed: Option<bool>,
    /// With `--cert`: the server requires a certificate in TLS ≤ 1.2, but its suites there
    /// are ones rustls cannot negotiate, so the user's certificate was not presented: whether
    /// the server accepts it is not known (`doctor::handshake::mtls`).
    pub client_cert_untested_tls12: bool,
    /// The server's TLS ≤ 1.2 suites need a certificate it does not serve.
    pub suites_need_other_certificate: Option<SuitesMismatch>,
}

/// Why a simulated client fails.
#[derive(Debug, Clone, Serialize)]
pub struct SimFailure {
    /// Failure key in data/client-errors.toml (e.g. `dh_key_too_small`), or the kind of
    /// connection failure when the server was not reached.
    pub key: String,
    /// The text this client prints.
    pub error: String,
    /// Plain words.
    pub reason: String,
    /// The doctor finding that explains it, when one does.
    pub finding: Option<FindingId>,
}

/// One client's predicted result against one server.
#[derive(Debug, Clone, Serialize)]
pub struct Simulation {
    pub client: String,
    pub client_name: String,
    pub connects: bool,
    pub version: Option<ProtocolVersion>,
    pub cipher_suite: Option<String>,
    pub group: Option<String>,
    pub failure: Option<SimFailure>,
}

impl Simulation {
    /// What a connecting client negotiated: version, suite and group, those that are known,
    /// joined by `sep`.
    pub fn negotiated(&self, sep: &str) -> String {
        [
            self.version.map(|v| v.name()),
            self.cipher_suite.clone(),
            self.group.clone(),
        ]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(sep)
    }
}

/// The client's hello with SNI set for this server (or removed), as bytes on the wire.
pub fn replay_hello(profile: &ClientProfile, sni: Option<&str>) -> Option<Vec<u8>> {
    let bytes = profile.hello_bytes();
    let record_version = u16::from_be_bytes([*bytes.get(1)?, *bytes.get(2)?]);
    let mut hello = ClientHello::parse_record(&bytes).ok()?;
    let pos = hello
        .extensions
        .iter()
        .position(|e| matches!(e, ClientExtension::ServerName(_)));
    match (pos, sni.filter(|_| profile.sends_sni)) {
        (Some(i), Some(name)) => {
            hello.extensions[i] = ClientExtension::ServerName(name.to_string())
        }
        (Some(i), None) => {
            hello.extensions.remove(i);
        }
        (None, Some(name)) => hello
            .extensions
            .insert(0, ClientExtension::ServerName(name.to_string())),
        (None, None) => {}
    }
    Some(hello.encode_records(record_version))
}

/// What the server answered one client's replayed hello: the measurement a simulation is
/// judged from ([`judge_reply`]), kept so it can be judged again offline.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ClientReply {
    /// The profile's id.
    pub client: String,
    /// The server's answer; None when the profile's hello could not be replayed, so nothing
    /// was sent.
    pub answer: Option<ProbeOutcome>,
}

/// The bytes a simulation of `profile` sends: SSLv2-format hellos (IE 6, Java 6) carry no
/// extensions, hence no SNI, and go as they are; others are replayed with this server's SNI.
fn hello_to_send(profile: &ClientProfile, sni: Option<&str>) -> Option<Vec<u8>> {
    let raw = profile.hello_bytes();
    if raw.first().is_some_and(|b| b & 0x80 != 0) {
        Some(raw)
    } else {
        replay_hello(profile, sni)
    }
}

/// Send `profile`'s hello to the server behind `ctx` and keep its answer.
pub async fn exchange(ctx: &ScanContext, profile: &ClientProfile) -> ClientReply {
    let answer = match hello_to_send(profile, ctx.sni.as_deref()) {
        Some(hello) => Some(ctx.prober.send_hello(&hello).await.outcome),
        None => None,
    };
    ClientReply {
        client: profile.id.clone(),
        answer,
    }
}

/// How clients name the server in their messages: the way they were told to reach it
/// (`host:port`, the SNI name when there is one).
pub fn server_label(sni: Option<&str>, addr: std::net::SocketAddr) -> String {
    let host = sni
        .map(str::to_string)
        .unwrap_or_else(|| addr.ip().to_string());
    format!("{host}:{}", addr.port())
}

/// The simulation's verdict: `profile`'s policy applied to the server's `reply` and to the
/// `facts` of full handshakes. `server` is how the client names the server
/// ([`server_label`]). Pure, so a recorded reply is judged as the live one was.
pub fn judge_reply(
    profile: &ClientProfile,
    facts: &ServerFacts,
    reply: &ClientReply,
    server: &str,
) -> Simulation {
    let mut sim = Simulation {
        client: profile.id.clone(),
        client_name: profile.name.clone(),
        connects: false,
        version: None,
        cipher_suite: None,
        group: None,
        failure: None,
    };
    let Some(outcome) = &reply.answer else {
        // tlsdoctor's own failure, not the client's: no client wording applies.
        sim.failure = Some(SimFailure {
            key: "internal".into(),
            error: "internal".into(),
            reason: "the profile's ClientHello could not be replayed".into(),
            finding: None,
        });
        return sim;
    };
    sim.failure = judge(profile, facts, outcome, &mut sim);
    if let Some(f) = sim.failure.as_mut() {
        f.error = f.error.replace("{address}", server);
    }
    sim.connects = sim.failure.is_none();
    sim
}

/// "TLSv1.2–TLSv1.3" (or one version) from the client's policy.
fn range_words(profile: &ClientProfile) -> String {
    let (lo, hi) = (profile.policy.min(), profile.policy.max());
    if lo == hi {
        lo.name()
    } else {
        format!("{}–{}", lo.name(), hi.name())
    }
}

fn fail(
    profile: &ClientProfile,
    key: HandshakeFailure,
    reason: impl Into<String>,
    finding: Option<FindingId>,
) -> SimFailure {
    SimFailure {
        key: key.key().to_string(),
        error: failure_text(profile.style, key, None),
        reason: reason.into(),
        finding,
    }
}

fn alert_failure(profile: &ClientProfile, a: AlertDescription) -> SimFailure {
    let (key, reason, finding) = match a {
        AlertDescription::ProtocolVersion => (
            HandshakeFailure::ProtocolVersionAlert,
            "the server accepts none of the protocol versions this client offers",
            FindingId::ProtoMismatch,
        ),
        AlertDescription::HandshakeFailure => (
            HandshakeFailure::HandshakeFailureAlert,
            "the server found nothing acceptable in this client's offer (usually no shared cipher suite)",
            FindingId::NoSharedCipher,
        ),
        AlertDescription::UnrecognizedName => (
            HandshakeFailure::UnrecognizedNameAlert,
            "the server does not serve the name this client sent (or requires SNI)",
            FindingId::SniRequired,
        ),
        AlertDescription::InsufficientSecurity => (
            HandshakeFailure::InsufficientSecurityAlert,
            "the server considers this client's offer too weak",
            FindingId::NoSharedCipher,
        ),
        AlertDescription::InternalError => (
            HandshakeFailure::InternalErrorAlert,
            "the server failed internally on this client's hello",
            FindingId::ServerInternalError,
        ),
        AlertDescription::NoApplicationProtocol => (
            HandshakeFailure::NoApplicationProtocolAlert,
            "the server accepts none of the ALPN protocols this client offers",
            FindingId::AlpnRequired,
        ),
        AlertDescription::DecodeError => (
            HandshakeFailure::DecodeErrorAlert,
            "the server could not decode this client's hello",
            FindingId::ServerDecodeError,
        ),
        _ => (
            HandshakeFailure::OtherAlert,
            "the server aborted the handshake with an alert",
            FindingId::ServerAlert,
        ),
    };
    let mut f = fail(profile, key, reason, Some(finding));
    if key == HandshakeFailure::OtherAlert {
        f.error = failure_text(profile.style, key, Some(a.name()));
        f.reason = format!("the server aborted the handshake with alert {}", a.name());
    }
    f
}

/// Apply the client's checks to the server's answer, in the order OpenSSL's client state
/// machine runs them: ServerHello (version, renegotiation_info), Certificate (verification),
/// ServerKeyExchange (DH size, then signature algorithm), then client authentication.
fn judge(
    profile: &ClientProfile,
    facts: &ServerFacts,
    outcome: &ProbeOutcome,
    sim: &mut Simulation,
) -> Option<SimFailure> {
    let p = &profile.policy;
    let flight = match outcome {
        ProbeOutcome::Accepted(f) => f,
        ProbeOutcome::Alert(a) => {
            if a.description == AlertDescription::HandshakeFailure {
                if let Some(f) = refusal::no_shared_group(profile, facts)
                    .or_else(|| refusal::suites_need_other_certificate(profile, facts))
                {
                    return Some(f);
                }
            }
            let mut f = alert_failure(profile, a.description);
            if a.description == AlertDescription::ProtocolVersion {
                f.reason = format!(
                    "this client offers only {}, and the server accepts none of those versions: it answers with a protocol_version alert",
                    range_words(profile)
                );
            }
            return Some(f);
        }
        ProbeOutcome::NotTls { .. } => {
            return Some(fail(
                profile,
                HandshakeFailure::WrongVersionNumber,
                "the port answered with something that is not TLS",
                Some(FindingId::NotTls),
            ));
        }
        // What the client prints depends on how the server hung up, as measured.
        ProbeOutcome::Closed { .. } => {
            return Some(fail(
                profile,
                HandshakeFailure::UnexpectedEof,
                "the server closed the connection instead of answering this client's hello",
                Some(FindingId::ServerClosed),
            ));
        }
        ProbeOutcome::Reset { .. } => {
            return Some(fail(
                profile,
                HandshakeFailure::ConnectionReset,
                "the server reset the connection (TCP RST) instead of answering this client's hello",
                Some(FindingId::ServerClosed),
            ));
        }
        // A real client goes on waiting where the probe gave up (until its own timeout or
        // the server's, whichever ends first), so what it prints is not known: no text.
        ProbeOutcome::Timeout { .. } => {
            let mut f = fail(
                profile,
                HandshakeFailure::UnexpectedEof,
                format!(
                    "{}: the real client goes on waiting, until its own timeout or the server's, so there is no text to quote",
                    outcome.describe()
                ),
                Some(FindingId::ConnectFailed),
            );
            f.key = outcome.kind().to_string();
            f.error = String::new();
            return Some(f);
        }
        other => {
            let mut f = fail(
                profile,
                HandshakeFailure::UnexpectedEof,
                other.describe(),
                Some(FindingId::ConnectFailed),
            );
            f.key = other.kind().to_string();
            f.error = other.describe();
            return Some(f);
        }
    };
    let sh = flight.server_hello.as_ref()?;
    let v = sh.negotiated_version();
    sim.version = Some(v);
    sim.cipher_suite = Some(suites::name_of(sh.cipher_suite));
    sim.group = sh.selected_group().map(|g| {
        crate::wire::groups::group_name(g)
            .map(str::to_string)
            .unwrap_or_else(|| format!("0x{:04x}", g.0))
    });
    if sh.is_hello_retry_request {
        // The client would answer the retry with a key share for the named group; every
        // profile here supports the groups it lists, so the handshake goes on.
    }
    if v < p.min() || v > p.max() {
        return Some(fail(
            profile,
            HandshakeFailure::UnsupportedProtocol,
            format!(
                "the server chose {v}, outside this client's range {}–{}",
                p.min(),
                p.max()
            ),
            Some(FindingId::ProtoMismatch),
        ));
    }
    if v <= ProtocolVersion::Tls12 && !sh.secure_renegotiation() && p.requires_secure_renegotiation
    {
        return Some(fail(
            profile,
            HandshakeFailure::UnsafeLegacyRenegotiation,
            "the server's ServerHello lacks RFC 5746 renegotiation_info, which this client requires",
            Some(FindingId::NoSecureRenegotiation),
        ));
    }
    // The Certificate message's length is checked before any certificate in it is parsed.
    let der_lens: Vec<usize> = match &flight.certificates {
        Some(chain) if v <= ProtocolVersion::Tls12 => chain.iter().map(Vec::len).collect(),
        _ => facts.certificate_der_lens.clone(),
    };
    if !der_lens.is_empty() {
        if let Some(f) = limits::message_too_large(profile, certificate_message_size(v, &der_lens))
        {
            return Some(f);
        }
    }
    if p.verifies_certificate {
        let hit = served::problems_for(facts, profile, flight)
            .iter()
            .find_map(|c| {
                let store_ok = c.only_store.is_none_or(|s| s == p.trust_store);
                let host_ok = p.verifies_hostname || !c.hostname_only;
                if !store_ok || !host_ok || policy_accepts(p, c) {
                    return None;
                }
                let text = certificate_failure_text(profile.style, &c.texts, &c.title)?;
                Some((c, text))
            });
        if let Some((cp, error)) = hit {
            return Some(SimFailure {
                key: HandshakeFailure::CertificateVerifyFailed.key().into(),
                error,
                reason: format!("certificate verification fails: {}", cp.title),
                finding: Some(cp.finding_id),
            });
        }
    }
    if v <= ProtocolVersion::Tls12 {
        match &flight.server_key_exchange {
            Some(ServerKeyExchange::Dhe { p_bits, .. }) if *p_bits < p.limits.min_dh_bits => {
                return Some(fail(
                    profile,
                    HandshakeFailure::DhKeyTooSmall,
                    format!(
                        "the server's DHE prime has {p_bits} bits; this client requires at least {}",
                        p.limits.min_dh_bits
                    ),
                    Some(FindingId::DhTooSmall),
                ));
            }
            Some(ServerKeyExchange::Dhe { p_bits, .. }) => {
                if let Some(f) = limits::dh_prime_unusable(profile, *p_bits) {
                    return Some(f);
                }
            }
            _ => {}
        }
        let signed_kx = matches!(
            flight.server_key_exchange,
            Some(ServerKeyExchange::Dhe { .. }) | Some(ServerKeyExchange::Ecdhe { .. })
        );
        if v < ProtocolVersion::Tls12 && signed_kx && !p.limits.accepts_legacy_sigalgs {
            return Some(fail(
                profile,
                HandshakeFailure::LegacySigalg,
                format!(
                    "this client offers {}, the server picked {v}, and in {v} the server signs its key exchange with MD5+SHA-1, a signature this client refuses at its security level (OpenSSL 3: level 1 and up)",
                    range_words(profile)
                ),
                Some(FindingId::ProtoMismatch),
            ));
        }
    }
    if let Some((finding, reason)) = facts
        .ocsp
        .as_ref()
        .and_then(|o| crate::ocsp::client_rejects(p.ocsp, o, v))
    {
        return Some(SimFailure {
            key: HandshakeFailure::InvalidStatusResponse.key().into(),
            error: crate::clients::ocsp_failure_text(profile.style, finding),
            reason,
            finding: Some(finding),
        });
    }
    let rejected = if v == ProtocolVersion::Tls13 {
        facts.client_cert_rejected_tls13
    } else {
        facts.client_cert_rejected_tls12
    };
    let sends_none =
        p.client_cert_only_for_listed_ca && facts.client_cert_issuer_listed == Some(false);
    if let (Some(a), false) = (rejected, sends_none) {
        return Some(refusal::client_cert_rejected(profile, a, v));
    }
    let untested = v <= ProtocolVersion::Tls12 && facts.client_cert_untested_tls12;
    if untested && !sends_none {
        // The client presents the user's certificate; only its issuer was checked.
        return refusal::client_cert_untested(profile, facts, v);
    }
    let cc_alert = if v == ProtocolVersion::Tls13 {
        facts.client_cert_alert_tls13
    } else {
        facts.client_cert_alert_tls12
    };
    if let Some(a) = cc_alert {
        let mut f = match a {
            AlertDescription::CertificateRequired => fail(
                profile,
                HandshakeFailure::CertificateRequiredAlert,
                "the server requires a client certificate and this client sends none",
                None,
            ),
            other => alert_failure(profile, other),
        };
        f.reason = "the server requires a client certificate and this client sends none".into();
        f.finding = Some(FindingId::ClientCertRequired);
        return Some(f);
    }
    None
}
