//! Legacy TLS cryptography for the lab: the TLS 1.0/1.1 and 1.2 PRFs and the AES-128-CBC +
//! HMAC record protection (MAC-then-encrypt). Lab-only; never used by the scanner.

use aes::Aes128;
use aes::cipher::{BlockDecrypt, BlockEncrypt, KeyInit, generic_array::GenericArray};
use ring::hmac;

pub(crate) const TLS10: u16 = 0x0301;
pub(crate) const TLS11: u16 = 0x0302;
pub(crate) const TLS12: u16 = 0x0303;

/// Equality without an early exit on the first differing byte.
pub(crate) fn ct_eq(a: &[u8], b: &[u8]) -> bool {
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
pub(crate) fn prf(version: u16, secret: &[u8], label: &str, seed: &[&[u8]], len: usize) -> Vec<u8> {
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

/// The handshake hash the Finished messages are computed over.
pub(crate) fn transcript_hash(version: u16, transcript: &[u8]) -> Vec<u8> {
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

/// Which HMAC protects records.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum RecordMac {
    Sha1,
    Sha256,
}

impl RecordMac {
    pub fn len(self) -> usize {
        match self {
            RecordMac::Sha1 => 20,
            RecordMac::Sha256 => 32,
        }
    }
    fn ring(self) -> hmac::Algorithm {
        match self {
            RecordMac::Sha1 => hmac::HMAC_SHA1_FOR_LEGACY_USE_ONLY,
            RecordMac::Sha256 => hmac::HMAC_SHA256,
        }
    }
}

/// One direction of AES-128-CBC + HMAC record protection.
pub(crate) struct CipherState {
    aes: Aes128,
    mac_key: hmac::Key,
    mac_len: usize,
    seq: u64,
    version: u16,
    /// TLS 1.0 chains the IV from the last ciphertext block; 1.1+ sends it explicitly.
    chained_iv: Option<[u8; 16]>,
}

#[derive(Debug)]
pub(crate) struct BadRecordMac;

impl CipherState {
    pub fn new(version: u16, mac: RecordMac, mac_key: &[u8], key: &[u8], iv: &[u8]) -> Self {
        let chained_iv = if version <= TLS10 {
            let mut v = [0u8; 16];
            v.copy_from_slice(&iv[..16]);
            Some(v)
        } else {
            None
        };
        CipherState {
            aes: Aes128::new(GenericArray::from_slice(key)),
            mac_key: hmac::Key::new(mac.ring(), mac_key),
            mac_len: mac.len(),
            seq: 0,
            version,
            chained_iv,
        }
    }

    fn record_mac(&self, content_type: u8, data: &[u8]) -> hmac::Tag {
        let mut ctx = hmac::Context::with_key(&self.mac_key);
        ctx.update(&self.seq.to_be_bytes());
        ctx.update(&[content_type]);
        ctx.update(&self.version.to_be_bytes());
        ctx.update(&(data.len() as u16).to_be_bytes());
        ctx.update(data);
        ctx.sign()
    }

    /// Protects one record's plaintext; `random_iv` supplies the explicit IV for TLS 1.1+.
    pub fn seal(&mut self, content_type: u8, plain: &[u8], random_iv: [u8; 16]) -> Vec<u8> {
        let tag = self.record_mac(content_type, plain);
        self.seq = self.seq.wrapping_add(1);
        let mut body = plain.to_vec();
        body.extend_from_slice(tag.as_ref());
        let pad = 15 - (body.len() % 16);
        body.extend(std::iter::repeat_n(pad as u8, pad + 1));
        let (mut prev, mut out) = match self.chained_iv {
            Some(iv) => (iv, Vec::with_capacity(body.len())),
            None => (random_iv, random_iv.to_vec()),
        };
        for chunk in body.chunks(16) {
            let mut block = [0u8; 16];
            for (i, b) in chunk.iter().enumerate() {
                block[i] = b ^ prev[i];
            }
            let mut ga = GenericArray::from(block);
            self.aes.encrypt_block(&mut ga);
            prev.copy_from_slice(&ga);
            out.extend_from_slice(&ga);
        }
        if self.chained_iv.is_some() {
            self.chained_iv = Some(prev);
        }
        out
    }

    /// Removes protection from one record's fragment; any defect is a bad_record_mac.
    pub fn open(&mut self, content_type: u8, fragment: &[u8]) -> Result<Vec<u8>, BadRecordMac> {
        let (mut prev, cipher) = match self.chained_iv {
            Some(iv) => (iv, fragment),
            None => {
                if fragment.len() < 16 {
                    return Err(BadRecordMac);
                }
                let mut iv = [0u8; 16];
                iv.copy_from_slice(&fragment[..16]);
                (iv, &fragment[16..])
            }
        };
        if cipher.is_empty() || cipher.len() % 16 != 0 || cipher.len() < self.mac_len + 1 {
            return Err(BadRecordMac);
        }
        let mut plain = Vec::with_capacity(cipher.len());
        for chunk in cipher.chunks(16) {
            let mut ga = GenericArray::clone_from_slice(chunk);
            self.aes.decrypt_block(&mut ga);
            for i in 0..16 {
                plain.push(ga[i] ^ prev[i]);
            }
            prev.copy_from_slice(chunk);
        }
        if self.chained_iv.is_some() {
            self.chained_iv = Some(prev);
        }
        let pad = *plain.last().ok_or(BadRecordMac)? as usize;
        if pad + 1 + self.mac_len > plain.len() {
            return Err(BadRecordMac);
        }
        let pad_start = plain.len() - pad - 1;
        if plain[pad_start..].iter().any(|b| *b as usize != pad) {
            return Err(BadRecordMac);
        }
        let data_len = pad_start - self.mac_len;
        let expected = self.record_mac(content_type, &plain[..data_len]);
        self.seq = self.seq.wrapping_add(1);
        if !ct_eq(expected.as_ref(), &plain[data_len..pad_start]) {
            return Err(BadRecordMac);
        }
        plain.truncate(data_len);
        Ok(plain)
    }
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
        assert_eq!(hex::encode(&out[..16]), "e3f229ba727be17b8d122620557cd453");
    }

    #[test]
    fn records_round_trip_and_tampering_is_detected() {
        for version in [TLS10, TLS11, TLS12] {
            for mac in [RecordMac::Sha1, RecordMac::Sha256] {
                let mut w =
                    CipherState::new(version, mac, &[7; 32][..mac.len()], &[1; 16], &[2; 16]);
                let mut r =
                    CipherState::new(version, mac, &[7; 32][..mac.len()], &[1; 16], &[2; 16]);
                for msg in [&b""[..], b"hello", &[9u8; 100]] {
                    let sealed = w.seal(23, msg, [3; 16]);
                    assert_eq!(r.open(23, &sealed).unwrap(), msg);
                }
                let mut sealed = w.seal(23, b"tamper", [4; 16]);
                let last = sealed.len() - 20;
                sealed[last] ^= 1;
                assert!(r.open(23, &sealed).is_err());
                assert!(r.open(23, &[0u8; 5]).is_err());
            }
        }
    }
}
