//! The one-line verdict a report leads with, counted from the document once, so the terminal,
//! Markdown and HTML reports all say the same thing.

use crate::doctor::{Diagnosis, Verdict as Judged, is_security_problem};
use crate::document::SimulatedServer;
use crate::finding::Severity;

/// How a report's verdict looks: its kind picks the colour, the text is plain (unescaped:
/// each renderer escapes it for its format).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict {
    pub kind: Kind,
    /// The verdict proper.
    pub text: String,
    /// What follows it: the number of warnings, or nothing.
    pub suffix: String,
}

impl Verdict {
    /// The whole line.
    pub fn line(&self) -> String {
        format!("{}{}", self.text, self.suffix)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Clients fail to connect.
    Fails,
    /// Clients connect, but something must not be trusted or needs attention.
    Warns,
    Passes,
}

/// `check`'s verdict for one server: connections fail, a security problem only, or healthy,
/// with the count of warnings.
pub fn of_diagnosis(d: &Diagnosis) -> Verdict {
    let errors = |security: bool| {
        d.findings
            .iter()
            .filter(|f| f.severity == Severity::Error && is_security_problem(f) == security)
            .count()
    };
    let (failing, security) = (errors(false), errors(true));
    let warnings = d
        .findings
        .iter()
        .filter(|f| f.severity == Severity::Warning)
        .count();
    let (kind, text) = match d.verdict {
        Judged::Healthy => (
            if warnings > 0 {
                Kind::Warns
            } else {
                Kind::Passes
            },
            "No problem found that stops a client from connecting.".to_string(),
        ),
        Judged::ConnectionsFail => {
            let mut s = format!("{failing} problem(s) stop clients from connecting.");
            if security > 0 {
                s.push_str(&format!(" {security} security problem(s)."));
            }
            (Kind::Fails, s)
        }
        Judged::SecurityProblem => {
            let refusing: Vec<&str> = d
                .simulations
                .iter()
                .filter(|s| !s.connects)
                .map(|s| s.client_name.as_str())
                .collect();
            let who = if refusing.is_empty() {
                "none of the clients examined refuses it".to_string()
            } else {
                format!("only clients that check it refuse: {}", refusing.join(", "))
            };
            (
                Kind::Warns,
                format!(
                    "{security} security problem(s): clients connect, but the certificate must not be trusted ({who})."
                ),
            )
        }
    };
    let suffix = match (warnings, d.verdict) {
        (0, _) => String::new(),
        (n, Judged::Healthy) => format!(" {n} warning(s) below."),
        (n, _) => format!(" {n} warning(s)."),
    };
    Verdict { kind, text, suffix }
}

/// `simulate`'s verdict for one server: how many clients connect.
pub fn of_simulation(s: &SimulatedServer) -> Verdict {
    Verdict {
        kind: if s.fails > 0 {
            Kind::Fails
        } else {
            Kind::Passes
        },
        text: format!(
            "{} of {} clients connect, {} fail.",
            s.simulations.len() - s.fails,
            s.simulations.len(),
            s.fails
        ),
        suffix: String::new(),
    }
}
