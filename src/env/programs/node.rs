//! Node.js: its version, the OpenSSL it is built with, `tls.DEFAULT_MIN_VERSION` /
//! `DEFAULT_MAX_VERSION` and the size of its compiled-in root store, as Node itself reports
//! them (`env/scripts/node_probe.js`).

use crate::env::exec::{self, which};
use serde::Serialize;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

const NODE_PROBE: &str = include_str!("../scripts/node_probe.js");

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

/// `node` (or Debian's `nodejs`) on the PATH of `env`, asked; `None` when there is none.
pub(crate) async fn find(env: &HashMap<String, String>, t: Duration) -> Option<NodeInfo> {
    let path = which("node", env).or_else(|| which("nodejs", env))?;
    Some(inspect(&path, env, t).await)
}

/// Run the probe script in the Node.js at `path`.
pub(crate) async fn inspect(path: &Path, env: &HashMap<String, String>, t: Duration) -> NodeInfo {
    let mut info = NodeInfo {
        path: path.to_path_buf(),
        version: None,
        openssl_version: None,
        default_min_version: None,
        default_max_version: None,
        root_certificates: None,
        error: None,
    };
    match exec::run(path, &["-e", NODE_PROBE], env, t).await {
        Ok(out) => {
            // The last line that is JSON; anything a wrapper prints before it is ignored.
            let v: serde_json::Value = out
                .stdout
                .lines()
                .rev()
                .find_map(|l| serde_json::from_str(l).ok())
                .unwrap_or_default();
            let s = |k: &str| v.get(k).and_then(|x| x.as_str()).map(str::to_string);
            info.version = s("node");
            info.openssl_version = s("openssl");
            info.default_min_version = s("min_version");
            info.default_max_version = s("max_version");
            info.root_certificates = v.get("root_certificates").and_then(|x| x.as_u64());
            if info.version.is_none() {
                info.error = Some(format!(
                    "no answer: {}",
                    out.stderr.lines().last().unwrap_or("").trim()
                ));
            }
        }
        Err(e) => info.error = Some(e.to_string()),
    }
    info
}
