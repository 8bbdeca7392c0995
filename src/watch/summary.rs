//! The recorded handshake in plain terms: what the application offered (its real TLS
//! settings as its ClientHello shows them) and what the server answered.

use crate::cert::describe;
use crate::wire::extension::ClientExtension;
use crate::wire::{ClientHello, ProtocolVersion, ServerFlight, ServerKeyExchange};
use serde::Serialize;

/// The application's ClientHello.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HelloSummary {
    /// Versions offered, highest first as sent (`supported_versions`), or, without that
    /// extension, every version up to `legacy_version` from TLS 1.0.
    pub versions: Vec<String>,
    /// Whether `versions` comes from the supported_versions extension (else from the legacy
    /// version field, which says only the highest).
    pub versions_listed: bool,
    pub sni: Option<String>,
    pub alpn: Vec<String>,
    pub cipher_suites: Vec<String>,
    pub groups: Vec<String>,
    pub key_shares: Vec<String>,
    pub signature_algorithms: Vec<String>,
    /// The hello asks for secure renegotiation (extension or SCSV).
    pub renegotiation_info: bool,
    #[serde(skip)]
    pub(crate) offered: Vec<ProtocolVersion>,
}

fn real(v: ProtocolVersion) -> bool {
    !matches!(v, ProtocolVersion::Unknown(_))
}

impl HelloSummary {
    pub fn of(h: &ClientHello) -> HelloSummary {
        let listed: Option<Vec<ProtocolVersion>> = h.extensions.iter().find_map(|e| match e {
            ClientExtension::SupportedVersions(v) => Some(
                v.iter()
                    .map(|w| ProtocolVersion::from_wire(*w))
                    .filter(|v| real(*v))
                    .collect(),
            ),
            _ => None,
        });
        let versions_listed = listed.is_some();
        let offered = listed.unwrap_or_else(|| {
            let hi = ProtocolVersion::from_wire(h.legacy_version);
            [
                ProtocolVersion::Tls12,
                ProtocolVersion::Tls11,
                ProtocolVersion::Tls10,
                ProtocolVersion::Ssl3,
            ]
            .into_iter()
            .filter(|v| *v <= hi && (*v >= ProtocolVersion::Tls10 || hi == ProtocolVersion::Ssl3))
            .collect()
        });
        let mut s = HelloSummary {
            versions: offered.iter().map(|v| v.name()).collect(),
            versions_listed,
            sni: None,
            alpn: Vec::new(),
            cipher_suites: h
                .cipher_suites
                .iter()
                .map(|c| crate::wire::suites::name_of(*c))
                .collect(),
            groups: Vec::new(),
            key_shares: Vec::new(),
            signature_algorithms: Vec::new(),
            renegotiation_info: h
                .cipher_suites
                .contains(&crate::wire::suites::TLS_EMPTY_RENEGOTIATION_INFO_SCSV),
            offered,
        };
        for e in &h.extensions {
            match e {
                ClientExtension::ServerName(n) => s.sni = Some(n.clone()),
                ClientExtension::Alpn(p) => s.alpn = p.clone(),
                ClientExtension::SupportedGroups(g) => {
                    s.groups = g.iter().map(|g| g.to_string()).collect()
                }
                ClientExtension::KeyShare(k) => {
                    s.key_shares = k.iter().map(|(g, _)| g.to_string()).collect()
                }
                ClientExtension::SignatureAlgorithms(a) => {
                    s.signature_algorithms = a.iter().map(|a| a.to_string()).collect()
                }
                ClientExtension::RenegotiationInfo(_) => s.renegotiation_info = true,
                _ => {}
            }
        }
        s
    }

    /// Lowest and highest version offered.
    pub fn range(&self) -> Option<(ProtocolVersion, ProtocolVersion)> {
        Some((*self.offered.iter().min()?, *self.offered.iter().max()?))
    }

    pub fn offers(&self, v: ProtocolVersion) -> bool {
        self.offered.contains(&v)
    }
}

/// One certificate the server sent in clear (TLS ≤ 1.2).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CertSummary {
    pub subject: String,
    pub issuer: String,
    pub sans: Vec<String>,
    pub not_before: String,
    pub not_after: String,
    pub days_left: i64,
    pub self_issued: bool,
}

impl CertSummary {
    /// `None` when the certificate does not parse.
    pub fn from_der(der: &[u8]) -> Option<CertSummary> {
        let c = describe(der).ok()?;
        Some(CertSummary {
            subject: c.subject,
            issuer: c.issuer,
            sans: c.sans,
            not_before: c.not_before,
            not_after: c.not_after,
            days_left: c.days_left,
            self_issued: c.self_issued,
        })
    }
}

/// What the server answered, as far as it was in clear.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AnswerSummary {
    pub version: Option<String>,
    pub cipher_suite: Option<String>,
    /// Key-share group (TLS 1.3) or ECDHE curve (TLS ≤ 1.2).
    pub group: Option<String>,
    pub alpn: Option<String>,
    /// The group a HelloRetryRequest asked for.
    pub hello_retry_group: Option<String>,
    pub secure_renegotiation: Option<bool>,
    /// DHE modulus size, for DHE suites.
    pub dh_bits: Option<usize>,
    pub certificate_request: bool,
    /// The chain as sent (TLS ≤ 1.2 only: in TLS 1.3 it is encrypted).
    pub certificates: Vec<CertSummary>,
    /// Certificates that could not be parsed.
    pub unparsable_certificates: usize,
    #[serde(skip)]
    pub(crate) negotiated: Option<ProtocolVersion>,
}

impl AnswerSummary {
    pub fn of(f: &ServerFlight, hrr: Option<&crate::wire::ServerHello>) -> AnswerSummary {
        let sh = f.server_hello.as_ref();
        let negotiated = sh.map(|s| s.negotiated_version());
        let mut a = AnswerSummary {
            version: negotiated.map(|v| v.name()),
            cipher_suite: sh.map(|s| crate::wire::suites::name_of(s.cipher_suite)),
            group: sh.and_then(|s| s.selected_group()).map(|g| g.to_string()),
            alpn: sh.and_then(|s| s.alpn()).map(str::to_string),
            hello_retry_group: hrr
                .or(sh.filter(|s| s.is_hello_retry_request))
                .and_then(|s| s.selected_group())
                .map(|g| g.to_string()),
            secure_renegotiation: sh
                .filter(|_| negotiated != Some(ProtocolVersion::Tls13))
                .map(|s| s.secure_renegotiation()),
            dh_bits: None,
            certificate_request: f.certificate_request.is_some(),
            certificates: Vec::new(),
            unparsable_certificates: 0,
            negotiated,
        };
        match &f.server_key_exchange {
            Some(ServerKeyExchange::Ecdhe { curve, .. }) => a.group = Some(curve.to_string()),
            Some(ServerKeyExchange::Dhe { p_bits, .. }) => a.dh_bits = Some(*p_bits),
            _ => {}
        }
        for der in f.certificates.iter().flatten() {
            match CertSummary::from_der(der) {
                Some(c) => a.certificates.push(c),
                None => a.unparsable_certificates += 1,
            }
        }
        a
    }
}
