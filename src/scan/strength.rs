//! How strong a cipher suite is: the rating the scan attaches to every suite a server accepts,
//! judged from the registry's facts about it (`wire::suites`, loaded from
//! `data/cipher-suites.tsv`). The codec only knows what a suite is; this module says what that
//! is worth.

use serde::{Deserialize, Deserializer, Serialize};

use crate::wire::suites::{CipherSuite, SuiteProtocol};

/// Overall verdict on a cipher suite.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum StrengthLevel {
    Insecure,
    Weak,
    Secure,
}

/// A verdict plus every reason that pulled it down (empty for secure suites).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Strength {
    pub level: StrengthLevel,
    #[serde(deserialize_with = "known_reasons")]
    pub reasons: Vec<&'static str>,
}

// Reasons, insecure ones first. Kept as constants so callers can match on them.
pub const REASON_NULL: &str = "NULL encryption";
pub const REASON_EXPORT: &str = "EXPORT grade";
pub const REASON_RC4: &str = "RC4";
pub const REASON_SHORT_KEY: &str = "key shorter than 112 bits";
pub const REASON_ANON: &str = "anonymous (no authentication)";
pub const REASON_MD5: &str = "MD5 MAC";
pub const REASON_SSLV2: &str = "SSLv2 cipher kind (SSLv2 is broken)";
pub const REASON_SCSV: &str = "signalling value, not a cipher suite";
pub const REASON_DES: &str = "DES/3DES (64-bit block, Sweet32)";
pub const REASON_64BIT_BLOCK: &str = "64-bit block cipher (Sweet32)";
pub const REASON_NO_FS_STATIC: &str = "no forward secrecy (static RSA/DH key exchange)";
pub const REASON_NO_FS_OTHER: &str = "no forward secrecy (key exchange is not ephemeral)";
pub const REASON_CBC_SHA1: &str = "CBC mode with SHA-1 MAC";
pub const REASON_CBC: &str = "CBC mode (MAC-then-encrypt, not AEAD)";

/// Every reason [`rate`] gives.
const ALL_REASONS: &[&str] = &[
    REASON_NULL,
    REASON_EXPORT,
    REASON_RC4,
    REASON_SHORT_KEY,
    REASON_ANON,
    REASON_MD5,
    REASON_SSLV2,
    REASON_SCSV,
    REASON_DES,
    REASON_64BIT_BLOCK,
    REASON_NO_FS_STATIC,
    REASON_NO_FS_OTHER,
    REASON_CBC_SHA1,
    REASON_CBC,
];

/// A recorded rating's reasons, mapped back onto the constants above.
fn known_reasons<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<&'static str>, D::Error> {
    Vec::<String>::deserialize(d)?
        .iter()
        .map(|text| {
            ALL_REASONS
                .iter()
                .copied()
                .find(|r| r == text)
                .ok_or_else(|| {
                    serde::de::Error::custom(format!("unknown strength reason {text:?}"))
                })
        })
        .collect()
}

const INSECURE_REASONS: &[&str] = &[
    REASON_NULL,
    REASON_EXPORT,
    REASON_RC4,
    REASON_SHORT_KEY,
    REASON_ANON,
    REASON_MD5,
    REASON_SSLV2,
    REASON_SCSV,
];

/// Rate a suite. Insecure: NULL, EXPORT, RC4, keys under 112 bits, anonymous, MD5,
/// SSLv2. Weak: 3DES and other 64-bit blocks, no forward secrecy, CBC. Secure: what is left,
/// i.e. ephemeral key exchange with an AEAD cipher, and TLS 1.3 AEAD suites.
pub fn rate(s: &CipherSuite) -> Strength {
    let mut reasons = Vec::new();
    if s.protocol == SuiteProtocol::Scsv {
        reasons.push(REASON_SCSV);
    } else {
        if s.protocol == SuiteProtocol::Sslv2 {
            reasons.push(REASON_SSLV2);
        }
        if s.enc == "NULL" {
            reasons.push(REASON_NULL);
        }
        if s.export {
            reasons.push(REASON_EXPORT);
        }
        if s.enc.starts_with("RC4") {
            reasons.push(REASON_RC4);
        }
        if s.bits > 0 && s.bits < 112 {
            reasons.push(REASON_SHORT_KEY);
        }
        if s.is_anonymous() {
            reasons.push(REASON_ANON);
        }
        if s.mac == "MD5" {
            reasons.push(REASON_MD5);
        }
        if s.enc.contains("DES") {
            reasons.push(REASON_DES);
        } else if s.enc.starts_with("IDEA") || s.enc.starts_with("RC2") {
            reasons.push(REASON_64BIT_BLOCK);
        }
        if !s.forward_secret() {
            if matches!(s.kx, "RSA" | "DH" | "ECDH") {
                reasons.push(REASON_NO_FS_STATIC);
            } else {
                reasons.push(REASON_NO_FS_OTHER);
            }
        }
        if s.enc.contains("CBC") {
            if s.mac == "SHA" {
                reasons.push(REASON_CBC_SHA1);
            } else {
                reasons.push(REASON_CBC);
            }
        }
    }
    let level = if reasons.iter().any(|r| INSECURE_REASONS.contains(r)) {
        StrengthLevel::Insecure
    } else if reasons.is_empty() {
        StrengthLevel::Secure
    } else {
        StrengthLevel::Weak
    };
    Strength { level, reasons }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::suites::{by_id, by_name, registry};

    fn rated(name: &str) -> Strength {
        rate(by_name(name).unwrap_or_else(|| panic!("{name} not in registry")))
    }

    #[test]
    fn strength_of_known_suites() {
        use StrengthLevel::*;
        let table = [
            ("ECDHE-RSA-AES128-GCM-SHA256", Secure),
            ("ECDHE-ECDSA-CHACHA20-POLY1305", Secure),
            ("DHE-RSA-AES256-GCM-SHA384", Secure),
            ("TLS_AES_128_GCM_SHA256", Secure),
            ("TLS_CHACHA20_POLY1305_SHA256", Secure),
            ("AES128-SHA", Weak),
            ("AES256-GCM-SHA384", Weak),
            ("ECDHE-RSA-AES128-SHA", Weak),
            ("ECDHE-RSA-AES256-SHA384", Weak),
            ("DES-CBC3-SHA", Weak),
            ("RC4-MD5", Insecure),
            ("RC4-SHA", Insecure),
            ("EXP-RC4-MD5", Insecure),
            ("ADH-AES128-SHA", Insecure),
            ("AECDH-AES256-SHA", Insecure),
            ("NULL-SHA", Insecure),
            ("DES-CBC-SHA", Insecure),
            ("TLS_SHA256_SHA256", Insecure),
            ("TLS_NULL_WITH_NULL_NULL", Insecure),
            ("TLS_FALLBACK_SCSV", Insecure),
        ];
        for (name, want) in table {
            let st = rated(name);
            assert_eq!(st.level, want, "{name}: {st:?}");
        }
        let aes = rated("AES128-SHA");
        assert_eq!(aes.reasons, vec![REASON_NO_FS_STATIC, REASON_CBC_SHA1]);
        let tdes = rated("DES-CBC3-SHA");
        assert!(tdes.reasons.contains(&REASON_DES));
        let exp = rated("EXP-RC4-MD5");
        for r in [REASON_EXPORT, REASON_RC4, REASON_SHORT_KEY, REASON_MD5] {
            assert!(exp.reasons.contains(&r), "{r} missing from {exp:?}");
        }
        assert!(
            rate(by_id(0x020080).unwrap())
                .reasons
                .contains(&REASON_SSLV2)
        );
        assert!(rated("TLS_AES_256_GCM_SHA384").reasons.is_empty());
    }

    #[test]
    fn every_entry_is_rated_consistently() {
        for s in registry() {
            let st = rate(s);
            assert_eq!(
                st.level == StrengthLevel::Secure,
                st.reasons.is_empty(),
                "{}",
                s.iana
            );
            if st.level == StrengthLevel::Secure {
                assert!(
                    s.aead() && s.forward_secret() && !s.is_anonymous(),
                    "{}",
                    s.iana
                );
                assert!(s.bits >= 128, "{}", s.iana);
            }
            if s.export || s.enc == "NULL" || s.enc.starts_with("RC4") {
                assert_eq!(st.level, StrengthLevel::Insecure, "{}", s.iana);
            }
        }
    }

    #[test]
    fn every_rating_loads_back() {
        for s in registry() {
            let st = rate(s);
            let json = serde_json::to_string(&st).unwrap();
            assert_eq!(
                serde_json::from_str::<Strength>(&json).unwrap(),
                st,
                "{json}"
            );
        }
        let bad = r#"{"level":"weak","reasons":["feels weak"]}"#;
        assert!(serde_json::from_str::<Strength>(bad).is_err());
    }

    #[test]
    fn serializes_as_level_and_reasons() {
        let j = serde_json::to_value(rated("ECDHE-RSA-AES128-GCM-SHA256")).unwrap();
        assert_eq!(j, serde_json::json!({"level": "secure", "reasons": []}));
        let j = serde_json::to_value(rated("AES128-SHA")).unwrap();
        assert_eq!(j["level"], "weak");
        assert_eq!(j["reasons"][1], REASON_CBC_SHA1);
        assert_eq!(rate(by_id(0x0003).unwrap()).level, StrengthLevel::Insecure);
    }
}
