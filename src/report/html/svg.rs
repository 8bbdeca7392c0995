//! The pictures of an HTML report, as inline SVG: the certificate chain (what the server sent,
//! and the path each trust store built from it, ending at a trusted root or where it broke)
//! and a validity timeline of the sent certificates. Every text is escaped with
//! [`crate::escape::html`]; long names are shortened in the picture and given whole in a
//! `<title>` (the tooltip).

use std::fmt::Write;

use crate::cert::{CertInfo, ChainAnalysis};
use crate::escape::html;

const BOX_W: i64 = 250;
const BOX_H: i64 = 46;
const GAP_Y: i64 = 26;
const COL_GAP: i64 = 40;
const TOP: i64 = 30;

/// The common name of a subject when it has one (what people recognise), else the subject.
fn short_name(subject: &str) -> String {
    let cn = subject
        .split(", ")
        .find_map(|part| part.strip_prefix("CN="))
        .unwrap_or(subject);
    shorten(cn, 34)
}

fn shorten(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_string()
    } else {
        format!("{}…", s.chars().take(n - 1).collect::<String>())
    }
}

/// One box: a title line and a smaller second line, with the full text as tooltip.
fn node(out: &mut String, x: i64, y: i64, class: &str, line1: &str, line2: &str, full: &str) {
    let _ = write!(
        out,
        "<g><title>{}</title><rect class=\"box {class}\" x=\"{x}\" y=\"{y}\" width=\"{BOX_W}\" \
         height=\"{BOX_H}\" rx=\"6\"/><text x=\"{}\" y=\"{}\" font-weight=\"600\">{}</text>\
         <text x=\"{}\" y=\"{}\" fill=\"#57606a\">{}</text></g>",
        html(full),
        x + 10,
        y + 19,
        html(line1),
        x + 10,
        y + 37,
        html(line2),
    );
}

fn arrow_down(out: &mut String, x: i64, y_from: i64, y_to: i64) {
    let cx = x + BOX_W / 2;
    let _ = write!(
        out,
        "<path class=\"arrow\" d=\"M{cx} {y_from} V{} M{} {} L{cx} {y_to} L{} {}\"/>",
        y_to,
        cx - 5,
        y_to - 7,
        cx + 5,
        y_to - 7
    );
}

/// The chain diagram: a column of the certificates as sent, then one column per trust store
/// with the path it built ("issued by" runs downwards).
pub fn chain_diagram(chain: &ChainAnalysis) -> String {
    let columns = 1 + chain.verdicts.len() as i64;
    let rows = chain
        .verdicts
        .iter()
        .map(|v| v.path.len() + 1)
        .chain(std::iter::once(chain.certificates.len()))
        .max()
        .unwrap_or(1) as i64;
    let width = columns * BOX_W + (columns - 1) * COL_GAP + 20;
    let height = TOP + rows * (BOX_H + GAP_Y) + 10;
    let mut out = format!(
        "<svg class=\"chain-diagram\" role=\"img\" aria-label=\"certificate chain\" \
         xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {width} {height}\" width=\"{width}\">"
    );
    let heading = |out: &mut String, x: i64, text: &str| {
        let _ = write!(
            out,
            "<text x=\"{}\" y=\"18\" font-weight=\"700\">{}</text>",
            x + 4,
            html(text)
        );
    };
    let x0 = 10;
    heading(&mut out, x0, "Sent by the server");
    for (i, c) in chain.certificates.iter().enumerate() {
        let y = TOP + i as i64 * (BOX_H + GAP_Y);
        let role = if i == 0 { "leaf" } else { "sent #" };
        let line2 = if i == 0 {
            format!("{role}, {} days left", c.days_left)
        } else {
            format!("{role}{}, {} days left", i + 1, c.days_left)
        };
        node(
            &mut out,
            x0,
            y,
            "sent",
            &short_name(&c.subject),
            &line2,
            &format!("{}\nissued by {}", c.subject, c.issuer),
        );
        if i + 1 < chain.certificates.len() {
            arrow_down(&mut out, x0, y + BOX_H, y + BOX_H + GAP_Y);
        }
    }
    for (col, v) in chain.verdicts.iter().enumerate() {
        let x = x0 + (col as i64 + 1) * (BOX_W + COL_GAP);
        heading(&mut out, x, &format!("Path in the {} store", v.store));
        for (i, subject) in v.path.iter().enumerate() {
            let y = TOP + i as i64 * (BOX_H + GAP_Y);
            let last = i + 1 == v.path.len();
            let (class, line2) = match (last, v.trusted) {
                (true, true) => ("trusted", "trusted root of this store".to_string()),
                (true, false) => ("", "the path stops here".to_string()),
                _ => ("", "issued by the next".to_string()),
            };
            node(&mut out, x, y, class, &short_name(subject), &line2, subject);
            if !last {
                arrow_down(&mut out, x, y + BOX_H, y + BOX_H + GAP_Y);
            }
        }
        if !v.trusted {
            // Where the path broke: the issuer the last certificate names, which was neither
            // sent nor in this store (or, for a self-issued end, the untrusted root itself).
            let y = TOP + v.path.len() as i64 * (BOX_H + GAP_Y);
            let problem = v.problem.as_deref().unwrap_or("not trusted");
            let issuer = v.path.last().and_then(|last| {
                chain
                    .certificates
                    .iter()
                    .find(|c| &c.subject == last && !c.self_issued)
                    .map(|c| c.issuer.as_str())
            });
            if !v.path.is_empty() {
                let y_prev = y - GAP_Y;
                arrow_down(&mut out, x, y_prev, y);
            }
            let (line1, line2) = match issuer {
                Some(name) => (
                    format!("✗ {}", short_name(name)),
                    "issuer not sent, not in this store",
                ),
                None => ("✗ not trusted".to_string(), "root not in this store"),
            };
            node(&mut out, x, y, "broken", &line1, line2, problem);
        }
    }
    out.push_str("</svg>");
    out
}

/// Validity bars of the sent certificates on one time axis, with today marked.
pub fn validity_timeline(certs: &[CertInfo]) -> String {
    if certs.is_empty() {
        return String::new();
    }
    // Today, as the analysis saw it (days_left was counted from it), keeps rendering pure.
    let now = certs[0].not_after_unix - certs[0].days_left * 86_400;
    let start = certs
        .iter()
        .map(|c| c.not_before_unix)
        .min()
        .unwrap_or(now)
        .min(now);
    let end = certs
        .iter()
        .map(|c| c.not_after_unix)
        .max()
        .unwrap_or(now)
        .max(now);
    let span = (end - start).max(1) as f64;
    let (left, bar_w, row_h) = (260.0, 560.0, 28);
    let width = 840;
    let height = 30 + certs.len() as i64 * row_h + 30;
    let xpos = |t: i64| left + (t - start) as f64 / span * bar_w;
    let mut out = format!(
        "<svg class=\"validity-timeline\" role=\"img\" aria-label=\"certificate validity\" \
         xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {width} {height}\" width=\"{width}\">"
    );
    for (i, c) in certs.iter().enumerate() {
        let y = 20 + i as i64 * row_h;
        let class = if c.days_left < 0 || c.not_before_unix > now {
            "bar-bad"
        } else if c.days_left < crate::cert::analyze::EXPIRES_SOON_DAYS {
            "bar-soon"
        } else {
            "bar-ok"
        };
        let (x1, x2) = (xpos(c.not_before_unix), xpos(c.not_after_unix));
        let _ = write!(
            out,
            "<g><title>{} — valid {} to {}</title><text x=\"0\" y=\"{}\">{}</text>\
             <rect class=\"{class}\" x=\"{x1:.1}\" y=\"{y}\" width=\"{:.1}\" height=\"16\" rx=\"3\"/></g>",
            html(&c.subject),
            html(&c.not_before),
            html(&c.not_after),
            y + 12,
            html(&short_name(&c.subject)),
            (x2 - x1).max(2.0),
        );
    }
    let axis_y = 20 + certs.len() as i64 * row_h + 4;
    let nx = xpos(now);
    let _ = write!(
        out,
        "<line class=\"axis\" x1=\"{left}\" y1=\"{axis_y}\" x2=\"{}\" y2=\"{axis_y}\"/>\
         <line class=\"now\" x1=\"{nx:.1}\" y1=\"12\" x2=\"{nx:.1}\" y2=\"{axis_y}\"/>\
         <text x=\"{:.1}\" y=\"10\" fill=\"#cf222e\">today</text>\
         <text x=\"{left}\" y=\"{}\" fill=\"#57606a\">{}</text>\
         <text x=\"{}\" y=\"{}\" fill=\"#57606a\" text-anchor=\"end\">{}</text>",
        left + bar_w,
        nx - 14.0,
        axis_y + 16,
        html(&date(start)),
        left + bar_w,
        axis_y + 16,
        html(&date(end)),
    );
    out.push_str("</svg>");
    out
}

/// The date part of a Unix time.
fn date(unix: i64) -> String {
    let full = crate::cert::describe::rfc3339(unix);
    full.get(..10).unwrap_or(&full).to_string()
}
