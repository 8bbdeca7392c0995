//! Limits a client applies while it reads the server's flight, beyond key sizes and
//! signatures: how large a Certificate message it reads, and which DHE prime sizes it can
//! use (the profile's `max_certificate_message` and `dh_prime_bits_multiple_of`).

use super::SimFailure;
use crate::clients::{ClientProfile, HandshakeFailure, failure_text};
use crate::finding::FindingId;
use crate::wire::ProtocolVersion;

/// The body of the Certificate message that carries certificates of these DER sizes at
/// `version`: TLS ≤1.2 has a 3-byte list length and a 3-byte length per certificate; TLS 1.3
/// adds the (empty) request context and 2 bytes of extensions per entry. Extensions the
/// server adds to an entry (a stapled OCSP response) are not counted.
pub fn certificate_message_size(version: ProtocolVersion, der_lens: &[usize]) -> usize {
    let per_entry = if version == ProtocolVersion::Tls13 {
        5
    } else {
        3
    };
    let context = usize::from(version == ProtocolVersion::Tls13);
    context + 3 + der_lens.iter().map(|l| l + per_entry).sum::<usize>()
}

/// The client refuses a Certificate message of `size` bytes.
pub fn message_too_large(profile: &ClientProfile, size: usize) -> Option<SimFailure> {
    let limit = profile.policy.max_certificate_message?;
    if size <= limit {
        return None;
    }
    let key = HandshakeFailure::ExcessiveMessageSize;
    Some(SimFailure {
        key: key.key().to_string(),
        error: failure_text(profile.style, key, None)
            .replace("{size}", &size.to_string())
            .replace("{limit}", &limit.to_string()),
        reason: format!(
            "the server's Certificate message has {size} bytes; this client reads at most {limit}"
        ),
        finding: Some(FindingId::CertMessageTooLarge),
    })
}

/// The client cannot use a DHE prime of `bits` bits.
pub fn dh_prime_unusable(profile: &ClientProfile, bits: usize) -> Option<SimFailure> {
    let multiple = profile.policy.dh_prime_bits_multiple_of? as usize;
    if multiple == 0 || bits % multiple == 0 {
        return None;
    }
    let key = HandshakeFailure::DhKeypairFailed;
    Some(SimFailure {
        key: key.key().to_string(),
        error: failure_text(profile.style, key, None),
        reason: format!(
            "the server's DHE prime has {bits} bits; this client can only use primes whose size is a multiple of {multiple} bits"
        ),
        finding: Some(FindingId::DhPrimeSizeUnsupported),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clients::find_profile;

    #[test]
    fn message_sizes_as_the_real_clients_count_them() {
        // Java reported "The size of the handshake message (36862)" for a 36853-byte leaf
        // sent alone in TLS 1.3 (tests/integration/handshake/limits.rs).
        assert_eq!(
            certificate_message_size(ProtocolVersion::Tls13, &[36853]),
            36862
        );
        assert_eq!(
            certificate_message_size(ProtocolVersion::Tls12, &[36853]),
            36859
        );
        assert_eq!(
            certificate_message_size(ProtocolVersion::Tls12, &[1000, 800]),
            1809
        );
    }

    #[test]
    fn limits_from_the_profiles() {
        let java = find_profile("java").unwrap();
        let python = find_profile("python").unwrap();
        assert!(message_too_large(java, 32768).is_none());
        let f = message_too_large(java, 32769).unwrap();
        assert_eq!(
            f.error,
            "javax.net.ssl.SSLProtocolException: The size of the handshake message (32769) exceeds the maximum allowed size (32768)"
        );
        assert!(message_too_large(python, 102400).is_none());
        assert_eq!(
            message_too_large(python, 102401).unwrap().error,
            "[SSL: EXCESSIVE_MESSAGE_SIZE] excessive message size"
        );
        assert!(dh_prime_unusable(java, 2048).is_none());
        assert_eq!(
            dh_prime_unusable(java, 2050).unwrap().error,
            "javax.net.ssl.SSLException: Could not generate DH keypair"
        );
        assert!(dh_prime_unusable(python, 2050).is_none());
    }
}
