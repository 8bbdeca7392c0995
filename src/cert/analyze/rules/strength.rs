//! Key sizes and signature hashes that OpenSSL 3's default security level refuses
//! (data/openssl-security-levels.toml).

use x509_parser::prelude::*;
use x509_parser::public_key::PublicKey;

use super::super::client_texts::cause_breaks;
use super::super::prose::role_name;
use crate::cert::describe::CertInfo;
use crate::clients::{CertCause, SecurityLevel};
use crate::finding::catalogue::finding;
use crate::finding::{Finding, FindingId};

/// Below what OpenSSL 3 accepts at its default security level.
fn weak_key(i: &CertInfo) -> bool {
    let limits = SecurityLevel::openssl3_default().limits();
    match i.key_type.as_str() {
        "RSA" | "DSA" => i.key_bits < limits.min_rsa_bits,
        t if t.starts_with("EC") => i.key_bits < limits.min_ecc_bits,
        _ => false,
    }
}

pub(crate) fn strength_findings(
    f: &mut Vec<Finding>,
    eval: &[(&X509Certificate<'_>, &CertInfo)],
    anchored_self_signed: bool,
    host: &str,
) {
    let level = SecurityLevel::openssl3_default();
    let limits = level.limits();
    for (pos, (_, i)) in eval.iter().enumerate() {
        if weak_key(i) {
            let key = if pos == 0 {
                CertCause::EeKeyTooWeak
            } else {
                CertCause::CaKeyTooWeak
            };
            let vars = [
                ("role", role_name(pos, i).to_string()),
                ("subject", i.subject.clone()),
                ("bits", i.key_bits.to_string()),
                ("key_type", i.key_type.clone()),
            ];
            let x = finding(FindingId::CertWeakKey, &vars)
            .evidence(format!("{} {} bits; OpenSSL 3 at its default security level {} requires RSA/DSA >= {} bits and EC >= {} bits", i.key_type, i.key_bits, level.0, limits.min_rsa_bits, limits.min_ecc_bits));
            f.push(cause_breaks(x, key, host));
        }
    }
    for (pos, (_, i)) in eval.iter().enumerate() {
        // The self-signature of the trust anchor is never checked, so its hash does not matter.
        let is_anchor_self = pos + 1 == eval.len() && anchored_self_signed;
        if is_anchor_self {
            continue;
        }
        if i.sig_hash == "sha1" || i.sig_hash == "md5" {
            let vars = [
                ("role", role_name(pos, i).to_string()),
                ("subject", i.subject.clone()),
                ("algorithm", i.signature_algorithm.clone()),
            ];
            let x = finding(FindingId::CertSha1Signature, &vars)
            .evidence(format!("signature algorithm {} (hash {}), issued by \"{}\"", i.signature_algorithm, i.sig_hash, i.issuer))
            .evidence("OpenSSL 3 at its default security level refuses SHA-1 and MD5 signatures in the chain");
            f.push(cause_breaks(x, CertCause::CaMdTooWeak, host));
        }
    }
}

/// The public key size of an RSA key, for tests and callers that hold only SPKI bytes.
pub fn rsa_bits(spki_der: &[u8]) -> Option<usize> {
    let (_, spki) = SubjectPublicKeyInfo::from_der(spki_der).ok()?;
    match spki.parsed().ok()? {
        PublicKey::RSA(r) => Some(r.key_size()),
        _ => None,
    }
}
