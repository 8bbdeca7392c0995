//! What each certificate may be used for: extended key usage and key usage for a TLS
//! server, basicConstraints and keyCertSign for issuers, and path length limits. Each cause
//! is its own finding, because clients word each one apart.

use x509_parser::prelude::*;

use super::super::client_texts::cause_breaks;
use crate::cert::describe::CertInfo;
use crate::clients::CertCause;
use crate::finding::catalogue::finding;
use crate::finding::{Finding, FindingId};

fn eku_allows_server(c: &X509Certificate<'_>) -> bool {
    match c.extended_key_usage() {
        Ok(Some(e)) => e.value.any || e.value.server_auth,
        _ => true,
    }
}

/// The server certificate's own usage: extendedKeyUsage without serverAuth, a keyUsage that
/// allows no TLS use at all (both: every client), or an RSA key that may not sign (Java and
/// GnuTLS only, measured: OpenSSL does not match keyUsage to the key exchange).
fn leaf_usage(f: &mut Vec<Finding>, c: &X509Certificate<'_>, i: &CertInfo, host: &str) {
    let mut problems: Vec<String> = Vec::new();
    if !eku_allows_server(c) {
        problems.push(format!(
            "extendedKeyUsage is {} without serverAuth",
            i.ext_key_usage.join(", ")
        ));
    }
    let has = |k: &str| i.key_usage.iter().any(|u| u == k);
    if i.key_usage_present
        && !has("digitalSignature")
        && !has("keyEncipherment")
        && !has("keyAgreement")
    {
        problems.push(format!(
            "keyUsage is {} without digitalSignature, keyEncipherment or keyAgreement",
            i.key_usage.join(", ")
        ));
    }
    if !problems.is_empty() {
        let vars = [
            ("role", "server".to_string()),
            ("subject", i.subject.clone()),
        ];
        let mut x = finding(FindingId::CertUsageForbidsServer, &vars);
        for p in problems {
            x = x.evidence(p);
        }
        f.push(cause_breaks(x, CertCause::UnsuitablePurpose, host));
        return;
    }
    if i.key_type == "RSA" && i.key_usage_present && !has("digitalSignature") {
        let x = finding(
            FindingId::CertRsaKeyUsageNoSignature,
            &[("subject", i.subject.clone())],
        )
        .evidence(format!("keyUsage is {}", i.key_usage.join(", ")))
        .evidence("ECDHE, DHE and every TLS 1.3 handshake sign with the server's key, which digitalSignature allows; keyEncipherment covers only static-RSA key exchange")
        .evidence("OpenSSL (Python, curl, s_client) and Node do not check keyUsage against the key exchange and connect (measured); Java and GnuTLS refuse");
        f.push(cause_breaks(x, CertCause::LeafNoDigitalSignature, host));
    }
}

pub(crate) fn usage_findings(
    f: &mut Vec<Finding>,
    eval: &[(&X509Certificate<'_>, &CertInfo)],
    host: &str,
    leaf_judged_elsewhere: bool,
) {
    for (pos, (c, i)) in eval.iter().enumerate() {
        if pos == 0 {
            if !leaf_judged_elsewhere {
                leaf_usage(f, c, i, host);
            }
            continue;
        }
        let vars = [("subject", i.subject.clone())];
        if !i.is_ca {
            let (key, why) = if i.basic_constraints_present {
                (
                    CertCause::CaFalse,
                    "its basicConstraints says CA:FALSE".to_string(),
                )
            } else {
                (
                    CertCause::InvalidCa,
                    "it has no basicConstraints extension, so it is not a CA".to_string(),
                )
            };
            let x = finding(FindingId::CertIssuerNotCa, &vars)
                .evidence(format!(
                    "\"{}\" is used as an issuer (position {} of the path), but {why}",
                    i.subject,
                    pos + 1
                ))
                .evidence("every client refuses an issuer that is not a CA (RFC 5280 4.2.1.9)");
            f.push(cause_breaks(x, key, host));
        } else if i.key_usage_present && !i.key_usage.iter().any(|k| k == "keyCertSign") {
            let x = finding(FindingId::CertIssuerNoKeycertsign, &vars).evidence(format!(
                "CA keyUsage is {} without keyCertSign",
                i.key_usage.join(", ")
            ));
            f.push(cause_breaks(x, CertCause::CaNoKeyCertSign, host));
        }
    }

    // Path length: a CA at position p has p-1 intermediates below it (excluding the leaf).
    for (pos, (_, i)) in eval.iter().enumerate().skip(2) {
        if let Some(n) = i.path_len {
            let below = eval[1..pos].iter().filter(|(_, c)| !c.self_issued).count();
            if below > n as usize {
                let vars = [
                    ("subject", i.subject.clone()),
                    ("allowed", n.to_string()),
                    ("below", below.to_string()),
                ];
                let x = finding(FindingId::CertPathLength, &vars)
                    .evidence(format!("basicConstraints pathlen:{n} on \"{}\"", i.subject))
                    .evidence(format!(
                        "intermediates below it: {}",
                        eval[1..pos]
                            .iter()
                            .map(|(_, c)| c.subject.clone())
                            .collect::<Vec<_>>()
                            .join(", ")
                    ));
                f.push(cause_breaks(x, CertCause::PathLength, host));
            }
        }
    }
}
