//! Parse an OCSP response (RFC 6960) completely, keeping the exact signed bytes for
//! verification. Structures come from the `x509-ocsp` crate (RustCrypto formats); the signed
//! `tbsResponseData` and the certificates are taken verbatim from the input with the `tlv` reader.

use super::tlv;
use der::Decode;
use serde::Serialize;
use x509_ocsp::{BasicOcspResponse, CertStatus, OcspResponse, OcspResponseStatus, ResponderId};

/// id-pkix-ocsp-basic: the only response type in use.
const OCSP_BASIC: &str = "1.3.6.1.5.5.7.48.1.1";

/// Hash algorithm names for the OIDs a CertID uses.
pub fn hash_name(oid: &str) -> String {
    match oid {
        "1.3.14.3.2.26" => "SHA-1".into(),
        "2.16.840.1.101.3.4.2.1" => "SHA-256".into(),
        "2.16.840.1.101.3.4.2.2" => "SHA-384".into(),
        "2.16.840.1.101.3.4.2.3" => "SHA-512".into(),
        other => other.to_string(),
    }
}

/// Signature algorithm names for the OIDs OCSP responders use.
pub fn signature_name(oid: &str) -> String {
    match oid {
        "1.2.840.113549.1.1.5" => "sha1WithRSAEncryption".into(),
        "1.2.840.113549.1.1.11" => "sha256WithRSAEncryption".into(),
        "1.2.840.113549.1.1.12" => "sha384WithRSAEncryption".into(),
        "1.2.840.113549.1.1.13" => "sha512WithRSAEncryption".into(),
        "1.2.840.113549.1.1.10" => "RSASSA-PSS".into(),
        "1.2.840.10045.4.1" => "ecdsa-with-SHA1".into(),
        "1.2.840.10045.4.3.2" => "ecdsa-with-SHA256".into(),
        "1.2.840.10045.4.3.3" => "ecdsa-with-SHA384".into(),
        "1.2.840.10045.4.3.4" => "ecdsa-with-SHA512".into(),
        "1.3.101.112" => "Ed25519".into(),
        other => other.to_string(),
    }
}

/// The certificate a single response is about.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CertIdInfo {
    pub hash_algorithm: String,
    #[serde(skip)]
    pub hash_oid: String,
    /// Hex.
    pub issuer_name_hash: String,
    /// Hex.
    pub issuer_key_hash: String,
    /// Hex, as encoded (a leading 00 kept).
    pub serial: String,
}

/// What the responder says about the certificate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "status", rename_all = "lowercase")]
pub enum CertStatusInfo {
    Good,
    Revoked {
        time: String,
        time_unix: i64,
        /// CRL reason (RFC 5280 §5.3.1), when given.
        reason: Option<String>,
    },
    Unknown,
}

impl CertStatusInfo {
    pub fn describe(&self) -> String {
        match self {
            CertStatusInfo::Good => "good".into(),
            CertStatusInfo::Unknown => "unknown".into(),
            CertStatusInfo::Revoked { time, reason, .. } => match reason {
                Some(r) => format!("revoked at {time} (reason: {r})"),
                None => format!("revoked at {time} (no reason given)"),
            },
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SingleResponseInfo {
    pub cert_id: CertIdInfo,
    pub cert_status: CertStatusInfo,
    pub this_update: String,
    pub this_update_unix: i64,
    pub next_update: Option<String>,
    pub next_update_unix: Option<i64>,
}

/// How the response names its signer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "by", rename_all = "snake_case")]
pub enum ResponderIdInfo {
    /// The signer's subject as printed; `der` is its encoding, compared with certificates.
    Name {
        name: String,
        #[serde(skip)]
        der: Vec<u8>,
    },
    /// SHA-1 of the signer's public key (hex).
    KeyHash { sha1: String },
}

impl std::fmt::Display for ResponderIdInfo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ResponderIdInfo::Name { name, .. } => write!(f, "by name: {name}"),
            ResponderIdInfo::KeyHash { sha1 } => write!(f, "by key SHA-1 hash: {sha1}"),
        }
    }
}

/// A certificate carried inside the response (a delegated responder, usually).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct IncludedCert {
    pub subject: String,
    #[serde(skip)]
    pub der: Vec<u8>,
}

/// A fully parsed OCSP response.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ParsedResponse {
    /// successful, malformedRequest, internalError, tryLater, sigRequired, unauthorized.
    pub response_status: String,
    /// The rest is present only for a successful basic response.
    pub responder_id: Option<ResponderIdInfo>,
    pub produced_at: Option<String>,
    pub responses: Vec<SingleResponseInfo>,
    pub signature_algorithm: Option<String>,
    pub certs: Vec<IncludedCert>,
    #[serde(skip)]
    pub signed: Option<SignedPart>,
}

/// The bytes and signature to verify.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedPart {
    pub tbs: Vec<u8>,
    pub algorithm_oid: String,
    /// DER of the algorithm parameters, when present (RSASSA-PSS needs them).
    pub algorithm_params: Option<Vec<u8>>,
    pub signature: Vec<u8>,
}

fn status_name(s: OcspResponseStatus) -> &'static str {
    match s {
        OcspResponseStatus::Successful => "successful",
        OcspResponseStatus::MalformedRequest => "malformedRequest",
        OcspResponseStatus::InternalError => "internalError",
        OcspResponseStatus::TryLater => "tryLater",
        OcspResponseStatus::SigRequired => "sigRequired",
        OcspResponseStatus::Unauthorized => "unauthorized",
    }
}

fn time_of(t: &x509_ocsp::OcspGeneralizedTime) -> (String, i64) {
    let secs = t.0.to_unix_duration().as_secs();
    (
        t.0.to_date_time().to_string(),
        i64::try_from(secs).unwrap_or(i64::MAX),
    )
}

fn reason_name(r: x509_cert::ext::pkix::CrlReason) -> &'static str {
    use x509_cert::ext::pkix::CrlReason as R;
    match r {
        R::Unspecified => "unspecified",
        R::KeyCompromise => "keyCompromise",
        R::CaCompromise => "cACompromise",
        R::AffiliationChanged => "affiliationChanged",
        R::Superseded => "superseded",
        R::CessationOfOperation => "cessationOfOperation",
        R::CertificateHold => "certificateHold",
        R::RemoveFromCRL => "removeFromCRL",
        R::PrivilegeWithdrawn => "privilegeWithdrawn",
        R::AaCompromise => "aACompromise",
    }
}

/// The signed bytes and the certificates, verbatim from the BasicOCSPResponse encoding.
fn raw_parts(basic_der: &[u8]) -> Option<(Vec<u8>, Vec<Vec<u8>>)> {
    let (outer, _) = tlv::read(basic_der)?;
    let parts = tlv::children(outer.content)?;
    let tbs = parts.first()?.raw.to_vec();
    let mut certs = Vec::new();
    if let Some(explicit) = parts.iter().find(|p| p.tag == 0xa0) {
        let (seq, _) = tlv::read(explicit.content)?;
        for c in tlv::children(seq.content)? {
            certs.push(c.raw.to_vec());
        }
    }
    Some((tbs, certs))
}

/// Parse a DER OCSP response. Errors say which layer could not be decoded.
pub fn parse_response(der_bytes: &[u8]) -> Result<ParsedResponse, String> {
    if der_bytes.is_empty() {
        return Err("the response is empty".into());
    }
    let outer =
        OcspResponse::from_der(der_bytes).map_err(|e| format!("not a DER OCSPResponse: {e}"))?;
    let mut out = ParsedResponse {
        response_status: status_name(outer.response_status).to_string(),
        responder_id: None,
        produced_at: None,
        responses: Vec::new(),
        signature_algorithm: None,
        certs: Vec::new(),
        signed: None,
    };
    if outer.response_status != OcspResponseStatus::Successful {
        return Ok(out);
    }
    let bytes = outer
        .response_bytes
        .ok_or("a successful response without responseBytes")?;
    let rtype = bytes.response_type.to_string();
    if rtype != OCSP_BASIC {
        return Err(format!(
            "response type {rtype} is not id-pkix-ocsp-basic ({OCSP_BASIC})"
        ));
    }
    let basic_der = bytes.response.as_bytes();
    let basic = BasicOcspResponse::from_der(basic_der)
        .map_err(|e| format!("not a DER BasicOCSPResponse: {e}"))?;
    let (tbs, certs) =
        raw_parts(basic_der).ok_or("the BasicOCSPResponse framing could not be read")?;
    let data = &basic.tbs_response_data;
    out.responder_id = Some(match &data.responder_id {
        ResponderId::ByName(name) => ResponderIdInfo::Name {
            name: name.to_string(),
            der: der::Encode::to_der(name).unwrap_or_default(),
        },
        ResponderId::ByKey(hash) => ResponderIdInfo::KeyHash {
            sha1: hex::encode(hash.as_bytes()),
        },
    });
    out.produced_at = Some(time_of(&data.produced_at).0);
    for single in &data.responses {
        let id = &single.cert_id;
        let hash_oid = id.hash_algorithm.oid.to_string();
        let cert_status = match &single.cert_status {
            CertStatus::Good(_) => CertStatusInfo::Good,
            CertStatus::Unknown(_) => CertStatusInfo::Unknown,
            CertStatus::Revoked(info) => {
                let (time, time_unix) = time_of(&info.revocation_time);
                CertStatusInfo::Revoked {
                    time,
                    time_unix,
                    reason: info.revocation_reason.map(|r| reason_name(r).to_string()),
                }
            }
        };
        let (this_update, this_update_unix) = time_of(&single.this_update);
        let next = single.next_update.as_ref().map(time_of);
        out.responses.push(SingleResponseInfo {
            cert_id: CertIdInfo {
                hash_algorithm: hash_name(&hash_oid),
                hash_oid,
                issuer_name_hash: hex::encode(id.issuer_name_hash.as_bytes()),
                issuer_key_hash: hex::encode(id.issuer_key_hash.as_bytes()),
                serial: hex::encode(id.serial_number.as_bytes()),
            },
            cert_status,
            this_update,
            this_update_unix,
            next_update: next.as_ref().map(|n| n.0.clone()),
            next_update_unix: next.map(|n| n.1),
        });
    }
    let alg_oid = basic.signature_algorithm.oid.to_string();
    out.signature_algorithm = Some(signature_name(&alg_oid));
    for c in certs {
        let subject = match x509_parser::parse_x509_certificate(&c) {
            Ok((_, cert)) => crate::cert::name::name_text(cert.subject()),
            Err(_) => "(undecodable certificate)".to_string(),
        };
        out.certs.push(IncludedCert { subject, der: c });
    }
    out.signed = Some(SignedPart {
        tbs,
        algorithm_oid: alg_oid,
        algorithm_params: basic
            .signature_algorithm
            .parameters
            .as_ref()
            .and_then(|p| der::Encode::to_der(p).ok()),
        signature: basic
            .signature
            .as_bytes()
            .ok_or("the signature BIT STRING has unused bits")?
            .to_vec(),
    });
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn garbage_and_truncation_are_errors_not_panics() {
        assert!(parse_response(&[]).is_err());
        assert!(parse_response(b"hello").is_err());
        assert!(parse_response(&[0x30, 0x82, 0xff, 0xff, 0x0a]).is_err());
        // OCSPResponse { responseStatus tryLater }
        let r = parse_response(&[0x30, 0x03, 0x0a, 0x01, 0x03]).unwrap();
        assert_eq!(r.response_status, "tryLater");
        assert!(r.signed.is_none());
    }
}
