//! `ClientStack`: the TLS behaviour one local client will really have — library, protocol
//! range, security level, legacy renegotiation, trust store — after OPENSSL_CONF and the
//! client's own overrides. Python values are measured inside the interpreter, because Python
//! 3.10+ replaces parts of the configuration (it sets its own minimum version and cipher list).

use super::conf::OpensslConfReport;
use super::version::{self, Family, LibVersion, parse_banner, protocol_rank};
use super::{JavaInfo, NodeInfo, PythonInfo, Tool};
use serde::Serialize;
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// The TLS stack of one local client.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct ClientStack {
    /// `python 3.11.7`, `openssl`, `curl`, `node`, `java`.
    pub name: String,
    /// `python`, `openssl`, `curl`, `node`, `java`.
    pub kind: String,
    pub path: PathBuf,
    /// `OpenSSL`, `LibreSSL`, `GnuTLS`, `JSSE`.
    pub tls_library: Option<String>,
    pub tls_library_version: Option<String>,
    /// Lowest and highest protocol the client will negotiate, as OpenSSL names them.
    pub min_protocol: Option<String>,
    pub max_protocol: Option<String>,
    pub security_level: Option<u8>,
    /// Connects to servers without RFC 5746 secure renegotiation. `None` when unknown.
    pub unsafe_legacy_server_connect: Option<bool>,
    /// CA bundle and directory it verifies with (environment overrides applied).
    pub cafile: Option<PathBuf>,
    pub capath: Option<PathBuf>,
    /// OpenSSL configuration file it loads, when it loads one.
    pub openssl_conf: Option<PathBuf>,
    /// How each value was learned, one line each.
    pub basis: Vec<String>,
}

fn lowest_for(lib: Option<LibVersion>, seclevel: Option<u8>) -> &'static str {
    match lib {
        // OpenSSL 3 refuses TLS 1.0/1.1 (SHA-1/MD5 handshake signatures) from security level 1.
        Some(v)
            if v >= LibVersion(3, 0, 0)
                && !crate::clients::SecurityLevel(seclevel.unwrap_or(1))
                    .limits()
                    .accepts_legacy_sigalgs =>
        {
            "TLSv1.2"
        }
        _ => "TLSv1",
    }
}

fn higher<'a>(a: &'a str, b: &'a str) -> &'a str {
    if protocol_rank(a) >= protocol_rank(b) {
        a
    } else {
        b
    }
}

/// Values derived from OpenSSL's defaults and the configuration in force, for a client that
/// does not override them (the openssl CLI; curl within its own version limits).
struct Derived {
    min: Option<String>,
    max: Option<String>,
    seclevel: Option<u8>,
    legacy: bool,
    basis: Vec<String>,
}

fn derive(
    lib: Option<LibVersion>,
    lib_max: Option<&str>,
    conf: &OpensslConfReport,
    default_sec: Option<u8>,
) -> Derived {
    let mut basis = Vec::new();
    let e = &conf.effect;
    let seclevel = match (e.security_level, default_sec) {
        (Some(l), _) => {
            basis.push(format!(
                "security level {l} from CipherString in {}",
                conf_name(conf)
            ));
            Some(l)
        }
        (None, Some(l)) => {
            basis.push(format!("security level {l}: compiled-in default"));
            Some(l)
        }
        (None, None) if lib.is_some_and(|v| v >= LibVersion(1, 1, 0)) => {
            basis.push("security level 1: OpenSSL default".into());
            Some(1)
        }
        _ => None,
    };
    let floor = lowest_for(lib, seclevel);
    let min = match e
        .min_protocol
        .as_deref()
        .filter(|m| protocol_rank(m).is_some())
    {
        Some(m) => {
            basis.push(format!("MinProtocol = {m} from {}", conf_name(conf)));
            higher(m, floor).to_string()
        }
        None => floor.to_string(),
    };
    let max = match e
        .max_protocol
        .as_deref()
        .filter(|m| protocol_rank(m).is_some())
    {
        Some(m) => {
            basis.push(format!("MaxProtocol = {m} from {}", conf_name(conf)));
            Some(m.to_string())
        }
        None => lib_max.map(str::to_string),
    };
    let legacy = if e.unsafe_legacy_server_connect {
        basis.push(format!(
            "Options UnsafeLegacyServerConnect from {}",
            conf_name(conf)
        ));
        true
    } else if e
        .options_off
        .iter()
        .any(|o| o == "UnsafeLegacyServerConnect")
    {
        false
    } else {
        // OpenSSL before 3.0 set SSL_OP_LEGACY_SERVER_CONNECT by default; 3.0 stopped.
        lib.is_some_and(|v| v < LibVersion(3, 0, 0))
    };
    Derived {
        min: Some(min),
        max,
        seclevel,
        legacy,
        basis,
    }
}

fn conf_name(conf: &OpensslConfReport) -> String {
    match &conf.path {
        Some(p) => format!("{} ({})", p.display(), conf.source),
        None => "the OpenSSL configuration".into(),
    }
}

fn env_path(env: &HashMap<String, String>, name: &str) -> Option<PathBuf> {
    env.get(name).filter(|v| !v.is_empty()).map(PathBuf::from)
}

/// From a measured Python interpreter. `None` when it could not be asked at all.
/// `default_seclevel` is the library's compiled-in security level when known (from the
/// openssl CLI, if it reports the same OpenSSL build).
pub fn from_python(
    p: &PythonInfo,
    env: &HashMap<String, String>,
    default_seclevel: Option<u8>,
) -> Option<ClientStack> {
    let banner = p.openssl_version.as_deref()?;
    let parsed = parse_banner(banner);
    let lib = parsed.as_ref().map(|(_, v, _)| *v);
    let vp = p.verify_paths.clone().unwrap_or_default();
    let openssl_dir = vp
        .openssl_cafile
        .as_deref()
        .and_then(|f| Path::new(f).parent().map(Path::to_path_buf));
    let conf = super::conf::analyze(openssl_dir.as_deref(), env);
    let derived = derive(lib, p.max_tls.as_deref(), &conf, default_seclevel);
    let mut basis = vec![format!(
        "{banner} reported by the interpreter (ssl.OPENSSL_VERSION)"
    )];
    let ctx = p.default_context.as_ref();
    let seclevel = match ctx.and_then(|c| c.security_level) {
        Some(l) => {
            basis.push(format!(
                "security level {l} measured in ssl.create_default_context()"
            ));
            Some(l)
        }
        None => {
            basis.extend(
                derived
                    .basis
                    .iter()
                    .filter(|b| b.starts_with("security level"))
                    .cloned(),
            );
            derived.seclevel
        }
    };
    let floor = lowest_for(lib, seclevel);
    let min = match ctx.and_then(|c| c.minimum_version.clone()) {
        Some(m) if m == "library minimum" => {
            basis.push(format!(
                "minimum_version left to OpenSSL: lowest usable is {floor}{}",
                conf.effect
                    .min_protocol
                    .as_deref()
                    .map(|m| format!(", raised by MinProtocol = {m}"))
                    .unwrap_or_default()
            ));
            match conf
                .effect
                .min_protocol
                .as_deref()
                .filter(|m| protocol_rank(m).is_some())
            {
                Some(m) => Some(higher(m, floor).to_string()),
                None => Some(floor.to_string()),
            }
        }
        Some(m) => {
            basis.push(format!(
                "minimum {m} measured in ssl.create_default_context() ({})",
                ctx.and_then(|c| c.versions_from.as_deref())
                    .unwrap_or("minimum_version")
            ));
            Some(higher(&m, floor).to_string())
        }
        None => {
            basis.extend(
                derived
                    .basis
                    .iter()
                    .filter(|b| b.starts_with("MinProtocol"))
                    .cloned(),
            );
            derived.min.clone()
        }
    };
    let max = match ctx.and_then(|c| c.maximum_version.clone()) {
        Some(m) if m == "library maximum" => conf
            .effect
            .max_protocol
            .clone()
            .filter(|m| protocol_rank(m).is_some())
            .or_else(|| p.max_tls.clone()),
        Some(m) => {
            basis.push(format!(
                "maximum {m} measured in ssl.create_default_context() ({})",
                ctx.and_then(|c| c.versions_from.as_deref())
                    .unwrap_or("maximum_version")
            ));
            Some(m)
        }
        None => derived.max.clone(),
    };
    let legacy = match ctx {
        Some(c) => {
            basis.push(format!(
                "OP_LEGACY_SERVER_CONNECT {} in the default context's options (0x{:x})",
                if c.unsafe_legacy_server_connect {
                    "set"
                } else {
                    "not set"
                },
                c.options
            ));
            Some(c.unsafe_legacy_server_connect)
        }
        None => Some(derived.legacy),
    };
    let cafile = vp
        .openssl_cafile_env
        .as_deref()
        .and_then(|name| env_path(env, name))
        .or_else(|| vp.openssl_cafile.as_deref().map(PathBuf::from));
    let capath = vp
        .openssl_capath_env
        .as_deref()
        .and_then(|name| env_path(env, name))
        .or_else(|| vp.openssl_capath.as_deref().map(PathBuf::from));
    if let Some(c) = &p.certifi {
        basis.push(format!(
            "certifi {} installed: requests/pip verify with {} unless REQUESTS_CA_BUNDLE is set",
            c.version.as_deref().unwrap_or("?"),
            c.bundle.path.display()
        ));
    }
    Some(ClientStack {
        name: format!("python {}", p.version.as_deref().unwrap_or("?")),
        kind: "python".into(),
        path: p.path.clone(),
        tls_library: parsed.as_ref().map(|(f, _, _)| family_name(*f).to_string()),
        tls_library_version: parsed.map(|(_, _, t)| t),
        min_protocol: min,
        max_protocol: max,
        security_level: seclevel,
        unsafe_legacy_server_connect: legacy,
        cafile,
        capath,
        openssl_conf: conf.path.filter(|_| conf.exists),
        basis,
    })
}

fn family_name(f: Family) -> &'static str {
    match f {
        Family::OpenSsl => "OpenSSL",
        Family::LibreSsl => "LibreSSL",
        Family::GnuTls => "GnuTLS",
    }
}

/// The openssl CLI or curl: OpenSSL defaults plus the configuration in force.
pub fn from_openssl_tool(
    t: &Tool,
    kind: &str,
    conf: &OpensslConfReport,
    env: &HashMap<String, String>,
) -> ClientStack {
    let lib = t
        .tls_library_version
        .as_deref()
        .and_then(version::parse_numbers);
    let uses_openssl = matches!(t.tls_library.as_deref(), Some("OpenSSL" | "LibreSSL"));
    let mut stack = ClientStack {
        name: kind.to_string(),
        kind: kind.to_string(),
        path: t.path.clone(),
        tls_library: t.tls_library.clone(),
        tls_library_version: t.tls_library_version.clone(),
        min_protocol: None,
        max_protocol: t.max_tls.clone(),
        security_level: None,
        unsafe_legacy_server_connect: None,
        cafile: None,
        capath: None,
        openssl_conf: None,
        basis: Vec::new(),
    };
    if !uses_openssl {
        stack
            .basis
            .push("not built on OpenSSL: OpenSSL configuration does not apply".into());
        return stack;
    }
    let d = derive(lib, t.max_tls.as_deref(), conf, t.default_security_level);
    stack.min_protocol = d.min;
    stack.max_protocol = d.max;
    stack.security_level = d.seclevel;
    stack.unsafe_legacy_server_connect = Some(d.legacy);
    stack.basis = d.basis;
    stack.openssl_conf = conf.path.clone().filter(|_| conf.exists);
    let dir = t.openssl_dir.clone();
    stack.cafile = match kind {
        "curl" => env_path(env, "CURL_CA_BUNDLE")
            .or_else(|| env_path(env, "SSL_CERT_FILE"))
            .or_else(|| t.ca_bundle.clone()),
        _ => env_path(env, "SSL_CERT_FILE").or_else(|| dir.as_ref().map(|d| d.join("cert.pem"))),
    };
    stack.capath = env_path(env, "SSL_CERT_DIR").or_else(|| dir.as_ref().map(|d| d.join("certs")));
    if kind == "curl" {
        stack
            .basis
            .push("curl may raise the minimum itself (--tlsv1.x, or its compiled default)".into());
    }
    stack
}

pub fn from_node(n: &NodeInfo, env: &HashMap<String, String>) -> ClientStack {
    let mut basis =
        vec!["tls.DEFAULT_MIN_VERSION / DEFAULT_MAX_VERSION measured in node".to_string()];
    basis.push(format!(
        "node verifies with its compiled-in root store ({} certificates){}",
        n.root_certificates
            .map(|c| c.to_string())
            .unwrap_or_else(|| "?".into()),
        env_path(env, "NODE_EXTRA_CA_CERTS")
            .map(|p| format!(" plus NODE_EXTRA_CA_CERTS={}", p.display()))
            .unwrap_or_default()
    ));
    ClientStack {
        name: format!("node {}", n.version.as_deref().unwrap_or("?")),
        kind: "node".into(),
        path: n.path.clone(),
        tls_library: n.openssl_version.as_ref().map(|_| "OpenSSL".to_string()),
        tls_library_version: n.openssl_version.clone(),
        min_protocol: n.default_min_version.clone(),
        max_protocol: n.default_max_version.clone(),
        security_level: None,
        unsafe_legacy_server_connect: None,
        cafile: env_path(env, "NODE_EXTRA_CA_CERTS"),
        capath: None,
        openssl_conf: None,
        basis,
    }
}

pub fn from_java(j: &JavaInfo) -> ClientStack {
    let min = ["TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3"]
        .into_iter()
        .find(|p| !j.disabled_protocols.iter().any(|d| d == p))
        .map(str::to_string);
    ClientStack {
        name: format!("java {}", j.version.as_deref().unwrap_or("?")),
        kind: "java".into(),
        path: j.path.clone(),
        tls_library: Some("JSSE".into()),
        tls_library_version: j.version.clone(),
        min_protocol: min,
        max_protocol: None,
        security_level: None,
        unsafe_legacy_server_connect: None,
        cafile: j.trust_store.clone(),
        capath: None,
        openssl_conf: None,
        basis: vec![
            "minimum from jdk.tls.disabledAlgorithms in conf/security/java.security".into(),
        ],
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::env::conf::ConfEffect;

    fn conf_with(effect: ConfEffect) -> OpensslConfReport {
        OpensslConfReport {
            path: Some(PathBuf::from("/x/openssl.cnf")),
            source: "OPENSSL_CONF".into(),
            exists: true,
            effect,
            ..Default::default()
        }
    }

    #[test]
    fn openssl3_defaults_and_conf_overrides() {
        let d = derive(
            Some(LibVersion(3, 0, 19)),
            Some("TLSv1.3"),
            &conf_with(ConfEffect::default()),
            Some(2),
        );
        assert_eq!(
            (d.min.as_deref(), d.max.as_deref(), d.seclevel, d.legacy),
            (Some("TLSv1.2"), Some("TLSv1.3"), Some(2), false)
        );
        let e = ConfEffect {
            min_protocol: Some("TLSv1.3".into()),
            security_level: Some(0),
            unsafe_legacy_server_connect: true,
            ..Default::default()
        };
        let d = derive(
            Some(LibVersion(3, 0, 19)),
            Some("TLSv1.3"),
            &conf_with(e),
            Some(2),
        );
        assert_eq!(
            (d.min.as_deref(), d.seclevel, d.legacy),
            (Some("TLSv1.3"), Some(0), true)
        );
        let e = ConfEffect {
            security_level: Some(0),
            ..Default::default()
        };
        let d = derive(
            Some(LibVersion(3, 0, 19)),
            Some("TLSv1.3"),
            &conf_with(e),
            Some(2),
        );
        assert_eq!(d.min.as_deref(), Some("TLSv1"));
    }

    #[test]
    fn openssl1_permits_legacy_servers_by_default() {
        let d = derive(
            Some(LibVersion(1, 1, 1)),
            Some("TLSv1.3"),
            &conf_with(ConfEffect::default()),
            None,
        );
        assert!(d.legacy);
        assert_eq!(d.min.as_deref(), Some("TLSv1"));
    }
}
