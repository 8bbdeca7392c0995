//! `tlsdoctor fleet diff RUN_A RUN_B`: per target (matched by key), what changed from run A
//! to run B: versions and suites accepted, the leaf certificate, findings, whether it could
//! be examined at all, and targets that appear in only one of the runs. A target examined
//! in both runs is compared over all its addresses together.

use super::summary::{severity_rank, version_rank};
use super::{Run, RunId, Store, StoreError};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};

/// The `fleet diff --json` document (docs/json.md).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Diff {
    pub schema_version: u32,
    pub tool: String,
    pub run_a: Run,
    pub run_b: Run,
    pub counts: DiffCounts,
    /// Every target that changed, by key; unchanged ones are only counted.
    pub targets: Vec<TargetChange>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct DiffCounts {
    pub added: u64,
    pub removed: u64,
    pub changed: u64,
    pub newly_failing: u64,
    pub recovered: u64,
    pub unchanged: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ChangeKind {
    /// Only in run B.
    Added,
    /// Only in run A.
    Removed,
    /// Examined in both; something below differs.
    Changed,
    /// Examined in A, could not be examined in B (`error` says why).
    NewlyFailing,
    /// Could not be examined in A (`error` said why), examined in B.
    Recovered,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TargetChange {
    /// As written in run B (run A for a removed target).
    pub target: String,
    pub key: String,
    pub change: ChangeKind,
    pub versions_added: Vec<String>,
    pub versions_dropped: Vec<String>,
    pub suites_added: Vec<SuiteRef>,
    pub suites_dropped: Vec<SuiteRef>,
    /// The leaf certificate(s) differ by fingerprint: those only in A, those only in B.
    pub certificate: Option<CertificateChange>,
    pub findings_appeared: Vec<FindingRef>,
    pub findings_resolved: Vec<FindingRef>,
    /// Newly failing or added and failing: run B's error; recovered: run A's.
    pub error: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct SuiteRef {
    pub version: String,
    pub suite: String,
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct FindingRef {
    pub id: String,
    pub severity: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CertificateChange {
    pub old: Vec<Leaf>,
    pub new: Vec<Leaf>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Leaf {
    pub fingerprint: String,
    pub subject: String,
    pub not_after: Option<String>,
}

/// One target's facts in one run, in the order the diff lists them.
#[derive(Default)]
struct Facts {
    target: String,
    error: Option<String>,
    versions: BTreeSet<(usize, String)>,
    suites: BTreeSet<(usize, String, String)>,
    leaves: BTreeMap<String, Leaf>,
    findings: BTreeSet<(u8, String, String)>,
}

fn added<T: Ord + Clone>(from: &BTreeSet<T>, to: &BTreeSet<T>) -> Vec<T> {
    to.difference(from).cloned().collect()
}

impl Store {
    /// What changed from run `a` to run `b`.
    pub fn diff(&self, a: RunId, b: RunId) -> Result<Diff, StoreError> {
        let (fa, fb) = (self.facts(a)?, self.facts(b)?);
        let mut counts = DiffCounts::default();
        let mut targets = Vec::new();
        let keys: BTreeSet<&String> = fa.keys().chain(fb.keys()).collect();
        for key in keys {
            let change = match (fa.get(key), fb.get(key)) {
                (Some(old), None) => {
                    counts.removed += 1;
                    Some(bare(key, old, ChangeKind::Removed, None))
                }
                (None, Some(new)) => {
                    counts.added += 1;
                    Some(bare(key, new, ChangeKind::Added, new.error.clone()))
                }
                (Some(old), Some(new)) => match (&old.error, &new.error) {
                    (None, Some(e)) => {
                        counts.newly_failing += 1;
                        Some(bare(key, new, ChangeKind::NewlyFailing, Some(e.clone())))
                    }
                    (Some(e), None) => {
                        counts.recovered += 1;
                        Some(bare(key, new, ChangeKind::Recovered, Some(e.clone())))
                    }
                    (Some(_), Some(_)) => None,
                    (None, None) => compare(key, old, new),
                },
                (None, None) => None,
            };
            match change {
                Some(c) => {
                    if c.change == ChangeKind::Changed {
                        counts.changed += 1;
                    }
                    targets.push(c);
                }
                None => counts.unchanged += 1,
            }
        }
        Ok(Diff {
            schema_version: crate::document::JSON_SCHEMA_VERSION,
            tool: format!("tlsdoctor {}", env!("CARGO_PKG_VERSION")),
            run_a: self.run(a)?,
            run_b: self.run(b)?,
            counts,
            targets,
        })
    }

    /// Every target's facts in `run`, by key.
    fn facts(&self, run: RunId) -> Result<BTreeMap<String, Facts>, StoreError> {
        let conn = self.conn();
        let mut out: BTreeMap<String, Facts> = BTreeMap::new();
        let mut q = conn.prepare("SELECT key, target, error FROM targets WHERE run_id = ?1")?;
        let mut rows = q.query([run.0])?;
        while let Some(r) = rows.next()? {
            let facts = Facts {
                target: r.get(1)?,
                error: r.get(2)?,
                ..Facts::default()
            };
            out.insert(r.get(0)?, facts);
        }
        let mut q = conn.prepare(
            "SELECT t.key, v.version FROM versions v JOIN targets t ON t.id = v.target_id
             WHERE t.run_id = ?1",
        )?;
        let mut rows = q.query([run.0])?;
        while let Some(r) = rows.next()? {
            let (key, version): (String, String) = (r.get(0)?, r.get(1)?);
            if let Some(f) = out.get_mut(&key) {
                f.versions.insert((version_rank(&version), version));
            }
        }
        let mut q = conn.prepare(
            "SELECT t.key, s.version, s.name FROM suites s JOIN targets t ON t.id = s.target_id
             WHERE t.run_id = ?1",
        )?;
        let mut rows = q.query([run.0])?;
        while let Some(r) = rows.next()? {
            let (key, version, name): (String, String, String) = (r.get(0)?, r.get(1)?, r.get(2)?);
            if let Some(f) = out.get_mut(&key) {
                f.suites.insert((version_rank(&version), version, name));
            }
        }
        let mut q = conn.prepare(
            "SELECT t.key, c.fingerprint, c.subject, c.not_after
             FROM certificates c JOIN targets t ON t.id = c.target_id
             WHERE t.run_id = ?1 AND c.position = 0",
        )?;
        let mut rows = q.query([run.0])?;
        while let Some(r) = rows.next()? {
            let key: String = r.get(0)?;
            let leaf = Leaf {
                fingerprint: r.get(1)?,
                subject: r.get(2)?,
                not_after: r.get(3)?,
            };
            if let Some(f) = out.get_mut(&key) {
                f.leaves.insert(leaf.fingerprint.clone(), leaf);
            }
        }
        let mut q = conn.prepare(
            "SELECT t.key, f.finding_id, f.severity FROM findings f
             JOIN targets t ON t.id = f.target_id WHERE t.run_id = ?1",
        )?;
        let mut rows = q.query([run.0])?;
        while let Some(r) = rows.next()? {
            let (key, id, severity): (String, String, String) = (r.get(0)?, r.get(1)?, r.get(2)?);
            if let Some(f) = out.get_mut(&key) {
                f.findings.insert((severity_rank(&severity), id, severity));
            }
        }
        Ok(out)
    }
}

/// A change that lists no facts: a target added, removed, newly failing or recovered.
fn bare(key: &str, f: &Facts, change: ChangeKind, error: Option<String>) -> TargetChange {
    TargetChange {
        target: f.target.clone(),
        key: key.to_string(),
        change,
        versions_added: Vec::new(),
        versions_dropped: Vec::new(),
        suites_added: Vec::new(),
        suites_dropped: Vec::new(),
        certificate: None,
        findings_appeared: Vec::new(),
        findings_resolved: Vec::new(),
        error,
    }
}

/// Two examined results of one target; None when nothing the diff follows changed.
fn compare(key: &str, old: &Facts, new: &Facts) -> Option<TargetChange> {
    let versions = |from: &Facts, to: &Facts| -> Vec<String> {
        added(&from.versions, &to.versions)
            .into_iter()
            .map(|(_, v)| v)
            .collect()
    };
    let suites = |from: &Facts, to: &Facts| -> Vec<SuiteRef> {
        added(&from.suites, &to.suites)
            .into_iter()
            .map(|(_, version, suite)| SuiteRef { version, suite })
            .collect()
    };
    let findings = |from: &Facts, to: &Facts| -> Vec<FindingRef> {
        added(&from.findings, &to.findings)
            .into_iter()
            .map(|(_, id, severity)| FindingRef { id, severity })
            .collect()
    };
    let only = |from: &Facts, to: &Facts| -> Vec<Leaf> {
        from.leaves
            .iter()
            .filter(|(fp, _)| !to.leaves.contains_key(*fp))
            .map(|(_, l)| l.clone())
            .collect()
    };
    let certificate = (old.leaves.keys().ne(new.leaves.keys())).then(|| CertificateChange {
        old: only(old, new),
        new: only(new, old),
    });
    let c = TargetChange {
        versions_added: versions(old, new),
        versions_dropped: versions(new, old),
        suites_added: suites(old, new),
        suites_dropped: suites(new, old),
        certificate,
        findings_appeared: findings(old, new),
        findings_resolved: findings(new, old),
        ..bare(key, new, ChangeKind::Changed, None)
    };
    let same = c.versions_added.is_empty()
        && c.versions_dropped.is_empty()
        && c.suites_added.is_empty()
        && c.suites_dropped.is_empty()
        && c.certificate.is_none()
        && c.findings_appeared.is_empty()
        && c.findings_resolved.is_empty();
    (!same).then_some(c)
}
