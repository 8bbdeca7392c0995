//! The store's tables, and the migrations that bring a file from any earlier schema to the
//! current one. `PRAGMA user_version` is the number of migrations applied; `application_id`
//! marks the file as a tlsdoctor results store, so `--db` never writes into someone else's
//! SQLite file.

use super::StoreError;
use rusqlite::Connection;

/// "tlsd": the `application_id` of every results store.
pub const APPLICATION_ID: i64 = 0x746c_7364;

/// Migration N (1-based) brings the schema from version N-1 to N. Never edit one that has
/// shipped: add the next.
const MIGRATIONS: &[&str] = &[
    // 1: runs, their targets with the whole document, and the normalised facts the
    // summary and diff read.
    "
    CREATE TABLE runs (
        id           INTEGER PRIMARY KEY,
        label        TEXT UNIQUE,
        command      TEXT NOT NULL,
        arguments    TEXT NOT NULL,
        tool_version TEXT NOT NULL,
        shard        TEXT,
        started      INTEGER NOT NULL,
        finished     INTEGER
    );
    CREATE TABLE targets (
        id         INTEGER PRIMARY KEY,
        run_id     INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
        key        TEXT NOT NULL,
        target     TEXT NOT NULL,
        command    TEXT NOT NULL,
        addresses  TEXT NOT NULL,
        error_kind TEXT,
        error      TEXT,
        partial    INTEGER NOT NULL DEFAULT 0,
        finished   INTEGER NOT NULL,
        document   TEXT NOT NULL,
        UNIQUE (run_id, key)
    );
    CREATE TABLE versions (
        target_id INTEGER NOT NULL REFERENCES targets(id) ON DELETE CASCADE,
        address   TEXT NOT NULL,
        version   TEXT NOT NULL
    );
    CREATE TABLE suites (
        target_id INTEGER NOT NULL REFERENCES targets(id) ON DELETE CASCADE,
        address   TEXT NOT NULL,
        version   TEXT NOT NULL,
        suite_id  TEXT NOT NULL,
        name      TEXT NOT NULL,
        strength  TEXT
    );
    CREATE TABLE certificates (
        target_id      INTEGER NOT NULL REFERENCES targets(id) ON DELETE CASCADE,
        address        TEXT NOT NULL,
        position       INTEGER NOT NULL,
        subject        TEXT NOT NULL,
        issuer         TEXT NOT NULL,
        sans           TEXT NOT NULL,
        not_before     TEXT,
        not_after      TEXT,
        not_after_unix INTEGER,
        fingerprint    TEXT NOT NULL
    );
    CREATE TABLE findings (
        target_id  INTEGER NOT NULL REFERENCES targets(id) ON DELETE CASCADE,
        address    TEXT NOT NULL,
        finding_id TEXT NOT NULL,
        severity   TEXT NOT NULL
    );
    CREATE INDEX versions_by_target ON versions(target_id);
    CREATE INDEX suites_by_target ON suites(target_id);
    CREATE INDEX certificates_by_target ON certificates(target_id);
    CREATE INDEX certificates_by_expiry ON certificates(not_after_unix);
    CREATE INDEX findings_by_target ON findings(target_id);
    ",
];

/// The schema version this build writes.
pub const SCHEMA_VERSION: i64 = MIGRATIONS.len() as i64;

/// Check that `conn` is a results store (or an empty file) and apply the migrations it lacks,
/// each in its own transaction.
pub fn migrate(conn: &mut Connection) -> Result<(), StoreError> {
    let app: i64 = conn.query_row("PRAGMA application_id", [], |r| r.get(0))?;
    let version: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    let tables: i64 = conn.query_row("SELECT count(*) FROM sqlite_master", [], |r| r.get(0))?;
    if app != APPLICATION_ID && (app != 0 || version != 0 || tables != 0) {
        return Err(StoreError::NotAStore);
    }
    if version > SCHEMA_VERSION {
        return Err(StoreError::NewerSchema {
            found: version,
            known: SCHEMA_VERSION,
        });
    }
    for (i, sql) in MIGRATIONS.iter().enumerate().skip(version as usize) {
        let tx = conn.transaction()?;
        tx.execute_batch(sql)?;
        tx.pragma_update(None, "user_version", i as i64 + 1)?;
        tx.pragma_update(None, "application_id", APPLICATION_ID)?;
        tx.commit()?;
    }
    Ok(())
}
