//! Minimal ANSI styling for terminal output. Colour is decided once by the caller (a
//! terminal, `--color`, `NO_COLOR`); every function returns plain text when it is off.

use std::io::IsTerminal;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Style {
    pub color: bool,
}

impl Style {
    pub fn plain() -> Self {
        Style { color: false }
    }

    /// Colour when stdout is a terminal and `NO_COLOR` is not set.
    pub fn auto() -> Self {
        Style {
            color: std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none(),
        }
    }

    fn wrap(&self, code: &str, s: &str) -> String {
        if self.color {
            format!("\x1b[{code}m{s}\x1b[0m")
        } else {
            s.to_string()
        }
    }

    pub fn bold(&self, s: &str) -> String {
        self.wrap("1", s)
    }
    pub fn dim(&self, s: &str) -> String {
        self.wrap("2", s)
    }
    pub fn red(&self, s: &str) -> String {
        self.wrap("31", s)
    }
    pub fn green(&self, s: &str) -> String {
        self.wrap("32", s)
    }
    pub fn yellow(&self, s: &str) -> String {
        self.wrap("33", s)
    }
    pub fn cyan(&self, s: &str) -> String {
        self.wrap("36", s)
    }

    /// `[error]`, `[warning]`, `[info]` in the severity's colour.
    pub fn severity(&self, sev: crate::finding::Severity) -> String {
        use crate::finding::Severity;
        let code = match sev {
            Severity::Error => "31;1",
            Severity::Warning => "33;1",
            Severity::Info => "36",
        };
        self.wrap(code, &format!("[{}]", sev.as_str()))
    }
}

/// Pad `s` to `width` display columns (ASCII content assumed for alignment).
pub fn pad(s: &str, width: usize) -> String {
    let len = s.chars().count();
    if len >= width {
        s.to_string()
    } else {
        format!("{s}{}", " ".repeat(width - len))
    }
}
