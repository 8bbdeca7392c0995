//! The TLS 1.0–1.2 key derivation: the PRF of RFC 2246 §5 (P_MD5 ⊕ P_SHA1) and RFC 5246 §5
//! (P_SHA256), and the handshake hash the Finished messages and the extended master secret
//! (RFC 7627) are computed over. Shared by the lab's legacy server and the scanner's
//! hand-written CBC handshake (the POODLE-on-TLS probe).

use ring::hmac;

/// TLS 1.0, 1.1 and 1.2 as they are written on the wire.
pub const TLS10: u16 = 0x0301;
pub const TLS11: u16 = 0x0302;
pub const TLS12: u16 = 0x0303;

/// Equality without an early exit on the first differing byte.
pub fn ct_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// HMAC-MD5 (RFC 2104), written out because ring has no MD5.
fn hmac_md5(key: &[u8], data: &[&[u8]]) -> [u8; 16] {
    use md5::Digest;
    let mut k = [0u8; 64];
    if key.len() > 64 {
        k[..16].copy_from_slice(md5::Md5::digest(key).as_slice());
    } else {
        k[..key.len()].copy_from_slice(key);
    }
    let mut inner = md5::Md5::new();
    inner.update(k.map(|b| b ^ 0x36));
    for d in data {
        inner.update(d);
    }
    let inner = inner.finalize();
    let mut outer = md5::Md5::new();
    outer.update(k.map(|b| b ^ 0x5c));
    outer.update(inner.as_slice());
    let mut out = [0u8; 16];
    out.copy_from_slice(outer.finalize().as_slice());
    out
}

#[derive(Clone, Copy)]
enum PHash {
    Md5,
    Sha1,
    Sha256,
}

fn mac(alg: PHash, key: &[u8], data: &[&[u8]]) -> Vec<u8> {
    let ring_alg = match alg {
        PHash::Md5 => return hmac_md5(key, data).to_vec(),
        PHash::Sha1 => hmac::HMAC_SHA1_FOR_LEGACY_USE_ONLY,
        PHash::Sha256 => hmac::HMAC_SHA256,
    };
    let k = hmac::Key::new(ring_alg, key);
    let mut ctx = hmac::Context::with_key(&k);
    for d in data {
        ctx.update(d);
    }
    ctx.sign().as_ref().to_vec()
}

/// P_hash from RFC 5246 section 5.
fn p_hash(alg: PHash, secret: &[u8], seed: &[u8], len: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(len + 32);
    let mut a = mac(alg, secret, &[seed]);
    while out.len() < len {
        out.extend_from_slice(&mac(alg, secret, &[&a, seed]));
        a = mac(alg, secret, &[&a]);
    }
    out.truncate(len);
    out
}

/// The PRF of the negotiated version: P_SHA256 for TLS 1.2, P_MD5 ⊕ P_SHA1 before.
pub fn prf(version: u16, secret: &[u8], label: &str, seed: &[&[u8]], len: usize) -> Vec<u8> {
    let mut full_seed = label.as_bytes().to_vec();
    for s in seed {
        full_seed.extend_from_slice(s);
    }
    if version >= TLS12 {
        return p_hash(PHash::Sha256, secret, &full_seed, len);
    }
    let half = secret.len().div_ceil(2);
    let s1 = &secret[..half];
    let s2 = &secret[secret.len() - half..];
    let a = p_hash(PHash::Md5, s1, &full_seed, len);
    let b = p_hash(PHash::Sha1, s2, &full_seed, len);
    a.iter().zip(b.iter()).map(|(x, y)| x ^ y).collect()
}

/// The handshake hash the Finished messages are computed over: SHA-256 for TLS 1.2 (the
/// suites this crate speaks), MD5 ‖ SHA-1 before.
pub fn transcript_hash(version: u16, transcript: &[u8]) -> Vec<u8> {
    use ring::digest;
    if version >= TLS12 {
        return digest::digest(&digest::SHA256, transcript)
            .as_ref()
            .to_vec();
    }
    use md5::Digest;
    let mut out = md5::Md5::digest(transcript).as_slice().to_vec();
    out.extend_from_slice(digest::digest(&digest::SHA1_FOR_LEGACY_USE_ONLY, transcript).as_ref());
    out
}

/// The 48-byte master secret: from the two randoms (RFC 5246 §8.1), or, when the server
/// agreed to the extended master secret, from the handshake hash up to the client's key
/// exchange (RFC 7627 §4).
pub fn master_secret(
    version: u16,
    premaster: &[u8],
    client_random: &[u8; 32],
    server_random: &[u8; 32],
    extended_over: Option<&[u8]>,
) -> Vec<u8> {
    match extended_over {
        Some(transcript) => prf(
            version,
            premaster,
            "extended master secret",
            &[&transcript_hash(version, transcript)],
            48,
        ),
        None => prf(
            version,
            premaster,
            "master secret",
            &[client_random, server_random],
            48,
        ),
    }
}

/// The `verify_data` of a Finished message (12 bytes) sent by the client or the server.
pub fn finished(version: u16, master: &[u8], client: bool, transcript: &[u8]) -> Vec<u8> {
    let label = if client {
        "client finished"
    } else {
        "server finished"
    };
    prf(
        version,
        master,
        label,
        &[&transcript_hash(version, transcript)],
        12,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hmac_md5_matches_rfc2202_case_1() {
        let out = hmac_md5(&[0x0b; 16], &[b"Hi There"]);
        assert_eq!(hex::encode(out), "9294727a3638bb1c13f48ef8158bfc9d");
    }

    #[test]
    fn tls12_prf_matches_published_vector() {
        // The widely used TLS 1.2 PRF (SHA-256) test vector from the IETF TLS list.
        let secret = hex::decode("9bbe436ba940f017b17652849a71db35").unwrap();
        let seed = hex::decode("a0ba9f936cda311827a6f796ffd5198c").unwrap();
        let out = prf(TLS12, &secret, "test label", &[&seed], 100);
        assert_eq!(
            hex::encode(&out),
            "e3f229ba727be17b8d122620557cd453c2aab21d07c3d495329b52d4e61edb5a\
             6b301791e90d35c9c9a46b4e14baf9af0fa022f7077def17abfd3797c0564bab\
             4fbc91666e9def9b97fce34f796789baa48082d122ee42c5a72e5a5110fff701\
             87347b66"
        );
    }

    #[test]
    fn tls10_prf_is_md5_xor_sha1_over_split_secret_halves() {
        // An odd-length secret: the halves overlap by one byte (RFC 2246 §5).
        let secret = [1u8, 2, 3, 4, 5];
        let seed = [9u8; 8];
        let out = prf(TLS10, &secret, "l", &[&seed], 40);
        let mut full = b"l".to_vec();
        full.extend_from_slice(&seed);
        let a = p_hash(PHash::Md5, &secret[..3], &full, 40);
        let b = p_hash(PHash::Sha1, &secret[2..], &full, 40);
        let x: Vec<u8> = a.iter().zip(&b).map(|(x, y)| x ^ y).collect();
        assert_eq!(out, x);
        assert_eq!(prf(TLS11, &secret, "l", &[&seed], 40), x);
        assert_eq!(transcript_hash(TLS10, b"abc").len(), 36);
        assert_eq!(transcript_hash(TLS12, b"abc").len(), 32);
    }

    #[test]
    fn the_extended_master_secret_depends_on_the_transcript_not_the_randoms() {
        let (c, s) = ([1u8; 32], [2u8; 32]);
        let plain = master_secret(TLS12, &[3; 48], &c, &s, None);
        let ems = master_secret(TLS12, &[3; 48], &c, &s, Some(b"hello"));
        let ems2 = master_secret(TLS12, &[3; 48], &[7; 32], &s, Some(b"hello"));
        assert_eq!(plain.len(), 48);
        assert_ne!(plain, ems);
        assert_eq!(ems, ems2);
        assert_ne!(
            finished(TLS12, &plain, true, b"t"),
            finished(TLS12, &plain, false, b"t")
        );
        assert!(ct_eq(b"ab", b"ab") && !ct_eq(b"ab", b"ac") && !ct_eq(b"a", b"ab"));
    }
}
