//! Critical extensions a client does not implement: RFC 5280 4.2 makes it refuse the
//! certificate. What OpenSSL implements is data (data/x509-critical-extensions.toml).

use x509_parser::prelude::X509Certificate;

use super::super::client_texts::cause_breaks;
use super::super::knowledge::critical_supported;
use super::super::prose::role_name;
use crate::cert::describe::CertInfo;
use crate::clients::CertCause;
use crate::finding::catalogue::finding;
use crate::finding::{Finding, FindingId};

pub(crate) fn critical_extension_findings(
    f: &mut Vec<Finding>,
    eval: &[(&X509Certificate<'_>, &CertInfo)],
    host: &str,
) {
    for (pos, (c, i)) in eval.iter().enumerate() {
        let unknown: Vec<String> = c
            .extensions()
            .iter()
            .filter(|e| e.critical)
            .map(|e| e.oid.to_id_string())
            .filter(|oid| !critical_supported(oid))
            .collect();
        if unknown.is_empty() {
            continue;
        }
        let vars = [
            ("role", role_name(pos, i).to_string()),
            ("subject", i.subject.clone()),
            ("oid", unknown.join(", ")),
        ];
        let x = finding(FindingId::CertUnknownCriticalExtension, &vars)
            .evidence(format!(
                "critical extension(s) {} on \"{}\": not among those OpenSSL implements",
                unknown.join(", "),
                i.subject
            ))
            .evidence("a client must refuse a certificate with a critical extension it does not recognise; OpenSSL, Node, Java and GnuTLS all do (measured)");
        f.push(cause_breaks(x, CertCause::UnhandledCriticalExtension, host));
    }
}
