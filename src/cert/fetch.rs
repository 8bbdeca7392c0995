//! Get the certificate chain a server actually sends, by completing a TLS 1.2 or 1.3 handshake
//! with rustls and a verifier that records the chain and the stapled OCSP response and accepts
//! anything. We never send application data: the handshake is only a way to see the evidence.
//! The connection is the probe engine's ([`Prober::tls_handshake`]): slot, deadlines, count
//! and prelude as for every probe.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rustls::client::ResolvesClientCert;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, SignatureScheme};
use serde::{Deserialize, Serialize};
use x509_parser::prelude::FromDer;

use crate::probe::{ConnectError, HandshakeError, HandshakeFailure, Prober};
use crate::wire::version::ProtocolVersion;

/// The server asked for a client certificate; these are the CA names it said it accepts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClientCertRequest {
    /// Distinguished names as printed (`CN=..., O=...`); undecodable ones as hex.
    pub ca_names: Vec<String>,
}

/// What one handshake showed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FetchedChain {
    pub version: ProtocolVersion,
    /// IANA name, e.g. `TLS13_AES_256_GCM_SHA384` (rustls spelling).
    pub cipher_suite: String,
    /// DER certificates as sent, leaf first.
    #[serde(with = "crate::serde_hex")]
    pub chain: Vec<Vec<u8>>,
    #[serde(with = "crate::serde_hex")]
    pub ocsp_staple: Option<Vec<u8>>,
    pub client_cert_request: Option<ClientCertRequest>,
    pub alpn: Option<String>,
    /// Set when the server sent its certificates but the handshake failed after that (for
    /// example a server that requires a client certificate); the chain is still valid evidence.
    pub handshake_error: Option<HandshakeFailure>,
}

/// Why a full handshake showed no certificates.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FetchError {
    /// rustls speaks TLS 1.2 and 1.3 only.
    UnsupportedVersion(ProtocolVersion),
    BadServerName(String),
    /// No connection: refused, timed out, or the prelude failed.
    Connect {
        addr: SocketAddr,
        error: ConnectError,
    },
    /// Connected; the handshake failed before the server's certificates arrived.
    Handshake {
        addr: SocketAddr,
        version: ProtocolVersion,
        failure: HandshakeFailure,
    },
    /// The handshake finished, yet the server sent no certificate.
    NoCertificate {
        addr: SocketAddr,
        version: ProtocolVersion,
    },
    /// rustls would not build a configuration for this version.
    Setup {
        addr: SocketAddr,
        version: ProtocolVersion,
        reason: String,
    },
}

impl FetchError {
    /// The alert the server ended the handshake with, if that is how it ended.
    pub fn alert(&self) -> Option<crate::wire::AlertDescription> {
        match self {
            FetchError::Handshake { failure, .. } => failure.alert(),
            _ => None,
        }
    }
}

impl std::fmt::Display for FetchError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let secs = |ms: &u64| *ms as f64 / 1000.0;
        match self {
            FetchError::UnsupportedVersion(v) => write!(
                f,
                "tlsdoctor fetches chains with TLS 1.2 or 1.3 only; {v} chains come from the raw prober"
            ),
            FetchError::BadServerName(n) => write!(f, "invalid server name {n:?} for SNI"),
            FetchError::Connect {
                addr,
                error: ConnectError::Timeout { after_ms },
            } => write!(
                f,
                "TCP connect to {addr} timed out after {:.1}s",
                secs(after_ms)
            ),
            FetchError::Connect { addr, error } => write!(f, "cannot connect to {addr}: {error}"),
            FetchError::Handshake {
                version, failure, ..
            } if failure.alert().is_some() => {
                write!(f, "{failure} during the {version} handshake")
            }
            FetchError::Handshake {
                addr,
                failure: HandshakeFailure::Timeout { after_ms },
                ..
            } => write!(
                f,
                "TLS handshake to {addr} timed out after {:.1}s",
                secs(after_ms)
            ),
            FetchError::Handshake {
                addr,
                version,
                failure,
            } => write!(f, "{version} handshake with {addr} failed: {failure}"),
            FetchError::NoCertificate { addr, version } => write!(
                f,
                "{version} handshake with {addr} failed: the handshake finished without a server certificate"
            ),
            FetchError::Setup {
                addr,
                version,
                reason,
            } => write!(f, "{version} handshake with {addr} failed: {reason}"),
        }
    }
}

impl std::error::Error for FetchError {}

/// Why a full handshake did not finish: after the server's certificates arrived (the chain
/// is still evidence), or before.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IncompleteHandshake {
    AfterCertificates(HandshakeFailure),
    Before(FetchError),
}

impl IncompleteHandshake {
    /// How a handshake attempt ended; `None` when it finished.
    pub fn of(result: Result<FetchedChain, FetchError>) -> Option<IncompleteHandshake> {
        match result {
            Ok(c) => c
                .handshake_error
                .map(IncompleteHandshake::AfterCertificates),
            Err(e) => Some(IncompleteHandshake::Before(e)),
        }
    }
}

impl std::fmt::Display for IncompleteHandshake {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            IncompleteHandshake::AfterCertificates(e) => e.fmt(f),
            IncompleteHandshake::Before(e) => e.fmt(f),
        }
    }
}

#[derive(Debug, Default)]
struct Recorded {
    chain: Vec<Vec<u8>>,
    ocsp: Option<Vec<u8>>,
    ca_names: Option<Vec<String>>,
}

/// A verifier that keeps what the server sent and judges nothing.
#[derive(Debug)]
struct Recorder {
    seen: Arc<Mutex<Recorded>>,
    schemes: Vec<SignatureScheme>,
}

impl ServerCertVerifier for Recorder {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        if let Ok(mut seen) = self.seen.lock() {
            seen.chain = std::iter::once(end_entity)
                .chain(intermediates)
                .map(|c| c.as_ref().to_vec())
                .collect();
            seen.ocsp = (!ocsp_response.is_empty()).then(|| ocsp_response.to_vec());
        }
        Ok(ServerCertVerified::assertion())
    }

    // Accept every handshake signature: a 1024-bit RSA server key would otherwise surface as a
    // misleading BadSignature, and the certificate checks are done by `analyze`.
    fn verify_tls12_signature(
        &self,
        _message: &[u8],
        _cert: &CertificateDer<'_>,
        _dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        Ok(HandshakeSignatureValid::assertion())
    }

    fn verify_tls13_signature(
        &self,
        _message: &[u8],
        _cert: &CertificateDer<'_>,
        _dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        Ok(HandshakeSignatureValid::assertion())
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.schemes.clone()
    }
}

/// Every signature scheme the provider verifies, plus the SHA-1 ones old servers use.
fn verify_schemes(provider: &rustls::crypto::CryptoProvider) -> Vec<SignatureScheme> {
    let mut schemes = provider
        .signature_verification_algorithms
        .supported_schemes();
    for extra in [
        SignatureScheme::RSA_PKCS1_SHA1,
        SignatureScheme::ECDSA_SHA1_Legacy,
    ] {
        if !schemes.contains(&extra) {
            schemes.push(extra);
        }
    }
    schemes
}

/// A verifier that accepts any server, for probes that need a finished handshake only as
/// evidence (resumption, ALPN over TLS 1.3); never for anything that carries user data.
pub fn evidence_only_verifier() -> Arc<dyn ServerCertVerifier> {
    let provider = rustls::crypto::ring::default_provider();
    Arc::new(Recorder {
        seen: Arc::new(Mutex::new(Recorded::default())),
        schemes: verify_schemes(&provider),
    })
}

/// Records the CA names of a CertificateRequest and sends no client certificate.
#[derive(Debug)]
struct ClientCertChoice {
    seen: Arc<Mutex<Recorded>>,
    /// The user's certificate to present, if any (`--cert`/`--key`); else none is sent.
    key: Option<Arc<rustls::sign::CertifiedKey>>,
}

impl ResolvesClientCert for ClientCertChoice {
    fn resolve(
        &self,
        root_hint_subjects: &[&[u8]],
        _sigschemes: &[SignatureScheme],
    ) -> Option<Arc<rustls::sign::CertifiedKey>> {
        let names = root_hint_subjects
            .iter()
            .map(|dn| match x509_parser::x509::X509Name::from_der(dn) {
                Ok((_, n)) => super::name::name_text(&n),
                Err(_) => hex::encode(dn),
            })
            .collect();
        if let Ok(mut seen) = self.seen.lock() {
            seen.ca_names = Some(names);
        }
        self.key.clone()
    }

    fn has_certs(&self) -> bool {
        self.key.is_some()
    }
}

/// Handshake with the prober's server in exactly `version` (TLS 1.2 or 1.3), and return
/// what the server sent. `sni` is sent as server_name unless it is an IP address or `None`.
/// The prober's deadlines bound the connect, each read and the whole handshake.
pub async fn fetch_chain(
    prober: &Prober,
    sni: Option<&str>,
    version: ProtocolVersion,
) -> Result<FetchedChain, FetchError> {
    fetch_chain_with(prober, sni, version, FetchOptions::default()).await
}

/// Load a client certificate chain and its private key (PEM files, each at most
/// [`crate::files::MAX_INPUT_BYTES`]) for presenting. Every error is one line naming the
/// file: unreadable, too large, not PEM, not a certificate, not a key, or a key that does
/// not belong to the certificate.
pub fn load_client_key(
    cert: &std::path::Path,
    key: &std::path::Path,
) -> Result<Arc<rustls::sign::CertifiedKey>, String> {
    use rustls::pki_types::PrivateKeyDer;
    use rustls::pki_types::pem::PemObject;
    let cert_pem = crate::files::read_input(cert)
        .map_err(|e| format!("cannot read client certificate {}: {e}", cert.display()))?;
    let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(&cert_pem)
        .collect::<Result<_, _>>()
        .map_err(|e| format!("{} is not a PEM certificate file: {e}", cert.display()))?;
    if chain.is_empty() {
        return Err(format!(
            "client certificate {} holds no certificate",
            cert.display()
        ));
    }
    for (i, c) in chain.iter().enumerate() {
        if let Err(e) = x509_parser::parse_x509_certificate(c) {
            return Err(format!(
                "client certificate {}: certificate #{} is not a valid X.509 certificate: {e}",
                cert.display(),
                i + 1
            ));
        }
    }
    let key_pem = crate::files::read_input(key)
        .map_err(|e| format!("cannot read a private key from {}: {e}", key.display()))?;
    let der = PrivateKeyDer::from_pem_slice(&key_pem)
        .map_err(|e| format!("cannot read a private key from {}: {e}", key.display()))?;
    let provider = rustls::crypto::ring::default_provider();
    let signing = provider
        .key_provider
        .load_private_key(der)
        .map_err(|e| format!("unusable private key {}: {e}", key.display()))?;
    let certified = rustls::sign::CertifiedKey::new(chain, signing);
    if let Err(rustls::Error::InconsistentKeys(rustls::InconsistentKeys::KeyMismatch)) =
        certified.keys_match()
    {
        return Err(format!(
            "the private key {} does not belong to the certificate {}",
            key.display(),
            cert.display()
        ));
    }
    Ok(Arc::new(certified))
}

/// The key type of a server certificate, for servers that hold one of each.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyKind {
    Rsa,
    Ecdsa,
}

fn scheme_kind(s: SignatureScheme) -> Option<KeyKind> {
    use SignatureScheme as S;
    match s {
        S::RSA_PKCS1_SHA1
        | S::RSA_PKCS1_SHA256
        | S::RSA_PKCS1_SHA384
        | S::RSA_PKCS1_SHA512
        | S::RSA_PSS_SHA256
        | S::RSA_PSS_SHA384
        | S::RSA_PSS_SHA512 => Some(KeyKind::Rsa),
        S::ECDSA_SHA1_Legacy
        | S::ECDSA_NISTP256_SHA256
        | S::ECDSA_NISTP384_SHA384
        | S::ECDSA_NISTP521_SHA512 => Some(KeyKind::Ecdsa),
        _ => None,
    }
}

/// How a full handshake is made beyond version and name.
#[derive(Default, Clone)]
pub struct FetchOptions {
    /// Offer only signature schemes of this key kind, so a server with both an RSA and an
    /// ECDSA certificate shows the one of that kind (the TLS 1.3 way of asking: its
    /// certificate is encrypted, so it cannot be read from a hello probe).
    pub only_key: Option<KeyKind>,
    /// Present this client certificate when asked; a server that rejects it shows in
    /// `handshake_error`.
    pub client: Option<Arc<rustls::sign::CertifiedKey>>,
    /// ALPN protocols to offer, most preferred first.
    pub alpn: Vec<String>,
}

/// A full handshake with the given options; see [`fetch_chain`].
pub async fn fetch_chain_with(
    prober: &Prober,
    sni: Option<&str>,
    version: ProtocolVersion,
    opts: FetchOptions,
) -> Result<FetchedChain, FetchError> {
    let addr = prober.addr();
    let FetchOptions {
        only_key: only,
        client,
        alpn,
    } = opts;
    let versions: &[&'static rustls::SupportedProtocolVersion] = match version {
        ProtocolVersion::Tls12 => &[&rustls::version::TLS12],
        ProtocolVersion::Tls13 => &[&rustls::version::TLS13],
        other => return Err(FetchError::UnsupportedVersion(other)),
    };
    let server_name: ServerName<'static> = match sni {
        Some(name) => ServerName::try_from(name.trim_end_matches('.').to_string())
            .map_err(|_| FetchError::BadServerName(name.to_string()))?,
        None => ServerName::IpAddress(addr.ip().into()),
    };

    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut schemes = verify_schemes(&provider);
    if let Some(kind) = only {
        schemes.retain(|s| scheme_kind(*s) == Some(kind));
    }
    let seen = Arc::new(Mutex::new(Recorded::default()));
    let mut config = rustls::ClientConfig::builder_with_provider(provider)
        .with_protocol_versions(versions)
        .map_err(|e| FetchError::Setup {
            addr,
            version,
            reason: e.to_string(),
        })?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(Recorder {
            seen: seen.clone(),
            schemes,
        }))
        .with_client_cert_resolver(Arc::new(ClientCertChoice {
            seen: seen.clone(),
            key: client,
        }));
    config.alpn_protocols = alpn.into_iter().map(String::into_bytes).collect();

    let result = prober.tls_handshake(Arc::new(config), server_name).await;
    let take = |handshake_error: Option<HandshakeFailure>| -> Option<FetchedChain> {
        let mut s = seen.lock().ok()?;
        if s.chain.is_empty() {
            return None;
        }
        Some(FetchedChain {
            version,
            cipher_suite: String::new(),
            chain: std::mem::take(&mut s.chain),
            ocsp_staple: s.ocsp.take(),
            client_cert_request: s
                .ca_names
                .take()
                .map(|ca_names| ClientCertRequest { ca_names }),
            alpn: None,
            handshake_error,
        })
    };
    let mut session = match result {
        Ok(session) => session,
        Err(HandshakeError::Connect(error)) => return Err(FetchError::Connect { addr, error }),
        // The certificates may have come before the failure: then they are the answer.
        Err(HandshakeError::Failed(failure)) => {
            return match take(Some(failure.clone())) {
                Some(c) => Ok(c),
                None => Err(FetchError::Handshake {
                    addr,
                    version,
                    failure,
                }),
            };
        }
    };
    // A TLS 1.3 server that insists on a client certificate learns that none came only
    // from the client's last flight, so its alert arrives after the client's side of the
    // handshake is done: read briefly to catch it.
    let asked_for_cert = seen.lock().map(|s| s.ca_names.is_some()).unwrap_or(false);
    let mut late_error = None;
    if asked_for_cert {
        use tokio::io::AsyncReadExt;
        let mut buf = [0u8; 64];
        let whole = prober.config().probe_timeout;
        let wait = whole.min(Duration::from_secs(1));
        if let Ok(Err(e)) = tokio::time::timeout(wait, session.stream.read(&mut buf)).await {
            late_error = Some(HandshakeFailure::from_io(&e, whole));
        }
    }
    let (_, conn) = session.stream.get_ref();
    let cipher_suite = conn
        .negotiated_cipher_suite()
        .map(|s| format!("{:?}", s.suite()))
        .unwrap_or_default();
    let negotiated = match conn.protocol_version() {
        Some(rustls::ProtocolVersion::TLSv1_3) => ProtocolVersion::Tls13,
        Some(rustls::ProtocolVersion::TLSv1_2) => ProtocolVersion::Tls12,
        Some(v) => ProtocolVersion::from_wire(u16::from(v)),
        None => version,
    };
    let alpn = conn
        .alpn_protocol()
        .map(|p| String::from_utf8_lossy(p).into_owned());
    let mut out = take(None).ok_or(FetchError::NoCertificate { addr, version })?;
    out.version = negotiated;
    out.cipher_suite = cipher_suite;
    out.alpn = alpn;
    out.handshake_error = late_error;
    Ok(out)
}
