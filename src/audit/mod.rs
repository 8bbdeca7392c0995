//! The audit of one server: the known vulnerabilities its scan shows ([`vulns`]), a grade by
//! SSL Labs' rating guide ([`grade`]) and, when asked, its compliance with a configuration
//! profile ([`profile`]). Judgement only: everything here reads a finished
//! [`ServerScan`] (and the chain analysis, when there is one) and
//! opens no connection, so the same audit is made from a live scan or an evidence fixture.
//!
//! `scan` shows the audit of every server; `check` adds it with `--audit` or `--profile`,
//! its findings joining the diagnosis (src/pipeline/check.rs).

pub mod grade;
pub mod primes;
pub mod profile;
pub mod vulns;

#[cfg(test)]
mod tests;

use crate::cert::ChainAnalysis;
use crate::finding::{Finding, sort_by_severity};
use crate::scan::ServerScan;
use serde::Serialize;

pub use grade::{Grade, Letter};
pub use profile::{Profile, ProfileVerdict, UnknownProfile};

/// What the caller asks the audit for.
#[derive(Debug, Clone, Default)]
pub struct AuditRequest {
    /// A compliance profile to judge against (`--profile`).
    pub profile: Option<&'static Profile>,
}

/// The audit of one server address.
#[derive(Debug, Clone, Serialize)]
pub struct Audit {
    /// The findings of the audit: the scan's own findings and the vulnerabilities, then the
    /// profile's non-compliances, most severe first. In `check` they join the diagnosis'
    /// findings instead, and this list is empty.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub findings: Vec<Finding>,
    pub grade: Grade,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub profile: Option<ProfileVerdict>,
}

impl Audit {
    /// Whether a profile was asked for and the server does not comply with it.
    pub fn noncompliant(&self) -> bool {
        self.profile.as_ref().is_some_and(|p| !p.compliant)
    }
}

/// Audit `scan`. `known` are the findings already made about the server (the diagnosis', or
/// the chain analysis'), which the grade's caps also read; the audit's own findings are
/// returned without them.
pub fn audit(
    scan: &ServerScan,
    chain: Option<&ChainAnalysis>,
    known: &[Finding],
    req: &AuditRequest,
) -> Audit {
    let mut own: Vec<Finding> = Vec::new();
    merge(&mut own, scan.findings());
    merge(&mut own, vulns::findings(scan));
    let profile = req.profile.map(|p| profile::check(p, scan, chain));
    if let Some(p) = &profile {
        merge(&mut own, p.findings.clone());
    }
    let mut all: Vec<Finding> = known.to_vec();
    merge(&mut all, own.clone());
    let grade = grade::grade(scan, chain, &all);
    sort_by_severity(&mut own);
    Audit {
        findings: own,
        grade,
        profile: profile.map(|mut p| {
            p.findings.clear();
            p
        }),
    }
}

/// The audit of a server `check` diagnosed: its findings join the diagnosis' `findings`
/// (most severe first, a finding the diagnosis already has gaining the audit's evidence), and
/// the audit returned keeps the grade and the profile verdict.
pub fn join(
    scan: &ServerScan,
    chain: Option<&ChainAnalysis>,
    findings: &mut Vec<Finding>,
    req: &AuditRequest,
) -> Audit {
    let mut a = audit(scan, chain, findings, req);
    merge(findings, std::mem::take(&mut a.findings));
    sort_by_severity(findings);
    a
}

/// Add `new` to `into`: a finding whose id is already there adds its evidence lines that
/// are new to the one already there (the doctor's finding keeps its form and its breaks).
pub fn merge(into: &mut Vec<Finding>, new: Vec<Finding>) {
    for f in new {
        match into
            .iter_mut()
            .find(|e| e.id == f.id && (!is_profile(e) || e.title == f.title))
        {
            Some(e) => {
                for line in f.evidence {
                    if !e.evidence.contains(&line) {
                        e.evidence.push(line);
                    }
                }
            }
            None => into.push(f),
        }
    }
}

/// Profile findings share one id, one per field: they are told apart by title.
fn is_profile(f: &Finding) -> bool {
    f.id == crate::finding::FindingId::ProfileNoncompliant
}
