//! Client profiles: one TOML file per client under data/clients/, compiled in.

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
    /// when none is stapled, failing soft when unreachable (PyMongo with pymongo[ocsp]).
    StapleThenResponder,
    /// Requires a valid staple when the certificate demands one (must-staple).
    HonourMustStaple,
}

/// The checks a client applies to the server's answer.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct ClientPolicy {
    pub min_version: String,
    pub max_version: String,
    /// Refuses servers without RFC 5746 renegotiation_info (OpenSSL 3 default).
    pub requires_secure_renegotiation: bool,
    /// Accepts MD5+SHA-1 signatures on TLS 1.0/1.1 key exchange (OpenSSL 3 at level ≥1: no).
    pub accepts_legacy_sigalgs: bool,
    pub min_dh_bits: usize,
    pub min_rsa_bits: usize,
    pub min_ecc_bits: usize,
    pub accepts_sha1_certificates: bool,
    /// Whether a failed verification stops the connection (s_client only reports it).
    pub verifies_certificate: bool,
    pub verifies_hostname: bool,
    pub trust_store: TrustStoreKind,
    pub ocsp: OcspBehaviour,
}

impl ClientPolicy {
    pub fn min(&self) -> ProtocolVersion {
        ProtocolVersion::parse_name(&self.min_version).unwrap_or(ProtocolVersion::Tls10)
    }
    pub fn max(&self) -> ProtocolVersion {
        ProtocolVersion::parse_name(&self.max_version).unwrap_or(ProtocolVersion::Tls13)
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
    /// Error style in data/client-errors.toml.
    pub style: String,
    /// How and when the hello was captured.
    pub source: String,
    /// The ClientHello record(s) as the client sent them, hex. Its SNI is replaced on replay.
    pub hello: String,
    pub sends_sni: bool,
    pub policy: ClientPolicy,
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
    (
        "pymongo.toml",
        include_str!("../../data/clients/pymongo.toml"),
    ),
];

/// Every built-in profile. A file that fails to parse is skipped here and fails a test.
pub fn all_profiles() -> &'static [ClientProfile] {
    static ALL: OnceLock<Vec<ClientProfile>> = OnceLock::new();
    ALL.get_or_init(|| {
        PROFILE_FILES
            .iter()
            .filter_map(|(_, text)| toml::from_str(text).ok())
            .collect()
    })
}

/// The profile with this id or alias.
pub fn find_profile(name: &str) -> Option<&'static ClientProfile> {
    all_profiles().iter().find(|p| p.matches(name))
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
}
