//! The finding catalogue (data/findings.toml): severity, title, fixes and fix artefacts of
//! every finding, by typed id. Checks build their findings here and add what they measured
//! (evidence, the clients it breaks).
//!
//! It lives beside the finding vocabulary rather than in the doctor so that every check
//! (certificates, OCSP, the environment, the doctor's protocol rules) can use it without
//! importing the doctor.

use super::id::VARIANTS;
use super::{Finding, FindingId, Form, Severity};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::sync::OnceLock;

const CATALOGUE: &str = include_str!("../../data/findings.toml");

/// A file `check --write-fixes DIR` writes for a finding (see src/doctor/fixes.rs).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize)]
pub enum Artefact {
    /// fullchain.pem: the chain the server should send, in order.
    #[serde(rename = "fullchain")]
    FullChain,
    /// nginx, Apache and HAProxy protocol and cipher settings.
    #[serde(rename = "server-config")]
    ServerConfig,
    /// An OPENSSL_CONF that allows servers without RFC 5746.
    #[serde(rename = "openssl-legacy-server-connect")]
    OpensslLegacyServerConnect,
    /// An OPENSSL_CONF that re-enables TLS 1.0/1.1.
    #[serde(rename = "openssl-legacy-protocols")]
    OpensslLegacyProtocols,
    /// An OPENSSL_CONF at security level 1.
    #[serde(rename = "openssl-security-level-1")]
    OpensslSecurityLevel1,
}

/// Whether an entry is reported as a finding, or only named as a cause.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    #[default]
    Finding,
    /// Named by a simulated client's failure or an explain cause; never a finding itself.
    Cause,
}

/// One catalogue entry.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Entry {
    pub severity: Severity,
    pub title: String,
    #[serde(default)]
    pub fix_server: Vec<String>,
    #[serde(default)]
    pub fix_client: Vec<String>,
    #[serde(default)]
    pub artefacts: Vec<Artefact>,
    /// What the security-level-1 configuration's header says about the server.
    #[serde(default)]
    pub weakness: Option<String>,
    #[serde(default)]
    pub kind: Kind,
    /// A security problem rather than a connection failure: clients that do not check for it
    /// connect (a revoked certificate). `check` reports these apart (doctor::Verdict).
    #[serde(default)]
    pub security: bool,
    #[serde(default)]
    variant: BTreeMap<String, Variant>,
}

/// Another form of an entry; what it sets replaces the entry's value, except
/// `fix_client_first` and `fix_client_last`, which go before and after the client fixes.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Variant {
    severity: Option<Severity>,
    title: Option<String>,
    fix_server: Option<Vec<String>>,
    fix_client: Option<Vec<String>>,
    #[serde(default)]
    fix_client_first: Vec<String>,
    #[serde(default)]
    fix_client_last: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    finding: BTreeMap<String, Entry>,
}

/// Parse the catalogue and index it by id; the generated ids and variants must be exactly
/// the entries the file holds.
fn load(text: &str) -> Result<Vec<Entry>, String> {
    let mut file: File = toml::from_str(text).map_err(|e| e.to_string())?;
    let mut entries = Vec::with_capacity(FindingId::ALL.len());
    for id in FindingId::ALL {
        let e = file
            .finding
            .remove(id.as_str())
            .ok_or_else(|| format!("{id}: generated, but not parsed from the catalogue"))?;
        entries.push(e);
    }
    if let Some(extra) = file.finding.keys().next() {
        return Err(format!(
            "{extra}: in the catalogue but not generated (header not on a line of its own?)"
        ));
    }
    for (i, e) in entries.iter().enumerate() {
        let id = FindingId::ALL[i];
        for name in e.variant.keys() {
            if !VARIANTS.contains(&(id, name.as_str())) {
                return Err(format!("{id}.{name}: variant not generated"));
            }
        }
    }
    for (id, name) in VARIANTS {
        if !entries[*id as usize].variant.contains_key(*name) {
            return Err(format!("{id}.{name}: variant generated, but not parsed"));
        }
    }
    Ok(entries)
}

fn entries() -> &'static [Entry] {
    static CAT: OnceLock<Vec<Entry>> = OnceLock::new();
    CAT.get_or_init(|| {
        // Compiled in and checked by the unit tests below: a failure is a build defect.
        load(CATALOGUE).unwrap_or_else(|e| panic!("data/findings.toml is invalid: {e}"))
    })
}

/// The catalogue entry of `id`.
pub fn entry(id: FindingId) -> &'static Entry {
    &entries()[id as usize]
}

/// A finding in the catalogue's form (severity, title, fixes); `{name}` placeholders are
/// replaced from `vars`. The caller adds evidence and the clients it breaks.
pub fn finding(form: impl Into<Form>, vars: &[(&str, String)]) -> Finding {
    let form = form.into();
    let (e, v) = entry_and_variant(form);
    let severity = v.and_then(|v| v.severity).unwrap_or(e.severity);
    let title = v.and_then(|v| v.title.as_ref()).unwrap_or(&e.title);
    let fix_server = v
        .and_then(|v| v.fix_server.as_ref())
        .unwrap_or(&e.fix_server);
    let mut f = Finding::new(form.id, severity, fill(title, vars));
    f.fix_server = fix_server.iter().map(|l| fill(l, vars)).collect();
    f.fix_client = fix_client(form, vars);
    f
}

/// The client fixes of `form` alone, for a finding whose context (say, the local client's
/// configuration) is known only after it was built.
pub fn fix_client(form: impl Into<Form>, vars: &[(&str, String)]) -> Vec<String> {
    let (e, v) = entry_and_variant(form.into());
    let first = v.map(|v| v.fix_client_first.as_slice()).unwrap_or_default();
    let own = v
        .and_then(|v| v.fix_client.as_ref())
        .unwrap_or(&e.fix_client);
    let last = v.map(|v| v.fix_client_last.as_slice()).unwrap_or_default();
    first
        .iter()
        .chain(own)
        .chain(last)
        .map(|l| fill(l, vars))
        .collect()
}

fn entry_and_variant(form: Form) -> (&'static Entry, Option<&'static Variant>) {
    let e = entry(form.id);
    (e, form.variant.and_then(|name| e.variant.get(name)))
}

/// Replace each `{name}` (lower-case letters, digits, `_`) in `text` with its value, in one
/// pass: text coming from a value (a certificate subject, say) is never read as a
/// placeholder. A placeholder without a value is left as written.
pub fn fill(text: &str, vars: &[(&str, String)]) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        let name_len = after
            .find(|c: char| !(c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_'))
            .unwrap_or(after.len());
        let name = &after[..name_len];
        let value = vars.iter().find(|(k, _)| *k == name).map(|(_, v)| v);
        match value {
            Some(v) if name_len > 0 && after[name_len..].starts_with('}') => {
                out.push_str(v);
                rest = &after[name_len + 1..];
            }
            _ => {
                debug_assert!(
                    name_len == 0 || !after[name_len..].starts_with('}'),
                    "no value for placeholder {{{name}}} in {text:?}"
                );
                out.push('{');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

/// The placeholders a text uses, for the tests.
#[cfg(test)]
fn placeholders(text: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(open) = rest.find('{') {
        rest = &rest[open + 1..];
        if let Some(close) = rest.find('}') {
            out.push(&rest[..close]);
            rest = &rest[close + 1..];
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn catalogue_loads_and_matches_the_generated_ids() {
        let parsed = load(CATALOGUE).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(parsed.len(), FindingId::ALL.len());
        // The generated list is exactly the file's entries, both ways (load checks the
        // variants the same way).
        let file: toml::Table = toml::from_str(CATALOGUE).unwrap();
        let keys: Vec<&str> = file["finding"]
            .as_table()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        let mut generated: Vec<&str> = FindingId::ALL.iter().map(|i| i.as_str()).collect();
        generated.sort_unstable();
        assert_eq!(keys, generated);
    }

    #[test]
    fn every_entry_is_complete() {
        for id in FindingId::ALL {
            let e = entry(id);
            assert!(!e.title.trim().is_empty(), "{id}: no title");
            assert!(
                !e.title.ends_with('.'),
                "{id}: a title is not a sentence with a stop"
            );
            match e.kind {
                Kind::Finding => assert!(
                    !e.fix_server.is_empty() || !e.fix_client.is_empty(),
                    "{id}: a finding says what to change"
                ),
                Kind::Cause => assert!(
                    e.fix_server.is_empty()
                        && e.fix_client.is_empty()
                        && e.artefacts.is_empty()
                        && e.variant.is_empty(),
                    "{id}: a cause is never reported, so it has no fixes, artefacts or variants"
                ),
            }
            // The security-level-1 artefact names each finding's weakness, and only its
            // findings have one.
            assert_eq!(
                e.weakness.is_some(),
                e.artefacts.contains(&Artefact::OpensslSecurityLevel1),
                "{id}: weakness and the openssl-security-level-1 artefact go together"
            );
            let variant_texts = e.variant.values().flat_map(|v| {
                v.title
                    .iter()
                    .chain(v.fix_server.iter().flatten())
                    .chain(v.fix_client.iter().flatten())
                    .chain(&v.fix_client_first)
                    .chain(&v.fix_client_last)
            });
            for text in std::iter::once(&e.title)
                .chain(&e.fix_server)
                .chain(&e.fix_client)
                .chain(variant_texts)
            {
                for p in placeholders(text) {
                    assert!(
                        !p.is_empty()
                            && p.chars()
                                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_'),
                        "{id}: placeholder {{{p}}} in {text:?} is not a plain name"
                    );
                }
            }
        }
    }

    #[test]
    fn variants_override_what_they_set() {
        let base = finding(FindingId::DhTooSmall, &[]);
        let weak = finding(super::super::variant::dh_too_small::NO_CLIENT_FAILS, &[]);
        assert_eq!(base.severity, Severity::Error);
        assert_eq!(weak.severity, Severity::Warning);
        assert_eq!(base.title, weak.title);
        assert_eq!(base.fix_server, weak.fix_server);
    }

    #[test]
    fn variants_can_add_client_fixes_around_the_entry_s() {
        use super::super::variant::{env_trust_store_expired_certs, proto_client_too_old};
        let base = fix_client(FindingId::EnvTrustStoreExpiredCerts, &[]);
        let stale = fix_client(env_trust_store_expired_certs::STALE, &[]);
        assert_eq!(stale.len(), base.len() + 1);
        assert_eq!(stale[1..], base[..]);
        let conf = [("conf", "/etc/ssl/openssl.cnf".to_string())];
        let local = fix_client(proto_client_too_old::LOCAL_OPENSSL_CONF, &conf);
        assert!(local[0].contains("/etc/ssl/openssl.cnf"));
        assert_eq!(
            local[1..],
            fix_client(FindingId::ProtoClientTooOld, &[])[..]
        );
    }

    #[test]
    fn placeholders_are_filled_once() {
        let f = finding(
            FindingId::ProtoServerTooOld,
            &[("server_versions", "TLSv1.0".into())],
        );
        assert!(f.fix_server[0].contains("TLSv1.0 today"));
        assert_eq!(f.severity, Severity::Error);
        // A value that looks like a placeholder stays as it is.
        let vars = [("a", "{b}".to_string()), ("b", "x".to_string())];
        assert_eq!(fill("{a} and {b}", &vars), "{b} and x");
        // Braces that are not placeholders are kept.
        assert_eq!(fill("{ x } {} {A}", &[]), "{ x } {} {A}");
    }

    #[test]
    fn titles_read_as_sentences() {
        let f = finding(
            FindingId::EnvOpensslTooOld,
            &[("who", "curl".into()), ("banner", "OpenSSL 1.0.0".into())],
        );
        assert_eq!(
            f.title,
            "Curl uses OpenSSL 1.0.0, which cannot speak TLS 1.1 or 1.2"
        );
    }
}
