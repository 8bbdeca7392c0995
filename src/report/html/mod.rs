//! HTML reports of `check`, `scan` and `simulate`: one self-contained file to attach to a
//! mail or a ticket. The verdict first; a client × outcome matrix; the certificate chain as a
//! diagram and a validity timeline; the protocol × cipher-suite table coloured by strength;
//! the findings with their fixes. Every value passes [`crate::escape::html`].

mod page;
mod svg;

use std::fmt::Write;

use crate::cert::ChainAnalysis;
use crate::doctor::Diagnosis;
use crate::document::{CheckDocument, ScanDocument, SimulateDocument, SimulatedServer};
use crate::escape::html as h;
use crate::finding::{Finding, Severity};
use crate::live::Agreement;
use crate::live::reconcile::VerdictSource;
use crate::scan::ServerScan;
use crate::scan::strength::StrengthLevel;
use crate::simulate::Simulation;

use super::verdict::{self, Kind, Verdict};

fn verdict_block(v: &Verdict) -> String {
    let class = match v.kind {
        Kind::Fails => "fail",
        Kind::Warns => "warn",
        Kind::Passes => "pass",
    };
    format!("<p class=\"verdict {class}\">{}</p>\n", h(&v.line()))
}

/// `check` as one HTML page.
pub fn render_check(doc: &CheckDocument) -> String {
    let mut body = format!("<h1>tlsdoctor check {}</h1>\n", h(&doc.input));
    for n in &doc.notes {
        let _ = writeln!(body, "<p class=\"meta\">Note: {}</p>", h(n));
    }
    let many = doc.diagnoses.len() > 1;
    for d in &doc.diagnoses {
        body.push_str(&diagnosis(d, many));
    }
    body.push_str(&failures(&doc.errors, "Not examined"));
    page::page(&format!("tlsdoctor check {}", doc.input), &body, &doc.tool)
}

fn diagnosis(d: &Diagnosis, heading: bool) -> String {
    let mut out = String::from("<section class=\"diagnosis\">\n");
    if heading {
        let _ = writeln!(out, "<h2>{} ({})</h2>", h(&d.target), h(&d.address));
    }
    out.push_str(&verdict_block(&verdict::of_diagnosis(d)));
    let _ = writeln!(
        out,
        "<p class=\"meta\">Server {}{}; {} connections for the whole check.</p>",
        h(&d.address),
        d.sni
            .as_deref()
            .map(|s| format!(", SNI {}", h(s)))
            .unwrap_or_else(|| ", no SNI".into()),
        d.connections
    );
    if let Some(m) = &d.error_match {
        let _ = writeln!(
            out,
            "<p>The error you saw, <code>{}</code>, {}</p>",
            h(&m.text),
            match &m.explained_by {
                Some(id) => format!("is explained by <strong>{}</strong> below.", h(id.as_str())),
                None => "matches none of the findings on this server.".to_string(),
            }
        );
    }
    if !d.verdicts.is_empty() {
        out.push_str("<h2>Which clients connect</h2>\n");
        out.push_str(&verdict_matrix(d));
    }
    if let Some(a) = &d.audit {
        out.push_str(&audit_section(a));
    }
    if !d.findings.is_empty() {
        out.push_str("<h2>Findings</h2>\n");
        for f in &d.findings {
            out.push_str(&finding(f));
        }
    }
    if let Some(chain) = &d.certificate_chain {
        out.push_str(&chain_section(chain, d.certificate_source.as_deref()));
    }
    if let Some(scan) = &d.scan {
        out.push_str("<h2>Protocols and cipher suites</h2>\n");
        out.push_str(&suite_table(scan));
    }
    if !d.checked.is_empty() {
        out.push_str("<h2>What was checked</h2>\n<ul>\n");
        for c in &d.checked {
            let _ = writeln!(out, "<li>{}</li>", h(c));
        }
        out.push_str("</ul>\n");
    }
    out.push_str("</section>\n");
    out
}

/// Every simulated client and its outcome: connects (with what) or fails (with its text).
fn client_matrix(sims: &[Simulation]) -> String {
    let mut out = String::from(
        "<div class=\"scroll\"><table class=\"client-matrix\">\n\
         <tr><th>Client</th><th>Outcome</th><th>Negotiated, or the error it prints</th></tr>\n",
    );
    for s in sims {
        if s.connects {
            let detail = s.negotiated(" ");
            let _ = writeln!(
                out,
                "<tr><td>{}</td><td class=\"ok\">connects</td><td class=\"mono\">{}</td></tr>",
                h(&s.client_name),
                h(&detail)
            );
        } else {
            let err = s.failure.as_ref().map(|f| f.error.as_str()).unwrap_or("");
            let why = s.failure.as_ref().map(|f| f.reason.as_str()).unwrap_or("");
            let err = quoted(err);
            let _ = writeln!(
                out,
                "<tr><td>{}</td><td class=\"bad\">fails</td><td>{err}<br>{}</td></tr>",
                h(&s.client_name),
                h(why)
            );
        }
    }
    out.push_str("</table></div>\n");
    out
}

/// `check`'s clients: each verdict observed (the real client ran here) or predicted; an
/// observation that contradicts its prediction says so.
fn verdict_matrix(d: &Diagnosis) -> String {
    let mut out = String::from(
        "<div class=\"scroll\"><table class=\"client-matrix\">\n\
         <tr><th>Client</th><th>Outcome</th><th>Seen how</th><th>Negotiated, or the error it prints</th></tr>\n",
    );
    for v in &d.verdicts {
        let how = match v.source {
            VerdictSource::Observed => "observed",
            VerdictSource::Predicted => "predicted",
        };
        let contradiction = match (&v.agreement, &v.predicted) {
            (Some(Agreement::Contradicts), Some(p)) => format!(
                "<br><strong>The prediction said it {}; the verdict follows what it did.</strong>",
                if p.connects { "connects" } else { "fails" }
            ),
            _ => String::new(),
        };
        let simulated = d
            .simulations
            .iter()
            .find(|s| v.source == VerdictSource::Predicted && s.client == v.client);
        if v.connects {
            let detail = super::verdict_detail(d, v);
            let _ = writeln!(
                out,
                "<tr><td>{}</td><td class=\"ok\">connects</td><td>{how}</td><td class=\"mono\">{}{contradiction}</td></tr>",
                h(&v.client_name),
                h(&detail)
            );
        } else {
            let why = simulated
                .and_then(|s| s.failure.as_ref())
                .map(|f| format!("<br>{}", h(&f.reason)))
                .unwrap_or_default();
            let _ = writeln!(
                out,
                "<tr><td>{}</td><td class=\"bad\">fails</td><td>{how}</td><td>{}{why}{contradiction}</td></tr>",
                h(&v.client_name),
                quoted(v.error.as_deref().unwrap_or(""))
            );
        }
    }
    out.push_str("</table></div>\n");
    out
}

/// The grade, its caps and the profile verdict.
fn audit_section(a: &crate::audit::Audit) -> String {
    let mut out = format!(
        "<h2 data-grade=\"{}\">Grade {}</h2>\n<ul>\n",
        h(a.grade.shown().as_str()),
        h(&super::audit::grade_headline(&a.grade))
    );
    for l in super::audit::grade_lines(&a.grade) {
        let _ = writeln!(out, "<li>{}</li>", h(&l));
    }
    out.push_str("</ul>\n");
    if let Some(p) = &a.profile {
        let _ = writeln!(
            out,
            "<p data-compliant=\"{}\"><strong>Profile</strong> {}</p>",
            p.compliant,
            h(&super::audit::profile_line(p))
        );
    }
    out
}

fn finding(f: &Finding) -> String {
    let class = match f.severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Info => "info",
    };
    let mut out = format!(
        "<div class=\"finding {class}\" data-finding=\"{}\">\n<span class=\"sev\">{} · {}</span>\n<h3>{}</h3>\n",
        h(f.id.as_str()),
        class,
        h(f.id.as_str()),
        h(&f.title)
    );
    let list = |out: &mut String, head: &str, lines: &[String]| {
        if lines.is_empty() {
            return;
        }
        let _ = writeln!(out, "<h4>{head}</h4>\n<ul>");
        for l in lines {
            let _ = writeln!(out, "<li>{}</li>", h(l));
        }
        out.push_str("</ul>\n");
    };
    list(&mut out, "Evidence", &f.evidence);
    if !f.breaks.is_empty() {
        out.push_str(
            "<h4>Clients it breaks</h4>\n<div class=\"scroll\"><table>\n<tr><th>Client</th><th>What it prints</th></tr>\n",
        );
        for b in &f.breaks {
            let _ = writeln!(
                out,
                "<tr><td>{}</td><td>{}</td></tr>",
                h(&b.client),
                break_cell(b)
            );
        }
        out.push_str("</table></div>\n");
    }
    list(&mut out, "Fix on the server", &f.fix_server);
    list(&mut out, "Fix on the client", &f.fix_client);
    out.push_str("</div>\n");
    out
}

fn chain_section(chain: &ChainAnalysis, source: Option<&str>) -> String {
    let mut out = String::from("<h2>Certificate chain</h2>\n");
    if let Some(src) = source {
        let _ = writeln!(out, "<p class=\"meta\">Taken from {}.</p>", h(src));
    }
    let _ = writeln!(
        out,
        "<div class=\"scroll\">{}</div>",
        svg::chain_diagram(chain)
    );
    out.push_str("<h3>Validity</h3>\n");
    let _ = writeln!(
        out,
        "<div class=\"scroll\">{}</div>",
        svg::validity_timeline(&chain.certificates)
    );
    out.push_str(
        "<div class=\"scroll\"><table class=\"certificates\">\n<tr><th>#</th><th>Subject</th><th>Issuer</th>\
         <th>Valid</th><th>Key and signature</th><th>Names</th></tr>\n",
    );
    for (i, c) in chain.certificates.iter().enumerate() {
        let _ = writeln!(
            out,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{} to {} ({} days left)</td>\
             <td>{} {} bits, {}</td><td>{}</td></tr>",
            i + 1,
            h(&c.subject),
            h(&c.issuer),
            h(&c.not_before),
            h(&c.not_after),
            c.days_left,
            h(&c.key_type),
            c.key_bits,
            h(&c.signature_algorithm),
            h(&c.sans.join(", "))
        );
    }
    out.push_str("</table></div>\n");
    out
}

/// Protocol versions × cipher suites, each suite coloured by its strength; without the suites
/// column where `scan --checks` left the suite check out.
fn suite_table(s: &ServerScan) -> String {
    let with_suites = s.ran::<crate::scan::ciphers::Suites>();
    let mut out = String::from(
        "<div class=\"scroll\"><table class=\"suites\">\n<tr><th>Version</th><th>Accepted</th>",
    );
    out.push_str(if with_suites {
        "<th>Cipher suites</th></tr>\n"
    } else {
        "</tr>\n"
    });
    for r in &s.protocols.results {
        let _ = write!(
            out,
            "<tr><td>{}</td><td class=\"{}\">{}</td>",
            h(&r.name),
            if r.accepted { "ok" } else { "" },
            if r.accepted { "yes" } else { "no" }
        );
        if with_suites {
            let suites = s
                .cipher_suites
                .iter()
                .find(|vs| vs.version == r.version)
                .map(|vs| {
                    vs.suites
                        .iter()
                        .map(|x| {
                            let (class, label) = match x.strength.as_ref().map(|st| st.level) {
                                Some(StrengthLevel::Secure) => ("s-secure", "secure"),
                                Some(StrengthLevel::Weak) => ("s-weak", "weak"),
                                Some(StrengthLevel::Insecure) => ("s-insecure", "insecure"),
                                None => ("s-unknown", "unknown"),
                            };
                            format!(
                                "<span class=\"mono {class}\" title=\"{label}\">{}</span> ",
                                h(x.openssl.as_deref().unwrap_or(&x.iana))
                            )
                        })
                        .collect::<String>()
                })
                .unwrap_or_default();
            let _ = write!(out, "<td>{suites}</td>");
        }
        out.push_str("</tr>\n");
    }
    out.push_str("</table></div>\n");
    out
}

/// `scan` as one HTML page.
pub fn render_scan(doc: &ScanDocument) -> String {
    let mut body = format!("<h1>tlsdoctor scan {}</h1>\n", h(&doc.input));
    for n in &doc.notes {
        let _ = writeln!(body, "<p class=\"meta\">Note: {}</p>", h(n));
    }
    for server in &doc.servers {
        let s = &server.scan;
        let _ = writeln!(
            body,
            "<section class=\"server\"><h2>{} ({})</h2>\n<p class=\"meta\">SNI {}; {} connections in {} ms.</p>",
            h(&s.target),
            h(&s.address),
            h(s.sni.as_deref().unwrap_or("(none sent)")),
            s.connections,
            s.elapsed_ms
        );
        body.push_str(&suite_table(s));
        if let Some(audit) = &server.audit {
            body.push_str(&audit_section(audit));
            for f in &audit.findings {
                body.push_str(&finding(f));
            }
        }
        if let Some(chain) = &server.certificate_chain {
            body.push_str(&chain_section(chain, None));
            for f in &chain.findings {
                body.push_str(&finding(f));
            }
        }
        body.push_str("</section>\n");
    }
    body.push_str(&failures(&doc.errors, "Not scanned"));
    page::page(&format!("tlsdoctor scan {}", doc.input), &body, &doc.tool)
}

/// `simulate` as one HTML page.
pub fn render_simulate(doc: &SimulateDocument) -> String {
    let mut body = format!("<h1>tlsdoctor simulate {}</h1>\n", h(&doc.input));
    for s in &doc.servers {
        body.push_str(&simulated(s));
    }
    body.push_str(&failures(&doc.errors, "Not simulated"));
    page::page(
        &format!("tlsdoctor simulate {}", doc.input),
        &body,
        &doc.tool,
    )
}

fn simulated(s: &SimulatedServer) -> String {
    let mut out = format!(
        "<section class=\"server\"><h2>{} ({})</h2>\n",
        h(&s.target),
        h(&s.address)
    );
    out.push_str(&verdict_block(&verdict::of_simulation(s)));
    if !s.accepted_versions.is_empty() {
        let _ = writeln!(
            out,
            "<p class=\"meta\">The server accepts {}.</p>",
            h(&s.accepted_versions.join(", "))
        );
    }
    out.push_str(&client_matrix(&s.simulations));
    out.push_str("</section>\n");
    out
}

fn failures(errors: &[crate::document::AddressFailure], what: &str) -> String {
    let mut out = String::new();
    for e in errors {
        let _ = writeln!(
            out,
            "<p class=\"verdict fail\">{what}: {}{}: {}</p>",
            h(&e.target),
            e.address
                .as_deref()
                .map(|a| format!(" ({})", h(a)))
                .unwrap_or_default(),
            h(&e.error)
        );
    }
    out
}

/// A client's error text as code, or that there is none to quote.
fn quoted(err: &str) -> String {
    if err.is_empty() {
        "<em>no quoted text</em>".to_string()
    } else {
        format!("<code>{}</code>", h(err))
    }
}

/// A break's "what it prints" cell: the text as code (with what comes first, when something
/// does), or that there is no text to quote and why.
fn break_cell(b: &crate::finding::ClientBreak) -> String {
    use crate::finding::Shown;
    match b.parts() {
        Shown::Unquoted(why) => format!("<em>no quoted text</em>: {}", h(why)),
        Shown::After(error, after) => format!("<code>{}</code> ({})", h(error), h(after)),
        Shown::Text(error) => format!("<code>{}</code>", h(error)),
    }
}
