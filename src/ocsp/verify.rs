//! Validate an OCSP response the way a careful client does (RFC 6960 §3.2): the CertID names
//! the leaf and its issuer, the signer is the issuer or a responder the issuer delegated to
//! (issued by it, with the OCSP-signing EKU), the signature verifies, the time window holds
//! (with [`CLOCK_SKEW_SECS`] of tolerance) and the status is good. Signatures are checked with
//! `ring`, the same primitives rustls uses here.

use super::parse::{CertStatusInfo, ParsedResponse, ResponderIdInfo, SingleResponseInfo};
use serde::Serialize;
use sha1::Digest;
use x509_parser::prelude::{FromDer, X509Certificate};
use x509_parser::x509::SubjectPublicKeyInfo;

/// Tolerance for clock differences between responder, server and this machine when judging
/// thisUpdate and nextUpdate: 5 minutes, as OpenSSL's `OCSP_check_validity` callers
/// commonly use (`openssl ocsp` defaults to 300 s). PyMongo uses none.
pub const CLOCK_SKEW_SECS: i64 = 300;

/// id-kp-OCSPSigning.
const OCSP_SIGNING_EKU: &str = "1.3.6.1.5.5.7.3.9";

/// The certificate the response must be about and its issuer, as DER pieces.
#[derive(Debug, Clone)]
pub struct Subject<'a> {
    /// The leaf's DER.
    pub leaf: &'a [u8],
    /// The issuer's subject Name DER and SubjectPublicKeyInfo DER (from the chain or a
    /// trust store; the issuer certificate itself is not needed).
    pub issuer_name: &'a [u8],
    pub issuer_spki: &'a [u8],
    /// How the issuer was found, for evidence ("sent by the server", "system store").
    pub issuer_label: String,
}

/// Who signed the response.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Signer {
    /// The leaf's issuer signed it directly.
    Issuer,
    /// A delegated responder certificate carried in the response.
    Delegated {
        subject: String,
        issued_by_issuer: bool,
        has_ocsp_signing_eku: bool,
    },
    /// No certificate matching the responder ID was available.
    NotFound,
}

/// How a problem is classed; each class is its own finding.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ProblemKind {
    /// Unusable: unparsable, unsuccessful, wrong signer, bad signature, CertID mismatch.
    Invalid,
    /// Outside its validity window.
    Expired,
    Revoked,
    Unknown,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Problem {
    pub kind: ProblemKind,
    /// Short machine key, e.g. `bad-signature`, `next-update-past`.
    pub key: String,
    /// One sentence with the measured values.
    pub detail: String,
}

/// The verdict on one response.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Verdict {
    pub signer: Signer,
    /// Index of the single response that names the leaf.
    pub matched: Option<usize>,
    pub signature_valid: bool,
    /// Empty when the response is valid and says good.
    pub problems: Vec<Problem>,
}

impl Verdict {
    pub fn is_good(&self) -> bool {
        self.problems.is_empty()
    }
    pub fn has(&self, kind: ProblemKind) -> bool {
        self.problems.iter().any(|p| p.kind == kind)
    }
}

fn problem(kind: ProblemKind, key: &str, detail: impl Into<String>) -> Problem {
    Problem {
        kind,
        key: key.to_string(),
        detail: detail.into(),
    }
}

fn digest(oid: &str, data: &[u8]) -> Option<Vec<u8>> {
    Some(match oid {
        "1.3.14.3.2.26" => sha1::Sha1::digest(data).to_vec(),
        "2.16.840.1.101.3.4.2.1" => sha2::Sha256::digest(data).to_vec(),
        "2.16.840.1.101.3.4.2.2" => sha2::Sha384::digest(data).to_vec(),
        "2.16.840.1.101.3.4.2.3" => sha2::Sha512::digest(data).to_vec(),
        _ => return None,
    })
}

/// The public key bits of a SubjectPublicKeyInfo (what key hashes are computed over).
pub fn spki_key_bits(spki_der: &[u8]) -> Option<Vec<u8>> {
    let (_, spki) = SubjectPublicKeyInfo::from_der(spki_der).ok()?;
    Some(spki.subject_public_key.data.to_vec())
}

/// SHA-1 of the issuer's name and key, as an OCSP request names them.
pub fn sha1_cert_id_hashes(issuer_name: &[u8], issuer_spki: &[u8]) -> Option<(Vec<u8>, Vec<u8>)> {
    let key = spki_key_bits(issuer_spki)?;
    Some((
        sha1::Sha1::digest(issuer_name).to_vec(),
        sha1::Sha1::digest(&key).to_vec(),
    ))
}

/// Whether `params` (DER of RSASSA-PSS-params) names `hash_oid_der` as its hash.
fn pss_uses(params: &[u8], hash_oid_der: &[u8]) -> bool {
    params
        .windows(hash_oid_der.len())
        .any(|w| w == hash_oid_der)
}

/// Verify `signature` over `message` with the key in `spki_der`, for a signature algorithm
/// OID (and its parameters, for RSASSA-PSS).
pub fn verify_signature(
    spki_der: &[u8],
    alg_oid: &str,
    alg_params: Option<&[u8]>,
    message: &[u8],
    signature: &[u8],
) -> Result<(), String> {
    use ring::signature as s;
    let (_, spki) = SubjectPublicKeyInfo::from_der(spki_der)
        .map_err(|_| "the signer's public key could not be decoded".to_string())?;
    let key_oid = spki.algorithm.algorithm.to_id_string();
    let curve = spki
        .algorithm
        .parameters
        .as_ref()
        .and_then(|p| p.as_oid().ok())
        .map(|o| o.to_id_string())
        .unwrap_or_default();
    let key = spki.subject_public_key.data.as_ref();
    const SHA256: &[u8] = &[
        0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01,
    ];
    const SHA384: &[u8] = &[
        0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x02,
    ];
    const SHA512: &[u8] = &[
        0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x03,
    ];
    let alg: &dyn s::VerificationAlgorithm = match (key_oid.as_str(), alg_oid, curve.as_str()) {
        ("1.2.840.113549.1.1.1", "1.2.840.113549.1.1.5", _) => {
            &s::RSA_PKCS1_1024_8192_SHA1_FOR_LEGACY_USE_ONLY
        }
        ("1.2.840.113549.1.1.1", "1.2.840.113549.1.1.11", _) => {
            &s::RSA_PKCS1_1024_8192_SHA256_FOR_LEGACY_USE_ONLY
        }
        ("1.2.840.113549.1.1.1", "1.2.840.113549.1.1.12", _) => &s::RSA_PKCS1_2048_8192_SHA384,
        ("1.2.840.113549.1.1.1", "1.2.840.113549.1.1.13", _) => &s::RSA_PKCS1_2048_8192_SHA512,
        ("1.2.840.113549.1.1.1", "1.2.840.113549.1.1.10", _) => {
            let p = alg_params.unwrap_or_default();
            if pss_uses(p, SHA256) {
                &s::RSA_PSS_2048_8192_SHA256
            } else if pss_uses(p, SHA384) {
                &s::RSA_PSS_2048_8192_SHA384
            } else if pss_uses(p, SHA512) {
                &s::RSA_PSS_2048_8192_SHA512
            } else {
                return Err(
                    "RSASSA-PSS with a hash other than SHA-256/384/512 is not supported".into(),
                );
            }
        }
        ("1.2.840.10045.2.1", "1.2.840.10045.4.3.2", "1.2.840.10045.3.1.7") => {
            &s::ECDSA_P256_SHA256_ASN1
        }
        ("1.2.840.10045.2.1", "1.2.840.10045.4.3.3", "1.2.840.10045.3.1.7") => {
            &s::ECDSA_P256_SHA384_ASN1
        }
        ("1.2.840.10045.2.1", "1.2.840.10045.4.3.2", "1.3.132.0.34") => &s::ECDSA_P384_SHA256_ASN1,
        ("1.2.840.10045.2.1", "1.2.840.10045.4.3.3", "1.3.132.0.34") => &s::ECDSA_P384_SHA384_ASN1,
        ("1.3.101.112", "1.3.101.112", _) => &s::ED25519,
        (k, a, _) if family(k) != family_of_alg(a) && family_of_alg(a).is_some() => {
            return Err(format!(
                "the signature does not verify: it is a {} signature but the signer's key is {}, so another key made it",
                super::parse::signature_name(a),
                key_name(k)
            ));
        }
        (k, a, _) => {
            return Err(format!(
                "signature algorithm {} with a {} key is not supported by tlsdoctor's verifier",
                super::parse::signature_name(a),
                key_name(k)
            ));
        }
    };
    s::UnparsedPublicKey::new(alg, key)
        .verify(message, signature)
        .map_err(|_| "the signature does not verify".to_string())
}

fn key_name(oid: &str) -> &str {
    match oid {
        "1.2.840.113549.1.1.1" => "RSA",
        "1.2.840.10045.2.1" => "EC",
        "1.2.840.10040.4.1" => "DSA",
        "1.3.101.112" => "Ed25519",
        other => other,
    }
}

/// The key family of a public key OID.
fn family(key_oid: &str) -> Option<&'static str> {
    match key_oid {
        "1.2.840.113549.1.1.1" => Some("rsa"),
        "1.2.840.10045.2.1" => Some("ec"),
        "1.3.101.112" => Some("ed25519"),
        "1.2.840.10040.4.1" => Some("dsa"),
        _ => None,
    }
}

/// The key family a signature algorithm OID needs.
fn family_of_alg(alg_oid: &str) -> Option<&'static str> {
    if alg_oid.starts_with("1.2.840.113549.1.1.") {
        Some("rsa")
    } else if alg_oid.starts_with("1.2.840.10045.4.") {
        Some("ec")
    } else if alg_oid == "1.3.101.112" {
        Some("ed25519")
    } else if alg_oid.starts_with("1.2.840.10040.4.") {
        Some("dsa")
    } else {
        None
    }
}

/// Whether `cert` (parsed) was signed by the key in `issuer_spki` and names `issuer_name`.
fn issued_by(cert: &X509Certificate<'_>, issuer_name: &[u8], issuer_spki: &[u8]) -> bool {
    cert.issuer().as_raw() == issuer_name
        && verify_signature(
            issuer_spki,
            &cert.signature_algorithm.algorithm.to_id_string(),
            cert.signature_algorithm
                .parameters
                .as_ref()
                .map(|p| p.as_bytes()),
            cert.tbs_certificate.as_ref(),
            &cert.signature_value.data,
        )
        .is_ok()
}

fn responder_matches(id: &ResponderIdInfo, subject_der: &[u8], spki_der: &[u8]) -> bool {
    match id {
        ResponderIdInfo::Name { der, .. } => der.as_slice() == subject_der,
        ResponderIdInfo::KeyHash { sha1 } => {
            spki_key_bits(spki_der).is_some_and(|k| hex::encode(sha1::Sha1::digest(&k)) == *sha1)
        }
    }
}

fn single_matches(s: &SingleResponseInfo, serial: &str, name: &[u8], key: &[u8]) -> (bool, bool) {
    let id = &s.cert_id;
    let issuer_ok = digest(&id.hash_oid, name)
        .is_some_and(|h| hex::encode(h) == id.issuer_name_hash)
        && digest(&id.hash_oid, key).is_some_and(|h| hex::encode(h) == id.issuer_key_hash);
    (issuer_ok, id.serial == serial)
}

/// Validate `resp` for `subject` at `now_unix` (seconds).
pub fn validate(resp: &ParsedResponse, subject: &Subject<'_>, now_unix: i64) -> Verdict {
    let mut v = Verdict {
        signer: Signer::NotFound,
        matched: None,
        signature_valid: false,
        problems: Vec::new(),
    };
    use ProblemKind as K;
    if resp.response_status != "successful" {
        v.problems.push(problem(
            K::Invalid,
            "unsuccessful",
            format!(
                "the response status is {} (not successful): it carries no certificate status",
                resp.response_status
            ),
        ));
        return v;
    }
    let Some(signed) = &resp.signed else {
        v.problems.push(problem(
            K::Invalid,
            "unparsable",
            "the response has no signed part",
        ));
        return v;
    };
    let Ok((_, leaf)) = X509Certificate::from_der(subject.leaf) else {
        v.problems.push(problem(
            K::Invalid,
            "leaf-unparsable",
            "the leaf certificate could not be parsed",
        ));
        return v;
    };
    let serial = hex::encode(leaf.raw_serial());
    let key_bits = spki_key_bits(subject.issuer_spki).unwrap_or_default();

    // 1. The CertID names this leaf and this issuer.
    let mut issuer_mismatch = false;
    for (i, s) in resp.responses.iter().enumerate() {
        let (issuer_ok, serial_ok) = single_matches(s, &serial, subject.issuer_name, &key_bits);
        if issuer_ok && serial_ok {
            v.matched = Some(i);
            break;
        }
        issuer_mismatch |= serial_ok && !issuer_ok;
    }
    if v.matched.is_none() {
        let serials: Vec<&str> = resp
            .responses
            .iter()
            .map(|s| s.cert_id.serial.as_str())
            .collect();
        let detail = if issuer_mismatch {
            format!(
                "the response is for serial {serial} but its issuer name/key hashes do not match the leaf's issuer ({})",
                subject.issuer_label
            )
        } else {
            format!(
                "the response is about serial {} but the leaf's serial is {serial}: it is for another certificate",
                if serials.is_empty() {
                    "(none)".to_string()
                } else {
                    serials.join(", ")
                }
            )
        };
        v.problems
            .push(problem(K::Invalid, "cert-id-mismatch", detail));
    }

    // 2. Who signed it.
    let id = resp.responder_id.as_ref();
    let signer_spki: Option<Vec<u8>> = if id
        .is_some_and(|id| responder_matches(id, subject.issuer_name, subject.issuer_spki))
    {
        v.signer = Signer::Issuer;
        Some(subject.issuer_spki.to_vec())
    } else {
        let found = resp.certs.iter().find_map(|c| {
            let (_, cert) = X509Certificate::from_der(&c.der).ok()?;
            let spki = cert.public_key().raw;
            id.filter(|id| responder_matches(id, cert.subject().as_raw(), spki))?;
            let eku = cert.extended_key_usage().ok().flatten().is_some_and(|e| {
                e.value.ocsp_signing
                    || e.value
                        .other
                        .iter()
                        .any(|o| o.to_id_string() == OCSP_SIGNING_EKU)
            });
            Some((
                crate::cert::name::name_text(cert.subject()),
                issued_by(&cert, subject.issuer_name, subject.issuer_spki),
                eku,
                spki.to_vec(),
            ))
        });
        match found {
            Some((subj, issued, eku, spki)) => {
                v.signer = Signer::Delegated {
                    subject: subj.clone(),
                    issued_by_issuer: issued,
                    has_ocsp_signing_eku: eku,
                };
                if !issued {
                    v.problems.push(problem(
                        K::Invalid,
                        "responder-not-issued-by-issuer",
                        format!("the response is signed by {subj}, which the leaf's issuer did not sign: it is not authorised to answer for this certificate"),
                    ));
                }
                if !eku {
                    v.problems.push(problem(
                        K::Invalid,
                        "responder-without-ocsp-eku",
                        format!("the responder certificate {subj} lacks the OCSP-signing extended key usage (1.3.6.1.5.5.7.3.9)"),
                    ));
                }
                Some(spki)
            }
            None => {
                v.problems.push(problem(
                    K::Invalid,
                    "signer-not-found",
                    format!(
                        "the responder ({}) is neither the leaf's issuer nor a certificate included in the response",
                        id.map(|i| i.to_string()).unwrap_or_default()
                    ),
                ));
                None
            }
        }
    };

    // 3. The signature.
    if let Some(spki) = signer_spki {
        match verify_signature(
            &spki,
            &signed.algorithm_oid,
            signed.algorithm_params.as_deref(),
            &signed.tbs,
            &signed.signature,
        ) {
            Ok(()) => v.signature_valid = true,
            Err(e) => v.problems.push(problem(
                K::Invalid,
                "bad-signature",
                format!(
                    "{} ({} by {})",
                    e,
                    resp.signature_algorithm.as_deref().unwrap_or("?"),
                    match &v.signer {
                        Signer::Issuer => "the issuer's key".to_string(),
                        Signer::Delegated { subject, .. } => subject.clone(),
                        Signer::NotFound => "?".to_string(),
                    }
                ),
            )),
        }
    }

    // 4. Time window and status, for the matching single response (or the only one).
    let single = v.matched.or((resp.responses.len() == 1).then_some(0));
    if let Some(s) = single.and_then(|i| resp.responses.get(i)) {
        if s.this_update_unix > now_unix + CLOCK_SKEW_SECS {
            v.problems.push(problem(
                K::Expired,
                "this-update-future",
                format!(
                    "thisUpdate {} is {} in the future (tolerance {CLOCK_SKEW_SECS} s)",
                    s.this_update,
                    human_secs(s.this_update_unix - now_unix)
                ),
            ));
        }
        if let (Some(next), Some(text)) = (s.next_update_unix, &s.next_update) {
            if next < now_unix - CLOCK_SKEW_SECS {
                v.problems.push(problem(
                    K::Expired,
                    "next-update-past",
                    format!(
                        "nextUpdate {text} passed {} ago (tolerance {CLOCK_SKEW_SECS} s)",
                        human_secs(now_unix - next)
                    ),
                ));
            }
        }
        if v.matched.is_some() {
            match &s.cert_status {
                CertStatusInfo::Good => {}
                CertStatusInfo::Revoked { .. } => v.problems.push(problem(
                    K::Revoked,
                    "revoked",
                    format!("the responder says the certificate is {}", s.cert_status.describe()),
                )),
                CertStatusInfo::Unknown => v.problems.push(problem(
                    K::Unknown,
                    "unknown",
                    "the responder says the certificate's status is unknown (it does not know this certificate)",
                )),
            }
        }
    }
    v
}

/// "3 d 4 h", "12 min", "40 s".
pub fn human_secs(s: i64) -> String {
    let s = s.max(0);
    if s >= 86_400 {
        format!("{} d {} h", s / 86_400, (s % 86_400) / 3600)
    } else if s >= 3600 {
        format!("{} h {} min", s / 3600, (s % 3600) / 60)
    } else if s >= 60 {
        format!("{} min", s / 60)
    } else {
        format!("{s} s")
    }
}
