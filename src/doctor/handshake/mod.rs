//! The doctor's rules for handshake-level causes that have a name of their own: limits a
//! client applies while it reads the server's flight (a Certificate message too large, a
//! DHE prime of a size the client cannot use). Each rule reads the measured facts and the
//! simulated clients that failed for that cause.

mod limits;

use super::evidence::Evidence;
use crate::finding::Finding;
use crate::scan::ServerScan;

/// The findings of these rules, appended to `out`.
pub fn findings(ev: &Evidence, scan: &ServerScan, out: &mut Vec<Finding>) {
    out.extend(limits::certificate_message(ev));
    out.extend(limits::dh_prime_size(ev, scan));
}
