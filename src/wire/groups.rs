//! The IANA supported-groups registry, loaded from `data/groups.tsv`, and the [`NamedGroup`]
//! value that carries a group on the wire.

use std::sync::OnceLock;

use super::codec::u16_registry_value;

u16_registry_value!(
    /// A supported group (elliptic curve, finite-field group or hybrid KEM) as sent on the
    /// wire. Names come from `data/groups.tsv`.
    NamedGroup,
    group_name
);

impl NamedGroup {
    pub const X25519: NamedGroup = NamedGroup(0x001d);
    pub const SECP256R1: NamedGroup = NamedGroup(0x0017);
    pub const SECP384R1: NamedGroup = NamedGroup(0x0018);
}

impl std::fmt::Display for NamedGroup {
    /// The IANA name, or the id in hex for a group the registry does not list.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match group_name(*self) {
            Some(n) => f.write_str(n),
            None => write!(f, "0x{:04x}", self.0),
        }
    }
}

/// One row of a `id<TAB>name<TAB>probe[<TAB>wave]` registry file; `probe` (and the optional
/// `wave`) is `no`, `yes`, or a rank (1 = first).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RegistryEntry {
    pub id: u16,
    pub name: &'static str,
    /// Offered by `ClientHello::for_probe`, with its rank (`yes` ranks after every number).
    pub probe: Option<u16>,
    /// Asked alone in the first wave of a far server's TLS 1.3 groups, with its rank (the
    /// optional fourth column; groups.tsv only).
    pub wave: Option<u16>,
}

/// Parse a registry file. Lines starting with `#` and blank lines are skipped. The files are
/// compiled in, so a malformed line is a build-time data bug: the unit tests check both files
/// parse completely, and a bad line here is skipped rather than panicking at runtime.
pub(crate) fn parse_registry(text: &'static str) -> Vec<RegistryEntry> {
    let mut out = Vec::new();
    for line in text.lines() {
        let line = line.trim_end();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let mut cols = line.split('\t');
        let (Some(id), Some(name), Some(probe)) = (cols.next(), cols.next(), cols.next()) else {
            continue;
        };
        let Ok(id) = u16::from_str_radix(id.trim_start_matches("0x"), 16) else {
            continue;
        };
        let rank = |col: &str| match col.trim() {
            "no" => Ok(None),
            "yes" => Ok(Some(u16::MAX)),
            n => n.parse::<u16>().map(Some),
        };
        let Ok(probe) = rank(probe) else { continue };
        let Ok(wave) = cols.next().map_or(Ok(None), rank) else {
            continue;
        };
        out.push(RegistryEntry {
            id,
            name,
            probe,
            wave,
        });
    }
    out
}

struct Registry {
    entries: Vec<RegistryEntry>,
    pairs: Vec<(NamedGroup, &'static str)>,
    probe: Vec<NamedGroup>,
    tls13_likely: Vec<NamedGroup>,
}

fn registry() -> &'static Registry {
    static R: OnceLock<Registry> = OnceLock::new();
    R.get_or_init(|| {
        let entries = parse_registry(include_str!("../../data/groups.tsv"));
        let pairs = entries.iter().map(|e| (NamedGroup(e.id), e.name)).collect();
        let ranked = |rank: fn(&RegistryEntry) -> Option<u16>| {
            let mut r: Vec<(u16, u16)> = entries
                .iter()
                .filter_map(|e| rank(e).map(|r| (r, e.id)))
                .collect();
            r.sort();
            r.into_iter().map(|(_, id)| NamedGroup(id)).collect()
        };
        let probe = ranked(|e| e.probe);
        let tls13_likely = ranked(|e| e.wave);
        Registry {
            entries,
            pairs,
            probe,
            tls13_likely,
        }
    })
}

/// IANA name of a group, e.g. `x25519`; `None` for groups the registry does not list.
pub fn group_name(group: NamedGroup) -> Option<&'static str> {
    registry()
        .entries
        .iter()
        .find(|e| e.id == group.0)
        .map(|e| e.name)
}

/// Group id by name, case-insensitive (`X25519`, `secp256r1`). Also accepts the OpenSSL/NIST
/// aliases `P-256`, `P-384`, `P-521`, `prime256v1`.
pub fn group_by_name(name: &str) -> Option<NamedGroup> {
    let n = name.trim();
    let n = match n.to_ascii_lowercase().as_str() {
        "p-256" | "prime256v1" => "secp256r1".to_string(),
        "p-384" => "secp384r1".to_string(),
        "p-521" => "secp521r1".to_string(),
        _ => n.to_string(),
    };
    registry()
        .entries
        .iter()
        .find(|e| e.name.eq_ignore_ascii_case(&n))
        .map(|e| NamedGroup(e.id))
}

/// Every registered group, ordered by id.
pub fn all_groups() -> &'static [(NamedGroup, &'static str)] {
    &registry().pairs
}

/// Groups a probing ClientHello offers, in preference order (x25519 first, as current
/// clients send them): the ones deployed servers actually pick.
pub fn probe_groups() -> &'static [NamedGroup] {
    &registry().probe
}

/// The groups a TLS 1.3 server of today likely accepts, most likely first (groups.tsv's
/// wave rank): a far server's group scan asks each alone in its first wave.
pub fn tls13_likely_groups() -> &'static [NamedGroup] {
    &registry().tls13_likely
}

/// Is this a finite-field (RFC 7919) group rather than an elliptic curve / KEM?
pub fn is_ffdhe(group: NamedGroup) -> bool {
    (0x0100..=0x01ff).contains(&group.0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::codec::Codec;

    #[test]
    fn registry_file_parses_completely() {
        let text = include_str!("../../data/groups.tsv");
        let data_lines = text
            .lines()
            .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
            .count();
        assert_eq!(
            all_groups().len(),
            data_lines,
            "a line of groups.tsv failed to parse"
        );
        let mut ids: Vec<u16> = all_groups().iter().map(|p| p.0.0).collect();
        let sorted = {
            let mut s = ids.clone();
            s.sort();
            s.dedup();
            s
        };
        assert_eq!(
            ids, sorted,
            "groups.tsv must be sorted by id without duplicates"
        );
        ids.clear();
    }

    #[test]
    fn tls13_likely_groups_lead_with_the_hybrid_and_leave_out_tls12_only_curves() {
        let likely = tls13_likely_groups();
        assert_eq!(likely[0], NamedGroup(0x11ec));
        assert_eq!(likely[1], NamedGroup::X25519);
        assert!(likely.contains(&NamedGroup(0x0100)));
        // secp256k1 and the brainpool curves of RFC 7027: TLS 1.2 only (RFC 8446 4.2.7).
        let tls12_only = [0x0016, 0x001a, 0x001b, 0x001c];
        for legacy in tls12_only {
            assert!(!likely.contains(&NamedGroup(legacy)), "{legacy:#x}");
        }
        // Every probing group but those is in the wave.
        for g in probe_groups() {
            assert!(likely.contains(g) || tls12_only.contains(&g.0), "{g}");
        }
    }

    #[test]
    fn lookups() {
        assert_eq!(group_name(NamedGroup(0x001d)), Some("x25519"));
        assert_eq!(group_name(NamedGroup(0x11ec)), Some("X25519MLKEM768"));
        assert_eq!(group_name(NamedGroup(0x1234)), None);
        assert_eq!(group_by_name("X25519"), Some(NamedGroup::X25519));
        assert_eq!(group_by_name("prime256v1"), Some(NamedGroup::SECP256R1));
        assert_eq!(group_by_name("P-384"), Some(NamedGroup::SECP384R1));
        assert_eq!(group_by_name("nope"), None);
        assert_eq!(
            &probe_groups()[..2],
            &[NamedGroup::X25519, NamedGroup::SECP256R1]
        );
        assert!(probe_groups().contains(&NamedGroup(0x0100)));
        assert!(!probe_groups().contains(&NamedGroup(0x11ec)));
        assert!(is_ffdhe(NamedGroup(0x0101)) && !is_ffdhe(NamedGroup::X25519));
    }

    #[test]
    fn values_round_trip_known_or_not() {
        for v in [0x001d, 0x0100, 0x11ec, 0x1234, 0x0a0a, 0xffff] {
            let g = NamedGroup::from_bytes(&u16::to_be_bytes(v)).unwrap();
            assert_eq!(g, NamedGroup(v));
            assert_eq!(g.to_bytes(), v.to_be_bytes());
        }
        assert_eq!(NamedGroup::X25519.to_string(), "x25519");
        assert_eq!(NamedGroup(0x1234).to_string(), "0x1234");
        assert_eq!(
            format!("{:?}", NamedGroup::X25519),
            "NamedGroup(0x001d x25519)"
        );
        assert_eq!(format!("{:?}", NamedGroup(0x1234)), "NamedGroup(0x1234)");
        let list = vec![NamedGroup::X25519, NamedGroup(0x1234)];
        assert_eq!(list.to_bytes(), [0, 4, 0, 0x1d, 0x12, 0x34]);
        assert_eq!(
            Vec::<NamedGroup>::from_bytes(&list.to_bytes()).unwrap(),
            list
        );
        assert!(Vec::<NamedGroup>::from_bytes(&[0, 3, 0, 0x1d, 0]).is_err());
    }
}
