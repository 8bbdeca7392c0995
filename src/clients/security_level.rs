//! OpenSSL security levels, from data/openssl-security-levels.toml: the key sizes and
//! signatures a client at each level accepts. These limits are part of every client policy
//! ([`super::ClientPolicy::limits`]); code that judges "what OpenSSL 3 accepts" without a
//! profile reads the default level's.

use serde::{Deserialize, Serialize};
use std::sync::OnceLock;

/// The limits a client applies to the server's keys and signatures.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
pub struct SecurityLimits {
    pub min_dh_bits: usize,
    pub min_rsa_bits: usize,
    pub min_ecc_bits: usize,
    pub accepts_sha1_certificates: bool,
    /// Accepts MD5+SHA-1 signatures on TLS 1.0/1.1 key exchange (OpenSSL 3 at level ≥1: no).
    pub accepts_legacy_sigalgs: bool,
}

#[derive(Debug, Deserialize)]
struct Level {
    level: u8,
    #[serde(flatten)]
    limits: SecurityLimits,
}

#[derive(Debug, Deserialize)]
struct Table {
    default_level: u8,
    level: Vec<Level>,
}

fn table() -> &'static Table {
    static TABLE: OnceLock<Table> = OnceLock::new();
    TABLE.get_or_init(|| {
        // Compiled in: a file that does not load is a build bug, caught by the unit test.
        let mut t: Table = toml::from_str(include_str!("../../data/openssl-security-levels.toml"))
            .unwrap_or_else(|e| panic!("data/openssl-security-levels.toml is invalid: {e}"));
        t.level.sort_by_key(|l| l.level);
        t
    })
}

/// An OpenSSL security level (0–5).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct SecurityLevel(pub u8);

impl SecurityLevel {
    /// The level OpenSSL 3 clients run at unless configured otherwise (as built by the
    /// distributions, and as every OpenSSL profile here was captured).
    pub fn openssl3_default() -> SecurityLevel {
        SecurityLevel(table().default_level)
    }

    /// What a client at this level accepts; a level above the highest listed is judged as
    /// that one.
    pub fn limits(self) -> &'static SecurityLimits {
        let levels = &table().level;
        levels
            .iter()
            .rev()
            .find(|l| l.level <= self.0)
            .or(levels.first())
            .map(|l| &l.limits)
            .expect("data/openssl-security-levels.toml lists levels")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_load_and_grow_stricter() {
        let t = table();
        assert_eq!(
            t.level.iter().map(|l| l.level).collect::<Vec<_>>(),
            [0, 1, 2, 3, 4],
            "every level from 0, once"
        );
        for pair in t.level.windows(2) {
            let (a, b) = (&pair[0].limits, &pair[1].limits);
            assert!(a.min_rsa_bits <= b.min_rsa_bits && a.min_dh_bits <= b.min_dh_bits);
            assert!(a.min_ecc_bits <= b.min_ecc_bits);
            assert!(a.accepts_sha1_certificates || !b.accepts_sha1_certificates);
        }
        let d = SecurityLevel::openssl3_default().limits();
        assert_eq!(
            (d.min_rsa_bits, d.min_dh_bits, d.min_ecc_bits),
            (2048, 2048, 224)
        );
        assert_eq!(SecurityLevel(5).limits(), SecurityLevel(4).limits());
        assert!(SecurityLevel(0).limits().accepts_legacy_sigalgs);
        assert!(!SecurityLevel(1).limits().accepts_legacy_sigalgs);
    }
}
