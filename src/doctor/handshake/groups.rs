//! No shared key exchange group: the server takes ECDHE (or TLS 1.3) suites the clients
//! offer, but only with curves they do not offer (a brainpool-only server). The clients see
//! a bare handshake_failure, which alone reads as "no shared cipher".

use super::super::diagnose::{add_breaks, failing};
use super::super::evidence::Evidence;
use crate::finding::catalogue::finding;
use crate::finding::{Finding, FindingId};
use crate::scan::ServerScan;

pub fn no_shared_group(ev: &Evidence, scan: &ServerScan) -> Option<Finding> {
    let fails: Vec<_> = failing(ev, FindingId::NoSharedGroup).collect();
    if fails.is_empty() {
        return None;
    }
    let kx = &scan.key_exchange;
    let names = |gs: &[crate::scan::groups::Group]| {
        gs.iter()
            .map(|g| g.name.clone())
            .collect::<Vec<_>>()
            .join(", ")
    };
    let mut all: Vec<String> = kx
        .ecdhe_curves
        .iter()
        .chain(&kx.tls13_groups)
        .map(|g| g.name.clone())
        .collect();
    all.dedup();
    let mut f = finding(FindingId::NoSharedGroup, &[("groups", all.join(", "))]);
    if !kx.ecdhe_curves.is_empty() {
        f = f.evidence(format!(
            "ECDHE curves the server accepts (TLS 1.2 and older): {}",
            names(&kx.ecdhe_curves)
        ));
    }
    if !kx.tls13_groups.is_empty() {
        f = f.evidence(format!(
            "TLS 1.3 groups the server accepts: {}",
            names(&kx.tls13_groups)
        ));
    }
    for s in &fails {
        if let Some(fl) = &s.failure {
            f = f.evidence(format!("{}: {}", s.client_name, fl.reason));
        }
    }
    add_breaks(&mut f, fails.into_iter());
    Some(f)
}
