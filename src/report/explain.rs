//! Terminal rendering of an [`Explanation`].

use super::style::Style;
use crate::escape::{escape, finish};
use crate::explain::Explanation;

/// How many other matching entries to mention after the best one.
const MAX_ALSO: usize = 3;

/// Render `e` for a terminal. ANSI colour only when `color` is true.
pub fn render_explanation(e: &Explanation, color: bool) -> String {
    let st = Style { color };
    let mut out = String::new();

    let Some(best) = e.matches.first() else {
        out.push_str(&st.yellow("Not recognised:"));
        out.push_str(" this text does not match any known TLS error message.\n");
        out.push_str("Run the full diagnosis against the server instead:\n");
        out.push_str(&format!("  {}\n", st.bold("tlsdoctor check TARGET")));
        return finish(out, color);
    };

    out.push_str(&format!("{} {}\n", st.red("●"), st.bold(&best.title)));
    let mut facts: Vec<String> = Vec::new();
    if let Some(eco) = &e.ecosystem {
        facts.push(format!("from {eco}"));
    }
    let sp = &e.specifics;
    if let Some(r) = &sp.verify_reason {
        facts.push(format!("verify reason: {r}"));
    }
    if let Some(c) = &sp.openssl_error_code {
        let g = sp.openssl_generation.as_deref().unwrap_or("?");
        facts.push(format!("OpenSSL {g} error {c}"));
    }
    if let Some(a) = sp.alert_number {
        facts.push(format!("TLS alert {a}"));
    }
    if let Some(c) = sp.curl_exit_code {
        facts.push(format!("curl exit {c}"));
    }
    if let Some(c) = &sp.node_code {
        facts.push(format!("code {c}"));
    }
    if let Some(h) = sp.hosts.first() {
        match sp.port {
            Some(p) => facts.push(format!("host {h}:{p}")),
            None => facts.push(format!("host {h}")),
        }
    }
    // The facts are read from the user's text, which may quote a peer's bytes.
    if !facts.is_empty() {
        out.push_str(&format!("  {}\n", st.dim(&escape(&facts.join(" · ")))));
    }

    out.push('\n');
    out.push_str(&format!(
        "{}\n  {}\n",
        st.bold("What it means"),
        best.meaning
    ));

    out.push('\n');
    out.push_str(&format!(
        "{}\n",
        st.bold("Likely causes, most likely first")
    ));
    for (i, c) in best.causes.iter().enumerate() {
        out.push_str(&format!(
            "  {}. {} {}\n",
            i + 1,
            st.bold(c.finding.as_str()),
            st.dim(&format!("({})", c.likelihood))
        ));
        out.push_str(&format!("     checks: {}\n", c.tell_apart));
    }

    // One command per distinct run, in cause order.
    let mut commands: Vec<&str> = Vec::new();
    for c in &best.causes {
        if !commands.contains(&c.command.as_str()) {
            commands.push(&c.command);
        }
    }
    out.push('\n');
    out.push_str(&format!("{}\n", st.bold("Tell them apart")));
    for c in commands {
        out.push_str(&format!("  $ {c}\n"));
    }

    if !best.notes.is_empty() {
        out.push('\n');
        out.push_str(&format!("{}\n", st.bold("Notes")));
        for n in &best.notes {
            out.push_str(&format!("  - {n}\n"));
        }
    }

    let also: Vec<&str> = e
        .matches
        .iter()
        .skip(1)
        .take(MAX_ALSO)
        .map(|m| m.title.as_str())
        .collect();
    if !also.is_empty() {
        out.push('\n');
        out.push_str(&st.dim(&format!("Also matches: {}", also.join("; "))));
        out.push('\n');
    }
    finish(out, color)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::explain::explain;

    #[test]
    fn renders_meaning_causes_and_commands() {
        let e =
            explain("curl: (60) SSL certificate problem: unable to get local issuer certificate");
        let s = render_explanation(&e, false);
        assert!(s.contains("What it means"), "{s}");
        assert!(s.contains("1. cert-missing-intermediate"), "{s}");
        assert!(s.contains("$ tlsdoctor check HOST"), "{s}");
        assert!(s.contains("curl exit 60"), "{s}");
        assert!(!s.contains('\x1b'), "colour escape without colour: {s}");
        let c = render_explanation(&e, true);
        assert!(c.contains("\x1b[1m"));
    }

    #[test]
    fn unrecognised_text_suggests_check() {
        let s = render_explanation(&explain("the coffee machine is broken"), false);
        assert!(s.starts_with("Not recognised"), "{s}");
        assert!(s.contains("tlsdoctor check TARGET"), "{s}");
    }
}
