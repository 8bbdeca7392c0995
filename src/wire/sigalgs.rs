//! The IANA signature-scheme registry, loaded from `data/sigalgs.tsv`, and the
//! [`SignatureScheme`] value that carries a scheme on the wire.

use super::codec::u16_registry_value;
use super::groups::{RegistryEntry, parse_registry};
use std::sync::OnceLock;

u16_registry_value!(
    /// A signature scheme (TLS 1.3) or hash/signature pair (TLS 1.2) as sent on the wire.
    /// Names come from `data/sigalgs.tsv`.
    SignatureScheme,
    sigalg_name
);

impl std::fmt::Display for SignatureScheme {
    /// The IANA name, or the id in hex for a scheme the registry does not list.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match sigalg_name(*self) {
            Some(n) => f.write_str(n),
            None => write!(f, "0x{:04x}", self.0),
        }
    }
}

struct Registry {
    entries: Vec<RegistryEntry>,
    pairs: Vec<(SignatureScheme, &'static str)>,
    probe: Vec<SignatureScheme>,
}

fn registry() -> &'static Registry {
    static R: OnceLock<Registry> = OnceLock::new();
    R.get_or_init(|| {
        let entries = parse_registry(include_str!("../../data/sigalgs.tsv"));
        let pairs = entries
            .iter()
            .map(|e| (SignatureScheme(e.id), e.name))
            .collect();
        // Offer modern schemes first: servers that pick the first acceptable one should land
        // on what a current client would get.
        let mut probe: Vec<SignatureScheme> = entries
            .iter()
            .filter(|e| e.probe.is_some())
            .map(|e| SignatureScheme(e.id))
            .collect();
        probe
            .sort_by_key(|&SignatureScheme(id)| (id < 0x0400, std::cmp::Reverse(id >= 0x0800), id));
        Registry {
            entries,
            pairs,
            probe,
        }
    })
}

/// IANA name of a signature scheme, e.g. `rsa_pss_rsae_sha256`.
pub fn sigalg_name(scheme: SignatureScheme) -> Option<&'static str> {
    registry()
        .entries
        .iter()
        .find(|e| e.id == scheme.0)
        .map(|e| e.name)
}

/// Scheme id by name, case-insensitive.
pub fn sigalg_by_name(name: &str) -> Option<SignatureScheme> {
    let n = name.trim();
    registry()
        .entries
        .iter()
        .find(|e| e.name.eq_ignore_ascii_case(n))
        .map(|e| SignatureScheme(e.id))
}

/// Every registered scheme, ordered by id.
pub fn all_sigalgs() -> &'static [(SignatureScheme, &'static str)] {
    &registry().pairs
}

/// Schemes a probing ClientHello offers (TLS 1.3 schemes first, SHA-1/SHA-224 last).
pub fn probe_sigalgs() -> &'static [SignatureScheme] {
    &registry().probe
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::codec::Codec;

    #[test]
    fn registry_file_parses_completely() {
        let text = include_str!("../../data/sigalgs.tsv");
        let data_lines = text
            .lines()
            .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
            .count();
        assert_eq!(
            all_sigalgs().len(),
            data_lines,
            "a line of sigalgs.tsv failed to parse"
        );
        let ids: Vec<u16> = all_sigalgs().iter().map(|p| p.0.0).collect();
        let mut s = ids.clone();
        s.sort();
        s.dedup();
        assert_eq!(ids, s);
    }

    #[test]
    fn lookups_and_probe_order() {
        let s = SignatureScheme;
        assert_eq!(sigalg_name(s(0x0804)), Some("rsa_pss_rsae_sha256"));
        assert_eq!(sigalg_name(s(0x0807)), Some("ed25519"));
        assert_eq!(sigalg_by_name("ECDSA_SECP256R1_SHA256"), Some(s(0x0403)));
        assert_eq!(sigalg_name(s(0xfefe)), None);
        let p = probe_sigalgs();
        assert_eq!(p[0], s(0x0804));
        assert!(p.contains(&s(0x0201)) && p.contains(&s(0x0401)));
        let pos = |id| p.iter().position(|&x| x == s(id)).unwrap();
        assert!(pos(0x0403) < pos(0x0201));
        assert!(!p.contains(&s(0x0101)));
    }

    #[test]
    fn values_round_trip_known_or_not() {
        for v in [0x0804, 0x0101, 0xfefe, 0x0000] {
            let sc = SignatureScheme::from_bytes(&u16::to_be_bytes(v)).unwrap();
            assert_eq!(sc, SignatureScheme(v));
            assert_eq!(sc.to_bytes(), v.to_be_bytes());
        }
        assert_eq!(SignatureScheme(0x0804).to_string(), "rsa_pss_rsae_sha256");
        assert_eq!(SignatureScheme(0xfefe).to_string(), "0xfefe");
        let list = vec![SignatureScheme(0x0804), SignatureScheme(0xfefe)];
        assert_eq!(list.to_bytes(), [0, 4, 8, 4, 0xfe, 0xfe]);
        assert_eq!(
            Vec::<SignatureScheme>::from_bytes(&list.to_bytes()).unwrap(),
            list
        );
    }
}
