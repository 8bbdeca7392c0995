//! Turn one DER certificate into plain facts a person can read (and JSON can carry).

use serde::Serialize;
use sha1::Sha1;
use sha2::{Digest, Sha256};
use x509_parser::prelude::*;
use x509_parser::public_key::PublicKey;

use super::CertError;
use super::data;

/// Everything we report about one certificate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CertInfo {
    /// Subject DN in RFC 4514-like order as x509-parser prints it, e.g. `CN=example.com, O=Example`.
    pub subject: String,
    pub issuer: String,
    /// Subject alternative names, typed: `DNS:example.com`, `IP:127.0.0.1`, `email:..`, `URI:..`.
    pub sans: Vec<String>,
    /// Serial number as colon-separated hex.
    pub serial: String,
    /// RFC 3339, UTC.
    pub not_before: String,
    pub not_after: String,
    /// Unix seconds, for comparisons.
    pub not_before_unix: i64,
    pub not_after_unix: i64,
    /// Whole days from the moment of description to `not_after`; negative once expired.
    pub days_left: i64,
    /// `RSA`, `EC P-256`, `EC P-384`, `Ed25519`, `DSA`, or the key algorithm OID.
    pub key_type: String,
    pub key_bits: usize,
    pub signature_algorithm: String,
    /// Hash used by the signature: `sha256`, `sha1`, `md5`, ...
    pub sig_hash: String,
    /// Key usage bit names; empty when the extension is absent.
    pub key_usage: Vec<String>,
    pub key_usage_present: bool,
    /// Extended key usage names (`serverAuth`, `clientAuth`, `any`, or OIDs); empty when absent.
    pub ext_key_usage: Vec<String>,
    pub ext_key_usage_present: bool,
    pub is_ca: bool,
    pub basic_constraints_present: bool,
    pub path_len: Option<u32>,
    pub aia_ca_issuers: Vec<String>,
    pub aia_ocsp: Vec<String>,
    pub crl_dps: Vec<String>,
    /// TLS feature extension asks for status_request (OCSP must-staple).
    pub must_staple: bool,
    /// Embedded signed certificate timestamps.
    pub sct_count: usize,
    pub sha256_fingerprint: String,
    pub sha1_fingerprint: String,
    /// Subject equals issuer.
    pub self_issued: bool,
    /// Self-issued and the signature verifies with the certificate's own key.
    pub self_signed_verified: bool,
    /// Hex key identifiers.
    pub ski: Option<String>,
    pub aki: Option<String>,
    /// Name constraints as `permitted DNS:example.com` / `excluded IP:10.0.0.0/8`.
    pub name_constraints: Vec<String>,
}

/// Colon-separated upper-case hex, the way OpenSSL prints fingerprints.
pub(crate) fn colon_hex(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(bytes.len() * 3);
    for (i, b) in bytes.iter().enumerate() {
        if i > 0 {
            s.push(':');
        }
        s.push_str(&format!("{b:02X}"));
    }
    s
}

pub(crate) fn parse(der: &[u8]) -> Result<X509Certificate<'_>, CertError> {
    match X509Certificate::from_der(der) {
        Ok((_, cert)) => Ok(cert),
        Err(e) => Err(CertError::Parse(e.to_string())),
    }
}

pub(crate) fn general_name(g: &GeneralName<'_>) -> String {
    match g {
        GeneralName::DNSName(d) => format!("DNS:{d}"),
        GeneralName::IPAddress(b) => format!("IP:{}", ip_text(b)),
        GeneralName::RFC822Name(e) => format!("email:{e}"),
        GeneralName::URI(u) => format!("URI:{u}"),
        GeneralName::DirectoryName(n) => format!("DirName:{}", super::name::name_text(n)),
        GeneralName::RegisteredID(o) => format!("RID:{o}"),
        GeneralName::OtherName(o, _) => format!("othername:{o}"),
        _ => "unsupported name form".to_string(),
    }
}

/// An IP address (4 or 16 bytes), or an address with mask (8 or 32 bytes, name constraints).
pub(crate) fn ip_text(b: &[u8]) -> String {
    use std::net::{Ipv4Addr, Ipv6Addr};
    match b.len() {
        4 => Ipv4Addr::new(b[0], b[1], b[2], b[3]).to_string(),
        16 => {
            let mut a = [0u8; 16];
            a.copy_from_slice(b);
            Ipv6Addr::from(a).to_string()
        }
        8 => format!("{}/{}", ip_text(&b[..4]), ip_text(&b[4..])),
        32 => format!("{}/{}", ip_text(&b[..16]), ip_text(&b[16..])),
        _ => format!("invalid({})", hex::encode(b)),
    }
}

const KEY_USAGE_NAMES: [&str; 9] = [
    "digitalSignature",
    "nonRepudiation",
    "keyEncipherment",
    "dataEncipherment",
    "keyAgreement",
    "keyCertSign",
    "cRLSign",
    "encipherOnly",
    "decipherOnly",
];

fn key_description(spki: &SubjectPublicKeyInfo<'_>) -> (String, usize) {
    let alg = spki.algorithm.algorithm.to_id_string();
    match spki.parsed() {
        Ok(PublicKey::RSA(rsa)) => ("RSA".to_string(), rsa.key_size()),
        Ok(PublicKey::EC(point)) => {
            let curve = spki
                .algorithm
                .parameters
                .as_ref()
                .and_then(|p| p.as_oid().ok())
                .map(|o| o.to_id_string());
            let name = match curve.as_deref() {
                Some("1.2.840.10045.3.1.7") => "EC P-256".to_string(),
                Some("1.3.132.0.34") => "EC P-384".to_string(),
                Some("1.3.132.0.35") => "EC P-521".to_string(),
                Some(other) => format!("EC {other}"),
                None => "EC".to_string(),
            };
            (name, point.key_size())
        }
        Ok(PublicKey::DSA(y)) => ("DSA".to_string(), y.len() * 8),
        _ => match alg.as_str() {
            "1.3.101.112" => ("Ed25519".to_string(), 256),
            "1.3.101.113" => ("Ed448".to_string(), 456),
            _ => (alg, spki.subject_public_key.data.len() * 8),
        },
    }
}

/// Signature algorithm display name and its hash, from the data file (falls back to the OID).
pub(crate) fn signature_names(cert: &X509Certificate<'_>) -> (String, String) {
    let oid = cert.signature_algorithm.algorithm.to_id_string();
    match data::signature_algorithm(&oid) {
        Some((name, hash)) => {
            if oid == "1.2.840.113549.1.1.10" {
                // RSASSA-PSS carries its hash in the parameters.
                let hash = pss_hash(cert).unwrap_or(hash);
                (name, hash)
            } else {
                (name, hash)
            }
        }
        None => (oid, "unknown".to_string()),
    }
}

fn pss_hash(cert: &X509Certificate<'_>) -> Option<String> {
    let params = cert.signature_algorithm.parameters.as_ref()?;
    let pss = x509_parser::signature_algorithm::RsaSsaPssParams::try_from(params).ok()?;
    Some(match pss.hash_algorithm_oid().to_id_string().as_str() {
        "2.16.840.1.101.3.4.2.1" => "sha256".to_string(),
        "2.16.840.1.101.3.4.2.2" => "sha384".to_string(),
        "2.16.840.1.101.3.4.2.3" => "sha512".to_string(),
        "1.3.14.3.2.26" => "sha1".to_string(),
        other => other.to_string(),
    })
}

/// Result of checking a certificate's signature with a candidate issuer key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SigCheck {
    Valid,
    Invalid,
    /// ring cannot check this algorithm (e.g. ecdsa-with-SHA1, DSA): decide by names and key ids.
    Unsupported,
}

/// Does `signer` verify the signature on `cert`?
pub(crate) fn signature_verifies(
    cert: &X509Certificate<'_>,
    signer: &SubjectPublicKeyInfo<'_>,
) -> bool {
    check_signature(cert, signer) == SigCheck::Valid
}

/// Check the signature on `cert` with `signer`'s key. Legacy variants are used so that SHA-1
/// and 1024-bit RSA still verify: we judge those separately and must still tell who issued what.
pub(crate) fn check_signature(
    cert: &X509Certificate<'_>,
    signer: &SubjectPublicKeyInfo<'_>,
) -> SigCheck {
    use ring::signature as s;
    let oid = cert.signature_algorithm.algorithm.to_id_string();
    let curve = signer
        .algorithm
        .parameters
        .as_ref()
        .and_then(|p| p.as_oid().ok())
        .map(|o| o.to_id_string())
        .unwrap_or_default();
    let p256 = curve == "1.2.840.10045.3.1.7";
    let p384 = curve == "1.3.132.0.34";
    let alg: &dyn s::VerificationAlgorithm = match oid.as_str() {
        "1.2.840.113549.1.1.5" | "1.3.14.3.2.29" => {
            &s::RSA_PKCS1_1024_8192_SHA1_FOR_LEGACY_USE_ONLY
        }
        "1.2.840.113549.1.1.11" => &s::RSA_PKCS1_1024_8192_SHA256_FOR_LEGACY_USE_ONLY,
        "1.2.840.113549.1.1.12" => &s::RSA_PKCS1_2048_8192_SHA384,
        "1.2.840.113549.1.1.13" => &s::RSA_PKCS1_1024_8192_SHA512_FOR_LEGACY_USE_ONLY,
        "1.2.840.113549.1.1.10" => match pss_hash(cert).as_deref() {
            Some("sha256") => &s::RSA_PSS_2048_8192_SHA256,
            Some("sha384") => &s::RSA_PSS_2048_8192_SHA384,
            Some("sha512") => &s::RSA_PSS_2048_8192_SHA512,
            _ => return SigCheck::Unsupported,
        },
        "1.2.840.10045.4.3.2" if p256 => &s::ECDSA_P256_SHA256_ASN1,
        "1.2.840.10045.4.3.2" if p384 => &s::ECDSA_P384_SHA256_ASN1,
        "1.2.840.10045.4.3.3" if p256 => &s::ECDSA_P256_SHA384_ASN1,
        "1.2.840.10045.4.3.3" if p384 => &s::ECDSA_P384_SHA384_ASN1,
        "1.3.101.112" => &s::ED25519,
        _ => return SigCheck::Unsupported,
    };
    // ring verifies RSA signatures only from 1024-bit keys (2048 for SHA-384 and PSS): a
    // smaller key's signature is one it cannot check, not a wrong one.
    let ring_min_rsa = match oid.as_str() {
        "1.2.840.113549.1.1.12" | "1.2.840.113549.1.1.10" => 2048,
        _ => 1024,
    };
    if let Ok(x509_parser::public_key::PublicKey::RSA(r)) = signer.parsed() {
        if r.key_size() < ring_min_rsa {
            return SigCheck::Unsupported;
        }
    }
    let key = s::UnparsedPublicKey::new(alg, &signer.subject_public_key.data);
    match key.verify(cert.tbs_certificate.as_ref(), &cert.signature_value.data) {
        Ok(()) => SigCheck::Valid,
        Err(_) => SigCheck::Invalid,
    }
}

/// Describe one certificate. `now_unix` sets `days_left`.
pub fn describe_at(der: &[u8], now_unix: i64) -> Result<CertInfo, CertError> {
    let cert = parse(der)?;
    let (key_type, key_bits) = key_description(cert.public_key());
    let (signature_algorithm, sig_hash) = signature_names(&cert);

    let mut info = CertInfo {
        subject: super::name::name_text(cert.subject()),
        issuer: super::name::name_text(cert.issuer()),
        sans: Vec::new(),
        serial: cert.raw_serial_as_string().to_ascii_uppercase(),
        not_before: rfc3339(cert.validity().not_before.timestamp()),
        not_after: rfc3339(cert.validity().not_after.timestamp()),
        not_before_unix: cert.validity().not_before.timestamp(),
        not_after_unix: cert.validity().not_after.timestamp(),
        days_left: (cert.validity().not_after.timestamp() - now_unix).div_euclid(86_400),
        key_type,
        key_bits,
        signature_algorithm,
        sig_hash,
        key_usage: Vec::new(),
        key_usage_present: false,
        ext_key_usage: Vec::new(),
        ext_key_usage_present: false,
        is_ca: false,
        basic_constraints_present: false,
        path_len: None,
        aia_ca_issuers: Vec::new(),
        aia_ocsp: Vec::new(),
        crl_dps: Vec::new(),
        must_staple: false,
        sct_count: 0,
        sha256_fingerprint: colon_hex(&Sha256::digest(der)),
        sha1_fingerprint: colon_hex(&Sha1::digest(der)),
        self_issued: cert.subject().as_raw() == cert.issuer().as_raw(),
        self_signed_verified: false,
        ski: None,
        aki: None,
        name_constraints: Vec::new(),
    };
    info.self_signed_verified = info.self_issued && signature_verifies(&cert, cert.public_key());

    for ext in cert.iter_extensions() {
        match ext.parsed_extension() {
            ParsedExtension::SubjectAlternativeName(san) => {
                info.sans = san.general_names.iter().map(general_name).collect();
            }
            ParsedExtension::KeyUsage(ku) => {
                info.key_usage_present = true;
                info.key_usage = KEY_USAGE_NAMES
                    .iter()
                    .enumerate()
                    .filter(|(i, _)| (ku.flags >> i) & 1 == 1)
                    .map(|(_, n)| n.to_string())
                    .collect();
            }
            ParsedExtension::ExtendedKeyUsage(eku) => {
                info.ext_key_usage_present = true;
                let flags = [
                    (eku.any, "any"),
                    (eku.server_auth, "serverAuth"),
                    (eku.client_auth, "clientAuth"),
                    (eku.code_signing, "codeSigning"),
                    (eku.email_protection, "emailProtection"),
                    (eku.time_stamping, "timeStamping"),
                    (eku.ocsp_signing, "OCSPSigning"),
                ];
                info.ext_key_usage = flags
                    .iter()
                    .filter(|(on, _)| *on)
                    .map(|(_, n)| n.to_string())
                    .chain(eku.other.iter().map(|o| o.to_id_string()))
                    .collect();
            }
            ParsedExtension::BasicConstraints(bc) => {
                info.basic_constraints_present = true;
                info.is_ca = bc.ca;
                info.path_len = bc.path_len_constraint;
            }
            ParsedExtension::AuthorityInfoAccess(aia) => {
                for d in &aia.accessdescs {
                    let loc = match &d.access_location {
                        GeneralName::URI(u) => u.to_string(),
                        other => general_name(other),
                    };
                    match d.access_method.to_id_string().as_str() {
                        "1.3.6.1.5.5.7.48.2" => info.aia_ca_issuers.push(loc),
                        "1.3.6.1.5.5.7.48.1" => info.aia_ocsp.push(loc),
                        _ => {}
                    }
                }
            }
            ParsedExtension::CRLDistributionPoints(dps) => {
                for p in &dps.points {
                    if let Some(x509_parser::extensions::DistributionPointName::FullName(names)) =
                        &p.distribution_point
                    {
                        for n in names {
                            info.crl_dps.push(match n {
                                GeneralName::URI(u) => u.to_string(),
                                other => general_name(other),
                            });
                        }
                    }
                }
            }
            ParsedExtension::SCT(scts) => info.sct_count = scts.len(),
            ParsedExtension::SubjectKeyIdentifier(k) => info.ski = Some(colon_hex(k.0)),
            ParsedExtension::AuthorityKeyIdentifier(aki) => {
                info.aki = aki.key_identifier.as_ref().map(|k| colon_hex(k.0));
            }
            ParsedExtension::NameConstraints(nc) => {
                for (kind, list) in [
                    ("permitted", &nc.permitted_subtrees),
                    ("excluded", &nc.excluded_subtrees),
                ] {
                    for t in list.iter().flatten() {
                        info.name_constraints
                            .push(format!("{kind} {}", general_name(&t.base)));
                    }
                }
            }
            _ => {
                // TLS feature (RFC 7633): SEQUENCE OF INTEGER; status_request is 5.
                if ext.oid.to_id_string() == "1.3.6.1.5.5.7.1.24" {
                    info.must_staple = tls_feature_has_status_request(ext.value);
                }
            }
        }
    }
    Ok(info)
}

/// Describe one certificate as of now.
pub fn describe(der: &[u8]) -> Result<CertInfo, CertError> {
    describe_at(der, unix_now(std::time::SystemTime::now()))
}

pub(crate) fn unix_now(t: std::time::SystemTime) -> i64 {
    match t.duration_since(std::time::UNIX_EPOCH) {
        Ok(d) => i64::try_from(d.as_secs()).unwrap_or(i64::MAX),
        Err(e) => -i64::try_from(e.duration().as_secs()).unwrap_or(i64::MAX),
    }
}

pub(crate) fn rfc3339(unix: i64) -> String {
    match ::time::OffsetDateTime::from_unix_timestamp(unix) {
        Ok(t) => {
            let d = t.date();
            let tm = t.time();
            format!(
                "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
                d.year(),
                u8::from(d.month()),
                d.day(),
                tm.hour(),
                tm.minute(),
                tm.second()
            )
        }
        Err(_) => format!("unix:{unix}"),
    }
}

fn tls_feature_has_status_request(value: &[u8]) -> bool {
    // 30 len { 02 01 05 ... }: walk the INTEGERs inside the SEQUENCE.
    if value.len() < 2 || value[0] != 0x30 {
        return false;
    }
    let mut i = 2;
    while i + 2 <= value.len() {
        if value[i] != 0x02 {
            return false;
        }
        let len = value[i + 1] as usize;
        let start = i + 2;
        let Some(end) = start.checked_add(len) else {
            return false;
        };
        if end > value.len() {
            return false;
        }
        if len == 1 && value[start] == 5 {
            return true;
        }
        i = end;
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn garbage_is_a_clear_error() {
        let e = describe(b"not a certificate").unwrap_err();
        assert!(e.to_string().contains("certificate"), "{e}");
    }

    #[test]
    fn describes_an_rcgen_certificate() {
        let mut params = rcgen::CertificateParams::new(vec!["a.example".to_string()]).unwrap();
        params
            .distinguished_name
            .push(rcgen::DnType::CommonName, "a.example");
        params.extended_key_usages = vec![rcgen::ExtendedKeyUsagePurpose::ServerAuth];
        params.use_authority_key_identifier_extension = false;
        let key = rcgen::KeyPair::generate().unwrap();
        let cert = params.self_signed(&key).unwrap();
        let info = describe(cert.der()).unwrap();
        assert_eq!(info.subject, "CN=a.example");
        assert_eq!(info.sans, vec!["DNS:a.example".to_string()]);
        assert_eq!(info.key_type, "EC P-256");
        assert_eq!(info.key_bits, 256);
        assert_eq!(info.signature_algorithm, "ecdsa-with-SHA256");
        assert_eq!(info.ext_key_usage, vec!["serverAuth".to_string()]);
        assert!(info.self_issued && info.self_signed_verified);
        assert_eq!(info.sha256_fingerprint.len(), 32 * 3 - 1);
    }

    #[test]
    fn must_staple_bytes() {
        assert!(tls_feature_has_status_request(&[
            0x30, 0x03, 0x02, 0x01, 0x05
        ]));
        assert!(!tls_feature_has_status_request(&[
            0x30, 0x03, 0x02, 0x01, 0x11
        ]));
        assert!(!tls_feature_has_status_request(&[0x30, 0x05, 0x02, 0x09]));
    }
}
