//! Cipher suites that need a certificate the server does not have: a TLS 1.2 server whose
//! suite list is ECDHE-ECDSA only while it holds an RSA certificate (or the reverse) can
//! use none of its suites, and refuses every hello with handshake_failure. Clients, which
//! offer both ECDSA and RSA suites, read that as "no shared cipher", and the generic finding
//! ("the server accepts none of the hellos") names nothing to change. When every hello was
//! refused that way although the hellos between them offered suites for both key types,
//! this rule names the mismatch as the reading, says how to confirm it on the server, and
//! keeps the other reading (a front end refusing the server name) open.

use super::super::diagnose::add_breaks;
use super::super::evidence::Evidence;
use crate::finding::catalogue::finding;
use crate::finding::{Finding, FindingId};
use crate::probe::ProbeOutcome;
use crate::scan::ScanError;
use crate::wire::{AlertDescription, ClientHello};

/// Whether `hello` offers a TLS 1.2 suite authenticated by `auth` ("RSA", "ECDSA").
fn offers(hello: &ClientHello, auth: &str) -> bool {
    hello
        .cipher_suites
        .iter()
        .filter_map(|s| s.info())
        .any(|s| s.auth == auth && s.kx != "any")
}

pub fn suites_need_other_certificate(ev: &Evidence, out: &mut Vec<Finding>) {
    let Err(ScanError::NoTls { reason, .. }) = &ev.observed.scan else {
        return;
    };
    // Without a server name the SNI rules speak first (a name-based server reached by IP).
    let Some(name) = &ev.observed.sni else {
        return;
    };
    let replies: Vec<_> = ev
        .observed
        .replies
        .iter()
        .filter_map(|r| Some((r.client.as_str(), r.answer.as_ref()?)))
        .collect();
    let alert = |o: &ProbeOutcome, d: AlertDescription| matches!(o, ProbeOutcome::Alert(a) if a.description == d);
    // Clients too old for the server's versions get protocol_version; every other one
    // handshake_failure.
    let every_alert = replies.iter().all(|(_, o)| {
        alert(o, AlertDescription::HandshakeFailure) || alert(o, AlertDescription::ProtocolVersion)
    });
    if !every_alert {
        return;
    }
    let hellos: Vec<(&str, ClientHello)> = replies
        .iter()
        .filter(|(_, o)| alert(o, AlertDescription::HandshakeFailure))
        .filter_map(|(id, _)| {
            let p = ev.profiles.iter().find(|p| p.id == *id)?;
            Some((
                p.name.as_str(),
                ClientHello::parse_record(&p.hello_bytes()).ok()?,
            ))
        })
        .collect();
    let both: Vec<&str> = hellos
        .iter()
        .filter(|(_, h)| offers(h, "RSA") && offers(h, "ECDSA"))
        .map(|(n, _)| *n)
        .collect();
    if both.is_empty() {
        return;
    }
    let Some(pos) = out.iter().position(|f| f.id == FindingId::ServerClosed) else {
        return;
    };
    let generic = out.remove(pos);
    let mut f = finding(FindingId::SuitesNeedOtherCertificate, &[])
        .evidence(format!(
            "every hello was refused with alert handshake_failure before any ServerHello: tlsdoctor's version probes and the {} simulated clients'",
            replies.len()
        ))
        .evidence(format!(
            "{} of them offered both ECDHE-RSA and ECDHE-ECDSA suites ({}), and tlsdoctor's probes offered every suite it knows: a server with any suite its certificate can serve would have accepted one",
            both.len(),
            both.join("; ")
        ))
        .evidence(reason.clone())
        .evidence(format!(
            "the other reading: a front end that refuses the server name {name} with handshake_failure (HAProxy strict-sni does) would accept hellos for a name it serves"
        ));
    add_breaks(&mut f, ev.simulations.iter().filter(|s| !s.connects));
    for b in generic.breaks {
        if !f.breaks.iter().any(|x| x.key == b.key) {
            f.breaks.push(b);
        }
    }
    out.insert(pos, f);
}
