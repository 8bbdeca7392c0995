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
