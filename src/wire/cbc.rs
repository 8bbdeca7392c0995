//! AES-CBC record protection with HMAC-SHA1 or HMAC-SHA256, MAC-then-encrypt (RFC 5246
//! §6.2.3.2; TLS 1.0 chains the IV from the previous record, TLS 1.1+ sends it explicitly).
//! Shared by the lab's legacy server and the scanner's POODLE-on-TLS probe, which also seals
//! records whose MAC is right but whose padding bytes are deliberately wrong ([`Padding`]).

use super::prf::TLS10;
use aes::cipher::{BlockDecrypt, BlockEncrypt, KeyInit, generic_array::GenericArray};
use aes::{Aes128, Aes256};
use ring::hmac;

/// Which HMAC protects records.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RecordMac {
    Sha1,
    Sha256,
}

impl RecordMac {
    /// The MAC's length in bytes.
    pub fn tag_len(self) -> usize {
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

/// How a sealed record's padding is written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Padding {
    /// Every padding byte holds the padding length, as RFC 5246 requires.
    Correct,
    /// The length byte is right, every padding byte before it is not: a receiver that checks
    /// the padding must answer bad_record_mac; one that reads only the length byte (the
    /// POODLE-on-TLS class, CVE-2014-8730) accepts the record.
    WrongBytes,
}

enum BlockCipher {
    Aes128(Box<Aes128>),
    Aes256(Box<Aes256>),
}

impl BlockCipher {
    fn encrypt(&self, block: &mut [u8; 16]) {
        let ga = GenericArray::from_mut_slice(block);
        match self {
            BlockCipher::Aes128(c) => c.encrypt_block(ga),
            BlockCipher::Aes256(c) => c.encrypt_block(ga),
        }
    }

    fn decrypt(&self, block: &mut [u8; 16]) {
        let ga = GenericArray::from_mut_slice(block);
        match self {
            BlockCipher::Aes128(c) => c.decrypt_block(ga),
            BlockCipher::Aes256(c) => c.decrypt_block(ga),
        }
    }
}

/// A key of a length AES has no variant for.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("an AES-CBC key must be 16 or 32 bytes and its IV 16 (got {key} and {iv})")]
pub struct BadKeyLength {
    pub key: usize,
    pub iv: usize,
}

/// One direction of AES-CBC + HMAC record protection.
pub struct CipherState {
    aes: BlockCipher,
    mac_key: hmac::Key,
    mac_len: usize,
    seq: u64,
    version: u16,
    /// TLS 1.0 chains the IV from the last ciphertext block; 1.1+ sends it explicitly.
    chained_iv: Option<[u8; 16]>,
}

/// A record that does not decrypt, or whose padding or MAC is wrong: what a receiver must
/// answer with the one alert bad_record_mac.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BadRecordMac;

impl CipherState {
    /// `key` is 16 bytes (AES-128) or 32 (AES-256); `iv` is used only by TLS 1.0 (16 bytes)
    /// and may be empty for later versions.
    pub fn new(
        version: u16,
        mac: RecordMac,
        mac_key: &[u8],
        key: &[u8],
        iv: &[u8],
    ) -> Result<Self, BadKeyLength> {
        let bad = || BadKeyLength {
            key: key.len(),
            iv: iv.len(),
        };
        let chained_iv = if version <= TLS10 {
            Some(<[u8; 16]>::try_from(iv).map_err(|_| bad())?)
        } else {
            None
        };
        let aes = match key.len() {
            16 => BlockCipher::Aes128(Box::new(Aes128::new(GenericArray::from_slice(key)))),
            32 => BlockCipher::Aes256(Box::new(Aes256::new(GenericArray::from_slice(key)))),
            _ => return Err(bad()),
        };
        Ok(CipherState {
            aes,
            mac_key: hmac::Key::new(mac.ring(), mac_key),
            mac_len: mac.tag_len(),
            seq: 0,
            version,
            chained_iv,
        })
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
        self.seal_with(content_type, plain, random_iv, Padding::Correct)
    }

    /// [`CipherState::seal`] with the padding written as `padding` says. The padding is
    /// always at least one byte before the length byte (a second block is added when the
    /// data and MAC would leave none), so that [`Padding::WrongBytes`] has a byte to spoil.
    pub fn seal_with(
        &mut self,
        content_type: u8,
        plain: &[u8],
        random_iv: [u8; 16],
        padding: Padding,
    ) -> Vec<u8> {
        let tag = self.record_mac(content_type, plain);
        self.seq = self.seq.wrapping_add(1);
        let mut body = plain.to_vec();
        body.extend_from_slice(tag.as_ref());
        let mut pad = 15 - (body.len() % 16);
        if pad == 0 {
            pad = 16;
        }
        body.extend(std::iter::repeat_n(pad as u8, pad + 1));
        if padding == Padding::WrongBytes {
            let end = body.len() - 1;
            for b in &mut body[end - pad..end] {
                *b = !(pad as u8);
            }
        }
        let (mut prev, mut out) = match self.chained_iv {
            Some(iv) => (iv, Vec::with_capacity(body.len())),
            None => (random_iv, random_iv.to_vec()),
        };
        for chunk in body.chunks(16) {
            let mut block = [0u8; 16];
            for (i, b) in chunk.iter().enumerate() {
                block[i] = b ^ prev[i];
            }
            self.aes.encrypt(&mut block);
            prev = block;
            out.extend_from_slice(&block);
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
                let (iv, rest) = fragment.split_at_checked(16).ok_or(BadRecordMac)?;
                (<[u8; 16]>::try_from(iv).map_err(|_| BadRecordMac)?, rest)
            }
        };
        if cipher.is_empty() || cipher.len() % 16 != 0 || cipher.len() < self.mac_len + 1 {
            return Err(BadRecordMac);
        }
        let mut plain = Vec::with_capacity(cipher.len());
        for chunk in cipher.chunks_exact(16) {
            let mut block = <[u8; 16]>::try_from(chunk).map_err(|_| BadRecordMac)?;
            self.aes.decrypt(&mut block);
            for i in 0..16 {
                plain.push(block[i] ^ prev[i]);
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
        if !super::prf::ct_eq(expected.as_ref(), &plain[data_len..pad_start]) {
            return Err(BadRecordMac);
        }
        plain.truncate(data_len);
        Ok(plain)
    }
}

/// Both directions' record protection from the master secret (RFC 5246 §6.3): the key
/// block, split into MAC keys, AES keys of `key_len` bytes and, for TLS 1.0, IVs. Returns the
/// client's writing state, then the server's.
pub fn key_block(
    version: u16,
    mac: RecordMac,
    key_len: usize,
    master: &[u8],
    client_random: &[u8; 32],
    server_random: &[u8; 32],
) -> Result<(CipherState, CipherState), BadKeyLength> {
    let mac_len = mac.tag_len();
    let iv_len = if version <= TLS10 { 16 } else { 0 };
    let block = super::prf::prf(
        version,
        master,
        "key expansion",
        &[server_random, client_random],
        2 * (mac_len + key_len + iv_len),
    );
    let (client_mac, rest) = block.split_at(mac_len);
    let (server_mac, rest) = rest.split_at(mac_len);
    let (client_key, rest) = rest.split_at(key_len);
    let (server_key, rest) = rest.split_at(key_len);
    let (client_iv, server_iv) = rest.split_at(iv_len);
    Ok((
        CipherState::new(version, mac, client_mac, client_key, client_iv)?,
        CipherState::new(version, mac, server_mac, server_key, server_iv)?,
    ))
}

impl CipherState {
    /// CBC decryption alone, with no check: what the tests read the padding from.
    #[cfg(test)]
    pub(crate) fn decrypt_for_test(&mut self, fragment: &[u8]) -> Vec<u8> {
        let (mut prev, cipher) = match self.chained_iv {
            Some(iv) => (iv, fragment),
            None => (fragment[..16].try_into().unwrap(), &fragment[16..]),
        };
        let mut out = Vec::new();
        for chunk in cipher.chunks(16) {
            let mut b: [u8; 16] = chunk.try_into().unwrap();
            self.aes.decrypt(&mut b);
            out.extend(b.iter().zip(prev).map(|(x, y)| x ^ y));
            prev.copy_from_slice(chunk);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::super::prf::{TLS11, TLS12};
    use super::*;

    fn pair(version: u16, mac: RecordMac, key_len: usize) -> (CipherState, CipherState) {
        let make = || {
            CipherState::new(
                version,
                mac,
                &[7; 32][..mac.tag_len()],
                &[1; 32][..key_len],
                &[2; 16],
            )
            .unwrap()
        };
        (make(), make())
    }

    #[test]
    fn records_round_trip_and_tampering_is_detected() {
        for version in [TLS10, TLS11, TLS12] {
            for mac in [RecordMac::Sha1, RecordMac::Sha256] {
                for key_len in [16, 32] {
                    let (mut w, mut r) = pair(version, mac, key_len);
                    for msg in [&b""[..], b"hello", &[9u8; 100], &[1u8; 12]] {
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

    #[test]
    fn wrong_padding_bytes_keep_the_mac_and_the_length_byte_right() {
        for version in [TLS10, TLS12] {
            // A 16-byte Finished plus a 20-byte MAC: 11 padding bytes and the length byte.
            let (mut w, mut r) = pair(version, RecordMac::Sha1, 16);
            let finished = [0x14u8, 0, 0, 12, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12];
            let sealed = w.seal_with(22, &finished, [5; 16], Padding::WrongBytes);
            let iv = if version == TLS10 { 0 } else { 16 };
            assert_eq!(sealed.len(), iv + 48);
            assert_eq!(r.open(22, &sealed), Err(BadRecordMac));
            // Decrypted by hand: the MAC verifies, only the padding bytes are off.
            let (mut raw, _) = pair(version, RecordMac::Sha1, 16);
            let plain = raw.decrypt_for_test(&sealed);
            assert_eq!(plain[47], 11);
            assert!(plain[36..47].iter().all(|b| *b == !11u8));
            assert_eq!(&plain[..16], &finished);
            assert_eq!(
                raw.record_mac(22, &finished).as_ref(),
                &plain[16..36],
                "the MAC is over the data and sequence number 0"
            );
            // SHA-256 MAC: 16 + 32 = 48 bytes, then a whole block of padding.
            let (mut w, _) = pair(version, RecordMac::Sha256, 32);
            let sealed = w.seal_with(22, &finished, [5; 16], Padding::WrongBytes);
            assert_eq!(sealed.len(), iv + 64);
        }
    }

    #[test]
    fn keys_of_other_lengths_are_refused() {
        assert!(CipherState::new(TLS12, RecordMac::Sha1, &[0; 20], &[0; 24], &[]).is_err());
        assert!(CipherState::new(TLS10, RecordMac::Sha1, &[0; 20], &[0; 16], &[0; 8]).is_err());
        assert!(CipherState::new(TLS12, RecordMac::Sha1, &[0; 20], &[0; 16], &[]).is_ok());
    }
}
