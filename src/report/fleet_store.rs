//! Human rendering of what the fleet results store answers: `fleet summary`, `fleet diff`,
//! `fleet import` and `fleet runs`. Every string from the store came from a peer or a file
//! (targets, subjects, errors, labels), so every one goes through `escape::escape`.

use super::style::{Style, pad};
use crate::escape::{escape, finish};
use crate::fleet::store::diff::{ChangeKind, Diff, Leaf, TargetChange};
use crate::fleet::store::summary::{Summary, version_name};
use crate::fleet::store::{ImportReport, Run};
use std::fmt::Write;

fn severity(style: Style, s: &str) -> String {
    let text = format!("{:<7}", escape(s));
    match s {
        "error" => style.red(&text),
        "warning" => style.yellow(&text),
        _ => style.cyan(&text),
    }
}

/// "run 3 'week-48' (scan, 120 targets, 2 failed; tlsdoctor 0.1.0; shard 1/4; 2026-…)".
fn run_line(r: &Run) -> String {
    let mut s = format!("run {}", r.id);
    if let Some(l) = &r.label {
        let _ = write!(s, " '{}'", escape(l));
    }
    let _ = write!(
        s,
        " ({}, {} target{}, {} failed; tlsdoctor {}",
        escape(&r.command),
        r.targets,
        if r.targets == 1 { "" } else { "s" },
        r.failed,
        escape(&r.tool_version)
    );
    if let Some(sh) = &r.shard {
        let _ = write!(s, "; shard {}", escape(sh));
    }
    let _ = write!(s, "; started {}", r.started);
    match &r.finished {
        Some(f) => {
            let _ = write!(s, ", finished {f})");
        }
        None => s.push_str(", not finished)"),
    }
    s
}

pub fn render_summary(sum: &Summary, style: Style) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{}",
        style.bold(&format!("Fleet summary: {}", run_line(&sum.run)))
    );
    let _ = writeln!(out, "\n{}", style.bold("Findings (targets)"));
    if sum.findings.is_empty() {
        let _ = writeln!(out, "  none");
    }
    let idw = sum.findings.iter().map(|f| f.id.len()).max().unwrap_or(0);
    for f in &sum.findings {
        let _ = writeln!(
            out,
            "  {} {} {:>6}",
            severity(style, &f.severity),
            pad(&escape(&f.id), idw),
            f.targets
        );
    }
    let _ = writeln!(out, "\n{}", style.bold("Protocol versions (targets)"));
    if sum.protocols.is_empty() {
        let _ = writeln!(out, "  none");
    }
    for p in &sum.protocols {
        let _ = writeln!(out, "  {} {:>6}", pad(&escape(&p.name), 8), p.targets);
    }
    let _ = writeln!(out, "\n{}", style.bold("Cipher suites (targets)"));
    if sum.suites.is_empty() {
        let _ = writeln!(out, "  none");
    }
    let sw = sum.suites.iter().map(|s| s.suite.len()).max().unwrap_or(0);
    for s in &sum.suites {
        let strength = s.strength.as_deref().unwrap_or("unknown");
        let _ = writeln!(
            out,
            "  {} {} {:>6}  {}",
            pad(&escape(&version_name(&s.version)), 8),
            pad(&escape(&s.suite), sw),
            s.targets,
            escape(strength)
        );
    }
    let e = &sum.expiring;
    let _ = writeln!(
        out,
        "\n{}",
        style.bold(&format!(
            "Certificates expiring within {} days (as of {})",
            e.within_days, e.as_of
        ))
    );
    if e.certificates.is_empty() {
        let _ = writeln!(out, "  none");
    }
    for c in &e.certificates {
        let when = if c.days_left < 0 {
            style.red(&format!("expired {} days ago", -c.days_left))
        } else {
            style.yellow(&format!("{} days left", c.days_left))
        };
        let which = if c.position == 0 {
            String::new()
        } else {
            format!(" (chain certificate {})", c.position)
        };
        let _ = writeln!(
            out,
            "  {}  {}  {}  {}{}",
            escape(c.not_after.as_deref().unwrap_or("?")),
            when,
            escape(&c.target),
            escape(&c.subject),
            which
        );
    }
    let _ = writeln!(out, "\n{}", style.bold("Failed targets"));
    if sum.failed.is_empty() {
        let _ = writeln!(out, "  none");
    }
    for f in &sum.failed {
        let _ = writeln!(out, "  {}  {}", escape(&f.target), escape(&f.error));
    }
    finish(out, style.color)
}

fn leaves(ls: &[Leaf]) -> String {
    if ls.is_empty() {
        return "none".into();
    }
    ls.iter()
        .map(|l| {
            format!(
                "{} {} (expires {})",
                escape(&l.subject),
                escape(&l.fingerprint),
                escape(l.not_after.as_deref().unwrap_or("?"))
            )
        })
        .collect::<Vec<_>>()
        .join(", ")
}

fn change_lines(out: &mut String, t: &TargetChange) {
    let mut line = |label: &str, items: Vec<String>| {
        if !items.is_empty() {
            let _ = writeln!(out, "    {label}: {}", items.join(", "));
        }
    };
    let names = |vs: &[String]| {
        vs.iter()
            .map(|v| escape(&version_name(v)).into_owned())
            .collect()
    };
    line("versions added", names(&t.versions_added));
    line("versions dropped", names(&t.versions_dropped));
    let suites = |ss: &[crate::fleet::store::diff::SuiteRef]| {
        ss.iter()
            .map(|s| format!("{} {}", escape(&version_name(&s.version)), escape(&s.suite)))
            .collect()
    };
    line("suites added", suites(&t.suites_added));
    line("suites dropped", suites(&t.suites_dropped));
    if let Some(c) = &t.certificate {
        line(
            "certificate replaced",
            vec![format!("{} -> {}", leaves(&c.old), leaves(&c.new))],
        );
    }
    let findings = |fs: &[crate::fleet::store::diff::FindingRef]| {
        fs.iter()
            .map(|f| format!("{} ({})", escape(&f.id), escape(&f.severity)))
            .collect()
    };
    line("findings appeared", findings(&t.findings_appeared));
    line("findings resolved", findings(&t.findings_resolved));
}

pub fn render_diff(d: &Diff, style: Style) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "{}", style.bold("Fleet diff"));
    let _ = writeln!(out, "  from {}", run_line(&d.run_a));
    let _ = writeln!(out, "  to   {}", run_line(&d.run_b));
    let c = &d.counts;
    let _ = writeln!(
        out,
        "  {} changed, {} added, {} removed, {} newly failing, {} recovered, {} unchanged\n",
        c.changed, c.added, c.removed, c.newly_failing, c.recovered, c.unchanged
    );
    for t in &d.targets {
        let target = escape(&t.target);
        let error = escape(t.error.as_deref().unwrap_or("")).into_owned();
        let head = match t.change {
            ChangeKind::Changed => format!("{} changed", style.bold(&target)),
            ChangeKind::Added if t.error.is_some() => format!(
                "{} {} (and fails: {error})",
                style.bold(&target),
                style.cyan("added")
            ),
            ChangeKind::Added => format!("{} {}", style.bold(&target), style.cyan("added")),
            ChangeKind::Removed => format!("{} {}", style.bold(&target), style.dim("removed")),
            ChangeKind::NewlyFailing => format!(
                "{} {}: {error}",
                style.bold(&target),
                style.red("newly failing")
            ),
            ChangeKind::Recovered => format!(
                "{} {} (it failed with: {error})",
                style.bold(&target),
                style.green("recovered")
            ),
        };
        let _ = writeln!(out, "  {head}");
        change_lines(&mut out, t);
    }
    if d.targets.is_empty() {
        let _ = writeln!(out, "  nothing changed");
    }
    finish(out, style.color)
}

pub fn render_import(r: &ImportReport, style: Style) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "imported {} line{} from {} file{} into run {}{}: {} targets in the run, {} failed",
        r.lines,
        if r.lines == 1 { "" } else { "s" },
        r.files.len(),
        if r.files.len() == 1 { "" } else { "s" },
        r.run,
        if r.appended { " (added to it)" } else { "" },
        r.targets,
        r.failed
    );
    if r.skipped_count > 0 {
        let _ = writeln!(
            out,
            "{}",
            style.yellow(&format!("skipped {} line(s):", r.skipped_count))
        );
        for s in &r.skipped {
            let _ = writeln!(
                out,
                "  {}:{}: {}",
                escape(&s.file),
                s.line,
                escape(&s.error)
            );
        }
    }
    finish(out, style.color)
}

pub fn render_runs(runs: &[Run], style: Style) -> String {
    let mut out = String::new();
    if runs.is_empty() {
        out.push_str("no runs\n");
    }
    for r in runs {
        let _ = writeln!(out, "{}", run_line(r));
    }
    finish(out, style.color)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fleet::store::{NewRun, Store};
    use serde_json::json;

    const NOW: i64 = 1_796_083_200; // 2026-12-01T00:00:00Z

    fn doc(target: &str, versions: &[&str], fp: &str, finding: Option<&str>) -> serde_json::Value {
        let protocols: Vec<_> = versions
            .iter()
            .map(|v| json!({"version": v, "accepted": true}))
            .collect();
        let findings: Vec<_> = finding
            .iter()
            .map(|f| json!({"id": f, "severity": "warning"}))
            .collect();
        json!({"input": target, "servers": [{"address": "127.0.0.1:1", "protocols": protocols,
            "cipher_suites": [{"version": "tls1_2", "suites": [
                {"id": "0xc02f", "iana": "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
                 "strength": {"level": "secure"}}]}],
            "certificate_chain": {"certificates": [{"subject": "CN=a", "issuer": "CN=a",
                "sans": [], "not_after": "2026-12-04T00:00:00Z", "not_after_unix": NOW + 3 * 86_400,
                "sha256_fingerprint": fp}], "findings": findings}}]})
    }

    fn store() -> (
        Store,
        crate::fleet::store::RunId,
        crate::fleet::store::RunId,
    ) {
        let mut s = Store::in_memory().unwrap();
        let mut runs = Vec::new();
        for docs in [
            vec![
                doc("a:1", &["tls1_0", "tls1_2"], "F1", Some("w")),
                json!({"input": "b:2",
                "servers": [], "errors": [{"target": "b:2", "address": null, "error": "refused"}]}),
            ],
            vec![doc("a:1", &["tls1_2"], "F2", None)],
        ] {
            let run = s.begin_run(&NewRun::this_process("scan")).unwrap();
            for d in &docs {
                s.record_target(run, d).unwrap();
            }
            runs.push(run);
        }
        (s, runs[0], runs[1])
    }

    /// The text without the run line (its times and arguments vary).
    fn body(text: &str) -> String {
        text.lines().skip(1).collect::<Vec<_>>().join("\n")
    }

    #[test]
    fn the_summary_in_text() {
        let (s, a, _) = store();
        let text = render_summary(&s.summary(a, 30, NOW).unwrap(), Style::plain());
        assert!(
            text.starts_with("Fleet summary: run 1 (scan, 2 targets, 1 failed; "),
            "{text}"
        );
        let want = "
Findings (targets)
  warning w      1

Protocol versions (targets)
  TLSv1.0       1
  TLSv1.2       1

Cipher suites (targets)
  TLSv1.2  TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256      1  secure

Certificates expiring within 30 days (as of 2026-12-01T00:00:00Z)
  2026-12-04T00:00:00Z  3 days left  a:1  CN=a

Failed targets
  b:2  refused";
        assert_eq!(body(&text), want);
    }

    #[test]
    fn the_diff_in_text() {
        let (s, a, b) = store();
        let text = render_diff(&s.diff(a, b).unwrap(), Style::plain());
        let lines: Vec<&str> = text.lines().skip(3).collect();
        assert_eq!(
            lines,
            [
                "  1 changed, 0 added, 1 removed, 0 newly failing, 0 recovered, 0 unchanged",
                "",
                "  a:1 changed",
                "    versions dropped: TLSv1.0",
                "    certificate replaced: CN=a F1 (expires 2026-12-04T00:00:00Z) -> CN=a F2 (expires 2026-12-04T00:00:00Z)",
                "    findings resolved: w (warning)",
                "  b:2 removed",
            ]
        );
    }
}
