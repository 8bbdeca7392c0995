//! Terminal rendering of `tlsdoctor env`. Plain text; ANSI colour only when asked.

use super::style::Style;
use crate::env::{BundleInfo, EnvReport};
use std::fmt::Write;

fn opt(v: &Option<String>) -> &str {
    v.as_deref().unwrap_or("?")
}

fn bundle_line(b: &BundleInfo) -> String {
    if !b.exists {
        return format!("{}: missing", b.path.display());
    }
    if let Some(e) = &b.error {
        return format!("{}: {e}", b.path.display());
    }
    let mut s = format!("{}: {} certificates", b.path.display(), b.certificates);
    if b.expired > 0 {
        let _ = write!(s, ", {} expired", b.expired);
    }
    if b.unparsable > 0 {
        let _ = write!(s, ", {} unparsable", b.unparsable);
    }
    if let Some(m) = &b.modified {
        let _ = write!(s, ", updated {m}");
        if let Some(d) = b.modified_days_ago {
            let _ = write!(s, " ({d} days ago)");
        }
    }
    s
}

/// Readable report of the client environment.
pub fn render_env(r: &EnvReport, color: bool) -> String {
    let st = Style { color };
    let mut o = String::new();

    let _ = writeln!(o, "{}", st.bold("TLS libraries"));
    match &r.openssl_cli {
        Some(t) => {
            let _ = writeln!(
                o,
                "  openssl CLI   {} ({})",
                opt(&t.version),
                t.path.display()
            );
            if let Some(d) = &t.openssl_dir {
                let _ = writeln!(o, "                OPENSSLDIR {}", d.display());
            }
            if let Some(e) = &t.error {
                let _ = writeln!(o, "                error: {e}");
            }
        }
        None => {
            let _ = writeln!(o, "  openssl CLI   not found");
        }
    }
    for l in &r.libraries {
        let _ = writeln!(
            o,
            "  {:<17} {} {} (max {}; {}) [{}]",
            l.family,
            l.path.display(),
            opt(&l.version),
            opt(&l.max_tls),
            l.version_source,
            l.names.join(", ")
        );
    }

    let _ = writeln!(o, "\n{}", st.bold("Python interpreters"));
    if r.pythons.is_empty() {
        let _ = writeln!(o, "  none found");
    }
    for p in &r.pythons {
        let _ = writeln!(
            o,
            "  {} Python {}{} via {}",
            p.path.display(),
            opt(&p.version),
            if p.is_venv { " (venv)" } else { "" },
            p.found_via
        );
        if let Some(e) = &p.error {
            let _ = writeln!(o, "      error: {e}");
        }
        if let Some(v) = &p.openssl_version {
            let _ = writeln!(o, "      {v} (max {})", opt(&p.max_tls));
        }
        if !p.protocols.is_empty() {
            let list: Vec<String> = p
                .protocols
                .iter()
                .map(|(k, v)| format!("{k}{}", if *v { "" } else { " (no)" }))
                .collect();
            let _ = writeln!(o, "      protocols compiled in: {}", list.join(", "));
        }
        if let Some(c) = &p.default_context {
            let _ = writeln!(
                o,
                "      default context: min {}, max {}, security level {}, legacy server connect {}",
                opt(&c.minimum_version),
                opt(&c.maximum_version),
                c.security_level
                    .map(|l| l.to_string())
                    .unwrap_or_else(|| "?".into()),
                if c.unsafe_legacy_server_connect {
                    "ALLOWED"
                } else {
                    "refused"
                }
            );
        }
        if let Some(v) = &p.verify_paths {
            let _ = writeln!(
                o,
                "      verify paths: cafile {} capath {}",
                opt(&v.openssl_cafile),
                opt(&v.openssl_capath)
            );
        }
        match &p.certifi {
            Some(c) => {
                let _ = writeln!(
                    o,
                    "      certifi {}: {}",
                    opt(&c.version),
                    bundle_line(&c.bundle)
                );
            }
            None => {
                let _ = writeln!(o, "      certifi: not installed");
            }
        }
        let _ = writeln!(
            o,
            "      macOS certificate installer: {}",
            p.macos_cert_installer
        );
    }

    let _ = writeln!(o, "\n{}", st.bold("Other clients"));
    match &r.node {
        Some(n) => {
            let _ = writeln!(
                o,
                "  node {} OpenSSL {}, default {}..{}, {} built-in roots",
                opt(&n.version),
                opt(&n.openssl_version),
                opt(&n.default_min_version),
                opt(&n.default_max_version),
                n.root_certificates
                    .map(|c| c.to_string())
                    .unwrap_or_else(|| "?".into())
            );
        }
        None => {
            let _ = writeln!(o, "  node: not found");
        }
    }
    match &r.curl {
        Some(c) => {
            let _ = writeln!(o, "  {}", opt(&c.version));
        }
        None => {
            let _ = writeln!(o, "  curl: not found");
        }
    }
    match &r.java {
        Some(j) => {
            let _ = writeln!(
                o,
                "  java {} trust store {} ({}), disabled: {}",
                opt(&j.version),
                j.trust_store
                    .as_ref()
                    .map(|p| p.display().to_string())
                    .unwrap_or_else(|| "?".into()),
                if j.trust_store_exists {
                    "present"
                } else {
                    "missing"
                },
                j.disabled_protocols.join(", ")
            );
        }
        None => {
            let _ = writeln!(o, "  java: not found");
        }
    }

    let _ = writeln!(o, "\n{}", st.bold("Trust stores"));
    for t in &r.trust_stores {
        let _ = writeln!(o, "  {:<30} {}", t.role, bundle_line(&t.info));
    }
    let _ = writeln!(o, "\n{}", st.bold("Trust store variables"));
    for v in &r.variables {
        match (&v.value, &v.bundle) {
            (Some(_), Some(b)) => {
                let _ = writeln!(o, "  {:<20} {}", v.name, bundle_line(b));
            }
            (Some(val), None) => {
                let _ = writeln!(o, "  {:<20} set but empty ({val:?})", v.name);
            }
            _ => {
                let _ = writeln!(o, "  {:<20} unset", v.name);
            }
        }
    }

    let c = &r.openssl_conf;
    let _ = writeln!(o, "\n{}", st.bold("OpenSSL configuration"));
    let _ = writeln!(
        o,
        "  {} [{}]{}",
        c.path
            .as_ref()
            .map(|p| p.display().to_string())
            .unwrap_or_else(|| "none".into()),
        c.source,
        if c.exists || c.path.is_none() {
            ""
        } else {
            " MISSING"
        }
    );
    for f in c.files_read.iter().skip(1) {
        let _ = writeln!(o, "  includes {}", f.display());
    }
    for link in &c.chain {
        let _ = writeln!(o, "  {link}");
    }
    if c.settings.is_empty() {
        let _ = writeln!(
            o,
            "  no system_default TLS settings: library defaults apply"
        );
    }
    for s in &c.settings {
        let _ = writeln!(
            o,
            "  {} = {}  ({}:{})\n      {}",
            s.key,
            s.value,
            s.file.display(),
            s.line,
            s.meaning
        );
    }
    for p in &c.problems {
        let _ = writeln!(o, "  problem: {p}");
    }

    let _ = writeln!(o, "\n{}", st.bold("Client stacks"));
    for s in &r.clients {
        let _ = writeln!(
            o,
            "  {:<16} {} {}: {}..{}, security level {}, unsafe legacy server connect {}",
            s.name,
            opt(&s.tls_library),
            opt(&s.tls_library_version),
            opt(&s.min_protocol),
            opt(&s.max_protocol),
            s.security_level
                .map(|l| l.to_string())
                .unwrap_or_else(|| "?".into()),
            match s.unsafe_legacy_server_connect {
                Some(true) => "yes",
                Some(false) => "no",
                None => "?",
            }
        );
        let _ = writeln!(
            o,
            "  {:<16} trust: {} {}",
            "",
            s.cafile
                .as_ref()
                .map(|p| p.display().to_string())
                .unwrap_or_else(|| "-".into()),
            s.capath
                .as_ref()
                .map(|p| p.display().to_string())
                .unwrap_or_default()
        );
    }
    if !r.missing_tools.is_empty() {
        let _ = writeln!(o, "  not found: {}", r.missing_tools.join(", "));
    }

    let _ = writeln!(o, "\n{}", st.bold("Findings"));
    if r.findings.is_empty() {
        let _ = writeln!(o, "  none");
    }
    for f in &r.findings {
        let _ = writeln!(o, "  {} {} ({})", st.severity(f.severity), f.title, f.id);
        for e in &f.evidence {
            let _ = writeln!(o, "      - {e}");
        }
        for b in &f.breaks {
            let _ = writeln!(o, "      breaks {}: {}", b.client, b.error);
        }
        for x in f
            .fix_server
            .iter()
            .map(|x| ("server", x))
            .chain(f.fix_client.iter().map(|x| ("client", x)))
        {
            let _ = writeln!(o, "      fix ({}): {}", x.0, x.1);
        }
    }
    o
}
