//! The user's client key as PKCS#8 DER, the one private-key form Java's standard library
//! reads (`PKCS8EncodedKeySpec`). Keys come as PKCS#8, PKCS#1 (`BEGIN RSA PRIVATE KEY`) or
//! SEC1 (`BEGIN EC PRIVATE KEY`) PEM; the last two are wrapped in a PrivateKeyInfo here:
//! the algorithm identifier in front of the unchanged key bytes (RFC 5208, RFC 5915 §4).

use rustls_pki_types::PrivateKeyDer;
use rustls_pki_types::pem::PemObject;

/// rsaEncryption, 1.2.840.113549.1.1.1 (DER content bytes).
const RSA_ENCRYPTION: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01];
/// id-ecPublicKey, 1.2.840.10045.2.1.
const EC_PUBLIC_KEY: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01];

/// The PKCS#8 DER of the first private key in `pem`.
pub(crate) fn from_pem(pem: &[u8]) -> Result<Vec<u8>, String> {
    let key = PrivateKeyDer::from_pem_slice(pem)
        .map_err(|e| format!("no private key could be read: {e}"))?;
    match key {
        PrivateKeyDer::Pkcs8(k) => Ok(k.secret_pkcs8_der().to_vec()),
        PrivateKeyDer::Pkcs1(k) => {
            // The parameters of rsaEncryption are an explicit NULL.
            let alg = [tlv(0x06, RSA_ENCRYPTION), vec![0x05, 0x00]].concat();
            Ok(private_key_info(&alg, k.secret_pkcs1_der()))
        }
        PrivateKeyDer::Sec1(k) => {
            let curve = sec1_curve(k.secret_sec1_der())
                .ok_or("the EC private key does not name its curve")?;
            let alg = [tlv(0x06, EC_PUBLIC_KEY), tlv(0x06, curve)].concat();
            Ok(private_key_info(&alg, k.secret_sec1_der()))
        }
        _ => Err("the private key is in a form this cannot convert".into()),
    }
}

/// PrivateKeyInfo ::= SEQUENCE { version 0, AlgorithmIdentifier, OCTET STRING key }.
fn private_key_info(algorithm: &[u8], key: &[u8]) -> Vec<u8> {
    let body = [vec![0x02, 0x01, 0x00], tlv(0x30, algorithm), tlv(0x04, key)].concat();
    tlv(0x30, &body)
}

/// A DER element with a definite length.
fn tlv(tag: u8, content: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    let n = content.len();
    if n < 0x80 {
        out.push(n as u8);
    } else {
        let bytes: Vec<u8> = n
            .to_be_bytes()
            .into_iter()
            .skip_while(|b| *b == 0)
            .collect();
        out.push(0x80 | bytes.len() as u8);
        out.extend(bytes);
    }
    out.extend_from_slice(content);
    out
}

/// The curve OID's content bytes in a SEC1 ECPrivateKey: SEQUENCE { version, OCTET STRING,
/// [0] parameters OPTIONAL, [1] publicKey OPTIONAL }.
fn sec1_curve(der: &[u8]) -> Option<&[u8]> {
    let (tag, mut body, _) = read_tlv(der)?;
    if tag != 0x30 {
        return None;
    }
    while !body.is_empty() {
        let (tag, content, rest) = read_tlv(body)?;
        if tag == 0xa0 {
            let (inner, oid, _) = read_tlv(content)?;
            return (inner == 0x06).then_some(oid);
        }
        body = rest;
    }
    None
}

/// (tag, content, rest) of the element at the start of `b`; None when it does not fit.
fn read_tlv(b: &[u8]) -> Option<(u8, &[u8], &[u8])> {
    let (&tag, b) = b.split_first()?;
    let (&first, mut b) = b.split_first()?;
    let len = if first < 0x80 {
        first as usize
    } else {
        let n = (first & 0x7f) as usize;
        if n == 0 || n > 4 || b.len() < n {
            return None;
        }
        let (len_bytes, rest) = b.split_at(n);
        b = rest;
        len_bytes
            .iter()
            .fold(0usize, |acc, x| (acc << 8) | *x as usize)
    };
    (b.len() >= len).then(|| (tag, &b[..len], &b[len..]))
}

#[cfg(test)]
mod tests {
    use super::*;
    use rsa::pkcs1::EncodeRsaPrivateKey;
    use rsa::pkcs8::DecodePrivateKey;

    /// A P-256 key as `openssl ecparam -genkey -noout` writes it (made for this test only).
    const SEC1_PEM: &str = "-----BEGIN EC PRIVATE KEY-----
MHcCAQEEIPI2CqVPx3x9Z75PXKLsIlObrftSwUMPC12Qdjf2sqh6oAoGCCqGSM49
AwEHoUQDQgAEXVXXIiR8BuWhbDo18deJCkdnc0QHvT5nlYd+NXgzI8E9CJGzK+d1
yTS52dOLZfGq4JARN+tW1Dg8BP7Kma6PjA==
-----END EC PRIVATE KEY-----
";

    #[test]
    fn a_sec1_key_becomes_pkcs8_that_ring_loads() {
        let der = from_pem(SEC1_PEM.as_bytes()).unwrap();
        let rng = ring::rand::SystemRandom::new();
        ring::signature::EcdsaKeyPair::from_pkcs8(
            &ring::signature::ECDSA_P256_SHA256_ASN1_SIGNING,
            &der,
            &rng,
        )
        .expect("ring reads the wrapped key");
    }

    #[test]
    fn a_pkcs1_key_becomes_the_same_rsa_key_in_pkcs8() {
        let mut rng = rsa::rand_core::OsRng;
        let key = rsa::RsaPrivateKey::new(&mut rng, 1024).unwrap();
        let pem = key.to_pkcs1_pem(rsa::pkcs8::LineEnding::LF).unwrap();
        let der = from_pem(pem.as_bytes()).unwrap();
        let back = rsa::RsaPrivateKey::from_pkcs8_der(&der).expect("a valid PKCS#8 RSA key");
        assert_eq!(back, key);
    }

    #[test]
    fn pkcs8_passes_through_and_garbage_is_an_error() {
        let kp = rcgen::KeyPair::generate().unwrap();
        assert_eq!(
            from_pem(kp.serialize_pem().as_bytes()).unwrap(),
            kp.serialize_der()
        );
        assert!(from_pem(b"not a key").is_err());
        // A SEC1 key without its curve cannot be wrapped.
        let no_curve = tlv(
            0x30,
            &[vec![0x02, 0x01, 0x01], tlv(0x04, &[1; 32])].concat(),
        );
        assert_eq!(sec1_curve(&no_curve), None);
        assert_eq!(read_tlv(&[0x30, 0x85, 1, 2, 3, 4, 5]), None);
    }
}
