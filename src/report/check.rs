//! Rendering of `tlsdoctor check`: findings first, most severe first, then the clients, then
//! what was checked.

use super::style::Style;
use crate::doctor::{Diagnosis, Verdict};
use crate::document::CheckDocument;
use crate::escape::{escape, finish};
use crate::finding::Finding;

pub fn render_human(doc: &CheckDocument, st: Style) -> String {
    let mut out = String::new();
    for n in &doc.notes {
        out.push_str(&format!("{} {}\n", st.yellow("note:"), escape(n)));
    }
    for d in &doc.diagnoses {
        out.push_str(&render_diagnosis(d, st));
    }
    if !doc.fixes_written.is_empty() {
        out.push_str(&format!("\n{}\n", st.bold("Fixes written")));
        for w in &doc.fixes_written {
            out.push_str(&format!(
                "  {}\n    {}\n",
                escape(&w.path.display().to_string()),
                st.dim(&escape(&w.purpose))
            ));
        }
    }
    finish(out, st.color)
}

/// The first line: connections fail, only a security problem (clients connect but must not
/// trust the certificate), or nothing that stops a client.
fn headline(d: &Diagnosis, st: Style) -> String {
    let v = super::verdict::of_diagnosis(d);
    let text = escape(&v.text);
    let coloured = match d.verdict {
        Verdict::Healthy => st.green(&text),
        _ => st.red(&text),
    };
    format!("{coloured}{}\n", escape(&v.suffix))
}

pub fn render_diagnosis(d: &Diagnosis, st: Style) -> String {
    let mut out = String::new();
    let sni = d
        .sni
        .as_deref()
        .map(|s| format!(", SNI {}", escape(s)))
        .unwrap_or_default();
    out.push_str(&st.bold(&format!(
        "tlsdoctor check {} ({}{sni})",
        escape(&d.target),
        escape(&d.address)
    )));
    out.push_str("\n\n");

    if let Some(m) = &d.error_match {
        match (&m.explained_by, &m.entry) {
            (Some(id), _) => out.push_str(&format!(
                "Your error \"{}\" is explained by {} below.\n\n",
                short(&m.text, 90),
                st.bold(id.as_str())
            )),
            (None, Some(entry)) => out.push_str(&format!(
                "Your error \"{}\" usually means one of: {} ({}). None of these shows on this server from here; \
                 the findings below are what this server does show. Run 'tlsdoctor explain' on the message for the other causes.\n\n",
                short(&m.text, 90),
                m.candidates
                    .iter()
                    .map(|c| c.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
                escape(entry)
            )),
            (None, None) => out.push_str(&format!(
                "Your error \"{}\" is not one tlsdoctor recognises; the findings below are what this server shows.\n\n",
                short(&m.text, 90)
            )),
        }
    }

    out.push_str(&headline(d, st));
    if let Some(a) = &d.audit {
        for (i, l) in super::audit::summary(a).iter().enumerate() {
            let l = escape(l);
            out.push_str(&if i == 0 {
                format!("{}\n", st.bold(&l))
            } else {
                format!("  {}\n", st.dim(&l))
            });
        }
    }
    if let Some(live) = &d.live {
        out.push_str(&super::live::render_summary(live, st));
    }
    for f in &d.findings {
        out.push('\n');
        out.push_str(&render_finding(f, st));
    }

    if let Some(chain) = &d.certificate_chain {
        let from = d
            .certificate_source
            .as_deref()
            .map(|s| format!(" (from {})", escape(s)))
            .unwrap_or_default();
        out.push_str(&format!("\n{}{}\n", st.bold("Certificates"), st.dim(&from)));
        for line in super::cert::render_certificates(chain, st.color).lines() {
            out.push_str(&format!("  {line}\n"));
        }
    }
    if let Some(o) = &d.ocsp {
        out.push_str(&super::ocsp::render_section(&d.target, Some(o), st));
    }
    if !d.verdicts.is_empty() {
        out.push_str(&super::live::render_clients(d, st));
    }
    out.push_str(&format!("\n{}\n", st.bold("Checked")));
    for c in &d.checked {
        out.push_str(&format!("  {}\n", st.dim(&escape(c))));
    }
    finish(out, st.color)
}

pub fn render_finding(f: &Finding, st: Style) -> String {
    let mut out = format!(
        "{} {}  {}\n",
        st.severity(f.severity),
        st.bold(f.id.as_str()),
        escape(&f.title)
    );
    let section = |out: &mut String, head: &str, lines: &[String]| {
        if !lines.is_empty() {
            out.push_str(&format!("  {}\n", st.cyan(head)));
            for l in lines {
                out.push_str(&format!("    - {}\n", escape(l)));
            }
        }
    };
    section(&mut out, "Evidence", &f.evidence);
    let breaks: Vec<String> = f
        .breaks
        .iter()
        .map(|b| format!("{}: {}", b.client, b.shown()))
        .collect();
    section(&mut out, "Breaks", &breaks);
    section(&mut out, "Fix on the server", &f.fix_server);
    section(&mut out, "Fix on the client", &f.fix_client);
    finish(out, st.color)
}

/// The first `n` characters of `s` (then "…"), escaped.
fn short(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        escape(s).into_owned()
    } else {
        format!("{}…", escape(&s.chars().take(n).collect::<String>()))
    }
}
