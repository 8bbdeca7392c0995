//! The order and content of what the server sends: out of order, or with certificates that
//! are not part of its chain.

use super::super::path::Parsed;
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
