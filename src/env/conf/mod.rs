//! OpenSSL configuration as OpenSSL reads it: the file in force (`OPENSSL_CONF` or
//! `OPENSSLDIR/openssl.cnf`), and the `openssl_conf` -> `ssl_conf` -> `system_default` chain
//! whose commands every client applies. Reading the file format itself (includes, `$var`
//! expansion) is the job of `parse`.

mod parse;

use parse::Parsed;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// One SSL_CONF command from the `system_default` section.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ConfSetting {
    pub key: String,
    pub value: String,
    pub file: PathBuf,
    pub line: usize,
    /// What it does to clients, from `data/env/openssl_conf.toml`.
    pub meaning: String,
}

/// The net effect of the `system_default` commands on a client that loads the file.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ConfEffect {
    pub min_protocol: Option<String>,
    pub max_protocol: Option<String>,
    /// From `@SECLEVEL=N` in CipherString.
    pub security_level: Option<u8>,
    pub cipher_string: Option<String>,
    pub ciphersuites: Option<String>,
    /// Option flags switched on, in order (`UnsafeLegacyServerConnect`, ...).
    pub options_on: Vec<String>,
    /// Option flags explicitly switched off with `-Name`.
    pub options_off: Vec<String>,
    pub unsafe_legacy_server_connect: bool,
    pub unsafe_legacy_renegotiation: bool,
}

/// Which OpenSSL configuration is in force and what in it changes TLS.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct OpensslConfReport {
    /// The file OpenSSL loads, if any.
    pub path: Option<PathBuf>,
    /// `OPENSSL_CONF`, `default (OPENSSLDIR)` or `unknown`.
    pub source: String,
    pub exists: bool,
    /// Every file read, including `.include`d ones, in order.
    pub files_read: Vec<PathBuf>,
    /// The section chain followed, e.g. `openssl_conf = openssl_init`.
    pub chain: Vec<String>,
    /// Name of the `system_default` section, when the chain reaches one.
    pub system_default_section: Option<String>,
    pub settings: Vec<ConfSetting>,
    pub effect: ConfEffect,
    /// Things that stop the file from working as intended (missing include, unknown section).
    pub problems: Vec<String>,
}

#[derive(Deserialize)]
struct Meaning {
    meaning: String,
}

#[derive(Deserialize)]
struct ConfKnowledge {
    commands: HashMap<String, Meaning>,
    options: HashMap<String, Meaning>,
}

fn knowledge() -> &'static ConfKnowledge {
    static K: OnceLock<ConfKnowledge> = OnceLock::new();
    K.get_or_init(|| {
        toml::from_str(include_str!("../../../data/env/openssl_conf.toml"))
            .expect("data/env/openssl_conf.toml is valid (checked by a unit test)")
    })
}

/// Meaning of one Options flag (without `-`), if known.
pub fn option_meaning(name: &str) -> Option<&'static str> {
    knowledge().options.get(name).map(|m| m.meaning.as_str())
}

/// Where the configuration comes from for a library whose OPENSSLDIR is `openssl_dir`.
pub fn analyze(openssl_dir: Option<&Path>, env: &HashMap<String, String>) -> OpensslConfReport {
    let mut report = OpensslConfReport::default();
    let path = match env.get("OPENSSL_CONF").filter(|v| !v.is_empty()) {
        Some(p) => {
            report.source = "OPENSSL_CONF".into();
            Some(PathBuf::from(p))
        }
        None => match openssl_dir {
            Some(d) => {
                report.source = "default (OPENSSLDIR/openssl.cnf)".into();
                Some(d.join("openssl.cnf"))
            }
            None => {
                report.source = "unknown (no OPENSSL_CONF and OPENSSLDIR not known)".into();
                None
            }
        },
    };
    let Some(path) = path else { return report };
    report.path = Some(path.clone());
    report.exists = path.is_file();
    if !report.exists {
        report.problems.push(format!(
            "{} does not exist: OpenSSL runs with built-in defaults",
            path.display()
        ));
        return report;
    }
    let mut parsed = Parsed::read(&path, env);
    report.files_read = parsed.files_read.clone();
    report.problems.append(&mut parsed.problems);
    follow_chain(&parsed, &mut report);
    report
}

fn follow_chain(parsed: &Parsed, report: &mut OpensslConfReport) {
    let Some(init) = parsed.get("default", "openssl_conf") else {
        return;
    };
    report.chain.push(format!("openssl_conf = {}", init.value));
    if !parsed.sections.contains_key(&init.value) {
        report.problems.push(format!(
            "openssl_conf names section [{}], which does not exist",
            init.value
        ));
        return;
    }
    let Some(ssl) = parsed.get(&init.value, "ssl_conf") else {
        return;
    };
    report
        .chain
        .push(format!("[{}] ssl_conf = {}", init.value, ssl.value));
    if !parsed.sections.contains_key(&ssl.value) {
        report.problems.push(format!(
            "ssl_conf names section [{}], which does not exist",
            ssl.value
        ));
        return;
    }
    let Some(sys) = parsed.get(&ssl.value, "system_default") else {
        return;
    };
    report
        .chain
        .push(format!("[{}] system_default = {}", ssl.value, sys.value));
    let Some(commands) = parsed.sections.get(&sys.value) else {
        report.problems.push(format!(
            "system_default names section [{}], which does not exist",
            sys.value
        ));
        return;
    };
    report.system_default_section = Some(sys.value.clone());
    let k = knowledge();
    for e in commands {
        let meaning = match k.commands.get(&e.key) {
            Some(m) => m.meaning.clone(),
            None => "not a command this tool knows; OpenSSL rejects unknown commands when it loads the file".into(),
        };
        apply(&mut report.effect, &e.key, &e.value);
        report.settings.push(ConfSetting {
            key: e.key.clone(),
            value: e.value.clone(),
            file: e.file.clone(),
            line: e.line,
            meaning,
        });
    }
}

/// `@SECLEVEL=N` inside a cipher string.
pub fn seclevel_in(cipher_string: &str) -> Option<u8> {
    let pos = cipher_string.find("@SECLEVEL=")?;
    let digits: String = cipher_string[pos + 10..]
        .chars()
        .take_while(|c| c.is_ascii_digit())
        .collect();
    digits.parse().ok()
}

fn apply(effect: &mut ConfEffect, key: &str, value: &str) {
    match key {
        "MinProtocol" => effect.min_protocol = Some(value.to_string()),
        "MaxProtocol" => effect.max_protocol = Some(value.to_string()),
        "CipherString" => {
            effect.cipher_string = Some(value.to_string());
            if let Some(l) = seclevel_in(value) {
                effect.security_level = Some(l);
            }
        }
        "Ciphersuites" => effect.ciphersuites = Some(value.to_string()),
        "Options" => {
            for opt in value.split(',').map(str::trim).filter(|o| !o.is_empty()) {
                let (on, name) = match opt.strip_prefix('-') {
                    Some(n) => (false, n),
                    None => (true, opt),
                };
                effect.options_on.retain(|o| o != name);
                effect.options_off.retain(|o| o != name);
                if on {
                    effect.options_on.push(name.to_string());
                } else {
                    effect.options_off.push(name.to_string());
                }
            }
            effect.unsafe_legacy_renegotiation = effect
                .options_on
                .iter()
                .any(|o| o == "UnsafeLegacyRenegotiation");
            effect.unsafe_legacy_server_connect = effect.unsafe_legacy_renegotiation
                || effect
                    .options_on
                    .iter()
                    .any(|o| o == "UnsafeLegacyServerConnect");
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env_with(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn knowledge_file_parses() {
        assert!(knowledge().commands.contains_key("MinProtocol"));
        assert!(option_meaning("UnsafeLegacyServerConnect").is_some());
    }

    #[test]
    fn follows_chain_through_include_and_variables() {
        let dir = tempfile::tempdir().unwrap();
        let inc = dir.path().join("conf.d");
        std::fs::create_dir(&inc).unwrap();
        std::fs::write(
            inc.join("10-tls.cnf"),
            "[sysdef]\nMinProtocol = $minp\nCipherString = DEFAULT:@SECLEVEL=3 # strict\n\
             Options = UnsafeLegacyServerConnect, \\\n  -Compression\n",
        )
        .unwrap();
        std::fs::write(inc.join("ignored.txt"), "[sysdef]\nMaxProtocol = TLSv1\n").unwrap();
        let main = dir.path().join("openssl.cnf");
        std::fs::write(
            &main,
            format!(
                "minp = TLSv1.2\nopenssl_conf = init\n.include {}\n[init]\nssl_conf = ssl\n\
                 [ ssl ]\nsystem_default = sysdef\n",
                inc.display()
            ),
        )
        .unwrap();
        let env = env_with(&[("OPENSSL_CONF", main.to_str().unwrap())]);
        let r = analyze(None, &env);
        assert_eq!(r.source, "OPENSSL_CONF");
        assert!(r.exists);
        assert_eq!(r.files_read.len(), 2, "{r:?}");
        assert_eq!(r.system_default_section.as_deref(), Some("sysdef"));
        assert_eq!(r.chain.len(), 3);
        assert_eq!(r.effect.min_protocol.as_deref(), Some("TLSv1.2"));
        assert_eq!(r.effect.max_protocol, None);
        assert_eq!(r.effect.security_level, Some(3));
        assert!(r.effect.unsafe_legacy_server_connect);
        assert!(!r.effect.unsafe_legacy_renegotiation);
        assert_eq!(r.effect.options_off, vec!["Compression".to_string()]);
        assert_eq!(r.settings.len(), 3);
        assert_eq!(r.settings[1].line, 3);
        assert!(r.problems.is_empty(), "{:?}", r.problems);
    }

    #[test]
    fn missing_file_and_broken_chain_are_problems() {
        let env = env_with(&[("OPENSSL_CONF", "/nonexistent/tlsdoctor.cnf")]);
        let r = analyze(Some(Path::new("/usr/lib/ssl")), &env);
        assert!(!r.exists && !r.problems.is_empty());

        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("o.cnf");
        std::fs::write(
            &f,
            "openssl_conf = init\n[init]\nssl_conf = nowhere\n.include /nonexistent/x.cnf\n",
        )
        .unwrap();
        let r = analyze(None, &env_with(&[("OPENSSL_CONF", f.to_str().unwrap())]));
        assert_eq!(r.system_default_section, None);
        assert_eq!(r.problems.len(), 2, "{:?}", r.problems);
    }

    #[test]
    fn default_location_and_env_expansion() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("openssl.cnf"),
            "openssl_conf = a\n[a]\nssl_conf = b\n[b]\nsystem_default = c\n[c]\nMaxProtocol = ${ENV::TLSMAX}\n",
        )
        .unwrap();
        let r = analyze(Some(dir.path()), &env_with(&[("TLSMAX", "TLSv1.2")]));
        assert!(r.source.starts_with("default"));
        assert_eq!(r.effect.max_protocol.as_deref(), Some("TLSv1.2"));
    }

    #[test]
    fn seclevel_parsing() {
        assert_eq!(seclevel_in("DEFAULT@SECLEVEL=1"), Some(1));
        assert_eq!(seclevel_in("ALL:@SECLEVEL=0:!aNULL"), Some(0));
        assert_eq!(seclevel_in("DEFAULT"), None);
    }
}
