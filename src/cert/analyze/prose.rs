//! How the analysis names certificates and stores in titles and evidence.

use super::super::describe::CertInfo;
use super::super::stores::TrustStore;

/// "server", "intermediate" or "root": the certificate at `pos` of the evaluated path.
pub(super) fn role_name(pos: usize, i: &CertInfo) -> &'static str {
    if pos == 0 {
        "server"
    } else if i.self_issued {
        "root"
    } else {
        "intermediate"
    }
}

/// A store as listed in "checked: …" evidence.
pub(super) fn store_label(s: &TrustStore) -> String {
    format!("{} store ({})", s.name, s.source)
}

/// A certificate's subject as Java prints it in its errors: the RDNs last first (RFC 2253
/// order), `TYPE=value` joined by ", ".
pub(super) fn java_dn(c: &x509_parser::prelude::X509Certificate<'_>) -> String {
    use x509_parser::objects::{oid_registry, oid2abbrev};
    let rdns: Vec<_> = c.subject().iter_rdn().collect();
    rdns.iter()
        .rev()
        .flat_map(|rdn| rdn.iter())
        .map(|a| {
            let name = oid2abbrev(a.attr_type(), oid_registry())
                .map(str::to_string)
                .unwrap_or_else(|_| a.attr_type().to_id_string());
            format!("{name}={}", a.as_str().unwrap_or("?"))
        })
        .collect::<Vec<_>>()
        .join(", ")
}
