//! Trust: why no store (or only some) anchors the path — a root missing locally, a
//! self-signed leaf, a private root, or a missing intermediate.

use super::super::StoreVerdict;
use super::super::client_texts::{cause_breaks, cause_breaks_full};
use super::super::knowledge::interception_root;
use super::super::path::Parsed;
use super::super::prose::store_label;
use crate::cert::stores::TrustStore;
use crate::clients::CertCause;
use crate::finding::catalogue::finding;
use crate::finding::{Finding, FindingId, variant};

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
        let root_cert = &parsed[*path.last().unwrap_or(&0)].cert;
        let names = if top_self_signed {
            names_of(root_cert.subject())
        } else {
            names_of(root_cert.issuer())
        };
        if let Some(x) = interception(&root, &names, key, host) {
            f.push(x);
            return;
        }
        f.push(cause_breaks(x.evidence(INTERCEPTION_READING), key, host));
        return;
    }

    let key = if path.len() == 1 {
        CertCause::NoLocalIssuerLeafOnly
    } else {
        CertCause::NoLocalIssuer
    };
    let top_cert = &parsed[*path.last().unwrap_or(&0)].cert;
    if let Some(x) = interception(&top.issuer, &names_of(top_cert.issuer()), key, host) {
        f.push(x);
        return;
    }
    if let Some(x) = rekeyed(parsed, path, host) {
        f.push(x);
        return;
    }

    // The last certificate sent is not a CA and its issuer is nowhere: the server left out an
    // intermediate, or the issuer is a root no store holds. Both readings stay open.
    let form = if top.aia_ca_issuers.is_empty() {
        variant::cert_missing_intermediate::UNKNOWN_ISSUER
    } else {
        FindingId::CertMissingIntermediate.into()
    };
    let mut x = finding(form, &[("issuer", top.issuer.clone())]).evidence(format!(
        "the server sent {} certificate(s); the last one that links, \"{}\", is issued by \"{}\", which was not sent",
        parsed.len(),
        top.subject,
        top.issuer
    ));
    x = x.evidence(format!(
        "reading 1, a missing intermediate: \"{}\" is a CA below a root the stores hold, and the server should send it",
        top.issuer
    ));
    x = x.evidence(format!(
        "reading 2, a private or intercepting root: \"{}\" is itself a root no checked store holds (an organisation's CA, a leaked development root, or a TLS-intercepting proxy or security product re-signing certificates)",
        top.issuer
    ));
    if top.aia_ca_issuers.is_empty() {
        x = x.evidence("no AIA caIssuers URL in the certificate: nothing says where its issuer is published, which fits a private or intercepting root as well as a careless CA");
    } else {
        x = x.evidence(format!(
            "the certificate names its issuer's download (AIA caIssuers), as public CAs do for intermediates: {}",
            top.aia_ca_issuers.join(", ")
        ));
        x = x.evidence("browsers may fetch the intermediate from the AIA URL and succeed; OpenSSL, curl, Python ssl, Node, Java and PyMongo never do, so they fail");
    }
    match &top.aki {
        Some(aki) => {
            x = x.evidence(format!(
                "the issuer's key id (AKI) is {aki}: compare it with your organisation's roots and with the intermediate your CA publishes"
            ))
        }
        None => x = x.evidence("the certificate carries no authority key id to compare with"),
    }
    x = x
        .evidence("the issuer's name matches no known interception or leaked root (data/interception-roots.toml)")
        .evidence(INTERCEPTION_READING)
        .evidence(format!("checked: {}", checked.join("; ")));
    f.push(cause_breaks(x, key, host));
}

/// How to confirm or rule out interception, for every reading that leaves it open.
const INTERCEPTION_READING: &str = "to rule out interception: look at the certificate from another network (or in the server's own chain file); if its fingerprint differs, something on this path re-signs TLS (check HTTPS_PROXY/https_proxy, the system proxy, security software)";

/// The issuer's CN and O values, to match against the interception list.
fn names_of(name: &x509_parser::x509::X509Name<'_>) -> Vec<String> {
    name.iter_common_name()
        .chain(name.iter_organization())
        .filter_map(|a| a.as_str().ok().map(str::to_string))
        .collect()
}

/// The issuer (or sent root) is a known interception or leaked root.
fn interception(issuer: &str, names: &[String], key: CertCause, host: &str) -> Option<Finding> {
    let r = interception_root(names)?;
    let x = finding(
        FindingId::CertInterceptionRoot,
        &[
            ("issuer", issuer.to_string()),
            ("product", r.product.clone()),
            ("confirm", r.confirm.clone()),
        ],
    )
    .evidence(format!(
        "the issuer \"{issuer}\" is a root of {} (data/interception-roots.toml)",
        r.product
    ))
    .evidence(INTERCEPTION_READING);
    Some(cause_breaks(x, key, host))
}

/// A sent certificate has the missing issuer's name but not its key: the CA re-keyed the
/// intermediate and the chain file holds the old one.
fn rekeyed(parsed: &[Parsed<'_>], path: &[usize], host: &str) -> Option<Finding> {
    let top = &parsed[*path.last().unwrap_or(&0)];
    let stale = (0..parsed.len()).find(|j| {
        !path.contains(j)
            && parsed[*j].cert.subject().as_raw() == top.cert.issuer().as_raw()
            && parsed[*j].info.is_ca
    })?;
    let old = &parsed[stale].info;
    let aki = top.info.aki.clone().unwrap_or_else(|| "(none)".to_string());
    let x = finding(
        FindingId::CertIntermediateRekeyed,
        &[("issuer", top.info.issuer.clone()), ("aki", aki.clone())],
    )
    .evidence(format!(
        "\"{}\" is signed by the key with id {aki}; the \"{}\" the server sends has key id {} and its key does not verify that signature",
        top.info.subject,
        old.subject,
        old.ski.clone().unwrap_or_else(|| "(none)".to_string())
    ))
    .evidence(format!(
        "the stale intermediate sent is valid from {} to {} (sha256 {})",
        old.not_before, old.not_after, old.sha256_fingerprint
    ));
    Some(cause_breaks(x, CertCause::RekeyedIssuer, host))
}
