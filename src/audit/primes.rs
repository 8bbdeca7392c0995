//! The widely shared DH primes of 1024 bits or fewer (data/dh-common-primes.toml, with their
//! sources): a server whose DHE prime is one of them is exposed to Logjam's precomputation,
//! whatever else it does right.

use crate::scan::groups::KeyExchange;
use serde::Deserialize;
use std::sync::OnceLock;

const DATA: &str = include_str!("../../data/dh-common-primes.toml");

/// One shared prime.
#[derive(Debug)]
pub struct CommonPrime {
    pub name: String,
    pub bits: usize,
    pub source: String,
    pub prime: Vec<u8>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Entry {
    name: String,
    bits: usize,
    source: String,
    hex: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    prime: Vec<Entry>,
}

/// Every listed prime.
pub fn all() -> &'static [CommonPrime] {
    static ALL: OnceLock<Vec<CommonPrime>> = OnceLock::new();
    ALL.get_or_init(|| {
        let file: File = toml::from_str(DATA)
            .unwrap_or_else(|e| panic!("data/dh-common-primes.toml is invalid: {e}"));
        file.prime
            .into_iter()
            .map(|e| CommonPrime {
                prime: hex::decode(e.hex.concat())
                    .unwrap_or_else(|err| panic!("data/dh-common-primes.toml: {}: {err}", e.name)),
                name: e.name,
                bits: e.bits,
                source: e.source,
            })
            .collect()
    })
}

/// The listed prime the server's DHE uses, if it is one.
pub fn common_prime(kx: &KeyExchange) -> Option<&'static CommonPrime> {
    let p = kx.dh_prime.as_deref()?;
    // The wire form may carry leading zero bytes.
    let p = &p[p.iter().position(|b| *b != 0).unwrap_or(p.len())..];
    all().iter().find(|c| c.prime == p)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_listed_primes_have_their_stated_size_and_shape() {
        assert_eq!(all().len(), 3);
        for c in all() {
            assert_eq!(
                crate::wire::handshake::bit_length(&c.prime),
                c.bits,
                "{}",
                c.name
            );
            // Odd, and (RFC 2409's) or not (RFC 5114's) of the 2^n - 2^(n-64) - 1 + … form.
            assert_eq!(c.prime.last().map(|b| b & 1), Some(1), "{}", c.name);
        }
        let oakley2 = &all()[1];
        assert!(oakley2.prime.starts_with(&[0xff; 8]) && oakley2.prime.ends_with(&[0xff; 8]));
        let mut kx = KeyExchange {
            dh_bits: Some(1024),
            dh_prime: Some([&[0u8][..], &oakley2.prime].concat()),
            ..KeyExchange::default()
        };
        assert_eq!(common_prime(&kx).map(|c| c.bits), Some(1024));
        kx.dh_prime.as_mut().unwrap()[40] ^= 1;
        assert!(common_prime(&kx).is_none());
    }
}
