//! Terminal rendering of `tlsdoctor env`. Plain text; ANSI colour only when asked.

use super::style::Style;
use crate::env::{BundleInfo, EnvReport, PythonInfo};
use crate::escape::{escape, finish};
use std::borrow::Cow;
use std::fmt::Write;
use std::path::Path;

// Everything here was read from local programs and files, which may print anything: every
// value is escaped as a peer's would be.

fn opt(v: &Option<String>) -> Cow<'_, str> {
    escape(v.as_deref().unwrap_or("?"))
}

fn shown(p: &Path) -> String {
    escape(&p.display().to_string()).into_owned()
}

fn shown_opt(p: &Option<std::path::PathBuf>, none: &str) -> String {
    p.as_deref().map(shown).unwrap_or_else(|| none.to_string())
}

/// What one interpreter can speak, in the `ssl` module's own terms: which `PROTOCOL_*`
/// constants it defines, what the library can speak at all, and what its default context
/// speaks once the security level and the OpenSSL configuration are applied.
fn python_protocols(o: &mut String, r: &EnvReport, p: &PythonInfo) {
    if !p.protocol_constants.is_empty() {
        let _ = writeln!(
            o,
            "      ssl constants: {}",
            escape(&p.protocol_constants.join(", "))
        );
    }
    if !p.protocols.is_empty() {
        let yes: Vec<&str> = p
            .protocols
            .iter()
            .filter(|(_, v)| **v)
            .map(|(k, _)| k.as_str())
            .collect();
        let no: Vec<&str> = p
            .protocols
            .iter()
            .filter(|(_, v)| !**v)
            .map(|(k, _)| k.as_str())
            .collect();
        let _ = writeln!(
            o,
            "      ssl module can speak: {}{}",
            if yes.is_empty() {
                "nothing".to_string()
            } else {
                escape(&yes.join(", ")).into_owned()
            },
            if no.is_empty() {
                String::new()
            } else {
                format!(" (not {})", escape(&no.join(", ")))
            }
        );
        if p.protocols.get("TLSv1.2") == Some(&false) {
            let _ = writeln!(
                o,
                "      no TLS 1.2: the linked OpenSSL is older than 1.0.1, so no code change (not \
                 even ssl.PROTOCOL_TLSv1_2) makes this interpreter speak it; use a Python built \
                 against a newer OpenSSL"
            );
        }
    }
    if let Some(c) = &p.default_context {
        let _ = writeln!(
            o,
            "      default context: min {}, max {}{}, security level {}, legacy server connect {}",
            opt(&c.minimum_version),
            opt(&c.maximum_version),
            match c.versions_from.as_deref() {
                Some(f) if f.starts_with("options") => " (from its OP_NO_* options)",
                _ => "",
            },
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
    let stack = r
        .clients
        .iter()
        .find(|s| s.kind == "python" && s.path == p.path);
    if let Some(s) = stack.filter(|s| s.min_protocol.is_some() || s.max_protocol.is_some()) {
        let _ = writeln!(
            o,
            "      speaks with create_default_context(): {} to {}",
            opt(&s.min_protocol),
            opt(&s.max_protocol)
        );
    }
}

fn bundle_line(b: &BundleInfo) -> String {
    if !b.exists {
        return format!("{}: missing", shown(&b.path));
    }
    if let Some(e) = &b.error {
        return format!("{}: {}", shown(&b.path), escape(e));
    }
    let mut s = format!("{}: {} certificates", shown(&b.path), b.certificates);
    if b.expired > 0 {
        let _ = write!(s, ", {} expired", b.expired);
    }
    if b.unparsable > 0 {
        let _ = write!(s, ", {} unparsable", b.unparsable);
    }
    if let Some(m) = &b.modified {
        let _ = write!(s, ", updated {}", escape(m));
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
                shown(&t.path)
            );
            if let Some(d) = &t.openssl_dir {
                let _ = writeln!(o, "                OPENSSLDIR {}", shown(d));
            }
            if let Some(e) = &t.error {
                let _ = writeln!(o, "                error: {}", escape(e));
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
            escape(&l.family.to_string()),
            shown(&l.path),
            opt(&l.version),
            opt(&l.max_tls),
            escape(&l.version_source.to_string()),
            escape(&l.names.join(", "))
        );
    }

    let _ = writeln!(o, "\n{}", st.bold("Python interpreters"));
    if r.pythons.is_empty() {
        let _ = writeln!(o, "  none found");
    }
    for p in &r.pythons {
        let pypy = match (&p.implementation, &p.implementation_version) {
            (Some(i), Some(v)) if i != "CPython" => format!(" ({} {})", escape(i), escape(v)),
            (Some(i), None) if i != "CPython" => format!(" ({})", escape(i)),
            _ => String::new(),
        };
        let _ = writeln!(
            o,
            "  {} Python {}{}{} via {}",
            shown(&p.path),
            opt(&p.version),
            pypy,
            if p.is_venv { " (venv)" } else { "" },
            escape(&p.found_via.to_string())
        );
        if let Some(e) = &p.error {
            let _ = writeln!(o, "      error: {}", escape(e));
        }
        if let Some(v) = &p.openssl_version {
            let _ = writeln!(
                o,
                "      ssl.OPENSSL_VERSION: {} (max {})",
                escape(v),
                opt(&p.max_tls)
            );
        }
        python_protocols(&mut o, r, p);
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
            escape(&p.macos_cert_installer.to_string())
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
                shown_opt(&j.trust_store, "?"),
                if j.trust_store_exists {
                    "present"
                } else {
                    "missing"
                },
                escape(&j.disabled_protocols.join(", "))
            );
        }
        None => {
            let _ = writeln!(o, "  java: not found");
        }
    }

    let _ = writeln!(o, "\n{}", st.bold("Trust stores"));
    for t in &r.trust_stores {
        let _ = writeln!(
            o,
            "  {:<30} {}",
            escape(&t.role.to_string()),
            bundle_line(&t.info)
        );
    }
    let _ = writeln!(o, "\n{}", st.bold("Trust store variables"));
    for v in &r.variables {
        match (&v.value, &v.bundle) {
            (Some(_), Some(b)) => {
                let _ = writeln!(o, "  {:<20} {}", escape(&v.name), bundle_line(b));
            }
            (Some(val), None) => {
                let _ = writeln!(
                    o,
                    "  {:<20} set but empty ({})",
                    escape(&v.name),
                    escape(&format!("{val:?}"))
                );
            }
            _ => {
                let _ = writeln!(o, "  {:<20} unset", escape(&v.name));
            }
        }
    }

    let c = &r.openssl_conf;
    let _ = writeln!(o, "\n{}", st.bold("OpenSSL configuration"));
    let _ = writeln!(
        o,
        "  {} [{}]{}",
        shown_opt(&c.path, "none"),
        escape(&c.source.to_string()),
        if c.exists || c.path.is_none() {
            ""
        } else {
            " MISSING"
        }
    );
    for f in c.files_read.iter().skip(1) {
        let _ = writeln!(o, "  includes {}", shown(f));
    }
    for link in &c.chain {
        let _ = writeln!(o, "  {}", escape(&link.to_string()));
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
            escape(&s.key),
            escape(&s.value),
            shown(&s.file),
            s.line,
            escape(&s.meaning)
        );
    }
    for p in &c.problems {
        let _ = writeln!(o, "  problem: {}", escape(&p.to_string()));
    }

    let _ = writeln!(o, "\n{}", st.bold("Client stacks"));
    for s in &r.clients {
        let _ = writeln!(
            o,
            "  {:<16} {} {}: {}..{}, security level {}, unsafe legacy server connect {}",
            escape(&s.name),
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
            shown_opt(&s.cafile, "-"),
            shown_opt(&s.capath, "")
        );
    }
    if !r.missing_tools.is_empty() {
        let _ = writeln!(o, "  not found: {}", escape(&r.missing_tools.join(", ")));
    }

    let _ = writeln!(o, "\n{}", st.bold("Findings"));
    if r.findings.is_empty() {
        let _ = writeln!(o, "  none");
    }
    for f in &r.findings {
        let _ = writeln!(
            o,
            "  {} {} ({})",
            st.severity(f.severity),
            escape(&f.title),
            f.id
        );
        for e in &f.evidence {
            let _ = writeln!(o, "      - {}", escape(e));
        }
        for b in &f.breaks {
            let _ = writeln!(
                o,
                "      breaks {}: {}",
                escape(&b.client),
                escape(&b.shown())
            );
        }
        for x in f
            .fix_server
            .iter()
            .map(|x| ("server", x))
            .chain(f.fix_client.iter().map(|x| ("client", x)))
        {
            let _ = writeln!(o, "      fix ({}): {}", x.0, escape(x.1));
        }
    }
    finish(o, color)
}
