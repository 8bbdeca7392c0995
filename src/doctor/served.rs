//! Every certificate the server serves is judged: a server with one certificate per key type
//! (RSA and ECDSA) shows each to the clients that ask for that kind, so a problem with the one
//! the presented chain is not (an expired ECDSA certificate beside a valid RSA one) breaks the
//! clients served it. The scan's per-key-type handshakes (`properties.certificates`) hold the
//! chains; `simulate::served` says which client gets which.

use super::evidence::{Evidence, Observation};
use crate::cert::{ChainAnalysis, TrustStore, analyze};
use crate::finding::catalogue::finding;
use crate::finding::{Finding, FindingId, Severity};
use crate::simulate::served::{ServedChain, served_chain};
use crate::simulate::{CertProblem, ServerFacts};
use std::time::SystemTime;

/// A chain the server serves besides the presented one, and its analysis.
#[derive(Debug, Clone)]
pub struct OtherChain {
    pub key_type: String,
    pub leaf_sha256: String,
    pub analysis: ChainAnalysis,
}

/// "RSA" or "ECDSA" for the leaf of an analysed chain.
pub(super) fn leaf_key_type(a: &ChainAnalysis) -> String {
    match a.certificates.first().map(|c| c.key_type.as_str()) {
        Some(t) if t.starts_with("EC") => "ECDSA".to_string(),
        Some(t) => t.to_string(),
        None => String::new(),
    }
}

/// The per-key-type chains of the scan whose leaf is not the presented one.
pub(super) fn other_chains(
    observed: &Observation,
    host: &str,
    stores: &[TrustStore],
    now: SystemTime,
) -> Vec<OtherChain> {
    let Ok(scan) = &observed.scan else {
        return Vec::new();
    };
    let presented = observed
        .presented
        .as_ref()
        .and_then(|p| p.der.first())
        .map(|leaf| crate::scan::properties::sha256_hex(leaf));
    let mut out: Vec<OtherChain> = Vec::new();
    for c in &scan.properties.certificates {
        if c.chain.is_empty()
            || Some(&c.leaf_sha256) == presented.as_ref()
            || out.iter().any(|o| o.leaf_sha256 == c.leaf_sha256)
        {
            continue;
        }
        out.push(OtherChain {
            key_type: c.key_type.clone(),
            leaf_sha256: c.leaf_sha256.clone(),
            analysis: analyze(&c.chain, Some(host), stores, now),
        });
    }
    out
}

/// The simulation facts of each other chain.
pub(super) fn served(
    others: &[OtherChain],
    problems: impl Fn(&ChainAnalysis) -> Vec<CertProblem>,
) -> Vec<ServedChain> {
    others
        .iter()
        .map(|o| ServedChain {
            key_type: o.key_type.clone(),
            leaf_sha256: o.leaf_sha256.clone(),
            problems: problems(&o.analysis),
        })
        .collect()
}

/// Which simulated clients get which chain: (key type, client names), the presented chain's
/// key type first.
fn who_gets_what(ev: &Evidence) -> Vec<(String, Vec<String>)> {
    let facts: &ServerFacts = &ev.facts;
    let mut groups: Vec<(String, Vec<String>)> =
        vec![(facts.presented_key_type.clone(), Vec::new())];
    for o in &ev.other_chains {
        groups.push((o.key_type.clone(), Vec::new()));
    }
    for (i, p) in ev.profiles.iter().enumerate() {
        let reply = ev
            .observed
            .replies
            .get(i)
            .filter(|r| r.client == p.id)
            .or_else(|| ev.observed.replies.iter().find(|r| r.client == p.id));
        let Some(crate::probe::ProbeOutcome::Accepted(flight)) =
            reply.and_then(|r| r.answer.as_ref())
        else {
            continue;
        };
        let kt = served_chain(facts, p, flight)
            .map(|c| c.key_type.clone())
            .unwrap_or_else(|| facts.presented_key_type.clone());
        if let Some(g) = groups.iter_mut().find(|(k, _)| *k == kt) {
            g.1.push(p.name.clone());
        }
    }
    groups
}

/// One finding per error of each other chain, naming the clients served it; and a line in
/// the presented chain's findings saying that not every client gets that chain.
pub(super) fn findings(ev: &Evidence, out: &mut Vec<Finding>) {
    if ev.other_chains.is_empty() {
        return;
    }
    let groups = who_gets_what(ev);
    let served_line = format!(
        "the server serves {} certificates, one per key type; {}",
        groups.len(),
        groups
            .iter()
            .map(|(k, names)| {
                if names.is_empty() {
                    format!("{k}: none of the simulated clients")
                } else {
                    format!("{k} to {}", names.join(", "))
                }
            })
            .collect::<Vec<_>>()
            .join("; ")
    );
    let presented_ids: Vec<FindingId> = ev
        .chain
        .as_ref()
        .map(|c| c.findings.iter().map(|f| f.id).collect())
        .unwrap_or_default();
    let presented_to: &[String] = groups.first().map(|(_, n)| n.as_slice()).unwrap_or(&[]);
    for f in out.iter_mut().filter(|f| presented_ids.contains(&f.id)) {
        f.evidence.push(format!(
            "this is the {} certificate; {served_line}",
            ev.facts.presented_key_type
        ));
        // The chain analysis lists every client as if each got this chain; the simulation
        // knows which one each gets, so only the clients served this one are listed.
        f.breaks
            .retain(|b| matches!(b.key, Some(crate::clients::BreakKey::Simulated { .. })));
        let id = f.id;
        let sims = ev.simulations.iter().filter(|s| {
            presented_to.contains(&s.client_name)
                && s.failure.as_ref().is_some_and(|x| x.finding == Some(id))
        });
        super::diagnose::add_breaks(f, sims);
    }
    for o in &ev.other_chains {
        let clients = groups
            .iter()
            .find(|(k, _)| *k == o.key_type)
            .map(|(_, n)| n.clone())
            .unwrap_or_default();
        let clients_text = if clients.is_empty() {
            "clients that prefer it".to_string()
        } else {
            clients.join(", ")
        };
        for inner in o
            .analysis
            .findings
            .iter()
            .filter(|f| f.severity == Severity::Error)
        {
            let mut x = finding(
                FindingId::CertOtherKeyType,
                &[
                    ("key_type", o.key_type.clone()),
                    ("clients", clients_text.clone()),
                    ("problem", inner.title.clone()),
                ],
            )
            .evidence(served_line.clone())
            .evidence(format!(
                "the {} certificate's leaf: {} (sha256 {})",
                o.key_type,
                o.analysis
                    .certificates
                    .first()
                    .map(|c| c.subject.as_str())
                    .unwrap_or("?"),
                o.leaf_sha256
            ));
            for e in &inner.evidence {
                x = x.evidence(format!("{}: {e}", inner.id));
            }
            for fix in &inner.fix_server {
                x = x.fix_server(fix.clone());
            }
            // The clients served this chain that fail on this problem, with their texts.
            let sims = ev.simulations.iter().filter(|s| {
                clients.contains(&s.client_name)
                    && s.failure
                        .as_ref()
                        .is_some_and(|f| f.finding == Some(inner.id))
            });
            super::diagnose::add_breaks(&mut x, sims);
            out.push(x);
        }
    }
}
