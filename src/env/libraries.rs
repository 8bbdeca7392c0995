//! The TLS shared libraries the dynamic loader knows (`ldconfig -p`), each with its version:
//! from the version string inside the library file when there is one, else from the soname.

use super::exec::{self, is_executable, which};
use super::version::{self, Family, parse_banner};
use serde::Serialize;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Library files larger than this are not read for their version string.
const MAX_LIB_BYTES: u64 = 32 << 20;

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

/// Every TLS library `ldconfig -p` lists, one entry per real file. Empty without ldconfig.
pub(crate) async fn find_all(env: &HashMap<String, String>, t: Duration) -> Vec<TlsLibrary> {
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
    tokio::task::spawn_blocking(move || describe(listed))
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

fn describe(listed: Vec<(&'static str, String, PathBuf)>) -> Vec<TlsLibrary> {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ldconfig_parsing() {
        let text = "\tlibssl.so.3 (libc6,x86-64) => /lib/x86_64-linux-gnu/libssl.so.3\n\
                    \tlibgnutls-dane.so.0 (libc6,x86-64) => /lib/x\n\
                    \tlibgnutls.so.30 (libc6,x86-64) => /lib/y\n";
        let l = parse_ldconfig(text);
        assert_eq!(l.len(), 2);
        assert_eq!(l[1].0, "GnuTLS");
        assert_eq!(
            sibling_libcrypto(Path::new("/lib/libssl.so.3")),
            Some(PathBuf::from("/lib/libcrypto.so.3"))
        );
    }
}
