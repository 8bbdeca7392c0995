//! Probes: each asks one local program or looks at one set of files. Missing programs give
//! `None`; programs that fail or time out give an item with `error` set.

use super::bundle::{self, BundleInfo};
use super::exec::{self, RunError, is_executable, which};
use super::version::{self, Family, parse_banner};
use super::*;
use serde::Deserialize;
use std::collections::HashSet;
use std::path::Path;
use std::sync::Arc;

const PYTHON_PROBE: &str = include_str!("../../data/env/python_probe.py");
/// Interpreters asked at the same time (the machine may be small and shared).
const PYTHON_CONCURRENCY: usize = 4;

#[derive(Deserialize)]
pub(crate) struct VariableDef {
    pub name: String,
    pub kind: String,
    pub used_by: String,
    pub error: String,
}

#[derive(Deserialize)]
struct VariableDefs {
    variable: Vec<VariableDef>,
}

pub(crate) fn variable_defs() -> &'static [VariableDef] {
    static V: std::sync::OnceLock<VariableDefs> = std::sync::OnceLock::new();
    &V.get_or_init(|| {
        toml::from_str(include_str!("../../data/env/variables.toml"))
            .expect("data/env/variables.toml is valid (checked by a unit test)")
    })
    .variable
}

#[derive(Deserialize)]
struct KnownPaths {
    system_bundles: Vec<String>,
    system_dirs: Vec<String>,
    python_version_dirs: Vec<String>,
    python_prefixes: Vec<String>,
}

fn known_paths() -> &'static KnownPaths {
    static P: std::sync::OnceLock<KnownPaths> = std::sync::OnceLock::new();
    P.get_or_init(|| {
        toml::from_str(include_str!("../../data/env/paths.toml"))
            .expect("data/env/paths.toml is valid (checked by a unit test)")
    })
}

fn home_expand(p: &str, env: &HashMap<String, String>) -> Option<PathBuf> {
    match p.strip_prefix("~/") {
        Some(rest) => env
            .get("HOME")
            .filter(|h| !h.is_empty())
            .map(|h| Path::new(h).join(rest)),
        None => Some(PathBuf::from(p)),
    }
}

fn run_error(e: RunError) -> String {
    e.to_string()
}

// ---------------------------------------------------------------- openssl CLI

pub(crate) async fn openssl_cli(env: &HashMap<String, String>, t: Duration) -> Option<Tool> {
    let path = which("openssl", env)?;
    Some(openssl_at(&path, env, t).await)
}

pub(crate) async fn openssl_at(path: &Path, env: &HashMap<String, String>, t: Duration) -> Tool {
    let mut tool = Tool::new("openssl", path);
    match exec::run(path, &["version", "-a"], env, t).await {
        Ok(out) if out.success() => parse_openssl_version_a(&out.stdout, &mut tool),
        Ok(out) => {
            tool.error = Some(format!(
                "`openssl version -a` failed: {}",
                out.stderr.trim()
            ))
        }
        Err(e) => tool.error = Some(run_error(e)),
    }
    tool
}

fn parse_openssl_version_a(text: &str, tool: &mut Tool) {
    for line in text.lines() {
        if tool.version.is_none() {
            if let Some((family, v, token)) = parse_banner(line) {
                tool.version = Some(line.trim().to_string());
                tool.tls_library = Some(
                    if family == Family::LibreSsl {
                        "LibreSSL"
                    } else {
                        "OpenSSL"
                    }
                    .into(),
                );
                tool.tls_library_version = Some(token);
                tool.max_tls = version::max_tls(family, v);
                continue;
            }
        }
        if let Some(dir) = line.strip_prefix("OPENSSLDIR:") {
            tool.openssl_dir = Some(PathBuf::from(dir.trim().trim_matches('"')));
        }
        if let Some(pos) = line.find("-DOPENSSL_TLS_SECURITY_LEVEL=") {
            let digits: String = line[pos + 29..]
                .chars()
                .take_while(|c| c.is_ascii_digit())
                .collect();
            tool.default_security_level = digits.parse().ok();
        }
    }
}

// ---------------------------------------------------------------- shared libraries

pub(crate) async fn libraries(env: &HashMap<String, String>, t: Duration) -> Vec<TlsLibrary> {
    let ldconfig = which("ldconfig", env).or_else(|| {
        ["/sbin/ldconfig", "/usr/sbin/ldconfig"]
            .iter()
            .map(PathBuf::from)
            .find(|p| is_executable(p))
    });
    let Some(ldconfig) = ldconfig else {
        return Vec::new();
    };
    let Ok(out) = exec::run(&ldconfig, &["-p"], env, t).await else {
        return Vec::new();
    };
    let listed = parse_ldconfig(&out.stdout);
    tokio::task::spawn_blocking(move || describe_libraries(listed))
        .await
        .unwrap_or_default()
}

/// (family, soname, path) for the TLS libraries in `ldconfig -p` output.
fn parse_ldconfig(text: &str) -> Vec<(&'static str, String, PathBuf)> {
    let mut out = Vec::new();
    for line in text.lines() {
        let Some((left, path)) = line.split_once("=>") else {
            continue;
        };
        let name = left.split_whitespace().next().unwrap_or("");
        let family = if name.starts_with("libssl.so") {
            "OpenSSL libssl"
        } else if name.starts_with("libcrypto.so") {
            "OpenSSL libcrypto"
        } else if name.starts_with("libgnutls.so") {
            "GnuTLS"
        } else {
            continue;
        };
        out.push((family, name.to_string(), PathBuf::from(path.trim())));
    }
    out
}

fn describe_libraries(listed: Vec<(&'static str, String, PathBuf)>) -> Vec<TlsLibrary> {
    let mut by_file: Vec<TlsLibrary> = Vec::new();
    for (family, name, path) in listed {
        let real = std::fs::canonicalize(&path).unwrap_or(path.clone());
        if let Some(existing) = by_file.iter_mut().find(|l| l.path == real) {
            existing.names.push(name);
            continue;
        }
        by_file.push(TlsLibrary {
            family: family.to_string(),
            names: vec![name],
            path: real,
            version: None,
            version_source: String::new(),
            max_tls: None,
        });
    }
    for lib in &mut by_file {
        let found = if lib.family == "GnuTLS" {
            gnutls_version_in(&lib.path)
        } else {
            openssl_version_in(&lib.path)
                .or_else(|| sibling_libcrypto(&lib.path).and_then(|c| openssl_version_in(&c)))
        };
        let family = if lib.family == "GnuTLS" {
            Family::GnuTls
        } else {
            Family::OpenSsl
        };
        match found {
            Some(v) => {
                lib.max_tls = version::parse_numbers(&v).and_then(|n| version::max_tls(family, n));
                lib.version = Some(v);
                lib.version_source = "version string in the library file".into();
            }
            None => {
                let soname = lib
                    .names
                    .iter()
                    .find_map(|n| n.split_once(".so.").map(|(_, v)| v.to_string()));
                lib.version_source = match &soname {
                    Some(s) => format!("soname only (ABI {s}); exact version unknown"),
                    None => "unknown".into(),
                };
            }
        }
    }
    by_file
}

/// libssl rarely carries the version banner; its libcrypto in the same directory does.
fn sibling_libcrypto(libssl: &Path) -> Option<PathBuf> {
    let name = libssl.file_name()?.to_str()?;
    let rest = name.strip_prefix("libssl")?;
    Some(libssl.with_file_name(format!("libcrypto{rest}")))
}

const MAX_LIB_BYTES: u64 = 32 << 20;

fn read_lib(path: &Path) -> Option<Vec<u8>> {
    let meta = std::fs::metadata(path).ok()?;
    if meta.len() > MAX_LIB_BYTES {
        return None;
    }
    std::fs::read(path).ok()
}

/// NUL-separated printable strings of a binary.
fn c_strings(bytes: &[u8]) -> impl Iterator<Item = &str> {
    bytes
        .split(|b| *b == 0)
        .filter(|s| s.len() >= 3 && s.len() < 200)
        .filter_map(|s| std::str::from_utf8(s).ok())
}

fn openssl_version_in(path: &Path) -> Option<String> {
    let bytes = read_lib(path)?;
    c_strings(&bytes).find_map(|s| {
        parse_banner(s)
            .filter(|(f, _, _)| *f != Family::GnuTls)
            .map(|(_, _, tok)| tok)
    })
}

/// GnuTLS keeps its version as a bare `3.7.9` string next to its soname.
fn gnutls_version_in(path: &Path) -> Option<String> {
    let bytes = read_lib(path)?;
    c_strings(&bytes)
        .find(|s| {
            let parts: Vec<&str> = s.split('.').collect();
            parts.len() == 3
                && parts[0] == "3"
                && parts
                    .iter()
                    .all(|p| !p.is_empty() && p.len() <= 3 && p.bytes().all(|b| b.is_ascii_digit()))
        })
        .map(str::to_string)
}

// ---------------------------------------------------------------- Python

pub(crate) fn is_python_name(name: &str) -> bool {
    name.strip_prefix("python")
        .is_some_and(|rest| rest.bytes().all(|b| b.is_ascii_digit() || b == b'.'))
}

/// Interpreter candidates in the order they are reported: `--python`, VIRTUAL_ENV, PATH,
/// version managers.
fn python_candidates(extra: &[PathBuf], env: &HashMap<String, String>) -> Vec<(PathBuf, String)> {
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

pub(crate) async fn pythons(
    extra: &[PathBuf],
    env: &HashMap<String, String>,
    t: Duration,
) -> Vec<PythonInfo> {
    let candidates = python_candidates(extra, env);
    let limit = Arc::new(tokio::sync::Semaphore::new(PYTHON_CONCURRENCY));
    let env = Arc::new(env.clone());
    let mut tasks = tokio::task::JoinSet::new();
    for (i, (path, via)) in candidates.into_iter().enumerate() {
        let limit = limit.clone();
        let env = env.clone();
        tasks.spawn(async move {
            let _permit = limit.acquire_owned().await;
            (i, python(&path, &via, &env, t).await)
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

#[derive(Deserialize, Default)]
struct ProbeOut {
    version: Option<String>,
    executable: Option<String>,
    prefix: Option<String>,
    base_prefix: Option<String>,
    platform: Option<String>,
    ssl_error: Option<String>,
    openssl_version: Option<String>,
    #[serde(default)]
    has_protocols: BTreeMap<String, bool>,
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

/// OpenSSL's SSL_OP_LEGACY_SERVER_CONNECT (same bit in 1.0.x, 1.1.x and 3.x).
const OP_LEGACY_SERVER_CONNECT: u64 = 0x4;

pub(crate) async fn python(
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
        verify_paths: None,
        default_context: None,
        certifi: None,
        macos_cert_installer: "unknown (interpreter not asked)".into(),
        error: None,
    };
    let out = match exec::run(path, &["-c", PYTHON_PROBE], env, t).await {
        Ok(o) => o,
        Err(e) => {
            info.error = Some(run_error(e));
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
    info.protocols = probe.has_protocols;
    let mut errors: Vec<String> = [
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
    info.verify_paths = probe.verify_paths;
    info.default_context = probe.context.map(|c| PythonContext {
        minimum_version: c.minimum_version.map(version::python_tls_version),
        maximum_version: c.maximum_version.map(version::python_tls_version),
        security_level: c.security_level,
        options: c.options,
        unsafe_legacy_server_connect: c.options & OP_LEGACY_SERVER_CONNECT != 0,
        ca_certs_loaded: c.ca_certs_loaded,
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
        info.error = Some(std::mem::take(&mut errors).join("; "));
    }
    info
}

/// Days since certifi's release, from its `YYYY.MM.DD` version.
pub(crate) fn certifi_age_days(v: &str) -> Option<i64> {
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

// ---------------------------------------------------------------- Node, curl, Java

pub(crate) async fn node(env: &HashMap<String, String>, t: Duration) -> Option<NodeInfo> {
    let path = which("node", env).or_else(|| which("nodejs", env))?;
    Some(node_at(&path, env, t).await)
}

pub(crate) async fn node_at(path: &Path, env: &HashMap<String, String>, t: Duration) -> NodeInfo {
    let mut info = NodeInfo {
        path: path.to_path_buf(),
        version: None,
        openssl_version: None,
        default_min_version: None,
        default_max_version: None,
        root_certificates: None,
        error: None,
    };
    let script = "const tls=require('tls');console.log(JSON.stringify({v:process.versions.node,\
                  o:process.versions.openssl||null,min:tls.DEFAULT_MIN_VERSION,max:tls.DEFAULT_MAX_VERSION,\
                  roots:(tls.rootCertificates||[]).length}))";
    match exec::run(path, &["-e", script], env, t).await {
        Ok(out) => {
            let v: serde_json::Value = out
                .stdout
                .lines()
                .rev()
                .find_map(|l| serde_json::from_str(l).ok())
                .unwrap_or_default();
            let s = |k: &str| v.get(k).and_then(|x| x.as_str()).map(str::to_string);
            info.version = s("v");
            info.openssl_version = s("o");
            info.default_min_version = s("min");
            info.default_max_version = s("max");
            info.root_certificates = v.get("roots").and_then(|x| x.as_u64());
            if info.version.is_none() {
                info.error = Some(format!(
                    "no answer: {}",
                    out.stderr.lines().last().unwrap_or("").trim()
                ));
            }
        }
        Err(e) => info.error = Some(run_error(e)),
    }
    info
}

pub(crate) async fn curl(env: &HashMap<String, String>, t: Duration) -> Option<Tool> {
    let path = which("curl", env)?;
    Some(curl_at(&path, env, t).await)
}

pub(crate) async fn curl_at(path: &Path, env: &HashMap<String, String>, t: Duration) -> Tool {
    let mut tool = Tool::new("curl", path);
    let config = path.with_file_name("curl-config");
    let (version, ca) = tokio::join!(exec::run(path, &["-V"], env, t), async {
        if is_executable(&config) {
            exec::run(&config, &["--ca"], env, t).await.ok()
        } else {
            None
        }
    });
    match version {
        Ok(out) => {
            let first = out.stdout.lines().next().unwrap_or("").trim().to_string();
            // `curl 7.88.1 (x86_64-pc-linux-gnu) libcurl/7.88.1 OpenSSL/3.0.19 zlib/...`
            for word in first.split_whitespace() {
                if let Some((lib, v)) = word.split_once('/') {
                    let family = match lib {
                        "OpenSSL" => Some(Family::OpenSsl),
                        "LibreSSL" => Some(Family::LibreSsl),
                        "GnuTLS" => Some(Family::GnuTls),
                        _ => None,
                    };
                    if let Some(f) = family {
                        tool.tls_library = Some(lib.to_string());
                        tool.tls_library_version = Some(v.to_string());
                        tool.max_tls =
                            version::parse_numbers(v).and_then(|n| version::max_tls(f, n));
                        break;
                    }
                }
            }
            if first.is_empty() {
                tool.error = Some("`curl -V` printed nothing".into());
            } else {
                tool.version = Some(first);
            }
        }
        Err(e) => tool.error = Some(run_error(e)),
    }
    if let Some(out) = ca.filter(|o| o.success()) {
        let p = out.stdout.trim();
        if !p.is_empty() {
            tool.ca_bundle = Some(PathBuf::from(p));
        }
    }
    tool
}

pub(crate) async fn java(env: &HashMap<String, String>, t: Duration) -> Option<JavaInfo> {
    let path = which("java", env)?;
    Some(java_at(&path, env, t).await)
}

pub(crate) async fn java_at(path: &Path, env: &HashMap<String, String>, t: Duration) -> JavaInfo {
    let mut info = JavaInfo {
        path: path.to_path_buf(),
        version: None,
        java_home: None,
        trust_store: None,
        trust_store_exists: false,
        disabled_protocols: Vec::new(),
        error: None,
    };
    match exec::run(path, &["-XshowSettings:properties", "-version"], env, t).await {
        Ok(out) => {
            for line in out.stderr.lines().chain(out.stdout.lines()) {
                let l = line.trim();
                if let Some(v) = l.strip_prefix("java.home = ") {
                    info.java_home = Some(PathBuf::from(v.trim()));
                } else if let Some(v) = l.strip_prefix("java.version = ") {
                    info.version = Some(v.trim().to_string());
                }
            }
            if info.version.is_none() {
                info.error =
                    Some("no java.version in `java -XshowSettings:properties -version`".into());
            }
        }
        Err(e) => info.error = Some(run_error(e)),
    }
    if let Some(home) = &info.java_home {
        let store = match env
            .get("JAVA_TOOL_OPTIONS")
            .and_then(|o| trust_store_property(o))
        {
            Some(p) => PathBuf::from(p),
            None => home.join("lib/security/cacerts"),
        };
        info.trust_store_exists = store.is_file();
        info.trust_store = Some(store);
        if let Ok(text) = std::fs::read_to_string(home.join("conf/security/java.security")) {
            info.disabled_protocols = java_disabled_protocols(&text);
        }
    }
    info
}

fn trust_store_property(opts: &str) -> Option<String> {
    opts.split_whitespace()
        .find_map(|w| w.strip_prefix("-Djavax.net.ssl.trustStore="))
        .map(str::to_string)
}

/// Protocol names in `jdk.tls.disabledAlgorithms` (a backslash-continued property).
fn java_disabled_protocols(text: &str) -> Vec<String> {
    let mut value = String::new();
    let mut inside = false;
    for line in text.lines() {
        let l = line.trim();
        if !inside {
            if let Some(v) = l.strip_prefix("jdk.tls.disabledAlgorithms=") {
                inside = true;
                value.push_str(v.trim_end_matches('\\'));
                if !v.ends_with('\\') {
                    break;
                }
            }
        } else {
            value.push_str(l.trim_end_matches('\\'));
            if !l.ends_with('\\') {
                break;
            }
        }
    }
    value
        .split(',')
        .map(str::trim)
        .filter(|w| w.starts_with("SSL") || w.starts_with("TLS") || w.starts_with("DTLS"))
        .map(str::to_string)
        .collect()
}

// ---------------------------------------------------------------- trust stores, variables

pub(crate) fn trust_stores(openssl_dir: Option<&Path>) -> Vec<TrustStore> {
    let kp = known_paths();
    let mut out = Vec::new();
    let mut seen = HashSet::new();
    let mut add = |role: &str, info: BundleInfo| {
        let key = std::fs::canonicalize(&info.path).unwrap_or(info.path.clone());
        if info.exists && seen.insert(key) {
            out.push(TrustStore {
                role: role.into(),
                info,
            });
        }
    };
    for f in &kp.system_bundles {
        add("system bundle", bundle::inspect_file(Path::new(f)));
    }
    for d in &kp.system_dirs {
        add("system directory", bundle::inspect_dir(Path::new(d)));
    }
    if let Some(dir) = openssl_dir {
        add(
            "OPENSSLDIR bundle (cert.pem)",
            bundle::inspect_file(&dir.join("cert.pem")),
        );
        add(
            "OPENSSLDIR directory (certs/)",
            bundle::inspect_dir(&dir.join("certs")),
        );
    }
    out
}

pub(crate) fn variables(env: &HashMap<String, String>) -> Vec<EnvVarCheck> {
    variable_defs()
        .iter()
        .map(|def| {
            let value = env.get(&def.name).cloned();
            let bundle = value.as_ref().filter(|v| !v.is_empty()).map(|v| {
                if def.kind == "dir" {
                    bundle::inspect_dir(Path::new(v))
                } else {
                    bundle::inspect_file(Path::new(v))
                }
            });
            EnvVarCheck {
                name: def.name.clone(),
                value,
                effect: def.used_by.clone(),
                bundle,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn data_files_parse() {
        assert!(variable_defs().iter().any(|d| d.name == "SSL_CERT_FILE"));
        assert!(!known_paths().system_bundles.is_empty());
    }

    #[test]
    fn python_names() {
        assert!(is_python_name("python3.11"));
        assert!(is_python_name("python"));
        assert!(!is_python_name("python3-config"));
        assert!(!is_python_name("pythonw"));
    }

    #[test]
    fn openssl_version_a_parsing() {
        let text = "OpenSSL 1.1.1w  11 Sep 2023\nbuilt on: x\ncompiler: gcc -DOPENSSL_TLS_SECURITY_LEVEL=2 -O2\n\
                    OPENSSLDIR: \"/usr/lib/ssl\"\n";
        let mut t = Tool {
            name: "openssl".into(),
            path: PathBuf::from("/usr/bin/openssl"),
            version: None,
            tls_library: None,
            tls_library_version: None,
            max_tls: None,
            openssl_dir: None,
            default_security_level: None,
            ca_bundle: None,
            error: None,
        };
        parse_openssl_version_a(text, &mut t);
        assert_eq!(t.tls_library_version.as_deref(), Some("1.1.1w"));
        assert_eq!(t.openssl_dir, Some(PathBuf::from("/usr/lib/ssl")));
        assert_eq!(t.default_security_level, Some(2));
        assert_eq!(t.max_tls.as_deref(), Some("TLSv1.3"));
    }

    #[test]
    fn ldconfig_and_java_security_parsing() {
        let text = "\tlibssl.so.3 (libc6,x86-64) => /lib/x86_64-linux-gnu/libssl.so.3\n\
                    \tlibgnutls-dane.so.0 (libc6,x86-64) => /lib/x\n\
                    \tlibgnutls.so.30 (libc6,x86-64) => /lib/y\n";
        let l = parse_ldconfig(text);
        assert_eq!(l.len(), 2);
        assert_eq!(l[1].0, "GnuTLS");
        let js =
            "a=b\njdk.tls.disabledAlgorithms=SSLv3, TLSv1, TLSv1.1, RC4, \\\n    DES, NULL\nx=y\n";
        assert_eq!(
            java_disabled_protocols(js),
            vec!["SSLv3", "TLSv1", "TLSv1.1"]
        );
    }

    #[test]
    fn certifi_age() {
        assert!(certifi_age_days("2017.04.17").unwrap() > 3000);
        assert_eq!(certifi_age_days("garbage"), None);
    }
}
