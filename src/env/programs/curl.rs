//! curl: `curl -V` names the TLS library it is built on; `curl-config --ca`, when installed
//! beside it, the CA bundle compiled in.

use super::Tool;
use crate::env::exec::{self, is_executable, which};
use crate::env::version::{self, Family};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The `curl` on the PATH of `env`, asked; `None` when there is none.
pub(crate) async fn find(env: &HashMap<String, String>, t: Duration) -> Option<Tool> {
    let path = which("curl", env)?;
    Some(inspect(&path, env, t).await)
}

/// Ask the `curl` at `path` (and its `curl-config`, if any).
pub(crate) async fn inspect(path: &Path, env: &HashMap<String, String>, t: Duration) -> Tool {
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
            read_tls_library(&first, &mut tool);
            if first.is_empty() {
                tool.error = Some("`curl -V` printed nothing".into());
            } else {
                tool.version = Some(first);
            }
        }
        Err(e) => tool.error = Some(e.to_string()),
    }
    if let Some(out) = ca.filter(|o| o.success()) {
        let p = out.stdout.trim();
        if !p.is_empty() {
            tool.ca_bundle = Some(PathBuf::from(p));
        }
    }
    tool
}

/// The first TLS library named in curl's version line,
/// `curl 7.88.1 (x86_64-pc-linux-gnu) libcurl/7.88.1 OpenSSL/3.0.19 zlib/...`.
fn read_tls_library(first_line: &str, tool: &mut Tool) {
    for word in first_line.split_whitespace() {
        let Some((lib, v)) = word.split_once('/') else {
            continue;
        };
        let family = match lib {
            "OpenSSL" => Family::OpenSsl,
            "LibreSSL" => Family::LibreSsl,
            "GnuTLS" => Family::GnuTls,
            _ => continue,
        };
        tool.tls_library = Some(lib.to_string());
        tool.tls_library_version = Some(v.to_string());
        tool.max_tls = version::parse_numbers(v).and_then(|n| version::max_tls(family, n));
        break;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn version_line_names_the_tls_library() {
        let mut t = Tool::new("curl", Path::new("/usr/bin/curl"));
        read_tls_library(
            "curl 7.88.1 (x86_64-pc-linux-gnu) libcurl/7.88.1 OpenSSL/3.0.19 zlib/1.2.13",
            &mut t,
        );
        assert_eq!(t.tls_library.as_deref(), Some("OpenSSL"));
        assert_eq!(t.tls_library_version.as_deref(), Some("3.0.19"));
        assert_eq!(t.max_tls.as_deref(), Some("TLSv1.3"));
        let mut t = Tool::new("curl", Path::new("/usr/bin/curl"));
        read_tls_library("curl 8.5.0 libcurl/8.5.0 zlib/1.3", &mut t);
        assert_eq!(t.tls_library, None);
    }
}
