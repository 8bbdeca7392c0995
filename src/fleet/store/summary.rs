//! `tlsdoctor fleet summary`: one run of the store in numbers: findings per id and
//! severity, protocol versions and suites accepted, certificates that expire soon, targets
//! that could not be examined. Counts are of targets (a target with several addresses
//! counts once).

use super::{Run, RunId, Store, StoreError, count, rfc3339};
use rusqlite::params;
use serde::Serialize;

/// The `fleet summary --json` document (docs/json.md).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Summary {
    pub schema_version: u32,
    pub tool: String,
    pub run: Run,
    /// Most severe first, then most targets.
    pub findings: Vec<FindingCount>,
    /// Oldest version first.
    pub protocols: Vec<VersionCount>,
    /// Per version (oldest first), most targets first.
    pub suites: Vec<SuiteCount>,
    pub expiring: Expiring,
    /// By target.
    pub failed: Vec<FailedTarget>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FindingCount {
    pub id: String,
    pub severity: String,
    pub targets: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct VersionCount {
    pub version: String,
    pub name: String,
    pub targets: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SuiteCount {
    pub version: String,
    pub suite: String,
    pub strength: Option<String>,
    pub targets: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Expiring {
    pub within_days: u32,
    /// The time the days are counted from (RFC 3339).
    pub as_of: String,
    /// Soonest first; expired ones (negative `days_left`) included.
    pub certificates: Vec<ExpiringCertificate>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ExpiringCertificate {
    pub target: String,
    pub address: String,
    /// 0: the leaf; then the chain as the server sent it.
    pub position: u32,
    pub subject: String,
    pub not_after: Option<String>,
    /// Whole days from `as_of` to `not_after`, rounded down.
    pub days_left: i64,
    pub fingerprint: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FailedTarget {
    pub target: String,
    pub kind: Option<String>,
    pub error: String,
}

/// Where a severity sorts: error first.
pub(crate) fn severity_rank(s: &str) -> u8 {
    match s {
        "error" => 0,
        "warning" => 1,
        "info" => 2,
        _ => 3,
    }
}

/// `SSLv2` … `TLSv1.3` for a version key (`ssl2` … `tls1_3`); other keys as they are.
pub fn version_name(key: &str) -> String {
    crate::wire::ProtocolVersion::ALL
        .iter()
        .find(|v| v.key() == key)
        .map_or_else(|| key.to_string(), |v| v.name())
}

/// Where a version key sorts: oldest first, unknown ones last.
pub(crate) fn version_rank(key: &str) -> usize {
    crate::wire::ProtocolVersion::ALL
        .iter()
        .position(|v| v.key() == key)
        .unwrap_or(usize::MAX)
}

impl Store {
    /// The summary of `run`, with certificates whose `not_after` is within `days` of `now`
    /// (Unix seconds).
    pub fn summary(&self, run: RunId, days: u32, now: i64) -> Result<Summary, StoreError> {
        let conn = self.conn();
        let mut findings: Vec<FindingCount> = conn
            .prepare(
                "SELECT f.finding_id, f.severity, count(DISTINCT f.target_id)
                 FROM findings f JOIN targets t ON t.id = f.target_id
                 WHERE t.run_id = ?1 GROUP BY 1, 2",
            )?
            .query_map([run.0], |r| {
                Ok(FindingCount {
                    id: r.get(0)?,
                    severity: r.get(1)?,
                    targets: count(r, 2)?,
                })
            })?
            .collect::<Result<_, _>>()?;
        findings.sort_by(|a, b| {
            (
                severity_rank(&a.severity),
                std::cmp::Reverse(a.targets),
                &a.id,
            )
                .cmp(&(
                    severity_rank(&b.severity),
                    std::cmp::Reverse(b.targets),
                    &b.id,
                ))
        });
        let mut protocols: Vec<VersionCount> = conn
            .prepare(
                "SELECT v.version, count(DISTINCT v.target_id)
                 FROM versions v JOIN targets t ON t.id = v.target_id
                 WHERE t.run_id = ?1 GROUP BY 1",
            )?
            .query_map([run.0], |r| {
                let version: String = r.get(0)?;
                Ok(VersionCount {
                    name: version_name(&version),
                    version,
                    targets: count(r, 1)?,
                })
            })?
            .collect::<Result<_, _>>()?;
        protocols.sort_by_key(|v| (version_rank(&v.version), v.version.clone()));
        let mut suites: Vec<SuiteCount> = conn
            .prepare(
                "SELECT s.version, s.name, max(s.strength), count(DISTINCT s.target_id)
                 FROM suites s JOIN targets t ON t.id = s.target_id
                 WHERE t.run_id = ?1 GROUP BY 1, 2",
            )?
            .query_map([run.0], |r| {
                Ok(SuiteCount {
                    version: r.get(0)?,
                    suite: r.get(1)?,
                    strength: r.get(2)?,
                    targets: count(r, 3)?,
                })
            })?
            .collect::<Result<_, _>>()?;
        suites.sort_by(|a, b| {
            (
                version_rank(&a.version),
                std::cmp::Reverse(a.targets),
                &a.suite,
            )
                .cmp(&(
                    version_rank(&b.version),
                    std::cmp::Reverse(b.targets),
                    &b.suite,
                ))
        });
        let horizon = now.saturating_add(i64::from(days) * 86_400);
        let certificates = conn
            .prepare(
                "SELECT t.target, min(c.address), min(c.position), c.subject, c.not_after,
                        c.not_after_unix, c.fingerprint
                 FROM certificates c JOIN targets t ON t.id = c.target_id
                 WHERE t.run_id = ?1 AND c.not_after_unix IS NOT NULL
                       AND c.not_after_unix <= ?2
                 GROUP BY t.id, c.fingerprint
                 ORDER BY c.not_after_unix, t.target, min(c.position)",
            )?
            .query_map(params![run.0, horizon], |r| {
                let not_after_unix: i64 = r.get(5)?;
                Ok(ExpiringCertificate {
                    target: r.get(0)?,
                    address: r.get(1)?,
                    position: r.get(2)?,
                    subject: r.get(3)?,
                    not_after: r.get(4)?,
                    days_left: (not_after_unix - now).div_euclid(86_400),
                    fingerprint: r.get(6)?,
                })
            })?
            .collect::<Result<_, _>>()?;
        let failed = conn
            .prepare(
                "SELECT target, error_kind, error FROM targets
                 WHERE run_id = ?1 AND error IS NOT NULL ORDER BY target, key",
            )?
            .query_map([run.0], |r| {
                Ok(FailedTarget {
                    target: r.get(0)?,
                    kind: r.get(1)?,
                    error: r.get(2)?,
                })
            })?
            .collect::<Result<_, _>>()?;
        Ok(Summary {
            schema_version: crate::document::JSON_SCHEMA_VERSION,
            tool: format!("tlsdoctor {}", env!("CARGO_PKG_VERSION")),
            run: self.run(run)?,
            findings,
            protocols,
            suites,
            expiring: Expiring {
                within_days: days,
                as_of: rfc3339(now),
                certificates,
            },
            failed,
        })
    }
}
