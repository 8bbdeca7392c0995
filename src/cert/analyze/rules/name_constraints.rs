//! Name constraints on any CA of the path constrain the leaf's names (RFC 5280 4.2.1.10).

use x509_parser::extensions::GeneralSubtree;
use x509_parser::prelude::*;

use super::super::client_texts::cause_breaks;
use crate::cert::describe::{CertInfo, ip_text};
use crate::clients::CertCause;
use crate::finding::catalogue::finding;
use crate::finding::{Finding, FindingId};

pub(crate) fn name_constraint_findings(
    f: &mut Vec<Finding>,
    eval: &[(&X509Certificate<'_>, &CertInfo)],
    host: &str,
) {
    let Some((leaf, leaf_info)) = eval.first() else {
        return;
    };
    let mut dns: Vec<String> = Vec::new();
    let mut ips: Vec<Vec<u8>> = Vec::new();
    if let Ok(Some(san)) = leaf.subject_alternative_name() {
        for g in &san.value.general_names {
            match g {
                GeneralName::DNSName(d) => dns.push(d.to_string()),
                GeneralName::IPAddress(b) => ips.push(b.to_vec()),
                _ => {}
            }
        }
    }
    for (c, i) in eval.iter().skip(1) {
        let Ok(Some(nc)) = c.name_constraints() else {
            continue;
        };
        let mut violations: Vec<(String, bool)> = Vec::new(); // (text, excluded?)
        let permitted_dns: Vec<&str> = subtrees_dns(&nc.value.permitted_subtrees);
        let excluded_dns: Vec<&str> = subtrees_dns(&nc.value.excluded_subtrees);
        let permitted_ip: Vec<&[u8]> = subtrees_ip(&nc.value.permitted_subtrees);
        let excluded_ip: Vec<&[u8]> = subtrees_ip(&nc.value.excluded_subtrees);
        for d in &dns {
            if !permitted_dns.is_empty() && !permitted_dns.iter().any(|b| dns_in_subtree(d, b)) {
                violations.push((
                    format!(
                        "DNS:{d} is outside the permitted names {}",
                        permitted_dns.join(", ")
                    ),
                    false,
                ));
            }
            if let Some(b) = excluded_dns.iter().find(|b| dns_in_subtree(d, b)) {
                violations.push((format!("DNS:{d} is inside the excluded name {b}"), true));
            }
        }
        for ip in &ips {
            let shown = ip_text(ip);
            if !permitted_ip.is_empty() && !permitted_ip.iter().any(|b| ip_in_subtree(ip, b)) {
                violations.push((format!("IP:{shown} is outside the permitted ranges"), false));
            }
            if excluded_ip.iter().any(|b| ip_in_subtree(ip, b)) {
                violations.push((format!("IP:{shown} is inside an excluded range"), true));
            }
        }
        if violations.is_empty() {
            continue;
        }
        let key = if violations.iter().any(|(_, ex)| *ex) {
            CertCause::ExcludedSubtree
        } else {
            CertCause::PermittedSubtree
        };
        let vars = [
            ("ca", i.subject.clone()),
            ("leaf", leaf_info.subject.clone()),
        ];
        let mut x = finding(FindingId::CertNameConstraints, &vars).evidence(format!(
            "name constraints on \"{}\": {}",
            i.subject,
            i.name_constraints.join(", ")
        ));
        for (v, _) in violations {
            x = x.evidence(v);
        }
        f.push(cause_breaks(x, key, host));
    }
}

fn subtrees_dns<'a>(list: &'a Option<Vec<GeneralSubtree<'_>>>) -> Vec<&'a str> {
    list.iter()
        .flatten()
        .filter_map(|t| match &t.base {
            GeneralName::DNSName(d) => Some(*d),
            _ => None,
        })
        .collect()
}

fn subtrees_ip<'a>(list: &'a Option<Vec<GeneralSubtree<'_>>>) -> Vec<&'a [u8]> {
    list.iter()
        .flatten()
        .filter_map(|t| match &t.base {
            GeneralName::IPAddress(b) => Some(*b),
            _ => None,
        })
        .collect()
}

/// RFC 5280 dNSName constraint: `example.com` covers itself and every subdomain; a leading dot
/// covers subdomains only.
pub fn dns_in_subtree(name: &str, base: &str) -> bool {
    let n = name.trim_end_matches('.').to_ascii_lowercase();
    let b = base.trim_end_matches('.').to_ascii_lowercase();
    if b.is_empty() {
        return true;
    }
    if let Some(sub) = b.strip_prefix('.') {
        return n.ends_with(&format!(".{sub}"));
    }
    n == b || n.ends_with(&format!(".{b}"))
}

fn ip_in_subtree(ip: &[u8], base: &[u8]) -> bool {
    let half = base.len() / 2;
    if base.len() % 2 != 0 || ip.len() != half {
        return false;
    }
    let (addr, mask) = base.split_at(half);
    ip.iter()
        .zip(addr)
        .zip(mask)
        .all(|((i, a), m)| i & m == a & m)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subtrees() {
        assert!(dns_in_subtree("a.example.com", "example.com"));
        assert!(dns_in_subtree("example.com", "example.com"));
        assert!(!dns_in_subtree("example.com", ".example.com"));
        assert!(!dns_in_subtree("badexample.com", "example.com"));
        assert!(ip_in_subtree(&[10, 1, 2, 3], &[10, 0, 0, 0, 255, 0, 0, 0]));
        assert!(!ip_in_subtree(&[11, 1, 2, 3], &[10, 0, 0, 0, 255, 0, 0, 0]));
    }
}
