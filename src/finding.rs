//! Findings: the unit of diagnosis. Every check turns evidence into findings with a stable id,
//! a severity, the evidence measured, the clients the problem breaks (with the exact text each
//! prints) and a fix split by side.
//!
//! Every finding has its entry in the catalogue (data/findings.toml, loaded by
//! [`catalogue`]); code names it by its typed [`FindingId`] and builds it with
//! [`catalogue::finding`].

pub mod catalogue;
mod id;
#[cfg(test)]
mod references;

pub use id::{FindingId, Form, UnknownFindingId, variant};

use serde::{Deserialize, Serialize};

/// How bad a finding is. Ordered so that sorting descending puts the worst first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Informational: worth knowing, breaks nothing.
    Info,
    /// Works today for most clients but is weak or will break some.
    Warning,
    /// Breaks connections for the clients named in `breaks`.
    Error,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Error => "error",
        }
    }
}

/// One client that a finding breaks, and what that client prints when it fails.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClientBreak {
    /// A client family or profile name, e.g. "OpenSSL 3 (Python ssl, curl)".
    pub client: String,
    /// The error text that client prints, verbatim as far as it is stable. Empty when there
    /// is no text to quote (`unquoted` says why).
    pub error: String,
    /// Set when no text is quoted: why (e.g. the client waits for a peer that never answers
    /// its hello, so what it prints depends on whose timeout ends first).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unquoted: Option<String>,
    /// Set when the client prints `error` only after something else happens first (e.g. it
    /// waits until a proxy gives up on the hello): what.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub after: Option<String>,
    /// Which client and failure this is, for code that matches breaks (`client` is only
    /// for people). Not part of the report.
    #[serde(skip)]
    pub key: Option<crate::clients::BreakKey>,
}

/// What a report shows of a [`ClientBreak`], for each format to render in its own way.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shown<'a> {
    /// No text to quote, and why.
    Unquoted(&'a str),
    /// The text, printed only after something else happens first (the second field).
    After(&'a str, &'a str),
    /// The text alone.
    Text(&'a str),
}

impl ClientBreak {
    /// What a report shows for this client: the text it prints (with what comes first, when
    /// something does), or that there is no text to quote and why.
    pub fn parts(&self) -> Shown<'_> {
        match (&self.unquoted, &self.after) {
            (Some(why), _) if self.error.is_empty() => Shown::Unquoted(why),
            (_, Some(after)) => Shown::After(&self.error, after),
            _ => Shown::Text(&self.error),
        }
    }

    /// [`ClientBreak::parts`] as plain text. Not escaped.
    pub fn shown(&self) -> String {
        match self.parts() {
            Shown::Unquoted(why) => format!("no quoted text: {why}"),
            Shown::After(error, after) => format!("{error} ({after})"),
            Shown::Text(error) => error.to_string(),
        }
    }
}

/// A diagnosis: cause, evidence, fix.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Finding {
    /// Stable identifier, serialised kebab-case, e.g. `cert-expired`.
    pub id: FindingId,
    pub severity: Severity,
    /// One line, plain words.
    pub title: String,
    /// What was measured that supports this finding, one fact per line.
    pub evidence: Vec<String>,
    /// Which clients fail because of this, and how.
    pub breaks: Vec<ClientBreak>,
    /// What to change on the server side.
    pub fix_server: Vec<String>,
    /// What a client can do (possibly as a stop-gap).
    pub fix_client: Vec<String>,
}

impl Finding {
    /// Only the catalogue builds findings, so every title and fix comes from it.
    fn new(id: FindingId, severity: Severity, title: impl Into<String>) -> Self {
        Finding {
            id,
            severity,
            title: sentence_case(title.into()),
            evidence: Vec::new(),
            breaks: Vec::new(),
            fix_server: Vec::new(),
            fix_client: Vec::new(),
        }
    }

    pub fn evidence(mut self, line: impl Into<String>) -> Self {
        self.evidence.push(line.into());
        self
    }

    pub fn breaks(mut self, client: impl Into<String>, error: impl Into<String>) -> Self {
        self.breaks.push(ClientBreak {
            client: client.into(),
            error: error.into(),
            key: None,
            unquoted: None,
            after: None,
        });
        self
    }

    pub fn fix_server(mut self, line: impl Into<String>) -> Self {
        self.fix_server.push(line.into());
        self
    }

    pub fn fix_client(mut self, line: impl Into<String>) -> Self {
        self.fix_client.push(line.into());
        self
    }
}

/// Titles read as sentences: the first letter upper-case, whoever wrote them.
fn sentence_case(title: String) -> String {
    let mut chars = title.chars();
    match chars.next() {
        Some(first) if first.is_lowercase() => first.to_uppercase().chain(chars).collect(),
        _ => title,
    }
}

/// Sort findings most severe first, keeping the original order among equals.
pub fn sort_by_severity(findings: &mut [Finding]) {
    findings.sort_by_key(|f| std::cmp::Reverse(f.severity));
}
