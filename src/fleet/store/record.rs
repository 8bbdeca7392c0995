//! Writing one target's record: its row (replacing an earlier one of the same key in the
//! same run) and its normalised facts. The caller holds the transaction.

use super::extract::TargetRecord;
use super::{RunId, StoreError};
use rusqlite::{Connection, params};

pub fn write(conn: &Connection, run: RunId, r: &TargetRecord, now: i64) -> Result<(), StoreError> {
    // The facts go with the row (ON DELETE CASCADE).
    conn.prepare_cached("DELETE FROM targets WHERE run_id = ?1 AND key = ?2")?
        .execute(params![run.0, r.key])?;
    let addresses = serde_json::to_string(&r.addresses).unwrap_or_else(|_| "[]".into());
    conn.prepare_cached(
        "INSERT INTO targets (run_id, key, target, command, addresses, error_kind, error,
                              partial, finished, document)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
    )?
    .execute(params![
        run.0,
        r.key,
        r.target,
        r.command,
        addresses,
        r.error_kind,
        r.error,
        r.partial,
        r.finished.unwrap_or(now),
        r.document,
    ])?;
    let target = conn.last_insert_rowid();
    let mut version = conn
        .prepare_cached("INSERT INTO versions (target_id, address, version) VALUES (?1, ?2, ?3)")?;
    let mut suite = conn.prepare_cached(
        "INSERT INTO suites (target_id, address, version, suite_id, name, strength)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?;
    let mut cert = conn.prepare_cached(
        "INSERT INTO certificates (target_id, address, position, subject, issuer, sans,
                                   not_before, not_after, not_after_unix, fingerprint)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
    )?;
    let mut finding = conn.prepare_cached(
        "INSERT INTO findings (target_id, address, finding_id, severity) VALUES (?1, ?2, ?3, ?4)",
    )?;
    for e in &r.endpoints {
        for v in &e.versions {
            version.execute(params![target, e.address, v])?;
        }
        for s in &e.suites {
            suite.execute(params![
                target, e.address, s.version, s.id, s.name, s.strength
            ])?;
        }
        for (i, c) in e.certificates.iter().enumerate() {
            let sans = serde_json::to_string(&c.sans).unwrap_or_else(|_| "[]".into());
            cert.execute(params![
                target,
                e.address,
                i as i64,
                c.subject,
                c.issuer,
                sans,
                c.not_before,
                c.not_after,
                c.not_after_unix,
                c.fingerprint
            ])?;
        }
        for (id, severity) in &e.findings {
            finding.execute(params![target, e.address, id, severity])?;
        }
    }
    Ok(())
}
