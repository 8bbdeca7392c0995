//! Rendering of `tlsdoctor demo`: a compact table, then one full diagnosis as an example.

use super::style::{Style, pad};
use crate::demo::Demo;

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
        .map(|r| r.endpoint.len())
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
            pad(&r.endpoint, w),
            verdict,
            pad(&shown, 28),
            st.dim(&r.default_client),
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
    out
}
