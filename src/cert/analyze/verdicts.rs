//! Store verdicts: for each trust store, whether it anchors the linked path, the path it
//! builds, and in words why not.

use super::StoreVerdict;
use super::path::{Parsed, anchor_in};
use crate::cert::stores::{Anchor, TrustStore};

/// Where one store anchors the path: `(position in path, anchor, the server sent it)`.
pub(super) type Anchoring = Option<(usize, Anchor, bool)>;

/// The same negative verdict for every store, when there is no path to judge.
pub(super) fn untrusted_everywhere(stores: &[TrustStore], problem: &str) -> Vec<StoreVerdict> {
    stores
        .iter()
        .map(|s| StoreVerdict {
            store: s.name.clone(),
            source: s.source.clone(),
            trusted: false,
            path: Vec::new(),
            problem: Some(problem.to_string()),
        })
        .collect()
}

/// One verdict per store, in store order, and where each store anchors the path.
pub(super) fn per_store(
    parsed: &[Parsed<'_>],
    path: &[usize],
    top_self_signed: bool,
    stores: &[TrustStore],
) -> (Vec<StoreVerdict>, Vec<Anchoring>) {
    let top = &parsed[*path.last().unwrap_or(&0)];
    let mut verdicts = Vec::new();
    let mut anchors: Vec<Anchoring> = Vec::new();
    for s in stores {
        let found = anchor_in(parsed, path, s);
        let (trusted, vpath, problem) = match found {
            Some((pos, a, is_sent)) => {
                let mut p: Vec<String> = path[..=pos]
                    .iter()
                    .map(|&i| parsed[i].info.subject.clone())
                    .collect();
                if !is_sent {
                    p.push(a.subject.clone());
                }
                (true, p, None)
            }
            None => {
                let p: Vec<String> = path
                    .iter()
                    .map(|&i| parsed[i].info.subject.clone())
                    .collect();
                let problem = if top_self_signed {
                    format!(
                        "the chain ends at the self-signed \"{}\", which this store does not hold",
                        top.info.subject
                    )
                } else {
                    format!(
                        "no certificate sent or in this store issued \"{}\" (its issuer \"{}\" is missing)",
                        top.info.subject, top.info.issuer
                    )
                };
                if !s.load_errors.is_empty() && s.roots.is_empty() {
                    (
                        false,
                        p,
                        Some(format!(
                            "{problem}; the store is empty: {}",
                            s.load_errors.join("; ")
                        )),
                    )
                } else if s.roots.is_empty() {
                    (false, p, Some(format!("{problem}; the store is empty")))
                } else {
                    (false, p, Some(problem))
                }
            }
        };
        anchors.push(found.map(|(p, a, sent)| (p, a.clone(), sent)));
        verdicts.push(StoreVerdict {
            store: s.name.clone(),
            source: s.source.clone(),
            trusted,
            path: vpath,
            problem,
        });
    }
    (verdicts, anchors)
}
