//! The RSA key exchange's encrypted premaster secret, written out by hand (textbook RSA over
//! a PKCS#1 v1.5 block we lay out ourselves): ROBOT sends it with the padding right and
//! wrong in the published ways; the POODLE-on-TLS handshake sends it right.

use rsa::BigUint;
use rsa::pkcs8::DecodePublicKey;
use rsa::traits::PublicKeyParts;
use serde::{Deserialize, Serialize};

/// The premaster layouts of the published test.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Layout {
    Correct,
    WrongFirstBytes,
    MisplacedZero,
    NoZero,
    WrongVersion,
}

pub const LAYOUTS: [Layout; 5] = [
    Layout::Correct,
    Layout::WrongFirstBytes,
    Layout::MisplacedZero,
    Layout::NoZero,
    Layout::WrongVersion,
];

/// The premaster secret block for `layout`, `k` bytes long (the modulus length).
pub fn block(layout: Layout, k: usize, version: u16) -> Option<Vec<u8>> {
    if k < 64 {
        return None;
    }
    let mut pad = vec![0u8; k - 3 - 48];
    crate::wire::keyshare::random_bytes(&mut pad);
    for b in pad.iter_mut() {
        if *b == 0 {
            *b = 0x5a;
        }
    }
    let mut secret = [0u8; 46];
    crate::wire::keyshare::random_bytes(&mut secret);
    let mut m = vec![0x00, 0x02];
    m.extend_from_slice(&pad);
    m.push(0x00);
    m.extend_from_slice(&version.to_be_bytes());
    m.extend_from_slice(&secret);
    match layout {
        Layout::Correct => {}
        Layout::WrongFirstBytes => {
            m[0] = 0x41;
            m[1] = 0x17;
        }
        Layout::MisplacedZero => {
            // The separator early in the padding: what follows is no 48-byte premaster.
            let sep = 2 + pad.len();
            m[sep] = 0x5a;
            m[11] = 0x00;
        }
        Layout::NoZero => {
            for b in m[2..].iter_mut().filter(|b| **b == 0) {
                *b = 0x5a;
            }
        }
        Layout::WrongVersion => {
            let at = 3 + pad.len();
            m[at] = 0x02;
            m[at + 1] = 0x02;
        }
    }
    Some(m)
}

/// `m^e mod n`, as `k` big-endian bytes.
pub fn encrypt(m: &[u8], n: &BigUint, e: &BigUint, k: usize) -> Vec<u8> {
    let c = BigUint::from_bytes_be(m).modpow(e, n).to_bytes_be();
    let mut out = vec![0u8; k.saturating_sub(c.len())];
    out.extend_from_slice(&c);
    out
}

/// The server's RSA key from the leaf certificate, as (n, e, modulus bytes).
pub fn rsa_key(der: &[u8]) -> Option<(BigUint, BigUint, usize)> {
    let (_, cert) = x509_parser::parse_x509_certificate(der).ok()?;
    let key = rsa::RsaPublicKey::from_public_key_der(cert.public_key().raw).ok()?;
    let k = key.size();
    Some((key.n().clone(), key.e().clone(), k))
}

/// The 48-byte premaster secret a [`Layout::Correct`] block carries (its last 48 bytes).
pub fn premaster_of(block: &[u8]) -> Option<&[u8]> {
    block.len().checked_sub(48).map(|at| &block[at..])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_layouts_differ_where_the_published_test_says() {
        let k = 256;
        let ok = block(Layout::Correct, k, 0x0303).unwrap();
        assert_eq!(ok.len(), k);
        assert_eq!(&ok[..2], &[0, 2]);
        assert_eq!(ok[k - 49], 0);
        assert_eq!(&ok[k - 48..k - 46], &[3, 3]);
        assert!(ok[2..k - 49].iter().all(|&b| b != 0));
        let wrong = block(Layout::WrongFirstBytes, k, 0x0303).unwrap();
        assert_eq!(&wrong[..2], &[0x41, 0x17]);
        let none = block(Layout::NoZero, k, 0x0303).unwrap();
        assert!(none[2..].iter().all(|&b| b != 0));
        let early = block(Layout::MisplacedZero, k, 0x0303).unwrap();
        assert_eq!(early[11], 0);
        assert_ne!(early[k - 49], 0);
        let v = block(Layout::WrongVersion, k, 0x0303).unwrap();
        assert_eq!(&v[k - 48..k - 46], &[2, 2]);
        assert!(block(Layout::Correct, 32, 0x0303).is_none());
    }
}
