//! Which real clients `check` runs: the programs `tlsdoctor env` finds (every Python, the
//! openssl CLI, curl, Node.js, Java) plus gnutls-cli, each Python once more for PyMongo (it
//! drops out when PyMongo is not installed in it), narrowed by `--client`.

use super::clients::Kind;
use crate::clients::find_profile;
use crate::env::{ClientStack, EnvOptions, exec};
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// One real client to run.
#[derive(Debug, Clone)]
pub struct LiveClient {
    pub kind: Kind,
    /// For people: "python 3.11.2 ssl", "PyMongo (python 3.11.2)", "curl", …
    pub label: String,
    pub program: PathBuf,
    /// Its TLS stack as `env` measured it, when it did.
    pub stack: Option<ClientStack>,
}

/// The clients to run. `selection` is `--client`: a path runs exactly that program (a
/// Python runs its `ssl` module, and PyMongo when it has it); a profile name runs the local
/// clients that profile stands for; None runs all.
pub(crate) async fn find(
    selection: Option<&str>,
    env: &HashMap<String, String>,
) -> Result<Vec<LiveClient>, String> {
    let opts = EnvOptions {
        env: Some(env.clone()),
        ..EnvOptions::default()
    };
    if let Some(path) = selection.filter(|s| s.contains('/')) {
        let program = exec::which(path, env).ok_or_else(|| format!("no program at '{path}'"))?;
        let stack = crate::env::local_client(path, &opts).await;
        let kinds = kinds_of(&program, stack.as_ref());
        if kinds.is_empty() {
            return Err(format!(
                "'{path}' is not a client tlsdoctor can run (Python, openssl, curl, node, java, gnutls-cli, go)"
            ));
        }
        return Ok(kinds
            .into_iter()
            .map(|kind| client(kind, &program, stack.clone()))
            .collect());
    }
    let mut out = Vec::new();
    for stack in crate::env::local_clients(&opts).await {
        let program = stack.path.clone();
        for kind in kinds_of(&program, Some(&stack)) {
            out.push(client(kind, &program, Some(stack.clone())));
        }
    }
    if let Some(program) = exec::which("gnutls-cli", env) {
        out.push(client(Kind::Gnutls, &program, None));
    }
    // A Go toolchain: its crypto/tls, compiled by `go run` (cached after the first run).
    if let Some(program) = exec::which("go", env) {
        out.push(client(Kind::Go, &program, None));
    }
    if let Some(name) = selection {
        let id = find_profile(name).map(|p| p.id.as_str()).unwrap_or(name);
        out.retain(|c| c.kind.profile() == id);
    }
    Ok(out)
}

/// What running `program` can observe.
fn kinds_of(program: &Path, stack: Option<&ClientStack>) -> Vec<Kind> {
    let base = program
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or_default();
    let kind = stack.map(|s| s.kind.as_str()).unwrap_or(base);
    match kind {
        "python" => vec![Kind::PythonSsl, Kind::Pymongo],
        "openssl" => vec![Kind::OpensslCli],
        "curl" => vec![Kind::Curl],
        "node" | "nodejs" => vec![Kind::Node],
        "java" => vec![Kind::Java],
        "gnutls-cli" => vec![Kind::Gnutls],
        "go" => vec![Kind::Go],
        _ => Vec::new(),
    }
}

fn client(kind: Kind, program: &Path, stack: Option<ClientStack>) -> LiveClient {
    let name = stack
        .as_ref()
        .map(|s| s.name.clone())
        .unwrap_or_else(|| kind.name().to_string());
    let label = match kind {
        Kind::PythonSsl => format!("{name} ssl ({})", program.display()),
        Kind::Pymongo => format!("PyMongo ({name}, {})", program.display()),
        Kind::OpensslCli => format!("openssl s_client ({})", program.display()),
        _ => format!("{name} ({})", program.display()),
    };
    LiveClient {
        kind,
        label,
        program: program.to_path_buf(),
        stack,
    }
}
