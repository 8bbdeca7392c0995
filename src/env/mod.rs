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
mod libraries;
mod paths;
mod programs;
pub mod stack;
mod trust;
pub mod version;

pub use bundle::BundleInfo;
pub use conf::{ConfEffect, ConfSetting, OpensslConfReport};
pub use libraries::TlsLibrary;
pub use programs::Tool;
pub use programs::java::JavaInfo;
pub use programs::node::NodeInfo;
pub use programs::python::{CertifiInfo, PythonContext, PythonInfo, VerifyPaths};
pub use stack::ClientStack;
pub use trust::{EnvVarCheck, LocalTrustStore};

use crate::finding::Finding;
use serde::Serialize;
use std::collections::HashMap;
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
    pub trust_stores: Vec<LocalTrustStore>,
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
        programs::openssl::find(&env, t),
        libraries::find_all(&env, t),
        programs::python::find_all(&opts.pythons, &env, t),
        programs::node::find(&env, t),
        programs::curl::find(&env, t),
        programs::java::find(&env, t),
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
            trust::local_trust_stores(dir2.as_deref()),
            trust::variables(&env2),
        )
    })
    .await
    .unwrap_or_default();
    let openssl_conf = conf::analyze(openssl_dir.as_deref(), &env);

    let clients = client_stacks(
        &pythons,
        openssl_cli.as_ref(),
        curl.as_ref(),
        node.as_ref(),
        java.as_ref(),
        &openssl_conf,
        &env,
    );

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

/// This machine's clients as [`inspect`] reports them (`EnvReport::clients`), without the
/// rest of the report: what `check` runs against the server (`crate::live`).
pub async fn local_clients(opts: &EnvOptions) -> Vec<ClientStack> {
    let env = opts.env_map();
    let t = opts.timeout;
    let (openssl_cli, pythons, node, curl, java) = tokio::join!(
        programs::openssl::find(&env, t),
        programs::python::find_all(&opts.pythons, &env, t),
        programs::node::find(&env, t),
        programs::curl::find(&env, t),
        programs::java::find(&env, t),
    );
    let openssl_dir = openssl_cli.as_ref().and_then(|t| t.openssl_dir.clone());
    let conf = conf::analyze(openssl_dir.as_deref(), &env);
    client_stacks(
        &pythons,
        openssl_cli.as_ref(),
        curl.as_ref(),
        node.as_ref(),
        java.as_ref(),
        &conf,
        &env,
    )
}

/// The TLS stack of each program found.
fn client_stacks(
    pythons: &[PythonInfo],
    openssl_cli: Option<&Tool>,
    curl: Option<&Tool>,
    node: Option<&NodeInfo>,
    java: Option<&JavaInfo>,
    openssl_conf: &OpensslConfReport,
    env: &HashMap<String, String>,
) -> Vec<ClientStack> {
    let mut clients = Vec::new();
    for p in pythons {
        // The CLI's compiled-in security level applies to a Python linked to the same build.
        let default_sec = openssl_cli
            .filter(|t| same_build(t, p.openssl_version.as_deref()))
            .and_then(|t| t.default_security_level);
        if let Some(c) = stack::from_python(p, env, default_sec) {
            clients.push(c);
        }
    }
    if let Some(o) = openssl_cli {
        clients.push(stack::from_openssl_tool(o, "openssl", openssl_conf, env));
    }
    if let Some(c) = curl {
        let c = with_cli_defaults(c, openssl_cli);
        clients.push(stack::from_openssl_tool(&c, "curl", openssl_conf, env));
    }
    if let Some(n) = node {
        clients.push(stack::from_node(n, env));
    }
    if let Some(j) = java {
        clients.push(stack::from_java(j));
    }
    clients
}

/// The TLS stack of one local client, named (`python`, `python3.11`, `openssl`, `curl`,
/// `node`, `java`) or given as a path. `None` when no such client is found or it is not one
/// of those kinds.
pub async fn local_client(name_or_path: &str, opts: &EnvOptions) -> Option<ClientStack> {
    let env = opts.env_map();
    let path = exec::which(name_or_path, &env)?;
    let base = path.file_name()?.to_str()?.to_string();
    let t = opts.timeout;
    if programs::python::is_python_name(&base) {
        let (info, cli) = tokio::join!(
            programs::python::inspect(&path, "argument", &env, t),
            programs::openssl::find(&env, t)
        );
        let default_sec = cli
            .filter(|c| same_build(c, info.openssl_version.as_deref()))
            .and_then(|c| c.default_security_level);
        return stack::from_python(&info, &env, default_sec);
    }
    match base.as_str() {
        "openssl" => {
            let tool = programs::openssl::inspect(&path, &env, t).await;
            let conf = conf::analyze(tool.openssl_dir.as_deref(), &env);
            Some(stack::from_openssl_tool(&tool, "openssl", &conf, &env))
        }
        "curl" => {
            let (tool, cli) = tokio::join!(
                programs::curl::inspect(&path, &env, t),
                programs::openssl::find(&env, t)
            );
            let tool = with_cli_defaults(&tool, cli.as_ref());
            let conf = conf::analyze(tool.openssl_dir.as_deref(), &env);
            Some(stack::from_openssl_tool(&tool, "curl", &conf, &env))
        }
        "node" | "nodejs" => Some(stack::from_node(
            &programs::node::inspect(&path, &env, t).await,
            &env,
        )),
        "java" => Some(stack::from_java(
            &programs::java::inspect(&path, &env, t).await,
        )),
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
