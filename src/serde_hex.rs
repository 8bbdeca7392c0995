//! Bytes in serialised evidence, written as lowercase hex strings: a DER certificate or a
//! stapled OCSP response is one readable string in a fixture, not an array of numbers.
//!
//! Use as `#[serde(with = "crate::serde_hex")]` on a field holding bytes (`Vec<u8>`,
//! `[u8; 32]`) or a list, option or `(key, bytes)` pair of those.

use serde::de::{DeserializeOwned, Error as _};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A value whose bytes are written as hex.
pub trait HexForm: Sized {
    fn serialize_hex<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error>;
    fn deserialize_hex<'de, D: Deserializer<'de>>(d: D) -> Result<Self, D::Error>;
}

pub fn serialize<T: HexForm, S: Serializer>(v: &T, s: S) -> Result<S::Ok, S::Error> {
    v.serialize_hex(s)
}

pub fn deserialize<'de, T: HexForm, D: Deserializer<'de>>(d: D) -> Result<T, D::Error> {
    T::deserialize_hex(d)
}

struct AsHex<'a, T>(&'a T);

impl<T: HexForm> Serialize for AsHex<'_, T> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.0.serialize_hex(s)
    }
}

struct FromHex<T>(T);

impl<'de, T: HexForm> Deserialize<'de> for FromHex<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        T::deserialize_hex(d).map(FromHex)
    }
}

fn decode<E: serde::de::Error>(text: &str) -> Result<Vec<u8>, E> {
    hex::decode(text).map_err(|e| E::custom(format!("not hex bytes: {e}")))
}

impl HexForm for Vec<u8> {
    fn serialize_hex<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&hex::encode(self))
    }
    fn deserialize_hex<'de, D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        decode(&String::deserialize(d)?)
    }
}

impl<const N: usize> HexForm for [u8; N] {
    fn serialize_hex<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&hex::encode(self))
    }
    fn deserialize_hex<'de, D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let bytes: Vec<u8> = decode(&String::deserialize(d)?)?;
        let n = bytes.len();
        bytes
            .try_into()
            .map_err(|_| D::Error::custom(format!("{n} bytes where {N} belong")))
    }
}

impl<T: HexForm> HexForm for Option<T> {
    fn serialize_hex<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Some(v) => s.serialize_some(&AsHex(v)),
            None => s.serialize_none(),
        }
    }
    fn deserialize_hex<'de, D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(Option::<FromHex<T>>::deserialize(d)?.map(|h| h.0))
    }
}

impl<T: HexForm> HexForm for Vec<T> {
    fn serialize_hex<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.iter().map(AsHex))
    }
    fn deserialize_hex<'de, D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(Vec::<FromHex<T>>::deserialize(d)?
            .into_iter()
            .map(|h| h.0)
            .collect())
    }
}

/// A pair such as (protocol version, stapled response): the key as it serialises, the
/// bytes as hex.
impl<K: Serialize + DeserializeOwned, T: HexForm> HexForm for (K, T) {
    fn serialize_hex<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        (&self.0, AsHex(&self.1)).serialize(s)
    }
    fn deserialize_hex<'de, D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let (k, FromHex(v)) = <(K, FromHex<T>)>::deserialize(d)?;
        Ok((k, v))
    }
}

#[cfg(test)]
mod tests {
    use serde::{Deserialize, Serialize};

    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    struct Sample {
        #[serde(with = "super")]
        der: Vec<u8>,
        #[serde(with = "super")]
        random: [u8; 4],
        #[serde(with = "super")]
        chain: Option<Vec<Vec<u8>>>,
        #[serde(with = "super")]
        staples: Vec<(u16, Option<Vec<u8>>)>,
    }

    #[test]
    fn bytes_round_trip_as_hex_strings() {
        let s = Sample {
            der: vec![0x30, 0x82],
            random: [0, 1, 2, 0xff],
            chain: Some(vec![vec![1], vec![]]),
            staples: vec![(0x0303, Some(vec![0xab])), (0x0304, None)],
        };
        let json = serde_json::to_string(&s).unwrap();
        assert_eq!(
            json,
            r#"{"der":"3082","random":"000102ff","chain":["01",""],"staples":[[771,"ab"],[772,null]]}"#
        );
        assert_eq!(serde_json::from_str::<Sample>(&json).unwrap(), s);
    }

    #[test]
    fn bad_hex_and_wrong_lengths_are_errors() {
        let bad = r#"{"der":"3g","random":"00010203","chain":null,"staples":[]}"#;
        assert!(serde_json::from_str::<Sample>(bad).is_err());
        let short = r#"{"der":"","random":"0001","chain":null,"staples":[]}"#;
        let e = serde_json::from_str::<Sample>(short).unwrap_err();
        assert!(e.to_string().contains("2 bytes where 4 belong"), "{e}");
    }
}
