//! The `openssl` command-line tool: `openssl version -a` gives the library version, OPENSSLDIR
//! and the security level compiled in as the default.

use super::Tool;
use crate::env::exec::{self, which};
use crate::env::version::{self, Family, parse_banner};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The `openssl` on the PATH of `env`, asked; `None` when there is none.
pub(crate) async fn find(env: &HashMap<String, String>, t: Duration) -> Option<Tool> {
    let path = which("openssl", env)?;
    Some(inspect(&path, env, t).await)
}

/// Ask the `openssl` at `path`.
pub(crate) async fn inspect(path: &Path, env: &HashMap<String, String>, t: Duration) -> Tool {
    let mut tool = Tool::new("openssl", path);
    match exec::run(path, &["version", "-a"], env, t).await {
        Ok(out) if out.success() => parse_version_a(&out.stdout, &mut tool),
        Ok(out) => {
            tool.error = Some(format!(
                "`openssl version -a` failed: {}",
                out.stderr.trim()
            ))
        }
        Err(e) => tool.error = Some(e.to_string()),
    }
    tool
}

fn parse_version_a(text: &str, tool: &mut Tool) {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn version_a_parsing() {
        let text = "OpenSSL 1.1.1w  11 Sep 2023\nbuilt on: x\ncompiler: gcc -DOPENSSL_TLS_SECURITY_LEVEL=2 -O2\n\
                    OPENSSLDIR: \"/usr/lib/ssl\"\n";
        let mut t = Tool::new("openssl", Path::new("/usr/bin/openssl"));
        parse_version_a(text, &mut t);
        assert_eq!(t.tls_library_version.as_deref(), Some("1.1.1w"));
        assert_eq!(t.openssl_dir, Some(PathBuf::from("/usr/lib/ssl")));
        assert_eq!(t.default_security_level, Some(2));
        assert_eq!(t.max_tls.as_deref(), Some("TLSv1.3"));
    }
}
