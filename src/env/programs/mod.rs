//! The local programs `tlsdoctor env` asks about their TLS stack, one module per program. Each
//! finds its program (`None` when absent) and runs it under a timeout; a program that fails or
//! times out still gives an item, with `error` set.
//!
//! The scripts the interpreters run live beside this module in `env/scripts/`, so they can be
//! read and linted as the Python and JavaScript they are.

pub(crate) mod curl;
pub(crate) mod java;
pub(crate) mod node;
pub(crate) mod openssl;
pub(crate) mod python;

use serde::Serialize;
use std::path::{Path, PathBuf};

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
    pub fn new(name: &str, path: &Path) -> Tool {
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
