//! Chain analysis: build the path from the leaf through the certificates the server sent to a
//! root in each trust store, and name every cause that makes a client refuse it.
//!
//! rustls-webpki reports one error per path and cannot tell a missing intermediate from an
//! unknown root (both are `UnknownIssuer`), and it accepts 1024-bit keys, so the analysis here
//! does its own issuer matching (subject/issuer DN, AKI/SKI, and a real signature check),
//! key-size and hash checks, and usage/constraint checks, following what OpenSSL 3 enforces.
//!
//! `path` links the sent certificates, `verdicts` judges the path per store, `rules`
//! holds one module per family of causes, `client_texts` adds what each client prints, and
//! `prose` names certificates and stores in the texts.

mod client_texts;
mod knowledge;
mod path;
mod prose;
mod rules;
mod verdicts;

use std::time::SystemTime;

use serde::Serialize;
use x509_parser::prelude::X509Certificate;

use super::describe::{CertInfo, describe_at, parse, unix_now};
use super::stores::TrustStore;
use crate::finding::catalogue::finding;
use crate::finding::{Finding, FindingId};
use path::Parsed;
use rules::{critical, hostname, name_constraints, order, strength, trust, usage, validity};

pub(crate) use knowledge::{InterceptionRoot, interception_root_named_in};
pub use rules::hostname::dns_name_matches;
pub use rules::name_constraints::dns_in_subtree;
pub use rules::strength::rsa_bits;

/// Days before expiry at which `cert-expires-soon` is raised.
pub const EXPIRES_SOON_DAYS: i64 = 30;

/// The result of checking one chain against one trust store.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StoreVerdict {
    pub store: String,
    pub source: String,
    /// A path from the leaf to a root of this store was found (constraints are judged in the
    /// findings, not here).
    pub trusted: bool,
    /// Subjects, leaf first, ending at the store's root when trusted, or at the last
    /// certificate that could be linked when not.
    pub path: Vec<String>,
    pub problem: Option<String>,
}

/// Everything learnt about a chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ChainAnalysis {
    pub host: Option<String>,
    /// The certificates as the server sent them, in its order.
    pub certificates: Vec<CertInfo>,
    pub verdicts: Vec<StoreVerdict>,
    pub findings: Vec<Finding>,
}

/// A hook for revocation checks (OCSP/CRL, done elsewhere): given the chain as sent, return
/// findings such as `cert-revoked`. It is called once, after the path checks.
pub type RevocationHook<'h> = &'h dyn Fn(&[Vec<u8>]) -> Vec<Finding>;

/// Analyse `chain` (DER, as the server sent it, leaf first) for `host` against each store.
pub fn analyze(
    chain: &[Vec<u8>],
    host: Option<&str>,
    stores: &[TrustStore],
    now: SystemTime,
) -> ChainAnalysis {
    analyze_with(chain, host, stores, now, None)
}

/// [`analyze`] with an optional revocation hook whose findings are appended.
pub fn analyze_with(
    chain: &[Vec<u8>],
    host: Option<&str>,
    stores: &[TrustStore],
    now: SystemTime,
    revocation: Option<RevocationHook<'_>>,
) -> ChainAnalysis {
    let now_unix = unix_now(now);
    let host_owned = host.map(|h| h.trim_end_matches('.').to_string());
    let mut out = ChainAnalysis {
        host: host_owned.clone(),
        certificates: Vec::new(),
        verdicts: Vec::new(),
        findings: Vec::new(),
    };
    if chain.is_empty() {
        out.verdicts = verdicts::untrusted_everywhere(stores, "the server sent no certificate");
        return out;
    }

    // Parse what we can; keep positions in the sent order.
    let mut parsed: Vec<Parsed<'_>> = Vec::new();
    let mut sent_pos: Vec<usize> = Vec::new();
    for (i, der) in chain.iter().enumerate() {
        match (parse(der), describe_at(der, now_unix)) {
            (Ok(cert), Ok(info)) => {
                out.certificates.push(info.clone());
                parsed.push(Parsed { cert, info });
                sent_pos.push(i);
            }
            (Err(e), _) | (_, Err(e)) => {
                out.findings.push(
                    finding(
                        FindingId::CertUnparsable,
                        &[("number", (i + 1).to_string())],
                    )
                    .evidence(e.to_string()),
                );
            }
        }
    }
    if parsed.is_empty() || sent_pos[0] != 0 {
        out.verdicts =
            verdicts::untrusted_everywhere(stores, "the leaf certificate cannot be parsed");
        return out;
    }

    let path = path::link(&parsed);
    let top = &parsed[*path.last().unwrap_or(&0)];
    let top_self_signed =
        top.info.self_issued && (top.info.self_signed_verified || path.len() == 1);
    let (store_verdicts, anchors) = verdicts::per_store(&parsed, &path, top_self_signed, stores);
    out.verdicts = store_verdicts;

    let host_text = host_owned.clone().unwrap_or_default();
    let mut f: Vec<Finding> = Vec::new();
    trust::trust_findings(
        &mut f,
        &parsed,
        &path,
        top_self_signed,
        stores,
        &out.verdicts,
        &host_text,
    );

    // The certificates a client evaluates: the linked path plus the store root when we hold it.
    let first_anchor = anchors.iter().flatten().next();
    let mut anchor_cert: Option<X509Certificate<'_>> = None;
    let mut anchor_info: Option<CertInfo> = None;
    let mut anchor_store: Option<&TrustStore> = None;
    if let Some((_, a, false)) = first_anchor
        && let Some(der) = &a.der
        && let (Ok(c), Ok(i)) = (parse(der), describe_at(der, now_unix))
    {
        anchor_cert = Some(c);
        anchor_info = Some(i);
        anchor_store = anchors
            .iter()
            .position(|x| x.is_some())
            .and_then(|k| stores.get(k));
    }
    let mut eval: Vec<(&X509Certificate<'_>, &CertInfo)> = path
        .iter()
        .map(|&i| (&parsed[i].cert, &parsed[i].info))
        .collect();
    if let (Some(c), Some(i)) = (&anchor_cert, &anchor_info) {
        eval.push((c, i));
    }
    let anchored_self_signed = eval
        .last()
        .map(|(_, i)| i.self_issued && i.self_signed_verified)
        .unwrap_or(false);

    validity::validity_findings(&mut f, &eval, now_unix, &host_text, anchor_store);
    // A chain served in reverse order puts a CA first: that finding replaces the name, usage
    // and order findings about the CA taken for the server certificate.
    let reversed = order::reversed_chain(&parsed, &sent_pos, &host_text);
    if let Some(h) = host_owned.as_ref().filter(|_| reversed.is_none()) {
        hostname::hostname_finding(&mut f, &parsed[0].cert, &parsed[0].info, h);
    }
    strength::strength_findings(&mut f, &eval, anchored_self_signed, &host_text);
    usage::usage_findings(&mut f, &eval, &host_text, reversed.is_some());
    name_constraints::name_constraint_findings(&mut f, &eval, &host_text);
    critical::critical_extension_findings(&mut f, &eval, &host_text);
    match reversed {
        Some(x) => f.push(x),
        None => order::order_findings(&mut f, &parsed, &path, &sent_pos),
    }

    if let Some(hook) = revocation {
        f.extend(hook(chain));
    }
    out.findings.extend(f);
    crate::finding::sort_by_severity(&mut out.findings);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn revocation_hook_findings_are_appended() {
        let key = rcgen::KeyPair::generate().unwrap();
        let mut p = rcgen::CertificateParams::new(vec!["r.example".to_string()]).unwrap();
        p.distinguished_name
            .push(rcgen::DnType::CommonName, "r.example");
        let der = p.self_signed(&key).unwrap().der().to_vec();
        let hook = |chain: &[Vec<u8>]| {
            let mut f = finding(FindingId::CertRevoked, &[]);
            f.title = format!("{} certs", chain.len());
            vec![f]
        };
        let a = analyze_with(
            std::slice::from_ref(&der),
            Some("r.example"),
            &[],
            SystemTime::now(),
            Some(&hook),
        );
        assert!(
            a.findings
                .iter()
                .any(|f| f.id == FindingId::CertRevoked && f.title == "1 certs")
        );
        // Without the hook, a self-signed leaf trusted nowhere is exactly cert-self-signed.
        let a = analyze(&[der], Some("r.example"), &[], SystemTime::now());
        let ids: Vec<FindingId> = a.findings.iter().map(|f| f.id).collect();
        assert_eq!(ids, vec![FindingId::CertSelfSigned]);
    }

    #[test]
    fn empty_chain_is_a_verdict_not_a_panic() {
        let a = analyze(
            &[],
            Some("x"),
            &[super::super::stores::mozilla()],
            SystemTime::now(),
        );
        assert!(!a.verdicts[0].trusted);
        let a = analyze(&[b"junk".to_vec()], Some("x"), &[], SystemTime::now());
        assert_eq!(a.findings[0].id, FindingId::CertUnparsable);
    }
}
