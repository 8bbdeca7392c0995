//! Trust: why no store (or only some) anchors the path — a root missing locally, a
//! self-signed leaf, a private root, or a missing intermediate.

use super::super::StoreVerdict;
use super::super::client_texts::{cause_breaks, cause_breaks_full};
use super::super::path::Parsed;
use super::super::prose::store_label;
use crate::cert::stores::TrustStore;
use crate::clients::CertCause;
use crate::finding::catalogue::finding;
use crate::finding::{Finding, FindingId};

pub(crate) fn trust_findings(
    f: &mut Vec<Finding>,
    parsed: &[Parsed<'_>],
    path: &[usize],
    top_self_signed: bool,
    stores: &[TrustStore],
    verdicts: &[StoreVerdict],
    host: &str,
) {
    let top = &parsed[*path.last().unwrap_or(&0)].info;
    let leaf = &parsed[0].info;
    let any_trusted = verdicts.iter().any(|v| v.trusted);
    let checked: Vec<String> = stores.iter().map(store_label).collect();

    if any_trusted {
        // A root Mozilla trusts that the local store lacks: the local store is outdated.
        let moz = verdicts.iter().find(|v| v.store == "mozilla" && v.trusted);
        let sys = verdicts
            .iter()
            .zip(stores)
            .find(|(v, _)| v.store == "system" && !v.trusted);
        if let (Some(m), Some((_, sys_store))) = (moz, sys) {
            let root = m.path.last().cloned().unwrap_or_default();
            let key = if top_self_signed {
                CertCause::SelfSignedInChain
            } else if path.len() == 1 {
                CertCause::NoLocalIssuerLeafOnly
            } else {
                CertCause::NoLocalIssuer
            };
            let mut x = finding(FindingId::CertRootMissingLocally, &[("root", root.clone())])
                .evidence(format!(
                    "path with the Mozilla set: {}",
                    m.path.join(" -> ")
                ))
                .evidence(format!(
                    "system store {} holds {} roots, none of them \"{root}\"",
                    sys_store.source,
                    sys_store.roots.len()
                ));
            x = cause_breaks_full(x, key, host, "", false).evidence(
                "Node.js uses its own bundled copy of the Mozilla roots, so it is not affected by the system store",
            );
            f.push(x);
        }
        return;
    }

    if path.len() == 1 && top_self_signed {
        let x = finding(
            FindingId::CertSelfSigned,
            &[("subject", leaf.subject.clone())],
        )
        .evidence(format!("subject = issuer = \"{}\"", leaf.subject))
        .evidence(format!("sha256 fingerprint {}", leaf.sha256_fingerprint))
        .evidence(format!("checked: {}", checked.join("; ")));
        f.push(cause_breaks(x, CertCause::SelfSignedLeaf, host));
        return;
    }

    if top_self_signed || top.is_ca {
        // The chain is complete up to a root (sent, or named as issuer of the last CA) that no
        // store holds: a private or corporate CA.
        let (root, key) = if top_self_signed {
            (top.subject.clone(), CertCause::SelfSignedInChain)
        } else {
            (top.issuer.clone(), CertCause::NoLocalIssuer)
        };
        let mut x =
            finding(FindingId::CertUntrustedRoot, &[("root", root.clone())]).evidence(format!(
                "chain as linked: {}",
                path.iter()
                    .map(|&i| parsed[i].info.subject.clone())
                    .collect::<Vec<_>>()
                    .join(" -> ")
            ));
        if top_self_signed {
            x = x.evidence(format!(
                "the server sent the root itself (\"{root}\", sha256 {})",
                top.sha256_fingerprint
            ));
        } else {
            x = x.evidence(format!(
                "the last certificate sent, \"{}\", is a CA issued by \"{root}\"{}",
                top.subject,
                top.aki
                    .as_ref()
                    .map(|k| format!(" (authority key id {k})"))
                    .unwrap_or_default()
            ));
        }
        x = x.evidence(format!("checked: {}", checked.join("; ")));
        f.push(cause_breaks(x, key, host));
        return;
    }

    // The last certificate sent is not a CA and its issuer is nowhere: the server left out the
    // intermediate.
    let mut x = finding(
        FindingId::CertMissingIntermediate,
        &[("issuer", top.issuer.clone())],
    )
    .evidence(format!(
        "the server sent {} certificate(s); the last one that links, \"{}\", is issued by \"{}\", which was not sent",
        parsed.len(),
        top.subject,
        top.issuer
    ));
    if let Some(aki) = &top.aki {
        x = x.evidence(format!("missing issuer's key id (from AKI): {aki}"));
    }
    if top.aia_ca_issuers.is_empty() {
        x = x.evidence("the certificate has no AIA caIssuers URL, so not even browsers can fetch the missing certificate");
    } else {
        x = x.evidence(format!(
            "the missing certificate can be downloaded from (AIA caIssuers): {}",
            top.aia_ca_issuers.join(", ")
        ));
    }
    x = x
        .evidence("browsers may fetch the intermediate from the AIA URL and succeed; OpenSSL, curl, Python ssl and PyMongo never do, so they fail")
        .evidence(format!("checked: {}", checked.join("; ")));
    let key = if path.len() == 1 {
        CertCause::NoLocalIssuerLeafOnly
    } else {
        CertCause::NoLocalIssuer
    };
    f.push(cause_breaks(x, key, host));
}
