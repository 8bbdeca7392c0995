//! The IANA signature-scheme registry, loaded from `data/sigalgs.tsv`.

use super::groups::{RegistryEntry, parse_registry};
use std::sync::OnceLock;

struct Registry {
    entries: Vec<RegistryEntry>,
    pairs: Vec<(u16, &'static str)>,
    probe: Vec<u16>,
}

fn registry() -> &'static Registry {
    static R: OnceLock<Registry> = OnceLock::new();
    R.get_or_init(|| {
        let entries = parse_registry(include_str!("../../data/sigalgs.tsv"));
        let pairs = entries.iter().map(|e| (e.id, e.name)).collect();
        // Offer modern schemes first: servers that pick the first acceptable one should land
        // on what a current client would get.
        let mut probe: Vec<u16> = entries
            .iter()
            .filter(|e| e.probe.is_some())
            .map(|e| e.id)
            .collect();
        probe.sort_by_key(|&id| (id < 0x0400, std::cmp::Reverse(id >= 0x0800), id));
        Registry {
            entries,
            pairs,
            probe,
        }
    })
}

/// IANA name of a signature scheme, e.g. `rsa_pss_rsae_sha256`.
pub fn sigalg_name(id: u16) -> Option<&'static str> {
    registry()
        .entries
        .iter()
        .find(|e| e.id == id)
        .map(|e| e.name)
}

/// Scheme id by name, case-insensitive.
pub fn sigalg_by_name(name: &str) -> Option<u16> {
    let n = name.trim();
    registry()
        .entries
        .iter()
        .find(|e| e.name.eq_ignore_ascii_case(n))
        .map(|e| e.id)
}

/// Every registered scheme, ordered by id.
pub fn all_sigalgs() -> &'static [(u16, &'static str)] {
    &registry().pairs
}

/// Schemes a probing ClientHello offers (TLS 1.3 schemes first, SHA-1/SHA-224 last).
pub fn probe_sigalgs() -> &'static [u16] {
    &registry().probe
}

#[cfg(test)]
mod tests {
    use super::*;

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
        let ids: Vec<u16> = all_sigalgs().iter().map(|p| p.0).collect();
        let mut s = ids.clone();
        s.sort();
        s.dedup();
        assert_eq!(ids, s);
    }

    #[test]
    fn lookups_and_probe_order() {
        assert_eq!(sigalg_name(0x0804), Some("rsa_pss_rsae_sha256"));
        assert_eq!(sigalg_name(0x0807), Some("ed25519"));
        assert_eq!(sigalg_by_name("ECDSA_SECP256R1_SHA256"), Some(0x0403));
        assert_eq!(sigalg_name(0xfefe), None);
        let p = probe_sigalgs();
        assert_eq!(p[0], 0x0804);
        assert!(p.contains(&0x0201) && p.contains(&0x0401));
        let pos = |id| p.iter().position(|&x| x == id).unwrap();
        assert!(pos(0x0403) < pos(0x0201));
        assert!(!p.contains(&0x0101));
    }
}
