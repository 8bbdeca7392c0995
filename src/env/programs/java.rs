//! Java: `java -XshowSettings:properties -version` gives the version and java.home; the trust
//! store and `jdk.tls.disabledAlgorithms` are read from files under java.home.

use crate::env::exec::{self, which};
use serde::Serialize;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

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

/// The `java` on the PATH of `env`, asked; `None` when there is none.
pub(crate) async fn find(env: &HashMap<String, String>, t: Duration) -> Option<JavaInfo> {
    let path = which("java", env)?;
    Some(inspect(&path, env, t).await)
}

/// Ask the `java` at `path` and read its security files.
pub(crate) async fn inspect(path: &Path, env: &HashMap<String, String>, t: Duration) -> JavaInfo {
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
        Err(e) => info.error = Some(e.to_string()),
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
            info.disabled_protocols = disabled_protocols(&text);
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
fn disabled_protocols(text: &str) -> Vec<String> {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn java_security_parsing() {
        let js =
            "a=b\njdk.tls.disabledAlgorithms=SSLv3, TLSv1, TLSv1.1, RC4, \\\n    DES, NULL\nx=y\n";
        assert_eq!(disabled_protocols(js), vec!["SSLv3", "TLSv1", "TLSv1.1"]);
        assert_eq!(
            trust_store_property("-Xmx1g -Djavax.net.ssl.trustStore=/etc/corp.jks").as_deref(),
            Some("/etc/corp.jks")
        );
    }
}
