//! `check --write-fixes DIR`: the artefacts a fix needs, when tlsdoctor can make them: the
//! full chain the server should serve, last-resort OpenSSL client configurations (with
//! their warnings), and server configuration snippets. They are made here, in memory; the
//! pipeline writes them. Templates live in data/fixes/; which
//! finding calls for which file is its `artefacts` list in data/findings.toml.

use super::Diagnosis;
use crate::finding::FindingId;
use crate::finding::catalogue::{self, Artefact};
use std::path::{Path, PathBuf};
use x509_parser::prelude::{FromDer, X509Certificate};

/// One file written, and why.
#[derive(Debug, Clone, serde::Serialize)]
pub struct WrittenFix {
    pub path: PathBuf,
    pub purpose: String,
}

const NGINX: &str = include_str!("../../data/fixes/nginx.conf");
const APACHE: &str = include_str!("../../data/fixes/apache.conf");
const HAPROXY: &str = include_str!("../../data/fixes/haproxy.cfg");
const LEGACY_CONNECT: &str = include_str!("../../data/fixes/openssl-legacy-server-connect.cnf");
const SECLEVEL1: &str = include_str!("../../data/fixes/openssl-security-level-1.cnf");
const LEGACY_PROTOCOLS: &str = include_str!("../../data/fixes/openssl-legacy-protocols.cnf");

/// Whether a finding of `d` lists `artefact` in the catalogue.
fn wants(d: &Diagnosis, artefact: Artefact) -> bool {
    d.findings
        .iter()
        .any(|f| catalogue::entry(f.id).artefacts.contains(&artefact))
}

/// One file a fix needs, not yet written: its name in the fixes directory, its contents,
/// and what it is for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FixFile {
    pub name: &'static str,
    pub body: String,
    pub purpose: String,
}

/// `text` as it may appear inside a configuration file: a target is a host (or address) and
/// port, so anything else (a newline that would end a comment and start a directive, a
/// quote, a control character from a resolver's answer) becomes `_`.
fn config_token(text: &str) -> String {
    text.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | ':' | '[' | ']' | '%') {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// Every applicable fix file for `d`, to be written into `dir` (named in the files that
/// tell how to use them). `extra` are certificates the user supplied (e.g. the missing
/// intermediate) to complete the chain; `anchors` the trusted roots' subject names (see
/// [`anchor_subjects`]).
pub fn fix_files(
    d: &Diagnosis,
    dir: &Path,
    extra: &[Vec<u8>],
    anchors: &[Vec<u8>],
) -> Vec<FixFile> {
    let mut files = Vec::new();
    let target = config_token(&d.target);
    let fill = |t: &str, name: &str, extra: &[(&str, String)]| {
        let mut s = t
            .replace("{target}", &target)
            .replace("{path}", &dir.join(name).display().to_string());
        for (k, v) in extra {
            s = s.replace(&format!("{{{k}}}"), v);
        }
        s
    };
    let mut put = |name: &'static str, body: String, purpose: String| {
        files.push(FixFile {
            name,
            body,
            purpose,
        })
    };

    let chain = d
        .evidence
        .as_ref()
        .map(|e| e.chain_der().to_vec())
        .unwrap_or_default();
    if wants(d, Artefact::FullChain) && !chain.is_empty() {
        let (pem, missing) = full_chain(&chain, extra, anchors);
        let mut purpose = "the certificate chain the server should send: leaf first, then each intermediate, no root".to_string();
        if let Some(issuer) = missing {
            purpose.push_str(&format!(
                "; still INCOMPLETE: append the certificate of \"{issuer}\" (pass it with --intermediate FILE, or download it from the leaf's AIA caIssuers URL)"
            ));
        }
        put("fullchain.pem", pem, purpose);
    }
    if wants(d, Artefact::OpensslLegacyServerConnect) {
        let name = "openssl-legacy-server-connect.cnf";
        put(
            name,
            fill(LEGACY_CONNECT, name, &[]),
            "last resort for one client: OPENSSL_CONF that allows servers without RFC 5746 (read its warning)".into(),
        );
    }
    // Each weakness once, in catalogue order.
    let weak: Vec<&str> = FindingId::ALL
        .iter()
        .filter(|id| d.findings.iter().any(|f| f.id == **id))
        .map(|id| catalogue::entry(*id))
        .filter(|e| e.artefacts.contains(&Artefact::OpensslSecurityLevel1))
        .filter_map(|e| e.weakness.as_deref())
        .collect();
    if wants(d, Artefact::OpensslSecurityLevel1) {
        let name = "openssl-security-level-1.cnf";
        put(
            name,
            fill(SECLEVEL1, name, &[("weakness", weak.join(" and "))]),
            "last resort for one client: OPENSSL_CONF at security level 1 (read its warning)"
                .into(),
        );
    }
    if wants(d, Artefact::OpensslLegacyProtocols) {
        let name = "openssl-legacy-protocols.cnf";
        put(
            name,
            fill(LEGACY_PROTOCOLS, name, &[("versions", "TLS 1.0/1.1".into())]),
            "last resort for one client: OPENSSL_CONF that re-enables TLS 1.0/1.1 (read its warning)".into(),
        );
    }
    if wants(d, Artefact::ServerConfig) {
        for (name, t, what) in [
            ("nginx-tls.conf", NGINX, "nginx"),
            ("apache-tls.conf", APACHE, "Apache httpd"),
            ("haproxy-tls.cfg", HAPROXY, "HAProxy"),
        ] {
            put(
                name,
                fill(t, name, &[]),
                format!("{what}: protocol and cipher settings that fix the server side"),
            );
        }
    }
    files
}

/// Subject names (DER) of the roots the chain may end at: Mozilla's, the system store's and
/// the user's CA file.
pub fn anchor_subjects(cafile: Option<&Path>) -> Vec<Vec<u8>> {
    use crate::cert::stores;
    let mut all = vec![stores::mozilla(), stores::system()];
    if let Some(s) = cafile.and_then(|p| stores::from_file(p).ok()) {
        all.push(s);
    }
    all.into_iter()
        .flat_map(|s| s.roots.into_iter().map(|a| a.subject_der))
        .collect()
}

/// Largest certificate download accepted from an AIA caIssuers URL.
const MAX_ISSUER_BYTES: usize = 64 * 1024;

/// Download the certificates the server's chain is missing from the AIA caIssuers URL of the
/// certificate that names them (only `http://` URLs written in the server's own
/// certificates; only when the user asked with `--fetch-intermediate`). Returns the
/// certificates found and one line per attempt, for the report. A URL that points at the
/// scanned server itself goes through its prober, `server`.
pub async fn fetch_missing_issuers(
    chain: &[Vec<u8>],
    mut have: Vec<Vec<u8>>,
    anchors: &[Vec<u8>],
    timeout: std::time::Duration,
    server: Option<&crate::probe::Prober>,
) -> (Vec<Vec<u8>>, Vec<String>) {
    let mut notes = Vec::new();
    // Each round completes one more link; a chain is a handful of certificates at most.
    for _ in 0..4 {
        let (_, missing) = full_chain(chain, &have, anchors);
        let Some(missing) = missing else { break };
        // The certificate whose issuer is missing is the last one the chain reaches.
        let pool: Vec<&Vec<u8>> = chain.iter().chain(have.iter()).collect();
        let last = pool.iter().find(|d| {
            X509Certificate::from_der(d)
                .ok()
                .is_some_and(|(_, c)| crate::cert::name::name_text(c.issuer()) == missing)
        });
        let Some(info) = last.and_then(|d| crate::cert::describe::describe(d).ok()) else {
            break;
        };
        let Some(url) = info
            .aia_ca_issuers
            .iter()
            .find(|u| u.starts_with("http://"))
        else {
            notes.push(format!(
                "\"{}\" names no http:// caIssuers URL to fetch its issuer from",
                info.subject
            ));
            break;
        };
        let req = crate::http::Request {
            method: "GET",
            content_type: None,
            accept: "application/pkix-cert",
            body: &[],
        };
        match crate::http::exchange(url, &req, timeout, server, MAX_ISSUER_BYTES).await {
            Ok(a) if a.status == 200 => match issuer_certificates(&a.body) {
                Some(certs) => {
                    notes.push(format!(
                        "fetched the issuer of \"{}\" from {url} ({} bytes)",
                        info.subject,
                        a.body.len()
                    ));
                    have.extend(certs);
                }
                None => {
                    notes.push(format!("{url} did not return a certificate (DER or PEM)"));
                    break;
                }
            },
            Ok(a) => {
                notes.push(format!("{url} answered HTTP {}", a.status));
                break;
            }
            Err(
                crate::http::HttpError::Unreachable { reason, .. }
                | crate::http::HttpError::Bad { reason, .. },
            ) => {
                notes.push(format!("fetching {url} failed: {reason}"));
                break;
            }
        }
    }
    (have, notes)
}

/// Certificates in an AIA download: one DER certificate (the usual `.cer`/`.crt`) or PEM.
fn issuer_certificates(body: &[u8]) -> Option<Vec<Vec<u8>>> {
    if X509Certificate::from_der(body).is_ok() {
        return Some(vec![body.to_vec()]);
    }
    let certs: Vec<Vec<u8>> = pem::parse_many(body)
        .ok()?
        .into_iter()
        .filter(|p| p.tag() == "CERTIFICATE")
        .map(|p| p.into_contents())
        .collect();
    (!certs.is_empty()).then_some(certs)
}

/// Order the certificates into leaf → intermediates by issuer links, using what the server
/// sent plus `extra`; roots (self-signed) are left out, as servers should not send them.
/// `anchors` are the subject names (DER) of trusted roots: a certificate issued by one ends
/// the chain.
/// Returns the PEM and, when the chain still does not reach a self-signed issuer or a
/// certificate we have, the name of the first missing issuer.
pub fn full_chain(
    sent: &[Vec<u8>],
    extra: &[Vec<u8>],
    anchors: &[Vec<u8>],
) -> (String, Option<String>) {
    let pool: Vec<&Vec<u8>> = sent.iter().chain(extra.iter()).collect();
    let parsed: Vec<Option<X509Certificate<'_>>> = pool
        .iter()
        .map(|d| X509Certificate::from_der(d).ok().map(|(_, c)| c))
        .collect();
    let mut order: Vec<usize> = vec![0];
    let mut missing = None;
    while let Some(cur) = parsed[*order.last().unwrap_or(&0)].as_ref() {
        if cur.subject().as_raw() == cur.issuer().as_raw() {
            // Reached a self-signed certificate: a root. Servers need not send it.
            order.pop();
            break;
        }
        if anchors
            .iter()
            .any(|a| a.as_slice() == cur.issuer().as_raw())
        {
            // Issued by a root of a trust store: the chain is complete without it.
            break;
        }
        let next = parsed.iter().enumerate().position(|(i, c)| {
            !order.contains(&i)
                && c.as_ref()
                    .is_some_and(|c| c.subject().as_raw() == cur.issuer().as_raw())
        });
        match next {
            Some(i) => order.push(i),
            None => {
                missing = Some(crate::cert::name::name_text(cur.issuer()));
                break;
            }
        }
        if order.len() > pool.len() {
            break;
        }
    }
    if order.is_empty() {
        order.push(0);
    }
    let pem = order
        .iter()
        .map(|&i| pem::encode(&pem::Pem::new("CERTIFICATE", pool[i].clone())))
        .collect::<String>();
    (pem, missing)
}

#[cfg(test)]
mod tests {
    use super::config_token;

    #[test]
    fn targets_cannot_break_out_of_a_configuration_comment() {
        assert_eq!(config_token("db.example.com:27017"), "db.example.com:27017");
        assert_eq!(config_token("[2001:db8::1]:443"), "[2001:db8::1]:443");
        assert_eq!(
            config_token("evil.test\nssl_protocols SSLv3;"),
            "evil.test_ssl_protocols_SSLv3_"
        );
        assert_eq!(config_token("a\"b'c\x1b"), "a_b_c_");
    }
}
