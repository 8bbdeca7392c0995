//! Client profiles: one TOML file per client under data/clients/, compiled in.

use super::keys::ErrorStyle;
use super::security_level::{SecurityLevel, SecurityLimits};
use crate::wire::ProtocolVersion;
use serde::{Deserialize, Serialize};
use std::sync::OnceLock;

/// Where a client looks for trusted roots.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum TrustStoreKind {
    /// The operating system's store as OpenSSL reads it (SSL_CERT_FILE/SSL_CERT_DIR honoured).
    System,
    /// Mozilla's root set (bundled in the client, or certifi).
    Mozilla,
}

/// What the client does with OCSP.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum OcspBehaviour {
    /// Ignores stapled responses and never asks a responder.
    Ignore,
    /// Checks a stapled response when present and fails on a bad one; asks the responder
    /// when none is stapled, failing soft when unreachable (PyMongo with `pymongo[ocsp]`).
    StapleThenResponder,
    /// Requires a valid staple when the certificate demands one (must-staple), and refuses a
    /// stapled response with any problem.
    HonourMustStaple,
    /// gnutls-cli: refuses a stapled response that is invalid, revoked or past its nextUpdate,
    /// and a must-staple certificate without one; accepts `unknown` and a thisUpdate in the
    /// future; never asks the responder (measured, tests/integration/cert/revoked.rs).
    CheckStaple,
}

/// The checks a client applies to the server's answer.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct ClientPolicy {
    pub min_version: String,
    pub max_version: String,
    /// Refuses servers without RFC 5746 renegotiation_info (OpenSSL 3 default).
    pub requires_secure_renegotiation: bool,
    /// Smallest keys and the signatures accepted (an OpenSSL client's come from its
    /// security level, data/openssl-security-levels.toml).
    #[serde(flatten)]
    pub limits: SecurityLimits,
    /// Whether a failed verification stops the connection (s_client only reports it).
    pub verifies_certificate: bool,
    pub verifies_hostname: bool,
    pub trust_store: TrustStoreKind,
    pub ocsp: OcspBehaviour,
    /// The largest Certificate handshake message (its body, in bytes) the client reads;
    /// None where it was not measured.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_certificate_message: Option<usize>,
    /// The client can only use a DHE prime whose size in bits is a multiple of this (Java:
    /// 64); None: any size.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dh_prime_bits_multiple_of: Option<u32>,
    /// The client presents its certificate only when its issuer is one of the CAs the
    /// server's CertificateRequest lists, and otherwise sends none (Java's key manager).
    #[serde(default)]
    pub client_cert_only_for_listed_ca: bool,
    /// The client applies the OpenSSL configuration named by OPENSSL_CONF (its
    /// system_default section); false where it was measured not to, or not measured.
    #[serde(default)]
    pub reads_openssl_conf: bool,
}

impl ClientPolicy {
    pub fn min(&self) -> ProtocolVersion {
        ProtocolVersion::parse_name(&self.min_version).unwrap_or(ProtocolVersion::Tls10)
    }
    pub fn max(&self) -> ProtocolVersion {
        ProtocolVersion::parse_name(&self.max_version).unwrap_or(ProtocolVersion::Tls13)
    }
    /// Replace the key and signature limits with those of OpenSSL security level `level`.
    pub fn set_security_level(&mut self, level: SecurityLevel) {
        self.limits = level.limits().clone();
    }
}

/// One client: its real ClientHello and its policy.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct ClientProfile {
    /// Stable id used with `--client` (e.g. `python`).
    pub id: String,
    /// Other names users type for it.
    #[serde(default)]
    pub aliases: Vec<String>,
    /// Human name with version.
    pub name: String,
    /// The TLS library and version behind it.
    pub library: String,
    /// How it words its failures (data/client-errors.toml).
    pub style: ErrorStyle,
    /// How and when the hello was captured.
    pub source: String,
    /// The ClientHello record(s) as the client sent them, hex. Its SNI is replaced on replay.
    pub hello: String,
    pub sends_sni: bool,
    /// Still in common use (recorded clients); captured local clients always are.
    #[serde(default = "yes")]
    pub current: bool,
    /// True for clients replayed from recorded data (data/clients-testssl) rather than
    /// captured from a client installed here.
    #[serde(default)]
    pub recorded: bool,
    pub policy: ClientPolicy,
    /// The OpenSSL configuration (OPENSSL_CONF) in force while `check` ran that narrowed
    /// this profile's policy (`doctor::under_openssl_conf`); None for a profile as captured.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub narrowed_by: Option<std::path::PathBuf>,
}

fn yes() -> bool {
    true
}

impl ClientProfile {
    pub fn hello_bytes(&self) -> Vec<u8> {
        hex::decode(self.hello.trim()).unwrap_or_default()
    }

    pub fn matches(&self, name: &str) -> bool {
        let n = name.to_ascii_lowercase();
        self.id == n || self.aliases.iter().any(|a| a.eq_ignore_ascii_case(&n))
    }
}

const PROFILE_FILES: &[(&str, &str)] = &[
    (
        "python.toml",
        include_str!("../../data/clients/python.toml"),
    ),
    (
        "openssl.toml",
        include_str!("../../data/clients/openssl.toml"),
    ),
    ("curl.toml", include_str!("../../data/clients/curl.toml")),
    ("node.toml", include_str!("../../data/clients/node.toml")),
    ("java.toml", include_str!("../../data/clients/java.toml")),
    (
        "gnutls.toml",
        include_str!("../../data/clients/gnutls.toml"),
    ),
    (
        "pymongo.toml",
        include_str!("../../data/clients/pymongo.toml"),
    ),
    (
        "pyopenssl-openssl110.toml",
        include_str!("../../data/clients/pyopenssl-openssl110.toml"),
    ),
];

/// Every built-in profile of a client captured on this machine (what `check` simulates). A
/// file that fails to parse is skipped here and fails a test.
pub fn all_profiles() -> &'static [ClientProfile] {
    static ALL: OnceLock<Vec<ClientProfile>> = OnceLock::new();
    ALL.get_or_init(|| {
        PROFILE_FILES
            .iter()
            .filter_map(|(_, text)| toml::from_str(text).ok())
            .collect()
    })
}

/// Profiles converted from recorded ClientHellos of clients that cannot run here
/// (data/clients-testssl, see its NOTICE.md).
pub fn recorded_profiles() -> &'static [ClientProfile] {
    static ALL: OnceLock<Vec<ClientProfile>> = OnceLock::new();
    ALL.get_or_init(|| {
        super::recorded_files::RECORDED_FILES
            .iter()
            .filter_map(|(_, text)| toml::from_str(text).ok())
            .collect()
    })
}

/// Captured and recorded profiles together.
pub fn every_profile() -> impl Iterator<Item = &'static ClientProfile> {
    all_profiles().iter().chain(recorded_profiles())
}

/// The profile with this id or alias (captured profiles win over recorded ones).
/// The profile of this machine's client that prints `style`'s texts (the first compiled in):
/// where the chain analysis reads a listed style's key-size and digest limits.
pub fn profile_for_style(style: ErrorStyle) -> Option<&'static ClientProfile> {
    all_profiles().iter().find(|p| p.style == style)
}

pub fn find_profile(name: &str) -> Option<&'static ClientProfile> {
    every_profile().find(|p| p.matches(name))
}

/// The profiles `simulate` runs for its `--client` arguments: none given means this machine's
/// clients plus the recorded clients still in use; `all` means every profile; otherwise each
/// name is an id or alias. Unknown names are an error that lists a few known ids.
pub fn select_profiles(names: &[String]) -> Result<Vec<ClientProfile>, String> {
    if names.is_empty() {
        return Ok(every_profile()
            .filter(|p| !p.recorded || p.current)
            .cloned()
            .collect());
    }
    let mut out: Vec<ClientProfile> = Vec::new();
    for name in names {
        let picked: Vec<&ClientProfile> = if name.eq_ignore_ascii_case("all") {
            every_profile().collect()
        } else {
            match find_profile(name) {
                Some(p) => vec![p],
                None => {
                    let known: Vec<&str> = all_profiles().iter().map(|p| p.id.as_str()).collect();
                    return Err(format!(
                        "unknown client '{name}' (this machine's: {}; recorded clients: see data/clients-testssl/, or use 'all')",
                        known.join(", ")
                    ));
                }
            }
        };
        for p in picked {
            if !out.iter().any(|o| o.id == p.id) {
                out.push(p.clone());
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_profile_parses() {
        for (file, text) in PROFILE_FILES {
            let p: Result<ClientProfile, _> = toml::from_str(text);
            let p = p.unwrap_or_else(|e| panic!("{file}: {e}"));
            assert!(!p.hello_bytes().is_empty(), "{file}: hello is not hex");
            assert!(
                crate::wire::ClientHello::parse_record(&p.hello_bytes()).is_ok(),
                "{file}: hello does not parse"
            );
            assert!(p.policy.min() <= p.policy.max(), "{file}: version range");
        }
        assert_eq!(all_profiles().len(), PROFILE_FILES.len());
    }

    #[test]
    fn every_recorded_profile_parses() {
        use super::super::recorded_files::RECORDED_FILES;
        for (file, text) in RECORDED_FILES {
            let p: ClientProfile = toml::from_str(text).unwrap_or_else(|e| panic!("{file}: {e}"));
            let bytes = p.hello_bytes();
            assert!(!bytes.is_empty(), "{file}: hello is not hex");
            // SSLv2-format hellos are replayed as they are; every other one must parse.
            if bytes[0] & 0x80 == 0 {
                crate::wire::ClientHello::parse_record(&bytes)
                    .unwrap_or_else(|e| panic!("{file}: {e}"));
            }
            assert!(p.recorded && p.policy.min() <= p.policy.max(), "{file}");
        }
        assert_eq!(recorded_profiles().len(), RECORDED_FILES.len());
        assert!(RECORDED_FILES.len() >= 177);
        // Ids are unique across captured and recorded profiles.
        let mut ids: Vec<&str> = every_profile().map(|p| p.id.as_str()).collect();
        ids.sort();
        let n = ids.len();
        ids.dedup();
        assert_eq!(ids.len(), n, "duplicate profile ids");
    }
}
