//! Compliance profiles: Mozilla's Server Side TLS configurations (data/profiles/mozilla-5.7.toml)
//! and what default OpenSSL 3 / Python clients accept (data/profiles/openssl3-python.toml,
//! derived from the captured client profile it names). A server is checked field by field;
//! each field it fails is one `profile-noncompliant` finding (a variant per field) whose fix
//! gives the nginx, Apache and HAProxy lines, written from the profile's own values.
//!
//! Two kinds of profile. A *server* profile (Mozilla's) says what the server should offer:
//! everything the server accepts must be in the profile's lists. A *client* profile says what
//! a client needs: the server must share a version, a suite and a group with it, and pass
//! every check the client makes.

use crate::cert::ChainAnalysis;
use crate::finding::catalogue::finding;
use crate::finding::{Finding, Form, variant};
use crate::scan::ServerScan;
use crate::wire::ProtocolVersion;
use crate::wire::suites::{self, CipherSuite, SuiteProtocol};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::sync::OnceLock;

const PROFILE_FILES: &[(&str, &str)] = &[
    (
        "data/profiles/mozilla-5.7.toml",
        include_str!("../../data/profiles/mozilla-5.7.toml"),
    ),
    (
        "data/profiles/openssl3-python.toml",
        include_str!("../../data/profiles/openssl3-python.toml"),
    ),
];

/// What a profile says a server must do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    /// What the server should offer: nothing outside its lists.
    Server,
    /// What a client needs: something in common, and every client check passed.
    Client,
}

/// A profile, resolved: every name is the one the scan and the chain analysis report.
#[derive(Debug, Clone)]
pub struct Profile {
    pub id: String,
    pub title: String,
    pub kind: Kind,
    pub source: String,
    pub versions: Vec<ProtocolVersion>,
    /// TLS 1.2-and-older suites, in the profile's order.
    pub suites: Vec<&'static CipherSuite>,
    pub tls13_suites: Vec<&'static CipherSuite>,
    /// Groups as the scan names them, and as OpenSSL configuration spells them.
    pub groups: Vec<String>,
    pub groups_config: Vec<String>,
    /// `rsa`, `ecdsa`; empty: any.
    pub certificate_types: Vec<String>,
    /// Certificate curves as the chain analysis names them (`EC P-256`); empty: any.
    pub certificate_curves: Vec<String>,
    /// Signature algorithms allowed on the leaf; empty: any not forbidden.
    pub certificate_signatures: Vec<String>,
    /// Signature hashes refused anywhere in the chain sent (a client's limit).
    pub forbidden_signature_hashes: Vec<String>,
    pub rsa_key_size: Option<usize>,
    pub ecdh_param_size: Option<usize>,
    pub dh_param_size: Option<usize>,
    pub maximum_certificate_lifespan: Option<i64>,
    pub ocsp_staple: bool,
    /// Checked only when true: the server must enforce its own order.
    pub server_preferred_order: bool,
    pub requires_secure_renegotiation: bool,
}

/// The verdict of one profile on one server.
#[derive(Debug, Clone, Serialize)]
pub struct ProfileVerdict {
    pub profile: String,
    pub title: String,
    pub compliant: bool,
    /// The fields checked, in order.
    pub checked: Vec<String>,
    /// The fields the server fails.
    pub failed: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub findings: Vec<Finding>,
}

/// A `--profile` name no profile has.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("no profile is called {name:?}; the profiles are: {known}")]
pub struct UnknownProfile {
    pub name: String,
    pub known: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ProfileData {
    title: String,
    kind: Kind,
    #[serde(default)]
    from_client: Option<String>,
    #[serde(default)]
    tls_versions: Vec<String>,
    #[serde(default)]
    ciphers_openssl: Vec<String>,
    #[serde(default)]
    ciphers_iana: Vec<String>,
    #[serde(default)]
    ciphersuites: Vec<String>,
    #[serde(default)]
    tls_curves: Vec<String>,
    #[serde(default)]
    certificate_types: Vec<String>,
    #[serde(default)]
    certificate_curves: Vec<String>,
    #[serde(default)]
    certificate_signatures: Vec<String>,
    rsa_key_size: Option<usize>,
    dh_param_size: Option<usize>,
    ecdh_param_size: Option<usize>,
    maximum_certificate_lifespan: Option<i64>,
    #[serde(default)]
    ocsp_staple: bool,
    #[serde(default)]
    server_preferred_order: bool,
    // Recorded, not checked (see the file's header).
    #[allow(dead_code)]
    hsts_min_age: Option<u64>,
    #[allow(dead_code)]
    recommended_certificate_lifespan: Option<u64>,
    #[allow(dead_code)]
    #[serde(default)]
    oldest_clients: Vec<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct Names {
    #[serde(default)]
    groups: BTreeMap<String, String>,
    #[serde(default)]
    certificate_curves: BTreeMap<String, String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    profile: BTreeMap<String, ProfileData>,
    #[serde(default)]
    names: Names,
}

/// Every profile, in file order then name order.
pub fn all() -> &'static [Profile] {
    static ALL: OnceLock<Vec<Profile>> = OnceLock::new();
    ALL.get_or_init(|| {
        let mut out = Vec::new();
        for (path, text) in PROFILE_FILES {
            let file: File =
                toml::from_str(text).unwrap_or_else(|e| panic!("{path} is invalid: {e}"));
            for (id, data) in file.profile {
                out.push(
                    resolve(&id, data, &file.names, path)
                        .unwrap_or_else(|e| panic!("{path}: profile {id}: {e}")),
                );
            }
        }
        out
    })
}

/// The profile called `name`.
pub fn find(name: &str) -> Result<&'static Profile, UnknownProfile> {
    all()
        .iter()
        .find(|p| p.id == name)
        .ok_or_else(|| UnknownProfile {
            name: name.to_string(),
            known: all()
                .iter()
                .map(|p| p.id.as_str())
                .collect::<Vec<_>>()
                .join(", "),
        })
}

fn suite(name: &str) -> Result<&'static CipherSuite, String> {
    suites::by_name(name).ok_or_else(|| format!("suite {name} is not in the registry"))
}

fn resolve(id: &str, d: ProfileData, names: &Names, path: &str) -> Result<Profile, String> {
    if let Some(client) = &d.from_client {
        return from_client(id, &d, client, path);
    }
    let versions = d
        .tls_versions
        .iter()
        .map(|v| ProtocolVersion::parse_name(v).ok_or_else(|| format!("version {v}")))
        .collect::<Result<Vec<_>, _>>()?;
    let suites = d
        .ciphers_iana
        .iter()
        .map(|n| suite(n))
        .collect::<Result<Vec<_>, _>>()?;
    // The OpenSSL names must be the same suites (the profile gives both).
    for n in &d.ciphers_openssl {
        let s = suite(n)?;
        if !suites.iter().any(|x| x.id == s.id) {
            return Err(format!("{n} is in ciphers_openssl but not in ciphers_iana"));
        }
    }
    if d.ciphers_openssl.len() != suites.len() {
        return Err("ciphers_openssl and ciphers_iana differ in length".into());
    }
    let map = |table: &BTreeMap<String, String>, n: &String| {
        table
            .get(n)
            .cloned()
            .ok_or_else(|| format!("no name for {n} in [names]"))
    };
    Ok(Profile {
        id: id.to_string(),
        title: d.title,
        kind: d.kind,
        source: path.to_string(),
        versions,
        suites,
        tls13_suites: d
            .ciphersuites
            .iter()
            .map(|n| suite(n))
            .collect::<Result<Vec<_>, _>>()?,
        groups: d
            .tls_curves
            .iter()
            .map(|n| map(&names.groups, n))
            .collect::<Result<Vec<_>, _>>()?,
        groups_config: d.tls_curves.clone(),
        certificate_types: d.certificate_types,
        certificate_curves: d
            .certificate_curves
            .iter()
            .map(|n| map(&names.certificate_curves, n))
            .collect::<Result<Vec<_>, _>>()?,
        certificate_signatures: d.certificate_signatures,
        forbidden_signature_hashes: vec!["md5".into(), "sha1".into()],
        rsa_key_size: d.rsa_key_size,
        ecdh_param_size: d.ecdh_param_size,
        dh_param_size: d.dh_param_size,
        maximum_certificate_lifespan: d.maximum_certificate_lifespan,
        ocsp_staple: d.ocsp_staple,
        server_preferred_order: d.server_preferred_order,
        requires_secure_renegotiation: false,
    })
}

/// A client profile's hello and policy, as a compliance profile.
fn from_client(id: &str, d: &ProfileData, client: &str, path: &str) -> Result<Profile, String> {
    use crate::wire::{ClientExtension, ClientHello};
    let c = crate::clients::find_profile(client)
        .ok_or_else(|| format!("no client profile {client}"))?;
    let hello = ClientHello::parse_record(&c.hello_bytes()).map_err(|e| e.to_string())?;
    let offered: Vec<&'static CipherSuite> = hello
        .cipher_suites
        .iter()
        .filter_map(|s| suites::by_id(u32::from(s.0)))
        .collect();
    let groups: Vec<String> = hello
        .extensions
        .iter()
        .find_map(|e| match e {
            ClientExtension::SupportedGroups(g) => Some(g.clone()),
            _ => None,
        })
        .unwrap_or_default()
        .into_iter()
        .filter_map(|g| crate::wire::groups::group_name(g).map(str::to_string))
        .collect();
    let (min, max) = (c.policy.min(), c.policy.max());
    let limits = &c.policy.limits;
    let mut forbidden = vec!["md5".to_string()];
    if !limits.accepts_sha1_certificates {
        forbidden.push("sha1".into());
    }
    Ok(Profile {
        id: id.to_string(),
        title: d.title.clone(),
        kind: d.kind,
        source: format!("{path}, from data/clients/{client}.toml ({})", c.name),
        versions: ProtocolVersion::ALL
            .into_iter()
            .filter(|v| *v >= min && *v <= max)
            .collect(),
        suites: offered
            .iter()
            .copied()
            .filter(|s| s.protocol == SuiteProtocol::Tls)
            .collect(),
        tls13_suites: offered
            .iter()
            .copied()
            .filter(|s| s.protocol == SuiteProtocol::Tls13)
            .collect(),
        groups_config: groups.clone(),
        groups,
        certificate_types: Vec::new(),
        certificate_curves: Vec::new(),
        certificate_signatures: Vec::new(),
        forbidden_signature_hashes: forbidden,
        rsa_key_size: Some(limits.min_rsa_bits),
        ecdh_param_size: Some(limits.min_ecc_bits),
        dh_param_size: Some(limits.min_dh_bits),
        maximum_certificate_lifespan: None,
        ocsp_staple: false,
        server_preferred_order: false,
        requires_secure_renegotiation: c.policy.requires_secure_renegotiation,
    })
}

/// What the config lines of one field say, per server.
struct Lines {
    want: String,
    nginx: String,
    apache: String,
    haproxy: String,
}

/// One failed field.
struct Failure {
    form: Form,
    field: &'static str,
    evidence: Vec<String>,
    lines: Lines,
}

fn openssl_names(list: &[&'static CipherSuite]) -> String {
    list.iter()
        .map(|s| s.display_name())
        .collect::<Vec<_>>()
        .join(":")
}

fn version_lines(p: &Profile) -> Lines {
    let nginx_name = |v: &ProtocolVersion| match v {
        ProtocolVersion::Tls10 => "TLSv1".to_string(),
        v => v.name(),
    };
    let list: Vec<String> = p.versions.iter().map(nginx_name).collect();
    // HAProxy spells TLS 1.0 "TLSv1.0", where nginx and Apache say "TLSv1".
    let (lo, hi) = (
        p.versions.first().map(|v| v.name()).unwrap_or_default(),
        p.versions.last().map(|v| v.name()).unwrap_or_default(),
    );
    Lines {
        want: format!("Accept {} only.", crate::scan::versions::names(&p.versions)),
        nginx: format!("ssl_protocols {}", list.join(" ")),
        apache: format!(
            "SSLProtocol -all {}",
            list.iter()
                .map(|v| format!("+{v}"))
                .collect::<Vec<_>>()
                .join(" ")
        ),
        haproxy: format!("ssl-default-bind-options ssl-min-ver {lo} ssl-max-ver {hi}"),
    }
}

/// Check `scan` (and the chain it presented, when known) against `p`.
pub fn check(
    p: &'static Profile,
    scan: &ServerScan,
    chain: Option<&ChainAnalysis>,
) -> ProfileVerdict {
    let mut checked: Vec<&'static str> = Vec::new();
    let mut failures: Vec<Failure> = Vec::new();
    let accepted: Vec<ProtocolVersion> = scan.accepted_versions();
    let all_suites = super::vulns::accepted_suites(scan);
    let names = crate::scan::versions::names;

    // Protocol versions.
    checked.push("protocols");
    let shared: Vec<ProtocolVersion> = accepted
        .iter()
        .copied()
        .filter(|v| p.versions.contains(v))
        .collect();
    let extra: Vec<ProtocolVersion> = accepted
        .iter()
        .copied()
        .filter(|v| !p.versions.contains(v))
        .collect();
    let protocols_fail = match p.kind {
        Kind::Server => !extra.is_empty() || shared.is_empty(),
        Kind::Client => shared.is_empty(),
    };
    if protocols_fail {
        let mut evidence = vec![format!(
            "the server accepts {}; the profile allows {}",
            names(&accepted),
            names(&p.versions)
        )];
        if p.kind == Kind::Server && !extra.is_empty() {
            evidence.push(format!("outside the profile: {}", names(&extra)));
        }
        failures.push(Failure {
            form: variant::profile_noncompliant::PROTOCOLS,
            field: "protocols",
            evidence,
            lines: version_lines(p),
        });
    }

    // Cipher suites, TLS 1.2 and older, and TLS 1.3.
    for tls13 in [false, true] {
        let allowed = if tls13 { &p.tls13_suites } else { &p.suites };
        let field = if tls13 { "tls13-ciphers" } else { "ciphers" };
        let in_scope = |v: ProtocolVersion| {
            if tls13 {
                v == ProtocolVersion::Tls13
            } else {
                v != ProtocolVersion::Tls13 && v != ProtocolVersion::Ssl2
            }
        };
        let served: Vec<&super::vulns::Accepted<'_>> = all_suites
            .iter()
            .filter(|s| {
                in_scope(s.version) && (p.kind == Kind::Server || shared.contains(&s.version))
            })
            .collect();
        if served.is_empty() || (allowed.is_empty() && p.kind == Kind::Server) {
            // Nothing served in this scope, or the profile has no suites there at all (its
            // versions finding says so).
            continue;
        }
        checked.push(field);
        let is_allowed = |s: &super::vulns::Accepted<'_>| {
            s.known
                .is_some_and(|k| allowed.iter().any(|a| a.id == k.id))
        };
        let mut outside: Vec<String> = served
            .iter()
            .filter(|s| !is_allowed(s))
            .map(|s| s.name())
            .collect();
        outside.sort();
        outside.dedup();
        let fail = match p.kind {
            Kind::Server => !outside.is_empty(),
            Kind::Client => !served.iter().any(|s| is_allowed(s)),
        };
        if !fail {
            continue;
        }
        let list = openssl_names(allowed);
        let evidence = match p.kind {
            Kind::Server => vec![format!(
                "accepted but not in the profile: {}",
                outside.join(", ")
            )],
            Kind::Client => vec![format!(
                "none of the accepted suites ({}) is one the client offers",
                outside.join(", ")
            )],
        };
        let lines = if tls13 {
            Lines {
                want: format!(
                    "Offer only these TLS 1.3 suites: {}.",
                    list.replace(':', ", ")
                ),
                nginx: format!("ssl_conf_command Ciphersuites {list}"),
                apache: format!("SSLCipherSuite TLSv1.3 {list}"),
                haproxy: format!("ssl-default-bind-ciphersuites {list}"),
            }
        } else {
            Lines {
                want: format!(
                    "Offer only these suites, in this order: {}.",
                    list.replace(':', ", ")
                ),
                nginx: format!("ssl_ciphers {list}"),
                apache: format!("SSLCipherSuite {list}"),
                haproxy: format!("ssl-default-bind-ciphers {list}"),
            }
        };
        failures.push(Failure {
            form: if tls13 {
                variant::profile_noncompliant::TLS13_CIPHERS
            } else {
                variant::profile_noncompliant::CIPHERS
            },
            field,
            evidence,
            lines,
        });
    }

    // Key-exchange groups.
    let kx = &scan.key_exchange;
    let groups: Vec<String> = kx
        .tls13_groups
        .iter()
        .chain(&kx.ecdhe_curves)
        .map(|g| g.name.clone())
        .fold(Vec::new(), |mut acc, g| {
            if !acc.contains(&g) {
                acc.push(g);
            }
            acc
        });
    if !groups.is_empty() && !p.groups.is_empty() {
        checked.push("groups");
        let outside: Vec<String> = groups
            .iter()
            .filter(|g| !p.groups.contains(g))
            .cloned()
            .collect();
        let fail = match p.kind {
            Kind::Server => !outside.is_empty(),
            Kind::Client => outside.len() == groups.len(),
        };
        if fail {
            let list = p.groups_config.join(":");
            failures.push(Failure {
                form: variant::profile_noncompliant::GROUPS,
                field: "groups",
                evidence: vec![format!(
                    "the server accepts {}; outside the profile: {}",
                    groups.join(", "),
                    outside.join(", ")
                )],
                lines: Lines {
                    want: format!("Offer only these groups: {}.", list.replace(':', ", ")),
                    nginx: format!("ssl_ecdh_curve {list}"),
                    apache: format!("SSLOpenSSLConfCmd Curves {list}"),
                    haproxy: format!("ssl-default-bind-curves {list}"),
                },
            });
        }
    }

    // DH parameters, when a DHE suite is served.
    let dhe = all_suites.iter().any(|s| s.suite.kx == "DHE");
    if let (true, Some(min), Some(bits)) = (dhe, p.dh_param_size, kx.dh_bits) {
        checked.push("dh-size");
        if bits < min {
            let file = format!("ffdhe{}.pem", min.max(2048));
            failures.push(Failure {
                form: variant::profile_noncompliant::DH_SIZE,
                field: "dh-size",
                evidence: vec![format!("the DHE prime has {bits} bits; the profile asks for at least {min}")],
                lines: Lines {
                    want: format!(
                        "Use DH parameters of at least {min} bits, e.g. the RFC 7919 group (openssl genpkey -genparam -algorithm DH -pkeyopt group:ffdhe{} -out {file}).",
                        min.max(2048)
                    ),
                    nginx: format!("ssl_dhparam {file}"),
                    apache: format!("SSLOpenSSLConfCmd DHParameters {file}"),
                    haproxy: format!("ssl-dh-param-file {file}"),
                },
            });
        }
    }

    // The certificate.
    if let Some(leaf) = chain.and_then(|c| c.certificates.first()) {
        checked.push("certificate");
        let mut problems = Vec::new();
        let is_ec = leaf.key_type.starts_with("EC");
        let ty = if leaf.key_type == "RSA" {
            "rsa"
        } else if is_ec {
            "ecdsa"
        } else {
            leaf.key_type.as_str()
        };
        if !p.certificate_types.is_empty() && !p.certificate_types.iter().any(|t| t == ty) {
            problems.push(format!(
                "the certificate key is {}; the profile allows {}",
                leaf.key_type,
                p.certificate_types.join(", ")
            ));
        }
        if is_ec
            && !p.certificate_curves.is_empty()
            && !p.certificate_curves.contains(&leaf.key_type)
        {
            problems.push(format!(
                "the certificate's curve ({}) is not one the profile allows",
                leaf.key_type
            ));
        }
        if let (true, Some(min)) = (ty == "rsa", p.rsa_key_size) {
            if leaf.key_bits < min {
                problems.push(format!(
                    "the RSA key has {} bits; the profile asks for at least {min}",
                    leaf.key_bits
                ));
            }
        }
        if let (true, Some(min)) = (is_ec, p.ecdh_param_size) {
            if leaf.key_bits < min {
                problems.push(format!(
                    "the EC key has {} bits; the profile asks for at least {min}",
                    leaf.key_bits
                ));
            }
        }
        if !p.certificate_signatures.is_empty()
            && !p.certificate_signatures.contains(&leaf.signature_algorithm)
        {
            problems.push(format!(
                "the certificate is signed with {}; the profile allows {}",
                leaf.signature_algorithm,
                p.certificate_signatures.join(", ")
            ));
        }
        let certs = chain.map(|c| c.certificates.as_slice()).unwrap_or_default();
        for (i, c) in certs.iter().enumerate() {
            let root = i > 0 && c.self_signed_verified;
            if !root && p.forbidden_signature_hashes.contains(&c.sig_hash) {
                problems.push(format!(
                    "certificate {} of the chain is signed with {} ({})",
                    i + 1,
                    c.signature_algorithm,
                    c.sig_hash
                ));
            }
        }
        if !problems.is_empty() {
            let types = if p.certificate_types.is_empty() {
                "an RSA or ECDSA".to_string()
            } else {
                p.certificate_types.join(" or ").to_uppercase()
            };
            let mut want = format!("Serve {types} certificate");
            if let Some(r) = p.rsa_key_size {
                want.push_str(&format!(" (RSA keys of at least {r} bits"));
                want.push_str(if p.certificate_curves.is_empty() {
                    ")"
                } else {
                    ""
                });
            }
            if !p.certificate_curves.is_empty() {
                want.push_str(&format!(
                    "{}ECDSA on {}",
                    if p.rsa_key_size.is_some() { ", " } else { " (" },
                    p.certificate_curves.join(" or ")
                ));
                want.push(')');
            }
            if !p.certificate_signatures.is_empty() {
                want.push_str(&format!(
                    ", signed with {}",
                    p.certificate_signatures.join(" or ")
                ));
            } else {
                want.push_str(&format!(
                    ", with no {} signature in its chain",
                    p.forbidden_signature_hashes.join(" or ")
                ));
            }
            want.push('.');
            failures.push(Failure {
                form: variant::profile_noncompliant::CERTIFICATE,
                field: "certificate",
                evidence: problems,
                lines: Lines {
                    want,
                    nginx: String::new(),
                    apache: String::new(),
                    haproxy: String::new(),
                },
            });
        }
        if let Some(max) = p.maximum_certificate_lifespan {
            checked.push("lifespan");
            let days = (leaf.not_after_unix - leaf.not_before_unix) / 86_400;
            if days > max {
                failures.push(Failure {
                    form: variant::profile_noncompliant::LIFESPAN,
                    field: "lifespan",
                    evidence: vec![format!("the certificate is valid for {days} days; the profile allows at most {max}")],
                    lines: Lines {
                        want: format!("Issue certificates valid for at most {max} days (and renew them automatically)."),
                        nginx: String::new(),
                        apache: String::new(),
                        haproxy: String::new(),
                    },
                });
            }
        }
    }

    // OCSP stapling.
    if p.ocsp_staple {
        checked.push("ocsp-stapling");
        if scan.properties.ocsp_stapling.supported != Some(true) {
            failures.push(Failure {
                form: variant::profile_noncompliant::OCSP_STAPLING,
                field: "ocsp-stapling",
                evidence: vec![scan.properties.ocsp_stapling.evidence.clone()],
                lines: Lines {
                    want: "Staple OCSP responses.".into(),
                    nginx: "ssl_stapling on; ssl_stapling_verify on;".into(),
                    apache: "SSLUseStapling on (with an SSLStaplingCache)".into(),
                    haproxy: "ocsp-update on (on the certificate's crt-list line)".into(),
                },
            });
        }
    }

    // The server's order, when the profile asks the server to choose.
    if p.server_preferred_order {
        let measured: Vec<&crate::scan::ciphers::VersionSuites> = scan
            .cipher_suites
            .iter()
            .filter(|vs| vs.version != ProtocolVersion::Tls13 && vs.server_preference.is_some())
            .collect();
        if !measured.is_empty() {
            checked.push("server-order");
            let client_order: Vec<ProtocolVersion> = measured
                .iter()
                .filter(|vs| vs.server_preference == Some(false))
                .map(|vs| vs.version)
                .collect();
            if !client_order.is_empty() {
                failures.push(Failure {
                    form: variant::profile_noncompliant::SERVER_ORDER,
                    field: "server-order",
                    evidence: vec![format!(
                        "{} follow the client's order",
                        names(&client_order)
                    )],
                    lines: Lines {
                        want: "Choose the suite by the server's order.".into(),
                        nginx: "ssl_prefer_server_ciphers on".into(),
                        apache: "SSLHonorCipherOrder on".into(),
                        haproxy: "remove prefer-client-ciphers from ssl-default-bind-options"
                            .into(),
                    },
                });
            }
        }
    }

    // Secure renegotiation, for clients that require it.
    if p.requires_secure_renegotiation && !shared.contains(&ProtocolVersion::Tls13) {
        checked.push("renegotiation");
        if scan.properties.secure_renegotiation.supported == Some(false) {
            failures.push(Failure {
                form: variant::profile_noncompliant::RENEGOTIATION,
                field: "renegotiation",
                evidence: vec![scan.properties.secure_renegotiation.evidence.clone()],
                lines: Lines {
                    want: "Support RFC 5746 secure renegotiation (every TLS library since 2010 does), or enable TLS 1.3.".into(),
                    nginx: "ssl_protocols TLSv1.2 TLSv1.3 (with a current OpenSSL)".into(),
                    apache: "SSLProtocol -all +TLSv1.2 +TLSv1.3 (with a current OpenSSL)".into(),
                    haproxy: "ssl-default-bind-options ssl-min-ver TLSv1.2 (with a current OpenSSL)".into(),
                },
            });
        }
    }

    let findings: Vec<Finding> = failures
        .iter()
        .map(|f| {
            let mut out = finding(
                f.form,
                &[
                    ("profile", p.title.clone()),
                    ("field", f.field.to_string()),
                    ("want", f.lines.want.clone()),
                    ("nginx", f.lines.nginx.clone()),
                    ("apache", f.lines.apache.clone()),
                    ("haproxy", f.lines.haproxy.clone()),
                ],
            );
            out.evidence.extend(f.evidence.iter().cloned());
            out
        })
        .collect();
    ProfileVerdict {
        profile: p.id.clone(),
        title: p.title.clone(),
        compliant: failures.is_empty(),
        checked: checked.iter().map(|s| s.to_string()).collect(),
        failed: failures.iter().map(|f| f.field.to_string()).collect(),
        findings,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_profile_loads() {
        let ids: Vec<&str> = all().iter().map(|p| p.id.as_str()).collect();
        assert_eq!(
            ids,
            [
                "mozilla-intermediate",
                "mozilla-modern",
                "mozilla-old",
                "openssl3-python"
            ]
        );
        let inter = find("mozilla-intermediate").unwrap();
        assert_eq!(
            inter.versions,
            [ProtocolVersion::Tls12, ProtocolVersion::Tls13]
        );
        assert_eq!(inter.suites.len(), 9);
        assert_eq!(inter.groups, ["x25519", "secp256r1", "secp384r1"]);
        let py = find("openssl3-python").unwrap();
        assert_eq!(py.kind, Kind::Client);
        assert_eq!(
            py.versions,
            [ProtocolVersion::Tls12, ProtocolVersion::Tls13]
        );
        assert!(
            py.suites.iter().all(|s| s.forward_secret()),
            "Python offers no RSA key exchange"
        );
        assert!(!py.tls13_suites.is_empty() && !py.groups.is_empty());
        assert_eq!(py.rsa_key_size, Some(2048));
        assert!(py.forbidden_signature_hashes.contains(&"sha1".to_string()));
        assert!(
            find("mozilla-new")
                .unwrap_err()
                .known
                .contains("mozilla-old")
        );
    }
}
