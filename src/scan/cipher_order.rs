//! The order a server that lets OpenSSL rank its suites prefers them in: a prediction the
//! suite enumeration verifies in one wave of probes instead of revealing the order one probe
//! after another ([`super::schedule_order::verify`]).
//!
//! A server with its own order (`ssl_prefer_server_ciphers on`) whose cipher string is one of
//! OpenSSL's keywords (ALL, DEFAULT, HIGH, …, with exclusions) prefers its suites in the order
//! OpenSSL's rules give them, and every such string keeps that relative order: the list in
//! data/openssl-cipher-order.tsv (generated from `openssl ciphers -V`, see its header), with
//! the suites the server cannot use for its key or this version left out, is what it likely
//! prefers. The prediction is only ever a plan for probes: every place in the reported order
//! is proven by an answer of the server.

use super::ciphers::candidates;
use crate::wire::ProtocolVersion;
use crate::wire::suites::{self, CipherSuiteId};
use std::sync::OnceLock;

/// The suites of data/openssl-cipher-order.tsv, in its order.
pub fn openssl_order() -> &'static [CipherSuiteId] {
    static ORDER: OnceLock<Vec<CipherSuiteId>> = OnceLock::new();
    ORDER.get_or_init(|| parse(include_str!("../../data/openssl-cipher-order.tsv")))
}

/// The ids of an order file: one per line, first column, `#` comments.
fn parse(text: &str) -> Vec<CipherSuiteId> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .filter_map(|l| l.split('\t').next())
        .filter_map(|id| u16::from_str_radix(id.strip_prefix("0x")?, 16).ok())
        .map(CipherSuiteId)
        .collect()
}

/// The order in which a server ranking its suites as OpenSSL does would pick them in version
/// `v`, given its first pick from every candidate (`first`): OpenSSL's order, kept to the
/// candidates of `v` and to what a server with the key `first` authenticates with can use
/// (suites authenticated by that key or by none, with RSA, DHE or ECDHE key exchange; no PSK,
/// SRP, static DH or GOST, which need more than a certificate). It may name suites the server
/// lacks (DHE without DH parameters, anonymous suites a string excludes): verification allows
/// for gaps. Empty when `first` is no suite OpenSSL ranks.
pub fn predicted(v: ProtocolVersion, first: CipherSuiteId) -> Vec<CipherSuiteId> {
    let order = openssl_order();
    if !order.contains(&first) {
        return Vec::new();
    }
    let offered = candidates(v);
    let key = match suites::by_id(u32::from(first.0)) {
        Some(s) => s.auth,
        None => return Vec::new(),
    };
    order
        .iter()
        .copied()
        .filter(|id| offered.contains(id))
        .filter(|id| {
            let Some(s) = suites::by_id(u32::from(id.0)) else {
                return false;
            };
            if v == ProtocolVersion::Tls13 {
                return true;
            }
            let auth = s.auth == key || s.auth == "anon";
            let kx = match s.kx {
                "RSA" => s.auth == "RSA",
                "DHE" | "ECDHE" => true,
                _ => false,
            };
            auth && kx
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use ProtocolVersion::*;

    fn id(name: &str) -> CipherSuiteId {
        CipherSuiteId(suites::by_name(name).unwrap().id as u16)
    }

    #[test]
    fn the_order_file_names_registry_suites_once_each() {
        let order = openssl_order();
        assert!(order.len() > 150, "{}", order.len());
        for (i, x) in order.iter().enumerate() {
            assert!(
                suites::by_id(u32::from(x.0)).is_some(),
                "{x:?} not in the registry"
            );
            assert!(!order[..i].contains(x), "{x:?} twice");
        }
        assert_eq!(order[0], id("TLS_AES_256_GCM_SHA384"));
    }

    /// An RSA server: its suites and the anonymous ones, in OpenSSL's order; TLS 1.0 has no
    /// SHA-2 or AEAD suites.
    #[test]
    fn predictions_follow_the_key_and_the_version() {
        let rsa = predicted(Tls12, id("ECDHE-RSA-AES256-GCM-SHA384"));
        assert_eq!(
            rsa[..3],
            [
                id("ECDHE-RSA-AES256-GCM-SHA384"),
                id("DHE-RSA-AES256-GCM-SHA384"),
                id("ECDHE-RSA-CHACHA20-POLY1305"),
            ]
        );
        assert!(rsa.contains(&id("ADH-AES256-GCM-SHA384")));
        assert!(!rsa.contains(&id("ECDHE-ECDSA-AES256-GCM-SHA384")));
        assert!(!rsa.contains(&id("DHE-DSS-AES256-GCM-SHA384")));
        assert!(!rsa.contains(&id("RSA-PSK-AES256-GCM-SHA384")));
        let tls10 = predicted(Tls10, id("ECDHE-RSA-AES256-SHA"));
        assert_eq!(tls10[0], id("ECDHE-RSA-AES256-SHA"));
        assert!(!tls10.contains(&id("AES256-SHA256")));
        assert!(tls10.contains(&id("AES256-SHA")));
        let ec = predicted(Tls12, id("ECDHE-ECDSA-AES256-GCM-SHA384"));
        assert!(ec.iter().all(|x| {
            let s = suites::by_id(u32::from(x.0)).unwrap();
            matches!(s.auth, "ECDSA" | "anon")
        }));
        assert_eq!(
            predicted(Tls13, id("TLS_AES_256_GCM_SHA384"))[..3],
            [
                id("TLS_AES_256_GCM_SHA384"),
                id("TLS_CHACHA20_POLY1305_SHA256"),
                id("TLS_AES_128_GCM_SHA256"),
            ]
        );
        assert!(predicted(Tls12, CipherSuiteId(0xfafa)).is_empty());
    }
}
