//! The one-line verdict at the top of a Markdown or HTML report, counted from the document so
//! both formats say the same thing.

use crate::doctor::Diagnosis;
use crate::document::SimulatedServer;
use crate::finding::Severity;

/// What a report leads with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict {
    /// Findings of severity error (check) or clients that fail (simulate).
    pub failing: usize,
    pub warnings: usize,
    /// For simulate: how many clients were simulated.
    clients: Option<usize>,
}

impl Verdict {
    pub fn headline(&self) -> String {
        let warnings = match self.warnings {
            0 => String::new(),
            n => format!(" {n} warning(s)."),
        };
        match self.clients {
            Some(total) => format!(
                "{} of {total} clients connect, {} fail.",
                total - self.failing,
                self.failing
            ),
            None if self.failing == 0 => {
                format!("No problem found that stops a client from connecting.{warnings}")
            }
            None => format!(
                "{} problem(s) stop clients from connecting.{warnings}",
                self.failing
            ),
        }
    }
}

pub fn of_diagnosis(d: &Diagnosis) -> Verdict {
    let count = |s: Severity| d.findings.iter().filter(|f| f.severity == s).count();
    Verdict {
        failing: count(Severity::Error),
        warnings: count(Severity::Warning),
        clients: None,
    }
}

pub fn of_simulation(s: &SimulatedServer) -> Verdict {
    Verdict {
        failing: s.fails,
        warnings: 0,
        clients: Some(s.simulations.len()),
    }
}
