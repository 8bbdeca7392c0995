//! The typed keys of the client wording catalogue (data/client-errors.toml): a client's error
//! style and the failure it words. Each key is spelt in the data file exactly as `key()`
//! returns it; a name the code does not know fails to load (and a unit test).

/// An enum whose variants are spelt as fixed strings in data files and JSON.
macro_rules! keyed_enum {
    ($(#[$meta:meta])* pub enum $name:ident { $($(#[$vmeta:meta])* $variant:ident = $key:literal,)* }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum $name {
            $($(#[$vmeta])* $variant,)*
        }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant,)*];

            /// The name used in data files and JSON.
            pub fn key(self) -> &'static str {
                match self {
                    $($name::$variant => $key,)*
                }
            }

            /// The value spelt `key`, if there is one.
            pub fn from_key(key: &str) -> Option<Self> {
                Self::ALL.iter().copied().find(|v| v.key() == key)
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.key())
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.key())
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let text = String::deserialize(d)?;
                $name::from_key(&text).ok_or_else(|| {
                    serde::de::Error::custom(format!(
                        "unknown {} '{text}'",
                        stringify!($name)
                    ))
                })
            }
        }
    };
}

keyed_enum! {
    /// How a client words its failures (a profile's `style`): the style of its TLS library
    /// and of the program around it.
    pub enum ErrorStyle {
        Python = "python",
        OpensslCli = "openssl-cli",
        Curl = "curl",
        Node = "node",
        Pymongo = "pymongo",
        Java = "java",
        Gnutls = "gnutls",
        /// Any other OpenSSL 3 client.
        Generic = "generic",
        PyopensslOpenssl1 = "pyopenssl-openssl1",
    }
}

keyed_enum! {
    /// A failure during the handshake, as a client's TLS library reports it.
    pub enum HandshakeFailure {
        ProtocolVersionAlert = "protocol_version_alert",
        HandshakeFailureAlert = "handshake_failure_alert",
        CertificateRequiredAlert = "certificate_required_alert",
        UnrecognizedNameAlert = "unrecognized_name_alert",
        InternalErrorAlert = "internal_error_alert",
        InsufficientSecurityAlert = "insufficient_security_alert",
        DecodeErrorAlert = "decode_error_alert",
        /// The server shares none of the ALPN protocols the client offered and aborts.
        NoApplicationProtocolAlert = "no_application_protocol_alert",
        /// The server does not trust the issuer of the client certificate presented.
        UnknownCaAlert = "unknown_ca_alert",
        /// The client certificate presented has expired (the alert read after a TLS 1.3
        /// handshake; `CertificateExpiredAlertTls12` when it ends a TLS ≤1.2 handshake).
        CertificateExpiredAlert = "certificate_expired_alert",
        CertificateExpiredAlertTls12 = "certificate_expired_alert_tls12",
        /// Any other alert; its name fills `{alert}`.
        OtherAlert = "other_alert",
        UnsupportedProtocol = "unsupported_protocol",
        LegacySigalg = "legacy_sigalg",
        UnsafeLegacyRenegotiation = "unsafe_legacy_renegotiation",
        DhKeyTooSmall = "dh_key_too_small",
        WrongVersionNumber = "wrong_version_number",
        UnexpectedEof = "unexpected_eof",
        /// The server reset the connection (TCP RST) during the handshake.
        ConnectionReset = "connection_reset",
        /// The server's Certificate message is larger than the client accepts.
        ExcessiveMessageSize = "excessive_message_size",
        /// The client cannot make a key pair for the server's DH group (Java: prime size not
        /// a multiple of 64 bits).
        DhKeypairFailed = "dh_keypair_failed",
        /// Certificate verification failed; the text depends on the cause ([`CertCause`]).
        CertificateVerifyFailed = "certificate_verify_failed",
        /// The client's OCSP check refused the handshake.
        InvalidStatusResponse = "invalid_status_response",
    }
}

keyed_enum! {
    /// Why certificate verification fails, as OpenSSL's verify errors distinguish it.
    pub enum CertCause {
        Expired = "expired",
        NotYetValid = "not_yet_valid",
        HostnameMismatch = "hostname_mismatch",
        IpMismatch = "ip_mismatch",
        SelfSignedLeaf = "self_signed_leaf",
        SelfSignedInChain = "self_signed_in_chain",
        NoLocalIssuer = "no_local_issuer",
        /// `no_local_issuer` when the server sent only its own certificate.
        NoLocalIssuerLeafOnly = "no_local_issuer_leaf_only",
        EeKeyTooWeak = "ee_key_too_weak",
        CaKeyTooWeak = "ca_key_too_weak",
        CaMdTooWeak = "ca_md_too_weak",
        UnsuitablePurpose = "unsuitable_purpose",
        /// An issuing certificate without basicConstraints.
        InvalidCa = "invalid_ca",
        /// An issuing certificate whose basicConstraints says CA:FALSE.
        CaFalse = "ca_false",
        /// An issuing CA whose keyUsage lacks keyCertSign.
        CaNoKeyCertSign = "ca_no_key_cert_sign",
        PathLength = "path_length",
        PermittedSubtree = "permitted_subtree",
        ExcludedSubtree = "excluded_subtree",
        /// A critical extension the client does not know.
        UnhandledCriticalExtension = "unhandled_critical_extension",
        /// An MD5 signature in the chain (SHA-1 is `ca_md_too_weak`).
        Md5Signature = "md5_signature",
        /// The first certificate served is a CA certificate (a chain file in reverse order).
        CaAsLeaf = "ca_as_leaf",
        /// An RSA server certificate whose keyUsage lacks digitalSignature.
        LeafNoDigitalSignature = "leaf_no_digital_signature",
        /// The intermediate sent has the issuer's name but another key.
        RekeyedIssuer = "rekeyed_issuer",
        /// The root the client's store holds for this chain has expired.
        ExpiredAnchor = "expired_anchor",
    }
}

/// A failure the catalogue words: during the handshake, or in certificate verification.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Failure {
    Handshake(HandshakeFailure),
    Certificate(CertCause),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_round_trip() {
        for s in ErrorStyle::ALL {
            assert_eq!(ErrorStyle::from_key(s.key()), Some(*s));
        }
        for f in HandshakeFailure::ALL {
            assert_eq!(HandshakeFailure::from_key(f.key()), Some(*f));
        }
        for c in CertCause::ALL {
            assert_eq!(CertCause::from_key(c.key()), Some(*c));
        }
        assert_eq!(ErrorStyle::from_key("no-such-style"), None);
        let parsed: Result<ErrorStyle, _> = serde_json::from_str("\"pyopenssl-openssl1\"");
        assert_eq!(parsed.ok(), Some(ErrorStyle::PyopensslOpenssl1));
        assert!(serde_json::from_str::<ErrorStyle>("\"nope\"").is_err());
    }
}
