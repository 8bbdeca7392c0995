//! Validity periods: expired, not yet valid, expiring soon.

use x509_parser::prelude::X509Certificate;

use super::super::EXPIRES_SOON_DAYS;
use super::super::client_texts::cause_breaks;
use super::super::prose::role_name;
use crate::cert::describe::{CertInfo, rfc3339};
use crate::clients::CertCause;
use crate::finding::catalogue::finding;
use crate::finding::{Finding, FindingId, variant};

pub(crate) fn validity_findings(
    f: &mut Vec<Finding>,
    eval: &[(&X509Certificate<'_>, &CertInfo)],
    now: i64,
    host: &str,
) {
    let now_text = rfc3339(now);
    for (pos, (_, i)) in eval.iter().enumerate() {
        let role = role_name(pos, i);
        if now > i.not_after_unix {
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
