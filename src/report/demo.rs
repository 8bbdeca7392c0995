//! Rendering of `tlsdoctor demo`: a compact table, then one full diagnosis as an example.

use super::style::{Style, pad};
use crate::demo::Demo;
use crate::escape::{escape, finish};

/// The endpoint whose full diagnosis is shown after the table.
pub const EXAMPLE_ENDPOINT: &str = "no-secure-renegotiation";

pub fn render(demo: &Demo, st: Style) -> String {
    let mut out = String::new();
    out.push_str(&st.bold(
        "tlsdoctor demo: the built-in lab of misconfigured servers, each diagnosed by 'tlsdoctor check'",
    ));
    out.push_str("\n\n");
    let w = demo
        .rows
        .iter()
        .map(|r| escape(&r.endpoint).chars().count())
        .max()
        .unwrap_or(8)
        .max(8);
    out.push_str(&format!(
        "  {}  {}  {}  {}\n",
        pad("ENDPOINT", w),
        pad("VERDICT", 9),
        pad("FINDING", 28),
        "WHAT A DEFAULT OPENSSL 3 CLIENT PRINTS"
    ));
    for r in &demo.rows {
        let verdict = if r.errors.is_empty() {
            st.green(&pad("ok", 9))
        } else {
            st.red(&pad("fails", 9))
        };
        let shown = r
            .expected
            .clone()
            .filter(|id| r.errors.contains(id) || r.warnings.contains(id))
            .or_else(|| r.errors.first().cloned())
            .or_else(|| r.warnings.first().cloned())
            .unwrap_or_else(|| "-".into());
        let mark = if r.correct {
            ""
        } else {
            " (expected another finding)"
        };
        out.push_str(&format!(
            "  {}  {}  {}  {}{}\n",
            pad(&escape(&r.endpoint), w),
            verdict,
            pad(&escape(&shown), 28),
            st.dim(&escape(&r.default_client)),
            st.red(mark)
        ));
    }
    let ok = demo.rows.iter().filter(|r| r.correct).count();
    out.push_str(&format!(
        "\n  {ok}/{} endpoints diagnosed as expected in {} ms\n",
        demo.rows.len(),
        demo.elapsed_ms
    ));
    if let Some(d) = demo
        .rows
        .iter()
        .find(|r| r.endpoint == EXAMPLE_ENDPOINT)
        .and_then(|r| r.diagnosis.as_ref())
    {
        out.push_str(&format!(
            "\n{}\n\n",
            st.bold(&format!(
                "Example: the full diagnosis of the {EXAMPLE_ENDPOINT} endpoint"
            ))
        ));
        out.push_str(&super::check::render_diagnosis(d, st));
    }
    finish(out, st.color)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::demo::DemoRow;
    use crate::doctor::Diagnosis;
    use crate::finding::{ClientBreak, Finding, FindingId, Severity};

    const EVIL: &str = "evil\x1b[2J\x1b]0;pwned\x07\u{202e}name";

    fn hostile_diagnosis() -> Diagnosis {
        Diagnosis {
            target: format!("{EVIL}:443"),
            address: "127.0.0.1:443".into(),
            sni: Some(EVIL.into()),
            findings: vec![Finding {
                id: FindingId::NotTls,
                severity: Severity::Error,
                title: format!("the name {EVIL}"),
                evidence: vec![format!("line\nforged line {EVIL}")],
                breaks: vec![ClientBreak {
                    client: EVIL.into(),
                    error: EVIL.into(),
                    key: None,
                    unquoted: None,
                    after: None,
                }],
                fix_server: vec![EVIL.into()],
                fix_client: vec![EVIL.into()],
            }],
            verdict: crate::doctor::Verdict::ConnectionsFail,
            error_match: None,
            simulations: Vec::new(),
            verdicts: Vec::new(),
            live: None,
            certificate_chain: None,
            certificate_source: Some(EVIL.into()),
            scan: None,
            checked: vec![EVIL.into()],
            ocsp: None,
            connections: 0,
            audit: None,
            evidence: None,
        }
    }

    #[test]
    fn hostile_rows_and_diagnosis_are_escaped() {
        let demo = Demo {
            rows: vec![DemoRow {
                endpoint: EXAMPLE_ENDPOINT.into(),
                port: 1,
                fault: EVIL.into(),
                default_client: EVIL.into(),
                expected: Some(EVIL.into()),
                errors: vec![EVIL.into()],
                warnings: Vec::new(),
                correct: false,
                diagnosis: Some(hostile_diagnosis()),
            }],
            elapsed_ms: 1,
        };
        for color in [false, true] {
            let out = render(&demo, Style { color });
            assert!(
                !out.contains('\x07') && !out.contains('\u{202e}'),
                "{out:?}"
            );
            assert!(
                !out.contains("\x1b[2J") && !out.contains("\x1b]"),
                "{out:?}"
            );
            assert!(!color || out.contains("\x1b[1m"), "colour stays: {out:?}");
            assert!(out.contains("evil\\x1b[2J\\x1b]0;pwned\\x07\\u{202e}name"));
            // The peer's newline does not start a line of its own.
            assert!(out.contains("line\\x0aforged line"), "{out:?}");
            assert!(!out.lines().any(|l| l.starts_with("forged")), "{out:?}");
        }
    }
}
