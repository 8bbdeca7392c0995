//! Limits the simulated clients were measured to apply: the Certificate message's size and
//! the DHE prime's size (data/clients/*.toml).

use super::super::diagnose::{add_breaks, failing};
use super::super::evidence::Evidence;
use crate::finding::catalogue::finding;
use crate::finding::{Finding, FindingId};
use crate::scan::ServerScan;
use crate::simulate::certificate_message_size;
use crate::wire::ProtocolVersion;

/// A Certificate message larger than some simulated client reads.
pub fn certificate_message(ev: &Evidence) -> Option<Finding> {
    let fails: Vec<_> = failing(ev, FindingId::CertMessageTooLarge).collect();
    if fails.is_empty() {
        return None;
    }
    let lens: Vec<usize> = ev.chain_der().iter().map(Vec::len).collect();
    let tls12 = certificate_message_size(ProtocolVersion::Tls12, &lens);
    let tls13 = certificate_message_size(ProtocolVersion::Tls13, &lens);
    let mut f = finding(
        FindingId::CertMessageTooLarge,
        &[("size", tls12.max(tls13).to_string())],
    )
    .evidence(format!(
        "the server sends {} certificate(s) of {} bytes (DER): a Certificate message of {tls12} bytes in TLS 1.2, {tls13} in TLS 1.3",
        lens.len(),
        lens.iter()
            .map(usize::to_string)
            .collect::<Vec<_>>()
            .join(" + ")
    ));
    if let Some(leaf) = ev.chain.as_ref().and_then(|c| c.certificates.first()) {
        if leaf.sans.len() > 100 {
            f = f.evidence(format!(
                "the server's certificate lists {} subjectAltNames",
                leaf.sans.len()
            ));
        }
    }
    for s in &fails {
        if let Some(fl) = &s.failure {
            f = f.evidence(format!("{}: {}", s.client_name, fl.reason));
        }
    }
    add_breaks(&mut f, fails.into_iter());
    Some(f)
}

/// A DHE prime whose size some simulated client cannot use.
pub fn dh_prime_size(ev: &Evidence, scan: &ServerScan) -> Option<Finding> {
    let fails: Vec<_> = failing(ev, FindingId::DhPrimeSizeUnsupported).collect();
    if fails.is_empty() {
        return None;
    }
    let bits = scan
        .key_exchange
        .dh_bits
        .map(|b| b.to_string())
        .unwrap_or_else(|| "an unusual number of".into());
    let mut f = finding(FindingId::DhPrimeSizeUnsupported, &[("bits", bits)]);
    for s in &fails {
        if let Some(fl) = &s.failure {
            f = f.evidence(format!("{}: {}", s.client_name, fl.reason));
        }
    }
    add_breaks(&mut f, fails.into_iter());
    Some(f)
}
