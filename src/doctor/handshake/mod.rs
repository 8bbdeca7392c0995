//! The doctor's rules for handshake-level causes that have a name of their own: limits a
//! client applies while it reads the server's flight (a Certificate message too large, a
//! DHE prime of a size the client cannot use), and refusals with a specific reason (an
//! enforced ALPN list, no shared key exchange group, the user's client certificate
//! rejected, a certificate required only at the HTTP level). Each rule reads the measured
//! facts and the simulated clients that
//! failed for that cause.

mod alpn;
mod closes;
mod groups;
mod http_level;
mod limits;
mod mtls;
mod suites_certificate;

pub use closes::closed_without_alert;
pub use mtls::{client_cert_facts, client_cert_untested};
pub use suites_certificate::{detect as suites_mismatch, suites_need_other_certificate};

use super::evidence::Evidence;
use crate::finding::Finding;
use crate::scan::ServerScan;

/// The findings of these rules, appended to `out`.
pub fn findings(ev: &Evidence, scan: &ServerScan, out: &mut Vec<Finding>) {
    out.extend(limits::certificate_message(ev));
    out.extend(limits::dh_prime_size(ev, scan));
    out.extend(alpn::alpn_enforced(scan));
    out.extend(groups::no_shared_group(ev, scan));
    out.extend(http_level::required_at_http_level(ev));
    out.extend(suites_certificate::tls12_suites_need_other_certificate(ev));
    mtls::lead_with_rejection(ev, out);
    mtls::untested_certificate(ev, out);
}

/// The scan's groups and suites as the simulation names a refusal's cause from them.
pub fn server_kx(scan: &ServerScan) -> crate::simulate::ServerKx {
    let kx = &scan.key_exchange;
    let mut out = crate::simulate::ServerKx {
        groups: kx
            .tls13_groups
            .iter()
            .chain(&kx.ecdhe_curves)
            .map(|g| g.id)
            .collect(),
        ..Default::default()
    };
    out.groups.dedup();
    for vs in &scan.cipher_suites {
        for s in &vs.suites {
            let Some(id) =
                s.id.strip_prefix("0x")
                    .and_then(|h| u16::from_str_radix(h, 16).ok())
            else {
                continue;
            };
            if vs.version == crate::wire::ProtocolVersion::Tls13 || s.kx == "ECDHE" {
                out.suites_needing_group.push(id);
            } else {
                out.other_suites.push(id);
            }
        }
    }
    out
}
