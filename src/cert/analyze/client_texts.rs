//! The texts each client prints for a certificate cause, from the client wording catalogue
//! (data/client-errors.toml), added to a finding's `breaks`; and which listed clients a
//! key-size or digest problem affects, from their profiles' limits (data/clients/*.toml).

use crate::clients::{
    CertCause, CertVars, ClientPolicy, ErrorStyle, chain_analysis_styles, profile_for_style,
};
use crate::finding::Finding;

/// [`cause_breaks_full`] for a cause every client reports, Node's text without altnames.
pub(super) fn cause_breaks(f: Finding, key: CertCause, host: &str) -> Finding {
    cause_breaks_with(f, key, CertVars::host(host), &[])
}

/// Add the texts each client prints for `key`. `altnames` fills Node's hostname message;
/// `with_node` is false where Node is not affected or its text is unknown for this variant.
pub(super) fn cause_breaks_full(
    f: Finding,
    key: CertCause,
    host: &str,
    altnames: &str,
    with_node: bool,
) -> Finding {
    let leave_out: &[ErrorStyle] = if with_node { &[] } else { &[ErrorStyle::Node] };
    cause_breaks_with(
        f,
        key,
        CertVars {
            altnames,
            ..CertVars::host(host)
        },
        leave_out,
    )
}

/// Add the texts each listed client prints for `key`, leaving out the styles in `leave_out`
/// (measured to accept this case).
pub(super) fn cause_breaks_with(
    mut f: Finding,
    key: CertCause,
    vars: CertVars<'_>,
    leave_out: &[ErrorStyle],
) -> Finding {
    let w = crate::clients::certificate_breaks(key, vars, leave_out);
    f.breaks.extend(w.breaks);
    f.evidence.extend(w.evidence);
    f
}

/// The listed styles whose client profile accepts what `accepts` tests, each with its
/// client's name (for the evidence). A style without a profile is judged by OpenSSL 3's
/// default level, as the chain analysis judges everything else.
pub(super) fn styles_accepting(
    accepts: impl Fn(&ClientPolicy) -> bool,
) -> Vec<(ErrorStyle, String)> {
    chain_analysis_styles()
        .iter()
        .filter_map(|&s| {
            let p = profile_for_style(s)?;
            accepts(&p.policy).then(|| (s, p.name.clone()))
        })
        .collect()
}
