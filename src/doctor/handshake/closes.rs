//! A server that reads every hello and hangs up without a byte: no TLS server refuses that
//! way (it would send an alert such as unrecognized_name), but a front end that routes by
//! SNI without terminating TLS does when it has no route for the name. Named as that
//! reading, with the other one, instead of "the server closes the connection".

use super::super::evidence::Evidence;
use crate::finding::catalogue::finding;
use crate::finding::{Finding, FindingId};
use crate::probe::ProbeOutcome;
use crate::scan::ScanError;

/// Replace the every-hello close in `out` with the SNI-routing reading when every hello,
/// tlsdoctor's and each simulated client's, was closed with nothing sent back.
pub fn closed_without_alert(ev: &Evidence, out: &mut Vec<Finding>) {
    if !matches!(ev.observed.scan, Err(ScanError::NoTls { .. })) {
        return;
    }
    let replies = &ev.observed.replies;
    let all_closed = !replies.is_empty()
        && replies
            .iter()
            .all(|r| matches!(r.answer, Some(ProbeOutcome::Closed { bytes_received: 0 })));
    if !all_closed {
        return;
    }
    let Some(pos) = out.iter().position(|f| f.id == FindingId::ServerClosed) else {
        return;
    };
    let closed = out.remove(pos);
    let name = match &ev.observed.sni {
        Some(n) => n.clone(),
        None => "hellos without a server name".into(),
    };
    let mut f = finding(FindingId::ClosedOnServerName, &[("name", name)])
        .evidence(format!(
            "every hello (tlsdoctor's version probes and each of the {} simulated clients') was answered with a close and no byte",
            replies.len()
        ))
        .evidence("no TLS alert came: a TLS server that does not serve a name says unrecognized_name, a router that never terminates TLS can only hang up");
    f = match &ev.observed.sni {
        Some(n) => f.evidence(format!("the hellos carried the server name {n}")),
        None => f.evidence(
            "no server name was sent (the target is an IP address and no --sni was given)",
        ),
    };
    f.evidence.extend(closed.evidence);
    f.breaks = closed.breaks;
    out.insert(pos, f);
}
