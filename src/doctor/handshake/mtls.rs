//! mTLS with the user's certificate (`--cert`): a server that rejects it says why in its
//! alert (unknown_ca, certificate_expired), and that rejection, not "a certificate is
//! required", is what the user's clients hit. Java's key manager is the exception: it sends
//! no certificate at all when its issuer is not among the CAs the server lists.
//!
//! A TLS ≤ 1.2 server whose suites rustls cannot negotiate (static RSA, DHE or CBC only) can
//! be seen to require a certificate (the scan answers its request with an empty one), but the
//! user's certificate cannot be presented there: the diagnosis says it could not verify that
//! the server accepts it, instead of predicting the no-certificate failure. Only the issuer
//! can be checked, against the CAs the server lists.

use super::super::Examination;
use super::super::diagnose::{add_breaks, failing};
use super::super::evidence::{Evidence, Observation};
use crate::cert::fetch::IncompleteHandshake;
use crate::finding::catalogue::finding;
use crate::finding::variant;
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

/// The CA names the scan's raw TLS ≤ 1.2 probe saw in the CertificateRequest, as DER.
fn raw_listed_cas(observed: &Observation) -> Vec<Vec<u8>> {
    observed
        .scan
        .as_ref()
        .map(|s| {
            s.properties
                .client_certificate
                .ca_names_der
                .iter()
                .filter_map(|h| hex::decode(h).ok())
                .collect()
        })
        .unwrap_or_default()
}

fn name_of(der: &[u8]) -> String {
    use x509_parser::prelude::FromDer;
    match x509_parser::x509::X509Name::from_der(der) {
        Ok((_, n)) => crate::cert::name::name_text(&n),
        Err(_) => hex::encode(der),
    }
}

/// With `--cert`: the server requires a certificate in TLS ≤ 1.2, but no handshake there
/// presented the user's (rustls speaks none of the server's TLS 1.2 suites). Marks it, and
/// checks the certificate's issuer against the CAs the raw probe saw listed.
pub fn client_cert_untested(observed: &Observation, with: &Examination, facts: &mut ServerFacts) {
    let Some(key) = &with.client_key else {
        return;
    };
    let presented_tls12 = observed
        .client_cert_presented
        .iter()
        .any(|(v, _)| *v != ProtocolVersion::Tls13);
    if facts.client_cert_alert_tls12.is_none() || presented_tls12 {
        return;
    }
    facts.client_cert_untested_tls12 = true;
    let listed = raw_listed_cas(observed);
    let issuer = key
        .cert
        .first()
        .and_then(|der| x509_parser::parse_x509_certificate(der).ok())
        .map(|(_, c)| c.issuer().as_raw().to_vec());
    if let (false, Some(issuer), None) =
        (listed.is_empty(), issuer, facts.client_cert_issuer_listed)
    {
        facts.client_cert_issuer_listed = Some(listed.contains(&issuer));
    }
}

/// The user's certificate could not be presented in TLS ≤ 1.2: say so instead of "a
/// certificate is required", which stays only for clients that send none.
pub fn untested_certificate(ev: &Evidence, out: &mut Vec<Finding>) {
    let f = &ev.facts;
    if !f.client_cert_untested_tls12 {
        return;
    }
    let not_listed = f.client_cert_issuer_listed == Some(false);
    let form = if not_listed {
        variant::client_cert_unverified::ISSUER_NOT_LISTED
    } else {
        FindingId::ClientCertUnverified.into()
    };
    let mut u = finding(form, &[]);
    if let Some(a) = f.client_cert_alert_tls12 {
        u = u.evidence(format!(
            "TLS 1.2: the server asks for a client certificate and, when none comes, aborts with alert {}",
            a.name()
        ));
    }
    if let Ok(scan) = &ev.observed.scan {
        let suites: Vec<String> = scan
            .cipher_suites
            .iter()
            .filter(|vs| vs.version <= ProtocolVersion::Tls12)
            .flat_map(|vs| &vs.suites)
            .map(|s| s.openssl.clone().unwrap_or_else(|| s.iana.clone()))
            .collect();
        u = u.evidence(format!(
            "the server's TLS 1.2 cipher suites ({}) are ones rustls, tlsdoctor's TLS library for full handshakes, cannot negotiate: it could not present your certificate there and see the server's verdict",
            if suites.is_empty() { "none found".to_string() } else { suites.join(", ") }
        ));
    }
    let listed: Vec<String> = raw_listed_cas(&ev.observed)
        .iter()
        .map(|d| name_of(d))
        .collect();
    if !listed.is_empty() {
        let verdict = match f.client_cert_issuer_listed {
            Some(true) => "your certificate's issuer is among them",
            Some(false) => {
                "your certificate's issuer is not among them: a server that verifies against that list rejects it with alert unknown_ca"
            }
            None => "whether your certificate's issuer is among them is not known",
        };
        u = u.evidence(format!(
            "acceptable CAs the server lists: {}; {verdict}",
            listed.join("; ")
        ));
    }
    if not_listed {
        add_breaks(&mut u, failing(ev, FindingId::ClientCertUnverified));
    } else {
        u = u.evidence("the simulated clients are judged as presenting your certificate and having it accepted; the server's verification of it was not tested");
    }
    let sends_none: Vec<_> = failing(ev, FindingId::ClientCertRequired).collect();
    if sends_none.is_empty() {
        out.retain(|x| x.id != FindingId::ClientCertRequired);
    } else if not_listed {
        u = u.evidence("clients that choose their certificate by the server's CA list (Java's key manager) send none at all and fail as clients without a certificate");
        add_breaks(&mut u, sends_none.into_iter());
    }
    let at = out
        .iter()
        .position(|x| x.id == FindingId::ClientCertRequired)
        .unwrap_or(out.len());
    out.insert(at, u);
}
