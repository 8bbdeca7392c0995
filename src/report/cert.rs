//! Human rendering of a chain analysis.

use super::style::Style;
use crate::cert::ChainAnalysis;
use crate::escape::{escape, finish};

/// The chain, per-store verdicts and findings as plain text (ANSI colours when `color`).
pub fn render_chain(a: &ChainAnalysis, color: bool) -> String {
    let mut o = render_certificates(a, color);
    if a.findings.is_empty() {
        o.push_str("No certificate problems found.\n");
        return o;
    }
    render_findings(a, color, &mut o);
    finish(o, color)
}

/// Each certificate as sent, and the verdict of each trust store with the path it built
/// (the part `check` and `scan` show; `check` renders the findings itself).
pub fn render_certificates(a: &ChainAnalysis, color: bool) -> String {
    let mut o = String::new();
    let host = escape(a.host.as_deref().unwrap_or("(no name given)"));
    o.push_str(&format!(
        "Certificate chain for {host}: {} certificate(s) sent\n",
        a.certificates.len()
    ));
    for (i, c) in a.certificates.iter().enumerate() {
        o.push_str(&format!(
            "  #{} {}\n",
            i + 1,
            Style { color }.bold(&escape(&c.subject))
        ));
        o.push_str(&format!("     issuer     {}\n", escape(&c.issuer)));
        if !c.sans.is_empty() {
            o.push_str(&format!("     names      {}\n", escape(&c.sans.join(", "))));
        }
        let days = if c.days_left < 0 {
            Style { color }.red(&format!("expired {} days ago", -c.days_left))
        } else {
            format!("{} days left", c.days_left)
        };
        o.push_str(&format!(
            "     valid      {} .. {} ({days})\n",
            escape(&c.not_before),
            escape(&c.not_after)
        ));
        o.push_str(&format!(
            "     key        {} {} bits; signature {}\n",
            escape(&c.key_type),
            c.key_bits,
            escape(&c.signature_algorithm)
        ));
        let mut flags = Vec::new();
        if c.is_ca {
            flags.push(match c.path_len {
                Some(n) => format!("CA (pathlen {n})"),
                None => "CA".to_string(),
            });
        }
        if !c.key_usage.is_empty() {
            flags.push(format!("KU {}", escape(&c.key_usage.join(","))));
        }
        if !c.ext_key_usage.is_empty() {
            flags.push(format!("EKU {}", escape(&c.ext_key_usage.join(","))));
        }
        if c.must_staple {
            flags.push("must-staple".to_string());
        }
        if c.sct_count > 0 {
            flags.push(format!("{} SCTs", c.sct_count));
        }
        if c.self_signed_verified {
            flags.push("self-signed".to_string());
        }
        if !flags.is_empty() {
            o.push_str(&format!("     usage      {}\n", flags.join("; ")));
        }
        if !c.aia_ca_issuers.is_empty() {
            o.push_str(&format!(
                "     CA issuers {}\n",
                escape(&c.aia_ca_issuers.join(", "))
            ));
        }
        if !c.aia_ocsp.is_empty() {
            o.push_str(&format!(
                "     OCSP       {}\n",
                escape(&c.aia_ocsp.join(", "))
            ));
        }
        if !c.crl_dps.is_empty() {
            o.push_str(&format!(
                "     CRL        {}\n",
                escape(&c.crl_dps.join(", "))
            ));
        }
        o.push_str(&format!("     serial     {}\n", escape(&c.serial)));
        o.push_str(&format!(
            "     sha256     {}\n",
            escape(&c.sha256_fingerprint)
        ));
    }
    o.push_str("Trust:\n");
    for v in &a.verdicts {
        let mark = if v.trusted {
            Style { color }.green("trusted")
        } else {
            Style { color }.red("NOT trusted")
        };
        o.push_str(&format!(
            "  {:<8} {mark}  ({})\n",
            escape(&v.store),
            escape(&v.source)
        ));
        if !v.path.is_empty() {
            o.push_str(&format!(
                "           path: {}\n",
                escape(&v.path.join(" -> "))
            ));
        }
        if let Some(p) = &v.problem {
            o.push_str(&format!("           {}\n", escape(p)));
        }
    }
    finish(o, color)
}

fn render_findings(a: &ChainAnalysis, color: bool, o: &mut String) {
    o.push_str("Findings:\n");
    for f in &a.findings {
        let sev = Style { color }.severity(f.severity);
        o.push_str(&format!("  {sev} [{}] {}\n", f.id, escape(&f.title)));
        for e in &f.evidence {
            o.push_str(&format!("      - {}\n", escape(e)));
        }
        for b in &f.breaks {
            o.push_str(&format!(
                "      {} prints: {}\n",
                escape(&b.client),
                escape(&b.shown())
            ));
        }
        for s in &f.fix_server {
            o.push_str(&format!("      fix (server): {}\n", escape(s)));
        }
        for c in &f.fix_client {
            o.push_str(&format!("      fix (client): {}\n", escape(c)));
        }
    }
}
