//! What every format says about an audit (src/audit/): the grade's headline and its lines,
//! and the profile verdict, as plain strings. The text, Markdown and HTML renderers escape
//! and lay these out; the wording lives here once.

use crate::audit::{Audit, Grade, ProfileVerdict};

/// "B" or "T (B if the certificate were trusted)", then the score.
pub fn grade_headline(g: &Grade) -> String {
    let shown = match g.trust {
        Some(mark) => format!(
            "{mark} ({} if the certificate were {})",
            g.letter,
            if mark == crate::audit::Letter::M {
                "for this name"
            } else {
                "trusted"
            }
        ),
        None => g.letter.to_string(),
    };
    let capped = if g.letter != g.score_letter {
        format!(", capped from {}", g.score_letter)
    } else {
        String::new()
    };
    format!("{shown} (score {}{capped}; SSL Labs rating guide)", g.score)
}

/// The scores, then one line per cap with its rule, reason and evidence, then what was not
/// judged.
pub fn grade_lines(g: &Grade) -> Vec<String> {
    let mut out = vec![
        format!(
            "protocol support {}: {}",
            g.protocol.score, g.protocol.evidence
        ),
        format!(
            "key exchange {}: {}",
            g.key_exchange.score, g.key_exchange.evidence
        ),
        format!("cipher strength {}: {}", g.cipher.score, g.cipher.evidence),
    ];
    for c in &g.caps {
        out.push(format!(
            "capped at {} by {}: {}. Rule: {}. Measured: {}",
            c.cap, c.by, c.reason, c.rule, c.evidence
        ));
    }
    for n in &g.not_judged {
        out.push(format!("not judged: {n}"));
    }
    out
}

/// "mozilla-intermediate (Mozilla intermediate …): compliant; checked …" or which fields fail.
pub fn profile_line(p: &ProfileVerdict) -> String {
    let verdict = if p.compliant {
        "compliant".to_string()
    } else {
        format!("NOT compliant: {}", p.failed.join(", "))
    };
    format!(
        "{} ({}): {verdict} (fields checked: {})",
        p.profile,
        p.title,
        p.checked.join(", ")
    )
}

/// The audit's lines for a format without sections: headline first.
pub fn summary(a: &Audit) -> Vec<String> {
    let mut out = vec![format!("Grade {}", grade_headline(&a.grade))];
    out.extend(grade_lines(&a.grade));
    if let Some(p) = &a.profile {
        out.push(format!("Profile {}", profile_line(p)));
    }
    out
}
