//! OCSP responses (RFC 6960) for stapling, assembled by hand in DER and signed with ECDSA
//! P-256 / SHA-256 through ring.

use ring::digest;
use time::OffsetDateTime;

use super::der::{self, ENUMERATED, OCTET_STRING};

/// What the stapled response says about the certificate.
#[derive(Clone, Copy, Debug)]
pub(crate) enum CertStatus {
    Good,
    /// Revoked at this time (reason: keyCompromise).
    Revoked(OffsetDateTime),
}

/// The parts of the issuing CA certificate a CertID and ResponderID need.
pub(crate) struct IssuerInfo {
    name_hash: Vec<u8>,
    key_hash: Vec<u8>,
}

impl IssuerInfo {
    pub fn from_cert(der: &[u8]) -> Result<IssuerInfo, String> {
        let (_, cert) = x509_parser::parse_x509_certificate(der).map_err(|e| e.to_string())?;
        let subject = cert.tbs_certificate.subject.as_raw();
        let key = cert
            .tbs_certificate
            .subject_pki
            .subject_public_key
            .data
            .as_ref();
        Ok(IssuerInfo {
            name_hash: digest::digest(&digest::SHA1_FOR_LEGACY_USE_ONLY, subject)
                .as_ref()
                .to_vec(),
            key_hash: digest::digest(&digest::SHA1_FOR_LEGACY_USE_ONLY, key)
                .as_ref()
                .to_vec(),
        })
    }
}

/// The serial number (magnitude bytes) of a certificate.
pub(crate) fn serial_of(der: &[u8]) -> Result<Vec<u8>, String> {
    let (_, cert) = x509_parser::parse_x509_certificate(der).map_err(|e| e.to_string())?;
    Ok(cert.tbs_certificate.raw_serial().to_vec())
}

/// A complete DER `OCSPResponse` (status successful, basic response) for one certificate.
/// `validity` is (thisUpdate, nextUpdate).
pub(crate) fn response(
    issuer: &IssuerInfo,
    serial: &[u8],
    status: CertStatus,
    (this_update, next_update): (OffsetDateTime, OffsetDateTime),
    produced_at: OffsetDateTime,
    signer: &ring::signature::EcdsaKeyPair,
) -> Result<Vec<u8>, String> {
    let sha1_alg = der::seq(&[&der::oid(&[1, 3, 14, 3, 2, 26]), &[0x05, 0x00]]);
    let cert_id = der::seq(&[
        &sha1_alg,
        &der::tlv(OCTET_STRING, &issuer.name_hash),
        &der::tlv(OCTET_STRING, &issuer.key_hash),
        &der::uint(serial),
    ]);
    let cert_status = match status {
        // good [0] IMPLICIT NULL
        CertStatus::Good => vec![0x80, 0x00],
        // revoked [1] IMPLICIT RevokedInfo { revocationTime, [0] EXPLICIT CRLReason }
        CertStatus::Revoked(at) => der::tlv(
            0xa1,
            &[
                der::generalized_time(at),
                der::explicit(0, &der::tlv(ENUMERATED, &[1])),
            ]
            .concat(),
        ),
    };
    let single = der::seq(&[
        &cert_id,
        &cert_status,
        &der::generalized_time(this_update),
        &der::explicit(0, &der::generalized_time(next_update)),
    ]);
    // ResponderID byKey [2] EXPLICIT KeyHash
    let responder_id = der::explicit(2, &der::tlv(OCTET_STRING, &issuer.key_hash));
    let tbs = der::seq(&[
        &responder_id,
        &der::generalized_time(produced_at),
        &der::seq(&[&single]),
    ]);
    let sig = signer
        .sign(&ring::rand::SystemRandom::new(), &tbs)
        .map_err(|_| "ECDSA signing failed".to_string())?;
    let ecdsa_sha256 = der::seq(&[&der::oid(&[1, 2, 840, 10045, 4, 3, 2])]);
    let basic = der::seq(&[&tbs, &ecdsa_sha256, &der::bit_string(sig.as_ref())]);
    let response_bytes = der::seq(&[
        &der::oid(&[1, 3, 6, 1, 5, 5, 7, 48, 1, 1]),
        &der::tlv(OCTET_STRING, &basic),
    ]);
    Ok(der::seq(&[
        &der::tlv(ENUMERATED, &[0]),
        &der::explicit(0, &response_bytes),
    ]))
}
