//! The texts each client prints for a certificate cause (data/cert-errors.toml), added to a
//! finding's `breaks`.

use super::super::data;
use crate::finding::Finding;

/// Client names used in `breaks`.
pub const OPENSSL_CLIENT: &str = "OpenSSL 3 (openssl s_client, curl)";
pub const PYTHON_CLIENT: &str = "Python ssl (OpenSSL 3)";
pub const NODE_CLIENT: &str = "Node.js 20 (tls)";
pub const CURL_CLIENT: &str = "curl 7.88 (OpenSSL 3)";

/// [`cause_breaks_full`] for a cause every client reports, Node's text without altnames.
pub(super) fn cause_breaks(f: Finding, key: &str, host: &str) -> Finding {
    cause_breaks_full(f, key, host, "", true)
}

/// Add the texts each client prints for `key` (from data/cert-errors.toml). `altnames` fills
/// Node's hostname message; `with_node` is false where Node is not affected or its text is
/// unknown for this variant.
pub(super) fn cause_breaks_full(
    mut f: Finding,
    key: &str,
    host: &str,
    altnames: &str,
    with_node: bool,
) -> Finding {
    if let Some(c) = data::cause(key) {
        f = f
            .breaks(OPENSSL_CLIENT, c.openssl.clone())
            .breaks(PYTHON_CLIENT, c.python.replace("{host}", host));
        if let Some(curl) = &c.curl {
            f = f.breaks(CURL_CLIENT, curl.replace("{host}", host));
        }
        if with_node {
            if let Some(node) = &c.node {
                f = f.breaks(
                    NODE_CLIENT,
                    node.replace("{host}", host).replace("{altnames}", altnames),
                );
            }
            if c.node_accepts {
                f = f.evidence(
                    "Node.js 20 (tls) accepts this (measured): only OpenSSL-default clients fail",
                );
            }
        }
        if let Some(note) = &c.note {
            f = f.evidence(format!("note: {note}"));
        }
    }
    f
}
