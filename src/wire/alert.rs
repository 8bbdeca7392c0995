//! TLS alerts (RFC 8446 §6 and the IANA "TLS Alerts" registry).

use super::WireError;
use super::codec::{Codec, Reader};
use serde::{Deserialize, Serialize};

/// Serialised as its wire code, so any value round-trips through recorded evidence.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(from = "u8", into = "u8")]
pub enum AlertLevel {
    Warning,
    Fatal,
    Unknown(u8),
}

impl AlertLevel {
    pub fn from_u8(v: u8) -> Self {
        match v {
            1 => AlertLevel::Warning,
            2 => AlertLevel::Fatal,
            o => AlertLevel::Unknown(o),
        }
    }
    pub fn to_u8(self) -> u8 {
        match self {
            AlertLevel::Warning => 1,
            AlertLevel::Fatal => 2,
            AlertLevel::Unknown(o) => o,
        }
    }
    pub fn name(self) -> &'static str {
        match self {
            AlertLevel::Warning => "warning",
            AlertLevel::Fatal => "fatal",
            AlertLevel::Unknown(_) => "unknown",
        }
    }
}

macro_rules! alert_registry {
    ($( $variant:ident = $code:literal, $name:literal, $reason:expr; )*) => {
        /// Every alert in the IANA registry; `Unknown` keeps any other value. Serialised as
        /// its wire code.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
        #[serde(from = "u8", into = "u8")]
        pub enum AlertDescription { $( $variant, )* Unknown(u8) }

        impl AlertDescription {
            /// Every registered alert, in code order.
            pub const ALL: &'static [AlertDescription] = &[ $( AlertDescription::$variant, )* ];

            pub fn from_u8(v: u8) -> Self {
                match v { $( $code => AlertDescription::$variant, )* o => AlertDescription::Unknown(o) }
            }
            pub fn to_u8(self) -> u8 {
                match self { $( AlertDescription::$variant => $code, )* AlertDescription::Unknown(o) => o }
            }
            /// The name as written in the RFCs, e.g. `handshake_failure`.
            pub fn name(self) -> &'static str {
                match self { $( AlertDescription::$variant => $name, )* AlertDescription::Unknown(_) => "unknown_alert" }
            }
            /// What OpenSSL 3 prints as the error reason when it receives this alert (the
            /// `SSL_AD_REASON_OFFSET + code` entry of its SSL error table), e.g.
            /// "sslv3 alert handshake failure". `None` where OpenSSL 3.0 has no text.
            pub fn openssl_reason(self) -> Option<&'static str> {
                match self { $( AlertDescription::$variant => $reason, )* AlertDescription::Unknown(_) => None }
            }
        }
    };
}

// Reason strings checked against OpenSSL 3.0.x: `openssl errstr 0A000000+(1000+code)` prints
// them from libssl's own table (e.g. 0A000410 -> "sslv3 alert handshake failure").
alert_registry! {
    CloseNotify = 0, "close_notify", None;
    UnexpectedMessage = 10, "unexpected_message", Some("sslv3 alert unexpected message");
    BadRecordMac = 20, "bad_record_mac", Some("sslv3 alert bad record mac");
    DecryptionFailed = 21, "decryption_failed", Some("tlsv1 alert decryption failed");
    RecordOverflow = 22, "record_overflow", Some("tlsv1 alert record overflow");
    DecompressionFailure = 30, "decompression_failure", Some("sslv3 alert decompression failure");
    HandshakeFailure = 40, "handshake_failure", Some("sslv3 alert handshake failure");
    NoCertificate = 41, "no_certificate", Some("sslv3 alert no certificate");
    BadCertificate = 42, "bad_certificate", Some("sslv3 alert bad certificate");
    UnsupportedCertificate = 43, "unsupported_certificate", Some("sslv3 alert unsupported certificate");
    CertificateRevoked = 44, "certificate_revoked", Some("sslv3 alert certificate revoked");
    CertificateExpired = 45, "certificate_expired", Some("sslv3 alert certificate expired");
    CertificateUnknown = 46, "certificate_unknown", Some("sslv3 alert certificate unknown");
    IllegalParameter = 47, "illegal_parameter", Some("sslv3 alert illegal parameter");
    UnknownCa = 48, "unknown_ca", Some("tlsv1 alert unknown ca");
    AccessDenied = 49, "access_denied", Some("tlsv1 alert access denied");
    DecodeError = 50, "decode_error", Some("tlsv1 alert decode error");
    DecryptError = 51, "decrypt_error", Some("tlsv1 alert decrypt error");
    TooManyCidsRequested = 52, "too_many_cids_requested", None;
    ExportRestriction = 60, "export_restriction", Some("tlsv1 alert export restriction");
    ProtocolVersion = 70, "protocol_version", Some("tlsv1 alert protocol version");
    InsufficientSecurity = 71, "insufficient_security", Some("tlsv1 alert insufficient security");
    InternalError = 80, "internal_error", Some("tlsv1 alert internal error");
    InappropriateFallback = 86, "inappropriate_fallback", Some("tlsv1 alert inappropriate fallback");
    UserCanceled = 90, "user_canceled", Some("tlsv1 alert user cancelled");
    NoRenegotiation = 100, "no_renegotiation", Some("tlsv1 alert no renegotiation");
    MissingExtension = 109, "missing_extension", Some("tlsv13 alert missing extension");
    UnsupportedExtension = 110, "unsupported_extension", Some("tlsv1 unsupported extension");
    CertificateUnobtainable = 111, "certificate_unobtainable", Some("tlsv1 certificate unobtainable");
    UnrecognizedName = 112, "unrecognized_name", Some("tlsv1 unrecognized name");
    BadCertificateStatusResponse = 113, "bad_certificate_status_response", Some("tlsv1 bad certificate status response");
    BadCertificateHashValue = 114, "bad_certificate_hash_value", Some("tlsv1 bad certificate hash value");
    UnknownPskIdentity = 115, "unknown_psk_identity", Some("tlsv1 alert unknown psk identity");
    CertificateRequired = 116, "certificate_required", Some("tlsv13 alert certificate required");
    GeneralError = 117, "general_error", None;
    NoApplicationProtocol = 120, "no_application_protocol", Some("tlsv1 alert no application protocol");
    EchRequired = 121, "ech_required", None;
}

impl From<u8> for AlertLevel {
    fn from(v: u8) -> Self {
        AlertLevel::from_u8(v)
    }
}

impl From<AlertLevel> for u8 {
    fn from(l: AlertLevel) -> u8 {
        l.to_u8()
    }
}

impl From<u8> for AlertDescription {
    fn from(v: u8) -> Self {
        AlertDescription::from_u8(v)
    }
}

impl From<AlertDescription> for u8 {
    fn from(d: AlertDescription) -> u8 {
        d.to_u8()
    }
}

/// One alert message (two bytes).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Alert {
    pub level: AlertLevel,
    pub description: AlertDescription,
}

impl Alert {
    pub fn fatal(description: AlertDescription) -> Self {
        Alert {
            level: AlertLevel::Fatal,
            description,
        }
    }
}

impl Codec for AlertLevel {
    fn encode(&self, out: &mut Vec<u8>) {
        out.push(self.to_u8());
    }
    fn decode(r: &mut Reader<'_>) -> Result<Self, WireError> {
        Ok(AlertLevel::from_u8(r.u8()?))
    }
}

impl Codec for AlertDescription {
    fn encode(&self, out: &mut Vec<u8>) {
        out.push(self.to_u8());
    }
    fn decode(r: &mut Reader<'_>) -> Result<Self, WireError> {
        Ok(AlertDescription::from_u8(r.u8()?))
    }
}

impl Codec for Alert {
    fn encode(&self, out: &mut Vec<u8>) {
        self.level.encode(out);
        self.description.encode(out);
    }
    fn decode(r: &mut Reader<'_>) -> Result<Self, WireError> {
        let level = AlertLevel::decode(r)?;
        let description = AlertDescription::decode(r)?;
        Ok(Alert { level, description })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_round_trips() {
        for v in 0..=255u8 {
            assert_eq!(AlertDescription::from_u8(v).to_u8(), v);
            assert_eq!(AlertLevel::from_u8(v).to_u8(), v);
        }
        assert_eq!(AlertDescription::ALL.len(), 37);
        for a in AlertDescription::ALL {
            assert!(!matches!(a, AlertDescription::Unknown(_)));
            assert_ne!(a.name(), "unknown_alert");
        }
    }

    #[test]
    fn names_and_openssl_reasons() {
        use AlertDescription as D;
        assert_eq!(D::from_u8(40), D::HandshakeFailure);
        assert_eq!(D::HandshakeFailure.name(), "handshake_failure");
        assert_eq!(
            D::ProtocolVersion.openssl_reason(),
            Some("tlsv1 alert protocol version")
        );
        assert_eq!(
            D::HandshakeFailure.openssl_reason(),
            Some("sslv3 alert handshake failure")
        );
        assert_eq!(
            D::UnrecognizedName.openssl_reason(),
            Some("tlsv1 unrecognized name")
        );
        assert_eq!(
            D::CertificateRequired.openssl_reason(),
            Some("tlsv13 alert certificate required")
        );
        assert_eq!(D::Unknown(200).openssl_reason(), None);
        assert_eq!(D::Unknown(200).name(), "unknown_alert");
    }

    #[test]
    fn alert_codec() {
        let a = Alert::fatal(AlertDescription::ProtocolVersion);
        assert_eq!(a.to_bytes(), vec![2, 70]);
        assert_eq!(Alert::from_bytes(&[2, 70]).unwrap(), a);
        assert_eq!(
            Alert::from_bytes(&[9, 250]).unwrap(),
            Alert {
                level: AlertLevel::Unknown(9),
                description: AlertDescription::Unknown(250)
            }
        );
        assert!(Alert::from_bytes(&[2]).is_err());
        assert!(Alert::from_bytes(&[]).is_err());
        assert!(Alert::from_bytes(&[2, 40, 0]).is_err());
        for v in 0..=255u8 {
            assert_eq!(AlertDescription::from_bytes(&[v]).unwrap().to_bytes(), [v]);
            assert_eq!(AlertLevel::from_bytes(&[v]).unwrap().to_bytes(), [v]);
        }
    }
}
