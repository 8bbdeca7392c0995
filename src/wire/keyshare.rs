//! Real ephemeral key-share public keys for probing ClientHellos.
//!
//! A TLS 1.3 server validates the client's key share (and some reject all-zero or off-curve
//! points), so probes must carry genuine public keys. The private half is dropped at once:
//! a probe never finishes the handshake.

use super::groups::NamedGroup;
use ring::agreement::{self, EphemeralPrivateKey};
use ring::rand::SystemRandom;

/// A fresh public key for `group` in its TLS wire form (32 bytes for x25519, uncompressed SEC1
/// point for the NIST curves), or `None` for groups we cannot generate.
pub fn ephemeral_public_key(group: NamedGroup) -> Option<Vec<u8>> {
    let alg = match group {
        NamedGroup::X25519 => &agreement::X25519,
        NamedGroup::SECP256R1 => &agreement::ECDH_P256,
        NamedGroup::SECP384R1 => &agreement::ECDH_P384,
        _ => return None,
    };
    let rng = SystemRandom::new();
    let private = EphemeralPrivateKey::generate(alg, &rng).ok()?;
    let public = private.compute_public_key().ok()?;
    Some(public.as_ref().to_vec())
}

/// Fill `buf` with cryptographically random bytes (hello randoms, session ids).
pub fn random_bytes(buf: &mut [u8]) {
    use ring::rand::SecureRandom;
    // SystemRandom only fails if the OS RNG is unavailable; fall back to a time-derived
    // pattern rather than panicking, since these bytes only need to be unpredictable enough
    // for a probe that never completes.
    if SystemRandom::new().fill(buf).is_err() {
        let seed = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0);
        for (i, b) in buf.iter_mut().enumerate() {
            *b = (seed >> ((i % 16) * 8)) as u8 ^ (i as u8).wrapping_mul(151);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_have_wire_sizes_and_differ() {
        let a = ephemeral_public_key(NamedGroup::X25519).unwrap();
        let b = ephemeral_public_key(NamedGroup::X25519).unwrap();
        assert_eq!(a.len(), 32);
        assert_ne!(a, b);
        let p = ephemeral_public_key(NamedGroup::SECP256R1).unwrap();
        assert_eq!(p.len(), 65);
        assert_eq!(p[0], 4);
        let q = ephemeral_public_key(NamedGroup::SECP384R1).unwrap();
        assert_eq!(q.len(), 97);
        assert_eq!(ephemeral_public_key(NamedGroup(0x0100)), None);
        assert_eq!(ephemeral_public_key(NamedGroup(0xffff)), None);
    }

    #[test]
    fn random_bytes_are_not_constant() {
        let mut a = [0u8; 32];
        let mut b = [0u8; 32];
        random_bytes(&mut a);
        random_bytes(&mut b);
        assert_ne!(a, b);
    }
}
