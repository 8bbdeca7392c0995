//! Which certificate a client is served when the server has one per key type (an RSA and an
//! ECDSA certificate: nginx with two `ssl_certificate` lines, `openssl s_server -dcert`), so
//! each simulated client is judged against the chain it gets.
//!
//! Up to TLS 1.2 the Certificate message is in the clear: the replayed flight shows the chain.
//! In TLS 1.3 it is encrypted; OpenSSL-based servers (nginx, s_server, HAProxy) take the first
//! signature scheme of the client's list whose key type they hold (the client's preference,
//! unless the server is told to prefer its own), so the client's own list decides.

use super::{CertProblem, ServerFacts};
use crate::clients::ClientProfile;
use crate::wire::{ClientExtension, ClientHello, ServerFlight};

/// The problems of one chain the server serves, by the key type of its leaf.
#[derive(Debug, Clone, Default)]
pub struct ServedChain {
    /// "RSA" or "ECDSA", as the scan's per-key-type handshakes name them.
    pub key_type: String,
    pub leaf_sha256: String,
    pub problems: Vec<CertProblem>,
}

/// The key type a signature scheme signs with, as the scan names them.
pub fn scheme_key_type(scheme: u16) -> Option<&'static str> {
    match scheme {
        0x0201 | 0x0401 | 0x0501 | 0x0601 | 0x0804..=0x0806 | 0x0809..=0x080b => Some("RSA"),
        0x0203 | 0x0403 | 0x0503 | 0x0603 => Some("ECDSA"),
        _ => None,
    }
}

/// The key type a TLS 1.3 server holding `available` picks for `profile`: the first of the
/// client's signature schemes it can sign with.
pub fn tls13_key_type<'a>(profile: &ClientProfile, available: &[&'a str]) -> Option<&'a str> {
    let hello = ClientHello::parse_record(&profile.hello_bytes()).ok()?;
    let schemes = hello.extensions.iter().find_map(|e| match e {
        ClientExtension::SignatureAlgorithms(s) => Some(s.clone()),
        _ => None,
    })?;
    schemes.iter().find_map(|s| {
        let kind = scheme_key_type(s.0)?;
        available.iter().copied().find(|a| *a == kind)
    })
}

/// The other chain this client is served (seen in its TLS ≤1.2 flight, or chosen by its
/// signature schemes in TLS 1.3); None when it gets the presented chain.
pub fn served_chain<'f>(
    facts: &'f ServerFacts,
    profile: &ClientProfile,
    flight: &ServerFlight,
) -> Option<&'f ServedChain> {
    if facts.other_chains.is_empty() {
        return None;
    }
    match flight.certificates.as_ref().and_then(|c| c.first()) {
        Some(leaf) => {
            let sha = crate::scan::properties::sha256_hex(leaf);
            facts.other_chains.iter().find(|c| c.leaf_sha256 == sha)
        }
        None => {
            let mut available: Vec<&str> = facts
                .other_chains
                .iter()
                .map(|c| c.key_type.as_str())
                .collect();
            available.push(facts.presented_key_type.as_str());
            let kind = tls13_key_type(profile, &available);
            facts
                .other_chains
                .iter()
                .find(|c| Some(c.key_type.as_str()) == kind)
        }
    }
}

/// The certificate problems that apply to this client: those of the chain it is served.
pub(super) fn problems_for<'f>(
    facts: &'f ServerFacts,
    profile: &ClientProfile,
    flight: &ServerFlight,
) -> &'f [CertProblem] {
    match served_chain(facts, profile, flight) {
        Some(c) => &c.problems,
        None => &facts.cert_problems,
    }
}
