//! The name asked for against the names the leaf holds (RFC 6125, as OpenSSL checks it).

use std::net::IpAddr;

use x509_parser::prelude::*;

use super::super::client_texts::cause_breaks_full;
use crate::cert::describe::CertInfo;
use crate::clients::CertCause;
use crate::finding::catalogue::finding;
use crate::finding::{Finding, FindingId};

/// RFC 6125 matching as OpenSSL does it with Python's flags: a wildcard only as the whole
/// left-most label, matching exactly one label, never a bare `*` over a public suffix-like
/// two-label name.
pub fn dns_name_matches(pattern: &str, host: &str) -> bool {
    let p = pattern.trim_end_matches('.').to_ascii_lowercase();
    let h = host.trim_end_matches('.').to_ascii_lowercase();
    if let Some(rest) = p.strip_prefix("*.") {
        if rest.contains('*') || rest.split('.').count() < 2 {
            return false;
        }
        match h.split_once('.') {
            Some((first, tail)) => !first.is_empty() && tail == rest,
            None => false,
        }
    } else {
        !p.contains('*') && p == h
    }
}

pub(crate) fn hostname_finding(
    f: &mut Vec<Finding>,
    cert: &X509Certificate<'_>,
    info: &CertInfo,
    host: &str,
) {
    let mut dns: Vec<String> = Vec::new();
    let mut ips: Vec<IpAddr> = Vec::new();
    if let Ok(Some(san)) = cert.subject_alternative_name() {
        for g in &san.value.general_names {
            match g {
                GeneralName::DNSName(d) => dns.push(d.to_string()),
                GeneralName::IPAddress(b) => {
                    if let Ok(a) = <[u8; 4]>::try_from(*b) {
                        ips.push(IpAddr::from(a));
                    } else if let Ok(a) = <[u8; 16]>::try_from(*b) {
                        ips.push(IpAddr::from(a));
                    }
                }
                _ => {}
            }
        }
    }
    let cns: Vec<String> = cert
        .subject()
        .iter_common_name()
        .filter_map(|c| c.as_str().ok().map(|s| s.to_string()))
        .collect();
    let host_ip: Option<IpAddr> = host
        .trim_start_matches('[')
        .trim_end_matches(']')
        .parse()
        .ok();
    let (ok, key) = match host_ip {
        Some(ip) => (ips.contains(&ip), CertCause::IpMismatch),
        None => {
            let names: &[String] = if dns.is_empty() { &cns } else { &dns };
            (
                names.iter().any(|n| dns_name_matches(n, host)),
                CertCause::HostnameMismatch,
            )
        }
    };
    if ok {
        if host_ip.is_none() && dns.is_empty() {
            f.push(cn_only(host, &cns));
        }
        return;
    }
    let held = if info.sans.is_empty() {
        format!("no subjectAltName; CN={}", cns.join(", CN="))
    } else {
        info.sans.join(", ")
    };
    let name_type = if host_ip.is_some() { "IP" } else { "DNS" };
    let apex = format!("*.{}", host.trim_end_matches('.').to_ascii_lowercase());
    let wildcard = dns.iter().find(|d| d.to_ascii_lowercase() == apex);
    let form = match wildcard {
        Some(w) => finding(
            FindingId::CertWildcardApex,
            &[("host", host.to_string()), ("wildcard", w.clone())],
        ),
        None => finding(
            FindingId::CertHostnameMismatch,
            &[
                ("host", host.to_string()),
                ("name_type", name_type.to_string()),
            ],
        ),
    };
    let mut x = form
        .evidence(format!("name asked for: {host}"))
        .evidence(format!("names in the certificate: {held}"));
    if host_ip.is_some() {
        x = x.evidence(
            "an IP address only matches an IP: entry in subjectAltName, never a DNS name or the CN",
        );
    } else {
        if dns.is_empty() {
            x = x.evidence("without DNS subjectAltName entries OpenSSL falls back to the CN; Go and rustls never do");
        }
        if dns.iter().any(|d| d.starts_with("*.")) {
            x = x.evidence("a wildcard *.example.com matches exactly one label: a.example.com, not example.com nor a.b.example.com");
        }
    }
    let node_altnames = info
        .sans
        .iter()
        .map(|n| match n.strip_prefix("IP:") {
            Some(ip) => format!("IP Address:{ip}"),
            None => n.clone(),
        })
        .collect::<Vec<_>>()
        .join(", ");
    // Node's text is measured for DNS names checked against subjectAltName only.
    let node_known = host_ip.is_none() && !info.sans.is_empty();
    f.push(cause_breaks_full(x, key, host, &node_altnames, node_known));
}

/// The name matched only through the CN: fine for the clients measured here, refused by
/// clients that read subjectAltName only.
fn cn_only(host: &str, cns: &[String]) -> Finding {
    finding(FindingId::CertCnOnly, &[("host", host.to_string())])
        .evidence(format!(
            "no subjectAltName; the name matched is the subject CN={}",
            cns.join(", CN=")
        ))
        .evidence("measured here: OpenSSL 3 (Python, curl, s_client), Node 20, Java 17 and GnuTLS fall back to the CN and connect")
        .evidence("documented, not run here: browsers (Chrome since version 58, Firefox, Safari) and Go since 1.15 match only subjectAltName and refuse the certificate")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcard_rules() {
        assert!(dns_name_matches("*.example.com", "a.example.com"));
        assert!(dns_name_matches("*.Example.com", "A.example.COM."));
        assert!(!dns_name_matches("*.example.com", "example.com"));
        assert!(!dns_name_matches("*.example.com", "a.b.example.com"));
        assert!(!dns_name_matches("*.com", "example.com"));
        assert!(!dns_name_matches("a*.example.com", "ab.example.com"));
        assert!(dns_name_matches("example.com", "EXAMPLE.com"));
    }
}
