//! Rendering of `tlsdoctor scan` results.

use super::style::{Style, pad};
use crate::document::{ScanDocument, ScannedServer};
use crate::escape::{escape, finish};
use crate::scan::strength::StrengthLevel;
use crate::scan::{ServerScan, ciphers, groups, properties};

pub fn render_json(doc: &ScanDocument) -> String {
    serde_json::to_string_pretty(doc).unwrap_or_else(|e| format!("{{\"error\":\"{e}\"}}"))
}

pub fn render_human(doc: &ScanDocument, st: Style) -> String {
    let mut out = String::new();
    for note in &doc.notes {
        out.push_str(&format!("{} {}\n", st.yellow("note:"), escape(note)));
    }
    for s in &doc.servers {
        out.push_str(&render_server(s, st));
        if doc.ocsp_query {
            out.push_str(&super::ocsp::render_section(
                &s.scan.target,
                s.ocsp.as_ref(),
                st,
            ));
        }
        out.push('\n');
    }
    finish(out, st.color)
}

fn render_server(server: &ScannedServer, st: Style) -> String {
    let s = &server.scan;
    let mut out = String::new();
    out.push_str(&st.bold(&format!(
        "Scan of {} ({})",
        escape(&s.target),
        escape(&s.address)
    )));
    out.push('\n');
    if s.resolved.len() > 1 {
        out.push_str(&format!(
            "  resolved to: {}\n",
            escape(&s.resolved.join(", "))
        ));
    }
    out.push_str(&format!(
        "  SNI: {}\n",
        escape(s.sni.as_deref().unwrap_or("(none sent)"))
    ));
    out.push_str(&format!("\n{}\n", st.bold("Protocol versions")));
    for r in &s.protocols.results {
        let verdict = if r.accepted {
            st.green("accepted")
        } else {
            st.dim("refused ")
        };
        out.push_str(&format!(
            "  {}  {}  {}\n",
            pad(&escape(&r.name), 8),
            verdict,
            st.dim(&escape(&r.evidence))
        ));
    }
    // A core check left out by `--checks` has no section (its fields hold no measurement).
    if s.ran::<ciphers::Suites>() {
        out.push_str(&render_suites(s, st));
    }
    if s.ran::<groups::Groups>() {
        out.push_str(&render_kx(s, st));
    }
    if s.ran::<properties::Properties>() {
        out.push_str(&render_properties(s, st));
    }
    out.push_str(&render_other_checks(s, st));
    if let Some(chain) = &server.certificate_chain {
        out.push_str(&format!("\n{}\n", st.bold("Certificates")));
        for line in super::cert::render_certificates(chain, st.color).lines() {
            out.push_str(&format!("  {line}\n"));
        }
        for f in &chain.findings {
            out.push_str(&format!(
                "  {} {} {}\n",
                st.severity(f.severity),
                f.id,
                escape(&f.title)
            ));
        }
    }
    if let Some(audit) = &server.audit {
        out.push_str(&render_audit(audit, st));
    }
    out.push_str(&st.dim(&format!(
        "\n  {} connections, {} ms\n",
        s.connections, s.elapsed_ms
    )));
    out
}

fn render_suites(s: &ServerScan, st: Style) -> String {
    let mut out = String::new();
    for vs in &s.cipher_suites {
        let order = match vs.server_preference {
            Some(true) => "server's order",
            Some(false) => "client's order (server has no preference)",
            None if vs.version == crate::wire::ProtocolVersion::Ssl2 => {
                "SSLv2 servers list every shared kind at once"
            }
            None if vs.suites.len() == 1 => "one suite",
            None => "order not measured",
        };
        out.push_str(&format!(
            "\n{} {}\n",
            st.bold(&format!("Cipher suites, {}", vs.version)),
            st.dim(&format!("({} accepted; {order})", vs.suites.len()))
        ));
        for suite in &vs.suites {
            let name = escape(suite.openssl.as_deref().unwrap_or(&suite.iana)).into_owned();
            let (label, reasons) = match &suite.strength {
                Some(sg) => (
                    match sg.level {
                        StrengthLevel::Secure => "secure",
                        StrengthLevel::Weak => "weak",
                        StrengthLevel::Insecure => "insecure",
                    },
                    escape(&sg.reasons.join(", ")).into_owned(),
                ),
                None => ("unknown", String::new()),
            };
            let verdict = match label {
                "secure" => st.green(&pad(label, 8)),
                "weak" => st.yellow(&pad(label, 8)),
                _ => st.red(&pad(label, 8)),
            };
            out.push_str(&format!(
                "  {} {} {} {}\n",
                pad(&escape(&suite.id), 8),
                pad(&name, 38),
                verdict,
                st.dim(&escape(&format!(
                    "{}/{} {} {}b {}",
                    suite.kx, suite.auth, suite.enc, suite.bits, reasons
                )))
            ));
        }
    }
    out
}

fn render_kx(s: &ServerScan, st: Style) -> String {
    let kx = &s.key_exchange;
    let names = |g: &[crate::scan::groups::Group]| {
        let list = g
            .iter()
            .map(|g| g.name.as_str())
            .collect::<Vec<_>>()
            .join(", ");
        escape(&list).into_owned()
    };
    let mut out = format!("\n{}\n", st.bold("Key exchange"));
    if !kx.tls13_groups.is_empty() {
        out.push_str(&format!("  TLS 1.3 groups: {}\n", names(&kx.tls13_groups)));
    }
    if !kx.ecdhe_curves.is_empty() {
        out.push_str(&format!("  ECDHE curves:   {}\n", names(&kx.ecdhe_curves)));
    }
    if let Some(bits) = kx.dh_bits {
        let line = format!("  DHE prime:      {bits} bits");
        let weak = bits
            < crate::clients::SecurityLevel::openssl3_default()
                .limits()
                .min_dh_bits;
        out.push_str(&if weak { st.yellow(&line) } else { line });
        out.push('\n');
    }
    out
}

fn yes_no(p: &crate::scan::properties::Property, good_when: bool, st: Style) -> String {
    match p.supported {
        Some(v) if v == good_when => st.green(&pad(if v { "yes" } else { "no" }, 4)),
        Some(v) => st.yellow(&pad(if v { "yes" } else { "no" }, 4)),
        None => st.dim(&pad("?", 4)),
    }
}

fn render_properties(s: &ServerScan, st: Style) -> String {
    use crate::scan::properties::NoSniBehaviour;
    let p = &s.properties;
    let mut out = format!("\n{}\n", st.bold("Handshake properties"));
    let rows = [
        (
            "Secure renegotiation (RFC 5746)",
            &p.secure_renegotiation,
            true,
        ),
        ("TLS compression", &p.compression, false),
        ("Extended master secret", &p.extended_master_secret, true),
        ("Session tickets", &p.session_ticket, true),
        ("Resumption by session ID", &p.resumption_session_id, true),
        ("Resumption by ticket", &p.resumption_ticket, true),
        ("TLS_FALLBACK_SCSV honoured", &p.fallback_scsv, true),
        ("OCSP stapling", &p.ocsp_stapling, true),
    ];
    for (label, prop, good) in rows {
        out.push_str(&format!(
            "  {} {} {}\n",
            pad(label, 33),
            yes_no(prop, good, st),
            st.dim(&escape(&prop.evidence))
        ));
    }
    let alpn = if p.alpn.is_empty() {
        "none".to_string()
    } else {
        escape(&p.alpn.join(", ")).into_owned()
    };
    out.push_str(&format!("  {} {alpn}\n", pad("ALPN", 33)));
    if let Some(b) = &p.without_sni {
        let text = match b {
            NoSniBehaviour::SameCertificate => "answers with the same certificate".to_string(),
            NoSniBehaviour::DifferentCertificate { leaf_sha256 } => {
                format!(
                    "answers with a different certificate (sha256 {})",
                    escape(prefix(leaf_sha256, 16))
                )
            }
            NoSniBehaviour::Alert { alert } => {
                format!("refuses with alert {}", escape(alert))
            }
            NoSniBehaviour::Closed => "closes the connection".to_string(),
            NoSniBehaviour::Answers => "answers".to_string(),
        };
        out.push_str(&format!("  {} {text}\n", pad("Without SNI", 33)));
    }
    let cc = &p.client_certificate;
    out.push_str(&format!(
        "  {} {} {}\n",
        pad("Client certificate requested", 33),
        if cc.requested {
            st.yellow("yes ")
        } else {
            pad("no", 4)
        },
        st.dim(&escape(&cc.evidence))
    ));
    for c in &p.certificates {
        out.push_str(&format!(
            "  {} chain of {}, leaf sha256 {}\n",
            pad(&format!("Certificate for {} suites", c.key_type), 33),
            c.chain_length,
            escape(prefix(&c.leaf_sha256, 16))
        ));
    }
    out
}

/// The audit: the grade with its caps, the profile verdict, then every finding in full.
fn render_audit(a: &crate::audit::Audit, st: Style) -> String {
    let mut out = format!(
        "\n{} {}\n",
        st.bold("Grade"),
        escape(&super::audit::grade_headline(&a.grade))
    );
    for l in super::audit::grade_lines(&a.grade) {
        out.push_str(&format!("  {}\n", st.dim(&escape(&l))));
    }
    if let Some(p) = &a.profile {
        let line = escape(&super::audit::profile_line(p)).into_owned();
        let coloured = if p.compliant {
            st.green(&line)
        } else {
            st.red(&line)
        };
        out.push_str(&format!("\n{} {coloured}\n", st.bold("Profile")));
    }
    if !a.findings.is_empty() {
        out.push_str(&format!("\n{}\n", st.bold("Findings")));
        for f in &a.findings {
            out.push('\n');
            out.push_str(&super::check::render_finding(f, st));
        }
    }
    out
}

/// Every check beyond the core ones, from the summary lines its evidence gives: one section
/// per check that ran, in registry order.
fn render_other_checks(s: &ServerScan, st: Style) -> String {
    let mut out = String::new();
    for check in crate::scan::CHECKS {
        let lines = check.summary(s);
        if lines.is_empty() {
            continue;
        }
        out.push_str(&format!("\n{}\n", st.bold(check.title())));
        for l in lines {
            out.push_str(&format!(
                "  {} {} {}\n",
                pad(l.label, 33),
                escape(&l.value),
                st.dim(&escape(&l.evidence))
            ));
        }
    }
    out
}

/// The first `n` bytes of `s`, or all of it when shorter or when `n` is not a character
/// boundary (the fingerprints shown are hex, so neither happens in practice).
fn prefix(s: &str, n: usize) -> &str {
    s.get(..n).unwrap_or(s)
}
