//! `tlsdoctor env`: the client side. Which TLS libraries, interpreters and trust stores this
//! machine has, what the OpenSSL configuration changes, and — per local client — the TLS stack
//! it will really use (`ClientStack`), so `check --client` can reason with the real client.
//!
//! Everything here only reads files and runs local programs (each with a timeout); nothing
//! connects anywhere.

pub mod bundle;
pub mod conf;
pub mod exec;
mod findings;
mod probes;
pub mod stack;
pub mod version;

pub use bundle::BundleInfo;
pub use conf::{ConfEffect, ConfSetting, OpensslConfReport};
pub use stack::ClientStack;

use crate::finding::Finding;
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::time::Duration;

/// What to inspect and how.
#[derive(Debug, Clone)]
pub struct EnvOptions {
    /// Extra interpreters (`--python PATH`), e.g. a venv's `bin/python`. Inspected first.
    pub pythons: Vec<PathBuf>,
    /// Limit for each program run.
    pub timeout: Duration,
    /// Replace the process environment (PATH, HOME, SSL_CERT_FILE, OPENSSL_CONF ...) for
    /// discovery, checks and every program run. `None` uses the real environment.
    pub env: Option<HashMap<String, String>>,
}

impl Default for EnvOptions {
    fn default() -> Self {
        EnvOptions {
            pythons: Vec::new(),
            timeout: Duration::from_secs(10),
            env: None,
        }
    }
}

impl EnvOptions {
    pub(crate) fn env_map(&self) -> HashMap<String, String> {
        match &self.env {
            Some(e) => e.clone(),
            None => std::env::vars().collect(),
        }
    }
}

/// A TLS shared library the dynamic loader knows (`ldconfig -p`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TlsLibrary {
    /// `OpenSSL libssl`, `OpenSSL libcrypto`, `GnuTLS`.
    pub family: String,
    /// Every name the loader lists for this file (`libssl.so.3`, `libssl.so`).
    pub names: Vec<String>,
    pub path: PathBuf,
    pub version: Option<String>,
    /// How the version was learned (`version string in the library`, `soname`).
    pub version_source: String,
    pub max_tls: Option<String>,
}

/// A command-line tool (the `openssl` CLI, curl).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Tool {
    pub name: String,
    pub path: PathBuf,
    /// The tool's own version line.
    pub version: Option<String>,
    /// The TLS library it uses and that library's version, e.g. `OpenSSL` / `3.0.19`.
    pub tls_library: Option<String>,
    pub tls_library_version: Option<String>,
    pub max_tls: Option<String>,
    /// OpenSSL's OPENSSLDIR, where the default openssl.cnf and cert.pem live.
    pub openssl_dir: Option<PathBuf>,
    /// Security level compiled in as the default (`-DOPENSSL_TLS_SECURITY_LEVEL=N`).
    pub default_security_level: Option<u8>,
    /// CA bundle compiled into curl, when `curl-config --ca` says.
    pub ca_bundle: Option<PathBuf>,
    /// Why the tool could not be asked, when it is present but failed or timed out.
    pub error: Option<String>,
}

impl Tool {
    /// A tool found at `path`, not asked anything yet.
    pub fn new(name: &str, path: &std::path::Path) -> Tool {
        Tool {
            name: name.into(),
            path: path.to_path_buf(),
            version: None,
            tls_library: None,
            tls_library_version: None,
            max_tls: None,
            openssl_dir: None,
            default_security_level: None,
            ca_bundle: None,
            error: None,
        }
    }
}

/// Python's `ssl.get_default_verify_paths()`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, serde::Deserialize)]
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
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
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
    /// `ssl.HAS_TLSv1_3` and friends: what the linked library can speak at all.
    pub protocols: BTreeMap<String, bool>,
    pub verify_paths: Option<VerifyPaths>,
    pub default_context: Option<PythonContext>,
    pub certifi: Option<CertifiInfo>,
    /// macOS python.org "Install Certificates.command": `not applicable (...)`, `ran`, `not run`.
    pub macos_cert_installer: String,
    /// Why the interpreter could not be asked (timeout, no ssl module, bad output).
    pub error: Option<String>,
}

/// Node.js.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NodeInfo {
    pub path: PathBuf,
    pub version: Option<String>,
    /// `process.versions.openssl`.
    pub openssl_version: Option<String>,
    /// `tls.DEFAULT_MIN_VERSION` / `tls.DEFAULT_MAX_VERSION`.
    pub default_min_version: Option<String>,
    pub default_max_version: Option<String>,
    /// Certificates in Node's compiled-in root store (`tls.rootCertificates.length`).
    pub root_certificates: Option<u64>,
    pub error: Option<String>,
}

/// Java.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct JavaInfo {
    pub path: PathBuf,
    pub version: Option<String>,
    pub java_home: Option<PathBuf>,
    /// `$JAVA_HOME/lib/security/cacerts` (a keystore; not parsed here).
    pub trust_store: Option<PathBuf>,
    pub trust_store_exists: bool,
    /// Protocols named in `jdk.tls.disabledAlgorithms` of `conf/security/java.security`.
    pub disabled_protocols: Vec<String>,
    pub error: Option<String>,
}

/// A trust store found on the machine.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TrustStore {
    /// `system bundle`, `system directory`, `OPENSSLDIR bundle`, `OPENSSLDIR directory`.
    pub role: String,
    pub info: BundleInfo,
}

/// One trust-store environment variable.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EnvVarCheck {
    pub name: String,
    /// Unset variables are listed too (value `None`), so the report shows they were checked.
    pub value: Option<String>,
    /// Who reads it and what it does.
    pub effect: String,
    /// Contents, when set.
    pub bundle: Option<BundleInfo>,
}

/// Everything `tlsdoctor env` knows about this machine.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EnvReport {
    pub os: String,
    pub libraries: Vec<TlsLibrary>,
    pub openssl_cli: Option<Tool>,
    pub pythons: Vec<PythonInfo>,
    pub node: Option<NodeInfo>,
    pub curl: Option<Tool>,
    pub java: Option<JavaInfo>,
    pub trust_stores: Vec<TrustStore>,
    pub variables: Vec<EnvVarCheck>,
    pub openssl_conf: OpensslConfReport,
    pub findings: Vec<Finding>,
    pub clients: Vec<ClientStack>,
    /// Tools looked for and not found (reported, not an error).
    pub missing_tools: Vec<String>,
}

/// Inspect this machine (or the environment in `opts.env`). Never fails: what cannot be
/// learned is reported as missing or as an error string on the item.
pub async fn inspect(opts: &EnvOptions) -> EnvReport {
    let env = opts.env_map();
    let t = opts.timeout;
    let (openssl_cli, libraries, pythons, node, curl, java) = tokio::join!(
        probes::openssl_cli(&env, t),
        probes::libraries(&env, t),
        probes::pythons(&opts.pythons, &env, t),
        probes::node(&env, t),
        probes::curl(&env, t),
        probes::java(&env, t),
    );
    let mut missing_tools = Vec::new();
    for (name, present) in [
        ("openssl", openssl_cli.is_some()),
        ("python", !pythons.is_empty()),
        ("node", node.is_some()),
        ("curl", curl.is_some()),
        ("java", java.is_some()),
    ] {
        if !present {
            missing_tools.push(name.to_string());
        }
    }
    let openssl_dir = openssl_cli.as_ref().and_then(|t| t.openssl_dir.clone());
    let env2 = env.clone();
    let dir2 = openssl_dir.clone();
    let (trust_stores, variables) = tokio::task::spawn_blocking(move || {
        (
            probes::trust_stores(dir2.as_deref()),
            probes::variables(&env2),
        )
    })
    .await
    .unwrap_or_default();
    let openssl_conf = conf::analyze(openssl_dir.as_deref(), &env);

    let mut clients = Vec::new();
    for p in &pythons {
        // The CLI's compiled-in security level applies to a Python linked to the same build.
        let default_sec = openssl_cli
            .as_ref()
            .filter(|t| same_build(t, p.openssl_version.as_deref()))
            .and_then(|t| t.default_security_level);
        if let Some(c) = stack::from_python(p, &env, default_sec) {
            clients.push(c);
        }
    }
    if let Some(o) = &openssl_cli {
        clients.push(stack::from_openssl_tool(o, "openssl", &openssl_conf, &env));
    }
    if let Some(c) = &curl {
        let c = with_cli_defaults(c, openssl_cli.as_ref());
        clients.push(stack::from_openssl_tool(&c, "curl", &openssl_conf, &env));
    }
    if let Some(n) = &node {
        clients.push(stack::from_node(n, &env));
    }
    if let Some(j) = &java {
        clients.push(stack::from_java(j));
    }

    let mut report = EnvReport {
        os: std::env::consts::OS.to_string(),
        libraries,
        openssl_cli,
        pythons,
        node,
        curl,
        java,
        trust_stores,
        variables,
        openssl_conf,
        findings: Vec::new(),
        clients,
        missing_tools,
    };
    report.findings = findings::all(&report, &env);
    crate::finding::sort_by_severity(&mut report.findings);
    report
}

/// The TLS stack of one local client, named (`python`, `python3.11`, `openssl`, `curl`,
/// `node`, `java`) or given as a path. `None` when no such client is found or it is not one
/// of those kinds.
pub async fn local_client(name_or_path: &str, opts: &EnvOptions) -> Option<ClientStack> {
    let env = opts.env_map();
    let path = exec::which(name_or_path, &env)?;
    let base = path.file_name()?.to_str()?.to_string();
    let t = opts.timeout;
    if probes::is_python_name(&base) {
        let (info, cli) = tokio::join!(
            probes::python(&path, "argument", &env, t),
            probes::openssl_cli(&env, t)
        );
        let default_sec = cli
            .filter(|c| same_build(c, info.openssl_version.as_deref()))
            .and_then(|c| c.default_security_level);
        return stack::from_python(&info, &env, default_sec);
    }
    match base.as_str() {
        "openssl" => {
            let tool = probes::openssl_at(&path, &env, t).await;
            let conf = conf::analyze(tool.openssl_dir.as_deref(), &env);
            Some(stack::from_openssl_tool(&tool, "openssl", &conf, &env))
        }
        "curl" => {
            let (tool, cli) = tokio::join!(
                probes::curl_at(&path, &env, t),
                probes::openssl_cli(&env, t)
            );
            let tool = with_cli_defaults(&tool, cli.as_ref());
            let conf = conf::analyze(tool.openssl_dir.as_deref(), &env);
            Some(stack::from_openssl_tool(&tool, "curl", &conf, &env))
        }
        "node" | "nodejs" => Some(stack::from_node(
            &probes::node_at(&path, &env, t).await,
            &env,
        )),
        "java" => Some(stack::from_java(&probes::java_at(&path, &env, t).await)),
        _ => None,
    }
}

/// Whether the openssl CLI reports the same OpenSSL build as an interpreter's banner.
fn same_build(cli: &Tool, banner: Option<&str>) -> bool {
    match (cli.version.as_deref(), banner) {
        (Some(v), Some(b)) => v.starts_with(b),
        _ => false,
    }
}

/// curl linked to the same OpenSSL as the CLI shares its OPENSSLDIR and compiled-in security
/// level; `curl -V` does not print them.
fn with_cli_defaults(curl: &Tool, cli: Option<&Tool>) -> Tool {
    let mut c = curl.clone();
    if let Some(cli) = cli.filter(|cli| {
        cli.tls_library_version.is_some() && cli.tls_library_version == curl.tls_library_version
    }) {
        c.openssl_dir = cli.openssl_dir.clone();
        c.default_security_level = cli.default_security_level;
    }
    c
}
