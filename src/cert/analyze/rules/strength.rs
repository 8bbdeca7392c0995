//! Key sizes and signature hashes clients refuse. Whether the chain is flagged follows OpenSSL
//! 3's default security level (data/openssl-security-levels.toml); which listed clients fail
//! follows each one's profile limits (data/clients/*.toml), measured against the real clients.

use x509_parser::prelude::*;
use x509_parser::public_key::PublicKey;

use super::super::client_texts::{cause_breaks_with, styles_accepting};
use super::super::prose::{java_dn, role_name};
use crate::cert::describe::CertInfo;
use crate::clients::{CertCause, CertVars, ClientPolicy, SecurityLevel};
use crate::finding::catalogue::finding;
use crate::finding::{Finding, FindingId};

/// Whether a client with `policy` accepts this certificate's key.
fn key_accepted(policy: &ClientPolicy, i: &CertInfo) -> bool {
    match i.key_type.as_str() {
        "RSA" | "DSA" => i.key_bits >= policy.limits.min_rsa_bits,
        t if t.starts_with("EC") => i.key_bits >= policy.limits.min_ecc_bits,
        _ => true,
    }
}

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
    for (pos, (c, i)) in eval.iter().enumerate() {
        if !weak_key(i) {
            continue;
        }
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
        let mut x = finding(FindingId::CertWeakKey, &vars)
            .evidence(format!("{} {} bits; OpenSSL 3 at its default security level {} requires RSA/DSA >= {} bits and EC >= {} bits", i.key_type, i.key_bits, level.0, limits.min_rsa_bits, limits.min_ecc_bits));
        let accepting = styles_accepting(|p| key_accepted(p, i));
        for (_, name) in &accepting {
            x = x.evidence(format!(
                "{name} accepts a {}-bit {} key (measured limit)",
                i.key_bits, i.key_type
            ));
        }
        let leave_out: Vec<_> = accepting.iter().map(|(s, _)| *s).collect();
        let (bits, dn) = (i.key_bits.to_string(), java_dn(c));
        let cv = CertVars {
            bits: &bits,
            subject_dn: &dn,
            ..CertVars::host(host)
        };
        f.push(cause_breaks_with(x, key, cv, &leave_out));
    }
    for (pos, (_, i)) in eval.iter().enumerate() {
        // The self-signature of the trust anchor is never checked, so its hash does not matter.
        let is_anchor_self = pos + 1 == eval.len() && anchored_self_signed;
        if is_anchor_self {
            continue;
        }
        let vars = [
            ("role", role_name(pos, i).to_string()),
            ("subject", i.subject.clone()),
            ("algorithm", i.signature_algorithm.clone()),
        ];
        let signed_by = format!(
            "signature algorithm {} (hash {}), issued by \"{}\"",
            i.signature_algorithm, i.sig_hash, i.issuer
        );
        if i.sig_hash == "md5" {
            let x = finding(FindingId::CertMd5Signature, &vars)
                .evidence(signed_by)
                .evidence("MD5 signatures can be forged (collisions are practical): every current client refuses them at any security level");
            f.push(cause_breaks_with(
                x,
                CertCause::Md5Signature,
                CertVars::host(host),
                &[],
            ));
        } else if i.sig_hash == "sha1" {
            let mut x = finding(FindingId::CertSha1Signature, &vars)
                .evidence(signed_by)
                .evidence(
                    "OpenSSL 3 at its default security level refuses SHA-1 signatures in the chain",
                );
            let accepting = styles_accepting(|p| p.limits.accepts_sha1_certificates);
            for (_, name) in &accepting {
                x = x.evidence(format!(
                    "{name} accepts SHA-1 signed certificates (measured under a private root)"
                ));
            }
            let leave_out: Vec<_> = accepting.iter().map(|(s, _)| *s).collect();
            f.push(cause_breaks_with(
                x,
                CertCause::CaMdTooWeak,
                CertVars::host(host),
                &leave_out,
            ));
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
