//! Protocol versions as they appear on the wire.

use super::WireError;
use super::codec::{Codec, ListElement, ListLength, Reader};
use serde::{Deserialize, Serialize};
use std::fmt;

/// A TLS/SSL protocol version. `Unknown` keeps whatever odd value a peer sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ProtocolVersion {
    Ssl2,
    Ssl3,
    Tls10,
    Tls11,
    Tls12,
    Tls13,
    Unknown(u16),
}

impl ProtocolVersion {
    /// Every version we probe, oldest first.
    pub const ALL: [ProtocolVersion; 6] = [
        ProtocolVersion::Ssl2,
        ProtocolVersion::Ssl3,
        ProtocolVersion::Tls10,
        ProtocolVersion::Tls11,
        ProtocolVersion::Tls12,
        ProtocolVersion::Tls13,
    ];

    pub fn from_wire(v: u16) -> Self {
        match v {
            0x0002 => ProtocolVersion::Ssl2,
            0x0300 => ProtocolVersion::Ssl3,
            0x0301 => ProtocolVersion::Tls10,
            0x0302 => ProtocolVersion::Tls11,
            0x0303 => ProtocolVersion::Tls12,
            0x0304 => ProtocolVersion::Tls13,
            other => ProtocolVersion::Unknown(other),
        }
    }

    pub fn to_wire(self) -> u16 {
        match self {
            ProtocolVersion::Ssl2 => 0x0002,
            ProtocolVersion::Ssl3 => 0x0300,
            ProtocolVersion::Tls10 => 0x0301,
            ProtocolVersion::Tls11 => 0x0302,
            ProtocolVersion::Tls12 => 0x0303,
            ProtocolVersion::Tls13 => 0x0304,
            ProtocolVersion::Unknown(v) => v,
        }
    }

    /// Human name, as users and OpenSSL write it.
    pub fn name(self) -> String {
        match self {
            ProtocolVersion::Ssl2 => "SSLv2".into(),
            ProtocolVersion::Ssl3 => "SSLv3".into(),
            ProtocolVersion::Tls10 => "TLSv1.0".into(),
            ProtocolVersion::Tls11 => "TLSv1.1".into(),
            ProtocolVersion::Tls12 => "TLSv1.2".into(),
            ProtocolVersion::Tls13 => "TLSv1.3".into(),
            ProtocolVersion::Unknown(v) => format!("unknown(0x{v:04x})"),
        }
    }

    /// Stable machine key used in JSON output: `ssl2`, `ssl3`, `tls1_0` ... `tls1_3`.
    pub fn key(self) -> String {
        match self {
            ProtocolVersion::Ssl2 => "ssl2".into(),
            ProtocolVersion::Ssl3 => "ssl3".into(),
            ProtocolVersion::Tls10 => "tls1_0".into(),
            ProtocolVersion::Tls11 => "tls1_1".into(),
            ProtocolVersion::Tls12 => "tls1_2".into(),
            ProtocolVersion::Tls13 => "tls1_3".into(),
            ProtocolVersion::Unknown(v) => format!("0x{v:04x}"),
        }
    }

    /// The version whose [`key`](ProtocolVersion::key) is `key`.
    pub fn from_key(key: &str) -> Option<Self> {
        if let Some(code) = key.strip_prefix("0x") {
            return u16::from_str_radix(code, 16)
                .ok()
                .map(ProtocolVersion::from_wire);
        }
        ProtocolVersion::ALL.into_iter().find(|v| v.key() == key)
    }

    /// Parse the names users type: `tls1.2`, `TLSv1.2`, `tls1_2`, `1.2`, `ssl3`, `sslv3`.
    pub fn parse_name(s: &str) -> Option<Self> {
        let t = s.trim().to_ascii_lowercase().replace(['_', ' '], ".");
        let t = t
            .trim_start_matches("tlsv")
            .trim_start_matches("tls")
            .to_string();
        match t.as_str() {
            "1" | "1.0" | "10" => Some(ProtocolVersion::Tls10),
            "1.1" | "11" => Some(ProtocolVersion::Tls11),
            "1.2" | "12" => Some(ProtocolVersion::Tls12),
            "1.3" | "13" => Some(ProtocolVersion::Tls13),
            "sslv2" | "ssl2" | "ssl.2" | "sslv.2" => Some(ProtocolVersion::Ssl2),
            "sslv3" | "ssl3" | "ssl.3" | "sslv.3" => Some(ProtocolVersion::Ssl3),
            _ => None,
        }
    }
}

impl Codec for ProtocolVersion {
    fn encode(&self, out: &mut Vec<u8>) {
        self.to_wire().encode(out);
    }
    fn decode(r: &mut Reader<'_>) -> Result<Self, WireError> {
        Ok(ProtocolVersion::from_wire(r.u16()?))
    }
}

/// Version lists (the client's supported_versions) have a one-byte length.
impl ListElement for ProtocolVersion {
    const LENGTH_PREFIX: ListLength = ListLength::U8;
}

impl fmt::Display for ProtocolVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name())
    }
}

impl Serialize for ProtocolVersion {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.key())
    }
}

/// The inverse of [`ProtocolVersion::key`], so recorded evidence loads back.
impl<'de> Deserialize<'de> for ProtocolVersion {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let key = String::deserialize(d)?;
        ProtocolVersion::from_key(&key)
            .ok_or_else(|| serde::de::Error::custom(format!("unknown protocol version {key:?}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wire_round_trip() {
        for v in ProtocolVersion::ALL {
            assert_eq!(ProtocolVersion::from_wire(v.to_wire()), v);
        }
        assert_eq!(
            ProtocolVersion::from_wire(0x7f1c),
            ProtocolVersion::Unknown(0x7f1c)
        );
        for v in [0x0002, 0x0300, 0x0304, 0x7f1c, 0xfefd, 0xffff] {
            let pv = ProtocolVersion::from_bytes(&u16::to_be_bytes(v)).unwrap();
            assert_eq!(pv.to_bytes(), v.to_be_bytes());
        }
        let list = vec![ProtocolVersion::Tls13, ProtocolVersion::Unknown(0x7f1c)];
        assert_eq!(list.to_bytes(), [4, 3, 4, 0x7f, 0x1c]);
        assert_eq!(
            Vec::<ProtocolVersion>::from_bytes(&[4, 3, 4, 0x7f, 0x1c]).unwrap(),
            list
        );
    }

    #[test]
    fn keys_round_trip() {
        for v in ProtocolVersion::ALL
            .into_iter()
            .chain([ProtocolVersion::Unknown(0x7f1c)])
        {
            assert_eq!(ProtocolVersion::from_key(&v.key()), Some(v));
            let json = serde_json::to_string(&v).unwrap();
            assert_eq!(serde_json::from_str::<ProtocolVersion>(&json).unwrap(), v);
        }
        assert_eq!(ProtocolVersion::from_key("tls9"), None);
    }

    #[test]
    fn parses_user_spellings() {
        assert_eq!(
            ProtocolVersion::parse_name("TLSv1.2"),
            Some(ProtocolVersion::Tls12)
        );
        assert_eq!(
            ProtocolVersion::parse_name("tls1_3"),
            Some(ProtocolVersion::Tls13)
        );
        assert_eq!(
            ProtocolVersion::parse_name("1.0"),
            Some(ProtocolVersion::Tls10)
        );
        assert_eq!(
            ProtocolVersion::parse_name("SSLv3"),
            Some(ProtocolVersion::Ssl3)
        );
        assert_eq!(ProtocolVersion::parse_name("tls9"), None);
    }
}
