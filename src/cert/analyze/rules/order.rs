//! The order and content of what the server sends: out of order, or with certificates that
//! are not part of its chain.

use super::super::client_texts::cause_breaks;
use super::super::path::{Parsed, issued_by};
use crate::clients::CertCause;
use crate::finding::catalogue::finding;
use crate::finding::{Finding, FindingId};

pub(crate) fn order_findings(
    f: &mut Vec<Finding>,
    parsed: &[Parsed<'_>],
    path: &[usize],
    sent_pos: &[usize],
) {
    let in_order = path.iter().enumerate().all(|(k, &i)| k == i);
    if !in_order {
        let sent: Vec<String> = parsed
            .iter()
            .enumerate()
            .map(|(k, p)| format!("#{} {}", sent_pos[k] + 1, p.info.subject))
            .collect();
        let wanted: Vec<String> = path
            .iter()
            .map(|&i| format!("#{} {}", sent_pos[i] + 1, parsed[i].info.subject))
            .collect();
        f.push(
            finding(FindingId::CertChainOrder, &[])
                .evidence(format!("sent: {}", sent.join(", ")))
                .evidence(format!("issuer order: {}", wanted.join(" -> ")))
                .evidence("OpenSSL 3, Python and browsers reorder the chain themselves; TLS 1.2 (RFC 5246) requires this order and some older or embedded clients fail"),
        );
    }
    let extra: Vec<String> = (0..parsed.len())
        .filter(|i| !path.contains(i))
        .map(|i| {
            format!(
                "#{} \"{}\" (issued by \"{}\")",
                sent_pos[i] + 1,
                parsed[i].info.subject,
                parsed[i].info.issuer
            )
        })
        .collect();
    if !extra.is_empty() {
        let mut x = finding(
            FindingId::CertExtraCerts,
            &[("count", extra.len().to_string())],
        );
        for e in extra {
            x = x.evidence(format!("not in the path: {e}"));
        }
        f.push(x.evidence(
            "clients ignore them, but they cost bytes in every handshake and often mean a stale or wrong chain file",
        ));
    }
}

/// The first certificate served is a CA and a later one is the certificate it issued: the
/// chain file is in reverse order (served with the CA's key, or the server would not start).
pub(crate) fn reversed_chain(
    parsed: &[Parsed<'_>],
    sent_pos: &[usize],
    host: &str,
) -> Option<Finding> {
    let first = parsed.first()?;
    if !first.info.is_ca {
        return None;
    }
    let leaf = (1..parsed.len())
        .find(|&j| !parsed[j].info.is_ca && issued_by(&parsed[j].cert, &first.cert))?;
    let l = &parsed[leaf].info;
    let x = finding(
        FindingId::CertChainReversed,
        &[("ca", first.info.subject.clone())],
    )
    .evidence(format!(
        "certificate #1, \"{}\", is a CA certificate (basicConstraints CA:TRUE, keyUsage {})",
        first.info.subject,
        if first.info.key_usage.is_empty() {
            "absent".to_string()
        } else {
            first.info.key_usage.join(", ")
        }
    ))
    .evidence(format!(
        "certificate #{}, \"{}\" ({}), is issued by it: that is the server certificate, and it belongs first",
        sent_pos[leaf] + 1,
        l.subject,
        if l.sans.is_empty() {
            "no subjectAltName".to_string()
        } else {
            l.sans.join(", ")
        }
    ))
    .evidence("clients check the purpose of the first certificate before its name, so OpenSSL-based clients print \"unsuitable certificate purpose\" rather than a name mismatch (measured)");
    Some(cause_breaks(x, CertCause::CaAsLeaf, host))
}
