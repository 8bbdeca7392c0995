//! The page shell of an HTML report: one self-contained file (no script, no external font,
//! image or style sheet), readable on a phone and printable. Its own Content-Security-Policy
//! allows nothing but the one inline style sheet, named by its hash, so the page works under
//! a strict policy and a peer string that somehow became markup could still load or run
//! nothing.

use base64::Engine;
use sha2::{Digest, Sha256};

use crate::escape::html;

/// The report's whole style sheet. Colours only through classes: the pictures use SVG
/// presentation attributes or these classes, never `style=` attributes (which the policy
/// would block).
const STYLE: &str = r#"
:root { --ok: #1a7f37; --bad: #cf222e; --warn: #9a6700; --muted: #57606a; --line: #d0d7de; }
* { box-sizing: border-box; }
body { font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; margin: 0 auto;
       max-width: 72rem; padding: 1rem; color: #1f2328; background: #fff; }
h1 { font-size: 1.4rem; margin: 0 0 .5rem; word-break: break-word; }
h2 { font-size: 1.15rem; margin: 1.6rem 0 .6rem; border-bottom: 1px solid var(--line); }
h3 { font-size: 1rem; margin: 1.2rem 0 .4rem; }
code, .mono { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: .88em; }
code { background: #f6f8fa; padding: .05em .3em; border-radius: 4px; word-break: break-word; }
.verdict { border-radius: 8px; padding: .8rem 1rem; font-weight: 600; font-size: 1.1rem; }
.verdict.fail { background: #ffebe9; color: var(--bad); border: 1px solid #ff8182; }
.verdict.warn { background: #fff8c5; color: var(--warn); border: 1px solid #d4a72c; }
.verdict.pass { background: #dafbe1; color: var(--ok); border: 1px solid #4ac26b; }
.meta { color: var(--muted); margin: .4rem 0 0; }
.scroll { overflow-x: auto; }
table { border-collapse: collapse; width: 100%; margin: .4rem 0 1rem; }
th, td { text-align: left; vertical-align: top; padding: .35rem .5rem; border: 1px solid var(--line); }
th { background: #f6f8fa; }
td.ok { color: var(--ok); font-weight: 600; white-space: nowrap; }
td.bad { color: var(--bad); font-weight: 600; white-space: nowrap; }
td.weak { color: var(--warn); font-weight: 600; }
.s-secure { background: #dafbe1; } .s-weak { background: #fff8c5; } .s-insecure { background: #ffebe9; }
.s-unknown { background: #eaeef2; }
.finding { border: 1px solid var(--line); border-left: 6px solid var(--muted); border-radius: 6px;
           padding: .5rem 1rem; margin: .8rem 0; }
.finding.error { border-left-color: var(--bad); } .finding.warning { border-left-color: var(--warn); }
.finding h3 { margin-top: .3rem; }
.sev { text-transform: uppercase; font-size: .75rem; letter-spacing: .04em; color: var(--muted); }
svg { max-width: 100%; height: auto; display: block; }
svg text { font: 12px system-ui, sans-serif; }
.box { fill: #f6f8fa; stroke: #8c959f; }
.box.trusted { fill: #dafbe1; stroke: var(--ok); }
.box.broken { fill: #ffebe9; stroke: var(--bad); }
.arrow { stroke: #57606a; fill: none; }
.bar-ok { fill: #4ac26b; } .bar-soon { fill: #d4a72c; } .bar-bad { fill: #ff8182; }
.now { stroke: var(--bad); stroke-dasharray: 4 3; }
.axis { stroke: var(--line); }
footer { color: var(--muted); margin-top: 2rem; font-size: .85rem; }
@media print { body { max-width: none; padding: 0; } .scroll { overflow: visible; }
               .finding, table, svg { break-inside: avoid; } }
"#;

/// The policy, allowing exactly [`STYLE`] and nothing else.
fn content_security_policy() -> String {
    let hash = base64::engine::general_purpose::STANDARD.encode(Sha256::digest(STYLE.as_bytes()));
    format!(
        "default-src 'none'; style-src 'sha256-{hash}'; img-src 'none'; base-uri 'none'; form-action 'none'"
    )
}

/// A whole HTML document around `body` (markup already escaped by its makers).
pub fn page(title: &str, body: &str, tool: &str) -> String {
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta http-equiv=\"Content-Security-Policy\" content=\"{csp}\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <meta name=\"referrer\" content=\"no-referrer\">\n\
         <title>{title}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n{body}\
         <footer>Report by {tool}. Self-contained: this file loads nothing from anywhere.</footer>\n\
         </body>\n</html>\n",
        csp = content_security_policy(),
        title = html(title),
        tool = html(tool),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_policy_names_the_style_sheet_and_allows_nothing_else() {
        let p = page("t", "<p>x</p>", "tlsdoctor");
        let csp = content_security_policy();
        assert!(p.contains(&csp));
        assert!(csp.starts_with("default-src 'none'; style-src 'sha256-"));
        assert!(!p.contains("<script"));
        assert!(!p.contains(" style=\""));
        assert!(!p.contains("http://") && !p.contains("https://"));
    }
}
