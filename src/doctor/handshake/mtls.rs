//! mTLS with the user's certificate (`--cert`): a server that rejects it says why in its
//! alert (unknown_ca, certificate_expired), and that rejection, not "a certificate is
//! required", is what the user's clients hit. Java's key manager is the exception: it sends
//! no certificate at all when its issuer is not among the CAs the server lists.

use super::super::Examination;
use super::super::diagnose::{add_breaks, failing};
use super::super::evidence::{Evidence, Observation};
use crate::cert::fetch::IncompleteHandshake;
use crate::finding::{Finding, FindingId};
use crate::simulate::ServerFacts;
use crate::wire::ProtocolVersion;

/// The alert a handshake that presented the user's certificate ended with.
fn alert_of(inc: &IncompleteHandshake) -> Option<crate::wire::AlertDescription> {
    match inc {
        IncompleteHandshake::AfterCertificates(f) => f.alert(),
        IncompleteHandshake::Before(e) => e.alert(),
    }
}

/// The CAs the server lists in its CertificateRequest (from the full handshakes).
fn listed_cas(observed: &Observation) -> Option<&[String]> {
    observed.handshakes.iter().find_map(|(_, r)| {
        let names = &r.as_ref().ok()?.client_cert_request.as_ref()?.ca_names;
        (!names.is_empty()).then_some(names.as_slice())
    })
}

/// The rejection of the user's certificate, per version, and whether its issuer is listed.
pub fn client_cert_facts(observed: &Observation, with: &Examination, facts: &mut ServerFacts) {
    for (v, verdict) in &observed.client_cert_presented {
        let Some(alert) = verdict.as_ref().and_then(alert_of) else {
            continue;
        };
        match v {
            ProtocolVersion::Tls13 => facts.client_cert_rejected_tls13 = Some(alert),
            _ => facts.client_cert_rejected_tls12 = Some(alert),
        }
    }
    let issuer = with
        .client_key
        .as_ref()
        .and_then(|k| k.cert.first())
        .and_then(|der| x509_parser::parse_x509_certificate(der).ok())
        .map(|(_, c)| c.issuer().to_string());
    if let (Some(names), Some(issuer)) = (listed_cas(observed), issuer) {
        facts.client_cert_issuer_listed = Some(names.contains(&issuer));
    }
}

/// When the server rejected the user's certificate: that finding leads, with the alert and
/// each client's text for it; "a certificate is required" stays only for clients that send
/// none (Java, when the issuer is not listed).
pub fn lead_with_rejection(ev: &Evidence, out: &mut Vec<Finding>) {
    let f = &ev.facts;
    let alerts = [
        ("TLS 1.2", f.client_cert_rejected_tls12),
        ("TLS 1.3", f.client_cert_rejected_tls13),
    ];
    if alerts.iter().all(|(_, a)| a.is_none()) {
        return;
    }
    // One finding per version was made; they become one, with every version's evidence.
    let mut each = Vec::new();
    out.retain(|x| {
        let keep = x.id != FindingId::ClientCertRejected;
        if !keep {
            each.push(x.clone());
        }
        keep
    });
    let mut each = each.into_iter();
    let Some(mut rejected) = each.next() else {
        return;
    };
    for other in each {
        rejected.evidence.extend(other.evidence);
    }
    for (v, a) in alerts {
        if let Some(a) = a {
            rejected = rejected.evidence(format!(
                "{v}: the server rejected the certificate with alert {}",
                a.name()
            ));
        }
    }
    add_breaks(&mut rejected, failing(ev, FindingId::ClientCertRejected));
    let sends_none: Vec<_> = failing(ev, FindingId::ClientCertRequired).collect();
    if f.client_cert_issuer_listed == Some(false) {
        let names = listed_cas(&ev.observed)
            .map(|n| n.join("; "))
            .unwrap_or_default();
        rejected = rejected.evidence(format!(
            "the certificate's issuer is not among the CAs the server lists ({names}): clients that choose their certificate by that list (Java's key manager) send none at all and fail as clients without a certificate"
        ));
        add_breaks(&mut rejected, sends_none.iter().copied());
    }
    if sends_none.is_empty() {
        out.retain(|x| x.id != FindingId::ClientCertRequired);
    }
    let at = out
        .iter()
        .position(|x| x.id == FindingId::ClientCertRequired)
        .unwrap_or(out.len());
    out.insert(at.min(out.len()), rejected);
}
