//! Python: every interpreter on this machine (`--python`, VIRTUAL_ENV, PATH, pyenv and conda
//! installations), each asked by `env/scripts/python_probe.py` what its `ssl` module links to,
//! which verify paths and default context it uses, and which certifi it has.

use crate::env::bundle::{self, BundleInfo};
use crate::env::exec::{self, is_executable};
use crate::env::paths::{home_expand, known_paths};
use crate::env::version::{self, parse_banner};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

const PYTHON_PROBE: &str = include_str!("../scripts/python_probe.py");
/// Interpreters asked at the same time (the machine may be small and shared).
const PYTHON_CONCURRENCY: usize = 4;
/// OpenSSL's SSL_OP_LEGACY_SERVER_CONNECT (same bit in 1.0.x, 1.1.x and 3.x).
const OP_LEGACY_SERVER_CONNECT: u64 = 0x4;

/// Python's `ssl.get_default_verify_paths()`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct VerifyPaths {
    pub cafile: Option<String>,
    pub capath: Option<String>,
    pub openssl_cafile_env: Option<String>,
    pub openssl_cafile: Option<String>,
    pub openssl_capath_env: Option<String>,
    pub openssl_capath: Option<String>,
}

/// Python's `ssl.create_default_context()` as the interpreter itself reports it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct PythonContext {
    /// Protocol names; `library minimum`/`library maximum` when Python leaves it to OpenSSL.
    pub minimum_version: Option<String>,
    pub maximum_version: Option<String>,
    pub security_level: Option<u8>,
    pub options: u64,
    /// `OP_LEGACY_SERVER_CONNECT` is set in the context options.
    pub unsafe_legacy_server_connect: bool,
    /// CA certificates the context loaded from its cafile.
    pub ca_certs_loaded: Option<u64>,
    /// Where the two versions come from: the context's `minimum_version`/`maximum_version`
    /// (Python 3.7+), or its `OP_NO_*` option bits on interpreters without them (2.7, ≤ 3.6).
    pub versions_from: Option<String>,
}

/// certifi in one interpreter.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CertifiInfo {
    pub version: Option<String>,
    pub bundle: BundleInfo,
    /// Days since the release date encoded in certifi's version (YYYY.MM.DD).
    pub release_age_days: Option<i64>,
}

/// One Python interpreter.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct PythonInfo {
    /// The path it was found at (a PATH entry, a pyenv version, a `--python` argument).
    pub path: PathBuf,
    /// `--python`, `PATH`, `pyenv`, `conda`, `VIRTUAL_ENV`, `framework`.
    pub found_via: String,
    pub executable: Option<String>,
    pub version: Option<String>,
    pub prefix: Option<String>,
    pub is_venv: bool,
    pub platform: Option<String>,
    /// `ssl.OPENSSL_VERSION`.
    pub openssl_version: Option<String>,
    pub max_tls: Option<String>,
    /// What the interpreter's `ssl` module can speak at all, per protocol (`TLSv1.2`): from
    /// `ssl.HAS_TLSv1_2` and friends where the interpreter has them (3.7+), else from its
    /// `ssl.PROTOCOL_*` constants (2.7, 3.4–3.6: `PROTOCOL_TLSv1_2` exists only when the linked
    /// OpenSSL speaks TLS 1.2), else from the linked library's version.
    pub protocols: BTreeMap<String, bool>,
    /// Why each entry of `protocols` says what it says, in the `ssl` module's own names.
    pub protocols_basis: Vec<String>,
    /// The `ssl.PROTOCOL_*` constants the module defines, e.g. `PROTOCOL_TLSv1_2`.
    pub protocol_constants: Vec<String>,
    /// `CPython`, `PyPy` (`platform.python_implementation()`).
    pub implementation: Option<String>,
    /// PyPy's own version (`sys.pypy_version_info`), when it is PyPy.
    pub implementation_version: Option<String>,
    pub verify_paths: Option<VerifyPaths>,
    pub default_context: Option<PythonContext>,
    pub certifi: Option<CertifiInfo>,
    /// macOS python.org "Install Certificates.command": `not applicable (...)`, `ran`, `not run`.
    pub macos_cert_installer: String,
    /// Why the interpreter could not be asked (timeout, no ssl module, bad output).
    pub error: Option<String>,
}

/// `python`, `python3`, `python3.11`, `pypy3`, `pypy3.9` (not `python3-config`, `pythonw`,
/// `pypy3clean`).
pub(crate) fn is_python_name(name: &str) -> bool {
    name.strip_prefix("python")
        .or_else(|| name.strip_prefix("pypy"))
        .is_some_and(|rest| rest.bytes().all(|b| b.is_ascii_digit() || b == b'.'))
}

/// Interpreter candidates in the order they are reported: `--python`, VIRTUAL_ENV, PATH,
/// version managers.
fn candidates(extra: &[PathBuf], env: &HashMap<String, String>) -> Vec<(PathBuf, String)> {
    let mut out: Vec<(PathBuf, String)> = extra
        .iter()
        .map(|p| (p.clone(), "--python".into()))
        .collect();
    if let Some(v) = env.get("VIRTUAL_ENV").filter(|v| !v.is_empty()) {
        out.push((Path::new(v).join("bin/python"), "VIRTUAL_ENV".into()));
    }
    if let Some(path) = env.get("PATH") {
        for dir in std::env::split_paths(path) {
            let Ok(rd) = std::fs::read_dir(&dir) else {
                continue;
            };
            let mut names: Vec<String> = rd
                .flatten()
                .filter_map(|e| e.file_name().to_str().map(str::to_string))
                .filter(|n| is_python_name(n))
                .collect();
            names.sort();
            out.extend(names.into_iter().map(|n| (dir.join(n), "PATH".to_string())));
        }
    }
    let kp = known_paths();
    for root in &kp.python_version_dirs {
        let Some(root_path) = home_expand(root, env) else {
            continue;
        };
        let via = if root.contains("pyenv") {
            "pyenv"
        } else if root.contains("Framework") {
            "framework"
        } else {
            "conda"
        };
        let Ok(rd) = std::fs::read_dir(&root_path) else {
            continue;
        };
        let mut dirs: Vec<PathBuf> = rd.flatten().map(|e| e.path()).collect();
        dirs.sort();
        for d in dirs {
            for name in ["bin/python3", "bin/python"] {
                let p = d.join(name);
                if is_executable(&p) {
                    out.push((p, via.into()));
                    break;
                }
            }
        }
    }
    for prefix in &kp.python_prefixes {
        if let Some(p) = home_expand(prefix, env).map(|p| p.join("bin/python")) {
            out.push((p, "conda".into()));
        }
    }
    let mut seen = HashSet::new();
    out.retain(|(p, _)| is_executable(p) && seen.insert(p.clone()));
    out
}

/// Every interpreter found, each asked once (a few at a time), in discovery order; one
/// installation reachable several ways is reported once.
pub(crate) async fn find_all(
    extra: &[PathBuf],
    env: &HashMap<String, String>,
    t: Duration,
) -> Vec<PythonInfo> {
    let candidates = candidates(extra, env);
    let limit = Arc::new(tokio::sync::Semaphore::new(PYTHON_CONCURRENCY));
    let env = Arc::new(env.clone());
    let mut tasks = tokio::task::JoinSet::new();
    for (i, (path, via)) in candidates.into_iter().enumerate() {
        let limit = limit.clone();
        let env = env.clone();
        tasks.spawn(async move {
            let _permit = limit.acquire_owned().await;
            (i, inspect(&path, &via, &env, t).await)
        });
    }
    let mut results = Vec::new();
    while let Some(r) = tasks.join_next().await {
        if let Ok(r) = r {
            results.push(r);
        }
    }
    results.sort_by_key(|(i, _)| *i);
    // The same installation is often reachable several ways (a pyenv shim, python3 and
    // python3.11 links): keep the first, identified by real executable and prefix.
    let mut seen = HashSet::new();
    results
        .into_iter()
        .map(|(_, info)| info)
        // A pyenv shim for a version that is not selected only prints "command not found":
        // it is not an interpreter the user can run, so it is not reported.
        .filter(|info| !is_inactive_shim(info))
        .filter(|info| {
            let key = match (&info.executable, &info.prefix) {
                (Some(e), Some(p)) => (
                    std::fs::canonicalize(e).unwrap_or_else(|_| PathBuf::from(e)),
                    p.clone(),
                ),
                _ => (info.path.clone(), String::new()),
            };
            seen.insert(key)
        })
        .collect()
}

fn is_inactive_shim(info: &PythonInfo) -> bool {
    info.openssl_version.is_none()
        && info.path.parent().is_some_and(|d| d.ends_with("shims"))
        && info
            .error
            .as_deref()
            .is_some_and(|e| e.contains("pyenv:") && e.contains("command not found"))
}

/// What the probe script prints, as one JSON object.
#[derive(Deserialize, Default)]
struct ProbeOut {
    version: Option<String>,
    executable: Option<String>,
    prefix: Option<String>,
    base_prefix: Option<String>,
    platform: Option<String>,
    ssl_error: Option<String>,
    openssl_version: Option<String>,
    implementation: Option<String>,
    implementation_version: Option<String>,
    #[serde(default)]
    has_protocols: BTreeMap<String, bool>,
    #[serde(default)]
    protocol_constants: Vec<String>,
    #[serde(default)]
    op_no: BTreeMap<String, i64>,
    verify_paths: Option<VerifyPaths>,
    verify_paths_error: Option<String>,
    context: Option<ProbeContext>,
    context_error: Option<String>,
    certifi: Option<ProbeCertifi>,
    certifi_error: Option<String>,
}

#[derive(Deserialize)]
struct ProbeContext {
    options: u64,
    minimum_version: Option<i64>,
    maximum_version: Option<i64>,
    security_level: Option<u8>,
    ca_certs_loaded: Option<u64>,
}

#[derive(Deserialize)]
struct ProbeCertifi {
    #[serde(rename = "where")]
    location: String,
    version: Option<String>,
}

/// Run the probe script in the interpreter at `path`; `via` says how it was found.
pub(crate) async fn inspect(
    path: &Path,
    via: &str,
    env: &HashMap<String, String>,
    t: Duration,
) -> PythonInfo {
    let mut info = PythonInfo {
        path: path.to_path_buf(),
        found_via: via.to_string(),
        executable: None,
        version: None,
        prefix: None,
        is_venv: false,
        platform: None,
        openssl_version: None,
        max_tls: None,
        protocols: BTreeMap::new(),
        protocols_basis: Vec::new(),
        protocol_constants: Vec::new(),
        implementation: None,
        implementation_version: None,
        verify_paths: None,
        default_context: None,
        certifi: None,
        macos_cert_installer: "unknown (interpreter not asked)".into(),
        error: None,
    };
    let out = match exec::run(path, &["-c", PYTHON_PROBE], env, t).await {
        Ok(o) => o,
        Err(e) => {
            info.error = Some(e.to_string());
            return info;
        }
    };
    let line = out
        .stdout
        .lines()
        .rev()
        .find(|l| l.trim_start().starts_with('{'))
        .unwrap_or("");
    let probe: ProbeOut = match serde_json::from_str(line) {
        Ok(p) => p,
        Err(_) => {
            let mut why = out.stderr.split_whitespace().collect::<Vec<_>>().join(" ");
            if why.is_empty() {
                why = "no output".into();
            }
            if let Some((cut, _)) = why.char_indices().nth(300) {
                why.truncate(cut);
            }
            info.error = Some(format!("interpreter did not answer the probe: {why}"));
            return info;
        }
    };
    info.executable = probe.executable;
    info.version = probe.version;
    info.is_venv = probe.prefix.is_some() && probe.prefix != probe.base_prefix;
    info.prefix = probe.prefix;
    info.platform = probe.platform;
    info.implementation = probe.implementation;
    info.implementation_version = probe.implementation_version;
    let errors: Vec<String> = [
        probe.ssl_error,
        probe.verify_paths_error,
        probe.context_error,
        probe.certifi_error,
    ]
    .into_iter()
    .flatten()
    .collect();
    if let Some(v) = &probe.openssl_version {
        info.max_tls = parse_banner(v).and_then(|(f, n, _)| version::max_tls(f, n));
    }
    info.openssl_version = probe.openssl_version;
    if info.openssl_version.is_some() {
        let (protocols, basis) = compiled_protocols(
            &probe.has_protocols,
            &probe.protocol_constants,
            info.max_tls.as_deref(),
        );
        info.protocols = protocols;
        info.protocols_basis = basis;
    }
    info.protocol_constants = probe.protocol_constants;
    info.verify_paths = probe.verify_paths;
    let compiled = &info.protocols;
    info.default_context = probe.context.map(|c| {
        let (minimum_version, maximum_version, versions_from) =
            match (c.minimum_version, c.maximum_version) {
                (Some(min), Some(max)) => (
                    Some(version::python_tls_version(min)),
                    Some(version::python_tls_version(max)),
                    "minimum_version/maximum_version",
                ),
                _ => {
                    let (min, max) = versions_from_options(c.options, &probe.op_no, compiled);
                    (min, max, "options (OP_NO_*)")
                }
            };
        PythonContext {
            minimum_version,
            maximum_version,
            security_level: c.security_level,
            options: c.options,
            unsafe_legacy_server_connect: c.options & OP_LEGACY_SERVER_CONNECT != 0,
            ca_certs_loaded: c.ca_certs_loaded,
            versions_from: Some(versions_from.to_string()),
        }
    });
    if let Some(c) = probe.certifi {
        let bundle = bundle::inspect_file(Path::new(&c.location));
        let release_age_days = c.version.as_deref().and_then(certifi_age_days);
        info.certifi = Some(CertifiInfo {
            version: c.version,
            bundle,
            release_age_days,
        });
    }
    info.macos_cert_installer = macos_installer_state(&info);
    if !errors.is_empty() {
        info.error = Some(errors.join("; "));
    }
    info
}

/// Protocols in order, with the `PROTOCOL_*` constant that selects only that one (none for
/// TLS 1.3: Python never added `PROTOCOL_TLSv1_3`) and the `OP_NO_*` option that switches it off.
const PROTOCOLS: [(&str, Option<&str>, &str); 6] = [
    ("SSLv2", Some("PROTOCOL_SSLv2"), "OP_NO_SSLv2"),
    ("SSLv3", Some("PROTOCOL_SSLv3"), "OP_NO_SSLv3"),
    ("TLSv1", Some("PROTOCOL_TLSv1"), "OP_NO_TLSv1"),
    ("TLSv1.1", Some("PROTOCOL_TLSv1_1"), "OP_NO_TLSv1_1"),
    ("TLSv1.2", Some("PROTOCOL_TLSv1_2"), "OP_NO_TLSv1_2"),
    ("TLSv1.3", None, "OP_NO_TLSv1_3"),
];

/// What the `ssl` module can speak, with the reason for each protocol. `HAS_*` flags win where
/// the interpreter has them (3.7+; 2.7.15+ and 3.6.3+ have `HAS_TLSv1_3` alone); otherwise a
/// `PROTOCOL_*` constant is defined exactly when the linked OpenSSL has that protocol (the test
/// the blog post does by hand); TLS 1.3 without `HAS_TLSv1_3` follows the linked library, which
/// negotiates it through `PROTOCOL_SSLv23`/`PROTOCOL_TLS` when it can.
fn compiled_protocols(
    has: &BTreeMap<String, bool>,
    constants: &[String],
    library_max: Option<&str>,
) -> (BTreeMap<String, bool>, Vec<String>) {
    let mut out = BTreeMap::new();
    let mut basis = Vec::new();
    for (name, constant, _) in PROTOCOLS {
        let flag = format!("HAS_{}", name.replace('.', "_"));
        if let Some(&v) = has.get(name) {
            out.insert(name.to_string(), v);
            basis.push(format!(
                "{name}: ssl.{flag} is {}",
                if v { "True" } else { "False" }
            ));
        } else if let Some(c) = constant {
            if constants.is_empty() {
                continue;
            }
            let present = constants.iter().any(|k| k == c);
            out.insert(name.to_string(), present);
            basis.push(if present {
                format!("{name}: ssl.{c} is defined")
            } else {
                format!("{name}: ssl.{c} is not defined (AttributeError)")
            });
        } else if let Some(max) = library_max {
            let speaks = version::protocol_rank(max) >= version::protocol_rank(name);
            out.insert(name.to_string(), speaks);
            basis.push(format!(
                "{name}: no ssl.{flag} in this interpreter; the linked library's maximum is {max}"
            ));
        }
    }
    (out, basis)
}

/// The default context's lowest and highest enabled protocol on interpreters without
/// `minimum_version`: a compiled-in protocol is enabled unless its `OP_NO_*` bit (the value
/// the interpreter itself reports) is set in the context's options.
fn versions_from_options(
    options: u64,
    op_no: &BTreeMap<String, i64>,
    compiled: &BTreeMap<String, bool>,
) -> (Option<String>, Option<String>) {
    let enabled: Vec<&str> = PROTOCOLS
        .iter()
        .filter(|(name, _, _)| *name != "SSLv2" && compiled.get(*name) == Some(&true))
        .filter(|(_, _, op)| {
            let bit = op_no
                .get(*op)
                .and_then(|v| u64::try_from(*v).ok())
                .unwrap_or(0);
            bit == 0 || options & bit == 0
        })
        .map(|(name, _, _)| *name)
        .collect();
    (
        enabled.first().map(|s| s.to_string()),
        enabled.last().map(|s| s.to_string()),
    )
}

/// Days since certifi's release, from its `YYYY.MM.DD` version.
fn certifi_age_days(v: &str) -> Option<i64> {
    let mut it = v.split('.').map(|p| p.parse::<i64>().ok());
    let (y, m, d) = (it.next()??, it.next()??, it.next()??);
    let month = time::Month::try_from(u8::try_from(m).ok()?).ok()?;
    let date = time::Date::from_calendar_date(i32::try_from(y).ok()?, month, u8::try_from(d).ok()?)
        .ok()?;
    let today = time::OffsetDateTime::now_utc().date();
    Some((today - date).whole_days())
}

/// python.org's macOS installers ship their own OpenSSL with an empty trust store until the
/// user runs "Install Certificates.command", which links certifi's bundle to `openssl_cafile`.
pub(crate) fn macos_installer_state(info: &PythonInfo) -> String {
    let platform = info.platform.as_deref().unwrap_or("unknown");
    if platform != "darwin" {
        return format!("not applicable ({platform}: only python.org builds for macOS need it)");
    }
    let framework = info
        .executable
        .as_deref()
        .is_some_and(|e| e.starts_with("/Library/Frameworks/Python.framework/"));
    if !framework {
        return "not applicable (not a python.org framework build)".into();
    }
    let cafile = info
        .verify_paths
        .as_ref()
        .and_then(|v| v.openssl_cafile.clone());
    match cafile {
        Some(f) if bundle::inspect_file(Path::new(&f)).certificates > 0 => "ran".into(),
        _ => "not run".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn python_names() {
        assert!(is_python_name("python3.11"));
        assert!(is_python_name("python"));
        assert!(!is_python_name("python3-config"));
        assert!(!is_python_name("pythonw"));
        assert!(is_python_name("pypy3"));
        assert!(is_python_name("pypy3.9"));
        assert!(!is_python_name("pypy3clean"));
    }

    /// What `python_probe.py` printed on the pyenv Python 2.7.18 here (linked to OpenSSL 3.0):
    /// no `minimum_version`, and of the `HAS_*` flags only `HAS_TLSv1_3`.
    const PROBE_2_7_18: &str = r#"{"context": {"options": 2186412112, "ca_certs_loaded": 144}, "op_no": {"OP_NO_SSLv3": 33554432, "OP_NO_SSLv2": 0, "OP_NO_TLSv1_1": 268435456, "OP_NO_TLSv1_2": 134217728, "OP_NO_TLSv1_3": 536870912, "OP_NO_TLSv1": 67108864}, "implementation": "CPython", "openssl_version": "OpenSSL 3.0.19 27 Jan 2026", "platform": "linux2", "version": "2.7.18", "protocol_constants": ["PROTOCOL_SSLv23", "PROTOCOL_TLS", "PROTOCOL_TLSv1", "PROTOCOL_TLSv1_1", "PROTOCOL_TLSv1_2"], "has_protocols": {"TLSv1.3": true}}"#;

    #[test]
    fn python_2_7_protocols_come_from_its_constants_and_options() {
        let p: ProbeOut = serde_json::from_str(PROBE_2_7_18).unwrap();
        let (speaks, basis) =
            compiled_protocols(&p.has_protocols, &p.protocol_constants, Some("TLSv1.3"));
        let yes: Vec<&str> = speaks
            .iter()
            .filter(|(_, v)| **v)
            .map(|(k, _)| k.as_str())
            .collect();
        assert_eq!(yes, ["TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3"]);
        assert_eq!(speaks.get("SSLv3"), Some(&false));
        assert!(basis.contains(&"TLSv1.2: ssl.PROTOCOL_TLSv1_2 is defined".to_string()));
        assert!(basis.contains(&"TLSv1.3: ssl.HAS_TLSv1_3 is True".to_string()));
        let c = p.context.unwrap();
        assert_eq!(c.minimum_version, None);
        // OP_NO_SSLv3 is set, OP_NO_TLSv1 … OP_NO_TLSv1_3 are not.
        let (min, max) = versions_from_options(c.options, &p.op_no, &speaks);
        assert_eq!(min.as_deref(), Some("TLSv1"));
        assert_eq!(max.as_deref(), Some("TLSv1.3"));
        let (min, _) = versions_from_options(c.options | 0x0400_0000, &p.op_no, &speaks);
        assert_eq!(min.as_deref(), Some("TLSv1.1"));
    }

    /// The blog post's Python 3.5 linked to OpenSSL 0.9.8zg: `PROTOCOL_TLSv1` but no
    /// `PROTOCOL_TLSv1_1`/`PROTOCOL_TLSv1_2`, no `HAS_*` flags, a library that stops at TLS 1.0.
    #[test]
    fn the_blog_posts_interpreter_cannot_speak_tls_1_2() {
        let constants: Vec<String> = [
            "PROTOCOL_SSLv2",
            "PROTOCOL_SSLv23",
            "PROTOCOL_SSLv3",
            "PROTOCOL_TLSv1",
        ]
        .map(String::from)
        .to_vec();
        let max = parse_banner("OpenSSL 0.9.8zg 14 July 2015")
            .and_then(|(f, n, _)| version::max_tls(f, n));
        let (speaks, basis) = compiled_protocols(&BTreeMap::new(), &constants, max.as_deref());
        assert_eq!(speaks.get("TLSv1"), Some(&true));
        assert_eq!(speaks.get("SSLv3"), Some(&true));
        assert_eq!(speaks.get("TLSv1.1"), Some(&false));
        assert_eq!(speaks.get("TLSv1.2"), Some(&false));
        assert_eq!(speaks.get("TLSv1.3"), Some(&false));
        assert!(basis.contains(
            &"TLSv1.2: ssl.PROTOCOL_TLSv1_2 is not defined (AttributeError)".to_string()
        ));
        // Python's OP_NO_TLSv1_1/OP_NO_TLSv1_2 read 0 on such a build: they switch nothing off.
        let op_no: BTreeMap<String, i64> =
            [("OP_NO_SSLv3", 0x0200_0000), ("OP_NO_TLSv1", 0x0400_0000)]
                .map(|(k, v)| (k.to_string(), v))
                .into();
        assert_eq!(
            versions_from_options(0x0200_0000, &op_no, &speaks),
            (Some("TLSv1".to_string()), Some("TLSv1".to_string()))
        );
    }

    #[test]
    fn certifi_age() {
        assert!(certifi_age_days("2017.04.17").unwrap() > 3000);
        assert_eq!(certifi_age_days("garbage"), None);
    }
}
