//! Markdown reports (GitHub-flavoured: renders in GitHub and GitLab issues and in Jira's
//! Markdown) of `check`, `scan` and `simulate`, for pasting into a ticket: the verdict, each
//! finding with its evidence, the clients it breaks with their exact error text and the fixes,
//! then the measured facts as compact tables. Every value goes through
//! [`crate::escape::markdown`], so a peer string cannot add markup or break a table.

use crate::cert::ChainAnalysis;
use crate::doctor::Diagnosis;
use crate::document::{CheckDocument, ScanDocument, SimulateDocument, SimulatedServer};
use crate::escape::markdown as md;
use crate::finding::{Finding, Severity};
use crate::live::Agreement;
use crate::live::reconcile::VerdictSource;
use crate::scan::ServerScan;
use crate::simulate::Simulation;

use super::verdict::{self, Kind, Verdict};

/// A GFM table; cells are Markdown already escaped by the caller.
struct Table {
    head: Vec<&'static str>,
    rows: Vec<Vec<String>>,
}

impl Table {
    fn new(head: &[&'static str]) -> Self {
        Table {
            head: head.to_vec(),
            rows: Vec::new(),
        }
    }

    fn row(&mut self, cells: Vec<String>) {
        self.rows.push(cells);
    }

    fn render(&self) -> String {
        let mut out = format!("| {} |\n", self.head.join(" | "));
        out.push_str(&format!(
            "|{}\n",
            self.head.iter().map(|_| " --- |").collect::<String>()
        ));
        for r in &self.rows {
            // An empty cell still needs content for some renderers to keep the column.
            let cells: Vec<&str> = r
                .iter()
                .map(|c| if c.is_empty() { " " } else { c.as_str() })
                .collect();
            out.push_str(&format!("| {} |\n", cells.join(" | ")));
        }
        out.push('\n');
        out
    }
}

fn verdict_line(v: &Verdict) -> String {
    let mark = match v.kind {
        Kind::Fails => "❌",
        Kind::Warns => "⚠️",
        Kind::Passes => "✅",
    };
    format!("**Verdict: {mark} {}**\n\n", md(&v.line()))
}

/// `check` as Markdown: one section per address examined.
pub fn render_check(doc: &CheckDocument) -> String {
    let mut out = format!("# tlsdoctor check {}\n\n", md(&doc.input));
    for n in &doc.notes {
        out.push_str(&format!("> **Note:** {}\n\n", md(n)));
    }
    let many = doc.diagnoses.len() > 1;
    for d in &doc.diagnoses {
        out.push_str(&render_diagnosis(d, many));
    }
    for e in &doc.errors {
        out.push_str(&format!(
            "**Not examined:** {}{}: {}\n\n",
            md(&e.target),
            e.address
                .as_deref()
                .map(|a| format!(" ({})", md(a)))
                .unwrap_or_default(),
            md(&e.error)
        ));
    }
    out.push_str(&footer(&doc.tool));
    out
}

fn render_diagnosis(d: &Diagnosis, heading: bool) -> String {
    let mut out = String::new();
    if heading {
        out.push_str(&format!("## {} ({})\n\n", md(&d.target), md(&d.address)));
    }
    out.push_str(&verdict_line(&verdict::of_diagnosis(d)));
    out.push_str(&format!(
        "Server {}{}, examined with {} connections.\n\n",
        md(&d.address),
        d.sni
            .as_deref()
            .map(|s| format!(", SNI {}", md(s)))
            .unwrap_or_else(|| ", no SNI".into()),
        d.connections
    ));
    if let Some(m) = &d.error_match {
        let text = md(&short(&m.text, 200));
        match &m.explained_by {
            Some(id) => out.push_str(&format!(
                "> The error you saw, \"{text}\", is explained by **{}** below.\n\n",
                md(id.as_str())
            )),
            None => out.push_str(&format!(
                "> The error you saw, \"{text}\", matches none of the findings on this server.\n\n"
            )),
        }
    }
    let h = if heading { "###" } else { "##" };
    if let Some(a) = &d.audit {
        out.push_str(&audit_section(a, h));
    }
    if !d.findings.is_empty() {
        out.push_str(&format!("{h} Findings\n\n"));
        for (i, f) in d.findings.iter().enumerate() {
            out.push_str(&render_finding(i + 1, f, h));
        }
    }
    if !d.verdicts.is_empty() {
        out.push_str(&format!("{h} Clients\n\n"));
        out.push_str(&verdicts_table(d));
    }
    if let Some(chain) = &d.certificate_chain {
        out.push_str(&format!("{h} Certificate chain\n\n"));
        if let Some(src) = &d.certificate_source {
            out.push_str(&format!("Taken from {}.\n\n", md(src)));
        }
        out.push_str(&chain_tables(chain));
    }
    if let Some(scan) = &d.scan {
        out.push_str(&format!("{h} Protocols and cipher suites\n\n"));
        out.push_str(&protocol_table(scan));
    }
    if !d.checked.is_empty() {
        out.push_str(&format!("{h} What was checked\n\n"));
        for c in &d.checked {
            out.push_str(&format!("- {}\n", md(c)));
        }
        out.push('\n');
    }
    out
}

/// The grade, its caps and the profile verdict.
fn audit_section(a: &crate::audit::Audit, h: &str) -> String {
    let mut out = format!(
        "{h} Grade: {}\n\n",
        md(&super::audit::grade_headline(&a.grade))
    );
    for l in super::audit::grade_lines(&a.grade) {
        out.push_str(&format!("- {}\n", md(&l)));
    }
    out.push('\n');
    if let Some(p) = &a.profile {
        out.push_str(&format!(
            "**Profile** {}\n\n",
            md(&super::audit::profile_line(p))
        ));
    }
    out
}

fn severity_label(s: Severity) -> &'static str {
    match s {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Info => "info",
    }
}

fn render_finding(n: usize, f: &Finding, h: &str) -> String {
    let mut out = format!(
        "{h}# {n}. {} ({}): {}\n\n",
        md(f.id.as_str()),
        severity_label(f.severity),
        md(&f.title)
    );
    let list = |out: &mut String, head: &str, lines: &[String]| {
        if lines.is_empty() {
            return;
        }
        out.push_str(&format!("**{head}**\n\n"));
        for l in lines {
            out.push_str(&format!("- {}\n", md(l)));
        }
        out.push('\n');
    };
    list(&mut out, "Evidence", &f.evidence);
    if !f.breaks.is_empty() {
        out.push_str("**Clients it breaks, and what they print**\n\n");
        let mut t = Table::new(&["Client", "Error"]);
        for b in &f.breaks {
            t.row(vec![md(&b.client), break_cell(b)]);
        }
        out.push_str(&t.render());
    }
    list(&mut out, "Fix on the server", &f.fix_server);
    list(&mut out, "Fix on the client", &f.fix_client);
    out
}

fn clients_table(sims: &[Simulation]) -> String {
    let mut t = Table::new(&["Client", "Result", "Negotiated or error"]);
    for s in sims {
        let (result, detail) = if s.connects {
            let detail = s.negotiated(" ");
            ("✅ connects", md(&detail))
        } else {
            let err = s.failure.as_ref().map(|f| f.error.as_str()).unwrap_or("");
            let why = s.failure.as_ref().map(|f| f.reason.as_str()).unwrap_or("");
            let mut detail = quoted(err);
            if err.is_empty() {
                detail.push_str(&format!(": {}", md(why)));
            }
            ("❌ fails", detail)
        };
        t.row(vec![md(&s.client_name), result.to_string(), detail]);
    }
    t.render()
}

/// `check`'s clients: each verdict observed (the real client ran here) or predicted, and
/// where an observation contradicts the prediction, what the prediction said.
fn verdicts_table(d: &Diagnosis) -> String {
    let mut t = Table::new(&["Client", "Result", "Seen how", "Negotiated or error"]);
    let mut contradicted = Vec::new();
    for v in &d.verdicts {
        let (result, detail) = if v.connects {
            ("✅ connects", md(&super::verdict_detail(d, v)))
        } else {
            ("❌ fails", quoted(v.error.as_deref().unwrap_or("")))
        };
        let how = match v.source {
            VerdictSource::Observed => "observed",
            VerdictSource::Predicted => "predicted",
        };
        if v.agreement == Some(Agreement::Contradicts) {
            if let Some(p) = &v.predicted {
                contradicted.push(format!(
                    "- {}: predicted to {}, but the real client {}.\n",
                    md(&v.client_name),
                    if p.connects { "connect" } else { "fail" },
                    if v.connects { "connected" } else { "failed" }
                ));
            }
        }
        t.row(vec![
            md(&v.client_name),
            result.to_string(),
            how.into(),
            detail,
        ]);
    }
    let mut out = t.render();
    if !contradicted.is_empty() {
        out.push_str("**Observation contradicts the prediction** (the verdicts follow what the clients did)\n\n");
        out.push_str(&contradicted.concat());
        out.push('\n');
    }
    out
}

fn chain_tables(chain: &ChainAnalysis) -> String {
    let mut t = Table::new(&["#", "Subject", "Issuer", "Valid until", "Key", "Signature"]);
    for (i, c) in chain.certificates.iter().enumerate() {
        t.row(vec![
            (i + 1).to_string(),
            md(&c.subject),
            md(&c.issuer),
            format!("{} ({} days)", md(&c.not_after), c.days_left),
            md(&format!("{} {} bits", c.key_type, c.key_bits)),
            md(&c.signature_algorithm),
        ]);
    }
    let mut out = t.render();
    let mut v = Table::new(&["Trust store", "Trusted", "Path", "Problem"]);
    for s in &chain.verdicts {
        v.row(vec![
            md(&format!("{} ({})", s.store, s.source)),
            if s.trusted { "yes" } else { "**no**" }.to_string(),
            md(&s.path.join(" → ")),
            md(s.problem.as_deref().unwrap_or("")),
        ]);
    }
    out.push_str(&v.render());
    out
}

/// The versions, and each one's suites where the suite check ran (`scan --checks` can leave
/// it out: then the table has no suites column rather than an empty one).
fn protocol_table(s: &ServerScan) -> String {
    let with_suites = s.ran::<crate::scan::ciphers::Suites>();
    let headers: &[&'static str] = if with_suites {
        &["Version", "Accepted", "Cipher suites (strength)"]
    } else {
        &["Version", "Accepted"]
    };
    let mut t = Table::new(headers);
    for r in &s.protocols.results {
        let mut row = vec![
            md(&r.name),
            if r.accepted { "yes" } else { "no" }.to_string(),
        ];
        if with_suites {
            row.push(
                s.cipher_suites
                    .iter()
                    .find(|vs| vs.version == r.version)
                    .map(|vs| {
                        vs.suites
                            .iter()
                            .map(|x| {
                                let level = x
                                    .strength
                                    .as_ref()
                                    .map(|st| format!("{:?}", st.level).to_lowercase())
                                    .unwrap_or_else(|| "unknown".into());
                                format!("{} ({level})", md(x.openssl.as_deref().unwrap_or(&x.iana)))
                            })
                            .collect::<Vec<_>>()
                            .join(", ")
                    })
                    .unwrap_or_default(),
            );
        }
        t.row(row);
    }
    t.render()
}

/// `scan` as Markdown: per server the versions and suites, key exchange, properties and the
/// chain.
pub fn render_scan(doc: &ScanDocument) -> String {
    let mut out = format!("# tlsdoctor scan {}\n\n", md(&doc.input));
    for n in &doc.notes {
        out.push_str(&format!("> **Note:** {}\n\n", md(n)));
    }
    for server in &doc.servers {
        let s = &server.scan;
        out.push_str(&format!("## {} ({})\n\n", md(&s.target), md(&s.address)));
        out.push_str(&format!(
            "SNI {}; {} connections in {} ms.\n\n",
            md(s.sni.as_deref().unwrap_or("(none sent)")),
            s.connections,
            s.elapsed_ms
        ));
        // A core check left out by `--checks` has no section (its fields hold no measurement).
        out.push_str(if s.ran::<crate::scan::ciphers::Suites>() {
            "### Protocols and cipher suites\n\n"
        } else {
            "### Protocols\n\n"
        });
        out.push_str(&protocol_table(s));
        let kx = &s.key_exchange;
        let names = |g: &[crate::scan::groups::Group]| {
            md(&g
                .iter()
                .map(|g| g.name.as_str())
                .collect::<Vec<_>>()
                .join(", "))
        };
        if s.ran::<crate::scan::groups::Groups>() {
            out.push_str("### Key exchange\n\n");
            let mut t = Table::new(&["What", "Value"]);
            t.row(vec!["TLS 1.3 groups".into(), names(&kx.tls13_groups)]);
            t.row(vec!["ECDHE curves".into(), names(&kx.ecdhe_curves)]);
            t.row(vec![
                "DHE prime".into(),
                kx.dh_bits.map(|b| format!("{b} bits")).unwrap_or_default(),
            ]);
            out.push_str(&t.render());
        }
        if s.ran::<crate::scan::properties::Properties>() {
            out.push_str("### Handshake properties\n\n");
            out.push_str(&properties_table(s));
        }
        if let Some(audit) = &server.audit {
            out.push_str(&audit_section(audit, "###"));
            for (i, f) in audit.findings.iter().enumerate() {
                out.push_str(&render_finding(i + 1, f, "###"));
            }
        }
        if let Some(chain) = &server.certificate_chain {
            out.push_str("### Certificate chain\n\n");
            out.push_str(&chain_tables(chain));
            for (i, f) in chain.findings.iter().enumerate() {
                out.push_str(&render_finding(i + 1, f, "###"));
            }
        }
    }
    for e in &doc.errors {
        out.push_str(&format!(
            "**Not scanned:** {}: {}\n\n",
            md(&e.target),
            md(&e.error)
        ));
    }
    out.push_str(&footer(&doc.tool));
    out
}

fn properties_table(s: &ServerScan) -> String {
    let p = &s.properties;
    let yes_no = |v: Option<bool>| match v {
        Some(true) => "yes",
        Some(false) => "no",
        None => "?",
    };
    let mut t = Table::new(&["Property", "Value", "Evidence"]);
    for (label, prop) in [
        ("Secure renegotiation (RFC 5746)", &p.secure_renegotiation),
        ("TLS compression", &p.compression),
        ("Extended master secret", &p.extended_master_secret),
        ("Session tickets", &p.session_ticket),
        ("Resumption by session ID", &p.resumption_session_id),
        ("Resumption by ticket", &p.resumption_ticket),
        ("TLS_FALLBACK_SCSV honoured", &p.fallback_scsv),
        ("OCSP stapling", &p.ocsp_stapling),
    ] {
        t.row(vec![
            label.to_string(),
            yes_no(prop.supported).to_string(),
            md(&prop.evidence),
        ]);
    }
    t.row(vec![
        "ALPN".into(),
        md(&p.alpn.join(", ")),
        md(&p.alpn_evidence),
    ]);
    t.row(vec![
        "Client certificate requested".into(),
        if p.client_certificate.requested {
            "yes"
        } else {
            "no"
        }
        .into(),
        md(&p.client_certificate.evidence),
    ]);
    t.render()
}

/// `simulate` as Markdown: per server, one row per client.
pub fn render_simulate(doc: &SimulateDocument) -> String {
    let mut out = format!("# tlsdoctor simulate {}\n\n", md(&doc.input));
    for n in &doc.notes {
        out.push_str(&format!("> **Note:** {}\n\n", md(n)));
    }
    for s in &doc.servers {
        out.push_str(&simulated_server(s));
    }
    for e in &doc.errors {
        out.push_str(&format!(
            "**Not simulated:** {}: {}\n\n",
            md(&e.target),
            md(&e.error)
        ));
    }
    out.push_str(&footer(&doc.tool));
    out
}

fn simulated_server(s: &SimulatedServer) -> String {
    let mut out = format!("## {} ({})\n\n", md(&s.target), md(&s.address));
    out.push_str(&verdict_line(&verdict::of_simulation(s)));
    if !s.accepted_versions.is_empty() {
        out.push_str(&format!(
            "The server accepts {}.\n\n",
            md(&s.accepted_versions.join(", "))
        ));
    }
    out.push_str(&clients_table(&s.simulations));
    let failing: Vec<&Simulation> = s.simulations.iter().filter(|x| !x.connects).collect();
    if !failing.is_empty() {
        out.push_str("**Why they fail**\n\n");
        for sim in failing {
            if let Some(f) = &sim.failure {
                out.push_str(&format!("- {}: {}\n", md(&sim.client_name), md(&f.reason)));
            }
        }
        out.push('\n');
    }
    out
}

fn footer(tool: &str) -> String {
    format!("---\n_Report by {}._\n", md(tool))
}

/// Text for inside a code span: escaped like any value for the terminal, with backticks
/// replaced (a code span cannot contain its own delimiter) and `|` escaped, since GFM splits
/// table cells before it sees code spans.
fn code(s: &str) -> String {
    crate::escape::escape(s)
        .replace('`', "'")
        .replace('|', "\\|")
}

/// The first `n` characters of `s`, then "…".
fn short(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_string()
    } else {
        format!("{}…", s.chars().take(n).collect::<String>())
    }
}

/// A client's error text as code, or that there is none to quote.
fn quoted(err: &str) -> String {
    if err.is_empty() {
        "_no quoted text_".to_string()
    } else {
        format!("`{}`", code(err))
    }
}

/// A break's error cell: the text as code (with what comes first, when something does), or
/// that there is no text to quote and why.
fn break_cell(b: &crate::finding::ClientBreak) -> String {
    use crate::finding::Shown;
    match b.parts() {
        Shown::Unquoted(why) => format!("_no quoted text_: {}", md(why)),
        Shown::After(error, after) => format!("`{}` ({})", code(error), md(after)),
        Shown::Text(error) => format!("`{}`", code(error)),
    }
}
