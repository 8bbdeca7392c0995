//! Validity periods: expired, not yet valid, expiring soon.

use x509_parser::prelude::X509Certificate;

use super::super::EXPIRES_SOON_DAYS;
use super::super::client_texts::{cause_breaks, cause_breaks_with};
use super::super::prose::role_name;
use super::super::prose::store_label;
use crate::cert::describe::{CertInfo, rfc3339};
use crate::cert::stores::TrustStore;
use crate::clients::{CertCause, CertVars, ErrorStyle};
use crate::finding::catalogue::finding;
use crate::finding::{Finding, FindingId, variant};

/// `store_anchor`: the last certificate of `eval` is the root a store holds (not sent by the
/// server), and this is that store.
pub(crate) fn validity_findings(
    f: &mut Vec<Finding>,
    eval: &[(&X509Certificate<'_>, &CertInfo)],
    now: i64,
    host: &str,
    store_anchor: Option<&TrustStore>,
) {
    let now_text = rfc3339(now);
    for (pos, (_, i)) in eval.iter().enumerate() {
        let role = role_name(pos, i);
        let from_store = pos + 1 == eval.len() && pos > 0 && store_anchor.is_some();
        if now > i.not_after_unix && from_store {
            f.push(expired_anchor(i, store_anchor, &now_text, host));
        } else if now > i.not_after_unix {
            let form = if pos == 0 {
                FindingId::CertExpired.into()
            } else {
                variant::cert_expired::CA
            };
            let vars = [
                ("role", role.to_string()),
                ("subject", i.subject.clone()),
                ("not_after", i.not_after.clone()),
            ];
            let x = finding(form, &vars)
                .evidence(format!(
                    "notAfter {} < now {now_text} ({} days ago)",
                    i.not_after, -i.days_left
                ))
                .evidence(format!("valid from {} to {}", i.not_before, i.not_after));
            f.push(cause_breaks(x, CertCause::Expired, host));
        } else if now < i.not_before_unix {
            let vars = [
                ("role", role.to_string()),
                ("subject", i.subject.clone()),
                ("not_before", i.not_before.clone()),
            ];
            let x = finding(FindingId::CertNotYetValid, &vars)
                .evidence(format!("notBefore {} > now {now_text}", i.not_before))
                .evidence(format!("valid from {} to {}", i.not_before, i.not_after));
            f.push(cause_breaks(x, CertCause::NotYetValid, host));
        } else if i.days_left <= EXPIRES_SOON_DAYS {
            let vars = [
                ("role", role.to_string()),
                ("subject", i.subject.clone()),
                ("days", i.days_left.to_string()),
            ];
            f.push(
                finding(FindingId::CertExpiresSoon, &vars)
                    .evidence(format!("notAfter {} (now {now_text})", i.not_after)),
            );
        }
    }
}

/// The root of the client's own store has expired: the client's store is out of date, not the
/// server's chain. Java does not check a trust anchor's validity and connects (measured).
fn expired_anchor(i: &CertInfo, store: Option<&TrustStore>, now_text: &str, host: &str) -> Finding {
    let store_text = store.map(store_label).unwrap_or_default();
    let vars = [
        ("subject", i.subject.clone()),
        ("store", store_text.clone()),
        ("not_after", i.not_after.clone()),
    ];
    let x = finding(FindingId::CertTrustAnchorExpired, &vars)
        .evidence(format!(
            "the chain ends at \"{}\", which the server does not send: the client's {store_text} holds it",
            i.subject
        ))
        .evidence(format!(
            "notAfter {} < now {now_text} ({} days ago)",
            i.not_after, -i.days_left
        ))
        .evidence("a cross-signed chain reaches this old root; clients whose store has the CA's newer root build the path to that one instead")
        .evidence("Java 17 does not check a trust anchor's validity and connects (measured); OpenSSL-based clients, Node and GnuTLS fail");
    cause_breaks_with(
        x,
        CertCause::ExpiredAnchor,
        CertVars::host(host),
        &[ErrorStyle::Java],
    )
}
