//! What each certificate may be used for: extended key usage and key usage for a TLS
//! server, basicConstraints and keyCertSign for issuers, and path length limits.

use x509_parser::prelude::*;

use super::super::client_texts::cause_breaks;
use super::super::prose::role_name;
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

pub(crate) fn usage_findings(
    f: &mut Vec<Finding>,
    eval: &[(&X509Certificate<'_>, &CertInfo)],
    host: &str,
) {
    for (pos, (c, i)) in eval.iter().enumerate() {
        let role = role_name(pos, i);
        let mut problems: Vec<String> = Vec::new();
        let mut key = CertCause::UnsuitablePurpose;
        if !eku_allows_server(c) {
            problems.push(format!(
                "extendedKeyUsage is {} without serverAuth",
                i.ext_key_usage.join(", ")
            ));
        }
        if pos == 0 {
            if i.key_usage_present
                && !i.key_usage.iter().any(|k| {
                    k == "digitalSignature" || k == "keyEncipherment" || k == "keyAgreement"
                })
            {
                problems.push(format!(
                    "keyUsage is {} without digitalSignature, keyEncipherment or keyAgreement",
                    i.key_usage.join(", ")
                ));
            }
        } else if !i.is_ca {
            key = CertCause::InvalidCa;
            problems.push(if i.basic_constraints_present {
                "it is used as an issuer but basicConstraints says CA:FALSE".to_string()
            } else {
                "it is used as an issuer but has no basicConstraints CA:TRUE".to_string()
            });
        } else if i.key_usage_present && !i.key_usage.iter().any(|k| k == "keyCertSign") {
            key = CertCause::InvalidCa;
            problems.push(format!(
                "CA keyUsage is {} without keyCertSign",
                i.key_usage.join(", ")
            ));
        }
        if problems.is_empty() {
            continue;
        }
        let vars = [("role", role.to_string()), ("subject", i.subject.clone())];
        let mut x = finding(FindingId::CertUsageForbidsServer, &vars);
        for p in problems {
            x = x.evidence(p);
        }
        f.push(cause_breaks(x, key, host));
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
