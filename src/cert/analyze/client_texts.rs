//! The texts each client prints for a certificate cause, from the client wording catalogue
//! (data/client-errors.toml), added to a finding's `breaks`.

use crate::clients::{CertCause, CertVars, ErrorStyle};
use crate::finding::Finding;

/// [`cause_breaks_full`] for a cause every client reports, Node's text without altnames.
pub(super) fn cause_breaks(f: Finding, key: CertCause, host: &str) -> Finding {
    cause_breaks_full(f, key, host, "", true)
}

/// Add the texts each client prints for `key`. `altnames` fills Node's hostname message;
/// `with_node` is false where Node is not affected or its text is unknown for this variant.
pub(super) fn cause_breaks_full(
    mut f: Finding,
    key: CertCause,
    host: &str,
    altnames: &str,
    with_node: bool,
) -> Finding {
    let leave_out: &[ErrorStyle] = if with_node { &[] } else { &[ErrorStyle::Node] };
    let w = crate::clients::certificate_breaks(key, CertVars { host, altnames }, leave_out);
    f.breaks.extend(w.breaks);
    f.evidence.extend(w.evidence);
    f
}
