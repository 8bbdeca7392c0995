//! Chain analysis: build the path from the leaf through the certificates the server sent to a
//! root in each trust store, and name every cause that makes a client refuse it.
//!
//! rustls-webpki reports one error per path and cannot tell a missing intermediate from an
//! unknown root (both are `UnknownIssuer`), and it accepts 1024-bit keys, so the analysis here
//! does its own issuer matching (subject/issuer DN, AKI/SKI, and a real signature check),
//! key-size and hash checks, and usage/constraint checks, following what OpenSSL 3 enforces.

use std::net::IpAddr;
use std::time::SystemTime;

use serde::Serialize;
use x509_parser::prelude::*;
use x509_parser::public_key::PublicKey;

use super::data;
use super::describe::{CertInfo, SigCheck, check_signature, describe_at, parse, unix_now};
use super::stores::{Anchor, TrustStore};
use crate::finding::{Finding, Severity};

/// Client names used in `breaks`.
pub const OPENSSL_CLIENT: &str = "OpenSSL 3 (openssl s_client, curl)";
pub const PYTHON_CLIENT: &str = "Python ssl (OpenSSL 3)";
pub const NODE_CLIENT: &str = "Node.js 20 (tls)";
pub const CURL_CLIENT: &str = "curl 7.88 (OpenSSL 3)";

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

struct Parsed<'a> {
    cert: X509Certificate<'a>,
    info: CertInfo,
}

fn issued_by(child: &X509Certificate<'_>, parent: &X509Certificate<'_>) -> bool {
    if child.issuer().as_raw() != parent.subject().as_raw() {
        return false;
    }
    let ids = (key_id(child, true), key_id(parent, false));
    if let (Some(aki), Some(ski)) = &ids
        && aki != ski
    {
        return false;
    }
    match check_signature(child, parent.public_key()) {
        SigCheck::Valid => true,
        SigCheck::Invalid => false,
        // Algorithms ring cannot check (ecdsa-with-SHA1, DSA): trust matching names, and key ids
        // when both certificates carry them.
        SigCheck::Unsupported => true,
    }
}

fn key_id(c: &X509Certificate<'_>, authority: bool) -> Option<Vec<u8>> {
    c.iter_extensions()
        .find_map(|e| match e.parsed_extension() {
            ParsedExtension::AuthorityKeyIdentifier(a) if authority => {
                a.key_identifier.as_ref().map(|k| k.0.to_vec())
            }
            ParsedExtension::SubjectKeyIdentifier(k) if !authority => Some(k.0.to_vec()),
            _ => None,
        })
}

fn anchor_issued(child: &X509Certificate<'_>, a: &Anchor) -> bool {
    if child.issuer().as_raw() != a.subject_der.as_slice() {
        return false;
    }
    match SubjectPublicKeyInfo::from_der(&a.spki_der) {
        Ok((_, spki)) => check_signature(child, &spki) != SigCheck::Invalid,
        Err(_) => false,
    }
}

fn anchor_is(c: &X509Certificate<'_>, a: &Anchor) -> bool {
    c.subject().as_raw() == a.subject_der.as_slice() && c.public_key().raw == a.spki_der.as_slice()
}

/// Where a store anchors the sent path: `(position in path, anchor)`. When the anchor is the
/// certificate at that position itself (the server sent the root), the flag is true.
fn anchor_in<'s>(
    parsed: &[Parsed<'_>],
    path: &[usize],
    store: &'s TrustStore,
) -> Option<(usize, &'s Anchor, bool)> {
    for (pos, &i) in path.iter().enumerate() {
        let c = &parsed[i].cert;
        if let Some(a) = store.roots.iter().find(|a| anchor_is(c, a)) {
            return Some((pos, a, true));
        }
        if let Some(a) = store.roots.iter().find(|a| anchor_issued(c, a)) {
            return Some((pos, a, false));
        }
    }
    None
}

fn cause_breaks(f: Finding, key: &str, host: &str) -> Finding {
    cause_breaks_full(f, key, host, "", true)
}

/// Add the texts each client prints for `key` (from data/cert-errors.toml). `altnames` fills
/// Node's hostname message; `with_node` is false where Node is not affected or its text is
/// unknown for this variant.
fn cause_breaks_full(
    mut f: Finding,
    key: &str,
    host: &str,
    altnames: &str,
    with_node: bool,
) -> Finding {
    if let Some(c) = data::cause(key) {
        f = f
            .breaks(OPENSSL_CLIENT, c.openssl.clone())
            .breaks(PYTHON_CLIENT, c.python.replace("{host}", host));
        if let Some(curl) = &c.curl {
            f = f.breaks(CURL_CLIENT, curl.replace("{host}", host));
        }
        if with_node {
            if let Some(node) = &c.node {
                f = f.breaks(
                    NODE_CLIENT,
                    node.replace("{host}", host).replace("{altnames}", altnames),
                );
            }
            if c.node_accepts {
                f = f.evidence(
                    "Node.js 20 (tls) accepts this (measured): only OpenSSL-default clients fail",
                );
            }
        }
        if let Some(note) = &c.note {
            f = f.evidence(format!("note: {note}"));
        }
    }
    f
}

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
        for s in stores {
            out.verdicts.push(StoreVerdict {
                store: s.name.clone(),
                source: s.source.clone(),
                trusted: false,
                path: Vec::new(),
                problem: Some("the server sent no certificate".to_string()),
            });
        }
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
                    Finding::new(
                        "cert-unparsable",
                        Severity::Error,
                        format!("certificate #{} sent by the server cannot be parsed", i + 1),
                    )
                    .evidence(e.to_string())
                    .fix_server("Configure the server with a valid PEM/DER certificate chain."),
                );
            }
        }
    }
    if parsed.is_empty() || sent_pos[0] != 0 {
        for s in stores {
            out.verdicts.push(StoreVerdict {
                store: s.name.clone(),
                source: s.source.clone(),
                trusted: false,
                path: Vec::new(),
                problem: Some("the leaf certificate cannot be parsed".to_string()),
            });
        }
        return out;
    }

    // Link the sent certificates into a path from the leaf.
    let mut path = vec![0usize];
    while path.len() < parsed.len() {
        let cur = &parsed[*path.last().unwrap_or(&0)];
        if cur.info.self_issued && cur.info.self_signed_verified {
            break;
        }
        let next =
            (0..parsed.len()).find(|j| !path.contains(j) && issued_by(&cur.cert, &parsed[*j].cert));
        match next {
            Some(j) => path.push(j),
            None => break,
        }
    }
    let top = &parsed[*path.last().unwrap_or(&0)];
    let top_self_signed =
        top.info.self_issued && (top.info.self_signed_verified || path.len() == 1);

    // Per-store verdicts.
    let mut anchors: Vec<Option<(usize, Anchor, bool)>> = Vec::new();
    for s in stores {
        let found = anchor_in(&parsed, &path, s);
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
        out.verdicts.push(StoreVerdict {
            store: s.name.clone(),
            source: s.source.clone(),
            trusted,
            path: vpath,
            problem,
        });
    }

    let host_text = host_owned.clone().unwrap_or_default();
    let mut f: Vec<Finding> = Vec::new();
    trust_findings(
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
    if let Some((_, a, false)) = first_anchor
        && let Some(der) = &a.der
        && let (Ok(c), Ok(i)) = (parse(der), describe_at(der, now_unix))
    {
        anchor_cert = Some(c);
        anchor_info = Some(i);
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

    validity_findings(&mut f, &eval, now_unix, &host_text);
    if let Some(h) = &host_owned {
        hostname_finding(&mut f, &parsed[0].cert, &parsed[0].info, h);
    }
    strength_findings(&mut f, &eval, anchored_self_signed, &host_text);
    usage_findings(&mut f, &eval, &host_text);
    order_findings(&mut f, &parsed, &path, &sent_pos);

    if let Some(hook) = revocation {
        f.extend(hook(chain));
    }
    out.findings.extend(f);
    crate::finding::sort_by_severity(&mut out.findings);
    out
}

fn store_label(s: &TrustStore) -> String {
    format!("{} store ({})", s.name, s.source)
}

fn trust_findings(
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
                "self_signed_in_chain"
            } else if path.len() == 1 {
                "no_local_issuer_leaf_only"
            } else {
                "no_local_issuer"
            };
            let mut x = Finding::new(
                "cert-root-missing-locally",
                Severity::Error,
                format!("the root \"{root}\" is trusted by Mozilla but missing from this machine's CA store"),
            )
            .evidence(format!("path with the Mozilla set: {}", m.path.join(" -> ")))
            .evidence(format!("system store {} holds {} roots, none of them \"{root}\"", sys_store.source, sys_store.roots.len()));
            x = cause_breaks_full(x, key, host, "", false).evidence(
                "Node.js uses its own bundled copy of the Mozilla roots, so it is not affected by the system store",
            );
            x = x
                .fix_server("Nothing to change on the server if this is the only store failing: the chain is fine for up-to-date clients.")
                .fix_client("Update the system CA bundle (Debian/Ubuntu: apt-get install --reinstall ca-certificates && update-ca-certificates; RHEL: update-ca-trust).")
                .fix_client("Or point the client at a maintained bundle: SSL_CERT_FILE=$(python3 -m certifi) for OpenSSL/Python, tlsCAFile=<bundle> for PyMongo.");
            f.push(x);
        }
        return;
    }

    if path.len() == 1 && top_self_signed {
        let x = Finding::new(
            "cert-self-signed",
            Severity::Error,
            format!(
                "the server's certificate \"{}\" is self-signed and trusted by no store",
                leaf.subject
            ),
        )
        .evidence(format!("subject = issuer = \"{}\"", leaf.subject))
        .evidence(format!("sha256 fingerprint {}", leaf.sha256_fingerprint))
        .evidence(format!("checked: {}", checked.join("; ")));
        let x = cause_breaks(x, "self_signed_leaf", host)
            .fix_server("Use a certificate issued by a public CA (e.g. Let's Encrypt) or by your organisation's CA, and send its intermediate(s) with it.")
            .fix_client("If this self-signed certificate is expected, trust exactly it: pass it with --cafile (PyMongo: tlsCAFile=<cert.pem>); do not disable verification.");
        f.push(x);
        return;
    }

    if top_self_signed || top.is_ca {
        // The chain is complete up to a root (sent, or named as issuer of the last CA) that no
        // store holds: a private or corporate CA.
        let (root, key) = if top_self_signed {
            (top.subject.clone(), "self_signed_in_chain")
        } else {
            (top.issuer.clone(), "no_local_issuer")
        };
        let mut x = Finding::new(
            "cert-untrusted-root",
            Severity::Error,
            format!("the chain ends in the root \"{root}\", which none of the checked stores trusts (private or corporate CA?)"),
        )
        .evidence(format!(
            "chain as linked: {}",
            path.iter().map(|&i| parsed[i].info.subject.clone()).collect::<Vec<_>>().join(" -> ")
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
        x = cause_breaks(x, key, host)
            .fix_server("If the service is meant for the public, use a certificate from a publicly trusted CA.")
            .fix_client(format!("Give clients the root \"{root}\" explicitly: --cafile root.pem (openssl -CAfile, curl --cacert, Python cafile=, PyMongo tlsCAFile=)."))
            .fix_client("Or add it to the system store (Debian: copy to /usr/local/share/ca-certificates/*.crt and run update-ca-certificates).");
        f.push(x);
        return;
    }

    // The last certificate sent is not a CA and its issuer is nowhere: the server left out the
    // intermediate.
    let mut x = Finding::new(
        "cert-missing-intermediate",
        Severity::Error,
        format!("the server does not send the intermediate certificate \"{}\"", top.issuer),
    )
    .evidence(format!("the server sent {} certificate(s); the last one that links, \"{}\", is issued by \"{}\", which was not sent", parsed.len(), top.subject, top.issuer));
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
        "no_local_issuer_leaf_only"
    } else {
        "no_local_issuer"
    };
    x = cause_breaks(x, key, host)
        .fix_server(format!(
            "Configure the full chain: the server certificate followed by \"{}\" (nginx: ssl_certificate fullchain.pem; Apache 2.4.8+: SSLCertificateFile with the chain appended; openssl s_server: -cert_chain).",
            top.issuer
        ))
        .fix_client("As a stop-gap, add the intermediate (and its root) to a file given with --cafile (PyMongo tlsCAFile=).");
    f.push(x);
}

fn validity_findings(
    f: &mut Vec<Finding>,
    eval: &[(&X509Certificate<'_>, &CertInfo)],
    now: i64,
    host: &str,
) {
    let now_text = super::describe::rfc3339(now);
    for (pos, (_, i)) in eval.iter().enumerate() {
        let role = role_name(pos, i);
        if now > i.not_after_unix {
            let x = Finding::new(
                "cert-expired",
                Severity::Error,
                format!(
                    "the {role} certificate \"{}\" expired on {}",
                    i.subject, i.not_after
                ),
            )
            .evidence(format!(
                "notAfter {} < now {now_text} ({} days ago)",
                i.not_after, -i.days_left
            ))
            .evidence(format!("valid from {} to {}", i.not_before, i.not_after));
            let fix = if pos == 0 {
                "Renew the server certificate and reload the server (check that auto-renewal, e.g. certbot, runs and that the server reloads afterwards)."
            } else {
                "Replace the expired CA certificate in the chain the server sends with its current version from the CA."
            };
            f.push(
                cause_breaks(x, "expired", host)
                    .fix_server(fix)
                    .fix_client("Check the client's clock; there is no safe client-side fix for a really expired certificate."),
            );
        } else if now < i.not_before_unix {
            let x = Finding::new(
                "cert-not-yet-valid",
                Severity::Error,
                format!(
                    "the {role} certificate \"{}\" is not valid before {}",
                    i.subject, i.not_before
                ),
            )
            .evidence(format!("notBefore {} > now {now_text}", i.not_before))
            .evidence(format!("valid from {} to {}", i.not_before, i.not_after));
            f.push(
                cause_breaks(x, "not_yet_valid", host)
                    .fix_server("Check the clock of the machine that issued the certificate, or wait until it becomes valid; reissue it with a correct start date.")
                    .fix_client("Check this machine's clock (date -u); a client clock in the past gives the same error."),
            );
        } else if i.days_left <= EXPIRES_SOON_DAYS {
            f.push(
                Finding::new(
                    "cert-expires-soon",
                    Severity::Warning,
                    format!(
                        "the {role} certificate \"{}\" expires in {} days",
                        i.subject, i.days_left
                    ),
                )
                .evidence(format!("notAfter {} (now {now_text})", i.not_after))
                .fix_server("Renew it now and make sure renewal is automatic."),
            );
        }
    }
}

fn role_name(pos: usize, i: &CertInfo) -> &'static str {
    if pos == 0 {
        "server"
    } else if i.self_issued {
        "root"
    } else {
        "intermediate"
    }
}

/// RFC 6125 matching as OpenSSL does it with Python's flags: a wildcard only as the whole
/// left-most label, matching exactly one label, never a bare `*` over a public suffix-like
/// two-label name.
pub fn dns_name_matches(pattern: &str, host: &str) -> bool {
    let p = pattern.trim_end_matches('.').to_ascii_lowercase();
    let h = host.trim_end_matches('.').to_ascii_lowercase();
    if let Some(rest) = p.strip_prefix("*.") {
        if rest.contains('*') || rest.split('.').count() < 2 {
            return false;
        }
        match h.split_once('.') {
            Some((first, tail)) => !first.is_empty() && tail == rest,
            None => false,
        }
    } else {
        !p.contains('*') && p == h
    }
}

fn hostname_finding(f: &mut Vec<Finding>, cert: &X509Certificate<'_>, info: &CertInfo, host: &str) {
    let mut dns: Vec<String> = Vec::new();
    let mut ips: Vec<IpAddr> = Vec::new();
    if let Ok(Some(san)) = cert.subject_alternative_name() {
        for g in &san.value.general_names {
            match g {
                GeneralName::DNSName(d) => dns.push(d.to_string()),
                GeneralName::IPAddress(b) => {
                    if let Ok(a) = <[u8; 4]>::try_from(*b) {
                        ips.push(IpAddr::from(a));
                    } else if let Ok(a) = <[u8; 16]>::try_from(*b) {
                        ips.push(IpAddr::from(a));
                    }
                }
                _ => {}
            }
        }
    }
    let cns: Vec<String> = cert
        .subject()
        .iter_common_name()
        .filter_map(|c| c.as_str().ok().map(|s| s.to_string()))
        .collect();
    let host_ip: Option<IpAddr> = host
        .trim_start_matches('[')
        .trim_end_matches(']')
        .parse()
        .ok();
    let (ok, key) = match host_ip {
        Some(ip) => (ips.contains(&ip), "ip_mismatch"),
        None => {
            let names: &[String] = if dns.is_empty() { &cns } else { &dns };
            (
                names.iter().any(|n| dns_name_matches(n, host)),
                "hostname_mismatch",
            )
        }
    };
    if ok {
        return;
    }
    let held = if info.sans.is_empty() {
        format!("no subjectAltName; CN={}", cns.join(", CN="))
    } else {
        info.sans.join(", ")
    };
    let mut x = Finding::new(
        "cert-hostname-mismatch",
        Severity::Error,
        format!("the certificate is not valid for \"{host}\""),
    )
    .evidence(format!("name asked for: {host}"))
    .evidence(format!("names in the certificate: {held}"));
    if host_ip.is_some() {
        x = x.evidence(
            "an IP address only matches an IP: entry in subjectAltName, never a DNS name or the CN",
        );
    } else {
        if dns.is_empty() {
            x = x.evidence("without DNS subjectAltName entries OpenSSL falls back to the CN; Go and rustls never do");
        }
        if dns.iter().any(|d| d.starts_with("*.")) {
            x = x.evidence("a wildcard *.example.com matches exactly one label: a.example.com, not example.com nor a.b.example.com");
        }
    }
    let node_altnames = info
        .sans
        .iter()
        .map(|n| match n.strip_prefix("IP:") {
            Some(ip) => format!("IP Address:{ip}"),
            None => n.clone(),
        })
        .collect::<Vec<_>>()
        .join(", ");
    // Node's text is measured for DNS names checked against subjectAltName only.
    let node_known = host_ip.is_none() && !info.sans.is_empty();
    x = cause_breaks_full(x, key, host, &node_altnames, node_known)
        .fix_server(format!("Reissue the certificate with subjectAltName including {}:{host}, or serve the right certificate for this name (check SNI / server_name configuration).", if host_ip.is_some() { "IP" } else { "DNS" }))
        .fix_client("Connect with a name the certificate holds (from the list above); do not disable hostname checking.");
    f.push(x);
}

fn weak_key(i: &CertInfo) -> bool {
    match i.key_type.as_str() {
        "RSA" | "DSA" => i.key_bits < 2048,
        t if t.starts_with("EC") => i.key_bits < 224,
        _ => false,
    }
}

fn strength_findings(
    f: &mut Vec<Finding>,
    eval: &[(&X509Certificate<'_>, &CertInfo)],
    anchored_self_signed: bool,
    host: &str,
) {
    for (pos, (_, i)) in eval.iter().enumerate() {
        if weak_key(i) {
            let key = if pos == 0 {
                "ee_key_too_weak"
            } else {
                "ca_key_too_weak"
            };
            let x = Finding::new(
                "cert-weak-key",
                Severity::Error,
                format!("the {} certificate \"{}\" has a {}-bit {} key", role_name(pos, i), i.subject, i.key_bits, i.key_type),
            )
            .evidence(format!("{} {} bits; OpenSSL 3 at its default security level 2 requires RSA/DSA >= 2048 bits and EC >= 224 bits", i.key_type, i.key_bits));
            f.push(
                cause_breaks(x, key, host)
                    .fix_server("Generate a new key (RSA 2048+ or EC P-256) and get the certificate reissued for it.")
                    .fix_client("Lowering the client security level (SECLEVEL=1 or 0) is only a stop-gap for legacy systems you control."),
            );
        }
    }
    for (pos, (_, i)) in eval.iter().enumerate() {
        // The self-signature of the trust anchor is never checked, so its hash does not matter.
        let is_anchor_self = pos + 1 == eval.len() && anchored_self_signed;
        if is_anchor_self {
            continue;
        }
        if i.sig_hash == "sha1" || i.sig_hash == "md5" {
            let x = Finding::new(
                "cert-sha1-signature",
                Severity::Error,
                format!("the {} certificate \"{}\" is signed with {}", role_name(pos, i), i.subject, i.signature_algorithm),
            )
            .evidence(format!("signature algorithm {} (hash {}), issued by \"{}\"", i.signature_algorithm, i.sig_hash, i.issuer))
            .evidence("OpenSSL 3 at its default security level refuses SHA-1 and MD5 signatures in the chain");
            f.push(
                cause_breaks(x, "ca_md_too_weak", host)
                    .fix_server("Get the certificate reissued with a SHA-256 signature (any current CA does this by default).")
                    .fix_client("No safe client fix; SECLEVEL=0 accepts it but also accepts other broken crypto."),
            );
        }
    }
}

fn eku_allows_server(c: &X509Certificate<'_>) -> bool {
    match c.extended_key_usage() {
        Ok(Some(e)) => e.value.any || e.value.server_auth,
        _ => true,
    }
}

fn usage_findings(f: &mut Vec<Finding>, eval: &[(&X509Certificate<'_>, &CertInfo)], host: &str) {
    for (pos, (c, i)) in eval.iter().enumerate() {
        let role = role_name(pos, i);
        let mut problems: Vec<String> = Vec::new();
        let mut key = "unsuitable_purpose";
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
            key = "invalid_ca";
            problems.push(if i.basic_constraints_present {
                "it is used as an issuer but basicConstraints says CA:FALSE".to_string()
            } else {
                "it is used as an issuer but has no basicConstraints CA:TRUE".to_string()
            });
        } else if i.key_usage_present && !i.key_usage.iter().any(|k| k == "keyCertSign") {
            key = "invalid_ca";
            problems.push(format!(
                "CA keyUsage is {} without keyCertSign",
                i.key_usage.join(", ")
            ));
        }
        if problems.is_empty() {
            continue;
        }
        let mut x = Finding::new(
            "cert-usage-forbids-server",
            Severity::Error,
            format!(
                "the {role} certificate \"{}\" may not be used for a TLS server",
                i.subject
            ),
        );
        for p in problems {
            x = x.evidence(p);
        }
        f.push(
            cause_breaks(x, key, host)
                .fix_server("Get the certificate reissued for server authentication (extendedKeyUsage serverAuth, keyUsage digitalSignature; CA certificates need basicConstraints CA:TRUE and keyCertSign).")
                .fix_client("There is no client-side fix short of disabling verification; fix the certificate."),
        );
    }

    // Path length: a CA at position p has p-1 intermediates below it (excluding the leaf).
    for (pos, (_, i)) in eval.iter().enumerate().skip(2) {
        if let Some(n) = i.path_len {
            let below = eval[1..pos].iter().filter(|(_, c)| !c.self_issued).count();
            if below > n as usize {
                let x = Finding::new(
                    "cert-path-length",
                    Severity::Error,
                    format!(
                        "\"{}\" allows {n} intermediate(s) below it but the chain has {below}",
                        i.subject
                    ),
                )
                .evidence(format!("basicConstraints pathlen:{n} on \"{}\"", i.subject))
                .evidence(format!(
                    "intermediates below it: {}",
                    eval[1..pos]
                        .iter()
                        .map(|(_, c)| c.subject.clone())
                        .collect::<Vec<_>>()
                        .join(", ")
                ));
                f.push(
                    cause_breaks(x, "path_length", host)
                        .fix_server("Issue the server certificate from a CA that is allowed to issue at this depth, or shorten the chain.")
                        .fix_client("No client-side fix."),
                );
            }
        }
    }

    // Name constraints on any CA constrain the leaf's names.
    let Some((leaf, leaf_info)) = eval.first() else {
        return;
    };
    let mut dns: Vec<String> = Vec::new();
    let mut ips: Vec<Vec<u8>> = Vec::new();
    if let Ok(Some(san)) = leaf.subject_alternative_name() {
        for g in &san.value.general_names {
            match g {
                GeneralName::DNSName(d) => dns.push(d.to_string()),
                GeneralName::IPAddress(b) => ips.push(b.to_vec()),
                _ => {}
            }
        }
    }
    for (c, i) in eval.iter().skip(1) {
        let Ok(Some(nc)) = c.name_constraints() else {
            continue;
        };
        let mut violations: Vec<(String, bool)> = Vec::new(); // (text, excluded?)
        let permitted_dns: Vec<&str> = subtrees_dns(&nc.value.permitted_subtrees);
        let excluded_dns: Vec<&str> = subtrees_dns(&nc.value.excluded_subtrees);
        let permitted_ip: Vec<&[u8]> = subtrees_ip(&nc.value.permitted_subtrees);
        let excluded_ip: Vec<&[u8]> = subtrees_ip(&nc.value.excluded_subtrees);
        for d in &dns {
            if !permitted_dns.is_empty() && !permitted_dns.iter().any(|b| dns_in_subtree(d, b)) {
                violations.push((
                    format!(
                        "DNS:{d} is outside the permitted names {}",
                        permitted_dns.join(", ")
                    ),
                    false,
                ));
            }
            if let Some(b) = excluded_dns.iter().find(|b| dns_in_subtree(d, b)) {
                violations.push((format!("DNS:{d} is inside the excluded name {b}"), true));
            }
        }
        for ip in &ips {
            let shown = super::describe::ip_text(ip);
            if !permitted_ip.is_empty() && !permitted_ip.iter().any(|b| ip_in_subtree(ip, b)) {
                violations.push((format!("IP:{shown} is outside the permitted ranges"), false));
            }
            if excluded_ip.iter().any(|b| ip_in_subtree(ip, b)) {
                violations.push((format!("IP:{shown} is inside an excluded range"), true));
            }
        }
        if violations.is_empty() {
            continue;
        }
        let key = if violations.iter().any(|(_, ex)| *ex) {
            "excluded_subtree"
        } else {
            "permitted_subtree"
        };
        let mut x = Finding::new(
            "cert-name-constraints",
            Severity::Error,
            format!(
                "the CA \"{}\" is not allowed to issue for the names in \"{}\"",
                i.subject, leaf_info.subject
            ),
        )
        .evidence(format!(
            "name constraints on \"{}\": {}",
            i.subject,
            i.name_constraints.join(", ")
        ));
        for (v, _) in violations {
            x = x.evidence(v);
        }
        f.push(
            cause_breaks(x, key, host)
                .fix_server("Use names inside the CA's permitted subtrees, or get the certificate from a CA whose constraints cover this name.")
                .fix_client("No client-side fix."),
        );
    }
}

fn subtrees_dns<'a>(
    list: &'a Option<Vec<x509_parser::extensions::GeneralSubtree<'_>>>,
) -> Vec<&'a str> {
    list.iter()
        .flatten()
        .filter_map(|t| match &t.base {
            GeneralName::DNSName(d) => Some(*d),
            _ => None,
        })
        .collect()
}

fn subtrees_ip<'a>(
    list: &'a Option<Vec<x509_parser::extensions::GeneralSubtree<'_>>>,
) -> Vec<&'a [u8]> {
    list.iter()
        .flatten()
        .filter_map(|t| match &t.base {
            GeneralName::IPAddress(b) => Some(*b),
            _ => None,
        })
        .collect()
}

/// RFC 5280 dNSName constraint: `example.com` covers itself and every subdomain; a leading dot
/// covers subdomains only.
pub fn dns_in_subtree(name: &str, base: &str) -> bool {
    let n = name.trim_end_matches('.').to_ascii_lowercase();
    let b = base.trim_end_matches('.').to_ascii_lowercase();
    if b.is_empty() {
        return true;
    }
    if let Some(sub) = b.strip_prefix('.') {
        return n.ends_with(&format!(".{sub}"));
    }
    n == b || n.ends_with(&format!(".{b}"))
}

fn ip_in_subtree(ip: &[u8], base: &[u8]) -> bool {
    let half = base.len() / 2;
    if base.len() % 2 != 0 || ip.len() != half {
        return false;
    }
    let (addr, mask) = base.split_at(half);
    ip.iter()
        .zip(addr)
        .zip(mask)
        .all(|((i, a), m)| i & m == a & m)
}

fn order_findings(f: &mut Vec<Finding>, parsed: &[Parsed<'_>], path: &[usize], sent_pos: &[usize]) {
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
            Finding::new("cert-chain-order", Severity::Warning, "the server sends its chain out of order")
                .evidence(format!("sent: {}", sent.join(", ")))
                .evidence(format!("issuer order: {}", wanted.join(" -> ")))
                .evidence("OpenSSL 3, Python and browsers reorder the chain themselves; TLS 1.2 (RFC 5246) requires this order and some older or embedded clients fail")
                .fix_server("List the certificates leaf first, then each issuer in turn (that is what fullchain.pem contains)."),
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
        let mut x = Finding::new(
            "cert-extra-certs",
            Severity::Warning,
            format!(
                "the server sends {} certificate(s) that are not part of its chain",
                extra.len()
            ),
        );
        for e in extra {
            x = x.evidence(format!("not in the path: {e}"));
        }
        f.push(
            x.evidence("clients ignore them, but they cost bytes in every handshake and often mean a stale or wrong chain file")
                .fix_server("Send only the server certificate and the intermediates above it."),
        );
    }
}

/// The public key size of an RSA key, for tests and callers that hold only SPKI bytes.
pub fn rsa_bits(spki_der: &[u8]) -> Option<usize> {
    let (_, spki) = SubjectPublicKeyInfo::from_der(spki_der).ok()?;
    match spki.parsed().ok()? {
        PublicKey::RSA(r) => Some(r.key_size()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcard_rules() {
        assert!(dns_name_matches("*.example.com", "a.example.com"));
        assert!(dns_name_matches("*.Example.com", "A.example.COM."));
        assert!(!dns_name_matches("*.example.com", "example.com"));
        assert!(!dns_name_matches("*.example.com", "a.b.example.com"));
        assert!(!dns_name_matches("*.com", "example.com"));
        assert!(!dns_name_matches("a*.example.com", "ab.example.com"));
        assert!(dns_name_matches("example.com", "EXAMPLE.com"));
    }

    #[test]
    fn subtrees() {
        assert!(dns_in_subtree("a.example.com", "example.com"));
        assert!(dns_in_subtree("example.com", "example.com"));
        assert!(!dns_in_subtree("example.com", ".example.com"));
        assert!(!dns_in_subtree("badexample.com", "example.com"));
        assert!(ip_in_subtree(&[10, 1, 2, 3], &[10, 0, 0, 0, 255, 0, 0, 0]));
        assert!(!ip_in_subtree(&[11, 1, 2, 3], &[10, 0, 0, 0, 255, 0, 0, 0]));
    }

    #[test]
    fn revocation_hook_findings_are_appended() {
        let key = rcgen::KeyPair::generate().unwrap();
        let mut p = rcgen::CertificateParams::new(vec!["r.example".to_string()]).unwrap();
        p.distinguished_name
            .push(rcgen::DnType::CommonName, "r.example");
        let der = p.self_signed(&key).unwrap().der().to_vec();
        let hook = |chain: &[Vec<u8>]| {
            vec![Finding::new(
                "cert-revoked",
                Severity::Error,
                format!("{} certs", chain.len()),
            )]
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
                .any(|f| f.id == "cert-revoked" && f.title == "1 certs")
        );
        // Without the hook, a self-signed leaf trusted nowhere is exactly cert-self-signed.
        let a = analyze(&[der], Some("r.example"), &[], SystemTime::now());
        let ids: Vec<&str> = a.findings.iter().map(|f| f.id.as_str()).collect();
        assert_eq!(ids, vec!["cert-self-signed"]);
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
        assert_eq!(a.findings[0].id, "cert-unparsable");
    }
}
