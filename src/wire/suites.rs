//! The cipher-suite registry: every IANA TLS cipher suite, the few unassigned values seen on the
//! wire, the two signalling values and the seven SSLv2 cipher kinds, with their OpenSSL names
//! and algorithms. How strong a suite is gets judged elsewhere (`scan::strength`), from these
//! facts.
//!
//! The facts live in `data/cipher-suites.tsv` (see its header for provenance); this module only
//! parses that table once, on first use. A malformed row is skipped
//! (and reported by [`registry_errors`]), never a panic: the unit tests assert there are none.

use std::collections::HashMap;
use std::sync::OnceLock;

use serde::ser::SerializeStruct;
use serde::{Serialize, Serializer};

use super::codec::u16_registry_value;
use super::version::ProtocolVersion;

u16_registry_value!(
    /// A TLS cipher suite id as sent on the wire (SSL 3.0 to TLS 1.3, signalling values and
    /// GREASE included). What it stands for is in the registry: [`CipherSuiteId::info`].
    CipherSuiteId,
    display_name_of
);

impl CipherSuiteId {
    /// The registry entry, `None` for ids it does not list (unassigned, GREASE).
    pub fn info(self) -> Option<&'static CipherSuite> {
        by_id(u32::from(self.0))
    }
}

impl std::fmt::Display for CipherSuiteId {
    /// As [`name_of`]: the display name, or the id in hex marked GREASE or unassigned.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&name_of(*self))
    }
}

fn display_name_of(id: CipherSuiteId) -> Option<&'static str> {
    id.info().map(CipherSuite::display_name)
}

/// `TLS_EMPTY_RENEGOTIATION_INFO_SCSV` (RFC 5746): "I support secure renegotiation".
pub const TLS_EMPTY_RENEGOTIATION_INFO_SCSV: CipherSuiteId = CipherSuiteId(0x00ff);
/// `TLS_FALLBACK_SCSV` (RFC 7507): "this is a downgraded retry".
pub const TLS_FALLBACK_SCSV: CipherSuiteId = CipherSuiteId(0x5600);

const DATA: &str = include_str!("../../data/cipher-suites.tsv");

const HEADER: [&str; 11] = [
    "id", "iana", "openssl", "protocol", "kx", "auth", "enc", "bits", "mac", "export", "aliases",
];
const KX_VALUES: &[&str] = &[
    "RSA",
    "DHE",
    "ECDHE",
    "DH",
    "ECDH",
    "PSK",
    "DHE_PSK",
    "RSA_PSK",
    "ECDHE_PSK",
    "SRP",
    "KRB5",
    "NULL",
    "GOST",
    "ECCPWD",
    "FORTEZZA",
    "any",
    "-",
];
const AUTH_VALUES: &[&str] = &[
    "RSA", "DSS", "ECDSA", "anon", "PSK", "SRP", "KRB5", "GOST", "ECCPWD", "FORTEZZA", "NULL",
    "any", "-",
];
const MAC_VALUES: &[&str] = &[
    "SHA",
    "SHA256",
    "SHA384",
    "MD5",
    "AEAD",
    "NULL",
    "IMIT",
    "OMAC",
    "GOSTR3411",
    "-",
];

/// Which protocol family a registry entry belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum SuiteProtocol {
    /// An SSL 2.0 cipher kind (3-byte id).
    Sslv2,
    /// An SSL 3.0 .. TLS 1.2 cipher suite.
    Tls,
    /// A TLS 1.3 cipher suite (symmetric part only).
    Tls13,
    /// A signalling cipher suite value, never negotiated.
    Scsv,
}

/// One registry entry. All strings borrow from the compiled-in table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CipherSuite {
    /// 2-byte TLS id widened to u32, or the 3-byte SSLv2 cipher kind.
    pub id: u32,
    /// IANA name (for non-IANA values: the name in the document that defined them).
    pub iana: &'static str,
    /// OpenSSL's name, if OpenSSL ever had one.
    pub openssl: Option<&'static str>,
    pub protocol: SuiteProtocol,
    /// Key exchange: RSA, DHE, ECDHE, DH, ECDH, PSK, DHE_PSK, RSA_PSK, ECDHE_PSK, SRP, KRB5,
    /// NULL, GOST, ECCPWD, FORTEZZA, `any` (TLS 1.3), `-` (signalling values).
    pub kx: &'static str,
    /// Authentication: RSA, DSS, ECDSA, anon, PSK, SRP, KRB5, GOST, ECCPWD, FORTEZZA, NULL, any, -.
    pub auth: &'static str,
    /// Bulk cipher as spelled in the IANA name: AES_128_GCM, 3DES_EDE_CBC, RC4_40, NULL, ...
    pub enc: &'static str,
    /// Effective symmetric key bits (3DES 112, DES 56, export 40/56, NULL 0).
    pub bits: u16,
    /// SHA, SHA256, SHA384, MD5, AEAD, NULL, or a GOST MAC (IMIT, OMAC, GOSTR3411).
    pub mac: &'static str,
    /// Export-grade (deliberately weakened to 40 or 56 bits).
    pub export: bool,
    aliases: &'static str,
}

impl CipherSuite {
    /// The key exchange is ephemeral, so a later leak of the server key does not expose past
    /// sessions. TLS 1.3 suites count as forward secret (its (EC)DHE key exchange is separate
    /// from the suite).
    pub fn forward_secret(&self) -> bool {
        matches!(
            self.kx,
            "DHE" | "ECDHE" | "DHE_PSK" | "ECDHE_PSK" | "SRP" | "ECCPWD" | "any"
        )
    }

    /// Authenticated encryption (GCM, CCM, ChaCha20-Poly1305, MGM, AEGIS).
    pub fn aead(&self) -> bool {
        self.mac == "AEAD"
    }

    /// Nobody is authenticated: `DH_anon`, `ECDH_anon`, `TLS_NULL_WITH_NULL_NULL`.
    pub fn is_anonymous(&self) -> bool {
        matches!(self.auth, "anon" | "NULL")
    }

    /// The name users know best: OpenSSL's if there is one, else the IANA name.
    pub fn display_name(&self) -> &'static str {
        self.openssl.unwrap_or(self.iana)
    }

    /// Other OpenSSL spellings (and earlier draft names) this suite has been known by.
    pub fn aliases(&self) -> impl Iterator<Item = &'static str> + use<> {
        self.aliases.split(',').filter(|a| !a.is_empty())
    }

    /// The lowest and highest protocol version in which this suite may be negotiated.
    ///
    /// - SSLv2 kinds: SSLv2 only; TLS 1.3 suites: TLS 1.3 only; signalling values: SSLv3..TLS1.2.
    /// - AEAD suites and SHA-256/384 suites need TLS 1.2 (RFC 5246), except PSK-family suites
    ///   with a SHA-2 HMAC, which RFC 5487 / 5489 / 6367 also define for TLS 1.0.
    /// - ECC (RFC 4492/8422), GOST and PSK SHA-2 suites start at TLS 1.0; the rest at SSLv3
    ///   (PSK, SRP and KRB5 included: OpenSSL offers them in SSLv3 too).
    /// - FORTEZZA and the Netscape FIPS suites exist only in SSLv3; RFC 9189 GOST only in TLS 1.2.
    /// - EXPORT suites end at TLS 1.0 (RFC 4346 forbids them from TLS 1.1 on); DES and IDEA end
    ///   at TLS 1.1 (RFC 5469: not to be negotiated in TLS 1.2); everything else at TLS 1.2.
    pub fn versions(&self) -> (ProtocolVersion, ProtocolVersion) {
        use ProtocolVersion::*;
        match self.protocol {
            SuiteProtocol::Sslv2 => (Ssl2, Ssl2),
            SuiteProtocol::Tls13 => (Tls13, Tls13),
            SuiteProtocol::Scsv => (Ssl3, Tls12),
            SuiteProtocol::Tls => {
                if self.kx == "FORTEZZA" || self.iana.contains("FIPS_WITH") {
                    return (Ssl3, Ssl3);
                }
                if (0xc100..=0xc102).contains(&self.id) {
                    return (Tls12, Tls12);
                }
                let sha2 = matches!(self.mac, "SHA256" | "SHA384");
                let psk_family = matches!(self.kx, "PSK" | "DHE_PSK" | "RSA_PSK" | "ECDHE_PSK");
                let min = if self.aead() || (sha2 && !psk_family) {
                    Tls12
                } else if matches!(self.kx, "ECDH" | "ECDHE" | "ECDHE_PSK" | "GOST")
                    || (psk_family && sha2)
                {
                    Tls10
                } else {
                    Ssl3
                };
                let max = if self.export {
                    Tls10
                } else if self.enc == "DES_CBC" || self.enc == "IDEA_CBC" {
                    Tls11
                } else {
                    Tls12
                };
                (min, max)
            }
        }
    }

    /// The id as text: `0xc02f` for TLS, `0x0700c0` for SSLv2 cipher kinds.
    pub fn id_hex(&self) -> String {
        if self.protocol == SuiteProtocol::Sslv2 {
            format!("0x{:06x}", self.id)
        } else {
            format!("0x{:04x}", self.id)
        }
    }
}

impl Serialize for CipherSuite {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut s = serializer.serialize_struct("CipherSuite", 10)?;
        s.serialize_field("id", &self.id_hex())?;
        s.serialize_field("iana", self.iana)?;
        s.serialize_field("openssl", &self.openssl)?;
        s.serialize_field("protocol", &self.protocol)?;
        s.serialize_field("kx", self.kx)?;
        s.serialize_field("auth", self.auth)?;
        s.serialize_field("enc", self.enc)?;
        s.serialize_field("bits", &self.bits)?;
        s.serialize_field("mac", self.mac)?;
        s.serialize_field("export", &self.export)?;
        s.end()
    }
}

struct Registry {
    suites: Vec<CipherSuite>,
    errors: Vec<String>,
    by_id: HashMap<u32, usize>,
    by_name: HashMap<String, usize>,
}

fn parse_row(line: &'static str) -> Result<CipherSuite, String> {
    let cols: Vec<&'static str> = line.split('\t').collect();
    if cols.len() != HEADER.len() {
        return Err(format!("{} columns, expected {}", cols.len(), HEADER.len()));
    }
    let hex = cols[0]
        .strip_prefix("0x")
        .ok_or_else(|| format!("id {:?} does not start with 0x", cols[0]))?;
    let id = u32::from_str_radix(hex, 16).map_err(|_| format!("id {:?} is not hex", cols[0]))?;
    let protocol = match cols[3] {
        "sslv2" => SuiteProtocol::Sslv2,
        "tls" => SuiteProtocol::Tls,
        "tls13" => SuiteProtocol::Tls13,
        "scsv" => SuiteProtocol::Scsv,
        other => return Err(format!("unknown protocol {other:?}")),
    };
    let want_len = if protocol == SuiteProtocol::Sslv2 {
        6
    } else {
        4
    };
    if hex.len() != want_len {
        return Err(format!(
            "id {:?} must have {want_len} hex digits for protocol {}",
            cols[0], cols[3]
        ));
    }
    let word = |i: usize, allowed: Option<&[&str]>| -> Result<&'static str, String> {
        let v = cols[i];
        if v.is_empty() || v.contains(' ') {
            return Err(format!("{} {:?} is empty or has spaces", HEADER[i], v));
        }
        if allowed.is_some_and(|allowed| !allowed.contains(&v)) {
            return Err(format!("{} {:?} is not a known value", HEADER[i], v));
        }
        Ok(v)
    };
    let iana = word(1, None)?;
    let openssl = match word(2, None)? {
        "-" => None,
        name => Some(name),
    };
    let kx = word(4, Some(KX_VALUES))?;
    let auth = word(5, Some(AUTH_VALUES))?;
    let enc = word(6, None)?;
    let bits: u16 = cols[7]
        .parse()
        .map_err(|_| format!("bits {:?} is not a number", cols[7]))?;
    if bits > 512 {
        return Err(format!("bits {bits} is implausible"));
    }
    let mac = word(8, Some(MAC_VALUES))?;
    let export = match cols[9] {
        "yes" => true,
        "no" => false,
        other => return Err(format!("export {other:?} is not yes/no")),
    };
    let aliases = match word(10, None)? {
        "-" => "",
        list => list,
    };
    if aliases.split(',').any(str::is_empty) && !aliases.is_empty() {
        return Err(format!("aliases {aliases:?} has an empty entry"));
    }
    let is_scsv = protocol == SuiteProtocol::Scsv;
    if is_scsv != (kx == "-") || is_scsv != (auth == "-") || is_scsv != (mac == "-") {
        return Err("only signalling values (and all of them) use '-' for kx/auth/mac".into());
    }
    Ok(CipherSuite {
        id,
        iana,
        openssl,
        protocol,
        kx,
        auth,
        enc,
        bits,
        mac,
        export,
        aliases,
    })
}

fn parse(text: &'static str) -> Registry {
    let mut reg = Registry {
        suites: Vec::new(),
        errors: Vec::new(),
        by_id: HashMap::new(),
        by_name: HashMap::new(),
    };
    let mut seen_header = false;
    for (n, line) in text.lines().enumerate() {
        let line = line.trim_end_matches('\r');
        if line.trim().is_empty() || line.starts_with('#') {
            continue;
        }
        if !seen_header {
            seen_header = true;
            if line.split('\t').ne(HEADER.iter().copied()) {
                reg.errors
                    .push(format!("line {}: header is not {:?}", n + 1, HEADER));
            }
            continue;
        }
        let suite = match parse_row(line) {
            Ok(s) => s,
            Err(e) => {
                reg.errors.push(format!("line {}: {e}", n + 1));
                continue;
            }
        };
        if reg.by_id.contains_key(&suite.id) {
            reg.errors
                .push(format!("line {}: duplicate id {}", n + 1, suite.id_hex()));
            continue;
        }
        let idx = reg.suites.len();
        reg.by_id.insert(suite.id, idx);
        let names = std::iter::once(suite.iana)
            .chain(suite.openssl)
            .chain(suite.aliases());
        for name in names {
            let key = name.to_ascii_uppercase();
            match reg.by_name.get(&key) {
                None => {
                    reg.by_name.insert(key, idx);
                }
                // The same spelling twice in one row (TLS 1.3: IANA name == OpenSSL name).
                Some(&other) if other == idx => {}
                Some(&other) => {
                    let Some(other) = reg.suites.get(other) else {
                        continue;
                    };
                    // OpenSSL gives SSLv2 kinds the names of their TLS twins (RC4-MD5 ...);
                    // there the TLS suite keeps the name. Any other clash is a data error.
                    let sslv2_twin = (suite.protocol == SuiteProtocol::Sslv2)
                        != (other.protocol == SuiteProtocol::Sslv2);
                    if !sslv2_twin {
                        reg.errors.push(format!(
                            "line {}: name {name} already used by {}",
                            n + 1,
                            other.id_hex()
                        ));
                    }
                }
            }
        }
        reg.suites.push(suite);
    }
    if !seen_header {
        reg.errors.push("no header line".into());
    }
    reg
}

fn reg() -> &'static Registry {
    static REG: OnceLock<Registry> = OnceLock::new();
    REG.get_or_init(|| parse(DATA))
}

/// Every entry, in table order (TLS ids ascending, then SSLv2 kinds).
pub fn registry() -> &'static [CipherSuite] {
    &reg().suites
}

/// Rows of the data file that could not be used (always empty in a correct build).
pub fn registry_errors() -> &'static [String] {
    &reg().errors
}

/// Look up a TLS suite by its 2-byte id (widened), or an SSLv2 kind by its 3-byte id.
pub fn by_id(id: u32) -> Option<&'static CipherSuite> {
    let r = reg();
    r.by_id.get(&id).map(|&i| &r.suites[i])
}

/// Look up by IANA name, OpenSSL name or alias, ignoring case. Names OpenSSL shares between an
/// SSLv2 kind and a TLS suite (`RC4-MD5`, `EXP-RC4-MD5`, `EXP-RC2-CBC-MD5`) give the TLS suite.
pub fn by_name(name: &str) -> Option<&'static CipherSuite> {
    let r = reg();
    r.by_name
        .get(&name.trim().to_ascii_uppercase())
        .map(|&i| &r.suites[i])
}

/// SSL 3.0 .. TLS 1.2 suites (no TLS 1.3 suites, signalling values or SSLv2 kinds).
pub fn tls_suites() -> impl Iterator<Item = &'static CipherSuite> {
    registry()
        .iter()
        .filter(|s| s.protocol == SuiteProtocol::Tls)
}

/// TLS 1.3 suites.
pub fn tls13_suites() -> impl Iterator<Item = &'static CipherSuite> {
    registry()
        .iter()
        .filter(|s| s.protocol == SuiteProtocol::Tls13)
}

/// The seven SSLv2 cipher kinds.
pub fn sslv2_kinds() -> impl Iterator<Item = &'static CipherSuite> {
    registry()
        .iter()
        .filter(|s| s.protocol == SuiteProtocol::Sslv2)
}

/// Name for a 2-byte id off the wire: the display name, `0x0a0a (GREASE)` for RFC 8701 values,
/// or `0x1234 (unassigned)`.
pub fn name_of(id: CipherSuiteId) -> String {
    if let Some(s) = id.info() {
        return s.display_name().to_string();
    }
    let [hi, lo] = id.0.to_be_bytes();
    if hi == lo && hi & 0x0f == 0x0a {
        format!("0x{:04x} (GREASE)", id.0)
    } else {
        format!("0x{:04x} (unassigned)", id.0)
    }
}

/// How the ServerKeyExchange of a suite is laid out, for the flight parser.
pub fn kx_hint(id: CipherSuiteId) -> super::handshake::KxHint {
    use super::handshake::KxHint;
    match id.info().map(|s| s.kx) {
        Some("ECDHE") | Some("ECDHE_PSK") => KxHint::Ecdhe,
        Some("DHE") | Some("DHE_PSK") => KxHint::Dhe,
        _ => KxHint::Unknown,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn data_file_has_no_bad_rows() {
        assert!(
            registry_errors().is_empty(),
            "bad rows: {:#?}",
            registry_errors()
        );
    }

    #[test]
    fn row_counts_are_sane() {
        let tls = tls_suites().count();
        let tls13 = tls13_suites().count();
        let all_tls_ids = registry()
            .iter()
            .filter(|s| s.protocol != SuiteProtocol::Sslv2)
            .count();
        assert!(all_tls_ids >= 330, "only {all_tls_ids} TLS ids");
        assert!(
            all_tls_ids < 500,
            "{all_tls_ids} TLS ids is more than exist"
        );
        assert!(tls >= 300, "{tls} TLS 1.0-1.2 suites");
        // 0x1301-0x1307, SM4 x2, integrity-only x2, GOST MGM x4.
        assert_eq!(tls13, 15);
        assert_eq!(sslv2_kinds().count(), 7);
        let scsv: Vec<u32> = registry()
            .iter()
            .filter(|s| s.protocol == SuiteProtocol::Scsv)
            .map(|s| s.id)
            .collect();
        assert_eq!(
            scsv,
            vec![
                u32::from(TLS_EMPTY_RENEGOTIATION_INFO_SCSV.0),
                u32::from(TLS_FALLBACK_SCSV.0)
            ]
        );
    }

    #[test]
    fn every_iana_range_is_complete() {
        // The contiguous assigned blocks of the IANA registry: a missing row shows up here.
        let ranges: [(u32, u32); 10] = [
            (0x0000, 0x001b),
            (0x001e, 0x0046),
            (0x0067, 0x006d),
            (0x0084, 0x00c7),
            (0x1301, 0x1307),
            (0xc001, 0xc0b5),
            (0xc100, 0xc106),
            (0xcca8, 0xccae),
            (0xd001, 0xd003),
            (0xd005, 0xd005),
        ];
        let mut n = 0;
        for (lo, hi) in ranges {
            for id in lo..=hi {
                assert!(by_id(id).is_some(), "IANA id 0x{id:04x} missing");
                n += 1;
            }
        }
        assert_eq!(n, 350);
    }

    #[test]
    fn ids_and_names_are_unique() {
        let mut ids = HashSet::new();
        for s in registry() {
            assert!(ids.insert(s.id), "duplicate id {}", s.id_hex());
        }
        for family in [true, false] {
            let mut names = HashSet::new();
            for s in registry()
                .iter()
                .filter(|s| (s.protocol == SuiteProtocol::Sslv2) == family)
            {
                let own: HashSet<&str> = std::iter::once(s.iana)
                    .chain(s.openssl)
                    .chain(s.aliases())
                    .collect();
                for n in own {
                    assert!(
                        names.insert(n.to_ascii_uppercase()),
                        "duplicate name {n} ({})",
                        s.id_hex()
                    );
                }
            }
        }
    }

    #[test]
    fn lookups() {
        let s = by_id(0xc02f).unwrap();
        assert_eq!(s.iana, "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256");
        assert_eq!(s.openssl, Some("ECDHE-RSA-AES128-GCM-SHA256"));
        assert_eq!(by_name("ecdhe-rsa-aes128-gcm-sha256"), Some(s));
        assert_eq!(by_name(" TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256 "), Some(s));
        // Old EDH spelling and the current DHE one reach the same suite.
        assert_eq!(by_name("EDH-RSA-DES-CBC3-SHA").unwrap().id, 0x0016);
        assert_eq!(by_name("DHE-RSA-DES-CBC3-SHA").unwrap().id, 0x0016);
        // Shared SSLv2/TLS names resolve to TLS; the SSLv2 kind is reachable by id.
        assert_eq!(by_name("RC4-MD5").unwrap().id, 0x0004);
        assert_eq!(by_id(0x010080).unwrap().openssl, Some("RC4-MD5"));
        assert_eq!(by_name("DES-CBC3-MD5").unwrap().id, 0x0700c0);
        assert!(by_name("NO-SUCH-CIPHER").is_none());
        assert!(by_name("").is_none());
        let name = |id| name_of(CipherSuiteId(id));
        assert_eq!(name(0xc030), "ECDHE-RSA-AES256-GCM-SHA384");
        assert_eq!(name(0x1301), "TLS_AES_128_GCM_SHA256");
        assert_eq!(name(0x00c6), "TLS_SM4_GCM_SM3");
        assert_eq!(name(0x5600), "TLS_FALLBACK_SCSV");
        assert_eq!(name(0x1a1a), "0x1a1a (GREASE)");
        assert_eq!(name(0x0a0b), "0x0a0b (unassigned)");
        assert_eq!(name(0xfffe), "0xfffe (unassigned)");
    }

    #[test]
    fn suite_ids_round_trip_known_or_not() {
        use crate::wire::codec::Codec;
        for v in [0xc02f, 0x1301, 0x00ff, 0x5600, 0x1a1a, 0x0a0b, 0xfffe] {
            let id = CipherSuiteId::from_bytes(&u16::to_be_bytes(v)).unwrap();
            assert_eq!(id, CipherSuiteId(v));
            assert_eq!(id.to_bytes(), v.to_be_bytes());
        }
        assert_eq!(CipherSuiteId(0xc02f).info().unwrap().bits, 128);
        assert!(CipherSuiteId(0x1a1a).info().is_none());
        assert_eq!(CipherSuiteId(0x0a0b).to_string(), "0x0a0b (unassigned)");
        assert_eq!(
            format!("{:?}", CipherSuiteId(0x1301)),
            "CipherSuiteId(0x1301 TLS_AES_128_GCM_SHA256)"
        );
        assert_eq!(
            format!("{:?}", CipherSuiteId(0xfffe)),
            "CipherSuiteId(0xfffe)"
        );
        let list = vec![CipherSuiteId(0x1301), CipherSuiteId(0xfffe)];
        assert_eq!(list.to_bytes(), [0, 4, 0x13, 1, 0xff, 0xfe]);
        assert_eq!(
            Vec::<CipherSuiteId>::from_bytes(&list.to_bytes()).unwrap(),
            list
        );
        assert!(Vec::<CipherSuiteId>::from_bytes(&[0, 3, 0x13, 1, 0]).is_err());
    }

    #[test]
    fn versions_follow_the_rfcs() {
        use ProtocolVersion::*;
        let v = |n: &str| by_name(n).unwrap().versions();
        assert_eq!(v("ECDHE-RSA-AES128-GCM-SHA256"), (Tls12, Tls12));
        assert_eq!(v("AES128-SHA256"), (Tls12, Tls12));
        assert_eq!(v("AES128-SHA"), (Ssl3, Tls12));
        assert_eq!(v("ECDHE-RSA-AES128-SHA"), (Tls10, Tls12));
        assert_eq!(v("PSK-AES128-CBC-SHA256"), (Tls10, Tls12));
        assert_eq!(v("EXP-RC4-MD5"), (Ssl3, Tls10));
        assert_eq!(v("DES-CBC-SHA"), (Ssl3, Tls11));
        assert_eq!(v("RC4-SHA"), (Ssl3, Tls12));
        assert_eq!(v("TLS_AES_128_GCM_SHA256"), (Tls13, Tls13));
        assert_eq!(v("FZA-FZA-CBC-SHA"), (Ssl3, Ssl3));
        assert_eq!(v("GOST2012-KUZNYECHIK-KUZNYECHIKOMAC"), (Tls12, Tls12));
        assert_eq!(by_id(0x0700c0).unwrap().versions(), (Ssl2, Ssl2));
        for s in registry() {
            let (lo, hi) = s.versions();
            assert!(lo <= hi, "{}", s.iana);
        }
    }

    #[test]
    fn serializes_with_hex_id() {
        let j = serde_json::to_value(by_id(0xc02f).unwrap()).unwrap();
        assert_eq!(j["id"], "0xc02f");
        assert_eq!(j["openssl"], "ECDHE-RSA-AES128-GCM-SHA256");
        assert_eq!(j["kx"], "ECDHE");
        assert_eq!(j["bits"], 128);
        let j = serde_json::to_value(by_id(0x0003).unwrap()).unwrap();
        assert_eq!(j["export"], true);
        assert_eq!(j["protocol"], "tls");
        let j = serde_json::to_value(by_id(0x0700c0).unwrap()).unwrap();
        assert_eq!(j["id"], "0x0700c0");
        let j = serde_json::to_value(by_id(0x1301).unwrap()).unwrap();
        assert_eq!(j["openssl"], "TLS_AES_128_GCM_SHA256");
    }

    #[test]
    fn malformed_rows_are_reported_not_panicked_on() {
        const H: &str = "id\tiana\topenssl\tprotocol\tkx\tauth\tenc\tbits\tmac\texport\taliases\n";
        let good = "0x002f\tTLS_RSA_WITH_AES_128_CBC_SHA\tAES128-SHA\ttls\tRSA\tRSA\tAES_128_CBC\t128\tSHA\tno\t-";
        let cases: &[(&'static str, &str)] = &[
            ("0x002f\tX\t-\ttls\tRSA\tRSA\tAES\t128\tSHA\tno", "columns"),
            ("002f\tX\t-\ttls\tRSA\tRSA\tAES\t128\tSHA\tno\t-", "0x"),
            ("0xzz\tX\t-\ttls\tRSA\tRSA\tAES\t128\tSHA\tno\t-", "not hex"),
            (
                "0x2f\tX\t-\ttls\tRSA\tRSA\tAES\t128\tSHA\tno\t-",
                "hex digits",
            ),
            ("0x002f\tX\t-\ttls\tRSA\tRSA\tAES\tmany\tSHA\tno\t-", "bits"),
            (
                "0x002f\tX\t-\ttls\tRSA\tRSA\tAES\t128\tSHA\tmaybe\t-",
                "yes/no",
            ),
            ("0x002f\tX\t-\ttls\tRSA\tRSA\tAES\t128\tSHA1\tno\t-", "mac"),
            ("0x002f\tX\t-\ttls\tRSAX\tRSA\tAES\t128\tSHA\tno\t-", "kx"),
            (
                "0x002f\tX\t-\tquic\tRSA\tRSA\tAES\t128\tSHA\tno\t-",
                "protocol",
            ),
            ("0x002f\t\t-\ttls\tRSA\tRSA\tAES\t128\tSHA\tno\t-", "empty"),
            (
                "0x002f\tX\t-\ttls\tRSA\tRSA\tAES\t99999\tSHA\tno\t-",
                "bits",
            ),
            (
                "0x002f\tX\t-\ttls\t-\tRSA\tAES\t128\tSHA\tno\t-",
                "signalling",
            ),
        ];
        for (row, want) in cases {
            let text: &'static str = Box::leak(format!("{H}{good}\n{row}\n").into_boxed_str());
            let r = parse(text);
            assert_eq!(r.suites.len(), 1, "{row}");
            assert_eq!(r.errors.len(), 1, "{row}: {:?}", r.errors);
            assert!(r.errors[0].contains(want), "{row}: {:?}", r.errors);
        }
        let dup: &'static str = Box::leak(format!("{H}{good}\n{good}\n").into_boxed_str());
        assert!(parse(dup).errors[0].contains("duplicate id"));
        let r = parse("no\theader\n");
        assert!(r.errors[0].contains("header"));
        assert!(parse("# only comments\n").errors[0].contains("no header"));
    }
}
