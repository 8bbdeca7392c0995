//! Turning the evidence in an `EnvReport` into findings with stable ids.

use super::trust::variable_defs;
use super::version::{LibVersion, parse_banner, parse_numbers, protocol_rank};
use super::*;
use crate::clients::{CertCause, ErrorStyle};
use crate::finding::catalogue::finding;
use crate::finding::{FindingId, variant};

/// certifi releases track Mozilla's store; older than this and roots have changed.
const CERTIFI_OLD_DAYS: i64 = 365;

pub(super) fn all(r: &EnvReport, env: &HashMap<String, String>) -> Vec<Finding> {
    let mut out = Vec::new();
    variables(r, &mut out);
    trust_stores(r, &mut out);
    openssl_conf(r, env, &mut out);
    pythons(r, &mut out);
    libraries(r, &mut out);
    out
}

fn variables(r: &EnvReport, out: &mut Vec<Finding>) {
    for v in &r.variables {
        let (Some(value), Some(b)) = (&v.value, &v.bundle) else {
            continue;
        };
        let def = variable_defs().iter().find(|d| d.name == v.name);
        let err = def
            .map(|d| d.error.replace("{path}", value))
            .unwrap_or_default();
        let who = v.effect.split(':').next().unwrap_or("").to_string();
        if !b.exists {
            let vars = [("name", v.name.clone()), ("value", value.clone())];
            out.push(
                finding(FindingId::EnvVarMissingFile, &vars)
                    .evidence(format!("{}={value}", v.name))
                    .evidence(format!("read by {}", v.effect))
                    .breaks(who, err),
            );
        } else if b.certificates == 0 {
            let why = b.error.clone().unwrap_or_else(|| {
                if b.unparsable > 0 {
                    format!("{} PEM blocks, none parses as a certificate", b.unparsable)
                } else {
                    "no PEM CERTIFICATE blocks".into()
                }
            });
            let vars = [("name", v.name.clone()), ("value", value.clone())];
            out.push(
                finding(FindingId::EnvVarEmptyBundle, &vars)
                    .evidence(format!("{}={value}: {why}", v.name))
                    .evidence(format!("read by {}", v.effect))
                    .breaks(
                        who,
                        "certificate verify failed: unable to get local issuer certificate",
                    ),
            );
        }
    }
}

fn trust_stores(r: &EnvReport, out: &mut Vec<Finding>) {
    if !r.trust_stores.iter().any(|t| t.info.certificates > 0) {
        out.push(
            finding(FindingId::EnvTrustStoreEmpty, &[])
                .evidence(format!(
                    "looked at: {}",
                    r.trust_stores
                        .iter()
                        .map(|t| t.info.path.display().to_string())
                        .collect::<Vec<_>>()
                        .join(", ")
                ))
                .breaks(
                    "OpenSSL-based clients",
                    "certificate verify failed: unable to get local issuer certificate",
                ),
        );
    }
    for t in &r.trust_stores {
        let i = &t.info;
        if i.exists && i.certificates == 0 && i.error.is_none() && i.kind == "file" {
            out.push(
                finding(
                    variant::env_trust_store_empty::FILE,
                    &[("path", i.path.display().to_string())],
                )
                .evidence(format!("{}: {}", t.role, i.path.display()))
                .breaks(
                    "clients that use this file",
                    "certificate verify failed: unable to get local issuer certificate",
                ),
            );
        }
        if i.expired > 0 {
            let stale = i.modified_days_ago.is_some_and(|d| d > 365);
            let form = if stale {
                variant::env_trust_store_expired_certs::STALE
            } else {
                FindingId::EnvTrustStoreExpiredCerts.into()
            };
            let vars = [
                ("path", i.path.display().to_string()),
                ("expired", i.expired.to_string()),
                ("total", i.certificates.to_string()),
            ];
            let mut f = finding(form, &vars).evidence(format!(
                "oldest notAfter {}",
                i.oldest_not_after.as_deref().unwrap_or("?")
            ));
            if let Some(d) = i.modified_days_ago {
                f = f.evidence(format!(
                    "last updated {} ({d} days ago)",
                    i.modified.as_deref().unwrap_or("?")
                ));
            }
            out.push(f);
        }
    }
}

fn openssl_conf(r: &EnvReport, env: &HashMap<String, String>, out: &mut Vec<Finding>) {
    let c = &r.openssl_conf;
    let file = c
        .path
        .as_ref()
        .map(|p| p.display().to_string())
        .unwrap_or_default();
    if c.source == "OPENSSL_CONF" && !c.exists {
        let vars = [
            ("name", "OPENSSL_CONF".to_string()),
            ("value", file.clone()),
        ];
        out.push(
            finding(variant::env_var_missing_file::OPENSSL_CONF, &vars)
                .evidence(format!(
                    "OPENSSL_CONF={}",
                    env.get("OPENSSL_CONF").cloned().unwrap_or_default()
                ))
                .evidence(
                    "OpenSSL then runs with its built-in defaults, not the system configuration",
                ),
        );
    }
    for p in &c.problems {
        if c.exists {
            out.push(
                finding(FindingId::EnvOpensslConfProblem, &[("file", file.clone())])
                    .evidence(p.clone()),
            );
        }
    }
    let setting = |key: &str| c.settings.iter().rev().find(|s| s.key == key);
    if let Some(s) = setting("MinProtocol").filter(|s| protocol_rank(&s.value).is_some()) {
        let raises = protocol_rank(&s.value) >= protocol_rank("TLSv1.3");
        let lowers = protocol_rank(&s.value) < protocol_rank("TLSv1.2");
        let form = if raises || lowers {
            variant::env_openssl_conf_min_protocol::RISKY
        } else {
            FindingId::EnvOpensslConfMinProtocol.into()
        };
        let vars = [
            ("value", s.value.clone()),
            ("file", s.file.display().to_string()),
        ];
        let mut f = finding(form, &vars)
            .evidence(format!(
                "{}:{} MinProtocol = {}",
                s.file.display(),
                s.line,
                s.value
            ))
            .evidence(s.meaning.clone());
        if raises {
            f = f.breaks(
                "OpenSSL clients that keep the configured minimum (openssl, curl, Python before 3.10)",
                "tlsv1 alert protocol version / unsupported protocol (servers without TLS 1.3)",
            );
        }
        for py in python_overrides(r, &s.value) {
            f = f.evidence(py);
        }
        out.push(f);
    }
    if let Some(s) =
        setting("MaxProtocol").filter(|s| protocol_rank(&s.value) < protocol_rank("TLSv1.3"))
    {
        let vars = [
            ("value", s.value.clone()),
            ("file", s.file.display().to_string()),
        ];
        out.push(
            finding(FindingId::EnvOpensslConfMaxProtocol, &vars)
                .evidence(format!(
                    "{}:{} MaxProtocol = {}",
                    s.file.display(),
                    s.line,
                    s.value
                ))
                .evidence(s.meaning.clone())
                .breaks(
                    "OpenSSL clients",
                    "tlsv1 alert protocol version (servers requiring a newer version)",
                ),
        );
    }
    if c.effect.unsafe_legacy_server_connect {
        let which = if c.effect.unsafe_legacy_renegotiation {
            "UnsafeLegacyRenegotiation"
        } else {
            "UnsafeLegacyServerConnect"
        };
        let mut f = finding(
            FindingId::EnvOpensslConfUnsafeLegacy,
            &[("option", which.to_string())],
        );
        if let Some(s) = setting("Options") {
            f = f.evidence(format!(
                "{}:{} Options = {}",
                s.file.display(),
                s.line,
                s.value
            ));
        }
        out.push(f.evidence(super::conf::option_meaning(which).unwrap_or("").to_string()));
    }
    if let Some(level) = c.effect.security_level {
        let default = r
            .openssl_cli
            .as_ref()
            .and_then(|t| t.default_security_level)
            .unwrap_or(1);
        if level != default {
            let form = if level == 0 || level >= 3 {
                variant::env_openssl_conf_seclevel::RISKY
            } else {
                FindingId::EnvOpensslConfSeclevel.into()
            };
            let direction = if level < default { "lowers" } else { "raises" };
            let vars = [
                ("direction", direction.to_string()),
                ("level", level.to_string()),
                ("default", default.to_string()),
                ("file", file.clone()),
            ];
            let mut f = finding(form, &vars);
            if let Some(s) = setting("CipherString") {
                f = f
                    .evidence(format!(
                        "{}:{} CipherString = {}",
                        s.file.display(),
                        s.line,
                        s.value
                    ))
                    .evidence(s.meaning.clone());
            }
            if level >= 3 {
                f = f.breaks(
                    "OpenSSL clients",
                    "ee key too small / ca md too weak (servers with 2048-bit RSA certificates)",
                );
            }
            out.push(f);
        }
    }
}

/// Interpreters whose measured minimum differs from the configured MinProtocol.
fn python_overrides(r: &EnvReport, configured: &str) -> Vec<String> {
    r.clients
        .iter()
        .filter(|c| c.kind == "python")
        .filter(|c| c.min_protocol.as_deref().is_some_and(|m| protocol_rank(m) < protocol_rank(configured)))
        .map(|c| {
            format!(
                "{} ({}) ignores it: its default context uses minimum {} (Python 3.10+ sets its own minimum)",
                c.name,
                c.path.display(),
                c.min_protocol.as_deref().unwrap_or("?")
            )
        })
        .collect()
}

fn too_old(who: &str, banner: &str, out: &mut Vec<Finding>) {
    let Some((_, v, _)) = parse_banner(banner) else {
        return;
    };
    if !banner.starts_with("OpenSSL") {
        return;
    }
    let vars = [("who", who.to_string()), ("banner", banner.to_string())];
    if v < LibVersion(1, 0, 1) {
        out.push(
            finding(FindingId::EnvOpensslTooOld, &vars)
                .evidence(format!("{who}: {banner}"))
                .evidence(
                    "TLS 1.1 and 1.2 arrived in OpenSSL 1.0.1; most servers now require TLS 1.2",
                )
                .breaks(
                    who.to_string(),
                    "tlsv1 alert protocol version / wrong version number",
                ),
        );
    } else if v < LibVersion(1, 1, 1) {
        out.push(
            finding(FindingId::EnvOpensslNoTls13, &vars)
                .evidence(format!("{who}: {banner}"))
                .evidence("TLS 1.3 arrived in OpenSSL 1.1.1")
                .breaks(
                    format!("{who} against TLS 1.3-only servers"),
                    "tlsv1 alert protocol version",
                ),
        );
    }
}

fn pythons(r: &EnvReport, out: &mut Vec<Finding>) {
    for p in &r.pythons {
        let who = format!(
            "Python {} at {}",
            p.version.as_deref().unwrap_or("?"),
            p.path.display()
        );
        if let Some(e) = p.error.as_deref().filter(|_| p.openssl_version.is_none()) {
            out.push(
                finding(FindingId::EnvPythonNoSsl, &[("who", who.clone())]).evidence(e.to_string()),
            );
            continue;
        }
        if let Some(b) = &p.openssl_version {
            too_old(&who, b, out);
        }
        if p.macos_cert_installer == "not run" {
            let ver = p.version.as_deref().unwrap_or("3.x");
            let short: String = ver.split('.').take(2).collect::<Vec<_>>().join(".");
            out.push(
                finding(
                    FindingId::EnvMacosPythonCertsNotInstalled,
                    &[("who", who.clone()), ("version", short)],
                )
                .evidence(format!(
                    "openssl_cafile {} has no certificates",
                    p.verify_paths
                        .as_ref()
                        .and_then(|v| v.openssl_cafile.clone())
                        .unwrap_or_default()
                ))
                .breaks(
                    who.clone(),
                    crate::clients::certificate_text(ErrorStyle::Python, CertCause::NoLocalIssuer),
                ),
            );
        }
        match &p.certifi {
            None if p.error.is_none() => out.push(
                finding(
                    FindingId::EnvCertifiMissing,
                    &[("who", who.clone()), ("python", p.path.display().to_string())],
                )
                .evidence(format!("import certifi fails in {}", p.path.display()))
                .evidence("requests and pip then need REQUESTS_CA_BUNDLE/PIP_CERT or a system store that OpenSSL finds"),
            ),
            None => {}
            Some(c) => {
                let old = c.release_age_days.is_some_and(|d| d > CERTIFI_OLD_DAYS);
                if old || c.bundle.expired > 0 {
                    let vars = [
                        ("who", who.clone()),
                        ("version", c.version.as_deref().unwrap_or("?").to_string()),
                        ("python", p.path.display().to_string()),
                    ];
                    let mut f = finding(FindingId::EnvCertifiOld, &vars)
                    .evidence(format!("bundle {}", c.bundle.path.display()))
                    .evidence(format!("{} certificates, {} expired", c.bundle.certificates, c.bundle.expired));
                    if let Some(d) = c.release_age_days {
                        f = f.evidence(format!("released {d} days ago"));
                    }
                    out.push(
                        f.breaks(
                            "Python requests/pip in this interpreter",
                            "certificate verify failed: unable to get local issuer certificate (servers chaining to newer roots)",
                        ),
                    );
                }
            }
        }
    }
}

fn libraries(r: &EnvReport, out: &mut Vec<Finding>) {
    for l in &r.libraries {
        if l.family.starts_with("OpenSSL") {
            if let Some(v) = l.version.as_deref().and_then(parse_numbers) {
                if v < LibVersion(1, 1, 1) {
                    too_old(
                        &format!("shared library {}", l.path.display()),
                        &format!("OpenSSL {}", l.version.as_deref().unwrap_or("")),
                        out,
                    );
                }
            }
        }
    }
    if let Some(c) = &r.curl {
        if let (Some("OpenSSL"), Some(v)) =
            (c.tls_library.as_deref(), c.tls_library_version.as_deref())
        {
            too_old("curl", &format!("OpenSSL {v}"), out);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn python(version: &str, banner: &str, platform: &str, exe: &str, cafile: &str) -> PythonInfo {
        PythonInfo {
            path: PathBuf::from(exe),
            found_via: "PATH".into(),
            executable: Some(exe.into()),
            version: Some(version.into()),
            prefix: Some("/p".into()),
            is_venv: false,
            platform: Some(platform.into()),
            openssl_version: Some(banner.into()),
            max_tls: None,
            protocols: BTreeMap::new(),
            verify_paths: Some(VerifyPaths {
                openssl_cafile: Some(cafile.into()),
                ..Default::default()
            }),
            default_context: None,
            certifi: None,
            macos_cert_installer: String::new(),
            error: None,
            ..Default::default()
        }
    }

    fn report(pythons: Vec<PythonInfo>) -> EnvReport {
        EnvReport {
            os: "test".into(),
            libraries: vec![],
            openssl_cli: None,
            pythons,
            node: None,
            curl: None,
            java: None,
            trust_stores: vec![],
            variables: vec![],
            openssl_conf: OpensslConfReport::default(),
            findings: vec![],
            clients: vec![],
            missing_tools: vec![],
        }
    }

    #[test]
    fn old_openssl_and_macos_installer() {
        let mut mac = python(
            "3.12.1",
            "OpenSSL 3.0.13 30 Jan 2024",
            "darwin",
            "/Library/Frameworks/Python.framework/Versions/3.12/bin/python3",
            "/nonexistent/cert.pem",
        );
        mac.macos_cert_installer = super::super::programs::python::macos_installer_state(&mac);
        assert_eq!(mac.macos_cert_installer, "not run");
        let mut linux = python(
            "3.12.1",
            "OpenSSL 3.0.13 30 Jan 2024",
            "linux",
            "/usr/bin/python3",
            "/nonexistent",
        );
        linux.macos_cert_installer = super::super::programs::python::macos_installer_state(&linux);
        assert!(linux.macos_cert_installer.starts_with("not applicable"));
        let r = report(vec![
            python(
                "2.7.5",
                "OpenSSL 1.0.0-fips 29 Mar 2010",
                "linux2",
                "/usr/bin/python2",
                "/x",
            ),
            python(
                "3.6.8",
                "OpenSSL 1.0.2k-fips  26 Jan 2017",
                "linux",
                "/usr/bin/python3.6",
                "/x",
            ),
            mac,
            linux,
        ]);
        let f = all(&r, &HashMap::new());
        let ids: Vec<FindingId> = f.iter().map(|f| f.id).collect();
        assert!(
            f.iter()
                .any(|f| f.id == FindingId::EnvOpensslTooOld && f.title.contains("1.0.0")),
            "{ids:?}"
        );
        assert!(
            f.iter()
                .any(|f| f.id == FindingId::EnvOpensslNoTls13 && f.title.contains("1.0.2k")),
            "{ids:?}"
        );
        let m = f
            .iter()
            .find(|f| f.id == FindingId::EnvMacosPythonCertsNotInstalled)
            .expect("mac finding");
        assert!(m.fix_client[0].contains("/Applications/Python 3.12/Install Certificates.command"));
        assert_eq!(
            ids.iter()
                .filter(|i| **i == FindingId::EnvMacosPythonCertsNotInstalled)
                .count(),
            1
        );
        assert!(ids.contains(&FindingId::EnvTrustStoreEmpty));
    }
}
