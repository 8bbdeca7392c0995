//! Cipher suites that need a certificate the server does not have: a server whose TLS 1.2
//! suite list is ECDHE-ECDSA only while it holds an RSA certificate (or the reverse) can use
//! none of its TLS ≤ 1.2 suites, and refuses every such hello with handshake_failure.
//! Clients, which offer both ECDSA and RSA suites, read that as "no shared cipher", and the
//! generic finding ("the server accepts none of the hellos") names nothing to change.
//!
//! Two measurements show it. Without TLS 1.3, every hello was refused that way although the
//! hellos between them offered suites for both key types. With TLS 1.3 (whose suites do not
//! depend on the certificate's type), the TLS 1.2 version probe, which offers every suite
//! tlsdoctor knows, was refused with handshake_failure while TLS 1.3 was accepted: clients
//! that speak TLS 1.3 connect, those limited to TLS 1.2 are refused. [`detect`] reads either
//! into a fact the simulation names each refused client's cause by; the rules here name the
//! mismatch as the reading, say how to confirm it on the server, and keep the other reading
//! (a front end refusing the server name) open.

use super::super::diagnose::{add_breaks, failing};
use super::super::evidence::{Evidence, Observation};
use crate::clients::ClientProfile;
use crate::finding::catalogue::finding;
use crate::finding::{Finding, FindingId, variant};
use crate::probe::ProbeOutcome;
use crate::scan::ScanError;
use crate::simulate::SuitesMismatch;
use crate::wire::{AlertDescription, ClientHello, ProtocolVersion};

/// Whether `hello` offers a TLS 1.2 suite authenticated by `auth` ("RSA", "ECDSA").
fn offers(hello: &ClientHello, auth: &str) -> bool {
    hello
        .cipher_suites
        .iter()
        .filter_map(|s| s.info())
        .any(|s| s.auth == auth && s.kx != "any")
}

fn alert(o: &ProbeOutcome, d: AlertDescription) -> bool {
    matches!(o, ProbeOutcome::Alert(a) if a.description == d)
}

/// The names of the simulated clients refused with handshake_failure whose hello offered
/// suites for both RSA and ECDSA certificates, when every reply was such a refusal (or a
/// protocol_version alert, for clients too old for the server's versions); None otherwise.
fn refused_although_both_offered(
    observed: &Observation,
    profiles: &[ClientProfile],
) -> Option<Vec<String>> {
    let replies: Vec<_> = observed
        .replies
        .iter()
        .filter_map(|r| Some((r.client.as_str(), r.answer.as_ref()?)))
        .collect();
    let every_alert = replies.iter().all(|(_, o)| {
        alert(o, AlertDescription::HandshakeFailure) || alert(o, AlertDescription::ProtocolVersion)
    });
    if !every_alert {
        return None;
    }
    let both: Vec<String> = replies
        .iter()
        .filter(|(_, o)| alert(o, AlertDescription::HandshakeFailure))
        .filter_map(|(id, _)| {
            let p = profiles.iter().find(|p| p.id == *id)?;
            let h = ClientHello::parse_record(&p.hello_bytes()).ok()?;
            (offers(&h, "RSA") && offers(&h, "ECDSA")).then(|| p.name.clone())
        })
        .collect();
    (!both.is_empty()).then_some(both)
}

/// What the observation shows about the server's suites and its certificate; `key_type` is
/// the presented leaf's ("" when no chain was seen).
pub fn detect(
    observed: &Observation,
    profiles: &[ClientProfile],
    key_type: &str,
) -> Option<SuitesMismatch> {
    match &observed.scan {
        // Without a server name the SNI rules speak first (a name-based server reached by IP).
        Err(ScanError::NoTls { .. }) if observed.sni.is_some() => {
            refused_although_both_offered(observed, profiles)?;
            Some(SuitesMismatch {
                tls13_works: false,
                key_type: None,
            })
        }
        Ok(scan) => {
            let tls12 = scan.protocols.get(ProtocolVersion::Tls12)?;
            let refused = !tls12.accepted && alert(&tls12.raw, AlertDescription::HandshakeFailure);
            let tls13 = scan.accepted_versions().contains(&ProtocolVersion::Tls13);
            (refused && tls13 && !key_type.is_empty()).then(|| SuitesMismatch {
                tls13_works: true,
                key_type: Some(key_type.to_string()),
            })
        }
        Err(_) => None,
    }
}

/// The other reading, for the evidence.
fn other_reading(name: &str) -> String {
    format!(
        "the other reading: a front end that refuses the server name {name} with handshake_failure (HAProxy strict-sni does) would accept hellos for a name it serves"
    )
}

/// No version works: the mismatch replaces the generic "the server accepts none of the
/// hellos".
pub fn suites_need_other_certificate(ev: &Evidence, out: &mut Vec<Finding>) {
    let (Err(ScanError::NoTls { reason, .. }), Some(name)) = (&ev.observed.scan, &ev.observed.sni)
    else {
        return;
    };
    if ev
        .facts
        .suites_need_other_certificate
        .as_ref()
        .is_none_or(|m| m.tls13_works)
    {
        return;
    }
    let Some(both) = refused_although_both_offered(&ev.observed, &ev.profiles) else {
        return;
    };
    let Some(pos) = out.iter().position(|f| f.id == FindingId::ServerClosed) else {
        return;
    };
    let generic = out.remove(pos);
    let replies = ev
        .observed
        .replies
        .iter()
        .filter(|r| r.answer.is_some())
        .count();
    let mut f = finding(FindingId::SuitesNeedOtherCertificate, &[])
        .evidence(format!(
            "every hello was refused with alert handshake_failure before any ServerHello: tlsdoctor's version probes and the {replies} simulated clients'"
        ))
        .evidence(format!(
            "{} of them offered both ECDHE-RSA and ECDHE-ECDSA suites ({}), and tlsdoctor's probes offered every suite it knows: a server with any suite its certificate can serve would have accepted one",
            both.len(),
            both.join("; ")
        ))
        .evidence(reason.clone())
        .evidence(other_reading(name));
    add_breaks(&mut f, ev.simulations.iter().filter(|s| !s.connects));
    for b in generic.breaks {
        if !f.breaks.iter().any(|x| x.key == b.key) {
            f.breaks.push(b);
        }
    }
    out.insert(pos, f);
}

/// TLS 1.3 works, TLS 1.2 refuses every suite: the clients limited to TLS 1.2 are refused
/// (a warning when none of those examined is).
pub fn tls12_suites_need_other_certificate(ev: &Evidence) -> Option<Finding> {
    let m = ev.facts.suites_need_other_certificate.as_ref()?;
    let key_type = m.key_type.clone().filter(|_| m.tls13_works)?;
    let refused: Vec<_> = failing(ev, FindingId::SuitesNeedOtherCertificate).collect();
    let form = if refused.is_empty() {
        variant::suites_need_other_certificate::TLS12_NO_CLIENT_FAILS
    } else {
        variant::suites_need_other_certificate::TLS12
    };
    let tls12 = ev
        .observed
        .scan
        .as_ref()
        .ok()
        .and_then(|s| s.protocols.get(ProtocolVersion::Tls12))
        .map(|r| r.evidence.clone())
        .unwrap_or_default();
    let mut f = finding(form, &[("key_type", key_type.clone())])
        .evidence(format!(
            "TLS 1.2: tlsdoctor's version probe offered every cipher suite it knows, for RSA and ECDSA certificates alike, and got {tls12}: a server with any TLS 1.2 suite its certificate can serve would have accepted one"
        ))
        .evidence(format!(
            "TLS 1.3 is accepted with the server's {key_type} certificate: TLS 1.3 suites do not depend on the certificate's type, so clients that speak TLS 1.3 connect"
        ));
    if refused.is_empty() {
        f = f.evidence("none of the clients examined is limited to TLS 1.2; clients that are (a TLS library without TLS 1.3, such as OpenSSL before 1.1.1, or a client configured with a TLS 1.2 maximum) are refused");
    }
    for s in &refused {
        if let Some(x) = &s.failure {
            f = f.evidence(format!("{}: {}", s.client_name, x.reason));
        }
    }
    if let Some(name) = &ev.observed.sni {
        f = f.evidence(other_reading(name));
    }
    add_breaks(&mut f, refused.into_iter());
    Some(f)
}
